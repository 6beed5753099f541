"""The app without a browser: Streamlit's AppTest for the pages, plain calls for the logic.

AppTest cannot drive the drawing canvas (a custom component), so the Draw page's
logic is tested through the functions it calls, on images rendered the way the
canvas sends them (tests/strokes.py).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.errors import ImageError
from core.examples import EXAMPLES
from core.explain import logit_rows, reading, transform_words
from core.model import load_model
from core.verdict import judge
from tests.strokes import DIGIT_STROKES, render_strokes
from ui.figures import SIDE, contributions_figure, grid, probability_figure
from ui.session import KIND_PAIR, KIND_TEN
from ui.views import (
    CONTRAST_OPEN,
    HINT_DRAW,
    RESULT_SHOWN,
    WARM_UP_READY,
    analyse,
    has_strokes,
    stages_html,
    weights_chart,
)

TIMEOUT = 60
MODEL = load_model("ten-class")
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def canvas_png(digit: int, variant: int = 0, pen: float = 18) -> bytes:
    """What the canvas sends: a PNG of white strokes on its opaque black background."""
    array = render_strokes(DIGIT_STROKES[digit][variant], pen=pen, mode="RGBA")
    return png(array)


def photo(digit: int, variant: int = 0, fmt: str = "PNG") -> bytes:
    """A photo-like picture: dark pen strokes on light, slightly uneven, noisy paper."""
    strokes = DIGIT_STROKES[digit][variant]
    grey = render_strokes(strokes, size=400, pen=16, ink=40, background=215, mode="L", scale=0.8)
    grey = grey.astype(np.float32)
    shade = np.linspace(-12, 12, 400, dtype=np.float32)[None, :]
    noise = np.random.default_rng(digit).normal(0, 3, grey.shape).astype(np.float32)
    image = np.clip(grey + shade + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).convert("RGB").save(buffer, fmt)
    return buffer.getvalue()


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def metric_value(at: AppTest, label: str = "Prediction") -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, f"expected one {label!r} metric, found {len(values)}"
    return values[0]


# ------------------------------------------------------------------ pages


def test_default_page_opens_ready_to_draw_with_a_hint():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [info.value for info in at.info] == [HINT_DRAW]
    assert not [m for m in at.metric if m.label == "Prediction"]  # a hint, not a prediction
    assert at.sidebar.radio[0].label == "Model"
    assert at.sidebar.radio[0].value == KIND_TEN
    assert at.session_state["model_name"] == "ten-class"
    assert "95" in at.sidebar.caption[0].value or "%" in at.sidebar.caption[0].value
    assert [s.label for s in at.slider] == ["Pen width"]
    assert [b.label for b in at.button] == ["Clear"]


def test_clear_button_remounts_an_empty_canvas():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["canvas_id"] == 1
    assert [info.value for info in at.info] == [HINT_DRAW]


def test_draw_page_loads_the_result_views_elements_once_the_browser_is_idle():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    # Until the browser says the page is up and idle, nothing heavy is sent.
    assert not at.get("plotly_chart") and not at.table and not at.metric
    at.session_state[WARM_UP_READY] = True  # what the page's idle signal sets
    at.run()
    assert not at.exception
    # One of each kind the first result shows, none of them a Prediction.
    assert [m.label for m in at.metric] == ["warm-up"]
    assert len(at.get("plotly_chart")) == 1 and len(at.table) == 1
    assert [info.value for info in at.info] == [HINT_DRAW]
    assert [b.label for b in at.button] == ["Clear"]
    at.session_state[RESULT_SHOWN] = True  # once this session has shown a result, never again
    at.run()
    assert not at.get("plotly_chart") and not at.table and not at.metric


def _picker():
    import streamlit as st

    from ui.session import model_sidebar

    st.write(f"active: {model_sidebar()}")


def test_sidebar_switches_to_a_binary_pair_and_back():
    at = AppTest.from_function(_picker, default_timeout=TIMEOUT).run()
    assert at.markdown[0].value == "active: ten-class"
    at.sidebar.radio[0].set_value(KIND_PAIR).run()
    assert not at.exception
    assert [s.label for s in at.sidebar.selectbox] == ["First digit", "Second digit"]
    assert [s.value for s in at.sidebar.selectbox] == [0, 1]  # 0 vs 1 by default
    assert at.markdown[0].value == "active: binary-0-1"
    assert "0 or 1" in at.sidebar.caption[0].value

    at.sidebar.selectbox[0].set_value(7).run()
    at.sidebar.selectbox[1].set_value(3).run()
    assert at.markdown[0].value == "active: binary-3-7"  # either order names one model
    assert at.session_state["model_name"] == "binary-3-7"

    # The second digit cannot equal the first: picking it moves the second on.
    at.sidebar.selectbox[0].set_value(3).run()
    assert not at.exception
    first, second = (s.value for s in at.sidebar.selectbox)
    assert first == 3 and second != 3
    assert 3 not in at.sidebar.selectbox[1].options

    at.sidebar.radio[0].set_value(KIND_TEN).run()
    assert at.markdown[0].value == "active: ten-class"
    assert not at.sidebar.selectbox


def _result(data: bytes, model_name: str):
    from ui.views import analyse, show_explanation, show_prediction

    analysis = analyse(data, model_name, invert=True)
    show_prediction(analysis)
    show_explanation(analysis)


def test_result_view_with_a_binary_model_says_it_only_knows_the_pair():
    at = AppTest.from_function(
        _result, args=(canvas_png(3), "binary-3-7"), default_timeout=TIMEOUT
    ).run()
    assert not at.exception
    assert metric_value(at) == "3"
    captions = " ".join(c.value for c in at.caption)
    assert "only knows 3 and 7" in captions
    assert "towards 3" in captions and "towards 7" in captions
    assert len(at.get("plotly_chart")) == 3  # the bars, the weights and the maps


def test_result_view_with_the_ten_class_model():
    at = AppTest.from_function(
        _result, args=(canvas_png(7), "ten-class"), default_timeout=TIMEOUT
    ).run()
    assert not at.exception
    assert metric_value(at) == "7"
    assert at.table[0].value.shape == (10, 5)  # one row per digit
    (stages,) = at.get("html")
    assert f"model input ({transform_words(MODEL.input_transform)})" in stages.proto.body


def test_the_paint_pause_runs_only_when_the_chart_changes(monkeypatch):
    # The pause before the probability chart lets the browser paint the Prediction
    # first; a rerun that leaves the chart as it was (a moved slider) renders nothing.
    import types

    from ui import views

    pauses = []
    monkeypatch.setattr(views, "time", types.SimpleNamespace(sleep=pauses.append))
    at = AppTest.from_function(
        _result, args=(canvas_png(7), "ten-class"), default_timeout=TIMEOUT
    ).run()
    assert not at.exception and pauses == [views.PAINT_PAUSE]
    at.run()  # the same drawing again
    assert not at.exception and metric_value(at) == "7" and pauses == [views.PAINT_PAUSE]
    at.session_state[views.CHART_SHOWN] = None  # as after another drawing
    at.run()
    assert pauses == [views.PAINT_PAUSE] * 2


def _gap_shown(at: AppTest) -> tuple[str, str, float]:
    """The contrast view's pair and the logit gap it prints."""
    (line,) = [m.value for m in at.markdown if "logit gap of" in m.value]
    match = re.search(r"logit gap of (\S+) over (\S+):.*= \*\*([+-][0-9.]+)\*\*$", line)
    assert match, line
    return match[1], match[2], float(match[3])


