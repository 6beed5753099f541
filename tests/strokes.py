"""Digits as a person draws them: stroke templates and a canvas-like renderer.

``DIGIT_STROKES[d]`` lists variants of digit ``d``; a variant is a list of strokes
in drawing order; a stroke is a polyline of ``(x, y)`` points in unit coordinates
(``[0, 1] x [0, 1]``, y pointing down), dense enough along curves to look smooth.
The browser tests replay them with the mouse on a 280x280 canvas;
:func:`render_strokes` draws them the way streamlit-drawable-canvas does.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]
Stroke = list[Point]

SUPERSAMPLE = 4  # render this much larger, then box-reduce: anti-aliased edges


def arc(
    cx: float, cy: float, rx: float, ry: float, start: float, stop: float, step: float = 8.0
) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``stop`` (degrees, y down: 90 is below).

    Going from a smaller to a larger angle turns clockwise on screen.
    """
    count = max(2, math.ceil(abs(stop - start) / step) + 1)
    points = []
    for index in range(count):
        angle = math.radians(start + (stop - start) * index / (count - 1))
        points.append((cx + rx * math.cos(angle), cy + ry * math.sin(angle)))
    return points


def line(*points: Point, step: float = 0.04) -> Stroke:
    """A polyline through ``points`` with intermediate points every ``step`` or so."""
    out: Stroke = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        count = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        out += [
            (x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count) for i in range(1, count + 1)
        ]
    return out


def bezier(start: Point, control: Point, end: Point, count: int = 16) -> Stroke:
    """A quadratic Bezier curve from ``start`` to ``end`` pulled towards ``control``."""
    points = []
    for index in range(count):
        t = index / (count - 1)
        points.append(
            tuple(
                (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c
                for a, b, c in zip(start, control, end, strict=True)
            )
        )
    return points


def curve(function, count: int = 40) -> Stroke:
    """Points ``function(t)`` for ``t`` evenly spaced in [0, 1]."""
    return [function(index / (count - 1)) for index in range(count)]


def _eight(top: float, bottom: float, width: float) -> Stroke:
    """One-stroke 8 (a figure-eight Lissajous curve), started at the top right."""

    def point(t: float) -> Point:
        angle = 2 * math.pi * t + 0.35
        lobe = width * (0.8 if math.cos(angle) > 0 else 1.0)
        y = 0.5 * (top + bottom) - 0.5 * (bottom - top) * math.cos(angle)
        return (0.5 + 0.5 * lobe * math.sin(2 * angle), y)

    return curve(point, 72)


DIGIT_STROKES: dict[int, list[list[Stroke]]] = {
    0: [
        [arc(0.5, 0.5, 0.22, 0.38, -95, -95 - 370)],  # oval, anticlockwise from the top
        [arc(0.5, 0.5, 0.17, 0.38, -80, 290)],  # narrow oval, clockwise
        [
            [
                (
                    0.5 + 0.2 * math.cos(a) + 0.06 * (0.5 - (0.5 + 0.37 * math.sin(a))),
                    0.5 + 0.37 * math.sin(a),
                )
                for a in np.radians(np.arange(-90, -460, -10))
            ]
        ],
    ],
    1: [
        [line((0.5, 0.1), (0.5, 0.9))],  # a vertical bar
        [line((0.36, 0.26), (0.53, 0.1), (0.53, 0.9))],  # with a flag
        [line((0.36, 0.26), (0.52, 0.1), (0.52, 0.9)), line((0.36, 0.9), (0.68, 0.9))],  # + base
    ],
    2: [
        [arc(0.5, 0.32, 0.2, 0.2, 195, 375) + line((0.69, 0.38), (0.28, 0.88), (0.75, 0.88))],
        [
            arc(0.48, 0.3, 0.2, 0.18, 200, 385)
            + bezier((0.67, 0.35), (0.6, 0.66), (0.27, 0.87))[1:]
            + line((0.27, 0.87), (0.5, 0.85), (0.78, 0.87))[1:]
        ],  # curved neck
    ],
    3: [
        [arc(0.5, 0.29, 0.19, 0.18, 200, 450) + arc(0.5, 0.67, 0.22, 0.21, -90, 155)],
        [line((0.28, 0.12), (0.7, 0.12), (0.45, 0.42)) + arc(0.48, 0.65, 0.23, 0.23, -80, 150)],
    ],
    4: [
        [line((0.35, 0.1), (0.28, 0.58), (0.78, 0.58)), line((0.64, 0.12), (0.64, 0.9))],  # open
        [line((0.62, 0.1), (0.24, 0.62), (0.8, 0.62)), line((0.62, 0.1), (0.62, 0.9))],  # closed
    ],
    5: [
        [
            line((0.36, 0.12), (0.33, 0.46)) + arc(0.48, 0.66, 0.22, 0.22, -125, 150),
            line((0.36, 0.12), (0.72, 0.12)),
        ],  # the flag drawn last, apart
        [line((0.72, 0.12), (0.37, 0.12), (0.34, 0.46)) + arc(0.49, 0.66, 0.22, 0.22, -125, 150)],
    ],
    6: [
        [arc(0.8, 0.62, 0.5, 0.52, -105, -180) + arc(0.5, 0.68, 0.2, 0.2, 180, 525)],
        [line((0.64, 0.1), (0.36, 0.5)) + arc(0.52, 0.67, 0.2, 0.21, 200, 560)],
    ],
    7: [
        [line((0.26, 0.14), (0.74, 0.14), (0.42, 0.9))],
        [line((0.26, 0.14), (0.74, 0.14), (0.42, 0.9)), line((0.38, 0.52), (0.7, 0.52))],
        [line((0.27, 0.24), (0.29, 0.13), (0.73, 0.15), (0.48, 0.9))],  # with a hook
    ],
    8: [
        [_eight(0.1, 0.9, 0.44)],  # one stroke
        [arc(0.5, 0.29, 0.17, 0.18, -90, 270), arc(0.5, 0.68, 0.22, 0.21, -90, 270)],  # two rings
    ],
    9: [
        [arc(0.5, 0.32, 0.2, 0.2, 10, -350) + line((0.7, 0.33), (0.66, 0.9))],
        [arc(0.48, 0.3, 0.2, 0.19, 0, -360) + arc(0.36, 0.5, 0.32, 0.4, 0, 110)[1:]],  # curved tail
    ],
}


def transform(
    point: Point, size: int, offset: tuple[float, float], scale: float, slant: float
) -> Point:
    """Unit coordinates to pixels: scaled about the centre, slanted, then offset."""
    x, y = point
    x = 0.5 + (x - 0.5) * scale + slant * (0.5 - y) * scale
    y = 0.5 + (y - 0.5) * scale
    return (x * size + offset[0], y * size + offset[1])


def coverage(
    strokes: list[Stroke],
    size: int = 280,
    pen: float = 18,
    offset: tuple[float, float] = (0, 0),
    scale: float = 1.0,
    slant: float = 0.0,
    height: int | None = None,
    supersample: int = SUPERSAMPLE,
) -> np.ndarray:
    """Anti-aliased pen coverage in [0, 1], float32 (height, size)."""
    height = height or size
    big = Image.new("L", (size * supersample, height * supersample), 0)
    draw = ImageDraw.Draw(big)
    radius = pen * supersample / 2
    for stroke in strokes:
        points = [
            tuple(v * supersample for v in transform(p, size, offset, scale, slant)) for p in stroke
        ]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(pen * supersample)), joint="curve")
        for x, y in points:  # round caps and joints
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    small = big.reduce(supersample)
    return np.asarray(small, dtype=np.float32) / 255


