"""Input transforms a model can be trained on and then applies itself.

A transform takes MNIST-format images, float32 (n, 28, 28) in [0, 1], and
returns images of the same shape: the model still has one weight per pixel, so
its coefficients can be shown as 28×28 pictures of what it actually saw.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from scipy import ndimage

SIDE = 28
_ROWS, _COLS = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
_MOMENT_BASIS = np.stack(
    [
        np.ones(SIDE * SIDE),
        _ROWS.ravel(),
        _COLS.ravel(),
        _ROWS.ravel() ** 2,
        (_ROWS * _COLS).ravel(),
        _COLS.ravel() ** 2,
    ],
    axis=1,
)


# Narrow digits are widened until the ratio of their horizontal to vertical spread (moment
# standard deviations, once deskewed) is MNIST's median for the digits other than 1...
ASPECT = 0.66
MAX_STRETCH = 2.0  # ... by at most this factor (a 1, median 0.18, stays a narrow stroke)


def _sample(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear samples of each image, zero outside the frame.

    Output pixel (r, c) of image n samples the input at row ``rows[n, r]`` and
    column ``cols[n, r, c]``. The row sampled is the same all along an output row
    (shear and horizontal scaling, no rotation), so the vertical interpolation is
    one gather of whole rows and the horizontal one a gather along each row.

    Parameters
    ----------
    images : numpy.ndarray
        float32 (n, 28, 28).
    rows : numpy.ndarray
        (n, 28), in pixels.
    cols : numpy.ndarray
        (n, 28, 28), in pixels.
    """
    n = len(images)
    # A zero border, one pixel before and two after, makes every sample outside the
    # frame read zero: clipped to the first border pixel, its neighbour is zero too.
    side = SIDE + 3
    padded = np.zeros((n, side, side), dtype=np.float32)
    padded[:, 1 : SIDE + 1, 1 : SIDE + 1] = images
    rows = np.clip(rows + 1, 0, SIDE + 1)
    top = rows.astype(np.intp)
    fr = (rows - top).astype(np.float32)[:, :, None]
    which = np.arange(n, dtype=np.intp)[:, None]
    lines = padded[which, top] * (1 - fr) + padded[which, top + 1] * fr
    cols = np.clip(cols + 1, 0, SIDE + 1)
    left = cols.astype(np.intp)
    fc = (cols - left).astype(np.float32)
    return (
        np.take_along_axis(lines, left, axis=2) * (1 - fc)
        + np.take_along_axis(lines, left + 1, axis=2) * fc
    )


def normalise_moments(
    images: np.ndarray, aspect: float = ASPECT, max_stretch: float = MAX_STRETCH, chunk: int = 4096
) -> np.ndarray:
    """Deskew by image moments and widen narrow digits (aspect-ratio normalisation).

    Each image is sheared horizontally so that its principal axis is vertical
    (LeCun et al.'s "deskewing"), stretched horizontally about its centre of mass
    until the ratio of its horizontal to vertical standard deviation (after the
    shear) reaches ``aspect``, by at most ``max_stretch``, and shifted so that its
    centre of mass is at the centre of the frame. The stretch is the moment form
    of Liu et al.'s aspect-ratio adaptive normalisation (Pattern Recognition 37,
    2004): MNIST keeps each digit's aspect ratio, so a narrow 0 or a thin 4 looks
    to a linear model like no 0 or 4 it learned from; widened, it does. Digits
    wider than ``aspect`` are left as wide as they are.

    Parameters
    ----------
    images : numpy.ndarray
        float32 (n, 28, 28) in [0, 1].
    aspect : float
        Target ratio of horizontal to vertical spread; 0 deskews only.
    max_stretch : float
        Largest horizontal stretch (1 deskews only).
    chunk : int
        Images done at once; bounds the memory of the vectorised sampling.

    Returns
    -------
    numpy.ndarray
        float32 (n, 28, 28) in [0, 1]; blank images come back unchanged.
    """
    images = np.asarray(images, dtype=np.float32)
    out = np.empty_like(images)
    centre = SIDE / 2.0 - 0.5
    line = np.arange(SIDE) - centre
    for start in range(0, len(images), chunk):
        batch = images[start : start + chunk]
        # Raw moments by one matrix product: sums of 1, r, c, r*r, r*c, c*c per image.
        moments = batch.reshape(len(batch), -1).astype(np.float64) @ _MOMENT_BASIS
        total = moments[:, 0]
        blank = total <= 1e-6
        total = np.where(blank, 1.0, total)
        row_mean = moments[:, 1] / total
        col_mean = moments[:, 2] / total
        row_var = np.maximum(moments[:, 3] / total - row_mean**2, 1e-6)
        covariance = moments[:, 4] / total - row_mean * col_mean
        col_var = moments[:, 5] / total - col_mean**2
        alpha = covariance / row_var
        # The spread across the principal axis, once sheared upright.
        upright_var = np.maximum(col_var - alpha * covariance, 1e-6)
        stretch = np.clip(aspect * np.sqrt(row_var / upright_var), 1.0, max_stretch)
        # Output pixel (r, c), taken about the frame's centre, samples the input
        # at (r, c / stretch + alpha * r) about the centre of mass.
        rows = line[None, :] + row_mean[:, None]
        cols = (
            line[None, None, :] / stretch[:, None, None]
            + (alpha[:, None] * line[None, :])[:, :, None]
            + col_mean[:, None, None]
        )
        result = _sample(batch, rows, cols)
        result[blank] = batch[blank]
        out[start : start + chunk] = result
    return np.clip(out, 0.0, 1.0, out=out)


