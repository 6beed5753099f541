"""Core speed: one canvas image and one 12-megapixel phone photo end to end, and
`classify` of 1,000 PNG files.

Targets: preprocess + predict + contributions of one 280×280 canvas image ≤ 5 ms
median, of one 12-megapixel phone JPEG (4000×3000, a ballpoint digit on paper
under uneven light, made here) ≤ 20 ms median; `python -m core classify` of
1,000 PNGs in one call ≤ 10 s. The same photo on squared paper is timed too, with
no target: rules are looked for and taken away, strokes lying on them joined again.
Run from the repository root: ``.venv/bin/python -m bench.bench_core``.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from core.model import load_model
from core.preprocess import preprocess
from tests.strokes import DIGIT_STROKES, render_strokes


def one_canvas(model, canvas: np.ndarray | bytes) -> int:
    """What the app does for each input: preprocess, contributions, probabilities."""
    result = preprocess(canvas)
    parts = model.contributions(result.pixels)
    return int(np.argmax(model.probabilities(parts.logits[None])))


def phone_photo(digit: int, seed: int, squares: int = 0) -> bytes:
    """A 4000x3000 JPEG as a phone takes it: a ballpoint digit a third of the frame high,
    on squared paper whose squares are ``squares`` px when not 0."""
    rng = np.random.default_rng(seed)
    small = render_strokes(DIGIT_STROKES[digit][0], pen=6, scale=0.35, mode="L")  # 280 px
    cover = np.asarray(Image.fromarray(small).resize((4000, 4000), Image.BILINEAR))[500:3500]
    cover = cover.astype(np.float32) / 255
    if squares:  # printed lines, lighter than the ink
        lines = ((np.arange(3000) % squares) < 8)[:, None] | ((np.arange(4000) % squares) < 8)
        cover[lines] = np.maximum(cover[lines], 0.5)
    x = np.linspace(0, 1, 4000, dtype=np.float32)[None, :]
    light = 0.95 - 0.25 * x - 0.1 * rng.random()
    picture = light * (1 - 0.8 * cover) + rng.normal(0, 0.01, (3000, 4000)).astype(np.float32)
    grey = np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).convert("RGB").save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def timed(model, inputs: list, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        for item in inputs:
            start = time.perf_counter()
            one_canvas(model, item)
            times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def main() -> None:
    model = load_model("ten-class")
    canvases = [
        render_strokes(DIGIT_STROKES[d][v], pen=pen)
        for d in range(10)
        for v in range(len(DIGIT_STROKES[d]))
        for pen in (8, 18, 30)
    ]
    for canvas in canvases[:5]:
        one_canvas(model, canvas)  # warm up
    times = timed(model, canvases, 5)
    print(
        f"canvas 280x280 end to end: median {statistics.median(times):.2f} ms, "
        f"p95 {times[int(0.95 * len(times))]:.2f} ms over {len(times)} runs (target <= 5 ms median)"
    )
    for squares, name, target in (
        (0, "end to end", "target <= 20 ms median"),
        (400, "on squared paper", "no target"),
    ):
        photos = [phone_photo(digit, digit, squares) for digit in range(10)]
        read = [one_canvas(model, photo) for photo in photos]
        times = timed(model, photos, 3)
        print(
            f"phone JPEG 4000x3000 {name}: median {statistics.median(times):.2f} ms, "
            f"p95 {times[int(0.95 * len(times))]:.2f} ms over {len(times)} runs, "
            f"{sum(r == d for d, r in enumerate(read))}/10 read right ({target})"
        )

    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for index in range(1000):
            digit = index % 10
            strokes = DIGIT_STROKES[digit][index % len(DIGIT_STROKES[digit])]
            path = Path(directory) / f"{index:04d}_{digit}.png"
            Image.fromarray(render_strokes(strokes, pen=10 + index % 25)).save(path)
            paths.append(str(path))
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "core", "classify", "--json", *paths],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        seconds = time.perf_counter() - start
        lines = result.stdout.splitlines()
        print(
            f"classify 1000 PNG (280x280 RGBA) in one call: {seconds:.2f} s wall, "
            f"{len(lines)} results, exit {result.returncode} (target <= 10 s)"
        )


if __name__ == "__main__":
    main()
