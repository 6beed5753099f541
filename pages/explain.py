"""The explanation view shared by the Draw and Upload pages, and the model picker.

One way to do each thing: both pages hand an image (PNG/JPEG/... bytes) to
:func:`analyse`, then call :func:`show_prediction` and :func:`show_explanation`.
Everything here that is pure is cached: models once per process
(``st.cache_resource``, shared read-only), analyses and the static parts of the
figures with ``st.cache_data`` (a copy per call: Plotly edits the dicts it is given).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from core.errors import DigitLensError, ModelError
from core.model import DigitModel, binary_name, load_model, user_model_names, user_models_dir
from core.preprocess import PreprocessOptions, preprocess, to_png
from core.storage import DigitStore, default_db_path
from core.verdict import Verdict, judge, sure_probability

SIDE = 28
STAGE_WIDTH = 88  # display width of each preprocessing stage, px
HIGHLIGHT = "#1c83e1"  # a mid blue that reads on light and dark backgrounds
MUTED = "rgba(128, 128, 128, 0.45)"
TEN_CLASS = "ten-class"
KIND_TEN = "Ten digits (0-9)"
KIND_PAIR = "Two digits"
MODEL_KEY = "model_name"  # session state: the active model's name

# Tiling of the maps figures: the weights and the contributions share one layout.
GAP_COL = 4  # between class columns, in pixels of the 28×28 grid
GAP_ROW = 10  # between class rows: room for the labels, even on a phone
TILE_COLUMNS = 5
MAPS_HEIGHT = 340  # px, the weights and contributions figures


# ----------------------------------------------------------------- models

KIND_SAVED = "Saved models"
KIND_SESSION = "Trained in this session"
SESSION_MODELS = "session_models"  # session state: {key: DigitModel} of models not shipped
SESSION_LABELS = "session_model_labels"  # session state: {key: label shown for it}
SESSION_ACTIVE = "session_model_key"  # session state: the key use_model made active
PENDING_KIND = "model_kind_pending"  # session state: the picker's kind to show on the next run
MAX_SESSION_MODELS = 4


@st.cache_resource(show_spinner=False)
def get_model(name: str) -> DigitModel:
    """A shipped model, loaded once per process and shared by every session."""
    return load_model(name)


@st.cache_resource(max_entries=16, show_spinner=False)
def _saved_model(name: str, stamp: tuple[int, int]) -> DigitModel:
    """A saved model as it is on disk now: ``stamp`` (the card's mtime, inode) keys each version."""
    return load_model(name)


def remember_model(model: DigitModel, label: str) -> str:
    """Keep a model that is not shipped in this session; return the key it is known by.

    The key carries the model's fingerprint, so the process-wide caches of
    analyses and figures, keyed by it, never mix two models that share a label.
    """
    key = f"{label}@{model.fingerprint[:16]}"
    models = st.session_state.setdefault(SESSION_MODELS, {})
    labels = st.session_state.setdefault(SESSION_LABELS, {})
    models[key], labels[key] = model, label
    keep = {key, st.session_state.get(SESSION_ACTIVE), st.session_state.get(MODEL_KEY)}
    for old in [k for k in models if k not in keep][: max(0, len(models) - MAX_SESSION_MODELS)]:
        del models[old], labels[old]
    return key


def lookup_model(key: str) -> DigitModel:
    """The model behind a key from :func:`active_model_name`: this session's, or shipped."""
    session_model = st.session_state.get(SESSION_MODELS, {}).get(key)
    return session_model if session_model is not None else get_model(key)


def model_label(key: str) -> str:
    """What to call the model with this key: its shipped name or the label it was given."""
    return st.session_state.get(SESSION_LABELS, {}).get(key, key)


def use_model(model: DigitModel, label: str) -> None:
    """Make an in-memory model the active model of this session.

    The sidebar shows it as "Trained in this session" and every page uses it,
    for this session only (session state, never a shared cache). Call it from a
    widget's callback (``on_click``) so that the sidebar shows it on the run
    that follows; called in the page's body, follow it with ``st.rerun()``.

    Parameters
    ----------
    model : DigitModel
    label : str
        Shown in the sidebar, e.g. ``"ten-class, saga, C=1"``.
    """
    key = remember_model(model, label)
    st.session_state[SESSION_ACTIVE] = key
    st.session_state[MODEL_KEY] = key
    st.session_state[PENDING_KIND] = KIND_SESSION


def model_sidebar() -> str:
    """The model picker in the sidebar; stores and returns the active model's key."""
    saved = user_model_names()
    session_key = st.session_state.get(SESSION_ACTIVE)
    if session_key not in st.session_state.get(SESSION_MODELS, {}):
        session_key = None
    kinds = [KIND_TEN, KIND_PAIR] + [KIND_SAVED] * bool(saved) + [KIND_SESSION] * bool(session_key)
    pending = st.session_state.pop(PENDING_KIND, None)
    if pending in kinds:
        st.session_state["model_kind"] = pending
    elif st.session_state.get("model_kind", KIND_TEN) not in kinds:
        st.session_state["model_kind"] = KIND_TEN
    with st.sidebar:
        st.subheader("Model")
        kind = st.radio(
            "Model",
            kinds,
            key="model_kind",
            label_visibility="collapsed",
            help="Logistic regression over the 784 pixels: softmax over ten digits, "
            "or a sigmoid that tells two digits apart.",
        )
        if kind == KIND_PAIR:
            left, right = st.columns(2)
            first = left.selectbox("First digit", range(10), index=0, key="pair_first")
            others = [d for d in range(10) if d != first]
            if st.session_state.get("pair_second") == first:
                st.session_state["pair_second"] = others[0]
            second = right.selectbox("Second digit", others, index=0, key="pair_second")
            name = binary_name(first, second)
        elif kind == KIND_SAVED:
            choice = st.selectbox("Saved model", saved, key="saved_model")
            name = _pick_saved(choice)
        elif kind == KIND_SESSION:
            name = session_key
        else:
            name = TEN_CLASS
        st.caption(model_summary(lookup_model(name), model_label(name)))
    st.session_state[MODEL_KEY] = name
    return name


def _pick_saved(name: str) -> str:
    """Load a saved model (again if its file changed) and return its session key."""
    try:
        card = (user_models_dir() / f"{name}.json").stat()
        model = _saved_model(name, (card.st_mtime_ns, card.st_ino))
    except (OSError, ModelError) as error:
        st.error(f"cannot load saved model {name}: {error}", icon=":material/error:")
        return TEN_CLASS
    return remember_model(model, name)


def active_model_name() -> str:
    """The key of the model chosen in the sidebar (ten-class until the sidebar has run).

    A shipped model's name, or ``label@fingerprint`` for a saved or trained one.
    """
    return st.session_state.get(MODEL_KEY, TEN_CLASS)


def active_model() -> DigitModel:
    """The model chosen in the sidebar or made active by :func:`use_model`."""
    return lookup_model(active_model_name())


TRANSFORM_WORDS = {"none": "", "deskew": "deskewed", "deskew+soften": "deskewed, softened"}


def transform_words(transform: str) -> str:
    """What a model's input transform did, in words ("" for none)."""
    return TRANSFORM_WORDS.get(transform, transform)


def class_names(model: DigitModel) -> list[str]:
    """How to call each class: its digit, or "not d" for the rest of a one-vs-rest model."""
    names = model.card.get("class_names", {})
    return [str(names.get(str(int(c)), int(c))) for c in model.classes_]


def model_summary(model: DigitModel, label: str | None = None) -> str:
    """One line about a model: what it tells apart and how well it did on MNIST's test set."""
    card = model.card
    accuracy = card.get("test", {}).get("accuracy")
    names = class_names(model)
    what = f"{names[0]} or {names[1]}" if model.is_binary else "any digit 0-9"
    seen = f", input {how}" if (how := transform_words(model.input_transform)) else ""
    score = f"; {accuracy:.1%} right on MNIST's test digits" if accuracy is not None else ""
    return f"`{label or model.name}`: reads {what}{seen}{score}."


# --------------------------------------------------------------- analysis


@dataclass(frozen=True)
class Analysis:
    """Everything the explanation view shows about one image and one model."""

    model_name: str
    is_blank: bool
    stages: tuple[tuple[str, np.ndarray], ...]  # (label, uint8 image) from raw to model input
    classes: tuple[int, ...]  # the model's classes, in the order of probs
    probs: np.ndarray  # (n_classes,)
    maps: np.ndarray  # (k, 28, 28) pixel × weight on the model's input
    intercepts: np.ndarray  # (k,)
    logits: np.ndarray  # (k,)
    scored: tuple[int, ...]  # the class each map row scores
    model_input: np.ndarray  # (28, 28) float32
    names: tuple[str, ...] = ()  # what to call each class ("not 2" for the rest); () = digits
    stroke_ratio: float = 0.0  # the input's stroke width / size (Preprocessed.stroke_ratio)
    sure_probability: float = 0.6  # the model's threshold (core.verdict.sure_probability)

    @property
    def verdict(self) -> Verdict:
        """Sure or not, and why (:func:`core.verdict.judge`): the same as ``classify --json``."""
        return judge(self.labels, self.probs, self.stroke_ratio, self.sure_probability)

    @property
    def predicted(self) -> int:
        return self.classes[int(np.argmax(self.probs))]

    @property
    def labels(self) -> tuple[str, ...]:
        """Each class as the user reads it: the digit, or "not 2" for the rest of a 2."""
        return self.names or tuple(str(c) for c in self.classes)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _square(image: np.ndarray) -> np.ndarray:
    """Pad with black to a square, centred, so that the stages line up side by side."""
    height, width = image.shape
    side = max(height, width)
    if height == width:
        return image
    out = np.zeros((side, side), image.dtype)
    top, left = (side - height) // 2, (side - width) // 2
    out[top : top + height, left : left + width] = image
    return out


@st.cache_data(max_entries=256, show_spinner=False)
def analyse(
    data: bytes,
    model_name: str,
    invert: bool | None = None,
    contrast: float | None = None,
    crop: tuple[float, float, float, float] | None = None,
) -> Analysis:
    """Preprocess an encoded image and explain the model's reading of it.

    Raises
    ------
    core.errors.ImageError
        If the bytes are not a readable image (not cached: the next call retries).
    """
    result = preprocess(data, PreprocessOptions(invert=invert, contrast=contrast, crop=crop))
    stages = tuple((stage.name, _square(_as_uint8(stage.image))) for stage in result.stages)
    return _explain(result.pixels, model_name, stages, result.is_blank, result.stroke_ratio)


@st.cache_data(max_entries=64, show_spinner=False)
def analyse_pixels(pixels: np.ndarray, model_name: str, source: str) -> Analysis:
    """Explain the model's reading of an image already in MNIST format (e.g. a test digit).

    Parameters
    ----------
    pixels : numpy.ndarray
        (28, 28), uint8 as in the MNIST files or float in [0, 1]; no preprocessing.
    model_name : str
        A key from :func:`active_model_name`.
    source : str
        Caption of the first stage, e.g. ``"MNIST test digit 1234"``.
    """
    pixels = np.asarray(pixels)
    image = pixels.astype(np.float32) / 255.0 if pixels.dtype == np.uint8 else pixels
    image = np.asarray(image, dtype=np.float32)
    return _explain(image, model_name, ((source, _as_uint8(image)),), not image.any())


def _explain(
    pixels: np.ndarray,
    model_name: str,
    stages: tuple,
    is_blank: bool,
    stroke_ratio: float = 0.0,
) -> Analysis:
    """The model's reading of a 28×28 image in [0, 1], after the given stages."""
    model = lookup_model(model_name)
    contributions = model.contributions(pixels)
    how = transform_words(model.input_transform)
    last = f"model input ({how})" if how else "model input"
    probs = model.predict_proba(pixels[None])[0]
    return Analysis(
        model_name=model_name,
        is_blank=is_blank,
        stages=(*stages, (last, _as_uint8(contributions.model_input))),
        classes=tuple(int(c) for c in model.classes_),
        probs=probs.astype(np.float64),
        maps=np.asarray(contributions.maps, dtype=np.float32),
        intercepts=np.asarray(contributions.intercepts, dtype=np.float64),
        logits=np.asarray(contributions.logits, dtype=np.float64),
        scored=contributions.classes,
        model_input=np.asarray(contributions.model_input, dtype=np.float32),
        names=tuple(class_names(model)),
        stroke_ratio=stroke_ratio,
        sure_probability=sure_probability(model.card),
    )


def reading(verdict: Verdict, labels: tuple[str, ...]) -> tuple[str, str]:
    """The Prediction metric's value and the line under it.

    ``("7", "93% sure")``, or when the verdict is not sure ``("7?", "not sure: two
    digits are close: 7 or 9 (48% vs 40%)")`` and the like, with its reason.
    """
    best = labels[verdict.best]
    if verdict.sure:
        return best, f"{verdict.probability:.0%} sure"
    runner = f"{labels[verdict.runner_up]} {verdict.runner_up_probability:.0%}"
    return f"{best}?", f"not sure: {verdict.why} ({best} {verdict.probability:.0%}, {runner})"


# ---------------------------------------------------------------- figures


def probability_figure(classes: tuple, probs: np.ndarray) -> dict:
    """Bars of every class's probability, the predicted one highlighted."""
    best = int(np.argmax(probs))
    colours = [HIGHLIGHT if i == best else MUTED for i in range(len(classes))]
    return {
        "data": [
            {
                "type": "bar",
                "x": [str(c) for c in classes],
                "y": [float(p) for p in probs],
                "marker": {"color": colours},
                "text": [f"{p:.0%}" if p >= 0.005 else "" for p in probs],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "digit %{x}: %{y:.1%}<extra></extra>",
            }
        ],
        "layout": {
            "height": 230,
            "margin": {"l": 8, "r": 8, "t": 24, "b": 8},
            "xaxis": {"type": "category", "title": {"text": ""}, "fixedrange": True},
            "yaxis": {
                "range": [0, 1.12],
                "tickformat": ".0%",
                "fixedrange": True,
                "dtick": 0.25,
            },
            "showlegend": False,
            "bargap": 0.25,
        },
    }


@dataclass(frozen=True)
class _Grid:
    """Where each class's 28×28 tile goes in a maps figure (the same for weights and maps)."""

    height: int
    width: int
    origins: tuple[tuple[int, int], ...]  # (row, col) of each class's tile

    def paste(self, tiles: np.ndarray) -> np.ndarray:
        """(k, 28, 28) tiles → one (height, width) float32 image, NaN between tiles."""
        out = np.full((self.height, self.width), np.nan, np.float32)
        for tile, (r, c) in zip(tiles, self.origins, strict=True):
            out[r : r + SIDE, c : c + SIDE] = tile
        return out


def grid(k: int) -> _Grid:
    """Up to five tiles a row."""
    columns = min(TILE_COLUMNS, k)
    rows = -(-k // columns)
    origins = tuple(
        ((i // columns) * (SIDE + GAP_ROW), (i % columns) * (SIDE + GAP_COL)) for i in range(k)
    )
    return _Grid(
        rows * SIDE + (rows - 1) * GAP_ROW, columns * SIDE + (columns - 1) * GAP_COL, origins
    )


def _heatmap_layout(cells: _Grid, height: int, colourbar_title: str, limit: float) -> dict:
    return {
        "height": height,
        "margin": {"l": 4, "r": 4, "t": 24, "b": 48},
        "xaxis": {"visible": False, "fixedrange": True, "constrain": "domain"},
        "yaxis": {
            "visible": False,
            "autorange": "reversed",
            "scaleanchor": "x",
            "fixedrange": True,
            "constrain": "domain",
        },
        "coloraxis": {
            "colorscale": "RdBu",  # red (negative: away) to blue (positive: towards)
            "cmin": -limit,
            "cmax": limit,
            "colorbar": {  # below the tiles: on a phone the width is for the tiles
                "orientation": "h",
                "thickness": 10,
                "len": 0.6,
                "y": -0.02,
                "yanchor": "top",
                "title": {"text": colourbar_title, "side": "right"},
                "tickvals": [-limit, 0, limit],
                "ticktext": [f"−{limit:.2g}", "0", f"+{limit:.2g}"],
            },
        },
        "showlegend": False,
    }


def _labels(cells: _Grid, texts: list[str], strong: int | None = None) -> list[dict]:
    return [
        _label(c + SIDE / 2 - 0.5, r - 0.8, text, strong=i == strong)
        for i, ((r, c), text) in enumerate(zip(cells.origins, texts, strict=True))
    ]


def _class_labels(model: DigitModel) -> list[str]:
    if model.is_binary:
        a, b = class_names(model)
        return [f"← towards {a} | towards {b} →"]
    return [str(int(c)) for c in model.classes_]


@st.cache_data(max_entries=64, show_spinner=False)
def weights_figure(model_name: str) -> dict:
    """The model's weights, one tile per class: the same for every drawing, built once.

    ``st.cache_data``, not ``cache_resource``: every call gets its own copy, because
    Plotly edits a figure dict while reading it (it pops each trace's ``type``), and a
    dict shared by sessions drawing at once turned into a scatter plot under load.
    Streamlit still sends an unchanged chart only once.
    """
    model = lookup_model(model_name)
    coefs = model.coefficient_images()
    cells = grid(len(coefs))
    limit = float(np.abs(coefs).max()) or 1.0
    if model.is_binary:
        a, b = class_names(model)
        hover = f"weight %{{z:.3f}} (+ towards {b}, − towards {a})"
    else:
        hover = "weight %{z:.3f}"
    z = cells.paste(coefs)
    z.setflags(write=False)
    layout = _heatmap_layout(cells, MAPS_HEIGHT, "weight", limit)
    layout["annotations"] = _labels(cells, _class_labels(model))
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "coloraxis": "coloraxis",
                "hoverongaps": False,
                "hovertemplate": f"{hover}<extra></extra>",
            }
        ],
        "layout": layout,
    }


def contributions_figure(analysis: Analysis) -> dict:
    """Pixel × weight for every class on one diverging scale centred on zero.

    Blue pushes towards the class, red away; hover shows the pixel's value, its
    weight and their product. Kept small: one heatmap trace, float32 arrays.
    """
    model = lookup_model(analysis.model_name)
    k = len(analysis.maps)
    cells = grid(k)
    z = cells.paste(analysis.maps)
    custom = np.stack(
        [
            cells.paste(np.broadcast_to(analysis.model_input, (k, SIDE, SIDE))),
            cells.paste(model.coefficient_images()),
        ],
        axis=-1,
    )
    limit = float(np.abs(analysis.maps).max()) or 1.0
    if model.is_binary:
        a, b = analysis.labels
        what = f"contribution %{{z:.3f}} (+ towards {b}, − towards {a})"
        strong = None
    else:
        what = "contribution %{z:.3f}"
        strong = analysis.scored.index(analysis.predicted)
    layout = _heatmap_layout(cells, MAPS_HEIGHT, "pixel × weight", limit)
    layout["annotations"] = _labels(cells, _class_labels(model), strong)
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "customdata": custom,
                "coloraxis": "coloraxis",
                "hoverongaps": False,
                "hovertemplate": "pixel %{customdata[0]:.2f} × "
                f"weight %{{customdata[1]:.3f}}<br>= {what}<extra></extra>",
            }
        ],
        "layout": layout,
    }


