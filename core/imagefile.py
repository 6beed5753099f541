"""Reading image files and arrays safely: what the pipeline is given, and nothing else.

Every input (a path, bytes, a PIL image or an array) goes through :func:`load`:
size limits checked before anything is decoded (decompression bombs), only the
formats people upload (``FORMATS``), first frame only, EXIF orientation
applied, the manual crop taken at full resolution, and one reduction path
(:func:`reduce_array`, box average by an integer factor) down to at most twice
``FINE_SIDE``, where a ballpoint stroke still shows. Every failure is an
:class:`core.errors.ImageError` with one line that says what was wrong.
:func:`to_png` converts an upload losslessly for My digits.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps

from core.errors import ImageError

MAX_PIXELS = 50_000_000  # refuse larger images before decoding them (decompression bombs)
MAX_FILE_BYTES = 100_000_000  # refuse larger files before reading them
MAX_ASPECT = 50  # longest side / shortest side above this cannot hold a digit
FINE_SIDE = 480  # inputs are reduced to this side or more: thin strokes still show

# Encoded files are opened only in these formats: what people upload, decoded in-process.
# Pillow would otherwise try some forty, EPS among them (run through Ghostscript if present).
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")  # JPEG covers MPO (phones)

_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    ZeroDivisionError,
    Image.DecompressionBombError,
    MemoryError,
)


# ---------------------------------------------------------------- reading


def open_image(
    source: object, side: int = FINE_SIDE, luma: bool = False
) -> Image.Image | np.ndarray:
    """Read a path, bytes or PIL image (first frame), or pass an array through.

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray, memoryview, PIL.Image.Image or numpy.ndarray
    side : int
        A JPEG larger than this (px) is decoded at reduced scale, keeping this side.
    luma : bool
        Decode a colour JPEG so reduced to its luma ("L") alone, as :func:`pil_to_array`
        would convert it: its colour is then never computed.

    Returns
    -------
    PIL.Image.Image or numpy.ndarray
        A decoded image of at most ``MAX_PIXELS`` pixels, or the array unchanged.

    Raises
    ------
    ImageError
        If the input cannot be read, is not an image, or is too large.
    """
    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, Image.Image):
        _check_size(source.size)
        return _first_frame(source)
    if isinstance(source, (str, os.PathLike)):
        source = _read_file(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode(bytes(source), side, luma)
    raise ImageError(
        f"cannot read an image from a {type(source).__name__}: "
        "give a file path, bytes, a PIL image or a numpy array"
    )


def _read_file(path: str | os.PathLike) -> bytes:
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(
                f"{os.fspath(path)} is {size / 1e6:.0f} MB: images over "
                f"{MAX_FILE_BYTES / 1e6:.0f} MB are refused"
            )
        with open(path, "rb") as handle:
            return handle.read()
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ImageError(f"cannot read image file {os.fspath(path)}: {reason}") from None


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"the image is {width}x{height} pixels: images over {MAX_PIXELS / 1e6:.0f} "
            "megapixels are refused, scale it down first"
        )


def _decode(data: bytes, side: int = FINE_SIDE, luma: bool = False) -> Image.Image:
    if not data:
        raise ImageError("the image file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            _check_size(image.size)  # from the header, before any pixel is decoded
            image = _first_frame(image)
            if image.format == "JPEG" and max(image.size) > side:
                # decode at 1/2, 1/4 or 1/8 scale, keeping at least ``side``
                scale = side / max(image.size)
                wanted = (math.ceil(image.size[0] * scale), math.ceil(image.size[1] * scale))
                image.draft("L" if luma and image.mode == "RGB" else image.mode, wanted)
            image.load()
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(
            f"the image is too large: images over {MAX_PIXELS / 1e6:.0f} megapixels are refused"
        ) from None
    except Image.UnidentifiedImageError:
        raise ImageError(
            "the data is not an image in a supported format (PNG, JPEG, GIF, WebP, BMP, TIFF)"
        ) from None
    except _DECODE_ERRORS as error:
        raise ImageError(f"the image file is damaged or truncated ({one_line(error)})") from None
    return image


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MODES = {"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"}


def to_png(data: bytes) -> bytes:
    """The image as PNG bytes, upright (EXIF applied), first frame; a PNG is kept as it is.

    Parameters
    ----------
    data : bytes
        An encoded image in one of the formats :func:`open_image` reads.

    Returns
    -------
    bytes
        A PNG: lossless, so the pixels are those the decoder gave.

    Raises
    ------
    ImageError
        If the data is not a readable image or is too large.
    """
    if data.startswith(PNG_SIGNATURE):
        return data
    image = orient(open_image(data))
    if image.mode not in _PNG_MODES:  # CMYK, YCbCr, LAB...: PNG has no such modes
        image = image.convert("RGB")
    buffer = io.BytesIO()
    try:
        image.save(buffer, "PNG", compress_level=6)
    except _DECODE_ERRORS as error:
        raise ImageError(f"the image cannot be converted to PNG: {one_line(error)}") from None
    return buffer.getvalue()


def _first_frame(image: Image.Image) -> Image.Image:
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    return image


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def orient(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag, as a camera meant the picture to be seen."""
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        return image  # a broken EXIF block: keep the pixels as stored


