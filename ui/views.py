"""What the Draw, Upload, Model explorer and My digits pages share: the explanation view.

Both input pages hand an image (PNG/JPEG/... bytes) to :func:`analyse`, then
call :func:`show_prediction`, :func:`feedback_buttons` (save to My digits) and
:func:`show_explanation`. The analysis itself is :mod:`core.explain`; the
figures are :mod:`ui.figures`. Cached functions receive the model they depend
on (hashed by its fingerprint), never a session's state: ``st.cache_data``
hands every call its own copy (Plotly edits the dicts it is given).
"""

from __future__ import annotations

import base64
import html
import io
import time

import numpy as np
import streamlit as st
from PIL import Image

from core.errors import DigitLensError
from core.examples import EXAMPLES
from core.explain import (
    Analysis,
    Contrast,
    analyse_image,
    analyse_mnist,
    contrast,
    default_pair,
    logit_rows,
    mnist_image,
    reading,
)
from core.imagefile import to_png
from core.model import DigitModel
from core.preprocess import PreprocessOptions
from core.storage import DigitStore, default_db_path
from ui.figures import (
    contrast_figure,
    contributions_figure,
    probability_figure,
    weights_figure,
    zero_weights_figure,
)
from ui.session import lookup_model, model_label

STAGE_WIDTH = 88  # display width of each preprocessing stage, px
PAINT_PAUSE = 0.04  # s between the Prediction and its chart, see show_prediction
# A model is known to the caches by its fingerprint: two models that answer alike share.
BY_FINGERPRINT = {DigitModel: lambda model: model.fingerprint}


@st.cache_data(max_entries=256, show_spinner=False, hash_funcs=BY_FINGERPRINT)
def _analyse(
    data: bytes,
    model: DigitModel,
    model_name: str,
    invert: bool | None,
    contrast: float | None,
    crop: tuple[float, float, float, float] | None,
) -> Analysis:
    options = PreprocessOptions(invert=invert, contrast=contrast, crop=crop)
    return analyse_image(data, model, model_name, options)


def analyse(
    data: bytes,
    model_name: str,
    invert: bool | None = None,
    contrast: float | None = None,
    crop: tuple[float, float, float, float] | None = None,
) -> Analysis:
    """Preprocess an encoded image and explain the model's reading of it (cached).

    Parameters
    ----------
    data : bytes
    model_name : str
        A key from :func:`ui.session.active_model_name`.
    invert, contrast, crop
        Manual overrides, as in :class:`core.preprocess.PreprocessOptions`.

    Raises
    ------
    core.errors.ImageError
        If the bytes are not a readable image (not cached: the next call retries).
    """
    return _analyse(data, lookup_model(model_name), model_name, invert, contrast, crop)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_FINGERPRINT)
def _analyse_mnist(pixels: np.ndarray, model: DigitModel, model_name: str, source: str) -> Analysis:
    return analyse_mnist(pixels, model, model_name, source)


def analyse_pixels(pixels: np.ndarray, model_name: str, source: str) -> Analysis:
    """Explain the model's reading of an image already in MNIST format (cached).

    See :func:`core.explain.analyse_mnist`; ``model_name`` is a key from
    :func:`ui.session.active_model_name`.
    """
    return _analyse_mnist(pixels, lookup_model(model_name), model_name, source)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_FINGERPRINT)
def weights_chart(model: DigitModel) -> dict:
    """:func:`ui.figures.weights_figure`, built once per model (a copy per call)."""
    return weights_figure(model)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=BY_FINGERPRINT)
def zero_weights_chart(model: DigitModel) -> dict:
    """:func:`ui.figures.zero_weights_figure`, built once per model (a copy per call)."""
    return zero_weights_figure(model)


@st.cache_data(show_spinner=False)
def example_photos() -> dict[str, bytes]:
    """The Upload page's example photos (:data:`core.examples.EXAMPLES`), drawn once: name → PNG."""
    return {example.name: example.png() for example in EXAMPLES}


EXAMPLE_LABELS = {example.name: example.label for example in EXAMPLES}


# ------------------------------------------------------------------- view


def has_strokes(json_data: dict | None) -> bool:
    """True when the drawing canvas holds at least one drawn object."""
    return bool((json_data or {}).get("objects"))


HINT_DRAW = "Draw a digit in the black box: the prediction appears after every stroke."

