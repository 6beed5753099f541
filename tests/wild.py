"""A deterministic, labelled "wild" set of digit pictures that are not MNIST.

Two kinds, all from the stroke templates in :mod:`tests.strokes`:

* canvas drawings (PNG, RGBA as the canvas component returns them): every digit
  variant x pen (thin 4 px, medium 16 px, thick 35 px on 280x280) x size (small,
  about 25 % of the canvas; large, about 90 %) x position (a corner, the centre),
  each with a small random slant, width change and jitter;
* "photos" (JPEG, quality 70, 360x480): dark ink on paper under uneven light
  (gradient, vignette, a soft shadow), paper grain, slight blur and rotation;
  some stored rotated with an EXIF orientation tag that puts them upright; some
  in blue ballpoint; some light chalk on a dark board.

``generate_wild_set(directory)`` writes 368 files (276 canvas, 92 photo) in about
6 s on the 2-core dev machine and returns ``(path, label)`` pairs;
:func:`iter_wild_set` yields the same pictures in memory. The label is also the
first number in each file name. From the repository root:
``.venv/bin/python -m tests.wild DIRECTORY``.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from tests.strokes import DIGIT_STROKES, Stroke, coverage

CANVAS = 280
PENS = {"thin": 4, "medium": 16, "thick": 35}
SIZES = {"small": 0.25, "large": 0.9}  # digit height as a fraction of the canvas
TEMPLATE_HEIGHT = 0.8  # the templates span y in about [0.1, 0.9]
PHOTO_SIZE = (360, 480)  # width, height
PHOTO_KINDS = ("paper", "rotated", "blue", "chalk")
EXIF_ORIENTATION = 0x0112
# orientation tag -> how to store the upright picture so that the tag restores it
STORED = {
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
    3: Image.Transpose.ROTATE_180,
}


def _jitter(strokes: list[Stroke], rng: np.random.Generator, amount: float) -> list[Stroke]:
    """Squeeze or stretch horizontally and wobble the points a little."""
    stretch = rng.uniform(0.85, 1.12)
    out = []
    for stroke in strokes:
        noise = rng.normal(0, amount, (len(stroke), 2))
        out.append(
            [
                (0.5 + (x - 0.5) * stretch + dx, y + dy)
                for (x, y), (dx, dy) in zip(stroke, noise, strict=True)
            ]
        )
    return out


def canvas_drawing(
    strokes: list[Stroke], pen: float, size: str, position: str, rng: np.random.Generator
) -> np.ndarray:
    """One canvas-like RGBA drawing: white strokes, transparent black background."""
    height = SIZES[size]
    scale = height / TEMPLATE_HEIGHT * rng.uniform(0.92, 1.05)
    slant = rng.uniform(-0.18, 0.18)
    if position == "centre":
        offset = rng.normal(0, 6, 2)
    else:
        room = (1 - height) / 2 * CANVAS - pen / 2 - 3
        corner = rng.choice([-1, 1], 2)
        offset = corner * max(room, 0) * rng.uniform(0.8, 1.0, 2)
    cover = coverage(_jitter(strokes, rng, 0.003), CANVAS, pen, tuple(offset), scale, slant)
    out = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    out[:, :, :3] = np.where(cover[:, :, None] > 0, 255, 0)
    out[:, :, 3] = np.round(cover * 255)
    return out


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1], float32 (height, width)."""
    height, width = shape
    small = rng.uniform(-1, 1, (cells, max(2, round(cells * width / height)))).astype(np.float32)
    return np.asarray(Image.fromarray(small, "F").resize((width, height), Image.Resampling.BICUBIC))


