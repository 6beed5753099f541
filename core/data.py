"""MNIST in its canonical IDX format: find it, read it, check it, fetch it.

The directory is chosen, in order, by an explicit argument (the ``--data-dir``
flag), the ``MNIST_DIR`` environment variable, and a per-user cache directory
that ``python -m core download-mnist`` fills.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

import numpy as np

from core.errors import DataError

IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
HOW_TO_POINT = (
    "point --data-dir or MNIST_DIR at a directory holding the four MNIST IDX files "
    "(e.g. MNIST_DIR=../shared/data/mnist), or run `python -m core download-mnist` when online"
)


@dataclass(frozen=True)
class Split:
    """One MNIST split: ``images`` uint8 (n, 28, 28), ``labels`` uint8 (n,)."""

    images: np.ndarray
    labels: np.ndarray

    @cached_property
    def checksum(self) -> str:
        """SHA-256 over images then labels, recorded in model cards.

        Computed once per split (a split's arrays are never changed): every
        training records it, and hashing 47 MB takes a tenth of a second.
        """
        digest = hashlib.sha256(memoryview(np.ascontiguousarray(self.images)).cast("B"))
        digest.update(memoryview(np.ascontiguousarray(self.labels)).cast("B"))
        return digest.hexdigest()


def cache_dir() -> Path:
    """Per-user directory where downloaded MNIST is kept."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digit-lens" / "mnist"


def user_data_dir() -> Path:
    """Per-user directory for what the user makes: saved models, saved digits.

    ``DIGIT_LENS_HOME`` if set, else ``$XDG_DATA_HOME/digit-lens`` (default
    ``~/.local/share/digit-lens``). Not created here: writers create what they need.
    """
    if os.environ.get("DIGIT_LENS_HOME"):
        return Path(os.environ["DIGIT_LENS_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "digit-lens"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the MNIST directory: the argument, else ``MNIST_DIR``, else the cache."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get("MNIST_DIR"):
        return Path(os.environ["MNIST_DIR"]).expanduser()
    return cache_dir()


def _find(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"MNIST file {stem}(.gz) not found in {directory}: {HOW_TO_POINT}")


def read_idx(path: str | os.PathLike, magic: int, max_bytes: int | None = None) -> np.ndarray:
    """Read one IDX file (gzip or raw) of unsigned bytes.

    Parameters
    ----------
    path : path-like
        The file. A ``.gz`` suffix means gzip.
    magic : int
        The expected magic number, ``IMAGE_MAGIC`` or ``LABEL_MAGIC``.
    max_bytes : int, optional
        Refuse a file that holds (once decompressed) more than this many bytes:
        files from users are read with a bound, so a gzip bomb cannot fill memory.

    Returns
    -------
    numpy.ndarray
        uint8 array with the dimensions the header declares.

    Raises
    ------
    DataError
        If the file cannot be read, has the wrong magic number, or its size
        does not match its header.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read MNIST file {path}: {error}") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise DataError(f"{path} holds more than {max_bytes} bytes: too large to read")
    if len(raw) < 4 or struct.unpack(">I", raw[:4])[0] != magic:
        raise DataError(f"{path} is not an IDX file of the expected kind (wrong magic number)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated (header incomplete)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(
            f"{path} holds {len(raw) - header} data bytes, its header promises {expected}: "
            "the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file, gzip-compressed if ``path`` ends in ``.gz``."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = 0x00000800 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    # zlib's default level 6: on MNIST 13x faster than gzip's 9, for 2% more bytes.
    opener = partial(gzip.open, compresslevel=6) if path.suffix == ".gz" else open
    with opener(tmp, "wb") as handle:
        handle.write(header + array.tobytes())
    tmp.replace(path)  # a reader never sees half a file


def load_split(split: str = "train", data_dir: str | os.PathLike | None = None) -> Split:
    """Load and validate one MNIST split.

    Parameters
    ----------
    split : {"train", "test"}
        Which half of MNIST.
    data_dir : path-like, optional
        Directory with the IDX files; see :func:`resolve_data_dir`.

    Returns
    -------
    Split

    Raises
    ------
    DataError
        If a file is missing or broken, or the counts or labels are wrong.
    """
    if split not in SPLITS:
        raise DataError(f"unknown MNIST split {split!r}: use 'train' or 'test'")
    directory = resolve_data_dir(data_dir)
    if not directory.is_dir():
        raise DataError(f"MNIST directory {directory} does not exist: {HOW_TO_POINT}")
    image_stem, label_stem, count = SPLITS[split]
    images = read_idx(_find(directory, image_stem), IMAGE_MAGIC)
    labels = read_idx(_find(directory, label_stem), LABEL_MAGIC)
    if images.shape[1:] != (28, 28):
        raise DataError(f"{image_stem} holds {images.shape[1:]} images, MNIST's are 28x28")
    if len(images) != count or len(labels) != count:
        raise DataError(
            f"MNIST {split} should hold {count} images and labels, found "
            f"{len(images)} and {len(labels)} in {directory}"
        )
    if labels.max() > 9:
        raise DataError(f"{label_stem} holds labels above 9: the file is corrupt")
    return Split(images=images, labels=labels)


def mnist_available(data_dir: str | os.PathLike | None = None) -> bool:
    """True when both splits can be found (not validated) in the resolved directory."""
    directory = resolve_data_dir(data_dir)
    try:
        for image_stem, label_stem, _ in SPLITS.values():
            _find(directory, image_stem)
            _find(directory, label_stem)
    except DataError:
        return False
    return True


def _online(host: str = "www.openml.org", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def can_download() -> bool:
    """True when OpenML answers, so :func:`download_mnist` can work now (waits 3 s at most)."""
    return _online()


def download_mnist(
    target: str | os.PathLike | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Path:
    """Fetch MNIST from OpenML and store it as canonical IDX (gzip) files.

    Uses scikit-learn's ``fetch_openml("mnist_784")``: the first 60,000 rows are
    the training set, the last 10,000 the test set, as in the original.

    Parameters
    ----------
    target : path-like, optional
        Where to write; the per-user cache directory by default.
    progress : callable, optional
        Called as ``progress(message, fraction)`` with fraction in [0, 1].

    Returns
    -------
    pathlib.Path
        The directory now holding the four files.

    Raises
    ------
    DataError
        At once when offline, or if the download fails.
    """
    report = progress or (lambda message, fraction: None)
    target = Path(target) if target else cache_dir()
    report("checking the network", 0.0)
    if not _online():
        raise DataError(f"cannot reach OpenML to download MNIST (offline?): {HOW_TO_POINT}")
    from sklearn.datasets import fetch_openml

    report("downloading mnist_784 from OpenML (about 55 MB)", 0.05)
    try:
        bunch = fetch_openml("mnist_784", version=1, as_frame=False, parser="liac-arff")
    except Exception as error:  # network and parser errors alike: one line for the user
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DataError(f"downloading MNIST failed: {reason}; {HOW_TO_POINT}") from None
    report("writing IDX files", 0.8)
    images = np.asarray(bunch.data, dtype=np.uint8).reshape(-1, 28, 28)
    labels = np.asarray(bunch.target).astype(np.uint8)
    target.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", slice(0, 60_000)), ("test", slice(60_000, 70_000))):
        image_stem, label_stem, _ = SPLITS[split]
        write_idx(target / f"{image_stem}.gz", images[rows])
        write_idx(target / f"{label_stem}.gz", labels[rows])
    report("done", 1.0)
    return target