_MODES = {
    "1": "L",
    "P": "RGBA",
    "PA": "RGBA",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
    "La": "LA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
    "I;16": "I",
    "I;16L": "I",
    "I;16B": "I",
    "I;16N": "I",
}


def pil_to_array(image: Image.Image) -> np.ndarray:
    """Pixels of a PIL image as an array: uint8 L or LA, int32 (I) or float32 (F).

    Colour becomes its luma (ITU-R 601, as Pillow's "L"), alpha is kept: palette
    images with transparency become LA. Full size: :func:`load` reduces it.
    """
    mode = _MODES.get(image.mode, image.mode)
    if image.mode == "P" and "transparency" not in image.info:
        mode = "RGB"
    if mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        mode = "RGB"
    try:
        if image.mode != mode:
            image = image.convert(mode)
        if mode == "RGBA":  # Pillow's RGBA -> LA is slow; L and A apart are fast
            return np.dstack([np.asarray(image.convert("L")), np.asarray(image.getchannel("A"))])
        if mode == "RGB":
            image = image.convert("L")
        return np.asarray(image)
    except _DECODE_ERRORS as error:
        raise ImageError(f"cannot convert the {image.mode} image ({one_line(error)})") from None


def check_array(array: np.ndarray) -> np.ndarray:
    """An image array's layout checked and made (H, W, C), C in 1-4; values untouched.

    Raises
    ------
    ImageError
        For a wrong shape, an empty or too large array, or a non-numeric dtype.
    """
    if array.dtype.kind not in "biuf":
        raise ImageError(f"an image array must hold numbers, not {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ImageError(
            f"an image array must be HxW, HxWx3 or HxWx4 (also HxWx1, HxWx2), got shape "
            f"{array.shape}"
        )
    height, width = array.shape[:2]
    if height == 0 or width == 0:
        raise ImageError(f"the image is empty ({height}x{width} pixels)")
    _check_size((width, height))
    _check_aspect((width, height))
    return array


def _check_aspect(size: tuple[int, int]) -> None:
    width, height = size
    if max(height, width) > MAX_ASPECT * min(height, width):
        raise ImageError(
            f"the image is {width}x{height} pixels: an aspect ratio over {MAX_ASPECT}:1 "
            "cannot hold a digit, crop it first"
        )


def as_float(array: np.ndarray) -> np.ndarray:
    """An image array of any numeric dtype as float32 (H, W, C) in [0, 1].

    Layouts: (H, W), (H, W, 1), (H, W, 2) grey + alpha, (H, W, 3) RGB, (H, W, 4) RGBA.
    Scaling: bool and integers whose largest value is at most 1 are 0/1; uint8 is
    divided by 255; other integers and floats are divided by 1, 255 or 65535, the
    first that holds their range; anything else (negative values, larger values) is
    stretched from its minimum to its maximum.

    Raises
    ------
    ImageError
        As :func:`check_array`, and for NaN or infinite values.
    """
    array = check_array(array)
    kind = array.dtype.kind
    if kind not in "biuf":
        raise ImageError(f"an image array must hold numbers, not {array.dtype}")
    if kind == "b":
        return array.astype(np.float32)
    if array.dtype == np.uint8 and array.max() > 1:
        return array.astype(np.float32) / np.float32(255)
    values = array.astype(np.float64)
    if kind == "f" and not np.isfinite(values).all():
        raise ImageError("the image array holds NaN or infinite values")
    low, high = float(values.min()), float(values.max())
    if low >= 0:
        for scale in (1.0, 255.0, 65535.0):
            if high <= scale:
                return (values / scale).astype(np.float32)
    values = values / max(abs(low), abs(high))  # now in [-1, 1]: no overflow below
    low, high = float(values.min()), float(values.max())
    if high - low <= 0:
        return np.zeros(values.shape, np.float32)
    return np.clip((values - low) / (high - low), 0, 1).astype(np.float32)