def test_contrast_view_explains_the_gap_between_two_classes():
    at = AppTest.from_function(
        _result, args=(canvas_png(9), "ten-class"), default_timeout=TIMEOUT
    ).run()
    assert not at.exception
    assert [e.label for e in at.expander] == ["Why this digit and not another? Compare two classes"]
    assert len(at.get("plotly_chart")) == 3  # closed: nothing built
    at.session_state[CONTRAST_OPEN] = True  # what a click on the expander sets
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 4
    logits = {row["digit"]: float(row["logit"]) for row in at.table[0].value.to_dict("records")}
    probs = {
        row["digit"]: float(row["P"].rstrip("%")) for row in at.table[0].value.to_dict("records")
    }
    a, b, gap = _gap_shown(at)
    ranked = sorted(probs, key=probs.get, reverse=True)
    assert (a, b) == (metric_value(at), ranked[1])  # the prediction and the runner-up
    assert gap > 0 and gap == pytest.approx(logits[a] - logits[b], abs=0.011)
    # Another pair, picked: the gap follows (negative: the model prefers the first).
    at.selectbox[1].set_value(int(a)).run()
    assert at.info and "two different" in at.info[0].value
    at.selectbox[0].set_value(4).run()
    assert not at.exception
    a, b, gap = _gap_shown(at)
    assert (a, b) == ("4", metric_value(at)) and gap < 0
    assert gap == pytest.approx(logits[a] - logits[b], abs=0.011)
    figure = at.get("plotly_chart")[-1].proto.spec
    assert '"heatmap"' in figure and '"scatter"' in figure


