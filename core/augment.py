"""Training digits as users bring them: MNIST redrawn with other pens, slants and shapes.

A linear model learns what its training pixels look like. MNIST's digits all
went through one pipeline (NIST's scans, 20-px box, anti-aliasing); a user's
drawing or photo goes through :mod:`core.preprocess`, whose stroke widths,
corners and loops differ. :func:`redraw` makes, from one MNIST training digit, a
drawing of the same digit as another person or pen would: a random affine
distortion (rotation, shear, aspect), and for most of them the digit's medial
line redrawn with a round pen of random width (a ballpoint's hairline to a
marker); :func:`augment` then runs :func:`core.preprocess.to_mnist` on it, the
very steps a user's input goes through, so the model trains on what it will be
shown. The result stays one linear layer on 784 pixels.

:func:`styles` adds ways of writing that MNIST's American writers seldom used: a 1
with a flag at its top and a 7 crossed at its middle, as much of Europe and
Latin America writes them, an 8 whose top loop is much smaller than its bottom
one, and a 9 whose tail hooks to the left, written like a "g". Without them the
model read seven in ten flagged 1s as another digit, an 8 with a small top loop
as a 0, and published hooked 9s as 3 or 8.

:func:`printed` adds digits drawn as a sans-serif face draws them (arcs and bars
with a round pen, no font file): without them the model read a printed 6 as 8
in most fonts.

Every redrawn image is determined by ``(seed, index)``: the same call gives the same
bytes on any machine with the same library versions, whatever the number of
workers.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage as ndi
from scipy.special import expit

from core.preprocess import (
    SIZE,
    centre_by_mass,
    crop_to_ink,
    preprocess,
    scale_to_box,
    to_mnist,
    trim,
)

T = TypeVar("T")
R = TypeVar("R")

UPSCALE = 4  # MNIST's 28 px drawn at 112 px: room for thin pens and shears
MAX_ROTATION = 15.0  # degrees either way
MAX_SHEAR = 0.35  # horizontal shift per unit of height, either way
MAX_ASPECT = 0.25  # log of the width / height change, either way
PEN_RADII = (0.6, 7.0)  # px at UPSCALE: strokes from ~1/90 to ~1/6 of the digit's height
KEEP_PEN = 0.25  # share of images that keep MNIST's own strokes (distortion only)
CHUNK = 2_000  # images per worker task
FLAG_SHARE = 0.15  # share of the training 1s also given a flag...
FLAG_LENGTH = (0.25, 0.5)  # ... this long (of the digit's height)...
FLAG_ANGLE = (15.0, 55.0)  # ... going down to the left at this angle (degrees below level)
CROSS_SHARE = 0.1  # share of the training 7s also crossed...
CROSS_LENGTH = (0.3, 0.5)  # ... by a bar this long (of the digit's height)...
CROSS_HEIGHT = (0.45, 0.6)  # ... this far down the digit
SMALL_TOP_SHARE = 0.15  # share of the training 8s also drawn with a smaller top loop...
SMALL_TOP_HEIGHT = (0.4, 0.75)  # ... its height this share of what it was
HOOK_SHARE = 0.15  # share of the training 9s also given a tail hooked to the left...
HOOK_START = (0.15, 0.3)  # ... leaving the stem this far above its foot (of the height)...
HOOK_LENGTH = (0.5, 0.9)  # ... ending this far left of its stem or foot (of its width)...
HOOK_RISE = (0.0, 0.22)  # ... and coming back up this far (of the digit's height)
HOOK_OVERHANG = 0.1  # ... but ending at most this far past the digit's left side (of its width)
INK = 100  # uint8: a pixel this bright is the digit's ink, for placing the strokes


def _affine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Upscale by ``UPSCALE`` and distort (rotation, shear, aspect) about the centre."""
    side = SIZE * UPSCALE
    angle = math.radians(rng.uniform(-MAX_ROTATION, MAX_ROTATION))
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR)
    aspect = math.exp(rng.uniform(-MAX_ASPECT, MAX_ASPECT))
    cos, sin = math.cos(angle), math.sin(angle)
    # output -> input: undo aspect, shear and rotation, then the upscale
    forward = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1, shear], [0, 1]])
    forward = forward @ np.diag([aspect, 1 / aspect])
    inverse = np.linalg.inv(forward) / UPSCALE
    centre_out = np.array([side / 2, side / 2])
    offset = np.array([SIZE / 2, SIZE / 2]) - inverse @ centre_out
    coefficients = (
        inverse[0, 0],
        inverse[0, 1],
        offset[0],
        inverse[1, 0],
        inverse[1, 1],
        offset[1],
    )
    picture = Image.fromarray(np.ascontiguousarray(image, np.float32), "F")
    return np.asarray(
        picture.transform(
            (side, side), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR
        )
    )