def deskew(images: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Straighten slanted digits by image moments (LeCun et al.'s "deskewing").

    Each image is sheared horizontally so that its principal axis is vertical,
    and shifted so that its centre of mass is at the centre of the frame:
    :func:`normalise_moments` without the widening.

    Parameters
    ----------
    images : numpy.ndarray
        float32 (n, 28, 28) in [0, 1].
    chunk : int
        Images done at once; bounds the memory of the vectorised sampling.

    Returns
    -------
    numpy.ndarray
        float32 (n, 28, 28) in [0, 1]; blank images come back unchanged.
    """
    return normalise_moments(images, aspect=0.0, max_stretch=1.0, chunk=chunk)


@lru_cache(maxsize=8)
def _blur_matrix(sigma: float) -> np.ndarray:
    """The Gaussian blur of a 28-pixel line as a matrix: ``G @ line`` is the blurred line.

    Column j is the blur of a unit impulse at j (scipy's own kernel, zero outside
    the frame), so ``G @ image @ G.T`` is ``gaussian_filter(image, sigma, mode="constant")``
    done by two small matrix products: ten times faster on a batch than the filter.
    """
    matrix = ndimage.gaussian_filter1d(np.eye(SIDE), sigma, axis=0, mode="constant")
    matrix = matrix.astype(np.float32)
    matrix.setflags(write=False)
    return matrix


def soften(images: np.ndarray, sigma: float = 0.7) -> np.ndarray:
    """Blur each image slightly and take the square root of its ink.

    A linear model scores a pixel only where its template has weight; blurring
    lets a stroke one pixel off still land on the template, and the square root
    lifts faint and thin strokes towards thick ones, so stroke width matters less.

    Parameters
    ----------
    images : numpy.ndarray
        float32 (n, 28, 28) in [0, 1].
    sigma : float
        Gaussian blur, in pixels.

    Returns
    -------
    numpy.ndarray
        float32 (n, 28, 28) in [0, 1].
    """
    blur = _blur_matrix(float(sigma))
    blurred = np.matmul(np.matmul(blur, np.asarray(images, dtype=np.float32)), blur.T)
    np.clip(blurred, 0.0, 1.0, out=blurred)
    return np.sqrt(blurred, out=blurred)


def _then_soften(step: Callable[[np.ndarray], np.ndarray], images: np.ndarray, chunk: int):
    """``soften(step(images))`` a chunk of images at a time, so that the steps'
    intermediate arrays stay small and are reused rather than each allocated (and
    faulted in) for all 60,000: 0.9 s less on MNIST's training set.
    """
    images = np.asarray(images, dtype=np.float32)
    if len(images) <= chunk:
        return soften(step(images))
    out = np.empty_like(images)
    for start in range(0, len(images), chunk):
        out[start : start + chunk] = soften(step(images[start : start + chunk]))
    return out


def deskew_soften(images: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """:func:`deskew`, then :func:`soften`."""
    return _then_soften(deskew, images, chunk)


def normalise_soften(images: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """:func:`normalise_moments`, then :func:`soften`: the shipped models' input."""
    return _then_soften(normalise_moments, images, chunk)


def identity(images: np.ndarray) -> np.ndarray:
    """Return the images as they are (float32)."""
    return np.asarray(images, dtype=np.float32)


# The names a model card may record under "input_transform".
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": identity,
    "deskew": deskew,
    "deskew+soften": deskew_soften,
    "deskew+aspect+soften": normalise_soften,
}
