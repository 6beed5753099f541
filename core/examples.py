"""Example photos the project makes itself, for a visitor with no photo at hand.

Each is a handwritten-looking digit drawn from strokes with a round pen
(Pillow's ``ImageDraw``), then put in a scene a phone would photograph: on
paper, on squared paper, in chalk on a board, under a shadow. Everything is
drawn by program from a fixed seed, so the same bytes come out every time and
nothing is downloaded. The app shows them on the Upload page (``pages/upload``);
the tests check that the shipped model reads each one right.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Point = tuple[float, float]
SUPERSAMPLE = 4  # strokes drawn this much larger, then reduced: anti-aliased edges


def _arc(cx: float, cy: float, r: float, start: float, stop: float) -> list[Point]:
    """Points on a circle from ``start`` to ``stop`` degrees (y down: 90 is below)."""
    count = max(2, math.ceil(abs(stop - start) / 8) + 1)
    angles = np.radians(np.linspace(start, stop, count))
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in angles]


# Digits in unit coordinates (y down), one or more polylines each, as a hand writes them.
STROKES: dict[int, list[list[Point]]] = {
    2: [[*_arc(0.5, 0.32, 0.2, 195, 375), (0.69, 0.38), (0.28, 0.88), (0.75, 0.88)]],
    3: [_arc(0.5, 0.29, 0.19, 200, 450) + _arc(0.5, 0.67, 0.22, -90, 155)],
    5: [
        [(0.36, 0.12), (0.33, 0.46), *_arc(0.48, 0.66, 0.22, -125, 150)],
        [(0.36, 0.12), (0.72, 0.12)],
    ],
    7: [[(0.26, 0.14), (0.74, 0.14), (0.42, 0.9)]],
}


def stroke_cover(strokes: list[list[Point]], size: int, pen: float, box: tuple) -> np.ndarray:
    """Ink coverage in [0, 1] of strokes drawn with a round pen.

    Parameters
    ----------
    strokes : list of polylines
        Unit coordinates (y down).
    size : int
        Side of the square picture, px.
    pen : float
        Stroke width, px.
    box : (left, top, side)
        Where the unit square goes in the picture, px.

    Returns
    -------
    numpy.ndarray
        float32 (size, size).
    """
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    left, top, side = (v * SUPERSAMPLE for v in box)
    width = pen * SUPERSAMPLE
    for stroke in strokes:
        points = [(left + x * side, top + y * side) for x, y in stroke]
        draw.line(points, fill=255, width=round(width), joint="curve")
        for x, y in (points[0], points[-1]):  # round caps
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    small = big.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    return y, x


def _ink_on(paper: np.ndarray, cover: np.ndarray, ink: tuple[float, float, float]) -> np.ndarray:
    """Ink of colour ``ink`` laid on an RGB paper with coverage ``cover``."""
    colour = np.asarray(ink, np.float32)
    return paper * (1 - cover[:, :, None]) + colour * cover[:, :, None]


SIZE = 360  # px, every example: a small phone photo


def on_paper(rng: np.random.Generator) -> np.ndarray:
    """A 2 in blue ballpoint on white paper under a lamp: light falling off to one corner."""
    y, x = _grid(SIZE)
    light = 0.95 - 0.18 * (x + y) / 2
    paper = np.stack([light, light * 0.98, light * 0.93], axis=-1)
    cover = stroke_cover(STROKES[2], SIZE, 9, (95, 80, 190))
    return _ink_on(paper, cover, (0.12, 0.16, 0.5))


def on_squared_paper(rng: np.random.Generator) -> np.ndarray:
    """A 7 in pencil on squared paper: light blue rules every 30 px, as in a school book."""
    paper = np.full((SIZE, SIZE, 3), (0.96, 0.96, 0.93), np.float32)
    rules = np.zeros((SIZE, SIZE), np.float32)
    rules[:, 14::30] = rules[14::30, :] = 0.55
    paper = _ink_on(paper, rules, (0.55, 0.7, 0.9))
    cover = stroke_cover(STROKES[7], SIZE, 8, (100, 85, 170))
    return _ink_on(paper, cover * 0.9, (0.2, 0.2, 0.22))


def chalk_on_board(rng: np.random.Generator) -> np.ndarray:
    """A 3 in chalk on a green board: light, grainy strokes on a dark, smudged ground."""
    y, x = _grid(SIZE)
    smudge = 0.04 * np.sin(7 * x + 3 * y) + rng.normal(0, 0.015, (SIZE, SIZE))
    board = np.stack([0.16 + smudge, 0.26 + smudge, 0.2 + smudge], axis=-1)
    cover = stroke_cover(STROKES[3], SIZE, 14, (90, 75, 200))
    grain = np.clip(rng.normal(0.8, 0.25, (SIZE, SIZE)), 0, 1).astype(np.float32)
    return _ink_on(board, cover * grain, (0.93, 0.94, 0.9))


def under_a_shadow(rng: np.random.Generator) -> np.ndarray:
    """A 5 in black felt pen on paper, half under a hand's hard-edged shadow."""
    y, x = _grid(SIZE)
    edge = 1 / (1 + np.exp(-((x - 0.55) + 0.4 * (y - 0.5)) / 0.01))  # 1 in the shadow
    light = 0.92 - 0.42 * edge
    paper = np.repeat(light[:, :, None], 3, axis=-1)
    cover = stroke_cover(STROKES[5], SIZE, 11, (85, 75, 200))
    return _ink_on(paper, cover, (0.06, 0.06, 0.08)) + rng.normal(0, 0.01, (SIZE, SIZE, 1))


@dataclass(frozen=True)
class Example:
    """One example photo: what it shows, the digit drawn, how it is made."""

    name: str
    label: str  # a button's word
    digit: int
    make: Callable[[np.random.Generator], np.ndarray]

    def png(self) -> bytes:
        """The photo as PNG bytes, the same on every call (seeded by the digit)."""
        picture = self.make(np.random.default_rng(self.digit))
        image = Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8), "RGB")
        buffer = io.BytesIO()
        image.filter(ImageFilter.GaussianBlur(0.6)).save(buffer, "PNG")  # a phone's softness
        return buffer.getvalue()


EXAMPLES: tuple[Example, ...] = (
    Example("On paper", "Paper", 2, on_paper),
    Example("On squared paper", "Squares", 7, on_squared_paper),
    Example("Chalk on a board", "Chalk", 3, chalk_on_board),
    Example("Under a shadow", "Shadow", 5, under_a_shadow),
)