def _label(x: float, y: float, text: str, strong: bool = False) -> dict:
    """A label above a tile; the predicted class's in bold and the highlight colour."""
    font = {"size": 15, "color": HIGHLIGHT} if strong else {"size": 13}
    return {
        "x": x,
        "y": y,
        "text": f"<b>{text}</b>" if strong else text,
        "showarrow": False,
        "xref": "x",
        "yref": "y",
        "yanchor": "bottom",
        "font": font,
    }


def logit_rows(analysis: Analysis) -> list[dict[str, str]]:
    """The small table: intercept + sum of contributions = logit, per scored class."""
    rows = []
    binary = len(analysis.classes) == 2
    for i, digit in enumerate(analysis.labels[1:] if binary else analysis.labels):
        total = float(analysis.maps[i].sum(dtype=np.float64))
        row = {
            "digit": f"{digit} vs {analysis.labels[0]}" if binary else digit,
            "intercept": f"{analysis.intercepts[i]:+.2f}",
            "Σ pixel × weight": f"{total:+.2f}",
            "logit": f"{analysis.logits[i]:+.2f}",
        }
        if binary:
            row[f"P({digit})"] = f"{analysis.probs[1]:.1%}"
        else:
            row["P"] = f"{analysis.probs[i]:.1%}"
        rows.append(row)
    return rows


