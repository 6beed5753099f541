"""The failure-kind generator (tests/kinds.py) and the verdicts of bench/eval_real.py.

How the pipeline reads each kind is tested elsewhere; here: the variants are
deterministic, labelled, decodable and of the kind they claim, and the
evaluation counts right, sure and wrong-and-sure as it says.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from tests import kinds

REPO = Path(__file__).resolve().parent.parent


def _load_eval_real():
    spec = importlib.util.spec_from_file_location("eval_real", REPO / "bench" / "eval_real.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_real"] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", kinds.KINDS)
def test_variants_are_deterministic_labelled_and_decodable(kind):
    count = len(kinds.SUBKINDS[kind]) + 1
    first = list(kinds.iter_kind(kind, count, seed=3))
    assert first[:2] == list(kinds.iter_kind(kind, 2, seed=3))  # the same, whatever the count
    assert kinds.make_variant(kind, 0, seed=4)[1] != first[0][1]
    assert {kinds.subkind_of(v[0]) for v in first} == set(kinds.SUBKINDS[kind])
    for name, data, label, expect in first:
        assert name.startswith(f"{kind}_") and name.endswith(f"_{label}.{name[-3:]}")
        assert 0 <= label <= 9
        assert expect in ("label", "label-or-unsure")
        image = Image.open(io.BytesIO(data))
        assert image.format == {"png": "PNG", "jpg": "JPEG"}[name[-3:]]
        image.load()


def test_wide_pen_on_a_small_canvas_digit_may_be_unsure():
    expects = {v[3] for v in kinds.iter_kind("D", 3)}
    assert expects == {"label-or-unsure"}
    canvas = [v for v in kinds.iter_kind("canvas", 30)]
    assert {v[3] for v in canvas} == {"label", "label-or-unsure"}
    image = Image.open(io.BytesIO(canvas[0][1]))
    assert (image.mode, image.size) == ("RGBA", (280, 280))
    rgba = np.asarray(image)
    assert rgba[:, :, 3].any() and not rgba[rgba[:, :, 3] == 0][:, :3].any()  # transparent black


def test_large_photos_are_large_and_some_carry_an_exif_rotation():
    variants = list(kinds.iter_kind("B", 4))
    for name, data, _, _ in variants:
        image = Image.open(io.BytesIO(data))
        assert 1000 <= max(image.size) <= 4000
        rotated = image.getexif().get(0x0112) is not None
        assert rotated == (kinds.subkind_of(name) == "exif")
        assert min(ImageOps.exif_transpose(image).size) >= 700


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        kinds.iter_kind("Z", 1)


def test_write_kinds_writes_files_and_labels_like_the_cases(tmp_path):
    rows = kinds.write_kinds(tmp_path, count=2, kinds=("C", "D"), workers=1)
    with open(tmp_path / "labels.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["file", "label", "kind", "expect"]
        assert list(reader) == rows
    assert [row["kind"] for row in rows] == ["C", "C", "D", "D"]
    assert all((tmp_path / row["file"]).is_file() for row in rows)


def test_eval_real_verdicts():
    eval_real = _load_eval_real()

    def item(label: str = "7", expect: str = "label"):
        return eval_real.Item("kinds", ("A",), Path("x.png"), label, expect)

    probs = {str(d): 0.0 for d in range(10)}
    right_sure = item()
    assert not eval_real.judge(right_sure, {"label": 7, "probabilities": probs, "sure": True})
    assert (right_sure.right, right_sure.sure, right_sure.ok) == (True, True, True)
    wrong_unsure = item(expect="label-or-unsure")
    eval_real.judge(wrong_unsure, {"label": 1, "probabilities": probs, "sure": False})
    assert (wrong_unsure.right, wrong_unsure.sure, wrong_unsure.ok) == (False, False, True)
    fallback = item()  # no "sure": the app's rule, max probability >= 0.6
    assert eval_real.judge(fallback, {"label": 1, "probabilities": {**probs, "1": 0.61}})
    assert (fallback.right, fallback.sure) == (False, True)
    blank_digit = item()
    eval_real.judge(blank_digit, {"label": None, "probabilities": probs, "blank": True})
    assert (blank_digit.right, blank_digit.sure, blank_digit.ok) == (False, False, False)
    blank_case = item("", "blank")
    eval_real.judge(blank_case, {"label": None, "probabilities": probs, "blank": True})
    assert blank_case.ok
    error = item()
    eval_real.judge(error, {"error": "cannot read"})
    assert (error.right, error.sure, error.ok) == (False, False, False)
    figures = eval_real.figures([right_sure, wrong_unsure, fallback, blank_digit])
    assert figures["right"] == 0.25 and figures["wrong_and_sure"] == 0.25
    assert figures["sure"] == 0.5 and figures["as_expected"] == 0.5
