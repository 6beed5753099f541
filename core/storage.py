"""The user's saved digits: one SQLite file, safe for several sessions at once.

Each saved example holds the raw input as a PNG (the canvas's PNG as it came,
an uploaded photo converted losslessly, upright, first frame), the 28×28 MNIST-format image that
:func:`core.preprocess.preprocess` made of it (uint8, ink bright on black:
what MNIST-trained models take), the true label, the label the model
predicted, the model's name and the time (UTC).

The database is ``$DIGIT_LENS_DB`` if set, else ``digits.sqlite3`` in
:func:`core.data.user_data_dir`. Safety:

* WAL journal, every write in one ``BEGIN IMMEDIATE`` transaction on its own
  connection, a 30 s busy timeout: sessions (threads) and processes saving at
  once wait for each other instead of losing rows;
* the schema version is ``PRAGMA user_version``; :data:`MIGRATIONS` bring an
  older file up to date in one transaction;
* a file that is not a SQLite database, fails SQLite's ``quick_check``, belongs
  to another application or comes from a newer Digit Lens is refused with a
  :class:`~core.errors.StorageError` before anything is written to it.

Export and import use MNIST's own format, so any MNIST reader can read the
digits: ``images-idx3-ubyte.gz`` and ``labels-idx1-ubyte.gz`` (IDX, gzip) plus
``digits.csv`` (``id,label,predicted,model,time``, one row per image in the
same order), in a directory or a zip archive.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sqlite3
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from core.data import IMAGE_MAGIC, LABEL_MAGIC, read_idx, user_data_dir, write_idx
from core.errors import DataError, StorageError

DB_ENV = "DIGIT_LENS_DB"
DB_NAME = "digits.sqlite3"
APPLICATION_ID = 0x44474C53  # "DGLS": marks the file as a Digit Lens database
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_SECONDS = 30.0  # how long a writer waits for another one before giving up
SIDE = 28
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_MODEL_NAME = 200
MAX_IMPORT = 100_000  # digits in one import: bounds what an uploaded archive can make us read


def content_digest(pixels: bytes, raw: bytes | None) -> str | None:
    """What makes two saved inputs the same: their raw file and their 28×28 pixels.

    None for a digit saved without its raw input (imported, or too large to keep):
    such digits are never taken for one another.
    """
    if raw is None:
        return None
    return hashlib.blake2b(bytes(raw) + bytes(pixels), digest_size=16).hexdigest()


def _add_digests(connection: sqlite3.Connection) -> None:
    """Schema 2: one row per input, across sessions and processes (a unique digest).

    Inputs saved twice before (from two sessions) are merged: the first row keeps
    its id and time and takes the label of the last one, the user's latest word.
    """
    connection.execute("ALTER TABLE digits ADD COLUMN digest TEXT")
    first: dict[str, int] = {}
    merged: list[tuple[int, int]] = []  # (duplicate id, id of the row it merges into)
    rows = connection.execute("SELECT id, pixels, raw FROM digits WHERE raw IS NOT NULL")
    for digit_id, pixels, raw in rows:  # one blob at a time: the file may be large
        digest = content_digest(pixels, raw)
        if digest in first:
            merged.append((digit_id, first[digest]))
        else:
            first[digest] = digit_id
    for duplicate, kept in sorted(merged):  # by id: the last duplicate's label wins
        connection.execute(
            "UPDATE digits SET label = (SELECT label FROM digits WHERE id = ?) WHERE id = ?",
            (duplicate, kept),
        )
        connection.execute("DELETE FROM digits WHERE id = ?", (duplicate,))
    connection.executemany(
        "UPDATE digits SET digest = ? WHERE id = ?", [(d, i) for d, i in first.items()]
    )
    # NULLs are distinct in a UNIQUE index: digits without a raw input never collide.
    connection.execute("CREATE UNIQUE INDEX digits_by_digest ON digits (digest)")


# One entry per schema version: MIGRATIONS[v] takes a database from version v to v + 1:
# SQL statements, or a function of the connection (inside the migration's transaction).
MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    """
    CREATE TABLE digits (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created TEXT NOT NULL,
        label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
        predicted INTEGER CHECK (predicted IS NULL OR predicted BETWEEN 0 AND 9),
        model TEXT NOT NULL DEFAULT '',
        pixels BLOB NOT NULL CHECK (length(pixels) = 784),
        raw BLOB
    );
    CREATE INDEX digits_by_label ON digits (label);
    """,
    _add_digests,
]

IMAGES_FILE = "images-idx3-ubyte.gz"
LABELS_FILE = "labels-idx1-ubyte.gz"
CSV_FILE = "digits.csv"
CSV_COLUMNS = ["id", "label", "predicted", "model", "time"]
EXPORT_FILES = (IMAGES_FILE, LABELS_FILE, CSV_FILE)


def schema_version() -> int:
    """The schema version this Digit Lens writes (the number of migrations)."""
    return len(MIGRATIONS)


def default_db_path() -> Path:
    """``$DIGIT_LENS_DB`` if set, else ``digits.sqlite3`` in the per-user data directory."""
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    return user_data_dir() / DB_NAME


@dataclass(frozen=True)
class SavedDigit:
    """One saved example, without its raw input (see :meth:`DigitStore.raw`)."""

    id: int
    label: int
    predicted: int | None
    model: str
    created: str  # UTC, TIME_FORMAT
    pixels: np.ndarray  # uint8 (28, 28), MNIST format


def mnist_pixels(pixels) -> np.ndarray:
    """A 28×28 image as MNIST stores it: uint8, ink bright (255) on black (0).

    Parameters
    ----------
    pixels : array-like
        (28, 28) or (784,): uint8 as is, or floats in [0, 1] (the output of
        ``preprocess``), rounded to the nearest of 256 levels.

    Raises
    ------
    StorageError
        If the shape or the values are not those of an MNIST image.
    """
    array = np.asarray(pixels)
    if array.size != SIDE * SIDE or array.ndim not in (1, 2) or array.dtype.kind not in "uif":
        raise StorageError(
            f"a saved digit must be a 28x28 image, got shape {array.shape} of {array.dtype}"
        )
    array = array.reshape(SIDE, SIDE)
    if array.dtype == np.uint8:
        return array.copy()
    array = array.astype(np.float64)
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
        raise StorageError("a saved digit's pixels must lie in [0, 1] (or be uint8 0-255)")
    return np.round(array * 255).astype(np.uint8)


def _digit(value, what: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value <= 9:
        raise StorageError(f"{what} must be a digit 0-9, got {value!r}")
    return int(value)


def _now() -> str:
    return time.strftime(TIME_FORMAT, time.gmtime())


class DigitStore:
    """The saved digits in one SQLite file.

    Parameters
    ----------
    path : path-like, optional
        The database file; :func:`default_db_path` by default. Created (with its
        directory) if missing.

    Raises
    ------
    StorageError
        If the file is not a SQLite database, is damaged, belongs to another
        program or was written by a newer Digit Lens. The file is then left
        exactly as it was.

    Notes
    -----
    Every operation opens its own connection and closes it, so one store can be
    shared by every session (thread) of the app.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self._check_file()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(f"cannot create {self.path.parent}: {error.strerror}") from None
        with self._connect() as connection:
            self._check_contents(connection, thorough=True)
            self._migrate(connection)

    # ------------------------------------------------------------ opening

    def _check_file(self) -> None:
        """Refuse a file that is not SQLite before SQLite may touch it."""
        if self.path.is_dir():
            raise StorageError(f"{self.path} is a directory: give the path of a database file")
        try:
            with open(self.path, "rb") as handle:
                header = handle.read(len(SQLITE_MAGIC))
        except FileNotFoundError:
            return
        except OSError as error:
            raise StorageError(f"cannot read {self.path}: {error.strerror}") from None
        if header and header != SQLITE_MAGIC:
            raise StorageError(
                f"{self.path} is not a SQLite database (damaged, or another kind of file); "
                f"it was left untouched: move it away or point {DB_ENV} / --db elsewhere"
            )

    def _check_contents(self, connection: sqlite3.Connection, thorough: bool = False) -> int:
        """The schema version, after refusing a damaged, foreign or newer database."""
        if thorough:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StorageError(
                    f"{self.path} is damaged ({problems[0]}); it was left untouched: "
                    f"restore a copy, or move it away to start a new one"
                )
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        application = connection.execute("PRAGMA application_id").fetchone()[0]
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application != APPLICATION_ID and (application != 0 or tables or version):
            raise StorageError(
                f"{self.path} is a SQLite database of another program, not Digit Lens's; "
                f"it was left untouched: point {DB_ENV} / --db at another file"
            )
        if version > schema_version():
            raise StorageError(
                f"{self.path} was written by a newer Digit Lens (schema version {version}, "
                f"this one reads up to {schema_version()}); it was left untouched: "
                "upgrade Digit Lens to use it"
            )
        return version

    def _migrate(self, connection: sqlite3.Connection) -> None:
        """Bring the schema up to date, in one transaction (another process may race us)."""
        if connection.execute("PRAGMA user_version").fetchone()[0] == schema_version():
            return
        # WAL lets readers go on while one session writes; it is a property of the file.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = self._check_contents(connection)  # again, now that we hold the lock
            for step in MIGRATIONS[version:]:
                if callable(step):
                    step(connection)
                    continue
                for statement in filter(str.strip, step.split(";")):
                    connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {schema_version()}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection, closed afterwards; SQLite errors become one-line StorageErrors."""
        connection = None
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            connection.execute("PRAGMA synchronous = NORMAL")  # with WAL: safe, and fast
            yield connection
        except sqlite3.Error as error:
            raise self._error(error) from None
        finally:
            if connection is not None:
                connection.close()

    def _error(self, error: sqlite3.Error) -> StorageError:
        text = str(error)
        if "locked" in text or "busy" in text:
            return StorageError(
                f"{self.path} stayed locked by another program for {BUSY_SECONDS:.0f} s: try again"
            )
        if "malformed" in text or "not a database" in text:
            return StorageError(f"{self.path} is damaged ({text}): restore a copy or move it away")
        if "readonly" in text:
            return StorageError(f"{self.path} cannot be written (read-only): check its permissions")
        return StorageError(f"digits database {self.path}: {text}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is saved, or none of it."""
        with self._connect() as connection:
            if connection.execute("PRAGMA user_version").fetchone()[0] != schema_version():
                self._check_contents(connection)  # the file was replaced since we opened it
                self._migrate(connection)
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            if connection.execute("PRAGMA user_version").fetchone()[0] != schema_version():
                self._check_contents(connection)
                self._migrate(connection)
            yield connection

    # ------------------------------------------------------------ writing

    def add(
        self,
        label: int,
        pixels,
        raw: bytes | None = None,
        predicted: int | None = None,
        model: str = "",
        created: str | None = None,
    ) -> int:
        """Save one example; returns its id (see :meth:`save`: an input saved before keeps it).

        Parameters
        ----------
        label : int
            The true digit, 0-9.
        pixels : array-like
            The 28×28 MNIST-format image (see :func:`mnist_pixels`).
        raw : bytes, optional
            The input as the user gave it (the canvas's PNG, an uploaded photo).
        predicted : int, optional
            What the model read.
        model : str
            The model's name.
        created : str, optional
            UTC time in ``TIME_FORMAT``; now by default.
        """
        return self.save(label, pixels, raw, predicted, model, created)[0]

    def save(
        self,
        label: int,
        pixels,
        raw: bytes | None = None,
        predicted: int | None = None,
        model: str = "",
        created: str | None = None,
    ) -> tuple[int, bool]:
        """Save one example, or relabel it if the same input was saved before.

        The same input is the same raw file and 28×28 image (:func:`content_digest`),
        saved from any session or process: the database's unique digest keeps one
        row of it. Parameters as in :meth:`add`.

        Returns
        -------
        (int, bool)
            The example's id, and True if it is a new row (False: relabelled).
        """
        row = self._row(label, pixels, raw, predicted, model, created)
        with self._transaction() as connection:
            return self._insert(connection, row)

    def add_many(self, examples: Iterable[Sequence]) -> list[int]:
        """Save many examples in one transaction (all or none); returns their ids.

        Each example is ``(label, pixels, raw, predicted, model, created)`` as in
        :meth:`add`; ``created`` may be None (now).
        """
        rows = [self._row(*example) for example in examples]
        with self._transaction() as connection:
            return [self._insert(connection, row)[0] for row in rows]

    @staticmethod
    def _insert(connection: sqlite3.Connection, row: tuple) -> tuple[int, bool]:
        """Insert a row from :meth:`_row`, or relabel the row of the same input."""
        digest, label = row[-1], row[1]
        if digest is not None:
            found = connection.execute("SELECT id FROM digits WHERE digest = ?", (digest,))
            if (same := found.fetchone()) is not None:
                connection.execute("UPDATE digits SET label = ? WHERE id = ?", (label, same[0]))
                return same[0], False
        inserted = connection.execute(
            "INSERT INTO digits (created, label, predicted, model, pixels, raw, digest) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        return inserted.lastrowid, True

    @staticmethod
    def _row(label, pixels, raw=None, predicted=None, model="", created=None) -> tuple:
        label = _digit(label, "the label")
        predicted = _digit(predicted, "the predicted label", optional=True)
        if not isinstance(model, str) or len(model) > MAX_MODEL_NAME:
            raise StorageError(f"the model name must be text of at most {MAX_MODEL_NAME} chars")
        if raw is not None and not isinstance(raw, bytes | bytearray | memoryview):
            raise StorageError(f"the raw input must be bytes, got {type(raw).__name__}")
        created = created or _now()
        _check_time(created)
        blob = None if raw is None else bytes(raw)
        pixels = mnist_pixels(pixels).tobytes()
        return (created, label, predicted, model, pixels, blob, content_digest(pixels, blob))

    def relabel(self, ids: Iterable[int], label: int) -> int:
        """Give the examples ``ids`` the true label ``label``; returns how many changed."""
        label = _digit(label, "the new label")
        ids = [int(i) for i in ids]
        with self._transaction() as connection:
            return sum(
                connection.execute("UPDATE digits SET label = ? WHERE id = ?", (label, i)).rowcount
                for i in ids
            )

    def delete(self, ids: Iterable[int]) -> int:
        """Delete the examples ``ids``; returns how many were there."""
        ids = [int(i) for i in ids]
        with self._transaction() as connection:
            return sum(
                connection.execute("DELETE FROM digits WHERE id = ?", (i,)).rowcount for i in ids
            )

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        with self._reading() as connection:
            return connection.execute("SELECT count(*) FROM digits").fetchone()[0]

    def counts(self) -> dict[int, int]:
        """How many examples of each digit, for every digit 0-9."""
        with self._reading() as connection:
            found = dict(connection.execute("SELECT label, count(*) FROM digits GROUP BY label"))
        return {digit: found.get(digit, 0) for digit in range(10)}

    def digits(self, label: int | None = None) -> list[SavedDigit]:
        """The saved examples (of one label, or all), oldest first."""
        query = "SELECT id, label, predicted, model, created, pixels FROM digits"
        parameters: tuple = ()
        if label is not None:
            query += " WHERE label = ?"
            parameters = (_digit(label, "the label"),)
        with self._reading() as connection:
            rows = connection.execute(query + " ORDER BY id", parameters).fetchall()
        return [
            SavedDigit(
                id=row[0],
                label=row[1],
                predicted=row[2],
                model=row[3],
                created=row[4],
                pixels=np.frombuffer(row[5], np.uint8).reshape(SIDE, SIDE),
            )
            for row in rows
        ]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ids, images, labels)``: int64 (n,), uint8 (n, 28, 28), uint8 (n,), by id."""
        with self._reading() as connection:
            rows = connection.execute("SELECT id, label, pixels FROM digits ORDER BY id").fetchall()
        ids = np.array([r[0] for r in rows], np.int64)
        labels = np.array([r[1] for r in rows], np.uint8)
        images = np.frombuffer(b"".join(r[2] for r in rows), np.uint8).reshape(-1, SIDE, SIDE)
        return ids, images, labels

    def raw(self, digit_id: int) -> bytes | None:
        """The raw input saved with an example (None if it had none)."""
        with self._reading() as connection:
            row = connection.execute("SELECT raw FROM digits WHERE id = ?", (int(digit_id),))
            found = row.fetchone()
        if found is None:
            raise StorageError(f"no saved digit #{digit_id}")
        return found[0]


def _check_time(value: str) -> None:
    try:
        datetime.strptime(value, TIME_FORMAT)
    except (TypeError, ValueError):
        raise StorageError(f"time {value!r} is not a UTC time like 2026-01-31T12:00:00Z") from None


# ------------------------------------------------------------------ export / import


def export_dir(store: DigitStore, directory: str | os.PathLike) -> list[Path]:
    """Write every saved digit as MNIST IDX (gzip) files plus a CSV into ``directory``.

    Returns
    -------
    list of pathlib.Path
        The images, labels and CSV files written.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(f"cannot create {directory}: {error.strerror}") from None
    saved = store.digits()
    images = np.stack([d.pixels for d in saved]) if saved else np.zeros((0, SIDE, SIDE), np.uint8)
    labels = np.array([d.label for d in saved], np.uint8)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in saved:
        predicted = "" if d.predicted is None else d.predicted
        writer.writerow([d.id, d.label, predicted, d.model, d.created])
    try:
        write_idx(directory / IMAGES_FILE, images)
        write_idx(directory / LABELS_FILE, labels)
        (directory / CSV_FILE).write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as error:
        raise StorageError(f"cannot write the export into {directory}: {error.strerror}") from None
    return [directory / name for name in EXPORT_FILES]