# ------------------------------------------------------------------- view


def has_strokes(json_data: dict | None) -> bool:
    """True when the drawing canvas holds at least one drawn object."""
    return bool((json_data or {}).get("objects"))


HINT_DRAW = "Draw a digit in the black box: the prediction appears after every stroke."


def show_prediction(analysis: Analysis) -> None:
    """The Prediction metric, the unsure note and the probability bars."""
    value, note = reading(analysis.verdict, analysis.labels)
    st.metric(
        "Prediction",
        value,
        help=f"Shown as sure when the calibrated probability is at least "
        f"{analysis.sure_probability:.0%} and the drawing is not too small for its pen; "
        "a linear model's high probability on a strange input is no knowledge.",
    )
    st.caption(note)
    if len(analysis.classes) == 2:
        a, b = analysis.labels
        st.caption(
            f"This model only knows {a} and {b}: whatever you show it, it answers one of the two."
        )
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
    if binary:
        a, b = analysis.labels
        st.caption(
            f"Left: the model's weight for each pixel. Right: your pixels × those weights. "
            f"Blue pushes towards {b}, red towards {a}; the sum decides. "
            "Hover a pixel for its value, weight and contribution."
        )
        left, right = st.columns(2)
        left.plotly_chart(weights_figure(analysis.model_name), config=config, key="weights")
        right.plotly_chart(contributions_figure(analysis), config=config, key="maps")
    else:
        st.caption(
            "What each digit looks for: the model's weight for every pixel "
            "(blue: ink here counts for the digit, red: against it)."
        )
        st.plotly_chart(weights_figure(analysis.model_name), config=config, key="weights")
        st.caption(
            "Your pixels × those weights, on one colour scale for all digits: blue pushes "
            "towards that digit, red away from it. Hover a pixel for its value, weight and "
            "contribution."
        )
        st.plotly_chart(contributions_figure(analysis), config=config, key="maps")
    temperature = lookup_model(analysis.model_name).temperature
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


