"""Measure models on the user's saved digits, and adapt a model to them.

Adapting retrains the model's logistic regression on a sample of MNIST plus the
saved digits, each saved digit weighing as much as ``weight`` MNIST digits
(``sample_weight``). To keep it to seconds on a laptop:

* MNIST enters as a random sample (``mnist_size``, 10,000 by default, fixed
  seed) instead of all 60,000;
* the solver starts from the shipped model's weights (a warm start) and stops
  after ``max_iter`` (15) L-BFGS iterations: enough to learn the saved digits,
  few enough to stay near the shipped model, which saw all 60,000 (run to
  convergence on the sample alone, it loses more on MNIST's test set). The
  shipped model never saw the saved digits nor MNIST's test set, so starting
  from it leaks nothing into either measurement.

Honest figures: the adapted model's accuracy on the saved digits is measured by
k-fold cross-validation: the saved digits are split into ``folds`` parts, and
each part is read by a model adapted on MNIST plus the other parts only. Every
saved digit is thus read once by a model that did not train on it; the shipped
model reads the same digits. Both models are also measured on all 10,000 MNIST
test digits (which neither trained on), so the user sees what was gained and
what was lost. The model handed back is then adapted on all the saved digits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from core.augment import learned_print, learned_styles, printed, styles
from core.data import Split
from core.errors import TrainingError
from core.jobs import Cancelled, checkpoint
from core.logistic import fit_lbfgs
from core.model import DigitModel, binary_name
from core.records import ModelCard, Scores
from core.train import (
    evaluate,
    scores,
    task_config,
    task_data,
)
from core.transforms import TRANSFORMS

MIN_SAVED = 10  # fewer saved digits cannot be split into folds that say anything


def evaluate_saved(model: DigitModel, images: np.ndarray, labels: np.ndarray) -> Scores | None:
    """:func:`core.train.evaluate` on the saved digits the model can read.

    A binary model is measured on the saved digits of its two classes only.

    Returns
    -------
    Scores or None
        As :func:`core.train.evaluate`, or None when no saved digit is of the
        model's classes.
    """
    chosen, targets = task_data(task_config(model), np.asarray(images), np.asarray(labels))
    if not len(targets):
        return None
    return evaluate(model, chosen, targets)


def meaningful_pairs(labels: np.ndarray) -> list[str]:
    """Names of the binary models both of whose digits are among the saved ones."""
    present = sorted({int(label) for label in np.asarray(labels)})
    return [binary_name(a, b) for i, a in enumerate(present) for b in present[i + 1 :]]


@dataclass(frozen=True)
class AdaptConfig:
    """How to adapt a model to the saved digits.

    Parameters
    ----------
    weight : float
        How many MNIST digits one saved digit counts for (its ``sample_weight``).
    mnist_size : int
        MNIST training digits mixed in, drawn at random (by ``seed``).
    folds : int
        k of the k-fold cross-validation on the saved digits (at most their number).
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    max_iter : int
        L-BFGS iterations from the warm start (few on purpose: see the module doc).
    seed : int
        Seeds the MNIST sample and the folds.
    """

    weight: float = 10.0
    mnist_size: int = 10_000
    folds: int = 5
    C: float = 1.0
    max_iter: int = 15
    seed: int = 0


def check_config(config: AdaptConfig, n_saved: int) -> None:
    """Refuse settings that cannot work, saying why.

    Raises
    ------
    TrainingError
    """
    if n_saved < MIN_SAVED:
        raise TrainingError(
            f"adapting needs at least {MIN_SAVED} saved digits of the model's classes, "
            f"found {n_saved}: save more with Correct / It was a"
        )
    if not (np.isfinite(config.weight) and 0 < config.weight <= 1000):
        raise TrainingError(
            f"the weight of a saved digit must be in (0, 1000], got {config.weight}"
        )
    if not 100 <= config.mnist_size <= 60_000:
        raise TrainingError(f"the MNIST sample must be 100-60000 digits, got {config.mnist_size}")
    if not 2 <= config.folds <= n_saved:
        raise TrainingError(f"folds must be between 2 and {n_saved}, got {config.folds}")
    if not (np.isfinite(config.C) and config.C > 0):
        raise TrainingError(f"C must be a positive number, got {config.C}")
    if not 1 <= config.max_iter <= 10_000:
        raise TrainingError(f"max_iter must be 1-10000, got {config.max_iter}")


def mnist_sample(
    split: Split, base: DigitModel, size: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A random MNIST sample for the base model's task, as the model sees it.

    When the base model also learned other writing styles (flagged 1s, crossed 7s,
    8s with a small top loop, 9s with a hooked tail: its card's ``augment`` is a key of
    :data:`core.augment.STYLE_SETS`), the sample has them too, made from its own
    digits, and printed digits in the same share as in training when the recipe
    added them, so that adapting does not wear that away.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        float32 (n, 784) after the base model's input transform, and int64 targets.
    """
    chosen = np.sort(np.random.default_rng(seed).permutation(len(split.labels))[:size])
    images, labels = split.images[chosen], split.labels[chosen]
    if (learned := learned_styles(base.card)) is not None:
        images, labels = styles(images, labels, seed, learned)
    if learned_print(base.card):
        # in this process: the app's server has threads, and a fork would copy their locks
        images, labels = printed(images, labels, seed, workers=1)
    images, targets = task_data(task_config(base), images, labels)
    seen = TRANSFORMS[base.input_transform](images)
    return seen.reshape(len(seen), -1), targets


