"""A personal set: one person's digits drawn on the canvas, not MNIST.

A person writes alike every time. This one draws with a finger on a phone:
the same way of drawing each digit (one stroke template per digit), a slant
to the right, a thick stroke for a digit drawn small somewhere on the canvas
(the shipped model reads such digits worst, see ``bench/eval_real.py``); each
drawing still varies a little (jitter, size, slant, position, stroke width).
Rendered as the canvas sends it (RGBA PNG, white strokes) with
:func:`tests.strokes.coverage`.

``personal_set(100)`` gives 100 ``(png bytes, label)`` pairs, ten of each
digit, deterministically.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.strokes import DIGIT_STROKES, coverage
from tests.wild import CANVAS, _jitter

# This person's way of writing each digit: an index into DIGIT_STROKES[digit].
HAND = {0: 2, 1: 2, 2: 1, 3: 1, 4: 0, 5: 0, 6: 1, 7: 2, 8: 0, 9: 1}
SLANT = 0.2  # leans right
PEN = 30.0  # px on the 280-px canvas: a fingertip


def personal_drawing(digit: int, rng: np.random.Generator) -> bytes:
    """One drawing of ``digit`` in this person's hand, as the canvas's PNG."""
    strokes = _jitter(DIGIT_STROKES[digit][HAND[digit]], rng, 0.006)
    scale = rng.uniform(0.3, 0.42)
    room = (1 - scale) * CANVAS / 2 - PEN
    offset = tuple(rng.uniform(-room, room, 2) * 0.8)
    cover = coverage(
        strokes,
        CANVAS,
        PEN * rng.uniform(0.85, 1.2),
        offset,
        scale,
        SLANT + rng.normal(0, 0.05),
    )
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    rgba[:, :, :3] = np.where(cover[:, :, None] > 0, 255, 0)
    rgba[:, :, 3] = np.round(cover * 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def personal_set(n: int = 100, seed: int = 0) -> list[tuple[bytes, int]]:
    """``n`` drawings (labels 0-9 in turn) as ``(png bytes, label)``."""
    rng = np.random.default_rng(seed)
    return [(personal_drawing(i % 10, rng), i % 10) for i in range(n)]
