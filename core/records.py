"""The records passed between modules: a model's card, its scores, its mistakes.

TypedDicts, not classes: a card is JSON on disk and scores go into cards and
``--json`` output as they are, so the records stay plain dicts, but every key
is written down once here, and a type checker (or a reader) can tell a misspelt
key from a missing one. Keys marked ``NotRequired`` may be absent from a card
(a model trained by an older Digit Lens, or one adapted rather than trained).
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

import numpy as np


class Scores(TypedDict):
    """How well a model reads labelled images (``core.train.evaluate``)."""

    accuracy: float  # share read right; NaN for no images
    per_class_accuracy: dict[str, float | None]  # class (as text) -> share; None: none of it
    confusion: list[list[int]]  # rows true, columns predicted, in ``classes`` order
    classes: list[int]
    n: int  # images measured


class Mistakes(TypedDict):
    """The images a model gets wrong, the most confident mistakes first."""

    index: np.ndarray  # (m,) positions in the images measured
    true: np.ndarray  # (m,) int64 labels
    predicted: np.ndarray  # (m,) int64 labels the model read
    probs: np.ndarray  # (m, n_classes) in ``model.classes_`` order


class CrossValidated(TypedDict):
    """An adapted model's k-fold figure on the saved digits (``core.adapt``)."""

    accuracy: float
    n: int
    folds: int
    base_accuracy: float


class Calibration(TypedDict):
    """How a model's probabilities were calibrated for real input (core.train.calibrate)."""

    data: str  # what the calibration inputs were
    inputs: int
    read_as_blank: int
    accuracy: float  # of the model on the inputs read
    temperature: float  # P = softmax(logits / temperature)
    log_loss: dict[str, float]  # "before" and "after"
    expected_calibration_error: dict[str, float]  # "before" and "after"
    sure_probability: float  # the sure rule's threshold (core.verdict)
    lost_loop_probability: NotRequired[float]  # its bar when a loop was lost (core.verdict)
    lost_loop_share: NotRequired[float]  # share of the readings that lost a loop
    sure_share: float
    wrong_and_sure_share: float


class ModelCard(TypedDict):
    """The JSON card beside a model's arrays: what it is, how it was made and measured."""

    name: str
    classes: list[int]
    input_transform: str  # a key of core.transforms.TRANSFORMS
    kind: NotRequired[str]  # "ten-class" or "binary" (two classes, one sigmoid)
    task: NotRequired[str]  # "ten-class", "binary" or "one-vs-rest"
    class_names: NotRequired[dict[str, str]]  # class (as text) -> name, e.g. "-1": "not 2"
    parameters: NotRequired[dict]  # the TrainConfig or AdaptConfig, as a dict
    fit_seconds: NotRequired[float]
    iterations: NotRequired[int]
    converged: NotRequired[bool]
    train_images: NotRequired[int]
    training_data_sha256: NotRequired[str]
    sparsity: NotRequired[float]  # share of weights exactly zero
    versions: NotRequired[dict[str, str]]
    created: NotRequired[str]  # UTC, ISO 8601
    test: NotRequired[Scores]  # on MNIST's test set
    calibration: NotRequired[Calibration]
    adapted_from: NotRequired[str]
    saved_digits: NotRequired[int]
    saved_cross_validated: NotRequired[CrossValidated]
    format_version: NotRequired[int]  # written by DigitModel.save
    arrays_file: NotRequired[str]
    arrays_sha256: NotRequired[str]