WARM_UP = "warm-up"  # key of the hidden container of warm_up_elements (CSS class st-key-warm-up)
WARM_UP_READY = "warm_up_ready"  # session state: the page has settled, the warm-up may load
RESULT_SHOWN = "result_shown"  # session state: a Prediction was shown (its page's code is loaded)
CHART_SHOWN = "chart_shown"  # session state: (model, probabilities) the chart last showed
# A tiny figure with the two kinds of trace the result shows: bars and a heatmap.
WARM_UP_FIGURE = {
    "data": [
        {"type": "bar", "x": ["0"], "y": [0.0]},
        {"type": "heatmap", "z": [[0.0, 1.0], [1.0, 0.0]], "showscale": False},
    ],
    "layout": {"height": 60, "width": 60, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}},
}
# Says once when the browser is idle with an element matching data.selector on the page
# (looked for in open shadow roots too: the drawing canvas is in one).
_IDLE_JS = """
export default function ({ data, setTriggerValue }) {
    let done = false, timer = null, idle = null;
    const has = (root) => !!root.querySelector(data.selector)
        || [...root.querySelectorAll('*')].some((el) => el.shadowRoot && has(el.shadowRoot));
    const fire = () => { if (!done) { done = true; setTriggerValue('idle', true); } };
    const check = () => {
        if (done) return;
        if (!has(document)) { timer = setTimeout(check, 100); return; }
        if (window.requestIdleCallback) idle = requestIdleCallback(fire, { timeout: 2000 });
        else timer = setTimeout(fire, 200);
    };
    check();
    return () => {
        done = true;
        clearTimeout(timer);
        if (idle !== null) cancelIdleCallback(idle);
    };
}
"""
_when_idle = st.components.v2.component("digit_lens_when_idle", js=_IDLE_JS)


def _warm_up_ready() -> None:
    st.session_state[WARM_UP_READY] = True


def warm_up_elements(after: str) -> None:
    """One of each kind of element a first result shows, hidden, for the browser to load early.

    Does nothing once this session has shown a result (:func:`show_prediction`).

    Streamlit's frontend fetches and compiles an element kind's code the first time
    the page shows one: Plotly's 4.7 MB chunk (one to several seconds of the main
    thread on a busy 2-core machine), the Arrow table's, the metric's, the pills'.
    Met first with the first result, they held its Prediction back by about a second
    (``bench/bench_app_latency.py``). Called while the page waits for its first
    input, this loads them while the visitor reads it: not at once, which would
    hold back the page itself, but once an element matching the CSS selector
    ``after`` is on the page and the browser is idle (it says so with a rerun).
    The container is out of the layout and invisible and inert (``visibility:
    hidden``: no pointer, no focus, no screen reader); its chart is drawn, so
    Plotly's first plot is done too.
    """
    if st.session_state.get(RESULT_SHOWN):
        return
    st.html(
        f"<style>.st-key-{WARM_UP} {{position: absolute; visibility: hidden; "
        "pointer-events: none; height: 0; overflow: hidden}</style>"
    )
    with st.container(key=WARM_UP):
        if not st.session_state.get(WARM_UP_READY):
            _when_idle(
                key="warm_up_when_idle", data={"selector": after}, on_idle_change=_warm_up_ready
            )
            return
        st.metric("warm-up", "0")
        st.plotly_chart(WARM_UP_FIGURE, config={"displayModeBar": False}, key="warm_up_chart")
        st.pills("warm-up", [0], key="warm_up_pills", disabled=True)
        st.table([{"warm-up": "0"}], hide_index=True, width="content")
        st.html("<span></span>")


def show_prediction(analysis: Analysis) -> None:
    """The Prediction metric, the unsure note and the probability bars."""
    st.session_state[RESULT_SHOWN] = True
    value, note = reading(analysis.verdict, analysis.labels)
    bar = analysis.lost_loop_probability
    loops = ""
    if bar is not None and bar > analysis.sure_probability:
        loops = f", {bar:.0%} when a loop of the drawing is lost at 28×28,"
    st.metric(
        "Prediction",
        value,
        help=f"Shown as sure when the calibrated probability is at least "
        f"{analysis.sure_probability:.0%}{loops} and the drawing is not too small for its pen "
        "(nor has two loops, unless read as 8); a linear model's high probability on a "
        "strange input is no knowledge.",
    )
    st.caption(note)
    if len(analysis.classes) == 2:
        a, b = analysis.labels
        st.caption(
            f"This model only knows {a} and {b}: whatever you show it, it answers one of the two."
        )
    # The browser paints the metric in the same frame as the chart's render (a long
    # task) when the chart arrives right behind it: give it a frame or two first. A
    # rerun that leaves the chart as it was (a moved slider) renders nothing: no pause.
    shown = (analysis.model_name, analysis.probs.tobytes())
    if st.session_state.get(CHART_SHOWN) != shown:
        st.session_state[CHART_SHOWN] = shown
        time.sleep(PAINT_PAUSE)
    st.plotly_chart(
        probability_figure(analysis.labels, analysis.probs),
        config={"displayModeBar": False},
        key="probabilities",
    )


