"""The saved-digits database: round trips, concurrent saves, damaged and foreign files."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sqlite3
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core import storage
from core.data import IMAGE_MAGIC, read_idx, write_idx
from core.errors import DigitLensError, StorageError
from core.storage import (
    CSV_FILE,
    IMAGES_FILE,
    LABELS_FILE,
    DigitStore,
    default_db_path,
    export_dir,
    export_zip,
    import_dir,
    import_path,
    import_zip,
    mnist_pixels,
)


def random_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


def filled(path: Path, n: int = 12) -> DigitStore:
    store = DigitStore(path)
    images, labels = random_digits(n)
    store.add_many(
        (int(label), image, b"\x89PNG raw %d" % i, (int(label) + i % 2) % 10, "ten-class", None)
        for i, (image, label) in enumerate(zip(images, labels, strict=True))
    )
    return store


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_path_is_in_the_user_data_dir_or_the_env(user_home, monkeypatch, tmp_path):
    assert default_db_path() == user_home / "digits.sqlite3"
    store = DigitStore()
    assert store.path == user_home / "digits.sqlite3" and store.path.is_file()
    monkeypatch.setenv("DIGIT_LENS_DB", str(tmp_path / "elsewhere" / "mine.db"))
    assert DigitStore().path == tmp_path / "elsewhere" / "mine.db"
    assert (tmp_path / "elsewhere" / "mine.db").is_file()


def test_save_read_relabel_delete(tmp_path):
    store = DigitStore(tmp_path / "d.sqlite3")
    assert len(store) == 0 and store.counts() == dict.fromkeys(range(10), 0)
    floats = np.zeros((28, 28), np.float32)
    floats[5:20, 13:15] = 1.0
    floats[4, 4] = 0.5
    first = store.add(1, floats, raw=b"png bytes", predicted=7, model="ten-class")
    second = store.add(3, np.full((28, 28), 9, np.uint8))
    (saved, other) = store.digits()
    assert (saved.id, saved.label, saved.predicted, saved.model) == (first, 1, 7, "ten-class")
    np.testing.assert_array_equal(saved.pixels, np.round(floats * 255).astype(np.uint8))
    assert saved.pixels[4, 4] == 128 and saved.pixels[10, 13] == 255
    assert other.predicted is None and other.model == ""
    assert store.raw(first) == b"png bytes" and store.raw(second) is None
    assert saved.created.endswith("Z")

    assert store.relabel([first], 4) == 1
    assert [d.label for d in store.digits(label=4)] == [4]
    assert store.counts()[4] == 1 and store.counts()[1] == 0
    assert store.delete([second, 999]) == 1
    ids, images, labels = store.arrays()
    assert ids.tolist() == [first] and labels.tolist() == [4] and images.shape == (1, 28, 28)
    with pytest.raises(StorageError, match="no saved digit #999"):
        store.raw(999)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((10, np.zeros((28, 28))), "label must be a digit 0-9"),
        ((True, np.zeros((28, 28))), "label must be a digit"),
        ((3, np.zeros((27, 28))), "28x28"),
        ((3, np.full((28, 28), 1.5)), r"\[0, 1\]"),
        ((3, np.full((28, 28), np.nan)), r"\[0, 1\]"),
    ],
)
def test_bad_examples_are_refused_and_nothing_is_saved(tmp_path, arguments, message):
    store = DigitStore(tmp_path / "d.sqlite3")
    good = (2, np.zeros((28, 28), np.uint8))
    with pytest.raises(StorageError, match=message):
        store.add_many([good, arguments])
    assert len(store) == 0  # the good one went neither: one transaction
    with pytest.raises(StorageError, match="predicted label"):
        store.add(2, np.zeros(784), predicted=12)
    with pytest.raises(StorageError, match="new label"):
        store.relabel([1], -1)


def test_round_trip_save_export_import_identical_pixels_and_labels(tmp_path):
    source = filled(tmp_path / "a.sqlite3", 25)
    written = export_dir(source, tmp_path / "export")
    assert [p.name for p in written] == [IMAGES_FILE, LABELS_FILE, CSV_FILE]
    # Plain MNIST readers read it: IDX with the MNIST magic numbers, gzip.
    images = read_idx(tmp_path / "export" / IMAGES_FILE, IMAGE_MAGIC)
    assert images.shape == (25, 28, 28)
    with open(tmp_path / "export" / CSV_FILE, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "label", "predicted", "model", "time"]

    target = DigitStore(tmp_path / "b.sqlite3")
    target.add(0, np.zeros((28, 28), np.uint8))  # an import adds to what is there
    new_ids = import_dir(target, tmp_path / "export")
    assert len(new_ids) == 25 and len(target) == 26
    before, after = source.digits(), target.digits()[1:]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old.pixels, new.pixels)
        assert (old.label, old.predicted, old.model, old.created) == (
            new.label,
            new.predicted,
            new.model,
            new.created,
        )

    # The zip a browser downloads holds the same three files and imports the same way.
    archive = export_zip(source)
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        assert sorted(zipped.namelist()) == sorted([IMAGES_FILE, LABELS_FILE, CSV_FILE])
    third = DigitStore(tmp_path / "c.sqlite3")
    import_zip(third, archive)
    (tmp_path / "digits.zip").write_bytes(archive)
    import_path(third, tmp_path / "digits.zip")
    _, images_c, labels_c = third.arrays()
    _, images_a, labels_a = source.arrays()
    np.testing.assert_array_equal(images_c, np.concatenate([images_a, images_a]))
    np.testing.assert_array_equal(labels_c, np.concatenate([labels_a, labels_a]))


def _broken_export(tmp_path: Path, how: str) -> Path:
    directory = tmp_path / how
    export_dir(filled(tmp_path / f"{how}.sqlite3", 5), directory)
    csv_path = directory / CSV_FILE
    text = csv_path.read_text()
    if how == "label-mismatch":
        lines = text.splitlines()
        fields = lines[3].split(",")
        fields[1] = str((int(fields[1]) + 1) % 10)
        lines[3] = ",".join(fields)
        csv_path.write_text("\n".join(lines) + "\n")
    elif how == "bad-header":
        csv_path.write_text(text.replace("predicted", "guess", 1))
    elif how == "missing-row":
        csv_path.write_text("\n".join(text.splitlines()[:-1]) + "\n")
    elif how == "bad-time":
        csv_path.write_text(text.replace("Z\n", "\n", 1))
    elif how == "bad-label-file":
        write_idx(directory / LABELS_FILE, np.array([1, 2, 3, 4, 12], np.uint8))
    elif how == "truncated-images":
        data = gzip.decompress((directory / IMAGES_FILE).read_bytes())[:-100]
        (directory / IMAGES_FILE).write_bytes(gzip.compress(data))
    elif how == "missing-file":
        (directory / LABELS_FILE).unlink()
    return directory


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("label-mismatch", "line 4: label"),
        ("bad-header", "must start with the header"),
        ("missing-row", "4 rows for 5 images"),
        ("bad-time", "line 2: time"),
        ("bad-label-file", "holds label 12"),
        ("truncated-images", "truncated or corrupt"),
        ("missing-file", "lacks labels-idx1-ubyte.gz"),
    ],
)
def test_a_bad_import_is_refused_whole_with_one_line(tmp_path, how, message):
    directory = _broken_export(tmp_path, how)
    target = filled(tmp_path / "target.sqlite3", 3)
    before = target.arrays()
    with pytest.raises(StorageError, match=message) as caught:
        import_dir(target, directory)
    assert "\n" not in str(caught.value)
    after = target.arrays()
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)  # nothing half-imported


def test_an_archive_that_is_not_a_zip_is_refused(tmp_path):
    store = DigitStore(tmp_path / "d.sqlite3")
    with pytest.raises(StorageError, match="not a readable zip"):
        import_zip(store, b"PK but not really")
    with pytest.raises(StorageError, match="not found"):
        import_path(store, tmp_path / "nowhere.zip")
    assert len(store) == 0


def test_a_zip_whose_members_cannot_be_read_is_refused_in_one_line(tmp_path):
    archive = export_zip(filled(tmp_path / "a.sqlite3", 5))
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        first = zipped.infolist()[0]
    start = first.header_offset + 30 + len(first.filename.encode()) + len(first.extra)
    corrupt = bytearray(archive)
    corrupt[start : start + 16] = bytes(16)  # the compressed data itself, not the directory
    store = DigitStore(tmp_path / "b.sqlite3")
    with pytest.raises(StorageError, match="not a readable zip") as caught:
        import_zip(store, bytes(corrupt))
    assert "\n" not in str(caught.value) and len(store) == 0


def test_eight_threads_saving_200_each_lose_nothing(tmp_path):
    path = tmp_path / "busy.sqlite3"
    DigitStore(path)
    image = np.zeros((28, 28), np.uint8)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def session(number: int) -> None:
        store = DigitStore(path)  # each session opens the file itself, as app sessions do
        start.wait()
        try:
            for i in range(200):
                image_i = image.copy()
                image_i[0, 0], image_i[0, 1] = number, i
                store.add(i % 10, image_i, raw=b"%d-%d" % (number, i), model=f"session-{number}")
        except BaseException as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    store = DigitStore(path)
    assert len(store) == 1600
    saved = store.digits()
    assert len({d.id for d in saved}) == 1600
    assert {(int(d.pixels[0, 0]), int(d.pixels[0, 1])) for d in saved} == {
        (n, i) for n in range(8) for i in range(200)
    }
    assert store.counts() == dict.fromkeys(range(10), 160)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def refused_untouched(path: Path, message: str) -> None:
    """Opening ``path`` fails with one line matching ``message``; its bytes stay as they were."""
    before = digest(path)
    with pytest.raises(StorageError, match=message) as caught:
        DigitStore(path)
    assert "\n" not in str(caught.value) and isinstance(caught.value, DigitLensError)
    assert digest(path) == before


def test_a_corrupt_file_gives_one_clear_line_and_is_left_untouched(tmp_path):
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"these are my notes, not a database\n" * 100)
    refused_untouched(garbage, "not a SQLite database")

    # A real database whose pages were damaged after the header.
    damaged = tmp_path / "damaged.sqlite3"
    filled(damaged, 300)
    data = bytearray(damaged.read_bytes())
    assert len(data) > 40_000
    data[4096 : len(data) - 4096] = np.random.default_rng(1).bytes(len(data) - 8192)
    damaged.write_bytes(bytes(data))
    refused_untouched(damaged, "damaged")


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "future.sqlite3"
    filled(path, 3)
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {storage.schema_version() + 1}")
    connection.close()
    refused_untouched(path, "newer Digit Lens")


def test_another_programs_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE recipes (name TEXT)")
    connection.commit()
    connection.close()
    refused_untouched(path, "another program")
    with pytest.raises(StorageError, match="is a directory"):
        DigitStore(tmp_path)


def test_an_older_schema_is_migrated_keeping_the_digits(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    filled(path, 4)
    before = DigitStore(path).arrays()
    # A version 3 that adds a column: opening the version 2 file migrates it in place.
    monkeypatch.setattr(
        storage, "MIGRATIONS", [*storage.MIGRATIONS, "ALTER TABLE digits ADD COLUMN note TEXT"]
    )
    store = DigitStore(path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 3
        columns = [row[1] for row in connection.execute("PRAGMA table_info(digits)")]
    connection.close()
    assert "note" in columns
    for old, new in zip(before, store.arrays(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_mnist_pixels_rounds_floats_and_keeps_uint8():
    image = np.linspace(0, 1, 784, dtype=np.float32).reshape(28, 28)
    out = mnist_pixels(image)
    assert out.dtype == np.uint8 and out[0, 0] == 0 and out[-1, -1] == 255
    np.testing.assert_array_equal(mnist_pixels(out), out)
    assert mnist_pixels(out.ravel()).shape == (28, 28)


def test_processes_saving_at_once_lose_nothing(tmp_path):
    """The app and a command line import, say: separate processes share the file too."""
    import subprocess
    import sys

    path = tmp_path / "shared.sqlite3"
    DigitStore(path)
    script = (
        "import sys, numpy as np\n"
        "from core.storage import DigitStore\n"
        "store = DigitStore(sys.argv[1])\n"
        "for i in range(100):\n"
        "    store.add(i % 10, np.full((28, 28), int(sys.argv[2]), np.uint8))\n"
    )
    repo = Path(__file__).resolve().parent.parent
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(n)], cwd=repo)
        for n in range(3)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]
    _, images, _ = DigitStore(path).arrays()
    assert np.bincount(images[:, 0, 0]).tolist() == [100, 100, 100]


def test_the_same_input_saved_by_two_processes_is_one_row_relabelled(tmp_path):
    """Dedup lives in the database: two processes (or sessions) saving one input make one row."""
    import subprocess
    import sys

    path = tmp_path / "shared.sqlite3"
    DigitStore(path)
    script = (
        "import sys, numpy as np\n"
        "from core.storage import DigitStore\n"
        "pixels = np.zeros((28, 28), np.uint8); pixels[4:24, 13:15] = 255\n"
        "print(*DigitStore(sys.argv[1]).save(int(sys.argv[2]), pixels, raw=b'one drawing'))\n"
    )
    repo = Path(__file__).resolve().parent.parent
    outputs = []
    for label in (1, 7):  # one after the other: which is new and which relabels is then known
        done = subprocess.run(
            [sys.executable, "-c", script, str(path), str(label)],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.split())
    (first_id, first_new), (second_id, second_new) = outputs
    assert first_id == second_id and (first_new, second_new) == ("True", "False")
    (saved,) = DigitStore(path).digits()
    assert (saved.id, saved.label) == (int(first_id), 7)

    # Another input, or the same pixels from another raw file, is another row;
    # digits without a raw input (imported) are never taken for one another.
    store = DigitStore(path)
    assert store.save(7, saved.pixels, raw=b"another drawing")[1]
    assert store.add(3, saved.pixels) != store.add(3, saved.pixels)
    assert len(store) == 4


def test_threads_saving_one_input_at_once_make_one_row(tmp_path):
    path = tmp_path / "d.sqlite3"
    DigitStore(path)
    start = threading.Barrier(6)
    results: list[tuple[int, bool]] = []

    def session(label: int) -> None:
        store = DigitStore(path)
        start.wait()
        results.append(store.save(label, np.ones((28, 28), np.uint8), raw=b"same"))

    threads = [threading.Thread(target=session, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({digit_id for digit_id, _ in results}) == 1
    assert sorted(new for _, new in results) == [False] * 5 + [True]
    assert len(DigitStore(path)) == 1


def test_migration_to_digests_merges_inputs_saved_twice(tmp_path):
    """A schema 1 file where two sessions saved one drawing: one row, the last label."""
    path = tmp_path / "v1.sqlite3"
    connection = sqlite3.connect(path)
    for statement in filter(str.strip, storage.MIGRATIONS[0].split(";")):
        connection.execute(statement)
    connection.execute(f"PRAGMA application_id = {storage.APPLICATION_ID}")
    connection.execute("PRAGMA user_version = 1")
    pixels = np.arange(784, dtype=np.uint32).astype(np.uint8).tobytes()
    rows = [  # (label, raw): the drawing "a" saved three times, "b" once, one import
        (1, b"a"),
        (2, b"b"),
        (4, b"a"),
        (5, None),
        (9, b"a"),
    ]
    for label, raw in rows:
        connection.execute(
            "INSERT INTO digits (created, label, model, pixels, raw) VALUES (?, ?, '', ?, ?)",
            ("2026-11-01T10:00:00Z", label, pixels, raw),
        )
    connection.commit()
    connection.close()

    store = DigitStore(path)
    assert [(d.id, d.label) for d in store.digits()] == [(1, 9), (2, 2), (4, 5)]
    assert store.save(3, np.frombuffer(pixels, np.uint8), raw=b"a") == (1, False)
    assert [(d.id, d.label) for d in store.digits()] == [(1, 3), (2, 2), (4, 5)]
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == storage.schema_version()
    check.close()
