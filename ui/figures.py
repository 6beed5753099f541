"""Every Plotly figure of the app, as pure functions that return figure dicts.

No Streamlit here: the pages and ``ui.views`` pass these dicts to
``st.plotly_chart`` (and cache the costly ones). Figures are plain dicts rather
than ``plotly.graph_objects`` (building those costs milliseconds per drawing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.explain import Analysis, Contrast, class_names
from core.model import DigitModel
from core.records import Scores

SIDE = 28
HIGHLIGHT = "#1c83e1"  # a mid blue that reads on light and dark backgrounds
MUTED = "rgba(128, 128, 128, 0.45)"
ZERO_COLOUR = "#f2b705"  # gold: apart from the red-blue scale of the weights

# Tiling of the maps figures: the weights and the contributions share one layout.
GAP_COL = 4  # between class columns, in pixels of the 28×28 grid
GAP_ROW = 10  # between class rows: room for the labels, even on a phone
TILE_COLUMNS = 5
MAPS_HEIGHT = 340  # px, the weights and contributions figures


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


def _class_labels(names: tuple | list, classes: tuple | list) -> list[str]:
    """The label above each tile: one "towards" line for a binary model's single map."""
    if len(classes) == 2:
        a, b = names
        return [f"← towards {a} | towards {b} →"]
    return [str(int(c)) for c in classes]


def weights_figure(model: DigitModel) -> dict:
    """The model's weights, one tile per class: the same for every drawing.

    A new dict on every call: Plotly edits a figure dict while reading it (it pops
    each trace's ``type``), and a dict shared by sessions drawing at once turned into
    a scatter plot under load. ``ui.views`` caches it with ``st.cache_data``, which
    hands each caller its own copy.
    """
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
    layout["annotations"] = _labels(cells, _class_labels(class_names(model), model.classes_))
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
    k = len(analysis.maps)
    cells = grid(k)
    z = cells.paste(analysis.maps)
    custom = np.stack(
        [
            cells.paste(np.broadcast_to(analysis.model_input, (k, SIDE, SIDE))),
            cells.paste(analysis.weights),
        ],
        axis=-1,
    )
    limit = float(np.abs(analysis.maps).max()) or 1.0
    if analysis.is_binary:
        a, b = analysis.labels
        what = f"contribution %{{z:.3f}} (+ towards {b}, − towards {a})"
        strong = None
    else:
        what = "contribution %{z:.3f}"
        strong = analysis.scored.index(analysis.predicted)
    layout = _heatmap_layout(cells, MAPS_HEIGHT, "pixel × weight", limit)
    layout["annotations"] = _labels(cells, _class_labels(analysis.labels, analysis.classes), strong)
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


INK_MARK = "#f2b705"  # gold: apart from the red-blue scale of the map
ERASE_MARK = "#111111"


def contrast_figure(view: Contrast) -> dict:
    """The contrast map of two classes on one diverging scale centred on zero, pixels marked.

    Blue pushes towards A, red towards B (the colours of the contributions
    figure, where blue is towards the class). Gold circles: the pixels whose
    inking on the model input would most move the gap towards the class now
    losing; dark crosses: those whose erasing would.
    """
    a, b = view.names
    limit = float(np.abs(view.map).max()) or 1.0
    layout = _heatmap_layout(grid(1), MAPS_HEIGHT, f"towards {b} | towards {a}", limit)
    layout["margin"] = {"l": 4, "r": 4, "t": 8, "b": 48}
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0}
    layout["coloraxis"]["colorbar"]["title"] = {"text": f"red: {b}, blue: {a}", "side": "right"}
    loser = b if view.winner == view.a else a
    z = view.map.astype(np.float32)
    custom = np.stack([view.model_input, view.gradient], axis=-1)
    data = [
        {
            "type": "heatmap",
            "z": z,
            "customdata": custom.astype(np.float32),
            "coloraxis": "coloraxis",
            "showlegend": False,
            "hovertemplate": "pixel %{customdata[0]:.2f} × (weight of "
            f"{a} − weight of {b}) %{{customdata[1]:+.3f}}<br>= %{{z:+.3f}}<extra></extra>",
        }
    ]
    for pixels, name, symbol, colour in [
        (view.ink, f"ink here: towards {loser}", "circle-open", INK_MARK),
        (view.erase, f"erase here: towards {loser}", "x-thin-open", ERASE_MARK),
    ]:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [p.col for p in pixels],
                "y": [p.row for p in pixels],
                "customdata": [p.effect for p in pixels],
                "marker": {
                    "symbol": symbol,
                    "size": 11,
                    "color": colour,
                    "line": {"width": 2, "color": colour},
                },
                "hovertemplate": f"{name.split(':')[0]}: gap %{{customdata:+.3f}}<extra></extra>",
            }
        )
    return {"data": data, "layout": layout}


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


def confusion_figure(figures: Scores, names: list[str], normalised: bool) -> dict:
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


def per_class_figure(figures: Scores, names: list[str]) -> dict:
    """Bars of each class's accuracy (share of its test digits read right)."""
    values = [figures["per_class_accuracy"].get(str(c)) for c in figures["classes"]]
    return {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": [v if v is not None else 0.0 for v in values],
                "text": [f"{v:.1%}" if v is not None else "" for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "%{x}: %{y:.2%} right<extra></extra>",
                "marker": {"color": HIGHLIGHT},
            }
        ],
        "layout": {
            "height": 260,
            "margin": {"l": 8, "r": 8, "t": 24, "b": 8},
            "xaxis": {"type": "category", "title": {"text": "true digit"}, "fixedrange": True},
            "yaxis": {
                "range": [min(0.8, min(v for v in values if v is not None) - 0.02), 1.02],
                "tickformat": ".0%",
                "fixedrange": True,
            },
        },
    }


def zero_weights_figure(model: DigitModel) -> dict:
    """The weights, one tile per class, with every weight that is exactly zero in gold."""
    base = weights_figure(model)
    coefs = model.coefficient_images()
    zero = grid(len(coefs)).paste(np.where(coefs == 0, 1.0, np.nan).astype(np.float32))
    marks = {
        "type": "heatmap",
        "z": zero,
        "colorscale": [[0, ZERO_COLOUR], [1, ZERO_COLOUR]],
        "showscale": False,
        "hoverongaps": False,
        "hovertemplate": "weight exactly 0<extra></extra>",
    }
    return {**base, "data": [*base["data"], marks]}
