"""Labelled variants of each failure kind of issue 11, generated deterministically.

Kinds (``KINDS``), as in ``../shared/cases/labels.csv``; each has sub-kinds
(``SUBKINDS``) that vary the way the kind happens:

* ``A`` sharp light edges in a photo: the sheet's edge on a desk (apart from the
  digit or touching it), a hard shadow edge across the paper, a dark corner;
* ``B`` a small ballpoint digit (1-3 px strokes) in a large photo (1000-4000 px,
  digit 5-12 % or 12-30 % of the frame), paper grain, some stored EXIF-rotated;
* ``C`` strokes thick for the image: tight crops of marker digits, bold print and
  felt-tip filling 70-95 % of the frame, on white, tinted or patterned paper; and
  a digit cropped close from a written number, its neighbours' pieces at the sides;
* ``D`` a small digit drawn with a wide pen on the 280x280 canvas, loops filled:
  expected ``label-or-unsure``;
* ``E`` frames and lines as dark as the ink: form boxes (apart or touching),
  circled digits, grid and ruled lines, box edges partly in frame;
* ``F`` thin strokes around small loops (0, 2 with a loop, closed 4, 6, 8, 9) on
  squared or plain paper and on the canvas: the loops must survive;
* ``G`` soft or blurry (a Gaussian blur of 2-4 or 4-8 px at the pipeline's 200 px
  working scale), low-contrast photos on grey paper;
* ``canvas`` canvas drawings by "writers nobody trained on": any pen 3-40 px,
  digit 15-95 % of the canvas (sub-kinds small, medium, large), anywhere, slanted,
  rotated, squeezed, bent, in more styles (``MORE_STYLES``); a pen wider than 20 %
  of the digit's height may close its loops as in D, so those expect
  ``label-or-unsure``;
* ``regression`` what reads right today and must stay right: clean canvas,
  photos under uneven light, blue ink, chalk on a board, white-on-black scans,
  transparent PNGs.

Every variant is drawn from the stroke templates of :mod:`tests.strokes` (plus
``SMALL_LOOPS`` and ``MORE_STYLES`` here) or Pillow's built-in font, with numpy and
Pillow only, and is seeded by ``(seed, kind, index)`` (:func:`make_variant`): the
first ``n`` variants of a kind are the same whatever ``count`` is asked for.
Sub-kinds and digits take turns. File names are
``{kind}_{subkind}_{index}_{digit}.{ext}`` (:func:`subkind_of`).

From the repository root: ``.venv/bin/python -m tests.kinds DIR [--count N]``
writes the files and a ``labels.csv`` (``file,label,kind,expect``, as in
``../shared/cases``), in one process per core. 60 of each kind cost 37 CPU-seconds
(about 70 ms a variant; the large photos of A and B cost most): about 20 s on two
free cores, measured 2026-11-30 on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.strokes import DIGIT_STROKES, Stroke, arc, bezier, coverage, line, render_strokes
from tests.wild import EXIF_ORIENTATION, STORED, _jitter, _lighting, _smooth_noise
from tests.wild import photo as wild_photo

CANVAS = 280
TEMPLATE_HEIGHT = 0.8  # the templates span y in about [0.1, 0.9]
WORK_SIDE = 200  # the pipeline's working side (core.preprocess.WORK_SIDE), for blur in G

# Digits whose loops are small next to the digit: the loops must survive (kind F).
SMALL_LOOPS: dict[int, list[list[Stroke]]] = {
    0: [[arc(0.5, 0.5, 0.11, 0.38, -95, -460)]],  # a narrow 0
    2: [
        [
            arc(0.5, 0.3, 0.19, 0.19, 195, 375)
            + line((0.69, 0.34), (0.36, 0.74))[1:]
            + arc(0.36, 0.8, 0.07, 0.07, -90, -450)[1:]
            + line((0.36, 0.73), (0.5, 0.87), (0.78, 0.86))[1:]
        ]
    ],  # a 2 with a loop at its foot
    4: [[line((0.6, 0.1), (0.42, 0.6), (0.78, 0.6)), line((0.6, 0.1), (0.6, 0.9))]],
    6: [[arc(0.9, 0.7, 0.55, 0.6, -105, -180) + arc(0.47, 0.76, 0.12, 0.12, 180, 530)]],
    8: [[arc(0.5, 0.24, 0.1, 0.13, -90, 270), arc(0.5, 0.64, 0.19, 0.25, -90, 270)]],
    9: [[arc(0.5, 0.24, 0.12, 0.13, 10, -350) + line((0.62, 0.26), (0.58, 0.9))]],
}

# More ways people write some digits, for the canvas writers.
MORE_STYLES: dict[int, list[list[Stroke]]] = {
    1: [[line((0.3, 0.32), (0.56, 0.1), (0.56, 0.9))]],  # a long flag
    3: [[arc(0.47, 0.3, 0.2, 0.19, 210, 440) + arc(0.47, 0.68, 0.25, 0.22, -80, 160)[1:]]],
    4: [[line((0.62, 0.9), (0.62, 0.1), (0.22, 0.64), (0.8, 0.64))]],  # one stroke
    5: [[line((0.7, 0.1), (0.36, 0.12), (0.3, 0.5)) + arc(0.5, 0.66, 0.24, 0.22, -140, 140)[1:]]],
    7: [[line((0.24, 0.14), (0.76, 0.14)) + bezier((0.76, 0.14), (0.5, 0.42), (0.46, 0.9))[1:]]],
    9: [[arc(0.46, 0.3, 0.2, 0.2, 0, -360) + bezier((0.66, 0.3), (0.66, 0.7), (0.4, 0.9))[1:]]],
}

INKS = {  # RGB in [0, 1]
    "black": (0.12, 0.12, 0.13),
    "blue": (0.12, 0.17, 0.52),
    "pen": (0.05, 0.05, 0.08),
    "marker": (0.04, 0.04, 0.05),
}
DESKS = ((0.36, 0.22, 0.13), (0.2, 0.2, 0.22), (0.45, 0.42, 0.38), (0.18, 0.3, 0.4))

KINDS = ("A", "B", "C", "D", "E", "F", "G", "canvas", "regression")
SUBKINDS: dict[str, tuple[str, ...]] = {
    "A": ("sheet-edge", "sheet-edge-touching", "shadow-edge", "dark-corner"),
    "B": ("tiny", "small", "exif"),
    "C": ("marker-crop", "bold-print", "felt-tip", "pattern", "from-a-number"),
    "D": ("wide-pen",),
    "E": ("box", "box-touching", "circled", "grid", "ruled", "partial-box"),
    "F": ("squared-paper", "plain-paper", "canvas"),
    "G": ("soft", "blurry"),
    "canvas": ("small", "medium", "large"),
    "regression": (
        "canvas",
        "uneven-light",
        "blue-ink",
        "chalk",
        "exif",
        "white-on-black",
        "transparent",
    ),
}
EXPECT = {"D": "label-or-unsure"}  # the rest: "label", but a canvas drawing with a pen
# over 20 % of the digit's height is "label-or-unsure" too

Variant = tuple[str, bytes, int, str]


# ------------------------------------------------------------------ strokes and pictures


def _strokes(digit: int, rng: np.random.Generator, pool: str = "templates") -> list[Stroke]:
    """One template of ``digit``, slightly reshaped like a different hand.

    ``pool`` is ``"templates"`` (:data:`tests.strokes.DIGIT_STROKES`),
    ``"small-loops"`` (:data:`SMALL_LOOPS`) or ``"all"`` (those and :data:`MORE_STYLES`).
    """
    if pool == "small-loops":
        variants = SMALL_LOOPS[digit]
    elif pool == "all":
        variants = DIGIT_STROKES[digit] + SMALL_LOOPS.get(digit, []) + MORE_STYLES.get(digit, [])
    else:
        variants = DIGIT_STROKES[digit]
    strokes = variants[int(rng.integers(len(variants)))]
    return _jitter(strokes, rng, 0.003)


def _wobble(strokes: list[Stroke], rng: np.random.Generator, amount: float) -> list[Stroke]:
    """Rotate, shear, squeeze and bend the strokes smoothly, and move each stroke a
    little on its own: writers unlike the templates."""
    angle = math.radians(rng.uniform(-15, 15))
    shear = rng.uniform(-0.3, 0.3)
    aspect = rng.uniform(0.7, 1.25)
    cos, sin = math.cos(angle), math.sin(angle)
    out = []
    for stroke in strokes:
        t = np.linspace(0, 1, len(stroke))
        bend = [
            amount
            * sum(
                rng.normal(0, 1) * np.sin(2 * math.pi * (f * t + rng.random())) / f
                for f in (0.5, 1, 2)
            )
            for _ in range(2)
        ]
        bend[0] += rng.normal(0, amount)
        bend[1] += rng.normal(0, amount)
        points = []
        for (x, y), dx, dy in zip(stroke, bend[0], bend[1], strict=True):
            x, y = (x - 0.5) * aspect + shear * (y - 0.5), y - 0.5
            points.append((0.5 + cos * x - sin * y + dx, 0.5 + sin * x + cos * y + dy))
        out.append(points)
    return out


def _digit_box(
    strokes: list[Stroke],
    centre: tuple[float, float],
    height: float,
    pen: float,
    slant: float = 0.0,
) -> tuple[np.ndarray, int, int]:
    """Pen coverage in [0, 1] of a digit in a square box around it, and the box's (top, left).

    ``height`` is the digit's height in pixels (templates are 0.8 units high),
    ``centre`` its (x, y) centre in pixels, ``pen`` the stroke width in pixels.
    """
    side = math.ceil(height * 1.5 + 2 * pen + 4)
    supersample = 4 if side <= 300 else 2
    box = coverage(
        strokes,
        side,
        pen,
        (0, 0),
        height / (TEMPLATE_HEIGHT * side),
        slant,
        supersample=supersample,
    )
    return box, round(centre[1] - side / 2), round(centre[0] - side / 2)


def _paste(
    out: np.ndarray, box: np.ndarray, top: int, left: int
) -> tuple[slice, slice, np.ndarray]:
    """Where ``box`` placed at (top, left) lands in ``out``: its slices and the visible part."""
    rows, columns = out.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + box.shape[0], rows), min(left + box.shape[1], columns)
    y1, x1 = max(y1, y0), max(x1, x0)
    return slice(y0, y1), slice(x0, x1), box[y0 - top : y1 - top, x0 - left : x1 - left]


def _digit_cover(
    strokes: list[Stroke],
    shape: tuple[int, int],
    centre: tuple[float, float],
    height: float,
    pen: float,
    slant: float = 0.0,
) -> np.ndarray:
    """Pen coverage in [0, 1], float32 ``shape`` (rows, columns), of a digit placed there.

    Only a box around the digit is rendered (:func:`_digit_box`), so large pictures
    stay fast.
    """
    out = np.zeros(shape, np.float32)
    box, top, left = _digit_box(strokes, centre, height, pen, slant)
    rows, columns, part = _paste(out, box, top, left)
    out[rows, columns] = part
    return out


def _ramp(distance: np.ndarray, softness: float = 0.7) -> np.ndarray:
    """A sharp, anti-aliased step from a signed distance in pixels: 0 below, 1 above."""
    return np.clip(0.5 + distance / (2 * softness), 0, 1).astype(np.float32)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x, y), float32, broadcastable to ``shape``."""
    rows, columns = shape
    return (
        np.arange(columns, dtype=np.float32)[None, :] + 0.5,
        np.arange(rows, dtype=np.float32)[:, None] + 0.5,
    )