def stages_html(stages: tuple[tuple[str, np.ndarray], ...]) -> str:
    """The preprocessing stages side by side: one HTML block, images inline.

    Small PNGs as data URIs (no extra requests), scaled up by the browser with
    crisp pixels; captions in the theme's text colour.
    """
    figures = []
    for name, image in stages:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "PNG", compress_level=1)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        figures.append(
            f'<figure style="margin:0;width:{STAGE_WIDTH}px;text-align:center">'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(name)}" '
            f'width="{STAGE_WIDTH}" height="{STAGE_WIDTH}" '
            'style="image-rendering:pixelated;border-radius:4px;display:block">'
            f'<figcaption style="font-size:0.8rem;opacity:0.7;line-height:1.2;margin-top:4px">'
            f"{html.escape(name)}</figcaption></figure>"
        )
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(figures)}</div>'


def show_explanation(analysis: Analysis) -> None:
    """Preprocessing stages, then the weight and contribution maps with the logit table."""
    st.subheader("What the model saw")
    st.html(stages_html(analysis.stages))

    st.subheader("Why")
    binary = len(analysis.classes) == 2
    config = {"displayModeBar": False}
    weights = weights_chart(lookup_model(analysis.model_name))
    if binary:
        a, b = analysis.labels
        st.caption(
            f"Left: the model's weight for each pixel. Right: your pixels × those weights. "
            f"Blue pushes towards {b}, red towards {a}; the sum decides. "
            "Hover a pixel for its value, weight and contribution."
        )
        left, right = st.columns(2)
        left.plotly_chart(weights, config=config, key="weights")
        right.plotly_chart(contributions_figure(analysis), config=config, key="maps")
    else:
        st.caption(
            "What each digit looks for: the model's weight for every pixel "
            "(blue: ink here counts for the digit, red: against it)."
        )
        st.plotly_chart(weights, config=config, key="weights")
        st.caption(
            "Your pixels × those weights, on one colour scale for all digits: blue pushes "
            "towards that digit, red away from it. Hover a pixel for its value, weight and "
            "contribution."
        )
        st.plotly_chart(contributions_figure(analysis), config=config, key="maps")
    temperature = analysis.temperature
    scaled = "" if temperature == 1 else f" / {temperature:.2f}"
    st.caption(
        "intercept + Σ pixel × weight = logit; "
        + (f"sigmoid(logit{scaled}) gives P" if binary else f"softmax(logits{scaled}) gives P")
        + (
            "."
            if temperature == 1
            else f": the temperature {temperature:.2f} is calibrated so that P means what it "
            "says on digits the model never saw, drawn and photographed."
        )
    )
    st.table(logit_rows(analysis), hide_index=True, width="content")
    show_contrast(analysis)


CONTRAST_OPEN = "contrast_open"  # the expander's state: its content is only built when open


def gap_equation(view: Contrast) -> str:
    """``intercept difference + Σ map = logit gap`` in numbers, as the page prints it."""
    total = float(view.map.sum())
    sign = "+" if total >= 0 else "−"
    return f"{view.intercept_gap:+.2f} {sign} {abs(total):.2f} = **{view.gap:+.2f}**"