def _repen(image: np.ndarray, radius: float) -> np.ndarray:
    """The digit's medial line redrawn with a round pen of ``radius`` px, anti-aliased."""
    mask = image >= 0.5
    if not mask.any():
        return image
    # Imported here: scikit-image takes a second or two to import, and only training needs it.
    from skimage.morphology import skeletonize

    line = skeletonize(mask)
    return np.clip(radius + 0.5 - ndi.distance_transform_edt(~line), 0, 1).astype(np.float32)


def redraw(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit as another writer's drawing, before the pipeline.

    Parameters
    ----------
    image : numpy.ndarray
        float32 (28, 28) in [0, 1], bright ink on black.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        float32 (112, 112) in [0, 1].
    """
    distorted = _affine(image, rng)
    if rng.random() < KEEP_PEN:
        return np.clip(distorted, 0, 1)
    low, high = PEN_RADII
    radius = math.exp(rng.uniform(math.log(low), math.log(high)))  # as many thin as thick
    return _repen(distorted, radius)


def augment_one(image: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """:func:`redraw`, then the pipeline's last steps: the 28x28 the model would see.

    Returns None when the redrawing is no digit for the pipeline (a blob).
    """
    drawn = redraw(image, rng)
    cropped = crop_to_ink(drawn, drawn > 0)
    tail = None if cropped is None else to_mnist(cropped)
    return None if tail is None else tail.stages[-1].image


def _augment_chunk(args: tuple[np.ndarray, np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    images, indices, seed = args
    out = np.zeros((len(images), SIZE, SIZE), np.float32)
    made = np.zeros(len(images), bool)
    for row, (image, index) in enumerate(zip(images, indices, strict=True)):
        result = augment_one(image, np.random.default_rng([seed, int(index)]))
        if result is not None:
            out[row], made[row] = result, True
    return out, made


def augment(
    images: np.ndarray,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Redraw each image once (:func:`augment_one`), in parallel, deterministically.

    Parameters
    ----------
    images : numpy.ndarray
        (n, 28, 28) float32 in [0, 1] or uint8.
    seed : int
        With each image's position, decides everything random about it.
    workers : int, optional
        Processes to use; default one per core. 1 runs here, in this process.
    progress : callable, optional
        Called with the fraction done after each chunk.

    Returns
    -------
    augmented : numpy.ndarray
        float32 (n, 28, 28), zero where ``made`` is False.
    made : numpy.ndarray
        bool (n,): False for the rare redrawing the pipeline takes for a blob.
    """
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / np.float32(255)
    tasks = [
        (images[start : start + CHUNK], np.arange(start, min(start + CHUNK, len(images))), seed)
        for start in range(0, len(images), CHUNK)
    ]
    workers = workers or os_cpu_count()
    results = []
    if workers <= 1 or len(tasks) <= 1:
        for done, task in enumerate(tasks, 1):
            results.append(_augment_chunk(task))
            if progress:
                progress(done / len(tasks))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, result in enumerate(pool.map(_augment_chunk, tasks), 1):
                results.append(result)
                if progress:
                    progress(done / len(tasks))
    if not results:
        return np.zeros((0, SIZE, SIZE), np.float32), np.zeros(0, bool)
    return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])


def pen_width(image: np.ndarray) -> float:
    """The stroke width of a digit (uint8 28x28, as MNIST's), in pixels: its ink
    (in full pixels) over the length of its medial line."""
    from skimage.morphology import skeletonize  # slow to import; only training needs it

    line = np.count_nonzero(skeletonize(image > INK))
    return float(image.sum()) / 255 / max(1, line)


def row_width(image: np.ndarray) -> float:
    """The stroke width of a digit (uint8 28x28) whose rows cross one stroke (a 1, a
    7: its bar is one row of many), in pixels: the median count of inked pixels
    along a row that has any."""
    per_row = np.count_nonzero(image > INK, axis=1)
    return float(np.median(per_row[per_row > 0]))


def _with_stroke(
    image: np.ndarray, draw: Callable[[Image.Image, float], None], width: float
) -> np.ndarray:
    """``image`` (uint8, 28x28 or larger) with a stroke drawn by ``draw`` at 8x and
    box-reduced, ``width`` pixels wide at 1x, at least 1.5 (``draw`` gets the 8x
    canvas and the 8x width)."""
    height, width_px = image.shape
    big = Image.new("L", (width_px * 8, height * 8), 0)
    draw(big, max(1.5, width) * 8)
    stroke = np.asarray(big.resize((width_px, height), Image.Resampling.BOX), np.float32)
    return np.maximum(image, np.clip(stroke * 1.1, 0, 255).astype(np.uint8))


