"""The command line: JSON lines, exit codes, one-line errors, and the subcommands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.cli import main

REPO = Path(__file__).resolve().parent.parent
CASES = REPO.parent / "shared" / "cases"


def _mnist_png(path: Path, image: np.ndarray, scale: int = 8) -> Path:
    """An MNIST digit as a photo would show it: dark ink on white, enlarged."""
    Image.fromarray(255 - image).resize((28 * scale, 28 * scale), Image.BILINEAR).save(path)
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_classify_json_lines_good_bad_and_blank(tmp_path, capsys, mnist_test):
    digits = [_mnist_png(tmp_path / f"d{i}.png", mnist_test.images[i]) for i in range(6)]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a picture")
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    status, out, err = _run(
        capsys, "classify", str(digits[0]), str(broken), *map(str, digits[1:]), str(blank), "--json"
    )
    assert status == 1, "a failed file makes the exit status 1"
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["file"] for r in records] == [
        str(digits[0]),
        str(broken),
        *map(str, digits[1:]),
        str(blank),
    ]
    assert set(records[1]) == {"file", "error"} and "\n" not in records[1]["error"]
    good = [records[0], *records[2:-1]]
    for record in good:
        assert set(record) - {"why"} == {"file", "label", "probabilities", "blank", "sure"}
        assert ("why" in record) is (not record["sure"])
        assert record["blank"] is False
        assert set(record["probabilities"]) == {str(d) for d in range(10)}
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert [r["label"] for r in good] == mnist_test.labels[:6].tolist()
    assert records[-1]["blank"] is True and records[-1]["label"] is None
    assert records[-1]["sure"] is False and records[-1]["why"] == "no digit found"
    assert "Traceback" not in err


def test_classify_says_why_it_is_not_sure(tmp_path, capsys):
    # A 4 drawn small in a corner with the canvas's default pen: its loops are filled in.
    path = str(CASES / "corner-small-default-pen-4.png")
    status, out, _ = _run(capsys, "classify", path, "--json")
    record = json.loads(out)
    assert status == 0
    assert record["sure"] is False and record["why"].startswith("too small for the pen")
    status, out, _ = _run(capsys, "classify", path)
    assert out.startswith(f"{path}: ") and "? (" in out and "not sure: too small" in out


def test_a_blob_is_blank_and_too_small_for_the_pen(tmp_path, capsys):
    # An 8 drawn small in the canvas's corner with a wide pen: both loops filled, the
    # ink a blob a few stroke widths long. It is no digit, and the answer says why.
    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    draw = ImageDraw.Draw(canvas)
    turn = np.linspace(0, 2 * np.pi, 41)
    for cx, cy, radius in ((35, 224, 11), (35, 248.5, 13.5)):  # 50 px high, a 26 px pen
        loop = np.stack([cx + 1.1 * radius * np.cos(turn), cy + radius * np.sin(turn)], 1)
        draw.line([tuple(p) for p in loop], fill=(255, 255, 255, 255), width=26, joint="curve")
    path = str(tmp_path / "blob-8.png")
    canvas.save(path)
    status, out, _ = _run(capsys, "classify", path, "--json")
    record = json.loads(out)
    assert status == 0 and record["blank"] is True and record["label"] is None
    assert record["sure"] is False and record["why"].startswith("too small for the pen")
    _, out, _ = _run(capsys, "classify", path)
    assert out.strip() == f"{path}: blank (too small for the pen: draw the digit bigger, " + (
        "or with a thinner pen)"
    )


def test_classify_all_good_exits_zero_with_a_binary_model(tmp_path, capsys, mnist_test):
    ones = np.flatnonzero(mnist_test.labels == 1)[:2]
    paths = [str(_mnist_png(tmp_path / f"one{i}.png", mnist_test.images[i])) for i in ones]
    status, out, _ = _run(capsys, "classify", *paths, "--model", "binary-0-1")
    assert status == 0
    assert all(": 1 (" in line for line in out.splitlines())


def test_unknown_model_is_one_line_error(tmp_path, capsys):
    status, _, err = _run(capsys, "classify", "x.png", "--model", "binary-9-2")
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("error:")


def test_evaluate_json(capsys, mnist_dir):
    status, out, _ = _run(
        capsys, "evaluate", "--model", "binary-0-1", "--data-dir", str(mnist_dir), "--json"
    )
    result = json.loads(out)
    assert status == 0
    assert result["model"] == "binary-0-1"
    assert result["n"] == 980 + 1135
    assert result["accuracy"] >= 0.9995


def test_train_writes_a_loadable_model(tmp_path, capsys, mnist_dir):
    status, out, _ = _run(
        capsys,
        "train",
        "--model",
        "binary-4-9",
        "--train-size",
        "3000",
        "--data-dir",
        str(mnist_dir),
        "--out",
        str(tmp_path),
    )
    assert status == 0, out
    assert (tmp_path / "binary-4-9.npz").is_file() and (tmp_path / "binary-4-9.json").is_file()
    status, out, _ = _run(
        capsys,
        "evaluate",
        "--model",
        str(tmp_path / "binary-4-9.json"),
        "--data-dir",
        str(mnist_dir),
        "--json",
    )
    assert json.loads(out)["accuracy"] > 0.95


def test_train_refuses_an_invalid_combination(tmp_path, capsys, mnist_dir):
    status, _, err = _run(
        capsys,
        "train",
        "--model",
        "ten-class",
        "--penalty",
        "l1",
        "--solver",
        "lbfgs",
        "--data-dir",
        str(mnist_dir),
        "--out",
        str(tmp_path),
    )
    assert status == 1
    assert "cannot fit penalty l1" in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_missing_data_dir_is_one_line_error(tmp_path, capsys):
    status, _, err = _run(capsys, "evaluate", "--data-dir", str(tmp_path / "none"))
    assert status == 1 and "MNIST_DIR" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["classify", "train", "evaluate", "download-mnist"])
def test_help_of_every_command(command):
    result = subprocess.run(
        [sys.executable, "-m", "core", command, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "usage: python -m core" in result.stdout


def test_classify_into_a_pipe_closed_early_ends_without_a_traceback(tmp_path, mnist_test):
    # ``classify --json ... | head -1``: the reader leaves while records are still being
    # written; a BrokenPipeError's traceback was printed
    digit = _mnist_png(tmp_path / "d.png", mnist_test.images[0], scale=2)
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "classify", "--json"] + [str(digit)] * 600,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = process.stdout.readline()
    process.stdout.close()  # more than a pipe's buffer (64 KiB) is still to come
    status = process.wait(timeout=120)
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert json.loads(first)["label"] == int(mnist_test.labels[0])
    assert "Traceback" not in errors
    assert status == 141