def show_contrast(analysis: Analysis) -> None:
    """Why A and not B: pick two classes, see one map whose sum is their logit gap.

    Inside an expander whose content runs only when open, so a drawing costs
    nothing more while it is closed. The pair defaults to the prediction and the
    runner-up; a choice is kept while they stay the same.
    """
    section = st.expander(
        "Why this digit and not another? Compare two classes",
        icon=":material/compare_arrows:",
        key=CONTRAST_OPEN,
        on_change="rerun",
    )
    if not section.open:
        return
    first, second = default_pair(analysis)
    labels = dict(zip(analysis.classes, analysis.labels, strict=True))
    with section:
        pick_a, pick_b = st.columns(2)
        a = pick_a.selectbox(
            "Why",
            analysis.classes,
            index=analysis.classes.index(first),
            format_func=labels.get,
            key=f"contrast_a_{first}_{second}",
        )
        b = pick_b.selectbox(
            "and not",
            analysis.classes,
            index=analysis.classes.index(second),
            format_func=labels.get,
            key=f"contrast_b_{first}_{second}",
        )
        if a == b:
            st.info("Pick two different classes to compare.")
            return
        view = contrast(analysis, a, b)
        name_a, name_b = view.names
        st.markdown(
            f"intercept difference + Σ map = logit gap of {name_a} over {name_b}: "
            f"{gap_equation(view)}"
        )
        st.caption(
            f"The map is your pixels × (weight of {name_a} − weight of {name_b}), on the "
            f"model input: blue pushes towards {name_a}, red towards {name_b}. "
            + (
                f"A positive gap: the model prefers {name_a}"
                if view.gap >= 0
                else f"A negative gap: the model prefers {name_b}"
            )
            + (
                f"; P({name_a}) / P({name_b}) = e^(gap / {analysis.temperature:.2f})."
                if not analysis.is_binary and analysis.temperature != 1
                else "."
            )
        )
        st.plotly_chart(contrast_figure(view), config={"displayModeBar": False}, key="contrast")
        loser = name_b if view.winner == a else name_a
        st.caption(
            f"Marked: the pixels of the model input that, changed alone, move the answer "
            f"most towards {loser}; gold circles if inked (set to full ink), dark crosses "
            "if erased. Exact on the model input (the last stage above: your digit after "
            "the model's own transform, if any); a stroke on the canvas reaches it "
            "transformed, so there they are a guide."
        )


# --------------------------------------------------------------- saving digits

FEEDBACK_NOTE = "feedback_note"  # session state: (kind, text) to show after a save
FEEDBACK_PICK = "feedback_label"  # the "It was a" pills
MAX_RAW_BYTES = 10_000_000  # larger inputs are saved without their raw file (the 28×28 is kept)


@st.cache_resource(show_spinner=False)
def get_store(path: str) -> DigitStore:
    """The saved-digits database at ``path``, checked and migrated once per process.

    Shared by every session: each operation opens its own SQLite connection.
    """
    return DigitStore(path)


def digit_store() -> DigitStore:
    """This user's saved-digits database (``DIGIT_LENS_DB`` or the per-user data dir)."""
    return get_store(str(default_db_path()))


def save_feedback(analysis: Analysis, raw: bytes, label: int) -> None:
    """Save the input with its true label (a callback).

    The same input saved again, from any session, is relabelled, not doubled: the
    database keeps one row per input (:meth:`core.storage.DigitStore.save`).
    """
    try:
        raw = to_png(raw)  # My digits keeps every input as a PNG: a photo becomes lossless PNG
    except DigitLensError:
        raw = b""  # cannot happen for an input the analysis read; keep the 28×28 regardless
    try:
        digit_id, new = digit_store().save(
            label,
            mnist_image(analysis),
            raw=raw if 0 < len(raw) <= MAX_RAW_BYTES else None,
            predicted=analysis.predicted if analysis.predicted >= 0 else None,
            model=model_label(analysis.model_name),
        )
        if new:
            note = f"Saved as a {label} (#{digit_id}): see My digits."
        else:
            note = f"Saved #{digit_id} again, now as a {label}."
        st.session_state[FEEDBACK_NOTE] = ("success", note)
    except DigitLensError as error:
        st.session_state[FEEDBACK_NOTE] = ("error", f"Not saved: {error}")


def _save_picked(analysis: Analysis, raw: bytes) -> None:
    label = st.session_state.get(FEEDBACK_PICK)
    st.session_state[FEEDBACK_PICK] = None  # ready for the next digit
    if label is not None:
        save_feedback(analysis, raw, int(label))


def feedback_buttons(analysis: Analysis, raw: bytes) -> None:
    """Buttons "Correct" and "It was a …": save the input with its true label to My digits.

    Two light widgets; nothing is read or written until one is pressed (callbacks).
    """
    kind, note = st.session_state.pop(FEEDBACK_NOTE, (None, None))
    st.button(
        "Correct",
        icon=":material/check:",
        on_click=save_feedback,
        args=(analysis, raw, analysis.predicted),
        key="feedback_correct",
        disabled=analysis.predicted < 0,  # "not 3" is no label: say which digit under It was a
        help="Save this digit, labelled as read, to My digits.",
    )
    st.pills(
        "It was a",
        range(10),
        key=FEEDBACK_PICK,
        wrap=True,  # all ten reachable on a phone, not scrolled out of view
        on_change=_save_picked,
        args=(analysis, raw),
        help="Save this digit with its true label to My digits.",
    )
    if kind == "error":
        st.error(note, icon=":material/error:")
    elif note:
        st.caption(note)