def confusion_figure(figures: dict, names: list[str], normalised: bool) -> dict:
    """Confusion matrix heatmap, rows true and columns predicted; counts or row shares."""
    counts = np.asarray(figures["confusion"], dtype=np.float64)
    if normalised:
        totals = counts.sum(axis=1, keepdims=True)
        z = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        text = [[f"{v:.1%}" if v >= 0.0005 else "" for v in row] for row in z]
        hover = "true %{y}, read as %{x}: %{z:.2%} of the true %{y}s<extra></extra>"
    else:
        z = counts
        text = [[f"{int(v)}" if v else "" for v in row] for row in z]
        hover = "true %{y}, read as %{x}: %{z:.0f}<extra></extra>"
    # Log-like colouring would hide the diagonal's size; a square root keeps the errors visible.
    shown = np.sqrt(z / z.max()) if z.max() > 0 else z
    return {
        "data": [
            {
                "type": "heatmap",
                "z": shown.tolist(),
                "customdata": z.tolist(),
                "x": names,
                "y": names,
                "text": text,
                "texttemplate": "%{text}",
                "colorscale": "Blues",
                "showscale": False,
                "hovertemplate": hover.replace("%{z", "%{customdata"),
            }
        ],
        "layout": {
            "height": 420 if len(names) > 2 else 260,
            "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
            "xaxis": {"type": "category", "title": {"text": "read as"}, "side": "top"},
            "yaxis": {"type": "category", "title": {"text": "true"}, "autorange": "reversed"},
        },
    }