def reduce_array(array: np.ndarray, max_side: int = FINE_SIDE) -> np.ndarray:
    """Shrink an array over twice ``max_side`` (box average, integer factor) to ``max_side``.

    ``array`` is (H, W, C) as :func:`check_array` returns; uint8 goes through Pillow.
    """
    height, width = array.shape[:2]
    if max(height, width) <= 2 * max_side:
        return array  # left to reduce_gray, after alpha compositing
    factor = math.ceil(max(height, width) / max_side)
    if factor >= 8:  # subsample first: averaging 4x4 of every (factor // 4)-th pixel is plenty
        array = array[:: factor // 4, :: factor // 4]
        height, width = array.shape[:2]
        factor = math.ceil(max(height, width) / max_side)
    if array.dtype == np.uint8 and array.shape[2] in (1, 3, 4):
        squeezed = array[:, :, 0] if array.shape[2] == 1 else array
        return np.asarray(Image.fromarray(np.ascontiguousarray(squeezed)).reduce(factor))
    height, width = max(1, height // factor), max(1, width // factor)
    array = array[: height * factor, : width * factor]
    shape = (height, factor, width, factor, *array.shape[2:])
    return array.reshape(shape).mean(axis=(1, 3), dtype=np.float32)


def crop_box(
    width: int, height: int, crop: tuple[float, float, float, float]
) -> tuple[int, int, int, int]:
    """Pixel box ``(x0, y0, x1, y1)`` of ``(left, top, right, bottom)`` fractions.

    Raises
    ------
    ImageError
        Unless ``0 <= left < right <= 1`` and ``0 <= top < bottom <= 1``.
    """
    try:
        left, top, right, bottom = (float(value) for value in crop)
    except (TypeError, ValueError):
        raise ImageError("crop must be four numbers (left, top, right, bottom)") from None
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        raise ImageError(
            f"crop {crop} is not (left, top, right, bottom) fractions with 0 <= left < right "
            "<= 1 and 0 <= top < bottom <= 1"
        )
    x0, y0 = min(int(left * width), width - 1), min(int(top * height), height - 1)
    x1, y1 = max(x0 + 1, round(right * width)), max(y0 + 1, round(bottom * height))
    return x0, y0, x1, y1


def load(
    image: object, crop: tuple[float, float, float, float] | None = None, side: int = FINE_SIDE
) -> np.ndarray:
    """Steps 1-2: any supported input as an oriented, cropped float32 (H, W, C) array.

    ``crop`` (fractions, see :class:`core.preprocess.PreprocessOptions`) is
    applied at full resolution; a result over twice ``side`` is then reduced
    (:func:`reduce_array`, the one reduction path) to at most ``side``.
    """
    opened = open_image(image, side, luma=True)
    if isinstance(opened, np.ndarray):
        opened = check_array(opened)
        if crop is not None:
            x0, y0, x1, y1 = crop_box(opened.shape[1], opened.shape[0], crop)
            opened = opened[y0:y1, x0:x1]
        opened = reduce_array(opened, side)
        if opened.dtype == np.uint8 and opened.ndim == 3 and opened.shape[2] in (3, 4):
            opened = Image.fromarray(np.ascontiguousarray(opened))  # Pillow's luma is fast
    if isinstance(opened, Image.Image):
        if not isinstance(image, np.ndarray):  # an array has no EXIF to apply
            opened = orient(opened)
        if crop is not None and not isinstance(image, np.ndarray):
            opened = opened.crop(crop_box(*opened.size, crop))
        _check_aspect(opened.size)  # at full size: the message tells the real size
        opened = pil_to_array(opened)
    return as_float(reduce_array(check_array(opened), side))
