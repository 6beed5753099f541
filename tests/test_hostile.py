"""Hostile and odd files: a one-line ImageError or a sensible result, never anything else.

Every file is made here (PIL, numpy, raw bytes) and goes through :func:`preprocess`
and, all in one call, through ``python -m core classify --json``: the bad files get
``{"file", "error"}`` with preprocess's message, the good ones are still read, and
the exit status is 1. Then the shipped model: read-only arrays, tampered files.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import tomllib
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile
from streamlit.testing.v1 import AppTest

from core import model as model_module
from core.cli import main
from core.errors import ImageError, ModelError
from core.imagefile import PNG_SIGNATURE, to_png
from core.model import load_model
from core.preprocess import preprocess
from tests.strokes import DIGIT_STROKES, render_strokes

SEVEN = DIGIT_STROKES[7][0]
THREE = DIGIT_STROKES[3][0]
ONE = DIGIT_STROKES[1][0]
APP = str(Path(__file__).resolve().parent.parent / "app.py")
NOT_SUPPORTED = "not an image in a supported format"


def encode(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def light_on_dark(strokes=SEVEN) -> np.ndarray:
    """A drawn digit, white on black, 280x280 uint8."""
    return render_strokes(strokes, pen=16, scale=0.9, mode="L")


def paper(strokes=SEVEN) -> Image.Image:
    """The same digit as a photo of paper would show it: dark ink on white."""
    return Image.fromarray(255 - light_on_dark(strokes), "L")


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header (CRC fixed) claims ``width`` x ``height``."""
    data = bytearray(encode(Image.new("L", (1, 1))))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def exif_rotated_jpeg() -> bytes:
    """The paper digit stored turned 90 degrees, with EXIF orientation 6 to turn it back."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    stored = paper().convert("RGB").transpose(Image.Transpose.ROTATE_90)
    return encode(stored, "JPEG", quality=90, exif=exif.tobytes())


def animated_gif() -> bytes:
    frames = [Image.fromarray(light_on_dark(strokes), "L") for strokes in (SEVEN, THREE, ONE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def palette_with_transparency() -> bytes:
    """White strokes on a transparent background, in a palette PNG (tRNS chunk)."""
    palette = Image.fromarray(light_on_dark(), "L").convert("P")
    return encode(palette, transparency=0)


def single_dot() -> bytes:
    image = np.full((200, 200), 255, np.uint8)
    image[96:104, 96:104] = 0  # one pen dab
    return encode(Image.fromarray(image))


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="280" height="280">'
    b'<path d="M70 40 L210 40 L120 250" stroke="black" stroke-width="16" fill="none"/></svg>\n'
)
PDF = encode(paper().convert("RGB"), "PDF")  # a real PDF holding the digit, renamed .png
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n0 0 moveto 100 100 lineto stroke\n"

# name: (content, what must come of it)
#   ("error", words the message must hold)   ("blank",)   ("as", name of the upright twin)
CASES: dict[str, tuple[bytes, tuple]] = {
    "upright.png": (encode(paper()), ("digit", 7)),
    "upright.jpg": (encode(paper().convert("RGB"), "JPEG", quality=90), ("digit", 7)),
    "empty.png": (b"", ("error", "empty")),
    "random.png": (np.random.default_rng(0).bytes(4096), ("error", NOT_SUPPORTED)),
    "truncated.png": (encode(paper())[:600], ("error", "damaged or truncated")),
    "truncated.jpg": (
        encode(paper().convert("RGB"), "JPEG", quality=90)[:1500],
        ("error", "damaged or truncated"),
    ),
    "bomb.png": (png_claiming(100_000, 100_000), ("error", "megapixels")),
    "tall.png": (encode(Image.new("L", (1, 100_000), 255)), ("error", "1x100000", "aspect")),
    "wide.png": (encode(Image.new("L", (100_000, 1), 255)), ("error", "100000x1", "aspect")),
    "animated.gif": (animated_gif(), ("frame", Image.fromarray(light_on_dark(), "L"))),
    "sixteen-bit.png": (
        encode(Image.fromarray((255 - light_on_dark()).astype(np.uint16) * 257)),
        ("as", "upright.png"),
    ),
    "cmyk.jpg": (encode(paper().convert("CMYK"), "JPEG", quality=95), ("as", "upright.jpg")),
    "palette-transparent.png": (palette_with_transparency(), ("as", "upright.png")),
    "transparent.png": (encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0))), ("blank",)),
    "exif-rotated.jpg": (exif_rotated_jpeg(), ("as", "upright.jpg")),
    "white.png": (encode(Image.new("L", (280, 280), 255)), ("blank",)),
    "black.png": (encode(Image.new("RGB", (280, 280), 0)), ("blank",)),
    "dot.png": (single_dot(), ("blank",)),
    "drawing.svg": (SVG, ("error", NOT_SUPPORTED)),
    "document.png": (PDF, ("error", NOT_SUPPORTED)),
    "postscript.png": (EPS, ("error", NOT_SUPPORTED)),  # never handed to Ghostscript
}
ERRORS = [name for name, (_, expected) in CASES.items() if expected[0] == "error"]
RESULTS = [name for name in CASES if name not in ERRORS]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("hostile")
    paths = {}
    for name, (content, _) in CASES.items():
        paths[name] = directory / name
        paths[name].write_bytes(content)
    return paths


@pytest.fixture(scope="module")
def ten_class():
    return load_model("ten-class")


def read(model, path) -> tuple[int | None, np.ndarray]:
    """The label (None if blank) and pixels preprocess gives for a file."""
    result = preprocess(path)
    return (None if result.is_blank else int(model.predict(result.pixels[None])[0])), result.pixels


def expected_label(model, name: str, files) -> int | None:
    kind, *detail = CASES[name][1]
    if kind == "digit":
        return detail[0]
    if kind == "blank":
        return None
    if kind == "as":
        return read(model, files[detail[0]])[0]
    return read(model, detail[0])[0]  # "frame": the first frame on its own


@pytest.mark.parametrize("name", ERRORS)
def test_bad_file_gives_one_line_image_error(name, files):
    for source in (files[name], CASES[name][0]):  # as a path and as uploaded bytes
        with pytest.raises(ImageError) as caught:
            preprocess(source)
        message = str(caught.value)
        assert "\n" not in message and message.strip() == message
        for words in CASES[name][1][1:]:
            assert words in message


@pytest.mark.parametrize("name", RESULTS)
def test_odd_but_valid_file_gives_the_right_result(name, files, ten_class):
    label, pixels = read(ten_class, files[name])
    assert label == expected_label(ten_class, name, files)
    assert pixels.shape == (28, 28) and np.isfinite(pixels).all()
    assert label is not None or not pixels.any()  # blank means all zero
    kind, *detail = CASES[name][1]
    if kind == "as":  # same pixels as the upright twin, approximately
        upright = read(ten_class, files[detail[0]])[1]
        assert float(np.abs(pixels - upright).mean()) < 0.03


def test_upright_digit_is_a_seven(ten_class, files):
    """The twins' reference reads right, so "same as upright" means read right."""
    assert read(ten_class, files["upright.png"])[0] == 7
    assert read(ten_class, files["upright.jpg"])[0] == 7