# --------------------------------------------------------------- saving digits

SAVED_INPUTS = "saved_inputs"  # session state: {digest of an input: id of its saved digit}
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


def mnist_image(analysis: Analysis) -> np.ndarray:
    """The 28×28 MNIST-format image (uint8) that preprocessing made and the model was given.

    It is the stage before the last: the last is the model's own input transform.
    """
    return analysis.stages[-2][1]


def save_feedback(analysis: Analysis, raw: bytes, label: int) -> None:
    """Save the input with its true label (a callback); the same input again is relabelled."""
    pixels = mnist_image(analysis)
    digest = hashlib.blake2b(raw + pixels.tobytes(), digest_size=16).hexdigest()
    try:
        raw = to_png(raw)  # My digits keeps every input as a PNG: a photo becomes lossless PNG
    except DigitLensError:
        raw = b""  # cannot happen for an input the analysis read; keep the 28×28 regardless
    saved = st.session_state.setdefault(SAVED_INPUTS, {})
    try:
        store = digit_store()
        if digest in saved and store.relabel([saved[digest]], label):
            note = f"Saved #{saved[digest]} again, now as a {label}."
        else:
            saved[digest] = store.add(
                label,
                pixels,
                raw=raw if 0 < len(raw) <= MAX_RAW_BYTES else None,
                predicted=analysis.predicted if analysis.predicted >= 0 else None,
                model=model_label(analysis.model_name),
            )
            note = f"Saved as a {label} (#{saved[digest]}): see My digits."
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
