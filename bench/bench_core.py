"""Core speed: one canvas image end to end, and `classify` of 1,000 PNG files.

Targets (issue #2): preprocess + predict + contributions of one 280×280 canvas
image ≤ 5 ms median; `python -m core classify` of 1,000 PNGs in one call ≤ 10 s.
Run from the repository root: ``.venv/bin/python -m bench.bench_core``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from core.model import load_model, probabilities
from core.preprocess import preprocess
from tests.strokes import DIGIT_STROKES, render_strokes


def one_canvas(model, canvas: np.ndarray) -> int:
    """What the app does for each stroke: preprocess, contributions, probabilities."""
    result = preprocess(canvas)
    parts = model.contributions(result.pixels)
    return int(np.argmax(probabilities(parts.logits[None], model.is_binary)))


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
    times = []
    for _ in range(5):
        for canvas in canvases:
            start = time.perf_counter()
            one_canvas(model, canvas)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(
        f"canvas 280x280 end to end: median {statistics.median(times):.2f} ms, "
        f"p95 {times[int(0.95 * len(times))]:.2f} ms over {len(times)} runs (target <= 5 ms median)"
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