def test_contrast_view_of_a_binary_model_is_its_own_map():
    at = AppTest.from_function(_result, args=(canvas_png(3), "binary-3-7"), default_timeout=TIMEOUT)
    at.session_state[CONTRAST_OPEN] = True
    at.run()
    assert not at.exception
    (row,) = at.table[0].value.to_dict("records")  # "7 vs 3": the logit of 7 over 3
    a, b, gap = _gap_shown(at)
    assert (a, b) == ("3", "7")
    assert gap == pytest.approx(-float(row["logit"]), abs=0.011)


def _open_upload_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception
    return at


def test_upload_page_reports_a_file_that_is_not_an_image_and_keeps_running():
    at = _open_upload_page()
    assert [f.label for f in at.file_uploader] == ["Upload a photo of one digit"]
    at.file_uploader[0].upload("notes.png", b"this is not a picture", "image/png").run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("notes.png: ") and "\n" not in message
    assert not [m for m in at.metric if m.label == "Prediction"]

    # The app keeps running: a real photo afterwards is read.
    at.file_uploader[0].set_value(("four.png", photo(4), "image/png")).run()
    assert not at.exception
    assert not at.error
    assert metric_value(at) == "4"


@pytest.mark.parametrize(("digit", "fmt"), [(7, "JPEG"), (2, "PNG"), (0, "WEBP")])
def test_upload_page_reads_photos(digit, fmt):
    at = _open_upload_page()
    name = f"digit.{fmt.lower()}"
    at.file_uploader[0].set_value((name, photo(digit, fmt=fmt), f"image/{fmt.lower()}")).run()
    assert not at.exception
    assert metric_value(at) == str(digit)


def test_upload_page_manual_overrides():
    at = _open_upload_page()
    at.file_uploader[0].set_value(("seven.png", photo(7), "image/png")).run()
    assert metric_value(at) == "7"
    # Forcing the wrong polarity reads the paper as ink: no longer a clean 7.
    at.radio(key="ink").set_value("Light ink on a dark background").run()
    assert not at.exception
    at.radio(key="ink").set_value("Dark ink on light paper").run()
    assert metric_value(at) == "7"
    at.toggle(key="contrast_on").set_value(True).run()
    at.slider(key="contrast").set_value(0.3).run()
    at.toggle(key="crop_on").set_value(True).run()
    at.slider(key="crop_x").set_value((0.05, 0.95)).run()
    assert not at.exception
    assert metric_value(at) == "7"
    # A crop that keeps only the paper's corner finds no digit: a warning, no prediction.
    at.slider(key="crop_x").set_value((0.0, 0.1)).run()
    at.slider(key="crop_y").set_value((0.0, 0.1)).run()
    assert not at.exception
    assert at.warning and not [m for m in at.metric if m.label == "Prediction"]


# ------------------------------------------------------------------ logic


@pytest.mark.parametrize("digit", [1, 4, 7])
def test_drawn_digits_read_right_with_both_kinds_of_model(digit):
    for variant in range(len(DIGIT_STROKES[digit])):
        analysis = analyse(canvas_png(digit, variant), "ten-class", invert=True)
        assert not analysis.is_blank
        assert analysis.predicted == digit, (
            f"{digit} variant {variant} read as {analysis.predicted}"
        )
    other = 3 if digit != 3 else 8
    pair = analyse(canvas_png(digit), f"binary-{min(digit, other)}-{max(digit, other)}", True)
    assert pair.classes == tuple(sorted((digit, other)))
    assert pair.predicted == digit


