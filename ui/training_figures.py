"""Figures of training you can watch and of the tutorials' experiments, as plain dicts.

No Streamlit here, as in :mod:`ui.figures` (whose weight maps these reuse).
"""

from __future__ import annotations

import numpy as np

from core.experiments import DescentResult, PathPoint, SolverRun
from core.history import History
from core.model import DigitModel
from core.train import REST, TrainConfig
from ui.figures import HIGHLIGHT, MUTED, weights_figure

LOSS_COLOUR = "#d62728"  # red: the loss, falling
ACCURACY_COLOUR = HIGHLIGHT  # blue: the accuracy, rising


def snapshot_model(history: History, index: int, config: TrainConfig) -> DigitModel:
    """The weights after entry ``index`` of a history, as a model :func:`weights_figure` draws.

    Only the weights are real: the intercepts are zero (the maps do not show them).
    """
    coef = history.snapshot(index)
    return coef_model(coef, config)


def coef_model(coef: np.ndarray, config: TrainConfig) -> DigitModel:
    """A model of these weights (zero intercepts) for the task of ``config``: for drawing only."""
    card: dict = {"name": "snapshot"}
    if config.task == "one-vs-rest":
        card["class_names"] = {str(REST): f"not {config.digits[0]}"}
    return DigitModel(coef, np.zeros(len(coef)), config.classes, card)


def snapshot_figure(coef: np.ndarray, config: TrainConfig, title: str) -> dict:
    """:func:`ui.figures.weights_figure` of some weights, with a title."""
    figure = weights_figure(coef_model(coef, config))
    figure["layout"]["title"] = {"text": title, "font": {"size": 13}, "x": 0.01}
    figure["layout"]["margin"]["t"] = 40
    return figure


def curves_figure(
    steps: list[int],
    loss: list[float],
    accuracy: list[float],
    step_name: str,
    at: int | None = None,
) -> dict:
    """Training loss (left axis) and test accuracy (right axis) after every step.

    ``at``: a step to mark with a vertical line (the one the replay shows).
    """
    axis_title = {"iteration": "iteration", "epoch": "epoch (one pass over the images)"}
    layout: dict = {
        "height": 260,
        "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
        "xaxis": {"title": {"text": axis_title.get(step_name, step_name)}, "rangemode": "tozero"},
        "yaxis": {"title": {"text": "training loss"}, "color": LOSS_COLOUR},
        "yaxis2": {
            "title": {"text": "test accuracy"},
            "overlaying": "y",
            "side": "right",
            "tickformat": ".1%",
            "color": ACCURACY_COLOUR,
        },
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "uirevision": "keep",  # redrawn twice a second while training: keep the user's zoom
    }
    if at is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "x0": at,
                "x1": at,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": MUTED, "dash": "dot"},
            }
        ]
    mode = "lines+markers" if len(steps) < 60 else "lines"
    return {
        "data": [
            {
                "type": "scatter",
                "x": steps,
                "y": loss,
                "name": "training loss",
                "mode": mode,
                "line": {"color": LOSS_COLOUR},
                "hovertemplate": "step %{x}: loss %{y:.4f}<extra></extra>",
            },
            {
                "type": "scatter",
                "x": steps,
                "y": accuracy,
                "name": "test accuracy",
                "mode": mode,
                "yaxis": "y2",
                "line": {"color": ACCURACY_COLOUR},
                "hovertemplate": "step %{x}: %{y:.1%} right<extra></extra>",
            },
        ],
        "layout": layout,
    }


def descent_figure(result: DescentResult) -> dict:
    """Cost per epoch of gradient descent beside cost per iteration of L-BFGS (log scale)."""
    floor = min(min(result.lbfgs_costs), min(result.costs))
    return {
        "data": [
            {
                "type": "scatter",
                "x": list(range(len(result.costs))),
                "y": result.costs,
                "name": "gradient descent (epoch)",
                "line": {"color": LOSS_COLOUR},
            },
            {
                "type": "scatter",
                "x": list(range(1, len(result.lbfgs_costs) + 1)),
                "y": result.lbfgs_costs,
                "name": "L-BFGS (iteration)",
                "line": {"color": HIGHLIGHT},
            },
        ],
        "layout": {
            "height": 300,
            "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
            "xaxis": {"title": {"text": "epoch / iteration"}},
            "yaxis": {
                "title": {"text": "cost J (log scale)"},
                "type": "log",
                "range": [np.log10(floor * 0.8), np.log10(max(result.costs) * 1.2)],
            },
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
        },
    }


def solvers_figure(runs: list[SolverRun]) -> dict:
    """Fit time per solver (bars), the test accuracy written on each."""
    return {
        "data": [
            {
                "type": "bar",
                "x": [r.solver for r in runs],
                "y": [r.seconds for r in runs],
                "marker": {"color": HIGHLIGHT},
                "text": [f"{r.accuracy:.1%}" for r in runs],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "%{x}: %{y:.2f} s, test accuracy %{text}<extra></extra>",
            }
        ],
        "layout": {
            "height": 280,
            "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
            "yaxis": {"title": {"text": "fit time (s)"}, "rangemode": "tozero"},
            "xaxis": {"type": "category"},
            "annotations": [
                {
                    "text": "on each bar: test accuracy",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 1,
                    "y": 1.08,
                    "showarrow": False,
                    "font": {"size": 11},
                }
            ],
        },
    }


def l1_path_figure(points: list[PathPoint]) -> dict:
    """Share of zero weights and test accuracy against C (log scale)."""
    cs = [p.C for p in points]
    return {
        "data": [
            {
                "type": "scatter",
                "x": cs,
                "y": [p.zero_share for p in points],
                "name": "zero weights",
                "mode": "lines+markers",
                "line": {"color": LOSS_COLOUR},
                "hovertemplate": "C=%{x:g}: %{y:.1%} of weights are 0<extra></extra>",
            },
            {
                "type": "scatter",
                "x": cs,
                "y": [p.accuracy for p in points],
                "name": "test accuracy",
                "mode": "lines+markers",
                "line": {"color": HIGHLIGHT},
                "hovertemplate": "C=%{x:g}: %{y:.1%} right<extra></extra>",
            },
        ],
        "layout": {
            "height": 280,
            "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
            "xaxis": {
                "title": {"text": "C (log scale): smaller is a stronger penalty"},
                "type": "log",
            },
            "yaxis": {"tickformat": ".0%", "range": [0, 1.05]},
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
        },
    }
