"""The explanation view shared by the Draw and Upload pages, and the model picker.

One way to do each thing: both pages hand an image (PNG/JPEG/... bytes) to
:func:`analyse`, then call :func:`show_prediction` and :func:`show_explanation`.
Everything here that is pure is cached: models once per process
(``st.cache_resource``, shared read-only), analyses and the static parts of the
figures with ``st.cache_data`` / ``st.cache_resource``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.model import DigitModel, binary_name, load_model
from core.preprocess import PreprocessOptions, preprocess

THRESHOLD = 0.6  # below this probability the prediction is shown as unsure
SIDE = 28
STAGE_WIDTH = 84  # display width of each preprocessing stage, px
HIGHLIGHT = "#1c83e1"  # a mid blue that reads on light and dark backgrounds
MUTED = "rgba(128, 128, 128, 0.45)"
TEN_CLASS = "ten-class"
KIND_TEN = "Ten digits (0-9)"
KIND_PAIR = "Two digits"
MODEL_KEY = "model_name"  # session state: the active model's name

# Tiling of the maps figure: per class, the weights above the contributions.
GAP_PAIR = 2  # between a class's weight tile and its contribution tile
GAP_COL = 4  # between class columns
GAP_ROW = 8  # between class rows
TILE_COLUMNS = 5


# ----------------------------------------------------------------- models


@st.cache_resource(show_spinner=False)
def get_model(name: str) -> DigitModel:
    """A shipped model, loaded once per process and shared by every session."""
    return load_model(name)


def model_sidebar() -> str:
    """The model picker in the sidebar; stores and returns the active model's name."""
    with st.sidebar:
        st.subheader("Model")
        kind = st.radio(
            "Model",
            [KIND_TEN, KIND_PAIR],
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
        else:
            name = TEN_CLASS
        model = get_model(name)
        st.caption(model_summary(model))
    st.session_state[MODEL_KEY] = name
    return name


def active_model_name() -> str:
    """The model chosen in the sidebar (ten-class until the sidebar has run)."""
    return st.session_state.get(MODEL_KEY, TEN_CLASS)


def model_summary(model: DigitModel) -> str:
    """One line about a model: what it tells apart and how well it did on MNIST's test set."""
    card = model.card
    accuracy = card.get("test", {}).get("accuracy")
    classes = [int(c) for c in model.classes_]
    what = f"{classes[0]} or {classes[1]}" if model.is_binary else "any digit 0-9"
    transform = model.input_transform
    seen = f", input {transform}ed" if transform not in ("none", "") else ""
    score = f"; {accuracy:.1%} right on MNIST's test digits" if accuracy is not None else ""
    return f"`{model.name}`: reads {what}{seen}{score}."


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

    @property
    def predicted(self) -> int:
        return self.classes[int(np.argmax(self.probs))]


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


def _enlarge(image: np.ndarray, width: int = 2 * STAGE_WIDTH) -> np.ndarray:
    """Square and, if small, nearest-neighbour upscaled, so that pixels stay crisp."""
    image = _square(image)
    factor = max(1, width // max(image.shape))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1) if factor > 1 else image


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
    model = get_model(model_name)
    result = preprocess(data, PreprocessOptions(invert=invert, contrast=contrast, crop=crop))
    contributions = model.contributions(result.pixels)
    transform = model.input_transform
    last = f"model input ({transform}ed)" if transform not in ("none", "") else "model input"
    stages = [(stage.name, _enlarge(_as_uint8(stage.image))) for stage in result.stages]
    stages.append((last, _enlarge(_as_uint8(contributions.model_input))))
    probs = model.predict_proba(result.pixels[None])[0]
    return Analysis(
        model_name=model_name,
        is_blank=result.is_blank,
        stages=tuple(stages),
        classes=tuple(int(c) for c in model.classes_),
        probs=probs.astype(np.float64),
        maps=np.asarray(contributions.maps, dtype=np.float32),
        intercepts=np.asarray(contributions.intercepts, dtype=np.float64),
        logits=np.asarray(contributions.logits, dtype=np.float64),
        scored=contributions.classes,
        model_input=np.asarray(contributions.model_input, dtype=np.float32),
    )


def reading(classes: tuple[int, ...], probs: np.ndarray) -> tuple[str, str]:
    """The Prediction metric's value and the line under it.

    ``("7", "93% sure")``, or below :data:`THRESHOLD` ``("7?", "not sure: 7 or 9")``.
    """
    order = np.argsort(probs)[::-1]
    best, runner = classes[order[0]], classes[order[1]]
    top = float(probs[order[0]])
    if top < THRESHOLD:
        return f"{best}?", f"not sure: {best} or {runner} ({top:.0%} vs {probs[order[1]]:.0%})"
    return str(best), f"{top:.0%} sure"


# ---------------------------------------------------------------- figures


def probability_figure(classes: tuple[int, ...], probs: np.ndarray) -> dict:
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
class _Tiles:
    """Where each class's tiles go in the maps figure, and the parts that never change."""

    height: int
    width: int
    coef_origin: tuple[tuple[int, int], ...]  # (row, col) of each class's weight tile
    map_origin: tuple[tuple[int, int], ...]  # (row, col) of each class's contribution tile
    coef_z: np.ndarray  # (height, width) float32, NaN between tiles
    coef_custom: np.ndarray  # (height, width, 3): class, row, col
    map_custom: np.ndarray  # (height, width, 5): class, row, col, pixel (to fill), weight
    coef_limit: float
    labels: tuple[str, ...]


@st.cache_resource(show_spinner=False)
def _tiles(model_name: str) -> _Tiles:
    """The static part of a model's maps figure (read-only, shared by sessions)."""
    model = get_model(model_name)
    coefs = model.coefficient_images()
    k = len(coefs)
    if k == 1:  # binary: the weights beside the contributions
        coef_origin, map_origin = ((0, 0),), ((0, SIDE + GAP_COL * 2),)
        height, width = SIDE, 2 * SIDE + GAP_COL * 2
        a, b = (int(c) for c in model.classes_)
        labels = (f"← {a} · weights · {b} →",)
    else:
        columns = min(TILE_COLUMNS, k)
        rows = -(-k // columns)
        cell_h = 2 * SIDE + GAP_PAIR
        coef_origin = tuple(
            ((i // columns) * (cell_h + GAP_ROW), (i % columns) * (SIDE + GAP_COL))
            for i in range(k)
        )
        map_origin = tuple((r + SIDE + GAP_PAIR, c) for r, c in coef_origin)
        height = rows * cell_h + (rows - 1) * GAP_ROW
        width = columns * SIDE + (columns - 1) * GAP_COL
        labels = tuple(str(int(c)) for c in model.classes_)
    coef_z = np.full((height, width), np.nan, np.float32)
    coef_custom = np.zeros((height, width, 3), np.float32)
    map_custom = np.zeros((height, width, 5), np.float32)
    rows_idx, cols_idx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    scored = model.classes_[1:] if model.is_binary else model.classes_
    for i in range(k):
        r, c = coef_origin[i]
        coef_z[r : r + SIDE, c : c + SIDE] = coefs[i]
        coef_custom[r : r + SIDE, c : c + SIDE] = np.stack(
            [np.full_like(rows_idx, scored[i]), rows_idx, cols_idx], axis=-1
        )
        r, c = map_origin[i]
        map_custom[r : r + SIDE, c : c + SIDE] = np.stack(
            [np.full_like(rows_idx, scored[i]), rows_idx, cols_idx, rows_idx * 0, coefs[i]],
            axis=-1,
        )
    for array in (coef_z, coef_custom, map_custom):
        array.setflags(write=False)
    limit = float(np.abs(coefs).max()) or 1.0
    return _Tiles(
        height, width, coef_origin, map_origin, coef_z, coef_custom, map_custom, limit, labels
    )


def maps_figure(analysis: Analysis, binary_pair: tuple[int, int] | None = None) -> dict:
    """One figure, two heatmap traces: every class's weights and pixel × weight maps.

    The contribution maps share one diverging colour scale centred on zero (blue
    pushes towards the class, red away); the weights have their own.
    """
    tiles = _tiles(analysis.model_name)
    map_z = np.full((tiles.height, tiles.width), np.nan, np.float32)
    custom = tiles.map_custom.copy()
    for i, (r, c) in enumerate(tiles.map_origin):
        map_z[r : r + SIDE, c : c + SIDE] = analysis.maps[i]
        custom[r : r + SIDE, c : c + SIDE, 3] = analysis.model_input
    limit = float(np.abs(analysis.maps).max()) or tiles.coef_limit * 0.1
    if binary_pair:
        a, b = binary_pair
        coef_hover = f"weight %{{z:.3f}} (+ towards {b}, − towards {a})"
        map_hover = f"contribution %{{z:.3f}} (+ towards {b}, − towards {a})"
        titles = ("weights", f"your pixels × weights: ← towards {a} | towards {b} →")
    else:
        coef_hover = "weight for %{customdata[0]}: %{z:.3f}"
        map_hover = "contribution to %{customdata[0]}: %{z:.3f}"
        titles = ("weight", "pixel × weight")
    where = "row %{customdata[1]}, column %{customdata[2]}"
    colourbar = {"orientation": "h", "thickness": 10, "len": 0.42, "y": -0.02, "yanchor": "top"}
    annotations = []
    if binary_pair:
        for (r, c), text in zip(
            (tiles.coef_origin[0], tiles.map_origin[0]), ("weights", "pixel × weight"), strict=True
        ):
            annotations.append(_label(c + SIDE / 2 - 0.5, r - 1.5, text))
    else:
        best = analysis.scored.index(analysis.predicted)
        for i, ((r, c), text) in enumerate(zip(tiles.coef_origin, tiles.labels, strict=True)):
            annotations.append(_label(c + SIDE / 2 - 0.5, r - 1.5, text, strong=i == best))
    return {
        "data": [
            {
                "type": "heatmap",
                "z": tiles.coef_z,
                "customdata": tiles.coef_custom,
                "coloraxis": "coloraxis2",
                "hoverongaps": False,
                "hovertemplate": f"{where}<br>{coef_hover}<extra></extra>",
                "name": "weights",
            },
            {
                "type": "heatmap",
                "z": map_z,
                "customdata": custom,
                "coloraxis": "coloraxis",
                "hoverongaps": False,
                "hovertemplate": f"{where}<br>pixel %{{customdata[3]:.2f}} × weight "
                f"%{{customdata[4]:.3f}}<br>= {map_hover}<extra></extra>",
                "name": "contributions",
            },
        ],
        "layout": {
            "height": 300 if binary_pair else 520,
            "margin": {"l": 4, "r": 4, "t": 22, "b": 46},
            "xaxis": {"visible": False, "fixedrange": True, "constrain": "domain"},
            "yaxis": {
                "visible": False,
                "autorange": "reversed",
                "scaleanchor": "x",
                "fixedrange": True,
                "constrain": "domain",
            },
            "coloraxis": {
                "colorscale": "RdBu",
                "cmin": -limit,
                "cmax": limit,
                "colorbar": {**colourbar, "x": 0.75, "title": {"text": titles[1], "side": "top"}},
            },
            "coloraxis2": {
                "colorscale": "RdBu",
                "cmin": -tiles.coef_limit,
                "cmax": tiles.coef_limit,
                "colorbar": {**colourbar, "x": 0.25, "title": {"text": titles[0], "side": "top"}},
            },
            "annotations": annotations,
            "showlegend": False,
        },
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
    for i, digit in enumerate(analysis.scored):
        total = float(analysis.maps[i].sum(dtype=np.float64))
        row = {
            "digit": f"{digit} vs {analysis.classes[0]}" if binary else str(digit),
            "intercept": f"{analysis.intercepts[i]:+.2f}",
            "Σ pixel × weight": f"{total:+.2f}",
            "logit": f"{analysis.logits[i]:+.2f}",
        }
        if binary:
            row["P"] = f"{analysis.probs[1]:.1%}"
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
    value, note = reading(analysis.classes, analysis.probs)
    st.metric(
        "Prediction",
        value,
        help=f"Below {THRESHOLD:.0%} the app says it is not sure.",
    )
    st.caption(note)
    if len(analysis.classes) == 2:
        a, b = analysis.classes
        st.caption(
            f"This model only knows {a} and {b}: whatever you show it, it answers one of the two."
        )
    st.plotly_chart(
        probability_figure(analysis.classes, analysis.probs),
        config={"displayModeBar": False},
        key="probabilities",
    )


def show_explanation(analysis: Analysis) -> None:
    """Preprocessing stages, then the weight and contribution maps with the logit table."""
    st.subheader("What the model saw")
    names = [name for name, _ in analysis.stages]
    st.image([image for _, image in analysis.stages], caption=names, width=STAGE_WIDTH)

    st.subheader("Why")
    binary = len(analysis.classes) == 2
    if binary:
        a, b = analysis.classes
        st.caption(
            f"Left: the model's weight for each pixel. Right: your pixels × those weights. "
            f"Blue pushes towards {b}, red towards {a}; the sum decides."
        )
    else:
        st.caption(
            "For each digit: its weights on top, your pixels × those weights below. "
            "Blue pushes towards that digit, red away from it; one colour scale for all digits. "
            "Hover a pixel for its value, weight and contribution."
        )
    figure_column, table_column = st.columns([2, 1])
    with figure_column:
        st.plotly_chart(
            maps_figure(analysis, tuple(analysis.classes) if binary else None),
            config={"displayModeBar": False},
            key="maps",
        )
    with table_column:
        st.caption(
            "intercept + Σ pixel × weight = logit; softmax of the logits gives P."
            if not binary
            else "intercept + Σ pixel × weight = logit; sigmoid(logit) gives P."
        )
        st.table(logit_rows(analysis), hide_index=True)