def flag_one(image: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A 1 (uint8 28x28, as MNIST's) with a flag from its top, down to the left; None
    when it has no ink."""
    ink = image > INK
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    top, height = rows[0], rows[-1] - rows[0] + 1
    col = np.flatnonzero(ink[top]).mean()
    length = rng.uniform(*FLAG_LENGTH) * height * 8
    angle = math.radians(rng.uniform(*FLAG_ANGLE))

    def draw(canvas: Image.Image, width: float) -> None:
        x0, y0 = (col + 0.5) * 8, (top + 0.5) * 8 + 0.3 * width
        x1, y1 = x0 - length * math.cos(angle), y0 + length * math.sin(angle)
        pen = ImageDraw.Draw(canvas)
        pen.line([(x0, y0), (x1, y1)], fill=255, width=round(width))
        pen.ellipse([x1 - width / 2, y1 - width / 2, x1 + width / 2, y1 + width / 2], fill=255)

    return _with_stroke(image, draw, row_width(image))


def cross_seven(image: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A 7 (uint8 28x28) with a level bar across its stem; None when no stem is found."""
    ink = image > INK
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    row = int(rows[0] + rng.uniform(*CROSS_HEIGHT) * (rows[-1] - rows[0] + 1))
    cols = np.flatnonzero(ink[row])
    if cols.size == 0:
        return None
    centre, half = (cols.mean() + 0.5) * 8, rng.uniform(*CROSS_LENGTH) * len(rows) * 4

    def draw(canvas: Image.Image, width: float) -> None:
        y = (row + 0.5) * 8
        ImageDraw.Draw(canvas).line(
            [(centre - half, y), (centre + half, y)], fill=255, width=round(width)
        )

    return _with_stroke(image, draw, row_width(image))


def small_top_loop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """An 8 (uint8 28x28, as MNIST's) drawn again with a smaller top loop; None when
    it has too little ink.

    The rows above the waist (the narrowest row of the middle 40%) are squeezed to
    ``SMALL_TOP_HEIGHT`` of their height and narrowed by about as much towards the
    top, the rows below stretched to keep the digit's height; the warped digit's
    medial line is then redrawn with its own stroke width, so the smaller loop is
    not drawn with a thinner pen. None too when the redrawn 8 has no loop left.
    """
    from skimage.morphology import skeletonize  # slow to import; only training needs it

    ink = image > INK
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size < 8:
        return None
    top, bottom = rows[0] - 0.5, rows[-1] + 0.5
    width = max(1.2, pen_width(image))
    middle = np.arange(round(top + 0.3 * (bottom - top)), round(top + 0.7 * (bottom - top)) + 1)
    inked = ink[middle]
    first, last = inked.argmax(axis=1), SIZE - 1 - inked[:, ::-1].argmax(axis=1)
    span = np.where(inked.any(axis=1), last - first, SIZE)  # a row without ink is no waist
    waist = middle[np.argmin(span)] + 0.5
    above = np.flatnonzero(ink[: int(waist)].any(axis=0))
    centre = (above[0] + above[-1]) / 2
    squeeze = rng.uniform(*SMALL_TOP_HEIGHT)
    narrow = math.sqrt(rng.uniform(squeeze, 1.0) * squeeze)  # between the squeeze and 1
    new_waist = top + squeeze * (waist - top)
    # output -> input, at 8x: the upper part stretched back, the lower part squeezed back
    y, x = (np.mgrid[0 : SIZE * 8, 0 : SIZE * 8].astype(np.float32) + 0.5) / 8 - 0.5
    upper = y < new_waist
    source_y = np.where(
        upper,
        top + (y - top) / squeeze,
        waist + (y - new_waist) * (bottom - waist) / (bottom - new_waist),
    )
    towards_top = np.clip((new_waist - y) / (new_waist - top), 0, 1)
    source_x = np.where(upper, centre + (x - centre) / (1 - towards_top * (1 - narrow)), x)
    warped = ndi.map_coordinates(image.astype(np.float32), [source_y, source_x], order=1)
    line = skeletonize(warped > 127)
    if not line.any():
        return None
    pen = np.clip(width * 4 + 0.5 - ndi.distance_transform_edt(~line), 0, 1)  # radius in 8x px
    drawn = np.round(pen.reshape(SIZE, 8, SIZE, 8).mean(axis=(1, 3)) * 255).astype(np.uint8)
    strokes = drawn > INK
    # a thick 8 whose loops the new pen fills is a blob, not the style this teaches
    return drawn if (ndi.binary_fill_holes(strokes) & ~strokes).any() else None


def hook_tail(image: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A 9 (uint8 28x28, as MNIST's) whose tail ends in a hook to the left, as a 9
    written like a "g"; None when it has too little ink or no stem to hook.

    The hook is a quadratic Bezier curve that leaves the stem ``HOOK_START`` of the
    height above its foot, heading for the foot (so that a slanted stem goes on as
    it was and its end stays under the new stroke), is lowest on the foot's row
    and ends ``HOOK_LENGTH`` of the width left of the stem or the foot, whichever
    is further left, but at most ``HOOK_OVERHANG`` of it past the digit's left
    side, and ``HOOK_RISE`` of the height up. The wider digit is then brought back
    to MNIST's 20 px box and centred by its mass, as the pipeline brings what it
    reads.
    """
    ink = image > INK
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size < 8:
        return None
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    start = int(rows[-1] - max(1, round(rng.uniform(*HOOK_START) * height)))
    foot_x = np.flatnonzero(ink[rows[-1]]).mean()
    runs, count = ndi.label(ink[start])
    if count == 0:
        return None
    # the run nearest the foot is the stem (another one is the loop's side)
    centres = ndi.mean(np.arange(SIZE), runs, range(1, count + 1))
    stem_x = float(centres[np.argmin(np.abs(np.asarray(centres) - foot_x))])
    pad = SIZE // 2  # room for the hook; the whole is scaled back into the box below
    x0, y0 = (stem_x + pad + 0.5) * 8, (start + pad + 0.5) * 8
    xf, foot = (foot_x + pad + 0.5) * 8, (rows[-1] + pad + 0.5) * 8
    # no further than HOOK_OVERHANG of the width past the digit's left side: a hook
    # that widened it much would be squashed flat when brought back to the box
    leftmost = (cols[0] + pad - HOOK_OVERHANG * width) * 8
    x2 = max(leftmost, min(x0, xf) - rng.uniform(*HOOK_LENGTH) * width * 8)
    y2 = foot - rng.uniform(*HOOK_RISE) * height * 8
    # the control point on the line from the start through the foot's ink that puts
    # the curve's lowest point on the foot's row
    along = (math.sqrt((foot - y0) * (foot - y2)) + foot - y0) / (foot - y0)
    control = np.array([x0 + along * (xf - x0), y0 + along * (foot - y0)])
    t = np.linspace(0, 1, 24)[:, None]
    start_point, end = np.array([x0, y0]), np.array([x2, y2])
    curve = (1 - t) ** 2 * start_point + 2 * t * (1 - t) * control + t**2 * end

    def draw(canvas: Image.Image, width: float) -> None:
        pen = ImageDraw.Draw(canvas)
        pen.line([tuple(p) for p in curve], fill=255, width=round(width), joint="curve")
        for x, y in (curve[0], curve[-1]):
            pen.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)

    # a 9's loop crosses its rows twice: the medial line gives its pen's width
    hooked = _with_stroke(np.pad(image, pad), draw, pen_width(image))
    digit = scale_to_box(trim(hooked).astype(np.float32) / 255)
    return np.round(centre_by_mass(digit) * 255).astype(np.uint8)


# ---------------------------------------------------------------- printed digits

PRINTED_SHARE = 1 / 7  # printed digits added, a share of the training set, even over the ten
PRINT_SIDE = 112  # px: drawn at redraw()'s size, UPSCALE times MNIST's
PRINT_HEIGHT = (0.55, 0.75)  # the digit's height, a share of the side
PRINT_ASPECT = (0.5, 0.75)  # width over height (a 1: PRINT_ASPECT_ONE)
PRINT_ASPECT_ONE = (0.45, 0.6)
PRINT_WEIGHT = (0.07, 0.25)  # stroke width, a share of the height: a light face to a heavy bold
ITALIC_SHARE = 0.3  # share of them slanted...
ITALIC_SLANT = 0.22  # ... by up to this shift per unit of height
BASE_SHARE = 0.4  # share of the 1s with a foot (a serif face's base)


def _arc(
    centre: tuple[float, float], radii: tuple[float, float], start: float, stop: float
) -> np.ndarray:
    """Points (n, 2) of an elliptic arc, x right and y down, angles in degrees from
    the right towards the bottom (so 270 is the top)."""
    angles = np.radians(np.linspace(start, stop, max(8, round(abs(stop - start) / 5))))
    return np.stack(
        [centre[0] + radii[0] * np.cos(angles), centre[1] + radii[1] * np.sin(angles)], axis=1
    )


def print_strokes(digit: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The medial lines of a printed ``digit`` in a unit box (x, y from 0 to 1, y
    down): the round bowls and straight bars of a sans-serif face, slightly varied.

    Returns
    -------
    list of numpy.ndarray
        Polylines, each (n, 2).
    """
    shift = rng.uniform(-0.03, 0.03)
    turn = rng.uniform(-9.0, 9.0)  # degrees more or less of an open arc
    if digit == 0:
        return [_arc((0.5, 0.5), (0.5, 0.5), 0, 360)]
    if digit == 1:
        lines = [
            np.array([[0.6, 0.0], [0.6, 1.0]]),
            np.array([[0.6, 0.0], [0.2 + 3 * shift, 0.22 + 2 * shift]]),
        ]
        if rng.random() < BASE_SHARE:
            lines.append(np.array([[0.2, 1.0], [1.0, 1.0]]))
        return lines
    if digit == 2:
        top = _arc((0.5, 0.28 + shift), (0.46, 0.28), 195 + turn, 400 + rng.uniform(-15, 10))
        return [np.concatenate([top, [[0.0, 1.0], [1.0, 1.0]]])]
    if digit == 3:
        return [
            _arc((0.47, 0.25), (0.42, 0.25), 210 + turn, 450),
            _arc((0.5, 0.74), (0.48, 0.26), 270, 505 + turn),
        ]
    if digit == 4:
        stem, bar = 0.68 + 5 * shift / 3, 0.7 + 4 * shift / 3
        return [
            np.array([[stem, 1.0], [stem, 0.0]]),
            np.array([[stem, 0.0], [0.0, bar], [1.0, bar]]),
        ]
    if digit == 5:
        # The bowl ends 150-195 degrees round its centre: up to a little past level with
        # it, as handwritten 5s often curl back up; a heavy pen may close it then, as a
        # marker does (a quarter of them). Ending under 170 only, the model read more
        # such handwritten 5s as 6 (79 of 100 right, against 91 now).
        bowl = _arc((0.48, 0.66 + shift), (0.47, 0.34), 215, 520 + rng.uniform(-10.0, 35.0))
        return [np.array([[0.92, 0.0], [0.2, 0.0], bowl[0]]), bowl]
    if digit in (6, 9):
        middle, height = 0.67 + shift, 0.33 + rng.uniform(-0.03, 0.03)
        strokes = [
            _arc((0.5, middle), (0.47, height), 0, 360),
            _arc((0.55, middle), (0.52, middle), 180, 295 + turn),  # the top's arc
        ]
        return strokes if digit == 6 else [1 - stroke for stroke in strokes]  # a 6 upside down
    if digit == 7:
        return [np.array([[0.0, 0.0], [1.0, 0.0], [0.3 + 10 * shift / 3, 1.0]])]
    return [_arc((0.5, 0.25), (0.38, 0.25), 0, 360), _arc((0.5, 0.72), (0.47, 0.28), 0, 360)]


def print_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A printed ``digit``: :func:`print_strokes` drawn with a round pen of a random
    weight, at a random width and, for some, slanted as an italic.

    Returns
    -------
    numpy.ndarray
        float32 (PRINT_SIDE, PRINT_SIDE) pen coverage in [0, 1], bright on black.
    """
    height = PRINT_SIDE * rng.uniform(*PRINT_HEIGHT)
    width = height * rng.uniform(*(PRINT_ASPECT_ONE if digit == 1 else PRINT_ASPECT))
    slant = rng.uniform(0, ITALIC_SLANT) if rng.random() < ITALIC_SHARE else 0.0
    pen = max(1, round(height * rng.uniform(*PRINT_WEIGHT) * 4))  # drawn at 4x, box-reduced
    left, top = (PRINT_SIDE - width) / 2, (PRINT_SIDE - height) / 2
    canvas = Image.new("L", (PRINT_SIDE * 4, PRINT_SIDE * 4), 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in print_strokes(digit, rng):
        x = left + stroke[:, 0] * width + slant * (1 - stroke[:, 1]) * height
        points = [(4 * a, 4 * b) for a, b in zip(x, top + stroke[:, 1] * height, strict=True)]
        draw.line(points, fill=255, width=pen)
        for a, b in points:  # a round pen: round ends, and joints without seams
            draw.ellipse((a - pen / 2, b - pen / 2, a + pen / 2, b + pen / 2), fill=255)
    reduced = canvas.resize((PRINT_SIDE, PRINT_SIDE), Image.Resampling.BOX)
    return np.asarray(reduced, np.float32) / np.float32(255)


def _printed_chunk(args: tuple[np.ndarray, int]) -> np.ndarray:
    indices, seed = args
    out = np.zeros((len(indices), SIZE, SIZE), np.uint8)
    for row, index in enumerate(indices):
        # [seed, index, 3]: no other stream of this module has that form (redraw and
        # calibration: [seed, index] and [seed, index, 1]; styles: [seed, 2])
        drawn = print_digit(int(index) % 10, np.random.default_rng([seed, int(index), 3]))
        tail = to_mnist(crop_to_ink(drawn, drawn > 0))
        out[row] = np.round(tail.stages[-1].image * 255)  # never None: a printed digit is no dot
    return out


def printed(
    images: np.ndarray, labels: np.ndarray, seed: int = 0, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The training set plus printed digits (:func:`print_digit`), ``PRINTED_SHARE``
    of its size, as many of each digit, each through the pipeline's last steps
    (:func:`core.preprocess.to_mnist`) as a user's print would be.

    A printed 6 has a round bowl over half its height and a top arc curling to the
    right, a shape MNIST's handwritten 6s seldom have: without printed digits the
    model read a printed 6 as 8 in 31 of 39 system fonts.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 (n, 28, 28), MNIST's convention.
    labels : numpy.ndarray
        (n,) digits 0-9.
    seed : int
        Decides every printed digit, with its position: the same bytes on any
        machine with the same library versions, whatever ``workers``.
    workers : int, optional
        Processes to use; default one per core.

    Returns
    -------
    images, labels : numpy.ndarray
        The input followed by the printed digits (0, 1, ..., 9, 0, 1, ...).

    Raises
    ------
    TypeError
        If ``images`` is not uint8.
    """
    if images.dtype != np.uint8:
        raise TypeError(f"printed() takes uint8 images as MNIST's, not {images.dtype}")
    count = 10 * round(len(images) * PRINTED_SHARE / 10)
    if count == 0:
        return images, labels
    tasks = [(np.arange(s, min(s + CHUNK, count)), seed) for s in range(0, count, CHUNK)]
    made = map_chunks(_printed_chunk, tasks, workers)
    digits = (np.arange(count) % 10).astype(labels.dtype)
    return np.concatenate([images, *made]), np.concatenate([labels, digits])


# digit -> (share of its training images, the function that draws one in the style)
STYLES: dict[int, tuple[float, Callable[[np.ndarray, np.random.Generator], np.ndarray | None]]] = {
    1: (FLAG_SHARE, flag_one),
    7: (CROSS_SHARE, cross_seven),
    8: (SMALL_TOP_SHARE, small_top_loop),
    9: (HOOK_SHARE, hook_tail),
}
# the training recipe's ``augment`` -> the digits given their style: "continental" and
# "styles" are the ten-class models of 2026-12-01, kept so that their cards still read
# (and regenerate) the same
STYLE_SETS: dict[str, tuple[int, ...]] = {
    "continental": (1, 7),
    "styles": (1, 7, 8),
    "four-styles": (1, 7, 8, 9),
    "four-styles+print": (1, 7, 8, 9),
}
PRINT_RECIPES = ("four-styles+print",)  # recipes that add printed digits too (printed())
STYLE_WORDS = {
    1: "1s with a flag",
    7: "crossed 7s",
    8: "8s with a small top loop",
    9: "9s with a hooked tail",
}


def _recipe(card: dict) -> str | None:
    parameters = card.get("parameters")
    augment_name = parameters.get("augment") if isinstance(parameters, dict) else None
    return augment_name if isinstance(augment_name, str) else None


def learned_styles(card: dict) -> tuple[int, ...] | None:
    """The digits a model card's recipe gave their style (``STYLE_SETS``), or None."""
    return STYLE_SETS.get(_recipe(card) or "")


def learned_print(card: dict) -> bool:
    """Whether a model card's recipe added printed digits (:func:`printed`)."""
    return _recipe(card) in PRINT_RECIPES


def styles(
    images: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    digits: tuple[int, ...] = STYLE_SETS["styles"],
) -> tuple[np.ndarray, np.ndarray]:
    """The training set plus flagged 1s (:func:`flag_one`), crossed 7s
    (:func:`cross_seven`), 8s with a small top loop (:func:`small_top_loop`) and 9s
    with a hooked tail (:func:`hook_tail`), those of ``digits``.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 (n, 28, 28), MNIST's convention (bright ink on black).
    labels : numpy.ndarray
        (n,) digits.
    seed : int
        With the labels, decides which digits are drawn again, and how.
    digits : tuple of int
        The digits given their style (keys of ``STYLES``), in this order; the
        default is the "styles" recipe; the shipped model's, "four-styles+print",
        gives all four their style.

    Returns
    -------
    images, labels : numpy.ndarray
        The input followed by the new digits: the ``STYLES`` share of each digit,
        drawn again in its style (but those without ink, or a 7 without a stem
        where the bar goes).

    Raises
    ------
    TypeError
        If ``images`` is not uint8.
    """
    if images.dtype != np.uint8:
        raise TypeError(f"styles() takes uint8 images as MNIST's, not {images.dtype}")
    rng = np.random.default_rng([seed, 2])
    made, digits_made = [], []
    for digit in digits:
        share, add = STYLES[digit]
        found = np.flatnonzero(labels == digit)
        chosen = np.sort(rng.choice(found, round(share * len(found)), replace=False))
        for index in chosen:
            drawn = add(images[index], rng)
            if drawn is not None:
                made.append(drawn)
                digits_made.append(labels[index])
    if not made:
        return images, labels
    return np.concatenate([images, np.stack(made)]), np.concatenate([labels, np.array(digits_made)])


def os_cpu_count() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def map_chunks(function: Callable[[T], R], tasks: list[T], workers: int | None = None) -> list[R]:
    """``[function(task) for task in tasks]``, in ``workers`` processes (default one
    per core) when there are two tasks or more; here, in this process, otherwise.
    Each task decides its own random stream, so the result does not depend on
    ``workers``."""
    workers = min(workers or os_cpu_count(), len(tasks))
    if workers <= 1:
        return [function(task) for task in tasks]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, tasks))


# ---------------------------------------------------------------- calibration inputs

CANVAS = 280  # the app's canvas side, px


def on_canvas(drawn: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A redrawn digit as the app's canvas returns it: RGBA, white ink, random size and place.

    Parameters
    ----------
    drawn : numpy.ndarray
        float32 (112, 112) in [0, 1], from :func:`redraw`.

    Returns
    -------
    numpy.ndarray
        uint8 (280, 280, 4).
    """
    side = int(rng.uniform(0.2, 0.95) * CANVAS)
    ink = np.asarray(Image.fromarray(drawn, "F").resize((side, side), Image.Resampling.BILINEAR))
    top, left = rng.integers(0, CANVAS - side + 1, 2)
    cover = np.zeros((CANVAS, CANVAS), np.float32)
    cover[top : top + side, left : left + side] = np.clip(ink, 0, 1)
    out = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    out[:, :, :3] = 255
    out[:, :, 3] = np.round(cover * 255).astype(np.uint8)
    return out


def photographed(drawn: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A redrawn digit as a phone photo of paper: uneven light, grain, blur, a dark margin.

    Returns
    -------
    numpy.ndarray
        uint8 (H, W, 3), H and W from 160 to 640 px: the digit spans 15 % to 80 %
        of the frame; dark or blue ink; a gradient and, often, a shadow or the
        sheet's edge on a darker desk.
    """
    height = int(rng.uniform(160, 640))
    width = int(height * rng.uniform(0.75, 1.33))
    side = max(12, int(rng.uniform(0.15, 0.8) * min(height, width)))
    ink = np.asarray(Image.fromarray(drawn, "F").resize((side, side), Image.Resampling.BILINEAR))
    top = rng.integers(0, height - side + 1)
    left = rng.integers(0, width - side + 1)
    cover = np.zeros((height, width), np.float32)
    cover[top : top + side, left : left + side] = np.clip(ink, 0, 1)
    y = np.linspace(-0.5, 0.5, height, dtype=np.float32)[:, None]
    x = np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :]
    angle = rng.uniform(0, 2 * math.pi)
    light = 1 - rng.uniform(0, 0.4) * (x * math.cos(angle) + y * math.sin(angle))
    if rng.random() < 0.4:  # a shadow's edge, soft or hard
        edge = (x - rng.uniform(-0.5, 0.5)) * math.cos(angle) + y * math.sin(angle)
        light = light - rng.uniform(0.1, 0.35) * expit(edge / rng.uniform(0.002, 0.05))
    paper = np.float32(rng.uniform(0.7, 0.95)) * light
    if rng.random() < 0.3:  # the sheet's edge on a darker desk, along one side
        margin = int(rng.uniform(0.03, 0.15) * width)
        paper[:, :margin] = rng.uniform(0.1, 0.4)
    colour = np.array([0.15, 0.18, 0.55] if rng.random() < 0.3 else [0.1, 0.1, 0.1], np.float32)
    strength = np.float32(rng.uniform(0.5, 1.0))  # a faint pencil to a black marker
    picture = paper[:, :, None] * (1 - strength * cover[:, :, None] * (1 - colour))
    picture += rng.normal(0, rng.uniform(0.005, 0.03), picture.shape).astype(np.float32)
    image = Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8), "RGB")
    radius = rng.uniform(0, 1.5) * side / 100
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius)))


