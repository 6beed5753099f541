"""Stroke width and ink of what the pipeline makes, measured as MNIST's own were.

``core.preprocess.DRAWN_STROKE_WIDTH`` comes from this: MNIST's median stroke
width (``MNIST_STROKE_WIDTH``, 2.86 px in the 20-px box) was measured on its soft,
anti-aliased digits, and the pipeline's crisp strokes drawn at that width measure
wider the same way. For ``--count`` MNIST *test* digits (picked by ``--seed``) it
prints the median width (:func:`core.preprocess.box_stroke_width` of the 28x28
image) and the median ink
(sum of the 28x28 pixels, 0-1 each) of the digits as they are, and of the
pipeline's 28x28 result when each is redrawn on the canvas and redrawn and
photographed by :mod:`core.augment` (as ``bench/eval_real.py``'s ``handwriting``
set), and of ``../shared/data/realdigits/``.

Run from the repository root::

    .venv/bin/python -m bench.stroke_widths [--count 300] [--seed 0]
        [--data-dir ../shared/data/mnist] [--realdigits ../shared/data/realdigits]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core import augment
from core import preprocess as pp
from core.data import load_split

REALDIGITS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "realdigits"


def measure(image: np.ndarray) -> tuple[float, float] | None:
    """(stroke width in the 20-px box, ink) of a 28x28 digit, as MNIST's was measured
    (:func:`core.preprocess.box_stroke_width`); None without ink."""
    if not image.any():
        return None
    return pp.box_stroke_width(image), float(image.sum())


def line(name: str, readings: list[tuple[float, float] | None]) -> str:
    kept = np.array([r for r in readings if r is not None])
    width, ink = np.median(kept, axis=0)
    return f"{name:<28} {len(kept):>5} {width:>8.2f} {ink:>8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=str(REALDIGITS.parent / "mnist"))
    parser.add_argument("--realdigits", default=str(REALDIGITS), help="skipped when missing")
    args = parser.parse_args()

    test = load_split("test", Path(args.data_dir))
    picked = np.random.default_rng(args.seed).choice(len(test.labels), args.count, replace=False)
    digits = [test.images[i].astype(np.float32) / 255 for i in picked]
    ways = {
        "canvas": lambda d, rng: augment.on_canvas(augment.redraw(d, rng), rng),
        "photo": lambda d, rng: augment.photographed(augment.redraw(d, rng), rng),
    }
    print(f"drawn at {pp.DRAWN_STROKE_WIDTH} px (MNIST measured {pp.MNIST_STROKE_WIDTH})")
    print(f"{'set':<28} {'n':>5} {'width':>8} {'ink':>8}")
    print(line("MNIST test, as they are", [measure(d) for d in digits]))
    for way, make in ways.items():
        readings = []
        for index, digit in zip(picked, digits, strict=True):
            result = pp.preprocess(make(digit, np.random.default_rng([int(index), 5])))
            readings.append(None if result.is_blank else measure(result.pixels))
        print(line(f"MNIST test, {way}", readings))
    real = Path(args.realdigits)
    if real.is_dir():
        readings = []
        for path in sorted(real.glob("*.*")):
            if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
                result = pp.preprocess(str(path))
                readings.append(None if result.is_blank else measure(result.pixels))
        print(line("realdigits", readings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