def test_analysis_adds_up():
    analysis = analyse(canvas_png(2), "ten-class", invert=True)
    model = load_model("ten-class")
    # The maps are pixel × weight on what the model saw, and they add up to the logits.
    expected = analysis.model_input[None] * model.coefficient_images()
    np.testing.assert_allclose(analysis.maps, expected, rtol=1e-6, atol=1e-7)
    sums = analysis.maps.reshape(10, -1).sum(axis=1, dtype=np.float64)
    np.testing.assert_allclose(analysis.intercepts + sums, analysis.logits, atol=1e-4)
    np.testing.assert_allclose(
        model.probabilities(analysis.logits[None])[0], analysis.probs, rtol=1e-5, atol=1e-9
    )
    # The table shows the same sums.
    rows = logit_rows(analysis)
    assert [r["digit"] for r in rows] == [str(d) for d in range(10)]
    for row, logit in zip(rows, analysis.logits, strict=True):
        total = float(row["intercept"]) + float(row["Σ pixel × weight"])
        assert total == pytest.approx(logit, abs=0.011)
        assert float(row["logit"]) == pytest.approx(logit, abs=0.005)
    # Stages run from the raw input to what the model saw.
    names = [name for name, _ in analysis.stages]
    assert (
        names[0] == "input"
        and names[-1] == f"model input ({transform_words(model.input_transform)})"
    )
    assert all(image.dtype == np.uint8 and image.ndim == 2 for _, image in analysis.stages)


def test_binary_table_reads_towards_the_second_digit():
    analysis = analyse(canvas_png(7), "binary-3-7", invert=True)
    assert analysis.maps.shape == (1, SIDE, SIDE) and analysis.scored == (7,)
    (row,) = logit_rows(analysis)
    assert row["digit"] == "7 vs 3"
    assert float(row["logit"]) > 0  # positive: towards 7
    assert row["P(7)"] == f"{analysis.probs[1]:.1%}"


def test_blank_or_unreadable_input():
    empty = np.zeros((280, 280, 4), np.uint8)
    empty[..., 3] = 255
    blank = analyse(png(empty), "ten-class", invert=True)
    assert blank.is_blank and not blank.dot  # no ink: not "a dot"
    dot = empty.copy()
    dot[100:130, 100:130, :3] = 255  # one press of a wide pen
    assert analyse(png(dot), "ten-class", invert=True).dot
    with pytest.raises(ImageError):
        analyse(b"GIF89a but not really", "ten-class")
    assert not has_strokes(None)
    assert not has_strokes({"objects": []})
    assert has_strokes({"objects": [{"type": "path"}]})


def test_transforms_are_described_in_words():
    assert transform_words("none") == ""
    assert transform_words("deskew") == "deskewed"
    assert transform_words("deskew+soften") == "deskewed, softened"
    assert transform_words("something-new") == "something-new"


def test_reading_is_unsure_below_the_threshold():
    labels = tuple(str(c) for c in range(10))
    sure = np.full(10, 0.01)
    sure[7] = 0.91
    assert reading(judge(labels, sure, threshold=0.6), labels) == ("7", "91% sure")
    unsure = np.full(10, 0.05)
    unsure[7], unsure[9] = 0.55, 0.3
    value, note = reading(judge(labels, unsure, threshold=0.6), labels)
    assert value == "7?"
    assert note.startswith("not sure: two digits are close: 7 or 9")
    pair = ("3", "7")
    assert reading(judge(pair, np.array([0.3, 0.7]), threshold=0.6), pair) == ("7", "70% sure")


def test_reading_says_a_drawing_too_small_for_its_pen_is_not_sure():
    labels = tuple(str(c) for c in range(10))
    probs = np.full(10, 0.001)
    probs[4] = 0.991
    value, note = reading(judge(labels, probs, stroke_ratio=0.4, threshold=0.6), labels)
    assert value == "4?"
    assert "too small for the pen" in note


def test_probability_bars_cover_every_class_and_highlight_the_prediction():
    figure = probability_figure((3, 7), np.array([0.2, 0.8]))
    bars = figure["data"][0]
    assert bars["x"] == ["3", "7"]
    assert bars["marker"]["color"][1] != bars["marker"]["color"][0]


