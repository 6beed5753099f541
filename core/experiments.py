"""The classic logistic-regression tutorials' experiments, each one call (one click in the app).

- :func:`gradient_descent_by_hand`: plain batch gradient descent on the logistic
  loss, written out in numpy, beside L-BFGS on the same images and objective.
- :func:`solvers_compared`: one task fitted by every solver that can fit it.
- :func:`l1_path`: L1-penalised fits for a range of C: how many weights are
  exactly zero, and what that costs in accuracy.

Each takes MNIST's splits, small default sizes (seconds on 2 cores), and the
``progress``/``cancel`` pair of :class:`core.jobs.Job`, so the app runs them as
jobs that show progress and stop when cancelled. No Streamlit here.
"""

from __future__ import annotations

import operator
import threading
import time
from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from core.data import Split
from core.fit_server import fit_in_child
from core.jobs import Progress, checkpoint
from core.logistic import _one_blas_thread, fit_lbfgs
from core.train import TrainConfig, _subset, solvers_for, task_data, train

# What the tutorials these follow published, in words (nothing is downloaded).
REFERENCES = {
    "gradient descent": (
        "The classic course exercise (e.g. Andrew Ng's Machine Learning, exercise 2) plots the "
        "cost J falling smoothly epoch by epoch under batch gradient descent and then fits the "
        "same model with an off-the-shelf optimiser that reaches a lower cost in far fewer steps: "
        "the two curves above are that figure, on MNIST."
    ),
    "solvers": (
        "scikit-learn's user guide (Logistic regression, 'Solvers') states that lbfgs, "
        "newton-cg, newton-cholesky, sag and saga minimise the same objective and differ only "
        "in speed: sag and saga are fast on many samples, newton-cholesky on few features, "
        "liblinear fits one class against the rest. Same accuracy, different times, above."
    ),
    "l1": (
        "scikit-learn's example 'L1 Penalty and Sparsity in Logistic Regression' (8×8 digits, "
        "0-4 against 5-9, C = 1, 0.1, 0.01) shows the share of zero coefficients rising as C "
        "shrinks; 'MNIST classification using multinomial logistic + L1' (saga on 5,000 "
        "images) reports test accuracy above 0.8 with sparse, readable weight maps."
    ),
}