def export_zip(store: DigitStore) -> bytes:
    """The export of :func:`export_dir` as one zip archive, in memory (for a download)."""
    with tempfile.TemporaryDirectory(prefix="digit-lens-export-") as tmp:
        paths = export_dir(store, tmp)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # already gzip
            for path in paths:
                archive.write(path, path.name)
    return buffer.getvalue()


def read_export(directory: str | os.PathLike) -> list[tuple]:
    """Read and check an export; returns examples for :meth:`DigitStore.add_many`.

    Raises
    ------
    StorageError
        Naming the file and what is wrong with it.
    """
    directory = Path(directory)
    missing = [name for name in EXPORT_FILES if not (directory / name).is_file()]
    if missing:
        raise StorageError(
            f"{directory} lacks {', '.join(missing)}: an export holds {', '.join(EXPORT_FILES)}"
        )
    limit = MAX_IMPORT * SIDE * SIDE + 16
    try:
        images = read_idx(directory / IMAGES_FILE, IMAGE_MAGIC, max_bytes=limit)
        labels = read_idx(directory / LABELS_FILE, LABEL_MAGIC, max_bytes=MAX_IMPORT + 8)
    except DataError as error:
        raise StorageError(str(error).replace("MNIST file", "file")) from None
    if images.shape[1:] != (SIDE, SIDE):
        raise StorageError(f"{IMAGES_FILE} holds {images.shape[1:]} images, not 28x28")
    if len(labels) != len(images):
        raise StorageError(
            f"{IMAGES_FILE} holds {len(images)} images but {LABELS_FILE} {len(labels)} labels"
        )
    if len(labels) and labels.max() > 9:
        raise StorageError(f"{LABELS_FILE} holds label {labels.max()}: labels are digits 0-9")
    rows = _read_csv(directory / CSV_FILE)
    if len(rows) != len(images):
        raise StorageError(f"{CSV_FILE} has {len(rows)} rows for {len(images)} images")
    examples = []
    for line, (row, image, label) in enumerate(zip(rows, images, labels, strict=True), start=2):
        where = f"{CSV_FILE} line {line}"
        try:
            if not row["id"].isdigit():
                raise StorageError(f"id {row['id']!r} is not a whole number")
            if row["label"] != str(label):
                raise StorageError(f"label {row['label']!r} but {LABELS_FILE} says {label}")
            predicted = row["predicted"]
            if predicted not in ("", *map(str, range(10))):
                raise StorageError(f"predicted {predicted!r} is not a digit 0-9 (or empty)")
            example = (
                int(label),
                image,
                None,
                None if predicted == "" else int(predicted),
                row["model"],
                row["time"],
            )
            DigitStore._row(*example)  # the same checks as a save
        except StorageError as error:
            raise StorageError(f"{where}: {error}") from None
        examples.append(example)
    return examples


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise StorageError(f"cannot read {path.name}: {error}") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header != CSV_COLUMNS:
            raise StorageError(
                f"{path.name} must start with the header {','.join(CSV_COLUMNS)}, got {header}"
            )
        rows = []
        for line, values in enumerate(reader, start=2):
            if len(values) != len(CSV_COLUMNS):
                raise StorageError(
                    f"{path.name} line {line} has {len(values)} fields, expected {len(CSV_COLUMNS)}"
                )
            rows.append(dict(zip(CSV_COLUMNS, values, strict=True)))
    except csv.Error as error:
        raise StorageError(f"{path.name} is not valid CSV: {error}") from None
    return rows