def test_animated_gif_is_read_from_its_first_frame_only(ten_class, files):
    first = Image.fromarray(light_on_dark(SEVEN), "L")
    later = Image.fromarray(light_on_dark(THREE), "L")
    label, pixels = read(ten_class, files["animated.gif"])
    assert label == read(ten_class, first)[0] == 7
    assert read(ten_class, later)[0] != label  # so a later frame would have shown
    np.testing.assert_allclose(pixels, preprocess(first).pixels, atol=1e-6)


@pytest.mark.parametrize("name", RESULTS)
def test_saved_as_png_reads_the_same(name, files):
    """What My digits keeps (a PNG, upright, first frame) preprocesses like the original."""
    png = to_png(CASES[name][0])
    assert png.startswith(PNG_SIGNATURE)
    np.testing.assert_allclose(preprocess(png).pixels, preprocess(files[name]).pixels, atol=0.02)


# A file that starts like a PNG is kept as it is (preprocess has already refused it).
@pytest.mark.parametrize("name", [n for n in ERRORS if not CASES[n][0].startswith(PNG_SIGNATURE)])
def test_unreadable_file_is_not_converted_to_png(name):
    with pytest.raises(ImageError):
        to_png(CASES[name][0])


def test_decompression_bomb_is_refused_before_any_pixel_is_decoded(monkeypatch, files):
    assert files["bomb.png"].stat().st_size < 100  # ten billion pixels claimed in 67 bytes
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self))
    with pytest.raises(ImageError, match="megapixels"):
        preprocess(files["bomb.png"])
    assert not decoded