def test_maps_tile_every_class_on_one_zero_centred_scale():
    analysis = analyse(canvas_png(5), "ten-class", invert=True)
    model = load_model("ten-class")
    figure = contributions_figure(analysis)
    (trace,) = figure["data"]
    cells = grid(10)
    limit = float(np.abs(analysis.maps).max())
    axis = figure["layout"]["coloraxis"]
    assert (axis["cmin"], axis["cmax"]) == (-limit, limit)  # shared by all classes
    assert axis["colorscale"] == "RdBu"  # low red (away), high blue (towards)
    for i, (r, c) in enumerate(cells.origins):
        tile = trace["z"][r : r + SIDE, c : c + SIDE]
        np.testing.assert_array_equal(tile, analysis.maps[i])
        custom = trace["customdata"][r : r + SIDE, c : c + SIDE]
        np.testing.assert_array_equal(custom[..., 0], analysis.model_input)  # pixel value
        np.testing.assert_array_equal(custom[..., 1], model.coefficient_images()[i])  # weight
        np.testing.assert_allclose(custom[..., 0] * custom[..., 1], tile, rtol=1e-6, atol=1e-7)
    assert np.isnan(trace["z"]).sum() == trace["z"].size - 10 * SIDE * SIDE
    assert trace["z"].dtype == np.float32 and trace["customdata"].dtype == np.float32
    labels = [a["text"] for a in figure["layout"]["annotations"]]
    assert labels[5] == "<b>5</b>" and labels[3] == "3"  # the predicted digit stands out

    weights = weights_chart(model)
    # Built once, but every caller gets its own copy: Plotly pops a trace's "type" while
    # it reads a figure, and sessions drawing at the same moment shared one dict.
    weights["data"][0].pop("type")
    assert weights_chart(model)["data"][0]["type"] == "heatmap"
    (trace,) = weights["data"]
    for i, (r, c) in enumerate(cells.origins):
        tile = trace["z"][r : r + SIDE, c : c + SIDE]
        np.testing.assert_array_equal(tile, model.coefficient_images()[i])

    binary = contributions_figure(analyse(canvas_png(5), "binary-3-5", invert=True))
    assert binary["data"][0]["z"].shape == (SIDE, SIDE)
    assert binary["layout"]["annotations"][0]["text"] == "← towards 3 | towards 5 →"
    assert "towards 5" in binary["data"][0]["hovertemplate"]


def test_stages_are_one_html_block_with_every_stage():
    analysis = analyse(canvas_png(8), "ten-class", invert=True)
    block = stages_html(analysis.stages)
    assert block.count("<img ") == len(analysis.stages)
    assert block.count("data:image/png;base64,") == len(analysis.stages)
    assert "model input (" in block and "image-rendering:pixelated" in block


WARM_UP_CHECK = """
import asyncio, sys
import serve
before = [name for name in serve.WARM_MODULES if name in sys.modules]
async def start_and_stop():
    async with serve.warm_up(serve.app):
        pass
asyncio.run(start_and_stop())
after = [name for name in serve.WARM_MODULES if name in sys.modules]
print("BEFORE", *before)
print("AFTER", *after)
"""


def test_serve_runs_app_py_and_its_start_up_loads_the_modules():
    import subprocess
    import sys

    from streamlit.web.server.app_discovery import discover_asgi_app

    import serve

    serve_py = Path(__file__).resolve().parent.parent / "serve.py"
    # `streamlit run serve.py` finds the st.App, which serves app.py.
    assert discover_asgi_app(serve_py).is_asgi_app
    # A fresh interpreter: what the start-up imports, and that it never fails.
    done = subprocess.run(
        [sys.executable, "-c", WARM_UP_CHECK],
        cwd=serve_py.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert "pandas" not in lines.get("BEFORE", "") and "ui.views" not in lines.get("BEFORE", "")
    loaded = set(lines["AFTER"].split())
    # The canvas registers itself with the running server, which this process has not:
    # the browser tests check that the real start-up loads it too.
    assert loaded >= set(serve.WARM_MODULES) - {"streamlit_drawable_canvas"}
    assert {"pandas", "pyarrow", "ui.views"} <= loaded  # what the first session waited for
    assert "modules loaded in" in done.stdout


# ------------------------------------------------------------------ examples


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_each_example_photo_is_read_right_by_the_shipped_model(example):
    data = example.png()
    assert data == example.png()  # drawn the same every time
    analysis = analyse(data, "ten-class")
    assert analysis.predicted == example.digit
    assert analysis.verdict.sure, f"{example.name}: {reading(analysis.verdict, analysis.labels)}"


def test_upload_page_shows_an_example_in_one_click_and_an_upload_replaces_it():
    at = _open_upload_page()
    names = [example.label for example in EXAMPLES]
    assert [b.label for b in at.button if b.key.startswith("example-")] == names
    assert len(at.get("image")) == len(names)  # the thumbnails
    for example in EXAMPLES:
        at.button(key=f"example-{example.name}").click().run()
        assert not at.exception
        assert metric_value(at) == str(example.digit)
        assert any(example.name.lower() in c.value for c in at.caption)
    at.file_uploader[0].set_value(("four.png", photo(4), "image/png")).run()
    assert not at.exception
    assert metric_value(at) == "4"
