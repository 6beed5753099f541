"""MNIST IDX loading: real files, round trips, and every way a file can be wrong."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from core import data
from core.data import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    load_split,
    read_idx,
    resolve_data_dir,
    write_idx,
)
from core.errors import DataError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_has_canonical_shapes_and_label_counts(mnist_train, mnist_test):
    assert mnist_train.images.shape == (60_000, 28, 28)
    assert mnist_test.images.shape == (10_000, 28, 28)
    assert np.bincount(mnist_train.labels).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist_test.labels).tolist() == TEST_COUNTS
    assert mnist_train.images.dtype == np.uint8
    assert len(mnist_train.checksum) == 64


def _fake_test_split(directory: Path, count: int = 10_000, gz: bool = True):
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    for split in ("test",):
        image_stem, label_stem, _ = data.SPLITS[split]
        write_idx(directory / f"{image_stem}{suffix}", np.zeros((count, 28, 28), np.uint8))
        write_idx(directory / f"{label_stem}{suffix}", rng.integers(0, 10, count))


@pytest.mark.parametrize("name", ["labels.idx", "labels.idx.gz"])
def test_idx_round_trip_raw_and_gzip(tmp_path, name):
    labels = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / name, labels)
    assert np.array_equal(read_idx(tmp_path / name, LABEL_MAGIC), labels)


def test_raw_uncompressed_files_are_read(tmp_path):
    _fake_test_split(tmp_path, gz=False)
    assert load_split("test", tmp_path).images.shape == (10_000, 28, 28)


def test_wrong_magic_names_the_file(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match=r"x\.gz.*magic"):
        read_idx(tmp_path / "x.gz", IMAGE_MAGIC)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "images.gz"
    header = struct.pack(">IIII", IMAGE_MAGIC, 10, 28, 28)
    with gzip.open(path, "wb") as handle:
        handle.write(header + bytes(28 * 28 * 3))
    with pytest.raises(DataError, match="truncated"):
        read_idx(path, IMAGE_MAGIC)


def test_corrupt_gzip_is_a_data_error(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(path, IMAGE_MAGIC)


def test_missing_directory_says_how_to_point_at_files(tmp_path):
    with pytest.raises(DataError, match="MNIST_DIR"):
        load_split("train", tmp_path / "nowhere")


def test_missing_file_is_named(tmp_path):
    _fake_test_split(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        load_split("test", tmp_path)


def test_wrong_count_is_refused(tmp_path):
    _fake_test_split(tmp_path, count=9_999)
    with pytest.raises(DataError, match="10000"):
        load_split("test", tmp_path)


def test_label_above_nine_is_refused(tmp_path):
    _fake_test_split(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(10_000, 12, dtype=np.uint8))
    with pytest.raises(DataError, match="above 9"):
        load_split("test", tmp_path)


def test_directory_precedence_flag_then_env_then_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("MNIST_DIR")
    assert resolve_data_dir() == tmp_path / "cache" / "digit-lens" / "mnist"


def test_download_fails_at_once_offline_with_a_way_out(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_online", lambda *args, **kwargs: False)
    with pytest.raises(DataError, match="MNIST_DIR"):
        data.download_mnist(tmp_path)
    assert not any(tmp_path.iterdir()), "nothing is written when the download cannot start"


@pytest.mark.mnist
def test_download_writes_the_canonical_idx_files(tmp_path, fake_openml, mnist_train, mnist_test):
    fractions = []
    target = data.download_mnist(tmp_path / "cache", lambda text, f: fractions.append(f))
    assert fake_openml[0][0] == "mnist_784"
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    for split, original in (("train", mnist_train), ("test", mnist_test)):
        downloaded = load_split(split, target)
        np.testing.assert_array_equal(downloaded.images, original.images)
        np.testing.assert_array_equal(downloaded.labels, original.labels)


def test_a_failed_download_says_why_in_one_line_and_writes_nothing(tmp_path, monkeypatch):
    import sklearn.datasets

    def broken(name, **kwargs):
        raise ConnectionResetError("connection reset by peer\nwith a second line")

    monkeypatch.setattr(data, "_online", lambda *args, **kwargs: True)
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", broken)
    with pytest.raises(DataError, match="downloading MNIST failed") as caught:
        data.download_mnist(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
    assert "MNIST_DIR" in str(caught.value) and "\n" not in str(caught.value)
