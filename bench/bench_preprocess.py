"""How long ``core.preprocess.preprocess`` takes: prints median and p95, asserts nothing.

Run from the repository root: ``.venv/bin/python -m bench.bench_preprocess``.
Cases: a 280x280 RGBA canvas drawing (the app's hot path, target <= 3 ms), a
3000x4000 photo-like RGB array, and the same photo as JPEG bytes (decoding included).
"""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
from PIL import Image

from core.preprocess import preprocess
from tests.strokes import DIGIT_STROKES, coverage, render_strokes


def photo_like(width: int = 3000, height: int = 4000) -> np.ndarray:
    """Dark ink on paper under a light gradient, with grain: uint8 (height, width, 3)."""
    cover = coverage(
        DIGIT_STROKES[3][0],
        width,
        0.012 * height,
        (0, (height - width) / 2),
        0.9,
        0.1,
        height,
        supersample=1,
    )
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    light = 1 - 0.35 * x - 0.25 * (y - 0.5) ** 2
    gray = 0.92 * light * (1 - 0.85 * cover)
    grain = np.random.default_rng(0).normal(0, 0.02, (height, width)).astype(np.float32)
    rgb = np.clip(gray + grain, 0, 1)[:, :, None] * np.array([1.0, 0.98, 0.93], np.float32)
    return np.round(rgb * 255).astype(np.uint8)


def measure(name: str, image: object, repeat: int) -> None:
    preprocess(image)  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        preprocess(image)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"{name:38s} median {statistics.median(times):8.2f} ms   p95 {p95:8.2f} ms  (n={repeat})")


def main() -> None:
    canvas = render_strokes(DIGIT_STROKES[7][0], pen=16, scale=0.9)
    measure("canvas 280x280 RGBA array", canvas, 500)
    thin = render_strokes(DIGIT_STROKES[8][0], pen=3, scale=0.9)
    measure("canvas 280x280 RGBA, thin pen", thin, 300)
    photo = photo_like()
    measure("photo 3000x4000 RGB uint8 array", photo, 20)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=85)
    measure(f"photo 3000x4000 JPEG ({len(buffer.getvalue()) // 1000} kB)", buffer.getvalue(), 20)


if __name__ == "__main__":
    main()