SCAN_BOX = 16  # a postal scan's digit box, px (as in the USPS set's 16x16 images)


def scanned(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as a size-normalised postal scan, photographed: it fills the frame.

    The digit is cropped to its ink, fitted into a ``SCAN_BOX`` px square (its
    width sometimes stretched by up to 1.5, as a size normalisation does), scaled
    up to 16-128 px, printed dark on paper under uneven light, and saved as a JPEG
    of quality 50-92. Its strokes touch the frame and fill a third of it or more:
    a tight crop (kind C) that a plain crop-and-centre pipeline reads well.

    Parameters
    ----------
    image : numpy.ndarray
        float32 (28, 28) in [0, 1], bright ink on black, not blank.

    Returns
    -------
    numpy.ndarray
        uint8 (side, side), grey, side in {16, 32, 48, 64, 96, 128}.
    """
    rows, cols = np.flatnonzero(image.max(axis=1) > 0.1), np.flatnonzero(image.max(axis=0) > 0.1)
    glyph = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = glyph.shape
    scale = SCAN_BOX / max(height, width)
    stretch = rng.uniform(1, 1.5) if rng.random() < 0.5 else 1.0
    new_w = min(SCAN_BOX, max(2, round(width * scale * stretch)))
    new_h = max(2, round(height * scale))
    small = Image.fromarray(np.ascontiguousarray(glyph, np.float32), "F")
    small = np.asarray(small.resize((new_w, new_h), Image.Resampling.BILINEAR))
    box = np.zeros((SCAN_BOX, SCAN_BOX), np.float32)
    top, left = (SCAN_BOX - new_h) // 2, (SCAN_BOX - new_w) // 2
    box[top : top + new_h, left : left + new_w] = small / max(float(small.max()), 1e-3)
    side = int(rng.choice([16, 32, 48, 64, 96, 128]))
    ink = np.asarray(Image.fromarray(box, "F").resize((side, side), Image.Resampling.BICUBIC))
    y = np.linspace(-0.5, 0.5, side, dtype=np.float32)[:, None]
    x = np.linspace(-0.5, 0.5, side, dtype=np.float32)[None, :]
    angle = rng.uniform(0, 2 * math.pi)
    light = 1 - rng.uniform(0, 0.35) * (x * math.cos(angle) + y * math.sin(angle))
    paper = rng.uniform(0.7, 0.97) * light
    picture = paper * (1 - rng.uniform(0.6, 0.95) * np.clip(ink, 0, 1))
    picture += rng.normal(0, 0.01, picture.shape)
    grey = Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8), "L")
    buffer = io.BytesIO()
    grey.save(buffer, "JPEG", quality=int(rng.integers(50, 93)))
    return np.asarray(Image.open(buffer))


def calibration_inputs(
    images: np.ndarray, seed: int, start: int = 0
) -> Iterator[tuple[int, np.ndarray]]:
    """Held-out MNIST digits as users would bring them, for calibrating and the sure rule.

    In turn, each image is redrawn (:func:`redraw`) and put on the canvas
    (:func:`on_canvas`), redrawn and photographed (:func:`photographed`), or
    brought as a postal scan that fills its frame (:func:`scanned`): what
    :func:`core.preprocess.preprocess` is then given, whole pipeline included.
    ``start`` is the position of ``images[0]`` in the whole set (for the seeds).

    Yields
    ------
    (index, picture) : tuple of int and numpy.ndarray
    """
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / np.float32(255)
    for index, image in enumerate(images):
        rng = np.random.default_rng([seed, start + index, 1])
        way = (start + index) % 3
        if way == 2:
            yield index, scanned(image, rng)
            continue
        drawn = redraw(image, rng)
        yield index, on_canvas(drawn, rng) if way == 0 else photographed(drawn, rng)


def _read_chunk(
    args: tuple[np.ndarray, int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    images, start, seed = args
    pixels = np.zeros((len(images), SIZE, SIZE), np.float32)
    blank = np.zeros(len(images), bool)
    ratio = np.zeros(len(images), np.float32)
    loops = np.zeros(len(images), np.int32)
    for index, picture in calibration_inputs(images, seed, start):
        result = preprocess(picture)
        pixels[index], blank[index], ratio[index], loops[index] = (
            result.pixels,
            result.is_blank,
            result.stroke_ratio,
            result.loops,
        )
    return pixels, blank, ratio, loops


def calibration_readings(
    images: np.ndarray, seed: int, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the whole pipeline makes of :func:`calibration_inputs`, in parallel.

    Returns
    -------
    pixels : numpy.ndarray
        float32 (n, 28, 28).
    blank : numpy.ndarray
        bool (n,): the pipeline found no digit.
    stroke_ratio : numpy.ndarray
        float32 (n,), as :class:`core.preprocess.Preprocessed` gives it.
    loops : numpy.ndarray
        int32 (n,), as :class:`core.preprocess.Preprocessed` gives it.
    """
    tasks = [(images[s : s + CHUNK // 4], s, seed) for s in range(0, len(images), CHUNK // 4)]
    results = map_chunks(_read_chunk, tasks, workers)
    return tuple(np.concatenate([r[i] for r in results]) for i in range(4))
