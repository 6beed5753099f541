"""The sure / not sure verdict on one reading, shared by the app and the command line.

A linear model's probability is a softmax of scores; on an input unlike its
training digits it can be 99% and mean nothing. A reading is called *sure* only
when everything that is known to go with wrong answers is absent:

1. the digit is drawn small for its pen (:attr:`Preprocessed.stroke_ratio` over
   ``MAX_STROKE_RATIO``): its loops are filled in, no pipeline can recover them;
2. the calibrated probability of the best class is under the model's
   ``sure_probability`` (from its card's calibration, see
   :func:`core.train.calibrate`; ``DEFAULT_SURE_PROBABILITY`` for an uncalibrated
   model). Then the reason given is that two digits are close when the runner-up
   has at least ``CLOSE_SHARE`` of the best one's probability; that the input is
   unlike the digits the model learned from when no class reaches
   ``UNLIKE_PROBABILITY``; else the probability and the threshold it missed;
3. a loop of the drawn digit is lost in what the model sees (:func:`lost_loop`: a
   small loop, as of an 8 with a tiny top, closes when scaled to 28×28 and
   blurred) and the probability is under the model's ``lost_loop_probability``,
   a higher bar from the same calibration: such readings are wrong more often
   than their probability says;
4. the drawing has two loops or more and the answer cannot be an 8
   (:func:`two_loops`): only an 8 has two, and a linear model reads an 8 with a
   small top loop as a 0 (or one with a flat bottom loop as a 2) at 99% if it likes;
5. the drawing has a loop and the answer is a 1 or a 7 (:func:`looped_stroke`),
   digits of open strokes: a linear model reads a 9 with a small head as a 7.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.preprocess import count_loops

# MNIST's stroke is 0.14 of the digit's longest side (median; 99th percentile about
# 0.25); on the canvas a default 16 px pen on a digit under ~55 px reaches 0.3.
MAX_STROKE_RATIO = 0.3
DEFAULT_SURE_PROBABILITY = 0.6  # models without a calibration: the app's earlier rule
CLOSE_SHARE = 0.4  # a runner-up with this share of the best probability is close
UNLIKE_PROBABILITY = 0.5  # under this, with no close runner-up, no class fits the input
DIGITS = frozenset("0123456789")  # class names that are one digit (not "not 3", "-1")

TOO_SMALL = "too small for the pen: draw the digit bigger, or with a thinner pen"
UNLIKE = "unlike the digits it learned from"
LOST_LOOP = "a loop is too small to show at 28×28 pixels: draw the loops bigger"
TWO_LOOPS = "the drawing has two loops, as only an 8 has"
LOOPED = "the drawing has a loop, as a {} has not"
OPEN_DIGITS = frozenset("17")  # digits whose strokes close no loop, in any common style


@dataclass(frozen=True)
class Verdict:
    """How one reading should be shown.

    Attributes
    ----------
    best : int
        Column of the most probable class in the probabilities.
    probability : float
        Its calibrated probability.
    runner_up : int
        Column of the second most probable class.
    runner_up_probability : float
    sure : bool
        Whether the answer may be shown as sure.
    why : str or None
        When not sure, one short phrase saying why; None when sure.
    """

    best: int
    probability: float
    runner_up: int
    runner_up_probability: float
    sure: bool
    why: str | None


def sure_probability(card: dict, key: str = "sure_probability") -> float | None:
    """The probability a model's answer needs to be sure: its calibration's, else the default.

    ``key="lost_loop_probability"``: the bar when a loop was lost (:func:`lost_loop`);
    None for a model calibrated without one (no such rule).
    """
    calibration = card.get("calibration")
    if isinstance(calibration, dict):
        value = calibration.get(key)
        if isinstance(value, (int, float)) and 0 < value < 1:
            return float(value)
    return DEFAULT_SURE_PROBABILITY if key == "sure_probability" else None


def lost_loop(loops: int, model_input: np.ndarray) -> bool:
    """Whether the model's input shows fewer loops than the drawn or redrawn strokes had.

    Parameters
    ----------
    loops : int
        :attr:`core.preprocess.Preprocessed.loops`.
    model_input : numpy.ndarray
        (28, 28) float32, what the model sees (``DigitModel.transform``).
    """
    return count_loops(np.asarray(model_input).reshape(28, 28)) < loops


def two_loops(loops: int, answer: str, names: Sequence[str]) -> bool:
    """Whether the drawing has two loops or more and yet the answer cannot be an 8.

    Parameters
    ----------
    loops : int
        :attr:`core.preprocess.Preprocessed.loops`.
    answer : str
        The best class's name: a digit, or the rest of a one-vs-rest model ("not 3",
        or "-1" on the command line), which holds the 8s unless 8 is the model's digit.
    names : sequence of str
        Every class's name.
    """
    if loops < 2 or answer == "8":
        return False
    return answer in DIGITS or "8" in names


def looped_stroke(loops: int, answer: str) -> bool:
    """Whether the drawing has a loop and yet the answer is a digit of open strokes
    (``OPEN_DIGITS``: a 1 or a 7).

    Parameters
    ----------
    loops : int
        :attr:`core.preprocess.Preprocessed.loops`.
    answer : str
        The best class's name.
    """
    return loops >= 1 and answer in OPEN_DIGITS


def judge(
    names: Sequence[str],
    probs: np.ndarray,
    stroke_ratio: float = 0.0,
    threshold: float = DEFAULT_SURE_PROBABILITY,
    loop_lost: bool = False,
    loop_threshold: float | None = None,
    loops: int = 0,
) -> Verdict:
    """The verdict on one reading.

    Parameters
    ----------
    names : sequence of str
        What to call each class in ``why`` ("7", or "not 2"), in the order of ``probs``.
    probs : numpy.ndarray
        (n_classes,) calibrated probabilities (``DigitModel.predict_proba``).
    stroke_ratio : float
        :attr:`core.preprocess.Preprocessed.stroke_ratio` (0 when unknown).
    threshold : float
        :func:`sure_probability` of the model.
    loop_lost : bool
        :func:`lost_loop` of the reading.
    loop_threshold : float or None
        ``sure_probability(card, "lost_loop_probability")``: with ``loop_lost``, the
        probability needed instead of ``threshold`` (None: no such rule).
    loops : int
        :attr:`core.preprocess.Preprocessed.loops` (0 when unknown): with two or
        more, an answer other than 8 is not sure (:func:`two_loops`); with one or
        more, nor is a 1 or a 7 (:func:`looped_stroke`).

    Returns
    -------
    Verdict
    """
    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(probs)[::-1]
    best, runner = int(order[0]), int(order[1])
    top, second = float(probs[best]), float(probs[runner])
    why = None
    if stroke_ratio > MAX_STROKE_RATIO:
        why = TOO_SMALL
    elif top < threshold:
        if second >= CLOSE_SHARE * top:
            why = f"two digits are close: {names[best]} or {names[runner]}"
        elif top < UNLIKE_PROBABILITY:
            why = UNLIKE
        else:
            shown = f"{top:.0%}"
            if round(top * 100) >= round(threshold * 100):  # not "72% is under the 72%"
                shown = f"{math.floor(top * 1000) / 10:.1f}%"
            why = f"{shown} is under the {threshold:.0%} this model needs to be sure"
    elif loop_lost and loop_threshold is not None and top < loop_threshold:
        why = LOST_LOOP
    elif two_loops(loops, names[best], names):
        why = TWO_LOOPS
    elif looped_stroke(loops, names[best]):
        why = LOOPED.format(names[best])
    return Verdict(
        best=best,
        probability=top,
        runner_up=runner,
        runner_up_probability=second,
        sure=why is None,
        why=why,
    )