def _half_plane(
    shape: tuple[int, int], point: tuple[float, float], angle: float, softness: float = 0.7
) -> np.ndarray:
    """1 on one side of the line through ``point`` at ``angle`` (radians), 0 on the other."""
    x, y = _grid(shape)
    distance = (x - point[0]) * math.sin(angle) - (y - point[1]) * math.cos(angle)
    return _ramp(distance, softness)


def _paper_colour(
    rng: np.random.Generator, low: float = 0.84, high: float = 0.96
) -> tuple[float, float, float]:
    """RGB of white paper under some light: a brightness, a warm or cool cast."""
    level = rng.uniform(low, high)
    warm = rng.uniform(-0.3, 1.0)  # > 0 warm (lamp), < 0 cool (daylight, shade)
    return (level, level * (1 - 0.025 * warm), level * (1 - 0.07 * warm))


def _paper(
    rng: np.random.Generator,
    shape: tuple[int, int],
    colour: tuple[float, float, float],
    texture: float = 0.03,
    grain: float = 0.02,
) -> np.ndarray:
    """Paper, float32 (rows, columns, 3): a colour, a soft texture and fine grain."""
    grey = 1 + texture * _smooth_noise(rng, shape, 12)
    if grain:
        grey += _grain(rng, shape, grain)
    return grey[:, :, None] * np.asarray(colour, np.float32)


