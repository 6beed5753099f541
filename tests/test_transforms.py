"""The fast input transforms equal their plain definitions (scipy's samplers and filters)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.transforms import (
    ASPECT,
    MAX_STRETCH,
    deskew,
    deskew_soften,
    normalise_moments,
    normalise_soften,
    soften,
)

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


def _reference_deskew(image: np.ndarray, aspect: float = 0.0) -> np.ndarray:
    """Moments, then bilinear sampling with scipy (zero outside the frame); with
    ``aspect``, also the horizontal stretch about the centre of mass."""
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float64)
    total = image.sum(dtype=np.float64)
    row_mean = (rows * image).sum() / total
    col_mean = (cols * image).sum() / total
    variance = ((rows - row_mean) ** 2 * image).sum() / total
    covariance = ((rows - row_mean) * (cols - col_mean) * image).sum() / total
    alpha = covariance / variance
    upright = ((cols - col_mean - alpha * (rows - row_mean)) ** 2 * image).sum() / total
    stretch = np.clip(aspect * np.sqrt(variance / upright), 1.0, MAX_STRETCH) if aspect else 1.0
    sample_rows = rows - CENTRE + row_mean
    sample_cols = (cols - CENTRE) / stretch + alpha * (rows - CENTRE) + col_mean
    return ndimage.map_coordinates(
        image.astype(np.float64), [sample_rows, sample_cols], order=1, mode="grid-constant"
    )


def test_deskew_is_moment_shear_with_bilinear_sampling():
    images = _digits()
    fast = deskew(images)
    assert fast.dtype == np.float32 and fast.shape == images.shape
    for image, result in zip(images, fast, strict=True):
        np.testing.assert_allclose(result, _reference_deskew(image), atol=1e-5)
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
    np.testing.assert_array_equal(normalise_moments(blank), blank)


def test_soften_is_gaussian_blur_then_square_root():
    images = _digits(seed=1)
    expected = np.sqrt(
        np.clip(ndimage.gaussian_filter(images, sigma=(0, 0.7, 0.7), mode="constant"), 0, 1)
    )
    np.testing.assert_allclose(soften(images), expected, atol=1e-6)
    wider = np.sqrt(np.clip(ndimage.gaussian_filter(images[0], 1.5, mode="constant"), 0, 1))
    np.testing.assert_allclose(soften(images, sigma=1.5)[0], wider, atol=1e-6)
    np.testing.assert_allclose(deskew_soften(images), soften(deskew(images)), atol=0)


def _spread_ratio(image: np.ndarray) -> float:
    """Horizontal over vertical standard deviation of the ink."""
    rows, cols = np.mgrid[0:28, 0:28]
    total = image.sum()
    row_mean, col_mean = (rows * image).sum() / total, (cols * image).sum() / total
    row_var = ((rows - row_mean) ** 2 * image).sum() / total
    col_var = ((cols - col_mean) ** 2 * image).sum() / total
    return float(np.sqrt(col_var / row_var))


def _ellipse(half_width: float, half_height: float = 9.0) -> np.ndarray:
    rows, cols = np.mgrid[0:28, 0:28]
    radius = np.hypot((cols - 13.5) / half_width, (rows - 13.5) / half_height)
    return (np.abs(radius - 1) < 1.2 / half_width).astype(np.float32)


def test_normalise_moments_is_deskew_plus_stretch_with_bilinear_sampling():
    images = np.concatenate([_digits(seed=2), _ellipse(3.0)[None], _ellipse(8.0)[None]])
    fast = normalise_moments(images)
    for image, result in zip(images, fast, strict=True):
        np.testing.assert_allclose(result, _reference_deskew(image, ASPECT), atol=1e-5)
    np.testing.assert_array_equal(normalise_moments(images, chunk=5), fast)
    np.testing.assert_allclose(normalise_soften(images), soften(fast), atol=0)


def test_a_narrow_zero_is_widened_to_the_aspect_and_a_round_one_is_left():
    narrow, round_ = _ellipse(3.5), _ellipse(8.0)
    assert _spread_ratio(narrow) < 0.5
    widened = normalise_moments(narrow[None])[0]
    assert abs(_spread_ratio(widened) - ASPECT) < 0.05
    assert widened[13, 13] < 0.1  # still a loop, its hole kept
    np.testing.assert_allclose(normalise_moments(round_[None])[0], deskew(round_[None])[0])


def test_the_stretch_is_capped_so_a_one_stays_narrow():
    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 13:15] = 1.0
    widened = normalise_moments(bar[None])[0]
    # Short of the aspect by far, the stretch is the cap whatever the target.
    np.testing.assert_array_equal(widened, normalise_moments(bar[None], aspect=10.0)[0])
    assert 1.5 * _spread_ratio(bar) < _spread_ratio(widened) < ASPECT / 2