def _folds(labels: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Index sets of k folds, each digit spread evenly over them (stratified)."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        for i, index in enumerate(members):
            folds[(offset + i) % k].append(int(index))
        offset += len(members)  # the next digit fills the folds where this one stopped
    return [np.sort(np.array(f, dtype=np.intp)) for f in folds]


def _fit(
    base: DigitModel,
    config: AdaptConfig,
    mnist: tuple[np.ndarray, np.ndarray],
    saved: tuple[np.ndarray, np.ndarray],
    on_iteration: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Fit from the base model's weights; returns coef, intercept and iterations."""
    x = np.concatenate([mnist[0], saved[0]])
    y = np.concatenate([mnist[1], saved[1]])
    weights = np.concatenate(
        [np.ones(len(mnist[1])), np.full(len(saved[1]), config.weight)]
    ).astype(np.float64)
    classes = np.asarray(base.classes_)
    if not np.array_equal(np.unique(y), classes):
        raise TrainingError("MNIST sample too small: it lacks some of the model's classes")
    # Few iterations on purpose: it starts from the base model and should stay near it.
    fit = fit_lbfgs(
        x,
        np.searchsorted(classes, y),
        len(classes),
        C=config.C,
        max_iter=config.max_iter,
        sample_weight=weights,
        init=(base.coef_, base.intercept_),
        on_iteration=on_iteration,
    )
    return fit.coef, fit.intercept, fit.iterations


@dataclass(frozen=True)
class Adapted:
    """An adapted model and the figures that compare it with the one it started from.

    ``*_saved`` figures are on the saved digits: the base model read all of
    them, the adapted one each by a fold model that did not train on it.
    """

    model: DigitModel
    base_name: str
    n_saved: int
    folds: int
    base_saved: Scores  # core.train.evaluate on the saved digits
    adapted_saved: Scores  # the same from the cross-validated (out-of-fold) predictions
    base_mnist: Scores | None  # on MNIST's test set, when given
    adapted_mnist: Scores | None
    seconds: float


def adapt(
    base: DigitModel,
    images: np.ndarray,
    labels: np.ndarray,
    mnist: tuple[np.ndarray, np.ndarray],
    mnist_test: Split | None = None,
    config: AdaptConfig | None = None,
    progress: Callable[[str, float], None] | None = None,
    cancel: threading.Event | None = None,
) -> Adapted:
    """Adapt ``base`` to the saved digits and measure it honestly.

    Parameters
    ----------
    base : DigitModel
        The model to start from (shipped ten-class, a pair, or a saved model).
    images, labels : numpy.ndarray
        The saved digits: uint8 (n, 28, 28) MNIST format, and their labels.
    mnist : (numpy.ndarray, numpy.ndarray)
        The MNIST training sample, from :func:`mnist_sample` with the same base.
    mnist_test : Split, optional
        MNIST's test set: both models are measured on it when given.
    config : AdaptConfig, optional
    progress : callable, optional
        ``progress(message, fraction)`` between fits.
    cancel : threading.Event, optional
        Set it to stop at the next L-BFGS iteration (raises :class:`core.jobs.Cancelled`).

    Returns
    -------
    Adapted

    Raises
    ------
    TrainingError
        Too few saved digits, or settings that cannot work.
    """
    config = config or AdaptConfig()
    report = progress or (lambda message, fraction: None)
    started = time.perf_counter()
    task = task_config(base)
    chosen, targets = task_data(task, np.asarray(images), np.asarray(labels))
    check_config(config, len(targets))
    seen = base.transform(chosen).reshape(len(chosen), -1)
    classes = [int(c) for c in base.classes_]

    step = checkpoint(report, cancel)

    def stop_if_cancelled(iteration: int) -> None:  # a fit takes seconds: stop inside it too
        if cancel is not None and cancel.is_set():
            raise Cancelled("adapting cancelled")

    out_of_fold = np.empty_like(targets)
    folds = _folds(targets, config.folds, config.seed)
    fits = config.folds + 1
    for number, held_out in enumerate(folds):
        step(
            f"fold {number + 1} of {config.folds}: adapting without {len(held_out)} digits",
            number / fits,
        )
        keep = np.setdiff1d(np.arange(len(targets)), held_out)
        coef, intercept, _ = _fit(
            base, config, mnist, (seen[keep], targets[keep]), stop_if_cancelled
        )
        fold_model = DigitModel(coef, intercept, classes, {"name": "fold"})
        # The fold model sees pixels already transformed: score them directly.
        logits = seen[held_out] @ fold_model.coef_.T + fold_model.intercept_
        if base.is_binary:
            out_of_fold[held_out] = np.where(logits[:, 0] > 0, classes[1], classes[0])
        else:
            out_of_fold[held_out] = np.asarray(classes)[np.argmax(logits, axis=1)]
    step(f"adapting on all {len(targets)} saved digits", config.folds / fits)
    coef, intercept, iterations = _fit(base, config, mnist, (seen, targets), stop_if_cancelled)
    card: ModelCard = {
        "name": f"{base.name}-adapted",
        "classes": classes,
        "kind": base.card.get("kind", "binary" if base.is_binary else "ten-class"),
        "task": task.task,
        "input_transform": base.input_transform,
        "adapted_from": base.name,
        "parameters": asdict(config),
        "iterations": iterations,
        "train_images": len(mnist[1]) + len(targets),
        "saved_digits": len(targets),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    model = DigitModel(coef, intercept, classes, card)
    base_mnist = adapted_mnist = None
    if mnist_test is not None:
        step("measuring both models on MNIST's test set", 0.95)
        test_images, test_targets = task_data(task, mnist_test.images, mnist_test.labels)
        base_mnist = evaluate(base, test_images, test_targets)
        adapted_mnist = evaluate(model, test_images, test_targets)
        model.card["test"] = adapted_mnist
    base_saved = evaluate(base, chosen, targets)
    adapted_saved = scores(classes, targets, out_of_fold)
    model.card["saved_cross_validated"] = {
        "accuracy": adapted_saved["accuracy"],
        "n": len(targets),
        "folds": config.folds,
        "base_accuracy": base_saved["accuracy"],
    }
    report("done", 1.0)
    return Adapted(
        model=model,
        base_name=base.name,
        n_saved=len(targets),
        folds=config.folds,
        base_saved=base_saved,
        adapted_saved=adapted_saved,
        base_mnist=base_mnist,
        adapted_mnist=adapted_mnist,
        seconds=time.perf_counter() - started,
    )
