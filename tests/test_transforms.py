"""The fast input transforms equal their plain definitions (scipy's samplers and filters)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.transforms import deskew, deskew_soften, soften

CENTRE = 13.5


def _digits(count: int = 40, seed: int = 0) -> np.ndarray:
    """Slanted strokes of random width, place and slant, with a little noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:28, 0:28]
    images = np.zeros((count, 28, 28), np.float32)
    for image in images:
        slant, middle, width = rng.uniform(-0.6, 0.6), rng.uniform(8, 20), rng.uniform(1, 3)
        top, bottom = sorted(rng.integers(2, 26, 2))
        line = np.abs(cols - (middle + slant * (rows - 14))) < width
        image[line & (rows >= top) & (rows <= bottom + 2)] = 1.0
        image += rng.uniform(0, 0.2, image.shape) * (rng.random(image.shape) < 0.05)
    return np.clip(images, 0, 1)


def _reference_deskew(image: np.ndarray) -> np.ndarray:
    """Moments, then bilinear sampling with scipy (zero outside the frame)."""
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float64)
    total = image.sum(dtype=np.float64)
    row_mean = (rows * image).sum() / total
    col_mean = (cols * image).sum() / total
    variance = ((rows - row_mean) ** 2 * image).sum() / total
    covariance = ((rows - row_mean) * (cols - col_mean) * image).sum() / total
    alpha = covariance / variance
    sample_rows = rows - CENTRE + row_mean
    sample_cols = cols - CENTRE + alpha * (rows - CENTRE) + col_mean
    return ndimage.map_coordinates(
        image.astype(np.float64), [sample_rows, sample_cols], order=1, mode="grid-constant"
    )


def test_deskew_is_moment_shear_with_bilinear_sampling():
    images = _digits()
    fast = deskew(images)
    assert fast.dtype == np.float32 and fast.shape == images.shape
    for image, result in zip(images, fast, strict=True):
        np.testing.assert_allclose(result, _reference_deskew(image), atol=2e-3)
    # Chunking does not change anything.
    np.testing.assert_array_equal(deskew(images, chunk=7), fast)


def test_deskew_straightens_and_centres_a_slanted_bar():
    rows, cols = np.mgrid[0:28, 0:28]
    bar = (np.abs(cols - (8 + 0.5 * rows)) < 1.5) & (rows > 4) & (rows < 24)
    straight = deskew(bar[None].astype(np.float32))[0]
    ink_cols = (straight * np.arange(28)).sum(axis=1) / np.maximum(straight.sum(axis=1), 1e-9)
    inked = straight.sum(axis=1) > 0.5
    assert np.ptp(ink_cols[inked]) < 1.5  # vertical now
    assert abs((straight * cols).sum() / straight.sum() - CENTRE) < 0.2  # centred


def test_blank_images_come_back_unchanged():
    blank = np.zeros((3, 28, 28), np.float32)
    np.testing.assert_array_equal(deskew(blank), blank)
    np.testing.assert_array_equal(deskew_soften(blank), blank)


def test_soften_is_gaussian_blur_then_square_root():
    images = _digits(seed=1)
    expected = np.sqrt(
        np.clip(ndimage.gaussian_filter(images, sigma=(0, 0.7, 0.7), mode="constant"), 0, 1)
    )
    np.testing.assert_allclose(soften(images), expected, atol=1e-6)
    wider = np.sqrt(np.clip(ndimage.gaussian_filter(images[0], 1.5, mode="constant"), 0, 1))
    np.testing.assert_allclose(soften(images, sigma=1.5)[0], wider, atol=1e-6)
    np.testing.assert_allclose(deskew_soften(images), soften(deskew(images)), atol=0)