def test_command_line_reads_the_good_files_and_reports_the_bad_ones(files, capsys, ten_class):
    names = list(CASES)  # good and bad interleaved, in one call
    status = main(["classify", *(str(files[name]) for name in names), "--json"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in err
    records = [json.loads(line) for line in out.splitlines()]
    assert [record["file"] for record in records] == [str(files[name]) for name in names]
    for name, record in zip(names, records, strict=True):
        if name in ERRORS:
            assert set(record) == {"file", "error"}, name
            with pytest.raises(ImageError) as caught:
                preprocess(files[name])
            assert record["error"] == str(caught.value), name
        else:
            keys = {"file", "label", "probabilities", "blank", "sure"}
            assert set(record) - {"why"} == keys, name
            assert ("why" in record) is (not record["sure"]), name
            assert record["label"] == expected_label(ten_class, name, files), name
            assert record["blank"] is (record["label"] is None), name


def test_upload_page_answers_every_file_in_one_line_and_keeps_running(files, ten_class):
    """The same files uploaded one after another into one session of the app."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/upload.py").run()
    for name in CASES:
        # The uploader takes image extensions only: the SVG comes renamed, as a stranger would.
        upload = name if name.endswith((".png", ".jpg", ".gif")) else f"{name}.png"
        at.file_uploader[0].set_value((upload, CASES[name][0], "image/png")).run()
        assert not at.exception, name
        shown = [m.value for m in at.metric if m.label == "Prediction"]
        if name in ERRORS:
            assert [e.value for e in at.error] == [f"{upload}: {_message(files[name])}"], name
            assert not shown, name
        elif (label := expected_label(ten_class, name, files)) is None:
            assert not at.error and len(at.warning) == 1 and not shown, name
        else:
            assert not at.error and [value.rstrip("?") for value in shown] == [str(label)], name


def _message(path: Path) -> str:
    with pytest.raises(ImageError) as caught:
        preprocess(path)
    return str(caught.value)


# ---------------------------------------------------------------- the shipped model


def test_shipped_model_arrays_cannot_be_written(ten_class):
    before = ten_class.predict_proba(np.zeros((1, 28, 28)))
    for array in (
        ten_class.coef_,
        ten_class.intercept_,
        ten_class.classes_,
        ten_class.coefficient_images(),
        np.asarray(ten_class.coef_),
    ):
        with pytest.raises(ValueError, match="read-only"):
            array.flat[0] = 123.0
        with pytest.raises(ValueError, match="read-only"):
            array += 1
    contributions = ten_class.contributions(np.zeros((28, 28), np.float32))
    contributions.intercepts[:] = 99  # a copy: scribbling on it changes nothing shared
    np.testing.assert_array_equal(ten_class.predict_proba(np.zeros((1, 28, 28))), before)
    assert load_model("ten-class").coef_.flags.writeable is False


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """The shipped binary-3-7 model copied out of models/, to be tampered with."""
    for suffix in (".json", ".npz"):
        shutil.copy(model_module.MODELS_DIR / f"binary-3-7{suffix}", tmp_path)
    return tmp_path / "binary-3-7.json"


def _arrays(card_path: Path, **changed) -> None:
    """Rewrite the arrays (``None`` drops one) and forge the card's checksum and classes."""
    with np.load(card_path.with_suffix(".npz")) as stored:
        arrays = {key: stored[key] for key in stored.files}
    arrays.update(changed)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    model_module._write_npz(card_path.with_suffix(".npz"), **arrays)
    card = json.loads(card_path.read_text())
    card["arrays_sha256"] = model_module._sha256(card_path.with_suffix(".npz"))
    if "classes" in arrays:
        card["classes"] = np.asarray(arrays["classes"]).tolist()
    card_path.write_text(json.dumps(card))


def _card(card_path: Path, **changed) -> None:
    card = json.loads(card_path.read_text())
    card.update(changed)
    card_path.write_text(json.dumps(card))


def _npz_bytes(card_path: Path, content: bytes) -> None:
    card_path.with_suffix(".npz").write_bytes(content)
    _card(card_path, arrays_sha256=model_module._sha256(card_path.with_suffix(".npz")))


def _plain_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ones(3))
    return buffer.getvalue()


# What is already in tests/test_model.py (pickle, swapped arrays, truncation, card
# classes, missing files) is not repeated. A forged checksum is assumed throughout:
# it sits in the card, so anyone who can edit the arrays can recompute it.
TAMPERING = {
    "card-is-not-utf8": lambda p: p.write_bytes(b"\xff\xfe{garbage"),
    "card-is-a-list": lambda p: p.write_text("[1, 2]"),
    "card-checksum-not-a-string": lambda p: _card(p, arrays_sha256=5),
    "card-unknown-transform": lambda p: _card(p, input_transform="__import__('os')"),
    "npz-missing-classes": lambda p: _arrays(p, classes=None),
    "npz-wrong-shape": lambda p: _arrays(p, coef=np.ones((2, 784))),
    "npz-nan": lambda p: _arrays(p, coef=np.full((1, 784), np.nan)),
    "npz-repeated-classes": lambda p: _arrays(p, classes=np.array([3, 3])),
    "card-arrays-file-outside": lambda p: _card(p, arrays_file="../binary-3-7.npz"),
    "card-transform-not-a-string": lambda p: _card(p, input_transform=["deskew"]),
    "npz-string-classes": lambda p: _arrays(p, classes=np.array(["a", "b"])),
    "npz-string-coef": lambda p: _arrays(p, coef=np.full((1, 784), "x")),
    "npz-overflows-float32": lambda p: _arrays(p, coef=np.full((1, 784), 1e300)),
    "npz-is-a-plain-npy": lambda p: _npz_bytes(p, _plain_npy()),
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampered_model_is_refused_with_one_line_model_error(model_copy, tamper):
    tamper(model_copy)
    with pytest.raises(ModelError) as caught:
        load_model(model_copy)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- the server's settings


def test_streamlit_config_is_deliberate():
    """Offline, XSRF-protected, headless, and uploads capped at a photo's size."""
    with open(Path(APP).parent / ".streamlit" / "config.toml", "rb") as handle:
        config = tomllib.load(handle)
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["headless"] is True
    assert 1 <= config["server"]["maxUploadSize"] <= 20  # MB: a phone photo, not a video
    assert config["client"]["showErrorDetails"] != "full"  # no tracebacks for strangers