def render_strokes(
    strokes: list[Stroke],
    size: int = 280,
    pen: float = 18,
    ink: int = 255,
    background: int = 0,
    offset: tuple[float, float] = (0, 0),
    scale: float = 1.0,
    slant: float = 0.0,
    mode: str = "RGBA-canvas",
) -> np.ndarray:
    """Draw strokes like streamlit-drawable-canvas and return the image array.

    Parameters
    ----------
    strokes : list of polylines
        In unit coordinates, as in :data:`DIGIT_STROKES`.
    size : int
        Canvas side in pixels.
    pen : float
        Stroke width in pixels (round caps and joints).
    ink, background : int
        Grey levels 0-255 of the strokes and of the background.
    offset : (float, float)
        Pixels added to x and y after scaling.
    scale : float
        Size of the digit relative to the canvas, about the canvas centre.
    slant : float
        Shear: x moves by ``slant * (0.5 - y)``, positive leans right.
    mode : {"RGBA-canvas", "RGBA", "RGB", "L"}
        ``"RGBA-canvas"`` is what the canvas component hands back: the strokes in
        ``ink`` with alpha = coverage over a fully transparent background whose RGB
        is 0. ``"RGBA"`` is opaque, ``"RGB"`` and ``"L"`` are the flattened picture.

    Returns
    -------
    numpy.ndarray
        uint8 (size, size, 4), (size, size, 3) or (size, size).
    """
    cover = coverage(strokes, size, pen, offset, scale, slant)
    if mode == "RGBA-canvas":
        out = np.zeros((size, size, 4), np.uint8)
        out[:, :, :3] = np.where(cover[:, :, None] > 0, ink, 0)
        out[:, :, 3] = np.round(cover * 255)
        return out
    grey = np.round(background + (ink - background) * cover).astype(np.uint8)
    if mode == "L":
        return grey
    if mode == "RGB":
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "RGBA":
        return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    raise ValueError(f"unknown mode {mode!r}")


# Digits whose own long stroke runs off the picture at both ends, well past the rest:
# the pen's stroke, not a line of ruled paper (core.preprocess._lone_rule must leave
# them; tests of the rules and of the whole reading use them).
EDGE_TO_EDGE = {
    7: [line((0.0, 0.15), (1.0, 0.15)), line((0.8, 0.15), (0.45, 0.9))],  # bar off both sides
    2: [line((0.3, 0.2), (0.7, 0.2), (0.7, 0.5), (0.28, 0.85)), line((0.0, 0.85), (1.0, 0.85))],
    4: [line((0.35, 0.2), (0.28, 0.58), (0.78, 0.58)), line((0.64, 0.0), (0.64, 1.0))],
}