def _line_pattern(position: np.ndarray, spacing: float, width: float, phase: float) -> np.ndarray:
    """Coverage (0-1) of evenly spaced lines across ``position`` (a :func:`_grid`
    coordinate, px): ``width`` px wide, every ``spacing`` px, shifted by ``phase``."""
    return _ramp(width / 2 - np.abs(((position + phase) % spacing) - spacing / 2))


def _ink_over(picture: np.ndarray, cover: np.ndarray, ink: tuple[float, ...]) -> np.ndarray:
    """Lay ink of colour ``ink`` over ``picture`` where ``cover`` (0-1) says, in place."""
    cover = cover[:, :, None]
    picture *= 1 - cover
    picture += cover * np.asarray(ink, np.float32)
    return picture


def _encode(
    picture: np.ndarray,
    rng: np.random.Generator,
    fmt: str = "JPEG",
    quality: int | None = None,
    noise: float = 0.015,
    blur: float = 0.0,
    orientation: int | None = None,
) -> bytes:
    """Sensor noise, lens blur, an optional EXIF rotation, then the file's bytes."""
    if noise:  # one noise for the three channels: a third of the cost, looks the same
        grain = rng.standard_normal(picture.shape[:2], dtype=np.float32)
        picture = picture + noise * (grain[:, :, None] if picture.ndim == 3 else grain)
    image = Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    exif = Image.Exif()
    if orientation:
        image = image.transpose(STORED[orientation])
        exif[EXIF_ORIENTATION] = orientation
    buffer = io.BytesIO()
    if fmt == "JPEG":
        quality = quality or int(rng.integers(70, 93))
        image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _frame_shape(rng: np.random.Generator, low: int, high: int) -> tuple[int, int]:
    """(rows, columns) of a photo whose longer side is in [low, high], 4:3 or square."""
    long_side = int(rng.integers(low, high + 1))
    ratio = float(rng.choice([0.75, 1.0, 0.5625]))
    short_side = round(long_side * ratio)
    return (long_side, short_side) if rng.random() < 0.5 else (short_side, long_side)


def _digit_extent(height: float, pen: float) -> tuple[float, float]:
    """Half width and half height (pixels) of a digit's ink, generously."""
    return 0.32 * height + pen, 0.5 * height + pen


# ------------------------------------------------------------------ the kinds


def _ink_extent(cover: np.ndarray) -> tuple[float, float, float, float]:
    """The (left, top, right, bottom) pixel bounds of the ink (coverage above 0.2)."""
    rows = np.flatnonzero(cover.max(axis=1) > 0.2)
    columns = np.flatnonzero(cover.max(axis=0) > 0.2)
    return columns[0], rows[0], columns[-1] + 1, rows[-1] + 1


def _edge_beside(
    shape: tuple[int, int],
    extent: tuple[float, float, float, float],
    side: int,
    gap: float,
    tilt: float,
    soft: float,
) -> np.ndarray:
    """A straight edge ``gap`` px beyond one side of the ink (0 left, 1 right, 2 top,
    3 bottom), tilted by ``tilt`` radians: 1 on the far side, 0 on the ink's side."""
    left, top, right, bottom = extent
    cx, cy = (left + right) / 2, (top + bottom) / 2
    reach = abs(math.tan(tilt)) * max(right - left, bottom - top) / 2  # the tilt's lean
    if side < 2:
        x = left - gap - reach if side == 0 else right + gap + reach
        plane = _half_plane(shape, (x, cy), math.pi / 2 + tilt, soft)
    else:
        y = top - gap - reach if side == 2 else bottom + gap + reach
        plane = _half_plane(shape, (cx, y), tilt, soft)
    return plane if plane[int(cy), int(cx)] < 0.5 else 1 - plane


