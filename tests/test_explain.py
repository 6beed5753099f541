"""core.explain and ui.figures without Streamlit: the analysis, the verdict, the logit table."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.explain import (
    analyse_image,
    analyse_mnist,
    contrast,
    default_pair,
    logit_rows,
    mnist_image,
    reading,
)
from core.model import load_model
from core.preprocess import PreprocessOptions, preprocess
from core.storage import mnist_pixels
from tests.strokes import DIGIT_STROKES, render_strokes
from ui.figures import contributions_figure, weights_figure

REPO = Path(__file__).resolve().parent.parent


def canvas(digit: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(render_strokes(DIGIT_STROKES[digit][0], pen=18, mode="RGBA")).save(
        buffer, "PNG"
    )
    return buffer.getvalue()


def test_explanation_logic_imports_no_streamlit():
    code = "import sys, core.explain, ui.figures; print('streamlit' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_analysis_adds_up_and_names_what_the_model_was_given():
    model = load_model("ten-class")
    data = canvas(3)
    analysis = analyse_image(data, model, "ten-class", PreprocessOptions(invert=True))
    assert analysis.predicted == 3 and analysis.model_name == "ten-class"
    np.testing.assert_array_equal(mnist_image(analysis), mnist_pixels(preprocess(data).pixels))
    # intercept + Σ pixel × weight = logit, for every class, as the table prints it.
    for i, row in enumerate(logit_rows(analysis)):
        total = float(analysis.maps[i].sum(dtype=np.float64))
        assert float(row["logit"]) == round(analysis.intercepts[i] + total, 2)
        assert row["logit"] == f"{analysis.logits[i]:+.2f}"
    np.testing.assert_allclose(
        analysis.probs, model.predict_proba(preprocess(data).pixels[None])[0], rtol=1e-6
    )
    value, note = reading(analysis.verdict, analysis.labels)
    assert value == "3" and note.endswith("sure")
    # The figures are built from the analysis and the model alone.
    assert contributions_figure(analysis)["data"][0]["type"] == "heatmap"
    assert weights_figure(model)["data"][0]["z"].shape == (2 * 28 + 10, 5 * 28 + 4 * 4)


def test_an_mnist_image_is_analysed_as_given():
    model = load_model("binary-3-7")
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 13:16] = 255  # a bar: a 7's stem more than a 3
    analysis = analyse_mnist(pixels, model, "binary-3-7", "a bar")
    np.testing.assert_array_equal(mnist_image(analysis), pixels)
    assert analysis.stages[0][0] == "a bar" and len(analysis.stages) == 2
    (row,) = logit_rows(analysis)
    assert row["digit"] == "7 vs 3" and set(row) == {
        "digit",
        "intercept",
        "Σ pixel × weight",
        "logit",
        "P(7)",
    }


def test_contrast_adds_up_to_the_logit_gap_and_names_the_pixels_that_would_flip_it():
    model = load_model("ten-class")
    analysis = analyse_image(canvas(9), model, "ten-class", PreprocessOptions(invert=True))
    a, b = default_pair(analysis)
    assert a == analysis.predicted and b != a
    assert analysis.probs[analysis.classes.index(b)] == sorted(analysis.probs)[-2]
    for first, second in [(a, b), (b, a), (3, 8)]:
        view = contrast(analysis, first, second)
        i, j = analysis.classes.index(first), analysis.classes.index(second)
        gap = analysis.logits[i] - analysis.logits[j]
        # intercept difference + Σ map = logit gap, and the map is the two maps' difference.
        np.testing.assert_allclose(view.intercept_gap + view.map.sum(), gap, rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(view.gap, gap, rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(view.map, analysis.maps[i] - analysis.maps[j], atol=1e-5)
        # Each listed pixel, inked or erased alone on the model input, moves the gap as said.
        for pixels, new in [(view.ink, 1.0), (view.erase, 0.0)]:
            assert pixels, "some pixel moves the gap towards the loser"
            assert all(p.effect * view.gap < 0 for p in pixels)
            assert [abs(p.effect) for p in pixels] == sorted(
                (abs(p.effect) for p in pixels), reverse=True
            )
            p = pixels[0]
            changed = analysis.model_input.astype(np.float64).copy()
            changed[p.row, p.col] = new
            logits = changed.reshape(-1) @ model.coef_.T.astype(np.float64) + model.intercept_
            np.testing.assert_allclose(logits[i] - logits[j], gap + p.effect, rtol=1e-6, atol=1e-5)
    assert contrast(analysis, a, b).winner == a


def test_contrast_of_a_binary_model_is_its_own_map():
    model = load_model("binary-3-7")
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 13:16] = 255
    analysis = analyse_mnist(pixels, model, "binary-3-7", "a bar")
    view = contrast(analysis, 7, 3)
    np.testing.assert_allclose(view.map, analysis.maps[0], atol=1e-6)
    np.testing.assert_allclose(view.gap, analysis.logits[0], rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(view.intercept_gap, analysis.intercepts[0])
    back = contrast(analysis, 3, 7)
    np.testing.assert_allclose(back.map, -view.map)
    assert back.names == ("3", "7") and back.winner == view.winner


def test_contrast_needs_two_of_the_models_classes():
    model = load_model("binary-3-7")
    analysis = analyse_mnist(np.zeros((28, 28), np.uint8), model, "binary-3-7", "blank")
    with pytest.raises(ValueError, match="two different classes"):
        contrast(analysis, 3, 3)
    with pytest.raises(ValueError, match=r"among \[3, 7\]"):
        contrast(analysis, 3, 5)