def _data(
    config: TrainConfig, train_split: Split, test_split: Split
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat float32 training and test inputs (raw pixels / 255) and class indices for a task."""
    classes = np.asarray(config.classes)
    out = []
    for split, size in ((train_split, config.train_size), (test_split, config.test_size)):
        images, labels = task_data(config, *_subset(split, size, config.seed))
        out += [images.reshape(len(images), -1), np.searchsorted(classes, labels)]
    return out[0], out[1], out[2], out[3]


def _scores(features: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return features @ coef.T.astype(np.float32) + intercept.astype(np.float32)


def accuracy(features: np.ndarray, targets: np.ndarray, coef: np.ndarray, intercept) -> float:
    """Share of ``features`` that weights (outputs, d) and intercepts classify as ``targets``."""
    scores = _scores(features, coef, intercept)
    predicted = (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(1)
    return float(np.mean(predicted == targets))


def gradient_descent(
    features: np.ndarray,
    targets: np.ndarray,
    n_classes: int,
    learning_rate: float = 0.5,
    epochs: int = 100,
    C: float = 1.0,
    step: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Batch gradient descent on the logistic loss: every epoch, one step down the full gradient.

    Minimises the objective :func:`core.logistic.fit_lbfgs` minimises (mean log loss
    + ||W||² / (2 C n); softmax for more than two classes, sigmoid for two), so
    the two can be compared cost for cost.

    Parameters
    ----------
    features : numpy.ndarray
        (n, d) inputs.
    targets : numpy.ndarray
        (n,) class indices ``0 .. n_classes - 1``.
    learning_rate : float
        Step size, > 0.
    epochs : int
        Steps (each uses every image once), >= 1.
    C : float
        Inverse L2 strength; ``numpy.inf`` for none.
    step : callable, optional
        ``step(message, fraction)`` after each epoch (:func:`core.jobs.checkpoint`).

    Returns
    -------
    coef : numpy.ndarray
        (outputs, d) weights: 1 row for two classes, ``n_classes`` for more.
    intercept : numpy.ndarray
        (outputs,)
    costs : list of float
        The objective before the first step and after each: ``epochs + 1`` values.

    Raises
    ------
    ValueError
        A learning rate or epoch count out of range.
    """
    if not learning_rate > 0 or epochs < 1:
        raise ValueError(
            f"learning rate must be > 0 and epochs >= 1, got {learning_rate}, {epochs}"
        )
    x = np.asarray(features, dtype=np.float64)
    n, d = x.shape
    outputs = 1 if n_classes == 2 else n_classes
    if outputs == 1:
        truth = (targets == 1).astype(np.float64)[:, None]
    else:
        truth = np.eye(n_classes)[targets]
    l2 = 0.0 if np.isinf(C) else 1.0 / (C * n)
    w, b = np.zeros((d, outputs)), np.zeros(outputs)
    costs: list[float] = []
    for epoch in range(epochs + 1):
        z = x @ w + b
        if outputs == 1:
            p = special.expit(z)
            loss = np.mean(np.logaddexp(0.0, z[:, 0]) - truth[:, 0] * z[:, 0])
        else:
            log_p = z - special.logsumexp(z, axis=1, keepdims=True)
            p = np.exp(log_p)
            loss = -np.mean(np.sum(truth * log_p, axis=1))
        costs.append(float(loss + 0.5 * l2 * np.sum(w * w)))
        if epoch == epochs:
            break
        error = (p - truth) / n  # the gradient of the mean log loss w.r.t. the scores
        w -= learning_rate * (x.T @ error + l2 * w)
        b -= learning_rate * error.sum(axis=0)
        if step is not None:
            step(f"gradient descent: epoch {epoch + 1} of {epochs}", (epoch + 1) / epochs)
    return w.T.copy(), b, costs


@dataclass(frozen=True)
class DescentResult:
    """Gradient descent by hand against L-BFGS on the same images and objective."""

    costs: list[float]  # gradient descent: before the first epoch, then after each
    lbfgs_costs: list[float]  # L-BFGS: after each iteration
    coef: np.ndarray  # (outputs, 784) gradient descent's weights
    lbfgs_coef: np.ndarray  # (outputs, 784) L-BFGS's
    accuracy: float  # test accuracy, gradient descent
    lbfgs_accuracy: float
    seconds: float
    lbfgs_seconds: float
    classes: tuple[int, ...]
    train_images: int

    @property
    def weight_gap(self) -> float:
        """||W_gd − W_lbfgs|| / ||W_lbfgs||: 0 when they reached the same weights."""
        return float(np.linalg.norm(self.coef - self.lbfgs_coef) / np.linalg.norm(self.lbfgs_coef))

    @property
    def weight_correlation(self) -> float:
        """Pearson correlation of the two sets of weights, pixel by pixel."""
        return float(np.corrcoef(self.coef.ravel(), self.lbfgs_coef.ravel())[0, 1])


def gradient_descent_by_hand(
    train_split: Split,
    test_split: Split,
    config: TrainConfig | None = None,
    learning_rate: float = 0.5,
    epochs: int = 100,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> DescentResult:
    """:func:`gradient_descent` and L-BFGS on the same raw pixels / 255, side by side.

    Parameters
    ----------
    config : TrainConfig, optional
        The task, C and sizes (input transform ignored: raw pixels, as the tutorials).
        Default: ten-class, C = 1, 2,000 training and 1,000 test images.
    learning_rate, epochs : float, int
        Gradient descent's.
    progress, cancel
        As :class:`core.jobs.Job` passes them.
    """
    config = config or TrainConfig(C=1.0, train_size=2_000, test_size=1_000)
    step = checkpoint(progress, cancel)
    step("selecting images", 0.0)
    x, y, test_x, test_y = _data(config, train_split, test_split)
    k = len(config.classes)
    started = time.perf_counter()
    # BLAS on one thread, as the fits run: small products on a busy machine otherwise
    # spend their time in threads waiting for each other.
    with _one_blas_thread():
        coef, intercept, costs = gradient_descent(
            x, y, k, learning_rate, epochs, config.C, lambda m, f: step(m, 0.8 * f)
        )
    seconds = time.perf_counter() - started
    step("L-BFGS on the same images", 0.8)
    lbfgs_costs: list[float] = []

    def keep(iteration: int, w: np.ndarray, b: np.ndarray, loss: float) -> None:
        lbfgs_costs.append(loss)
        step(f"L-BFGS: iteration {iteration}", 0.8 + 0.2 * min(iteration, 100) / 100)

    started = time.perf_counter()
    fit = fit_lbfgs(x, y, k, C=config.C, tol=1e-5, max_iter=200, on_step=keep)
    lbfgs_seconds = time.perf_counter() - started
    return DescentResult(
        costs=costs,
        lbfgs_costs=lbfgs_costs,
        coef=coef,
        lbfgs_coef=fit.coef,
        accuracy=accuracy(test_x, test_y, coef, intercept),
        lbfgs_accuracy=accuracy(test_x, test_y, fit.coef, fit.intercept),
        seconds=seconds,
        lbfgs_seconds=lbfgs_seconds,
        classes=config.classes,
        train_images=len(y),
    )


@dataclass(frozen=True)
class SolverRun:
    """One solver's fit of the shared task."""

    solver: str
    seconds: float  # the fit alone
    accuracy: float  # on the test images
    iterations: int
    converged: bool
    coef: np.ndarray  # (outputs, 784)


def solvers_compared(
    train_split: Split,
    test_split: Split,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[SolverRun]:
    """The same task fitted by every solver that can fit its penalty, one after the other.

    Parameters
    ----------
    config : TrainConfig, optional
        The task; its solver is replaced by each in turn. Default: 3 against 7, L2,
        C = 1, raw pixels, from 10,000 training images (about 2,000 are 3s and 7s)
        and 5,000 test images: small enough for newton-cholesky and liblinear too.

    Returns
    -------
    list of SolverRun
        In :data:`core.train.SOLVER_PENALTIES` order.
    """
    config = config or TrainConfig(
        task="binary",
        digits=(3, 7),
        C=1.0,
        max_iter=1_000,
        train_size=10_000,
        test_size=5_000,
        input_transform="none",
    )
    step = checkpoint(progress, cancel)
    step("starting the process that runs scikit-learn's solvers", 0.0)
    fit_in_child(operator.add, (1, 1))  # its start-up (a second or two) is no fit time
    solvers = solvers_for(config.penalty, config.task)
    runs = []
    for i, solver in enumerate(solvers):
        step(f"fitting with {solver} ({i + 1} of {len(solvers)})", i / len(solvers))
        model = train(replace(config, solver=solver), train_split, test_split, cancel=cancel)
        card = model.card
        runs.append(
            SolverRun(
                solver=solver,
                seconds=float(card["fit_seconds"]),
                accuracy=float(card["test"]["accuracy"]),
                iterations=int(card["iterations"]),
                converged=bool(card["converged"]),
                coef=model.coef_,
            )
        )
    step("done", 1.0)
    return runs


@dataclass(frozen=True)
class PathPoint:
    """One L1 fit of the path."""

    C: float
    zero_share: float  # share of weights exactly 0, in [0, 1]
    accuracy: float  # on the test images
    coef: np.ndarray  # (outputs, 784)


L1_CS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def l1_path(
    train_split: Split,
    test_split: Split,
    config: TrainConfig | None = None,
    Cs: tuple[float, ...] = L1_CS,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[PathPoint]:
    """L1 fits for each C (largest first): zero weights and test accuracy along the path.

    Parameters
    ----------
    config : TrainConfig, optional
        Task and solver (must fit L1). Default: 3 against 7 by liblinear, raw
        pixels, from 10,000 training and 5,000 test images.
    Cs : tuple of float
        The C values, each > 0.

    Returns
    -------
    list of PathPoint
        From the largest C (weakest penalty) to the smallest.
    """
    config = config or TrainConfig(
        task="binary",
        digits=(3, 7),
        penalty="l1",
        solver="liblinear",
        max_iter=1_000,
        train_size=10_000,
        test_size=5_000,
        input_transform="none",
    )
    step = checkpoint(progress, cancel)
    points = []
    ordered = sorted(Cs, reverse=True)
    for i, C in enumerate(ordered):
        step(f"fitting C = {C:g} ({i + 1} of {len(ordered)})", i / len(ordered))
        model = train(replace(config, C=C), train_split, test_split, cancel=cancel)
        points.append(
            PathPoint(
                C=C,
                zero_share=float(np.mean(model.coef_ == 0)),
                accuracy=float(model.card["test"]["accuracy"]),
                coef=model.coef_,
            )
        )
    step("done", 1.0)
    return points


def three_points(points: list[PathPoint]) -> list[PathPoint]:
    """The path's first, middle and last points: the weight images to show."""
    if len(points) <= 3:
        return list(points)
    return [points[0], points[len(points) // 2], points[-1]]
