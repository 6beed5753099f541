"""L-BFGS for logistic regression: scikit-learn's objective, one pass over the data per step.

scikit-learn's ``LogisticRegression(solver="lbfgs")`` hands scipy's L-BFGS-B a
loss that reads the training matrix twice per evaluation (once for the scores,
once for the gradient). On 60,000 × 784 float32 pixels that memory traffic, not
the arithmetic, is the cost. :func:`fit_lbfgs` minimises the same objective
with the same scipy optimiser and stopping rule, but walks the rows in blocks
small enough to stay in the CPU cache, so each block is read from memory once,
and gives each core its own share of the rows.

The objective, as scikit-learn 1.x defines it for ``penalty="l2"``::

    mean over images of -log p(true class) + ||W||² / (2 C n)

(the intercept is not penalised; ``C=inf`` means no penalty; with sample
weights the mean is weighted and the penalty divided by their sum instead of n,
so doubling every weight is doubling C). Two classes use one weight vector and
the sigmoid, more than two the softmax, as scikit-learn does.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from threadpoolctl import threadpool_limits

# Rows per block: 1,024 × 784 float32 is 3 MB, which stays in cache between the
# two products of a block (512-2,048 measured within 10% of each other on 2 cores).
BLOCK_ROWS = 1024


@dataclass(frozen=True)
class LbfgsResult:
    """What :func:`fit_lbfgs` found: weights per class, intercepts, and how it stopped."""

    coef: np.ndarray  # (1, d) for two classes, (k, d) for more, float64
    intercept: np.ndarray  # (1,) or (k,)
    iterations: int
    converged: bool


# threadpoolctl's limits are process-wide: fits in several sessions at once share one
# limit, set by the first to start and lifted by the last to finish.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit: threadpool_limits | None = None


@contextmanager
def _one_blas_thread():
    """BLAS on one thread while any fit runs (see :func:`fit_lbfgs`)."""
    global _blas_users, _blas_limit
    with _blas_lock:
        if _blas_users == 0:
            _blas_limit = threadpool_limits(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limit is not None:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def _cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Objective:
    """Loss and gradient of (multinomial or binary) logistic regression, one pass per call."""

    def __init__(
        self,
        features: np.ndarray,
        targets: np.ndarray,
        n_classes: int,
        C: float,
        sample_weight: np.ndarray | None,
    ):
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.targets = targets
        self.rows, self.dim = self.features.shape
        self.outputs = 1 if n_classes == 2 else n_classes
        self.weights = None
        self.total = float(self.rows)  # what the loss is averaged over: n, or the weights' sum
        if sample_weight is not None:
            self.weights = np.asarray(sample_weight, dtype=np.float32)
            self.total = float(np.sum(sample_weight, dtype=np.float64))
        self.l2 = 0.0 if np.isinf(C) else 1.0 / (C * self.total)
        # Blocks shared out to one thread per core, each with a one-thread BLAS (see
        # fit_lbfgs): on 2 cores 25% faster than OpenBLAS splitting every small product.
        self.workers = max(1, min(_cores(), self.rows // BLOCK_ROWS))
        self.pool: ThreadPoolExecutor | None = None

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights (d, outputs) and intercepts (outputs,) packed in one parameter vector."""
        cut = self.dim * self.outputs
        return theta[:cut].reshape(self.dim, self.outputs), theta[cut:]

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights, intercept = self.split(theta)
        weights32, intercept32 = weights.astype(np.float32), intercept.astype(np.float32)
        starts = range(0, self.rows, BLOCK_ROWS)
        if self.pool is None or self.workers == 1:
            blocks = [self._block(start, weights32, intercept32) for start in starts]
        else:
            blocks = list(
                self.pool.map(lambda start: self._block(start, weights32, intercept32), starts)
            )
        # Summed in block order, whatever thread did each: the same model whatever the
        # number of cores.
        losses, grad_weights, grad_intercepts = zip(*blocks, strict=True)
        flat = theta[: self.dim * self.outputs]
        loss = math.fsum(losses) / self.total + 0.5 * self.l2 * float(flat @ flat)
        grad_flat = np.sum(grad_weights, axis=0, dtype=np.float64).ravel() / self.total
        gradient = np.concatenate(
            [grad_flat + self.l2 * flat, np.sum(grad_intercepts, axis=0) / self.total]
        )
        return loss, gradient

    def _block(
        self, start: int, weights32: np.ndarray, intercept32: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Summed loss and gradients of the block of rows from ``start``."""
        end = min(start + BLOCK_ROWS, self.rows)
        block = self.features[start:end]
        truth = self.targets[start:end]
        scores = block @ weights32
        scores += intercept32
        if self.outputs == 1:
            # -log p = log(1 + e^z) - y z; its derivative is sigmoid(z) - y.
            z = scores[:, 0]
            losses = np.logaddexp(0.0, z) - np.where(truth == 1, z, 0.0)
            scores[:, 0] = special.expit(z) - truth
        else:
            rows = np.arange(len(truth))
            scores -= scores.max(axis=1, keepdims=True)
            true_scores = scores[rows, truth]  # a copy, before exp: log-sum-exp stays finite
            np.exp(scores, out=scores)
            totals = scores.sum(axis=1, keepdims=True)
            losses = np.log(totals[:, 0]) - true_scores
            scores /= totals  # probabilities; minus one-hot is the gradient of the loss
            scores[rows, truth] -= 1.0
        if self.weights is not None:
            losses = losses * self.weights[start:end]
            scores *= self.weights[start:end, None]
        return (
            float(losses.sum(dtype=np.float64)),
            block.T @ scores,
            scores.sum(axis=0, dtype=np.float64),
        )


def fit_lbfgs(
    features: np.ndarray,
    targets: np.ndarray,
    n_classes: int,
    C: float = 1.0,
    tol: float = 1e-4,
    max_iter: int = 100,
    on_iteration: Callable[[int], None] | None = None,
    sample_weight: np.ndarray | None = None,
    init: tuple[np.ndarray, np.ndarray] | None = None,
    on_step: Callable[[int, np.ndarray, np.ndarray, float], None] | None = None,
) -> LbfgsResult:
    """Fit logistic regression by L-BFGS, as ``LogisticRegression(solver="lbfgs")`` does.

    Parameters
    ----------
    features : numpy.ndarray
        (n, d) training inputs; used as float32.
    targets : numpy.ndarray
        (n,) class indices in ``0 .. n_classes - 1``.
    n_classes : int
        2 (one weight vector, sigmoid) or more (softmax).
    C : float
        Inverse L2 strength; ``numpy.inf`` for no penalty.
    tol, max_iter : float, int
        scikit-learn's stopping rule: projected gradient below ``tol``, or ``max_iter`` steps.
    on_iteration : callable, optional
        Called with the iteration count after every step; an exception it raises ends the
        fit and propagates (except ``StopIteration``, which scipy takes as "stop here").
    sample_weight : numpy.ndarray, optional
        (n,) weight of each image in the loss, as scikit-learn's ``fit(sample_weight=...)``.
    init : (coef, intercept), optional
        Start from these weights (shaped as in the result) instead of zero.
    on_step : callable, optional
        ``on_step(iteration, coef, intercept, loss)`` after every step, with the
        weights as in the result (views: copy to keep) and the objective's value
        there (what :mod:`core.history` records). Called before ``on_iteration``.

    Returns
    -------
    LbfgsResult
    """
    targets = np.asarray(targets, dtype=np.intp)
    if n_classes < 2 or targets.size == 0 or targets.min() < 0 or targets.max() >= n_classes:
        raise ValueError(f"targets must be class indices 0..{n_classes - 1}, with n_classes >= 2")
    if np.ndim(features) != 2 or len(features) != len(targets):
        raise ValueError(
            f"features must be (n, d) with n = {len(targets)} targets, got {np.shape(features)}"
        )
    if sample_weight is not None and (
        np.shape(sample_weight) != targets.shape
        or np.min(sample_weight) < 0
        or not np.sum(sample_weight) > 0
    ):
        raise ValueError("sample_weight must be one non-negative weight per target, not all 0")
    objective = _Objective(features, targets, n_classes, C, sample_weight)
    theta = np.zeros(objective.dim * objective.outputs + objective.outputs)
    if init is not None:
        coef, intercept = (np.asarray(a, dtype=np.float64) for a in init)
        shapes = (objective.outputs, objective.dim), (objective.outputs,)
        if (coef.shape, intercept.shape) != shapes:
            raise ValueError(
                f"init must be coef {shapes[0]} and intercept {shapes[1]}, "
                f"got {coef.shape} and {intercept.shape}"
            )
        theta = np.concatenate([coef.T.ravel(), intercept])
    steps = 0

    def callback(intermediate_result) -> None:
        nonlocal steps
        steps += 1
        if on_step is not None:
            weights, intercept = objective.split(intermediate_result.x)
            on_step(steps, weights.T, intercept, float(intermediate_result.fun))
        if on_iteration is not None:
            on_iteration(steps)

    # BLAS on one thread while the workers run: they are the parallelism. That also
    # stops scipy's own OpenBLAS (the PyPI wheels bring one beside numpy's), which
    # L-BFGS-B uses for its small steps, from leaving idle threads spinning that
    # starve numpy's: with them each evaluation took 1.7× as long on 2 cores.
    with (
        _one_blas_thread(),
        ThreadPoolExecutor(objective.workers, thread_name_prefix="lbfgs") as pool,
    ):
        objective.pool = pool
        result = optimize.minimize(
            objective,
            theta,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            # scikit-learn's stopping rule, but 50 correction pairs instead of 10: on
            # the ten-class model (7,850 parameters, so 6 MB) a third fewer steps.
            options={
                "maxcor": 50,
                "maxiter": int(max_iter),
                "maxls": 50,
                "gtol": tol,
                "ftol": 64 * np.finfo(float).eps,
            },
        )
    weights, intercept = objective.split(result.x)
    return LbfgsResult(
        coef=np.ascontiguousarray(weights.T),
        intercept=intercept.copy(),
        iterations=int(result.nit),
        converged=bool(result.success) and result.nit < max_iter,
    )