def import_dir(store: DigitStore, directory: str | os.PathLike) -> list[int]:
    """Check an export directory, then add all its digits in one transaction; returns ids."""
    return store.add_many(read_export(directory))


def import_zip(store: DigitStore, archive: bytes | str | os.PathLike) -> list[int]:
    """Import a zip made by :func:`export_zip` (bytes or a path); all digits or none."""
    source = io.BytesIO(archive) if isinstance(archive, bytes | bytearray) else archive
    with tempfile.TemporaryDirectory(prefix="digit-lens-import-") as tmp:
        try:
            with zipfile.ZipFile(source) as zipped:
                members = {Path(info.filename).name: info for info in zipped.infolist()}
                for name in EXPORT_FILES:
                    info = members.get(name)
                    if info is None:
                        continue  # read_export names what is missing
                    if info.file_size > MAX_IMPORT * (SIDE * SIDE + 300):
                        raise StorageError(f"{name} in the archive is too large to import")
                    (Path(tmp) / name).write_bytes(zipped.read(info))
        # Encrypted members, compression methods zipfile lacks, corrupt deflate data.
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,
            ValueError,
            zlib.error,
        ) as error:
            raise StorageError(f"not a readable zip archive: {error}") from None
        return import_dir(store, tmp)


def import_path(store: DigitStore, source: str | os.PathLike) -> list[int]:
    """Import an export directory or a ``.zip`` of one."""
    source = Path(source).expanduser()
    if source.is_dir():
        return import_dir(store, source)
    if not source.is_file():
        raise StorageError(f"{source} not found: give an export directory or its .zip")
    return import_zip(store, source)
