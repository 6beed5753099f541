"""How a model reads one image: the analysis every explanation view shows.

Plain Python (no Streamlit): the app's views (``ui.views``) cache and lay out
what is computed here, and the tests check it directly. An :class:`Analysis`
holds the preprocessing stages, the probabilities and, per scored class, the
pixel × weight contributions whose sum plus the intercept is the logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.model import DigitModel
from core.preprocess import PreprocessOptions, preprocess
from core.verdict import Verdict, judge, sure_probability

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


@dataclass(frozen=True)
class Analysis:
    """Everything the explanation view shows about one image and one model."""

    model_name: str  # the key the app knows the model by (see ui.session)
    is_blank: bool
    stages: tuple[tuple[str, np.ndarray], ...]  # (label, uint8 image) from raw to model input
    classes: tuple[int, ...]  # the model's classes, in the order of probs
    probs: np.ndarray  # (n_classes,)
    maps: np.ndarray  # (k, 28, 28) pixel × weight on the model's input
    intercepts: np.ndarray  # (k,)
    logits: np.ndarray  # (k,)
    scored: tuple[int, ...]  # the class each map row scores
    model_input: np.ndarray  # (28, 28) float32
    pixels: np.ndarray  # (28, 28) uint8: the MNIST-format image the model was given
    weights: np.ndarray  # (k, 28, 28) the model's weight images (read-only, shared)
    names: tuple[str, ...] = ()  # what to call each class ("not 2" for the rest); () = digits
    stroke_ratio: float = 0.0  # the input's stroke width / size (Preprocessed.stroke_ratio)
    sure_probability: float = 0.6  # the model's threshold (core.verdict.sure_probability)
    temperature: float = 1.0  # the model's calibration: P = softmax(logits / temperature)

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

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2


def as_uint8(image: np.ndarray) -> np.ndarray:
    """An image in [0, 1] as 8-bit pixels."""
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


def analyse_image(
    data: bytes,
    model: DigitModel,
    model_name: str,
    options: PreprocessOptions | None = None,
) -> Analysis:
    """Preprocess an encoded image and explain the model's reading of it.

    Parameters
    ----------
    data : bytes
        PNG, JPEG, ... as uploaded or drawn.
    model : DigitModel
    model_name : str
        The key the caller knows the model by, kept in the analysis.
    options : PreprocessOptions, optional

    Raises
    ------
    core.errors.ImageError
        If the bytes are not a readable image.
    """
    result = preprocess(data, options or PreprocessOptions())
    stages = tuple((stage.name, _square(as_uint8(stage.image))) for stage in result.stages)
    return explain(result.pixels, model, model_name, stages, result.is_blank, result.stroke_ratio)


def analyse_mnist(pixels: np.ndarray, model: DigitModel, model_name: str, source: str) -> Analysis:
    """Explain the model's reading of an image already in MNIST format (e.g. a test digit).

    Parameters
    ----------
    pixels : numpy.ndarray
        (28, 28), uint8 as in the MNIST files or float in [0, 1]; no preprocessing.
    model : DigitModel
    model_name : str
        The key the caller knows the model by.
    source : str
        Caption of the first stage, e.g. ``"MNIST test digit 1234"``.
    """
    pixels = np.asarray(pixels)
    image = pixels.astype(np.float32) / 255.0 if pixels.dtype == np.uint8 else pixels
    image = np.asarray(image, dtype=np.float32)
    return explain(image, model, model_name, ((source, as_uint8(image)),), not image.any())


def explain(
    pixels: np.ndarray,
    model: DigitModel,
    model_name: str,
    stages: tuple,
    is_blank: bool,
    stroke_ratio: float = 0.0,
) -> Analysis:
    """The model's reading of a 28×28 image in [0, 1], after the given stages."""
    contributions = model.contributions(pixels)
    how = transform_words(model.input_transform)
    last = f"model input ({how})" if how else "model input"
    probs = model.predict_proba(pixels[None])[0]
    return Analysis(
        model_name=model_name,
        is_blank=is_blank,
        stages=(*stages, (last, as_uint8(contributions.model_input))),
        classes=tuple(int(c) for c in model.classes_),
        probs=probs.astype(np.float64),
        maps=np.asarray(contributions.maps, dtype=np.float32),
        intercepts=np.asarray(contributions.intercepts, dtype=np.float64),
        logits=np.asarray(contributions.logits, dtype=np.float64),
        scored=contributions.classes,
        model_input=np.asarray(contributions.model_input, dtype=np.float32),
        pixels=as_uint8(pixels),
        weights=model.coefficient_images(),
        names=tuple(class_names(model)),
        stroke_ratio=stroke_ratio,
        sure_probability=sure_probability(model.card),
        temperature=model.temperature,
    )


def mnist_image(analysis: Analysis) -> np.ndarray:
    """The 28×28 MNIST-format image (uint8) that preprocessing made and the model was given."""
    return analysis.pixels


def reading(verdict: Verdict, labels: tuple[str, ...]) -> tuple[str, str]:
    """The Prediction metric's value and the line under it.

    ``("7", "93% sure")``, or when the verdict is not sure ``("7?", "not sure: two
    digits are close: 7 or 9 (7 48%, 9 40%)")`` and the like, with its reason.
    """
    best = labels[verdict.best]
    if verdict.sure:
        return best, f"{verdict.probability:.0%} sure"
    runner = f"{labels[verdict.runner_up]} {verdict.runner_up_probability:.0%}"
    return f"{best}?", f"not sure: {verdict.why} ({best} {verdict.probability:.0%}, {runner})"


def logit_rows(analysis: Analysis) -> list[dict[str, str]]:
    """The small table: intercept + sum of contributions = logit, per scored class."""
    rows = []
    binary = analysis.is_binary
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
