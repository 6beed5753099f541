"""Input transforms a model can be trained on and then applies itself.

A transform takes MNIST-format images, float32 (n, 28, 28) in [0, 1], and
returns images of the same shape: the model still has one weight per pixel, so
its coefficients can be shown as 28×28 pictures of what it actually saw.
"""

from __future__ import annotations

from collections.abc import Callable

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
    ],
    axis=1,
)


def _bilinear(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample each image at its own (rows, cols) grid, zero outside the frame."""
    n = len(images)
    # A zero border one pixel wide makes every out-of-frame sample read zero.
    side = SIDE + 2
    padded = np.zeros((n, side, side), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    rows = np.clip(rows + 1, 0, side - 1.001)
    cols = np.clip(cols + 1, 0, side - 1.001)
    top = rows.astype(np.intp)
    left = cols.astype(np.intp)
    fr = (rows - top).astype(np.float32)
    fc = (cols - left).astype(np.float32)
    index = (np.arange(n, dtype=np.intp) * side * side)[:, None, None] + top * side + left
    flat = padded.ravel()
    upper = flat[index] * (1 - fc) + flat[index + 1] * fc
    lower = flat[index + side] * (1 - fc) + flat[index + side + 1] * fc
    return upper * (1 - fr) + lower * fr


def deskew(images: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Straighten slanted digits by image moments (LeCun et al.'s "deskewing").

    Each image is sheared horizontally so that its principal axis is vertical,
    and shifted so that its centre of mass is at the centre of the frame.

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
    images = np.asarray(images, dtype=np.float32)
    out = np.empty_like(images)
    centre = SIDE / 2.0 - 0.5
    r_out = (_ROWS - centre)[None]
    c_out = (_COLS - centre)[None]
    for start in range(0, len(images), chunk):
        batch = images[start : start + chunk]
        # Raw moments by one matrix product: sums of 1, r, c, r*r, r*c per image.
        moments = batch.reshape(len(batch), -1).astype(np.float64) @ _MOMENT_BASIS
        total = moments[:, 0]
        blank = total <= 1e-6
        total = np.where(blank, 1.0, total)
        row_mean = moments[:, 1] / total
        col_mean = moments[:, 2] / total
        row_var = moments[:, 3] / total - row_mean**2
        covariance = moments[:, 4] / total - row_mean * col_mean
        alpha = np.where(row_var > 1e-6, covariance / np.maximum(row_var, 1e-6), 0.0)
        # Output pixel (r, c), taken about the frame's centre, samples the input
        # at (r, c + alpha * r) about the centre of mass.
        rows = r_out + row_mean[:, None, None]
        cols = c_out + alpha[:, None, None] * r_out + col_mean[:, None, None]
        result = _bilinear(batch, rows, cols)
        result[blank] = batch[blank]
        out[start : start + chunk] = result
    return np.clip(out, 0.0, 1.0, out=out)


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
    blurred = ndimage.gaussian_filter(
        np.asarray(images, dtype=np.float32), sigma=(0, sigma, sigma), mode="constant"
    )
    return np.sqrt(np.clip(blurred, 0.0, 1.0))


def deskew_soften(images: np.ndarray) -> np.ndarray:
    """:func:`deskew`, then :func:`soften`: the shipped ten-class model's input."""
    return soften(deskew(images))


def identity(images: np.ndarray) -> np.ndarray:
    """Return the images as they are (float32)."""
    return np.asarray(images, dtype=np.float32)


# The names a model card may record under "input_transform".
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": identity,
    "deskew": deskew,
    "deskew+soften": deskew_soften,
}
