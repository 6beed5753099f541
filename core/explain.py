"""How a model reads one image: the analysis every explanation view shows.

Plain Python (no Streamlit): the app's views (``ui.views``) cache and lay out
what is computed here, and the tests check it directly. An :class:`Analysis`
holds the preprocessing stages, the probabilities and, per scored class, the
pixel × weight contributions whose sum plus the intercept is the logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.augment import STYLE_WORDS, learned_print, learned_styles
from core.model import DigitModel
from core.preprocess import PreprocessOptions, preprocess
from core.verdict import Verdict, judge, lost_loop, sure_probability

TRANSFORM_WORDS = {
    "none": "",
    "deskew": "deskewed",
    "deskew+soften": "deskewed, softened",
    "deskew+aspect+soften": "deskewed, narrow digits widened, softened",
}


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
    words = [STYLE_WORDS[digit] for digit in learned_styles(card) or ()]
    if learned_print(card):
        words.append("printed digits")
    learned = f"; also learned {', '.join(words[:-1])} and {words[-1]}" if words else ""
    return f"`{label or model.name}`: reads {what}{seen}{score}{learned}."


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
    loops: int = 0  # loops of the drawn strokes (Preprocessed.loops)
    sure_probability: float = 0.6  # the model's threshold (core.verdict.sure_probability)
    lost_loop_probability: float | None = None  # its bar when a loop was lost
    temperature: float = 1.0  # the model's calibration: P = softmax(logits / temperature)
    dot: bool = False  # blank because the ink is a dot or a blob (Preprocessed.dot)

    @property
    def verdict(self) -> Verdict:
        """Sure or not, and why (:func:`core.verdict.judge`): the same as ``classify --json``."""
        return judge(
            self.labels,
            self.probs,
            self.stroke_ratio,
            self.sure_probability,
            lost_loop(self.loops, self.model_input),
            self.lost_loop_probability,
            self.loops,
        )

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
    return explain(
        result.pixels,
        model,
        model_name,
        stages,
        result.is_blank,
        result.stroke_ratio,
        result.loops,
        result.dot,
    )


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
    loops: int = 0,
    dot: bool = False,
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
        loops=loops,
        dot=dot,
        sure_probability=sure_probability(model.card),
        lost_loop_probability=sure_probability(model.card, "lost_loop_probability"),
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


@dataclass(frozen=True)
class Pixel:
    """One pixel of the model input and what changing it alone would do to a logit gap."""

    row: int
    col: int
    value: float  # the model input's value there, in [0, 1]
    effect: float  # the change of the gap (A − B) if it were set to 1 (ink) or 0 (erase)


@dataclass(frozen=True)
class Contrast:
    """Why class A and not class B: one map whose sum is the logit gap.

    ``intercept_gap + map.sum() == gap == logit(A) − logit(B)`` exactly (up to
    float rounding). A positive gap means the model prefers A; with softmax
    and temperature T, ``gap / T = log(P(A) / P(B))``.
    """

    a: int  # the classes compared, as in Analysis.classes
    b: int
    names: tuple[str, str]  # how the user reads them ("7", "not 7")
    map: np.ndarray  # (28, 28) float64: model input × (weight of A − weight of B)
    intercept_gap: float  # intercept of A − intercept of B
    gap: float  # logit of A − logit of B
    gradient: np.ndarray  # (28, 28) float64: d gap / d model-input pixel = weight A − weight B
    model_input: np.ndarray  # (28, 28) float64 in [0, 1]: the image the weights multiply
    ink: tuple[Pixel, ...]  # pixels whose inking most moves the gap towards the loser
    erase: tuple[Pixel, ...]  # pixels whose erasing most moves the gap towards the loser

    @property
    def winner(self) -> int:
        """The class of the two that the model prefers (A on a tie)."""
        return self.a if self.gap >= 0 else self.b


def _class_rows(analysis: Analysis) -> tuple[np.ndarray, np.ndarray]:
    """(k_classes, 28, 28) weights and (k_classes,) intercepts, one row per class.

    A binary model has one row scoring its second class against its first: its
    first class's row is zero (logit 0), so that differences of rows are still
    the model's own logit gaps.
    """
    weights = np.asarray(analysis.weights, dtype=np.float64)
    intercepts = np.asarray(analysis.intercepts, dtype=np.float64)
    if analysis.is_binary:
        weights = np.concatenate([np.zeros_like(weights), weights])
        intercepts = np.concatenate([[0.0], intercepts])
    return weights, intercepts


def contrast(analysis: Analysis, a: int, b: int, top: int = 8) -> Contrast:
    """Why the model reads class ``a`` rather than ``b`` (or not): the contrast of two classes.

    The map is (model input × weight of A) − (model input × weight of B), the
    difference of the two classes' contribution maps; its sum plus the
    intercepts' difference is the logit gap, exactly. For a binary model with
    A its second class and B its first, the map is the model's own single
    contribution map (and its negative the other way round).

    "Inking" and "erasing" are about the **model input**, the 28×28 image the
    weights multiply (the last stage shown, after the model's own input
    transform, e.g. deskew and soften): the model is linear there, so setting
    one pixel of it to 1 (ink) changes the gap by exactly ``(1 − x) × gradient``
    and setting it to 0 (erase) by ``−x × gradient``, where ``x`` is its value.
    A stroke drawn on the canvas reaches the model input blurred and deskewed,
    so there the figures are a guide, not an exact prediction.

    Parameters
    ----------
    analysis : Analysis
    a, b : int
        Two distinct classes of ``analysis.classes`` (e.g. digits 9 and 4).
    top : int
        How many pixels to list for inking and for erasing.

    Returns
    -------
    Contrast
        ``ink`` and ``erase`` list the ``top`` pixels whose change alone moves
        the gap most towards the class now losing, largest effect first; a pixel
        that would move it the other way is never listed.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not one of the model's classes, or they are equal.
    """
    classes = list(analysis.classes)
    if a not in classes or b not in classes:
        raise ValueError(f"classes to compare must be among {classes}, got {a} and {b}")
    if a == b:
        raise ValueError(f"two different classes are needed to compare, got {a} twice")
    i, j = classes.index(a), classes.index(b)
    weights, intercepts = _class_rows(analysis)
    gradient = weights[i] - weights[j]
    seen = np.asarray(analysis.model_input, dtype=np.float64)
    gap_map = seen * gradient
    intercept_gap = float(intercepts[i] - intercepts[j])
    gap = intercept_gap + float(gap_map.sum())
    # Towards the loser: lower the gap if A leads, raise it if B does.
    towards = -1.0 if gap >= 0 else 1.0
    ink_effect = (1.0 - seen) * gradient
    erase_effect = -seen * gradient
    labels = analysis.labels
    return Contrast(
        a=a,
        b=b,
        names=(labels[i], labels[j]),
        map=gap_map,
        intercept_gap=intercept_gap,
        gap=gap,
        gradient=gradient,
        model_input=seen,
        ink=_strongest(ink_effect, seen, towards, top),
        erase=_strongest(erase_effect, seen, towards, top),
    )


def _strongest(effect: np.ndarray, seen: np.ndarray, towards: float, top: int) -> tuple:
    """The ``top`` pixels whose effect has the sign ``towards``, largest first."""
    signed = effect * towards
    order = np.argsort(-signed, axis=None, kind="stable")[:top]
    return tuple(
        Pixel(int(r), int(c), float(seen[r, c]), float(effect[r, c]))
        for r, c in zip(*np.unravel_index(order, effect.shape), strict=True)
        if signed[r, c] > 0
    )


def default_pair(analysis: Analysis) -> tuple[int, int]:
    """The prediction and the runner-up: the pair a learner asks about first."""
    order = np.argsort(-analysis.probs, kind="stable")
    return analysis.classes[int(order[0])], analysis.classes[int(order[1])]