def _lighting(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uneven light: a gradient, a vignette and a soft shadow edge, in about [0.5, 1]."""
    height, width = shape
    y = (np.arange(height, dtype=np.float32)[:, None] + 0.5) / height - 0.5
    x = (np.arange(width, dtype=np.float32)[None, :] + 0.5) / width - 0.5
    angle = rng.uniform(0, 2 * math.pi)
    gradient = (x * math.cos(angle) + y * math.sin(angle)) * rng.uniform(0.2, 0.45)
    vignette = (x**2 + y**2) * rng.uniform(0.3, 0.8)
    light = 1 - gradient - vignette
    if rng.random() < 0.6:  # the soft shadow of a hand or a phone
        edge = rng.uniform(-0.4, 0.4)
        tilt = rng.uniform(-0.5, 0.5)
        side = x - edge - tilt * y
        light = light - rng.uniform(0.15, 0.3) / (1 + np.exp(-side / 0.05))
    return np.clip(light, 0.35, 1.1).astype(np.float32)


def photo(strokes: list[Stroke], kind: str, rng: np.random.Generator) -> tuple[bytes, int | None]:
    """One photo-like JPEG of the digit and the EXIF orientation it carries (or None)."""
    width, height = PHOTO_SIZE
    digit_height = rng.uniform(0.35, 0.6) * height
    scale = digit_height / (TEMPLATE_HEIGHT * width)
    pen = rng.uniform(0.045, 0.07) * digit_height
    offset = (rng.normal(0, 0.06) * width, (height - width) / 2 + rng.normal(0, 0.06) * height)
    cover = coverage(
        _jitter(strokes, rng, 0.003),
        width,
        pen,
        offset,
        scale,
        rng.uniform(-0.15, 0.15),
        height,
        supersample=2,
    )
    cover_image = Image.fromarray(cover, "F").rotate(
        rng.uniform(-5, 5), Image.Resampling.BICUBIC, fillcolor=0
    )
    cover = np.clip(np.asarray(cover_image), 0, 1)[:, :, None]
    light = _lighting(rng, (height, width))[:, :, None]
    texture = _smooth_noise(rng, (height, width), 12)[:, :, None]
    if kind == "chalk":
        board = np.array([0.16, 0.22, 0.19], np.float32) * (1 + 0.25 * texture)
        grain = rng.standard_normal(cover.shape, dtype=np.float32)
        patchy = np.clip(0.75 + 0.25 * grain, 0.3, 1)
        ink = np.array([0.9, 0.9, 0.86], np.float32)
        picture = board * (1 - cover * patchy) + ink * cover * patchy
        picture = picture * (0.75 + 0.25 * light)
    else:
        paper = np.array([0.93, 0.91, 0.86], np.float32) * (1 + 0.03 * texture)
        ink = np.array([0.12, 0.16, 0.5] if kind == "blue" else [0.13, 0.12, 0.12], np.float32)
        ink = ink * np.float32(rng.uniform(0.8, 1.6))
        picture = (paper * (1 - cover) + ink * cover) * light
    picture = picture + 0.02 * rng.standard_normal(picture.shape, dtype=np.float32)
    image = Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.4)))
    orientation = None
    exif = Image.Exif()
    if kind == "rotated":
        orientation = int(rng.choice(list(STORED)))
        image = image.transpose(STORED[orientation])
        exif[EXIF_ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70, exif=exif.tobytes())
    return buffer.getvalue(), orientation


def iter_wild_set(seed: int = 0) -> Iterator[tuple[str, bytes, int]]:
    """Yield ``(file name, encoded file, label)`` for the whole set, deterministically."""
    rng = np.random.default_rng(seed)
    for digit in range(10):
        for number, strokes in enumerate(DIGIT_STROKES[digit]):
            for pen_name, pen in PENS.items():
                for size in SIZES:
                    for position in ("corner", "centre"):
                        array = canvas_drawing(strokes, pen, size, position, rng)
                        buffer = io.BytesIO()
                        Image.fromarray(array, "RGBA").save(buffer, "PNG", compress_level=1)
                        name = f"canvas_{digit}_v{number}_{pen_name}_{size}_{position}.png"
                        yield name, buffer.getvalue(), digit
    for digit in range(10):
        for number, strokes in enumerate(DIGIT_STROKES[digit]):
            for kind in PHOTO_KINDS:
                data, orientation = photo(strokes, kind, rng)
                tag = f"_exif{orientation}" if orientation else ""
                yield f"photo_{digit}_v{number}_{kind}{tag}.jpg", data, digit


def generate_wild_set(directory: str | os.PathLike, seed: int = 0) -> list[tuple[Path, int]]:
    """Write the wild set into ``directory`` (created if needed); return (path, label) pairs."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data, label in iter_wild_set(seed):
        path = directory / name
        path.write_bytes(data)
        out.append((path, label))
    return out


if __name__ == "__main__":
    import sys
    import time

    start = time.perf_counter()
    written = generate_wild_set(sys.argv[1] if len(sys.argv) > 1 else "wild")
    print(f"{len(written)} images in {time.perf_counter() - start:.1f} s")