def _kind_a(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    shape = _frame_shape(rng, 600, 1400)
    rows, columns = shape
    height = rng.uniform(0.25, 0.55) * min(shape)
    soft = rng.uniform(0.6, 1.5)  # the edges' sharpness: a lens blur of about a pixel
    ink_name = str(rng.choice(["black", "blue", "pen"]))
    pen = height * (rng.uniform(0.06, 0.09) if ink_name == "pen" else rng.uniform(0.03, 0.05))
    centre = (rng.uniform(0.3, 0.7) * columns, rng.uniform(0.3, 0.7) * rows)
    cover = _digit_cover(_strokes(digit, rng), shape, centre, height, pen, rng.uniform(-0.15, 0.15))
    extent = _ink_extent(cover)
    left, top, right, bottom = extent
    paper = _paper(rng, shape, _paper_colour(rng))
    light = _light(rng, shape, 0.3)
    if sub in ("sheet-edge", "sheet-edge-touching"):
        side = int(rng.integers(4))
        tilt = math.radians(rng.uniform(-8, 8))
        if sub == "sheet-edge-touching":
            gap = rng.uniform(-0.3, 1.5) * pen  # at the stroke or just beyond it
        else:
            gap = rng.uniform(0.3, 3) * pen + rng.uniform(0, 0.2) * min(shape)
        desk = _edge_beside(shape, extent, side, gap, tilt, soft)
        if rng.random() < 0.35:  # a second, square edge: the sheet's corner
            other = (2 if side < 2 else 0) + int(rng.integers(2))
            gap = rng.uniform(0.5, 3) * pen + rng.uniform(0, 0.3) * min(shape)
            desk = np.maximum(desk, _edge_beside(shape, extent, other, gap, tilt, soft))
        colour = np.asarray(DESKS[int(rng.integers(len(DESKS)))], np.float32)
        surface = _paper(rng, shape, tuple(colour), texture=0.12, grain=0.03)
        picture = paper * (1 - desk[:, :, None]) + surface * desk[:, :, None]
    elif sub == "shadow-edge":  # anywhere, across the digit or not
        angle = rng.uniform(0, math.pi)
        through = (
            centre[0] + rng.normal(0, 0.25) * columns,
            centre[1] + rng.normal(0, 0.25) * rows,
        )
        shade = _half_plane(shape, through, angle, softness=rng.uniform(0.7, 4))
        if rng.random() < 0.5:
            shade = 1 - shade
        picture = paper * (1 - rng.uniform(0.3, 0.6) * shade)[:, :, None]
    else:  # a dark corner: the desk in a corner, or a hard vignette, short of the digit
        corner_x = float(rng.choice([0, columns]))
        corner_y = float(rng.choice([0, rows]))
        x, y = _grid(shape)
        distance = np.hypot(x - corner_x, y - corner_y)
        near_x = min(max(corner_x, left), right)  # the ink box's point nearest the corner
        near_y = min(max(corner_y, top), bottom)
        reach = math.hypot(near_x - corner_x, near_y - corner_y)
        radius = rng.uniform(0.4, 0.95) * max(reach, 10)
        if rng.random() < 0.5:
            dark = _ramp(radius - distance, soft)
            colour = np.asarray(DESKS[int(rng.integers(len(DESKS)))], np.float32)
            picture = paper * (1 - dark[:, :, None]) + colour * dark[:, :, None]
        else:
            dark = _ramp(radius - distance, rng.uniform(5, 20))
            picture = paper * (1 - rng.uniform(0.5, 0.8) * dark)[:, :, None]
    picture = _ink_over(picture, cover, INKS[ink_name]) * light[:, :, None]
    return _encode(picture, rng), "jpg"


def _light(rng: np.random.Generator, shape: tuple[int, int], depth: float) -> np.ndarray:
    """Uneven light (:func:`tests.wild._lighting`) scaled to ``1 - depth``..1, float32
    ``shape``; computed at 1/8 scale, since it is smooth."""
    small = (max(2, shape[0] // 8), max(2, shape[1] // 8))
    light = Image.fromarray(_lighting(rng, small) * depth + (1 - depth), "F")
    return np.asarray(light.resize(shape[::-1], Image.Resampling.BILINEAR))


def _smooth_light(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uneven light and paper texture computed at 1/8 scale, float32 ``shape``."""
    small = (max(2, shape[0] // 8), max(2, shape[1] // 8))
    light = (_lighting(rng, small) * 0.35 + 0.65) * (1 + 0.04 * _smooth_noise(rng, small, 12))
    image = Image.fromarray(light.astype(np.float32), "F")
    return np.asarray(image.resize(shape[::-1], Image.Resampling.BILINEAR))


def _grain(rng: np.random.Generator, shape: tuple[int, int], amount: float) -> np.ndarray:
    """Paper grain, float32 ``shape``: a 256-px tile of soft noise repeated (cheap at 12 MP)."""
    tile = rng.standard_normal((256, 256), dtype=np.float32)
    # a 2x2 mean (wrapping, so the tiles join) softens the grain like the lens does
    tile = tile + np.roll(tile, 1, 0) + np.roll(tile, 1, 1) + np.roll(tile, (1, 1), (0, 1))
    tile *= amount / 2
    reps = (math.ceil(shape[0] / 256), math.ceil(shape[1] / 256))
    return np.tile(tile, reps)[: shape[0], : shape[1]]


def _kind_b(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    long_side = round(math.exp(rng.uniform(math.log(1000), math.log(4000))))
    shape = (long_side, round(long_side * float(rng.choice([0.75, 1.0]))))
    if rng.random() < 0.5:
        shape = shape[::-1]
    rows, columns = shape
    low, high = {"tiny": (0.05, 0.12), "small": (0.12, 0.3), "exif": (0.05, 0.3)}[sub]
    height = rng.uniform(low, high) * min(shape)  # the digit's share of the frame
    pen = rng.uniform(1.0, 3.0)
    centre = (rng.uniform(0.25, 0.75) * columns, rng.uniform(0.25, 0.75) * rows)
    # grey paper under uneven light, then tinted channel by channel with lookup tables
    grey = _smooth_light(rng, shape) * (1 + _grain(rng, shape, rng.uniform(0.02, 0.05)))
    grey += _grain(rng, shape, 0.012)[::-1, ::-1]  # sensor noise, another pattern
    level = Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8), "L")
    paper = _paper_colour(rng, 0.8, 0.95)
    image = Image.merge("RGB", [level.point([round(v * c) for v in range(256)]) for c in paper])
    # the digit: its box only, in float, blurred a little like a lens
    box, top, left = _digit_box(_strokes(digit, rng), centre, height, pen, rng.uniform(-0.15, 0.15))
    box *= rng.uniform(0.6, 0.95)  # a ballpoint's line is rarely solid
    ink = np.asarray(INKS[str(rng.choice(["black", "blue"]))], np.float32)
    canvas = np.asarray(image)
    ys, xs, part = _paste(canvas, box, top, left)
    region = canvas[ys, xs].astype(np.float32) / 255
    light = grey[ys, xs, None]  # the light (and grain) there
    region = region * (1 - part[:, :, None]) + part[:, :, None] * ink * np.clip(light, 0, 1)
    patch = Image.fromarray(np.round(np.clip(region, 0, 1) * 255).astype(np.uint8), "RGB")
    image.paste(patch.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8))), (xs.start, ys.start))
    exif = Image.Exif()
    if sub == "exif":  # stored on its side or upside down, with the tag that turns it upright
        orientation = int(rng.choice(list(STORED)))
        image = image.transpose(STORED[orientation])
        exif[EXIF_ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(75, 93)), exif=exif.tobytes())
    return buffer.getvalue(), "jpg"


def _bold_print(digit: int, rng: np.random.Generator, size: int) -> np.ndarray:
    """Coverage (size, size) of a bold printed digit filling most of the square."""
    font = ImageFont.load_default(size=size)
    big = Image.new("L", (size * 2, size * 2), 0)
    draw = ImageDraw.Draw(big)
    stroke = max(1, round(size * rng.uniform(0.02, 0.06)))
    draw.text(
        (size // 2, size // 4),
        str(digit),
        font=font,
        fill=255,
        stroke_width=stroke,
        stroke_fill=255,
    )
    box = big.getbbox()
    glyph = big.crop(box)
    return np.asarray(glyph, np.float32) / 255


def _from_a_number(digit: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Pen coverage of ``digit`` cropped close from a written number: pieces of the
    digits before and after it (one of them, at the number's ends) cut by the
    frame's sides; and the pen's blur."""
    rows = int(rng.integers(60, 240))
    height = rng.uniform(0.7, 0.9) * rows
    pen = height * rng.uniform(0.06, 0.14)
    columns = round(height * rng.uniform(0.8, 1.1))
    step = height * rng.uniform(0.6, 0.8)  # from one digit's centre to the next
    slant = rng.uniform(-0.12, 0.12)
    centre = (columns / 2 + rng.normal(0, 0.03) * columns, rows / 2 + rng.normal(0, 0.03) * rows)
    cover = _digit_cover(_strokes(digit, rng), (rows, columns), centre, height, pen, slant)
    ends = rng.random()
    for side in (-1, 1):
        if (side < 0 and ends < 0.2) or (side > 0 and ends > 0.8):
            continue  # the number's first or last digit
        other = int(rng.integers(10))
        place = (centre[0] + side * step, centre[1] + rng.normal(0, 0.04) * rows)
        near = _digit_cover(_strokes(other, rng), (rows, columns), place, height, pen, slant)
        cover = np.maximum(cover, near)
    return cover, 1.0


def _kind_c(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    fill = rng.uniform(0.7, 0.95)  # digit height / frame height
    rows = int(rng.integers(60, 320))
    if sub == "from-a-number":
        cover, pen_blur = _from_a_number(digit, rng)
        rows, columns = cover.shape
    elif sub == "bold-print":
        glyph = _bold_print(digit, rng, 160)
        scale = fill * rows / glyph.shape[0]
        width = max(2, round(glyph.shape[1] * scale))
        glyph_img = Image.fromarray(glyph, "F").resize(
            (width, max(2, round(glyph.shape[0] * scale))), Image.Resampling.BILINEAR
        )
        columns = max(round(width / rng.uniform(0.7, 0.95)), int(rows * rng.uniform(0.6, 1.0)))
        cover = np.zeros((rows, columns), np.float32)
        g = np.clip(np.asarray(glyph_img), 0, 1)
        top = int(rng.integers(0, max(1, rows - g.shape[0]) + 1))
        left = int(rng.integers(0, max(1, columns - g.shape[1]) + 1))
        cover[top : top + g.shape[0], left : left + g.shape[1]] = g[: rows - top, : columns - left]
        pen_blur = 0.5
    else:
        height = fill * rows
        pen = height * (
            rng.uniform(0.14, 0.22) if sub == "marker-crop" else rng.uniform(0.09, 0.16)
        )
        columns = round(rows * rng.uniform(0.6, 1.1))
        cover = _digit_cover(
            _strokes(digit, rng),
            (rows, columns),
            (columns / 2 + rng.normal(0, 0.04) * columns, rows / 2 + rng.normal(0, 0.03) * rows),
            height,
            pen,
            rng.uniform(-0.12, 0.12),
        )
        pen_blur = 0.4 if sub == "marker-crop" else 1.0
    shape = (rows, columns)
    if sub == "pattern":  # an ID card's or a form's tinted guilloche
        x, y = _grid(shape)
        period = rng.uniform(0.05, 0.15) * rows
        waves = 0.5 + 0.5 * np.sin(2 * math.pi * (y + 0.3 * period * np.sin(x / period)) / period)
        tint = np.asarray(rng.uniform([0.75, 0.8, 0.85], [0.92, 0.95, 1.0]), np.float32)
        picture = (1 - 0.12 * waves[:, :, None]) * tint
        picture = picture + 0.02 * _smooth_noise(rng, shape, 6)[:, :, None]
    elif sub == "felt-tip" or rng.random() < 0.5:
        colour = _paper_colour(rng, 0.82, 0.98)
        picture = _paper(rng, shape, colour, texture=0.05, grain=0.02)
    else:
        picture = np.ones((rows, columns, 3), np.float32)
    ink = INKS["marker"] if sub != "felt-tip" else INKS[str(rng.choice(["black", "blue"]))]
    picture = _ink_over(picture, cover, ink)
    fmt = "PNG" if sub in ("bold-print", "pattern") and rng.random() < 0.6 else "JPEG"
    data = _encode(picture, rng, fmt=fmt, noise=0.01 if fmt == "JPEG" else 0.0, blur=pen_blur)
    return data, "png" if fmt == "PNG" else "jpg"


def _canvas(
    strokes: list[Stroke], pen: float, height: float, rng: np.random.Generator, slant: float = 0.0
) -> np.ndarray:
    """A canvas-like RGBA drawing: ``height`` in pixels, placed anywhere it fits whole."""
    scale = height / (TEMPLATE_HEIGHT * CANVAS)
    half_w, half_h = _digit_extent(height, pen)
    room_x = max(CANVAS / 2 - half_w - 2, 0)
    room_y = max(CANVAS / 2 - half_h - 2, 0)
    offset = np.array([rng.uniform(-room_x, room_x), rng.uniform(-room_y, room_y)])
    for _ in range(6):  # slant and wobble can push ink off the canvas: move it back in
        array = render_strokes(strokes, CANVAS, pen, offset=tuple(offset), scale=scale, slant=slant)
        alpha = array[:, :, 3]
        if not (alpha[0].any() or alpha[-1].any() or alpha[:, 0].any() or alpha[:, -1].any()):
            break
        offset *= 0.6
    return array


def _kind_d(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    pen = rng.uniform(18, 40)
    height = pen / rng.uniform(0.4, 0.6)  # pen over 40 % of the digit's height: loops close
    return _png(_canvas(_strokes(digit, rng), pen, height, rng, rng.uniform(-0.15, 0.15))), "png"


def _circle_cover(
    shape: tuple[int, int],
    centre: tuple[float, float],
    radii: tuple[float, float],
    pen: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A hand-drawn ellipse around a point, its ends overlapping or short of each other."""
    start = rng.uniform(-120, -60)
    sweep = rng.uniform(330, 390)
    rows, columns = shape
    side = max(rows, columns)
    unit = [
        ((x - 0.5) + 0.5, (y - 0.5) + 0.5)
        for x, y in arc(0.5, 0.5, radii[0] / side, radii[1] / side, start, start + sweep, 4)
    ]
    offset = (centre[0] - side / 2, centre[1] - side / 2)
    big = coverage([unit], side, pen, offset, 1.0, 0.0, supersample=2)
    return big[:rows, :columns]


def _kind_e(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    photo = rng.random() < 0.5
    rows = int(rng.integers(120, 500)) if not photo else int(rng.integers(300, 900))
    columns = round(rows * rng.uniform(0.9, 1.4))
    shape = (rows, columns)
    height = rng.uniform(0.4, 0.6) * rows
    pen = height * rng.uniform(0.05, 0.1)
    line_width = pen * rng.uniform(0.6, 1.2)
    centre = (columns / 2 + rng.normal(0, 0.04) * columns, rows / 2 + rng.normal(0, 0.03) * rows)
    cover = _digit_cover(_strokes(digit, rng), shape, centre, height, pen, rng.uniform(-0.12, 0.12))
    left, top, right, bottom = _ink_extent(cover)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    lines = Image.new("L", (columns * 2, rows * 2), 0)  # drawn at 2x, reduced: anti-aliased
    draw = ImageDraw.Draw(lines)
    width2 = max(2, round(line_width * 2))
    box = (0.0, 0.0, 0.0, 0.0)
    if sub in ("box", "box-touching", "partial-box"):
        margins = rng.uniform(0.1, 0.35, 4) * height  # left, top, right, bottom
        if sub == "box-touching":  # one or two sides of the box touch or cross the strokes
            for side in rng.choice(4, int(rng.integers(1, 3)), replace=False):
                margins[side] = rng.uniform(-0.6, 0.1) * pen
        box = (
            left - margins[0] - line_width / 2,
            top - margins[1] - line_width / 2,
            right + margins[2] + line_width / 2,
            bottom + margins[3] + line_width / 2,
        )
        if sub == "partial-box":  # a cell of a table: its lines run on, off the cell
            far = 2 * max(rows, columns)
            for x in (box[0], box[2]):
                draw.line([(2 * x, -far), (2 * x, far)], fill=255, width=width2)
            for y in (box[1], box[3]):
                draw.line([(-far, 2 * y), (far, 2 * y)], fill=255, width=width2)
        else:
            draw.rectangle([2 * v for v in box], outline=255, width=width2)
    elif sub == "grid":  # a table or squared sheet: the digit in one cell, lines near it
        extent = max(right - left, bottom - top)
        spacing = rng.uniform(1.1, 1.7) * extent
        x0 = left - rng.uniform(0, spacing - (right - left))  # the cell's left line
        y0 = top - rng.uniform(0, spacing - (bottom - top))
        thin = max(2, round(line_width * rng.uniform(0.4, 0.9) * 2))
        for x in np.arange(x0 % spacing, columns, spacing):
            draw.line([(2 * x, 0), (2 * x, 2 * rows)], fill=255, width=thin)
        for y in np.arange(y0 % spacing, rows, spacing):
            draw.line([(0, 2 * y), (2 * columns, 2 * y)], fill=255, width=thin)
    elif sub == "ruled":  # the digit sits on a line, the line above clears it
        spacing = rng.uniform(1.1, 1.6) * (bottom - top)
        base = bottom + pen * rng.uniform(-0.5, 0.5)
        thin = max(2, round(line_width * rng.uniform(0.4, 0.9) * 2))
        for y in np.arange(base % spacing, rows, spacing):
            draw.line([(0, 2 * y), (2 * columns, 2 * y)], fill=255, width=thin)
    if sub == "circled":
        radii = (
            (right - left) / 2 + rng.uniform(0.15, 0.4) * height,
            (bottom - top) / 2 + rng.uniform(0.08, 0.25) * height,
        )
        frame = _circle_cover(
            shape, (cx + rng.normal(0, 2), cy + rng.normal(0, 2)), radii, line_width, rng
        )
    else:
        frame = np.asarray(lines.reduce(2), np.float32) / 255
    if sub == "partial-box":  # crop the cell: the frame's edges cut its lines or just miss them
        cut = rng.uniform(-1.5, 2.5, 4) * line_width  # > 0: the line is inside the frame
        x0 = max(0, round(box[0] - cut[0]))
        y0 = max(0, round(box[1] - cut[1]))
        x1 = round(box[2] + cut[2])
        y1 = round(box[3] + cut[3])
        frame, cover = frame[y0:y1, x0:x1], cover[y0:y1, x0:x1]
        shape = cover.shape
    ink = INKS[str(rng.choice(["black", "blue", "pen"]))]
    if photo:
        paper = _paper(rng, shape, _paper_colour(rng))
        picture = _ink_over(paper, frame, INKS["pen"])
        picture = _ink_over(picture, cover, ink) * _light(rng, shape, 0.3)[:, :, None]
        return _encode(picture, rng, blur=rng.uniform(0.4, 1.0)), "jpg"
    picture = np.ones((*shape, 3), np.float32)
    picture = _ink_over(_ink_over(picture, frame, INKS["pen"]), cover, ink)
    return _encode(picture, rng, fmt="PNG", noise=0.0), "png"


def _kind_f(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    strokes = _strokes(digit, rng, "small-loops")
    if sub == "canvas":
        height = rng.uniform(0.55, 0.9) * CANVAS
        pen = rng.uniform(6, 0.07 * height)  # the small loop's hole stays open
        return _png(_canvas(strokes, pen, height, rng, rng.uniform(-0.12, 0.12))), "png"
    shape = _frame_shape(rng, 300, 1000)
    rows, columns = shape
    height = rng.uniform(0.25, 0.55) * min(shape)
    pen = rng.uniform(1.2, min(3.0, 0.025 * height))
    cx, cy = rng.uniform(0.35, 0.65) * columns, rng.uniform(0.35, 0.65) * rows
    picture = _paper(rng, shape, _paper_colour(rng))
    if sub == "squared-paper":
        spacing = rng.uniform(0.12, 0.3) * height
        x, y = _grid(shape)
        rule = max(0.6, pen * 0.5)
        lines = np.maximum(
            _line_pattern(x, spacing, rule, rng.uniform(0, spacing)),
            _line_pattern(y, spacing, rule, rng.uniform(0, spacing)),
        ) * rng.uniform(0.25, 0.5)
        picture = _ink_over(picture, lines, (0.45, 0.6, 0.75))
    cover = _digit_cover(strokes, shape, (cx, cy), height, pen, rng.uniform(-0.12, 0.12))
    ink = INKS[str(rng.choice(["black", "blue"]))]
    picture = _ink_over(picture, cover * rng.uniform(0.75, 1.0), ink)
    picture *= _light(rng, shape, 0.3)[:, :, None]
    return _encode(picture, rng, blur=rng.uniform(0.3, 0.7)), "jpg"


def _kind_g(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    shape = _frame_shape(rng, 250, 1000)
    rows, columns = shape
    height = rng.uniform(0.45, 0.75) * min(shape)
    pen = height * rng.uniform(0.05, 0.1)
    cx, cy = rng.uniform(0.42, 0.58) * columns, rng.uniform(0.42, 0.58) * rows
    grey = rng.uniform(0.55, 0.85)
    picture = _paper(rng, shape, (grey, grey * 0.98, grey * 0.95), texture=0.025)
    cover = _digit_cover(
        _strokes(digit, rng), shape, (cx, cy), height, pen, rng.uniform(-0.12, 0.12)
    )
    contrast = rng.uniform(0.4, 0.7)  # ink darkens the paper only this much
    ink = np.asarray(INKS[str(rng.choice(["black", "blue"]))], np.float32)
    ink = grey * (1 - contrast) + ink * contrast
    picture = _ink_over(picture, cover, tuple(ink))
    picture *= _light(rng, shape, 0.25)[:, :, None]
    low, high = (2, 4) if sub == "soft" else (4, 8)  # px at the working scale
    blur = rng.uniform(low, high) * max(shape) / WORK_SIDE
    blur = min(blur, pen * 1.2 + 1.5)  # the strokes must still be there for a person
    return _encode(picture, rng, blur=blur, noise=0.01), "jpg"


def _kind_canvas(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str, str]:
    low, high = {"small": (0.15, 0.35), "medium": (0.35, 0.7), "large": (0.7, 0.95)}[sub]
    height = rng.uniform(low, high) * CANVAS
    pen = rng.uniform(3, 40)  # as people pick it, whatever the size
    strokes = _wobble(_strokes(digit, rng, "all"), rng, rng.uniform(0.01, 0.03))
    data = _png(_canvas(strokes, pen, height, rng, rng.uniform(-0.25, 0.25)))
    # a pen over 20 % of the digit's height may close its loops (kind D): not sure is right too
    return data, "png", "label-or-unsure" if pen > 0.2 * height else "label"


def _kind_regression(sub: str, digit: int, rng: np.random.Generator) -> tuple[bytes, str]:
    strokes = _strokes(digit, rng)
    if sub == "canvas":
        height = rng.uniform(0.4, 0.9) * CANVAS
        pen = rng.uniform(8, 0.12 * height + 8)
        return _png(_canvas(strokes, pen, height, rng, rng.uniform(-0.15, 0.15))), "png"
    if sub in ("uneven-light", "blue-ink", "chalk", "exif"):
        kind = {"uneven-light": "paper", "blue-ink": "blue", "exif": "rotated"}.get(sub, sub)
        return wild_photo(strokes, kind, rng)[0], "jpg"
    side = int(rng.integers(100, 300))
    height = rng.uniform(0.55, 0.8) * side
    pen = height * rng.uniform(0.07, 0.12)
    if sub == "white-on-black":
        cover = _digit_cover(strokes, (side, side), (side / 2, side / 2), height, pen)
        grey = np.round(np.clip(cover * rng.uniform(0.85, 1.0), 0, 1) * 255).astype(np.uint8)
        return _png(grey), "png"
    # transparent PNG: dark or blue ink, alpha = coverage, RGB of the background 0 or 255
    array = render_strokes(
        strokes,
        side,
        pen,
        offset=(0, 0),
        scale=height / (TEMPLATE_HEIGHT * side),
        slant=rng.uniform(-0.15, 0.15),
    )
    colour = np.asarray(INKS[str(rng.choice(["black", "blue"]))]) * 255
    background = 255 if rng.random() < 0.5 else 0
    array[:, :, :3] = np.where(array[:, :, 3:] > 0, np.round(colour), background)
    return _png(array), "png"


# each maker returns (file bytes, extension) or (file bytes, extension, expect)
_MAKERS: dict[str, Callable[[str, int, np.random.Generator], tuple]] = {
    "A": _kind_a,
    "B": _kind_b,
    "C": _kind_c,
    "D": _kind_d,
    "E": _kind_e,
    "F": _kind_f,
    "G": _kind_g,
    "canvas": _kind_canvas,
    "regression": _kind_regression,
}


# ------------------------------------------------------------------ public interface


def subkind_of(name: str) -> str:
    """The sub-kind written in a generated file's name (``{kind}_{subkind}_...``)."""
    return Path(name).name.split("_")[1]


def _check_kind(kind: str) -> None:
    if kind not in _MAKERS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")


def make_variant(kind: str, index: int, seed: int = 0) -> Variant:
    """Variant ``index`` of a kind: ``(file name, encoded file, label, expect)``.

    It depends only on ``(seed, kind, index)``; sub-kinds and digits take turns
    with ``index``.

    Raises
    ------
    ValueError
        For an unknown kind.
    """
    _check_kind(kind)
    subs = SUBKINDS[kind]
    digits = sorted(SMALL_LOOPS) if kind == "F" else list(range(10))
    rng = np.random.default_rng([seed, zlib.crc32(kind.encode()), index])
    sub = subs[index % len(subs)]
    digit = digits[(index // len(subs) + 3 * (index % len(subs))) % len(digits)]
    made = _MAKERS[kind](sub, digit, rng)
    expect = made[2] if len(made) > 2 else EXPECT.get(kind, "label")
    return f"{kind}_{sub}_{index:03d}_{digit}.{made[1]}", made[0], digit, expect


def iter_kind(kind: str, count: int, seed: int = 0) -> Iterator[Variant]:
    """Yield ``(file name, encoded file, label, expect)`` for ``count`` variants of a kind.

    Variants 0 to ``count - 1`` of :func:`make_variant`; ``kind`` is one of
    :data:`KINDS` (else ``ValueError``, at the call).
    """
    _check_kind(kind)
    return (make_variant(kind, index, seed) for index in range(count))


def _write_one(job: tuple[str, int, int, str]) -> dict[str, str]:
    kind, index, seed, directory = job
    name, data, label, expect = make_variant(kind, index, seed)
    (Path(directory) / name).write_bytes(data)
    return {"file": name, "label": str(label), "kind": kind, "expect": expect}


def write_kinds(
    directory: str | os.PathLike,
    count: int = 60,
    seed: int = 0,
    kinds: tuple[str, ...] = KINDS,
    workers: int | None = None,
) -> list[dict[str, str]]:
    """Write ``count`` variants of each kind and ``labels.csv``; return the csv's rows.

    ``workers`` processes share the work (default: one per core, at most 4).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    jobs = [(kind, index, seed, str(directory)) for kind in kinds for index in range(count)]
    workers = workers or min(4, os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_write_one, jobs, chunksize=4))
    else:
        rows = [_write_one(job) for job in jobs]
    with open(directory / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "label", "kind", "expect"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write labelled variants of each failure kind.")
    parser.add_argument("directory")
    parser.add_argument("--count", type=int, default=60, help="variants per kind (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        rows = write_kinds(args.directory, args.count, args.seed, tuple(args.kinds), args.workers)
    except OSError as error:
        parser.exit(1, f"kinds: cannot write {args.directory}: {error.strerror or error}\n")
    print(f"{len(rows)} files in {time.perf_counter() - start:.1f} s -> {args.directory}")


if __name__ == "__main__":
    main()


BLANK_PAPERS = ("squared", "ruled", "crease")


def blank_photo(paper: str, rng: np.random.Generator) -> bytes:
    """A JPEG photo, 600-2600 px, of blank paper under uneven light: ``paper`` is
    squared or ruled (faint lines 10-35% darker than the paper, 0.6-2 px wide) or
    plain with a crease. No digit: the pipeline must read it blank.
    """
    long_side = int(rng.integers(600, 2600))
    shape = (long_side, round(long_side * float(rng.choice([0.75, 1.0, 0.5625]))))
    if rng.random() < 0.5:
        shape = shape[::-1]
    rows, columns = shape
    grey = _smooth_light(rng, shape) * (1 + _grain(rng, shape, rng.uniform(0.01, 0.03)))
    grey += _grain(rng, shape, 0.012)[::-1, ::-1]
    x, y = _grid(shape)
    if paper in ("squared", "ruled"):
        spacing = rng.uniform(15, 60) * long_side / 1000
        width = rng.uniform(0.6, 2)
        lines = _line_pattern(y, spacing, width, rng.uniform(0, spacing))
        if paper == "squared":
            lines = np.maximum(lines, _line_pattern(x, spacing, width, rng.uniform(0, spacing)))
        grey *= 1 - lines * rng.uniform(0.1, 0.35)
    else:
        angle = rng.uniform(0, math.pi)
        offset = (x - columns * rng.uniform(0.3, 0.7)) * math.sin(angle) - (
            y - rows * rng.uniform(0.3, 0.7)
        ) * math.cos(angle)
        grey *= 1 - rng.uniform(0.05, 0.2) * np.exp(-((offset / rng.uniform(1, 4)) ** 2))
    picture = np.clip(grey, 0, 1)[:, :, None] * np.asarray(
        _paper_colour(rng, 0.8, 0.95), np.float32
    )
    return _encode(picture, rng, quality=int(rng.integers(75, 93)), noise=0.0)
