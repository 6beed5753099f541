"""Training you can watch: the loss, the test accuracy and the weights after every step.

A :class:`History` is filled by the fit as it runs (from the job's thread, or from
the child process that runs a scikit-learn solver, through
:func:`core.fit_server.report`) and read by the page at any moment. What one
step is depends on the solver (:data:`STEPS`):

- ``lbfgs`` (ours, :mod:`core.logistic`): every L-BFGS iteration, from the
  optimiser's own callback; the fit is the same as without recording.
- ``newton-cg``, ``newton-cholesky``: every Newton iteration, taken from inside
  scikit-learn's solver as it runs (``core.train._newton_iterations``): the
  unrecorded fit itself, step for step.
- ``sag``, ``saga``: every epoch (one pass over the images), by scikit-learn's
  ``sag_solver`` one epoch a call, its memory (the average gradient, the samples
  seen) and its stream of samples carried from call to call
  (``core.train._sag_epochs``): the unrecorded fit, epoch for epoch, the same
  weights and the same stop (sag's own rule: largest weight change in an epoch
  over the largest weight at most ``tol``).
- ``liblinear``: the end only. scikit-learn cannot resume it (no ``warm_start``),
  and refitting from scratch with ``max_iter = 1, 2, ...`` would cost the square
  of the fit.

Weights are kept as float16 (10 × 784 × 2 bytes = 15 kB a step) and never go
into the model file. The test accuracy while training is measured on at most
:data:`WATCH_TEST_IMAGES` test images (the card's figure uses all of them).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

WATCH_TEST_IMAGES = 1_000
# scikit-learn's solvers do not report their loss: it is measured on this many training
# images (the same each step; the penalty is scaled to the whole set): a pass over all of
# them cost a sixth of a sag epoch. lbfgs reports the exact loss over all of them.
WATCH_TRAIN_IMAGES = 2_000
STEPS = {
    "lbfgs": "iteration",
    "newton-cg": "iteration",
    "newton-cholesky": "iteration",
    "sag": "epoch",
    "saga": "epoch",
    "liblinear": "end only",
}


@dataclass
class History:
    """What a fit recorded, one entry per step, readable while it is written.

    Attributes
    ----------
    solver : str
    step_name : str
        ``"iteration"``, ``"epoch"`` or ``"end only"`` (:data:`STEPS`).
    steps : list of int
        1, 2, ...: the step each entry follows.
    loss : list of float
        The training objective after the step: mean log loss on the training
        images plus the penalty over (C × images), as scikit-learn minimises it
        (for scikit-learn's solvers, on :data:`WATCH_TRAIN_IMAGES` of them).
    test_accuracy : list of float
        Share right on up to :data:`WATCH_TEST_IMAGES` test images, in [0, 1].
    weights : list of numpy.ndarray
        float16 (outputs, 784): 10 rows for ten classes, 1 for two.
    recording_seconds : float
        Time the fit spent recording (measuring loss and accuracy, copying weights),
        as the recorder timed it: the part of the overhead that load does not blur.
    """

    solver: str
    step_name: str = "iteration"
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    recording_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.weights)

    def add(
        self, step: int, loss: float, accuracy: float, weights: np.ndarray, seconds: float = 0.0
    ) -> None:
        """Append one step (weights are stored as float16); ``seconds`` it took to measure."""
        with self._lock:
            self.recording_seconds += seconds
            self.steps.append(int(step))
            self.loss.append(float(loss))
            self.test_accuracy.append(float(accuracy))
            self.weights.append(np.asarray(weights, dtype=np.float16))

    def curves(self) -> tuple[list[int], list[float], list[float]]:
        """Steps, losses and test accuracies so far, as consistent copies."""
        with self._lock:
            return list(self.steps), list(self.loss), list(self.test_accuracy)

    def snapshot(self, index: int) -> np.ndarray:
        """The weights after entry ``index`` (0-based), float32 (outputs, 784).

        Raises
        ------
        IndexError
            No such entry (yet).
        """
        with self._lock:
            if not 0 <= index < len(self.weights):
                raise IndexError(f"step {index + 1} not recorded: {len(self.weights)} so far")
            return self.weights[index].astype(np.float32)

    @property
    def nbytes(self) -> int:
        """Bytes the weight snapshots take."""
        return sum(w.nbytes for w in self.weights)


class Watcher:
    """Turns a fit's weights into one :class:`History` entry: loss given, accuracy measured.

    Parameters
    ----------
    test_features : numpy.ndarray
        (m, d) float32 test inputs in the fit's space (transformed and centred as the
        training inputs); only the first :data:`WATCH_TEST_IMAGES` are used.
    test_targets : numpy.ndarray
        (m,) class indices (columns of the softmax; 0/1 for two classes).
    """

    def __init__(self, test_features: np.ndarray, test_targets: np.ndarray):
        self.features = np.ascontiguousarray(test_features[:WATCH_TEST_IMAGES], dtype=np.float32)
        self.targets = np.asarray(test_targets[:WATCH_TEST_IMAGES])

    def accuracy(self, coef: np.ndarray, intercept: np.ndarray) -> float:
        """Share of the test images the weights classify right (nan with none)."""
        if len(self.targets) == 0:
            return float("nan")
        scores = self.features @ np.asarray(coef, dtype=np.float32).T + intercept.astype(np.float32)
        predicted = (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(1)
        return float(np.mean(predicted == self.targets))


def objective(
    features: np.ndarray,
    targets: np.ndarray,
    coef: np.ndarray,
    intercept: np.ndarray,
    C: float,
    penalty: str = "l2",
    l1_ratio: float = 0.5,
    total: int | None = None,
) -> float:
    """scikit-learn's logistic regression objective, divided by C × n.

    Parameters
    ----------
    features : numpy.ndarray
        (n, d) inputs.
    targets : numpy.ndarray
        (n,) class indices: 0/1 with one weight row, 0..k-1 with k rows.
    coef, intercept : numpy.ndarray
        (outputs, d) and (outputs,).
    C : float
        Inverse penalty strength (``inf``: none).
    penalty : {"none", "l1", "l2", "elasticnet"}
    total : int, optional
        The number of training images the penalty is scaled by (default: n), for a
        loss measured on a sample of them.

    Returns
    -------
    float
        Mean log loss + penalty / (C n), with penalty ||W||²/2 (L2), ||W||₁ (L1) or
        their ``l1_ratio`` mix.
    """
    scores = np.asarray(features, dtype=np.float32) @ np.asarray(coef, np.float32).T
    scores = scores.astype(np.float64) + intercept
    if scores.shape[1] == 1:
        z = scores[:, 0]
        losses = np.logaddexp(0.0, z) - np.where(targets == 1, z, 0.0)
    else:
        # logsumexp by hand: scipy's took 1.3 of this function's 3.9 ms (2,000 images,
        # ten classes), measured after every recorded step; by hand the whole takes 2.0.
        top = scores.max(axis=1)
        total_exp = np.exp(scores - top[:, None]).sum(axis=1)
        truth = np.take_along_axis(scores, np.asarray(targets)[:, None], axis=1)[:, 0]
        losses = np.log(total_exp) + top - truth
    loss = float(losses.mean())
    if penalty == "none" or not np.isfinite(C):
        return loss
    w = np.asarray(coef, dtype=np.float64).ravel()
    ratio = {"l1": 1.0, "l2": 0.0}.get(penalty, l1_ratio)
    l1 = float(np.abs(w).sum()) if ratio else 0.0
    penalty_value = ratio * l1 + (1 - ratio) * 0.5 * float(w @ w)
    return loss + penalty_value / (C * (total or len(targets)))
