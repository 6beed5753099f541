"""The command line on saved digits: export, import, evaluate --on mine, --db and its errors."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from core.cli import main
from core.model import load_model
from core.preprocess import preprocess
from core.storage import CSV_FILE, IMAGES_FILE, LABELS_FILE, DigitStore, mnist_pixels
from tests.personal import personal_set


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def saved_digits() -> list[tuple]:
    return [
        (label, mnist_pixels(preprocess(data).pixels), data, None, "ten-class", None)
        for data, label in personal_set(20)
    ]


def test_export_import_and_evaluate_on_mine(tmp_path, capsys, saved_digits):
    source = tmp_path / "source.sqlite3"
    DigitStore(source).add_many(saved_digits)
    status, out, _ = _run(capsys, "export", str(tmp_path / "out"), "--db", str(source))
    assert status == 0 and "exported 20 digits" in out
    assert {p.name for p in (tmp_path / "out").iterdir()} == {IMAGES_FILE, LABELS_FILE, CSV_FILE}
    status, out, _ = _run(capsys, "export", str(tmp_path / "mine.zip"), "--db", str(source))
    assert status == 0 and (tmp_path / "mine.zip").is_file()

    target = tmp_path / "target.sqlite3"
    status, out, _ = _run(capsys, "import", str(tmp_path / "out"), "--db", str(target))
    assert status == 0 and "imported 20 digits" in out
    status, out, _ = _run(capsys, "import", str(tmp_path / "mine.zip"), "--db", str(target))
    assert status == 0 and "(now 40)" in out
    _, images, labels = DigitStore(target).arrays()
    _, original, original_labels = DigitStore(source).arrays()
    np.testing.assert_array_equal(images[20:], original)
    np.testing.assert_array_equal(labels[:20], original_labels)

    status, out, _ = _run(capsys, "evaluate", "--on", "mine", "--db", str(source), "--json")
    result = json.loads(out)
    assert status == 0 and result["on"] == "mine" and result["n"] == 20
    expected = np.mean(load_model("ten-class").predict(original / 255.0) == original_labels)
    assert result["accuracy"] == pytest.approx(expected)
    # A pair reads only its own digits; the text report names the database.
    status, out, _ = _run(
        capsys, "evaluate", "--on", "mine", "--model", "binary-3-8", "--db", str(source)
    )
    assert status == 0
    assert out.startswith("binary-3-8: accuracy ") and "on 4 saved digits" in out


def test_the_database_comes_from_the_environment(tmp_path, capsys, monkeypatch, saved_digits):
    path = tmp_path / "env.sqlite3"
    monkeypatch.setenv("DIGIT_LENS_DB", str(path))
    DigitStore().add_many(saved_digits[:12])
    status, out, _ = _run(capsys, "evaluate", "--on", "mine")
    assert status == 0 and "on 12 saved digits" in out and str(path) in out


def test_storage_errors_are_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite3"
    status, _, err = _run(capsys, "evaluate", "--on", "mine", "--db", str(empty))
    assert status == 1 and err.startswith("error: no saved digits") and err.count("\n") == 1

    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"\x00garbage" * 500)
    before = hashlib.sha256(corrupt.read_bytes()).hexdigest()
    for argv in (
        ["export", str(tmp_path / "x"), "--db", str(corrupt)],
        ["import", str(tmp_path / "x"), "--db", str(corrupt)],
        ["evaluate", "--on", "mine", "--db", str(corrupt)],
    ):
        status, _, err = _run(capsys, *argv)
        assert status == 1 and "not a SQLite database" in err and err.count("\n") == 1
    assert hashlib.sha256(corrupt.read_bytes()).hexdigest() == before

    status, _, err = _run(capsys, "import", str(tmp_path / "nothing"), "--db", str(empty))
    assert status == 1 and "not found" in err and "Traceback" not in err


def test_export_where_nothing_can_be_written_is_one_line(tmp_path, capsys, saved_digits):
    database = tmp_path / "mine.sqlite3"
    DigitStore(database).add_many(saved_digits)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for out in (blocker / "export", blocker / "export.zip"):  # a file stands where a dir must
        status, _, err = _run(capsys, "export", str(out), "--db", str(database))
        assert status == 1 and err.startswith("error: cannot") and err.count("\n") == 1, err
