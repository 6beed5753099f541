"""The stages that read real handwriting: each failure kind's mechanism, one by one.

Kinds (see ../shared/cases/README.md): A light edges, B small ballpoint digit in a
large photo, C strokes thick for the image, D small digit with a wide pen, E frames
and lines, F thickening that closes loops, G soft blurry photos.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features
from scipy import ndimage as ndi

from core import augment
from core import preprocess as pp
from core.errors import ModelError
from core.model import DigitModel, load_model, probabilities
from core.verdict import (
    LOOPED,
    LOST_LOOP,
    TOO_SMALL,
    TWO_LOOPS,
    UNLIKE,
    judge,
    looped_stroke,
    lost_loop,
    sure_probability,
)
from tests.strokes import DIGIT_STROKES, EDGE_TO_EDGE, arc, coverage, line, render_strokes

REALDIGITS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "realdigits"
SEVEN = DIGIT_STROKES[7][0]
SIX = DIGIT_STROKES[6][0]


def paper(cover: np.ndarray, light: np.ndarray | float = 0.9, ink: float = 0.15) -> np.ndarray:
    """Dark ink (``cover`` in [0, 1]) on paper lit by ``light``, float32 grey."""
    rng = np.random.default_rng(0)
    picture = light * (1 - (1 - ink) * cover) + rng.normal(0, 0.01, cover.shape)
    return np.clip(picture, 0, 1).astype(np.float32)


def stage(result: pp.Preprocessed, name: str) -> np.ndarray:
    return next(s.image for s in result.stages if s.name == name)


@pytest.fixture(scope="module")
def model() -> DigitModel:
    return load_model("ten-class")


def read(model: DigitModel, image) -> int | None:
    result = pp.preprocess(image)
    return None if result.is_blank else int(model.predict(result.pixels[None])[0])


# ---------------------------------------------------------------- A: edges and shadows


def test_opening_keeps_edges_and_ramps_and_removes_strokes():
    height, width = 120, 160
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :].repeat(height, 0)
    step = np.where(x > 0.4, 0.9, 0.3).astype(np.float32)  # a sheet's edge on a desk
    ramp = 0.2 + 0.6 * x  # a gradient of light
    stroke = np.zeros((height, width), np.float32)
    stroke[:, 100:103] = 0.7
    for image in (step, ramp):
        np.testing.assert_allclose(pp.opening(image, 15), image, atol=1e-6)
        # the stroke is gone; what is left is the ramp's rise across the stroke's width
        np.testing.assert_allclose(pp.opening(image + stroke, 15), image, atol=0.02)


@pytest.mark.parametrize("edge", [0.15, 0.3])
def test_a_sheet_on_a_dark_desk_leaves_no_band_of_ink(model, edge):
    cover = coverage(SEVEN, 300, 6, scale=0.35, offset=(80, 0), height=240)
    assert not cover[:, : int(edge * 300) + 20].any()
    light = np.full(cover.shape, 0.9, np.float32)
    light[:, : int(edge * 300)] = 0.25  # the desk, as dark as the paper's shadow side
    result = pp.preprocess(paper(cover, light))
    kept = stage(result, "cropped")
    rows, cols = np.nonzero(cover > 0.5)
    digit_aspect = (np.ptp(cols) + 1) / (np.ptp(rows) + 1)
    assert kept.shape[1] / kept.shape[0] <= 1.2 * digit_aspect, "the desk's edge was kept"
    assert int(model.predict(result.pixels[None])[0]) == 7


def test_a_hard_shadow_across_the_page_is_background(model):
    cover = coverage(SEVEN, 300, 6, scale=0.5, offset=(0, 0), height=300)
    y = np.arange(300)[:, None] + np.zeros((1, 300))
    light = np.where(y + 0.3 * np.arange(300)[None, :] > 200, 0.45, 0.95).astype(np.float32)
    result = pp.preprocess(paper(cover, light))
    far = ndi.binary_dilation(pp.reduce_gray(cover) > 0, iterations=6)
    assert stage(result, "ink")[~far].max() < 0.1
    assert int(model.predict(result.pixels[None])[0]) == 7


def test_polarity_of_a_sheet_on_a_desk_a_board_and_a_bold_print():
    cover = coverage(SEVEN, 300, 5, scale=0.3, offset=(100, 0), height=240)
    desk = paper(cover)
    desk[:, :170] *= 0.22  # most of the border is the dark desk
    assert pp.photo_polarity(pp.reduce_gray(desk)) is False  # at the working size, as read
    chalk = np.clip(0.2 + 0.7 * cover, 0, 1).astype(np.float32)
    assert pp.photo_polarity(chalk) is True
    bold = paper(coverage(SEVEN, 120, 30, scale=1.0, height=120))  # strokes a quarter wide
    assert pp.photo_polarity(bold) is False


def shadowed_sheet(cover: np.ndarray, shadow: float, desk: float) -> np.ndarray:
    """``cover`` as dark ink on a sheet under a hard shadow's edge (along ``x + 0.6 y
    = shadow + 0.5``, in image units), beside a dark desk over ``desk`` of its width."""
    rows, columns = cover.shape
    x = np.arange(columns, dtype=np.float32)[None, :] / columns
    y = np.arange(rows, dtype=np.float32)[:, None] / rows
    light = np.broadcast_to(0.9 - 0.35 * (x + 0.6 * y > shadow + 0.5), cover.shape).copy()
    light[:, : int(desk * columns)] = 0.25
    return paper(cover, light)


@pytest.mark.parametrize(
    ("digit", "pen", "shadow"),
    [(8, 30, 0.4), (8, 30, 0.6), (8, 38, 0.6), (0, 38, 0.4), (6, 30, 0.6), (9, 30, 0.4)],
)
def test_a_bold_marker_under_a_shadow_beside_a_desk_is_dark_ink(model, digit, pen, shadow):
    # A felt-tip digit on a sheet half in a shadow, beside the desk: the border is
    # shadow, desk and paper, so it does not tell. The marker's counters, light and
    # narrower than its strokes, won the 5 and 9 px squares' vote, and the paper was
    # read as the ink (67 of 192 such pictures; a sure wrong answer). Light ink now
    # also needs its removal to settle at a stroke's width; the counters' keeps
    # growing with the paper beside the shadow.
    cover = coverage(DIGIT_STROKES[digit][0], 240, pen, scale=0.6, offset=(30, 20), height=240)
    picture = shadowed_sheet(cover, shadow, desk=0.05)
    assert pp.border_polarity(ndi.gaussian_filter(pp.reduce_gray(picture), pp.PHOTO_BLUR)) is None
    assert pp.photo_polarity(pp.reduce_gray(picture)) is False
    assert read(model, picture) == digit


@pytest.mark.parametrize("digit", [0, 3, 8])
def test_chalk_on_a_board_beside_a_bright_wall_is_light_ink(digit):
    # Half of the border is a bright wall, so the border does not tell and the votes
    # decide: thin chalk strokes settle at their width, ahead of the board's dark
    # loops (a chalk 8's loops come within 1.5 times of them at the 17 px square).
    cover = coverage(DIGIT_STROKES[digit][0], 300, 6, scale=0.6, offset=(60, 60), height=300)
    board = 0.2 + 0.7 * cover
    board[:, :150] = 0.85
    noise = np.random.default_rng(0).normal(0, 0.01, board.shape)
    gray = pp.reduce_gray(np.clip(board + noise, 0, 1).astype(np.float32))
    assert pp.border_polarity(ndi.gaussian_filter(gray, pp.PHOTO_BLUR)) is None
    assert pp.photo_polarity(gray) is True


# MNIST test digits redrawn and photographed (core.augment), once read with the
# polarity turned round: beside a dark desk strip and a strong gradient, JPEG grain
# tipped the 3 px square's ratio to light ink (index, the seed of its photo); and,
# where no square's vote was clear, the largest square's (a desk band and a
# shadow: 5497, a thick 6, read a sure 4; 2965). Each must then read right; 5497's
# marker blot fills the 6's loop, and since strokes are drawn at 2.52 px it reads an
# unsure 4 (48%, 6 at 42%): it may be right or unsure, never sure and wrong.
ONCE_INVERTED_PHOTOS = (
    (1048, (1048, 1, 11), "label"),
    (8925, (8925, 1, 11), "label"),
    (9900, (9900, 1, 11), "label"),
    (1793, (1793, 2, 99), "label"),
    (5497, (5497, 1, 11), "label-or-unsure"),
    (2965, (2965, 1, 11), "label"),
)


@pytest.mark.parametrize(("index", "seed", "expect"), ONCE_INVERTED_PHOTOS)
def test_photos_once_read_as_light_ink_are_dark_ink(model, mnist_test, index, seed, expect):
    from core.augment import photographed, redraw
    from core.cli import classify_record

    rng = np.random.default_rng(seed)
    digit = mnist_test.images[index].astype(np.float32) / 255
    buffer = io.BytesIO()
    Image.fromarray(photographed(redraw(digit, rng), rng)).save(buffer, "JPEG", quality=90)
    full = pp.enlarge_small(pp.composite_alpha(*pp.to_grayscale(pp.load(buffer.getvalue()))))
    assert not pp.read_ink(full, pp.PreprocessOptions()).light
    record = classify_record(model, buffer.getvalue())
    right = record["label"] == int(mnist_test.labels[index])
    assert right or (expect == "label-or-unsure" and not record["sure"]), record


def test_a_grid_as_dark_and_wide_as_the_strokes_leaves_the_ink_dark(model):
    # Failure-kind E variant (tests/kinds.py, index 15, seed 7): a 1 in a cell whose
    # lines run near every edge, as wide as its stroke. The border was half line, so
    # it did not tell; the 3 and 5 px squares removed next to nothing on either side,
    # yet slivers beside the lines voted light ink twice, and the cell's paper was
    # read as ink: a sure 8. Now a square's vote needs a share of the local contrast.
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", 15, 7)
    assert "grid" in name and label == 1
    full = pp.enlarge_small(pp.composite_alpha(*pp.to_grayscale(pp.load(data))))
    blurred = ndi.gaussian_filter(pp.reduce_gray(full), pp.PHOTO_BLUR)
    assert pp.border_polarity(blurred) is None  # the case the votes decide
    assert pp.ink_scale(blurred)[0] is False
    assert read(model, data) == 1


def redrawn_photo(mnist_test, index: int) -> np.ndarray:
    """MNIST test digit ``index`` redrawn (seed (index, 99)) and photographed (seed
    (index, 2)) by :mod:`core.augment`."""
    from core.augment import photographed, redraw

    digit = mnist_test.images[index].astype(np.float32) / 255
    drawn = redraw(digit, np.random.default_rng((index, 99)))
    return photographed(drawn, np.random.default_rng((index, 2)))


# ... and beside a hard shadow over most of the sheet: the shadow's expanse counted in
# the image's contrast, so the small digit's thin dark strokes had no share of it, and
# the border, mostly shadow, said light ink (MNIST test indices, see redrawn_photo).
ONCE_INVERTED_BY_A_SHADOW = (926, 5706)


@pytest.mark.parametrize("index", ONCE_INVERTED_BY_A_SHADOW)
def test_a_small_digit_beside_a_hard_shadow_is_dark_ink(model, mnist_test, index):
    picture = redrawn_photo(mnist_test, index)
    gray = pp.reduce_gray(pp.composite_alpha(*pp.to_grayscale(pp.load(picture))))
    assert pp.border_polarity(gray), "the border alone says light ink"
    assert not pp.photo_polarity(gray)
    assert read(model, picture) == int(mnist_test.labels[index])


def test_the_background_follows_a_dark_desk_edge_without_a_line_of_ink():
    # The background's light blur lowered the desk's last column by a third of the
    # step; divided by the dark desk's brightness, that left a line of ink along the
    # whole edge, which joined a digit touching it and stretched its crop.
    rng = np.random.default_rng(0)
    gray = np.full((60, 80), 0.9, np.float32)
    gray[:, :20] = 0.2  # a dark desk beside the sheet
    gray += rng.normal(0, 0.005, gray.shape).astype(np.float32)
    signal = pp.remove_background(gray, False, pp.estimate_background(gray, False, 9, None))
    assert signal[:, 19].mean() < 0.2, "a line of ink along the desk's edge"
    assert signal[:, 22:].max() < 0.05


# Photos (redrawn_photo) of digits beside a dark desk strip, once stretched by that
# line (a 3 read 8) or lost with it as a band (a 0 read blank).
ONCE_LINED_BY_A_DESK = (3962, 6489)


@pytest.mark.parametrize("index", ONCE_LINED_BY_A_DESK)
def test_a_digit_beside_a_dark_desk_is_read(model, mnist_test, index):
    assert read(model, redrawn_photo(mnist_test, index)) == int(mnist_test.labels[index])


# Failure-kind variants (tests/kinds.py: kind, index, seed) once read wrong and sure: the
# closer look at a small digit took in the rim of a dark corner that the region's border
# cut (a 0 with a blob read 2 at 99%); and one it must keep whole, a faint 1 whose stem
# the first reading hardly saw (a first version of the fix cut it off: a sure 9).
CLOSER_LOOK_CASES = (("A", 7, 11), ("A", 3, 13), ("A", 47, 13), ("B", 17, 11))


@pytest.mark.parametrize(("kind", "index", "seed"), CLOSER_LOOK_CASES)
def test_the_closer_look_keeps_the_digit_and_not_a_corners_rim(model, kind, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant(kind, index, seed)
    assert "dark-corner" in name or "exif" in name
    result = pp.preprocess(data)
    assert any(s.name == "closer look" for s in result.stages)
    assert read(model, data) == label


# ---------------------------------------------------------------- B: small ballpoint digit


def test_reducing_by_the_darkest_pixel_keeps_a_thin_stroke():
    gray = np.full((900, 900), 0.9, np.float32)
    gray[:, 451] = 0.2  # one pixel wide at full size, a ninth of a block after reduction
    mean = pp.reduce_gray(gray)
    darkest = pp.reduce_gray(gray, light_ink=False)
    assert 0.9 - mean.min() < 0.15
    assert 0.9 - darkest.min() > 0.3


def test_ink_covering_a_tiny_share_of_the_photo_is_found():
    signal = np.abs(np.random.default_rng(1).normal(0, 0.01, (400, 400))).astype(np.float32)
    signal[200:230, 200] = 0.6  # 30 pixels: 0.02 % of the image
    ink, blank = pp.normalise_contrast(signal)
    assert not blank
    assert ink[200:230, 200].min() > 0.9 and ink[:150].max() == 0


@pytest.mark.parametrize("side", [1600, 3000])
def test_a_small_ballpoint_digit_in_a_large_photo_is_read(model, side):
    cover = coverage(SEVEN, side, side / 500, scale=0.12, height=side)  # 2-6 px pen, 1/8 frame
    picture = Image.fromarray(np.round(paper(cover, ink=0.3) * 255).astype(np.uint8))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=85)
    assert read(model, buffer.getvalue()) == 7


def test_a_manual_threshold_keeps_ink_that_does_not_stand_out_of_the_grain():
    grain = np.random.default_rng(2).normal(0.02, 0.02, (300, 300))
    signal = np.clip(grain, 0, 1).astype(np.float32)
    signal[100:160, 150] = 0.12  # a faint stroke, five noise levels above the paper
    assert pp.normalise_contrast(signal)[1]  # automatic: under six, blank
    ink, blank = pp.normalise_contrast(signal, threshold=0.5)
    assert not blank and ink[100:160, 150].min() > 0.5
    # the threshold decides how much grain comes with it: lowering it keeps more
    looser = pp.normalise_contrast(signal, threshold=0.2)[0]
    assert np.count_nonzero(ink) < 0.2 * np.count_nonzero(looser)
    # a paper with no stroke on it stays blank
    assert pp.normalise_contrast(np.clip(grain, 0, 1).astype(np.float32), threshold=0.5)[1]


@pytest.mark.parametrize(
    ("paper", "seed"), [("squared", 1), ("squared", 4), ("ruled", 3), ("ruled", 4)]
)
def test_blank_lined_paper_stays_blank_at_the_finer_scale(monkeypatch, paper, seed):
    # read at FINE_FACTOR times the working size, the faint lines of blank squared or
    # ruled paper stand out, broken by grain, and a piece was read as a digit (a
    # fresh reading found sure 4s and 7s): the finer reading must hold a small digit
    # (squared paper of seed 3 and ruled paper of seed 5 once needed it too; since
    # rules are told from strokes at full size and an odd last line counts, their
    # lines go whole)
    from tests.kinds import blank_photo

    data = blank_photo(paper, np.random.default_rng([seed, 99]))
    assert pp.preprocess(data).is_blank
    monkeypatch.setattr(pp, "small_digit", lambda ink: True)  # believe any finer reading
    assert not pp.preprocess(data).is_blank


def _lined_sheet(size: tuple[int, int], spacing: int, grid: bool, tilt: float = 0.0) -> bytes:
    """A blank sheet drawn in a paint program: ruled (or squared) lines, grey, 2 px."""
    width, height = size
    sheet = Image.new("L", size, 255)
    draw = ImageDraw.Draw(sheet)
    drop = width * np.tan(np.radians(tilt))
    for y in range(spacing // 2, height, spacing):
        draw.line([(0, y), (width, y + drop)], fill=120, width=2)
    for x in range(spacing // 2, width, spacing) if grid else ():
        draw.line([(x, 0), (x, height)], fill=120, width=2)
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG")
    return buffer.getvalue()


# A fresh reading found blank sheets drawn in a paint program read as digits: squared
# paper (its lines cross, nothing else is there: it was left whole, read 9 or 6);
# ruled paper in a tall picture (its rows were measured against the height, and not
# looked for); a line in an odd last column (left out at half size, read 1 or 4,
# sure); ruled lines tilted past the rules' slack (read 2, 5 or 8).
@pytest.mark.parametrize(
    ("size", "spacing", "grid", "tilt"),
    [
        ((301, 301), 30, True, 0.0),
        ((241, 181), 36, True, 0.0),
        ((121, 161), 36, False, 0.0),
        ((161, 240), 30, False, 0.0),
        ((300, 240), 45, False, 5.0),
        ((300, 240), 45, False, 8.0),
    ],
)
def test_a_blank_lined_or_squared_sheet_is_blank(size, spacing, grid, tilt):
    assert pp.preprocess(_lined_sheet(size, spacing, grid, tilt)).is_blank


def test_rules_tilted_past_the_slack_are_found_sheared_level():
    yy, xx = np.mgrid[:200, :240]
    for degrees in (4.0, -6.0, 8.0):
        slope = np.tan(np.radians(degrees))
        mask = np.zeros((200, 240), bool)
        for row in range(-20, 220, 40):
            mask |= np.abs(yy - row - slope * xx) < 1.0
        assert pp.rule_tilt(mask) == pytest.approx(slope, abs=0.01)
        sheared = pp._shear(mask, slope)
        assert np.array_equal(pp._unshear(sheared, slope), mask)
    level = np.zeros((200, 240), bool)
    level[40::40, :] = True
    assert pp.rule_tilt(level) == 0.0  # level rules are found as they are
    assert pp.rule_tilt(render_strokes(DIGIT_STROKES[7][0], pen=18, mode="L") > 127) == 0.0


def _on_ruled_paper(
    digit: int, rows: range, drift, half_width: float, shade: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """A digit drawn on ruled paper, clean, grey (300x360), and its coverage: rules at
    ``rows``, moved down by ``drift(x)`` along them (a tilt, a sag), ``shade`` dark."""
    height, width = 300, 360
    yy, xx = np.mgrid[:height, :width]
    sheet = np.ones((height, width), np.float32)
    for row in rows:
        sheet = np.minimum(sheet, np.where(np.abs(yy - row - drift(xx)) < half_width, shade, 1))
    cover = coverage(
        DIGIT_STROKES[digit][0],
        size=width,
        pen=8,
        scale=scale,
        height=height,
        offset=(0, (height - width) / 2),
    )
    return (np.clip(sheet * (1 - cover) + 0.1 * cover, 0, 1) * 255).astype(np.uint8), cover


def _on_tilted_ruled_paper(digit: int, degrees: float) -> np.ndarray:
    """A digit on ruled paper photographed turned by ``degrees``."""
    slope = np.tan(np.radians(degrees))
    return _on_ruled_paper(digit, range(-60, 360, 50), lambda x: slope * x, 1.2, 0.45, 0.45)[0]


def test_digits_on_ruled_paper_turned_5_to_7_degrees_are_read(model):
    # a fresh reading's digits on ruled paper turned 4-8 degrees read 42% right, 28%
    # wrong and sure: the rules, past the slack, were read with the digit (2 of these
    # 20 read right before they were looked for sheared level)
    got = [read(model, _on_tilted_ruled_paper(d, degrees)) for d in range(10) for degrees in (5, 7)]
    right = sum(g == d for g, d in zip(got, [d for d in range(10) for _ in (5, 7)], strict=True))
    assert right >= 17, got


def _on_dense_ruling(digit: int, spacing: int, pen: int) -> bytes:
    """A digit written over many rules of a notebook (a rule every ``spacing`` px of
    240, the digit 180 px high), photographed: JPEG."""
    side = 240
    cover = coverage(DIGIT_STROKES[digit][0], side, pen, scale=0.75)
    rows = np.arange(side)[:, None]
    rules = (np.abs(rows % spacing - spacing / 2) < 0.8) * np.ones((1, side))
    gray = (0.93 - 0.18 * rules) * (1 - 0.8 * cover)
    gray += np.random.default_rng(digit).normal(0, 0.01, gray.shape)
    buffer = io.BytesIO()
    Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("digit", "spacing", "pen"),
    [
        (0, 11, 10),
        (0, 14, 10),
        (0, 14, 16),
        (1, 14, 10),
        (1, 14, 16),
        (2, 14, 16),
        (3, 14, 10),
        (3, 14, 16),
        (4, 11, 10),
        (5, 14, 10),
        (5, 14, 16),
        (8, 14, 10),
        (9, 11, 10),
    ],
)
def test_a_digit_over_many_rules_is_read(model, digit, spacing, pen):
    # rules closer than the digit's strokes are wide joined each other through them
    # into one thin run, taken for one rule between the two, and both stayed: these
    # read blank (10), a sure 6 or 1, or a 4 (2026-12-03; a helper's notebook pages too)
    assert read(model, _on_dense_ruling(digit, spacing, pen)) == digit


def _on_paper(ink: np.ndarray, photo: bool, seed: int, blur: float = 0.0) -> bytes:
    """Ink coverage in [0, 1] as dark ink on light paper: a PNG, or on a ``photo`` a
    JPEG with grain (and a ``blur`` of that radius, px): the photo path."""
    gray = 0.93 - 0.8 * ink
    if photo:
        gray = gray + np.random.default_rng(seed).normal(0, 0.015, gray.shape)
    picture = Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8))
    buffer = io.BytesIO()
    if photo:
        picture.filter(ImageFilter.GaussianBlur(blur)).save(buffer, "JPEG", quality=85)
    else:
        picture.save(buffer, "PNG")
    return buffer.getvalue()


def _standing_on_a_line(
    digit: int,
    pen: int,
    photo: bool,
    below: float,
    side: int = 240,
    scale: float = 0.5,
    ends: tuple[float, float] = (0.0, 1.0),
) -> bytes:
    """A digit (``scale`` of the picture high) standing on one line as wide as its
    strokes, from ``ends[0]`` to ``ends[1]`` of the picture's width: a line of ruled
    paper, a form's baseline, an underline. The line's middle is ``below`` x ``side``
    px under the digit's lowest row."""
    cover = coverage(DIGIT_STROKES[digit][0], side, pen, scale=scale)
    row = np.flatnonzero(cover.max(axis=1) > 0.5)[-1] + below * side
    columns = np.arange(side)[None, :]
    rule = (np.abs(np.arange(side)[:, None] - row) <= pen / 2) * (
        (columns >= ends[0] * side) & (columns < ends[1] * side)
    )
    return _on_paper(np.maximum(cover, rule), photo, digit)


@pytest.mark.parametrize("photo", [False, True])
@pytest.mark.parametrize("below", [0.0, 0.02])
@pytest.mark.parametrize("digit", [0, 1, 3, 4, 5, 6, 7, 8, 9])
def test_a_digit_standing_on_a_line_as_wide_as_its_strokes_is_read(model, digit, below, photo):
    # the line was read with the digit (a sure 4, most of them: 80 of 184 such
    # drawings read right, 2026-12-04): as wide as the strokes, it was taken for the
    # pen's; and the closer look at a small digit cut the line short to its width.
    # A 2 whose base lies on the line loses its base with it (geometry cannot tell).
    assert read(model, _standing_on_a_line(digit, 8, photo, below)) == digit


@pytest.mark.parametrize("digit", [0, 3, 5, 6, 9])
def test_a_small_digit_standing_on_a_line_in_a_large_photo_is_read(model, digit):
    # the closer look at the digit read it from a region the digit's width or so: the
    # line, cut as short, no longer ran far past it and was read with the digit
    picture = _standing_on_a_line(digit, 20, True, 0.0, side=1500, scale=0.15)
    assert read(model, picture) == digit


@pytest.mark.parametrize("photo", [False, True])
@pytest.mark.parametrize("digit", [1, 3, 5, 7, 9])
def test_a_digit_on_a_line_ending_in_the_picture_is_read(model, digit, photo):
    # an underline or a form's line that ends inside the picture, but far past the
    # digit at both ends (it was read with the digit: a sure 4)
    picture = _standing_on_a_line(digit, 8, photo, 0.0, scale=0.35, ends=(0.08, 0.92))
    assert read(model, picture) == digit


@pytest.mark.parametrize("stem", [0.58, 0.65, 0.72])
def test_a_photo_of_a_seven_whose_bar_runs_off_a_close_crop_is_read(model, stem):
    # the bar, past both sides and as wide as the stem, measured 0.88-0.99 of the
    # stem's stroke width in a 120 px photo and went as a line of ruled paper: a sure 1
    seven = [line((-0.1, 0.15), (1.1, 0.15)), line((stem, 0.15), (stem - 0.2, 0.9))]
    assert read(model, _on_paper(coverage(seven, 120, 5.4), True, 7, blur=0.7)) == 7


@pytest.mark.parametrize("photo", [False, True])
@pytest.mark.parametrize("reach", [0.25, 0.35])
def test_a_two_whose_own_base_runs_far_past_it_is_read(model, reach, photo):
    # the base, as wide as the pen and ending in the picture, ran past the body by
    # its width at both ends and went as a line the 2 stood on: a sure 7 (a helper's
    # reading, 2026-12-04); met only at the body's left end, it is judged as a rule
    body = arc(0.5, 0.3, 0.08, 0.14, 195, 375) + line((0.58, 0.33), (0.42, 0.75))
    two = [body, line((0.42 - reach, 0.75), (0.58 + reach, 0.75))]
    assert read(model, _on_paper(coverage(two, 240, 12), photo, 2)) == 2


def _hanging_from_a_line(digit: int, pen: float, line_width: float) -> bytes:
    """A photo (JPEG, grain) of a digit half the picture high whose top touches a line
    of ruled paper across the whole picture, ``line_width`` px wide."""
    side = 300
    cover = coverage(DIGIT_STROKES[digit][0], side, pen, scale=0.5)
    row = np.flatnonzero(cover.max(axis=1) > 0.5)[0]
    rule = (np.abs(np.arange(side)[:, None] - row) <= line_width / 2) * np.ones((1, side))
    return _on_paper(np.maximum(cover, rule), True, digit, blur=0.7)


@pytest.mark.parametrize("digit", [0, 2, 3, 6, 8, 9])
def test_a_photo_of_a_digit_hanging_from_a_thin_line_is_read(model, digit):
    # the rule the digit's top touches, 0.6 of the pen, measured 0.81-0.96 of its
    # strokes at the size rules are looked for (as a 7's bar does): judged as a 7's
    # bar it stayed and the digit read 8; only a line met at the rest's right end is.
    # (A 5 whose bar lies along the line loses the bar with it: a known limit.)
    assert read(model, _hanging_from_a_line(digit, 12, 7)) == digit


def test_a_line_in_an_odd_last_column_is_a_rule():
    mask = np.zeros((181, 241), bool)
    mask[:, [10, 90, 170, 240]] = True  # the last line in the last column
    mask[60:120, 120:124] = True  # a stroke
    lines = pp.rule_lines(mask)
    assert lines[:, 240].all() and not lines[60:120, 120:124].any()


def test_a_boxy_eight_whose_bars_cross_its_sides_is_no_blank_sheet():
    # a fresh reading found boxy 8s whose bars run past their sides, in a tight crop,
    # read blank: every bar is a rule and the rows cross the columns like a grid's
    mask = np.zeros((200, 120), bool)
    mask[:12, :] = mask[94:106, :] = mask[-12:, :] = True  # bars across, past the sides
    mask[:, 16:28] = mask[:, 92:104] = True  # the sides, 16 px in
    assert (mask & ~pp.rule_lines(mask)).any()  # not all taken away as a sheet's
    picture = np.where(mask, 20, 235).astype(np.uint8)
    assert not pp.preprocess(picture).is_blank


def test_a_box_or_a_seven_segment_eight_alone_is_no_blank_sheet():
    # straight bars meeting at their ends are a digit's (or an empty box's), not paper's
    mask = np.zeros((200, 120), bool)
    mask[:6, :] = mask[97:103, :] = mask[-6:, :] = True  # three bars across
    mask[:, :6] = mask[:, -6:] = True  # two sides down
    assert not pp.rule_lines(mask).any()


@pytest.mark.parametrize("grain", [0.04, 0.045])
def test_the_manual_threshold_rescues_a_small_digit_read_blank(model, grain):
    # A faint small 7 (8 % darker than the paper) under grain of 4 % (the kind B
    # variant this test once used, 234 of seed 3, is now read without help): it stands
    # out of the grain too little to be found; the Upload page's contrast threshold
    # brings it out
    cover = coverage(SEVEN, 400, 3, scale=0.3, offset=(120, 120), height=400)
    noise = np.random.default_rng(1).normal(0, grain, cover.shape)
    picture = np.clip(0.85 * (1 - 0.08 * cover) + noise, 0, 1)
    buffer = io.BytesIO()
    Image.fromarray(np.round(picture * 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    assert pp.preprocess(buffer.getvalue()).is_blank
    result = pp.preprocess(buffer.getvalue(), pp.PreprocessOptions(contrast=0.5))
    assert not result.is_blank
    assert int(model.predict(result.pixels[None])[0]) == 7


@pytest.mark.parametrize(("index", "seed"), [(0, 21), (134, 3), (169, 3), (220, 3)])
def test_small_digits_once_read_blank_are_read_at_the_finer_scale(model, monkeypatch, index, seed):
    # kind B: at the working size these digits' strokes were a few faint pixels and
    # the photo read blank; read again at FINE_FACTOR times that side, they stand out
    from core.cli import classify_record
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("B", index, seed)
    record = classify_record(model, data)
    assert not record["blank"] and record["label"] == label, f"{name}: {record}"
    monkeypatch.setattr(pp, "FINE_FACTOR", 10**6)  # no finer reading: blank, as before
    assert pp.preprocess(data).is_blank, name


# ---------------------------------------------------------------- C: thick strokes


# 1s cropped from a number, a neighbour's pieces beside them wider than half the
# narrow 1 (two read a sure 8)
ONCE_READ_WITH_THEIR_NEIGHBOURS = ((99, 7), (199, 7), (199, 5))


@pytest.mark.parametrize(("index", "seed"), ONCE_READ_WITH_THEIR_NEIGHBOURS)
def test_ones_once_read_with_their_neighbours_pieces_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("C", index, seed)
    assert "from-a-number" in name and label == 1
    assert read(model, data) == label


@pytest.mark.parametrize("pen", [16, 22])
def test_strokes_thick_for_a_tight_crop_stay_solid(model, pen):
    cover = coverage(SEVEN, 110, pen, scale=1.05, height=130)
    result = pp.preprocess(paper(cover))
    cropped = stage(result, "cropped")
    assert cropped.shape[0] > 0.8 * pp.reduce_gray(cover).shape[0], "the strokes were cut"
    assert read(model, paper(cover)) == 7


def _bold_print(digit: int, stroke: int) -> np.ndarray:
    """A bold printed digit (Pillow's own face, thickened by ``stroke``) on paper lit
    from above, filling its frame but for 3 px: strokes about a quarter of its width."""
    font = ImageFont.load_default(size=300)
    big = Image.new("L", (500, 500), 0)
    ImageDraw.Draw(big).text((100, 20), str(digit), font=font, fill=255, stroke_width=stroke)
    glyph = big.crop(big.getbbox())
    glyph = glyph.resize((round(glyph.width * 150 / glyph.height), 150), Image.Resampling.BILINEAR)
    cover = np.zeros((156, glyph.width + 6), np.float32)
    cover[3:153, 3:-3] = np.asarray(glyph, np.float32) / 255
    return paper(cover, light=0.95 - 0.1 * np.linspace(0, 1, 156)[:, None])


def swallowed(gray: np.ndarray) -> bool:
    """Whether a grey picture's first reading took its strokes for paper."""
    read_once = pp.read_ink(gray, pp.PreprocessOptions())
    keep = pp.ink_components(read_once.ink, photo=True)
    return pp.swallowed_strokes(read_once, keep) is not None


@pytest.mark.skipif(not features.check("freetype2"), reason="Pillow's face needs FreeType")
@pytest.mark.parametrize("digit", [0, 5, 8])
def test_bold_strokes_wider_than_the_opening_are_read_whole(model, digit):
    # The opening took these strokes for paper: the ink found was their rims and
    # ends, and the 0 read 4, the 5 read 6, the 8 read 4.
    picture = _bold_print(digit, 20)
    assert swallowed(picture)
    assert read(model, picture) == digit


@pytest.mark.parametrize("index", [597, 1876, 6968])
def test_a_shadow_the_digit_touches_is_no_bold_stroke(model, mnist_test, index):
    # Photographed MNIST digits (bench.eval_real's handwriting, "photo") touching a
    # shadow as dark as their ink: a first version of swallowed_strokes took the
    # shadow for the digit's strokes and read them 4, sure.
    rng = np.random.default_rng([index, 1, 11])
    drawn = augment.redraw(mnist_test.images[index].astype(np.float32) / 255, rng)
    buffer = io.BytesIO()
    Image.fromarray(augment.photographed(drawn, rng)).save(buffer, "JPEG", quality=90)
    assert not swallowed(pp.composite_alpha(*pp.to_grayscale(pp.load(buffer.getvalue()))))
    assert read(model, buffer.getvalue()) == mnist_test.labels[index]


@pytest.mark.parametrize("rows", [(40, 200), (12, 228)])
@pytest.mark.parametrize("digit", [2, 4, 5, 7])
def test_a_dark_card_the_digit_touches_is_no_bold_stroke(model, digit, rows):
    # A card as dark as the ink, wider than the opening's square, touching the
    # digit's right side. Fresh readings found swallowed_strokes reading it as the
    # digit's stroke: a first version for both cards (2, 4, 7 read 3; 5 read 1), a
    # second one for the card as tall as the frame (3, 1, 1, 1).
    cover = coverage(DIGIT_STROKES[digit][0], 240, 9, scale=0.5, height=240)
    right = np.flatnonzero(cover.max(axis=0) > 0.5)[-1]
    cover[rows[0] : rows[1], right - 2 : right + 78] = 1.0
    assert not swallowed(paper(cover))
    assert read(model, paper(cover)) == digit


@pytest.mark.parametrize("digit", [1, 8])
def test_a_soft_shadow_under_a_thin_digit_is_no_bold_stroke(model, digit):
    # A thumb's or a window's soft shadow under a thin digit in a tight crop, not as
    # dark as the ink on it: a fresh reading found a version of swallowed_strokes
    # whose darkness bar was 0.7 reading shadow and digit as one blob (1 read 4).
    cover = coverage(DIGIT_STROKES[digit][0], 140, 6, scale=1.1, height=160)
    rows, cols = np.mgrid[:160, :140]
    shadow = (((rows - 60) / 40) ** 2 + ((cols - 60) / 34) ** 2 <= 1).astype(np.float32)
    picture = paper(cover) * (1 - 0.72 * ndi.gaussian_filter(shadow, 4))
    assert not swallowed(picture)
    assert read(model, picture) == digit


def test_otsu_split_parts_two_levels_and_not_one():
    assert pp.otsu_split(np.array([3, 0, 0, 3])) == (1, 1.0)
    split, separation = pp.otsu_split(np.array([0, 5, 1, 0, 0, 0, 2, 6]))
    assert split in range(3, 7) and 0.9 < separation < 1.0
    assert pp.otsu_split(np.array([0, 7, 0])) == (0, 0.0)
    assert pp.otsu_split(np.array([], np.intp)) == (0, 0.0)


# ---------------------------------------------------------------- D: small digit, wide pen


def test_stroke_ratio_tells_a_digit_too_small_for_its_pen():
    small = pp.preprocess(render_strokes(DIGIT_STROKES[4][0], pen=16, scale=0.18))
    large = pp.preprocess(render_strokes(DIGIT_STROKES[4][0], pen=16, scale=0.9))
    assert small.stroke_ratio > 0.3 > 0.2 > large.stroke_ratio > 0


# ---------------------------------------------------------------- E: frames and lines


def test_ruled_lines_as_dark_as_the_ink_are_removed_and_the_digit_kept(model):
    cover = coverage(SEVEN, 300, 6, scale=0.6, height=240)
    bar = np.flatnonzero((cover > 0.5).sum(axis=1) > 40)  # rows of the 7's bar
    rules = [row for row in range(10, 240, 36) if not (bar[0] - 6 <= row <= bar[-1] + 6)]
    for row in rules:  # the stem crosses them
        cover[row : row + 3, :] = 1.0
    assert len(rules) >= 4
    assert read(model, paper(cover)) == 7


def test_a_stroke_along_a_rule_keeps_its_pixels_off_the_rule():
    mask = np.zeros((100, 100), bool)
    mask[30:33, :] = mask[70:73, :] = True  # two rules of ruled paper
    mask[20:80, 20:24] = True  # a stem crossing both
    mask[66:70, 50:90] = True  # a base lying on the lower rule, just above it
    lines = pp.rule_lines(mask)
    assert lines[30:33, 40:45].all() and lines[70:73, 40:45].all()  # the rules go
    assert not lines[34:69, 20:24].any()  # the stem stays, cut where it crosses
    assert not lines[66:69, 50:90].any()  # the base off the rule's band (and its slack) stays


def test_a_stroke_beside_a_rule_over_half_its_length_keeps_its_pixels():
    # a 0 filling its grid cell: its side runs along the line, touching it, over half
    # of its length, and must not count in the line's thickness
    mask = np.zeros((100, 100), bool)
    mask[:, 20:23] = mask[:, 80:83] = True  # two grid lines, 3 px
    mask[15:85, 23:27] = True  # the 0's left side, 70 px long
    lines = pp.rule_lines(mask)
    assert lines[:, 20:23].all() and lines[:, 80:83].all()
    assert not lines[15:85, 24:27].any()  # (the band takes half a pixel more each side)


def test_a_thin_stroke_touching_a_rule_in_a_large_picture_keeps_its_pixels():
    # rules are looked for at half size; there a 2 px stroke touching the rule falls in
    # the rule's band, and went with it (a 2's base on its line read 7, sure)
    mask = np.zeros((300, 300), bool)
    mask[100:104, :] = mask[200:204, :] = True  # two rules, 4 px
    mask[204:206, 80:220] = True  # a base written on the lower rule, just under it
    mask[120:200, 150:152] = True  # a stem from the upper rule's side down to it
    lines = pp.rule_lines(mask)
    assert lines[100:104, :40].all() and lines[200:204, :40].all()
    assert not lines[205, 80:220].any()
    assert not lines[120:199, 150:152].any()


# Failure-kind E variants of seed 3 (tests/kinds.py, index and seed) once misread, their
# strokes gone with the line beside them: a digit filling its grid cell or box ran
# along over half of the line and counted in its thickness (the first five); a thin
# stroke lying on its line or touching its box lost its pixels beside it, rules being
# told from strokes at half size (the rest: 2s on their line read 7, sure).
ONCE_CUT_WITH_THEIR_LINE = (
    *((index, 3) for index in (15, 69, 135, 289, 343)),
    *((index, 3) for index in (304, 364, 424, 337, 463)),
)


@pytest.mark.parametrize(("index", "seed"), ONCE_CUT_WITH_THEIR_LINE)
def test_digits_once_cut_with_their_line_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert any(sub in name for sub in ("grid", "ruled", "box"))
    assert read(model, data) == label


@pytest.mark.parametrize("digit", range(10))
def test_rules_that_bow_with_a_curved_page_are_followed(model, digit):
    def sag(x: np.ndarray) -> np.ndarray:  # the rules sag 6 px in the middle
        return 6 * ((x - 180) / 180) ** 2

    picture, cover = _on_ruled_paper(digit, range(45, 300, 55), sag, 1.5, 0.35, 0.5)
    full = pp.composite_alpha(*pp.to_grayscale(pp.load(picture)))
    mask = pp.read_ink(full, pp.PreprocessOptions()).ink > 0
    left = mask & ~pp.rule_lines(mask)
    digit_px = pp.resize(cover.astype(np.float32), mask.shape[::-1]) > 0.05
    assert np.count_nonzero(left & ~ndi.binary_dilation(digit_px, iterations=2)) < 40, "rule stubs"
    assert read(model, picture) == digit


# Failure-kind E variants (tests/kinds.py, index and seed) once misread: the rules went
# with the strokes of the digit that lay along them.
ONCE_CUT_BY_RULES = ((39, 11), (51, 0), (51, 11), (64, 11), (64, 13), (81, 13))


@pytest.mark.parametrize(("index", "seed"), ONCE_CUT_BY_RULES)
def test_digits_once_cut_by_rules_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert "grid" in name or "ruled" in name
    assert read(model, data) == label


# Failure-kind E variants (tests/kinds.py, index and seed) once misread: one line of
# ruled paper (or one grid line) in the picture touched the digit and was read with it.
ONCE_READ_WITH_ONE_RULE = ((58, 0), (3, 7), (81, 7), (82, 11), (10, 13), (15, 13), (52, 13))


@pytest.mark.parametrize(("index", "seed"), ONCE_READ_WITH_ONE_RULE)
def test_digits_once_read_with_one_rule_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert "grid" in name or "ruled" in name
    assert read(model, data) == label


# Digits whose own long stroke runs off the picture at both ends, well past the rest
# (a 7's bar, a 2's base, a 4's stem), drawn dark on white in a paint program or
# photographed: a fresh reading of the lone-rule change found them taken for a line
# of ruled paper and read 1, 7 and 2, sure. Drawn with the pen's width, they stay.
@pytest.mark.parametrize("digit", [7, 2, 4])
@pytest.mark.parametrize("photo", [False, True])
def test_a_long_stroke_off_both_edges_is_the_digits(model, digit, photo):
    picture = render_strokes(EDGE_TO_EDGE[digit], pen=18, ink=30, background=235, mode="L")
    if photo:  # grain and a JPEG: the photo path, with its background estimate
        grain = np.random.default_rng(digit).normal(0, 6, picture.shape)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(picture + grain, 0, 255).astype(np.uint8)).save(
            buffer, "JPEG", quality=80
        )
        picture = buffer.getvalue()
        full = pp.composite_alpha(*pp.to_grayscale(pp.load(picture)))
        assert pp.read_ink(full, pp.PreprocessOptions()).size > 0
    assert read(model, picture) == digit


def test_a_small_box_touching_the_digit_is_taken_away():
    ink = np.zeros((300, 300), np.float32)
    ink[100:102, 130:170] = ink[198:200, 130:170] = 1.0  # a box a seventh of the image wide
    ink[100:200, 130:132] = ink[100:200, 168:170] = 1.0
    ink[100:200, 148:152] = 1.0  # a 1 touching its top and bottom
    keep = pp.ink_components(ink)
    assert keep[110:190, 148:152].all()
    assert not keep[100:200, 130:132].any() and not keep[100:200, 168:170].any()
    assert not keep[198:200, 135:145].any()
    frame = pp.box_lines(ink[100:200, 130:170] > 0)
    assert frame[:, :2].all() and frame[:, -2:].all() and frame[-2:, :10].all()
    assert not frame[3:-3, 18:22].any(), "off the sides, the 1 that touches them stays"


@pytest.mark.parametrize(("pen", "scale"), [(18, 1.0), (12, 0.6), (8, 0.4)])
def test_a_seven_segment_eight_is_no_box(model, pen, scale):
    eight = [line((0.3, 0.1), (0.7, 0.1), (0.7, 0.9), (0.3, 0.9), (0.3, 0.1))]
    eight.append(line((0.3, 0.5), (0.7, 0.5)))  # a box and its middle bar
    assert read(model, render_strokes(eight, pen=pen, scale=scale)) == 8


def test_a_zero_alone_in_its_crop_is_no_box():
    zero = np.zeros((60, 40), bool)
    zero[:4, :] = zero[-4:, :] = zero[:, :4] = zero[:, -4:] = True  # a square 0
    assert not pp.box_lines(zero).any()


# Failure-kind E variants (tests/kinds.py, index and seed) once misread: a box small in
# the image, touching the digit, was read with it; or (index 0) a marker's box round a
# narrow 0 lost its sides as rules and its top and bottom were read as bars (1, sure).
ONCE_READ_WITH_THEIR_BOX = (
    (49, 7),
    (61, 7),
    (0, 11),
    (13, 11),
    (85, 11),
    (0, 13),
    (7, 13),
    (55, 13),
    (61, 13),
)


@pytest.mark.parametrize(("index", "seed"), ONCE_READ_WITH_THEIR_BOX)
def test_digits_once_read_with_their_box_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert "box" in name
    assert read(model, data) == label


def test_a_seven_alone_in_a_tight_crop_keeps_its_bar():
    mask = np.zeros((100, 80), bool)
    mask[5:15, :] = True  # the bar, the whole width
    mask[15:95, 50:60] = True
    assert not pp.rule_lines(mask).any()


def test_a_circle_around_the_digit_is_dropped_even_with_a_gap():
    ink = np.zeros((200, 200), np.float32)
    yy, xx = np.mgrid[:200, :200]
    ring = np.abs(np.hypot(yy - 100, xx - 100) - 85) < 3
    ring &= ~((yy < 40) & (np.abs(xx - 100) < 12))  # where the pen lifted
    ink[ring] = 1.0
    ink[60:140, 95:103] = 1.0  # a 1 inside
    keep = pp.ink_components(ink)
    assert keep[60:140, 95:103].all() and not keep[ring].any()


def test_a_circle_touching_the_digit_is_peeled_off():
    ink = np.zeros((200, 200), np.float32)
    yy, xx = np.mgrid[:200, :200]
    circle = np.abs(np.hypot(yy - 100, xx - 100) - 85) < 4
    ink[circle] = 1.0
    ink[40:160, 95:104] = 1.0  # a 1 whose ends touch the circle
    keep = pp.ink_components(ink)
    assert not keep[circle].any()
    assert keep[60:140, 95:104].all()


def test_a_digit_without_a_frame_is_not_peeled():
    zero = ring(side=120, radius=40, width=10)
    assert pp.peel_frame(zero).sum() == zero.sum()
    eight = ring(side=120, radius=22, width=8)
    eight = np.roll(eight, -26, axis=0) | np.roll(eight, 26, axis=0)  # two loops
    assert pp.peel_frame(eight).sum() == eight.sum()


def test_a_box_touching_the_digit_is_dropped(model):
    cover = coverage(SIX, 200, 7, scale=0.6, height=200)
    cols = np.flatnonzero(cover.max(axis=0) > 0.5)
    left = cols[0] - 2  # the box's left side touches the 6
    cover[15:19, left:175] = cover[181:185, left:175] = 1.0
    cover[15:185, left : left + 4] = cover[15:185, 171:175] = 1.0
    assert read(model, paper(cover)) == 6


# Failure-kind E variants (tests/kinds.py, index and seed) once misread: a stroke lying on
# a side of the box it touches went with the side (a 0 read 9, sure; a 6 read 5, sure).
ONCE_CUT_ON_THEIR_BOX = ((103, 3), (211, 3), (19, 9), (343, 9))


@pytest.mark.parametrize(("index", "seed"), ONCE_CUT_ON_THEIR_BOX)
def test_digits_once_cut_where_they_lay_on_their_box_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert "box-touching" in name
    assert read(model, data) == label


# circles whose ends do not meet, touching the digit (one a sure 0, one a sure 9 read 0)
ONCE_READ_WITH_AN_OPEN_CIRCLE = ((116, 3), (218, 3), (458, 3), (176, 5), (236, 9), (20, 21))


@pytest.mark.parametrize(("index", "seed"), ONCE_READ_WITH_AN_OPEN_CIRCLE)
def test_digits_once_read_with_an_open_circle_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert "circled" in name
    assert read(model, data) == label


def test_grain_in_a_small_sixs_open_loop_is_no_digit_in_a_circle(model):
    # shutting the gap of the 6's loop enclosed the grain inside it, which a first
    # version kept as the digit (a sure 7)
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("B", 190, 3)
    assert "small" in name and label == 6
    assert read(model, data) == label


def _boxed_on_its_side(digit: int, side: str, photo: bool) -> bytes:
    """``digit`` in a box drawn as thick as its pen, one side of the box laid over the
    digit's own outermost stroke on that ``side``."""
    cover = coverage(DIGIT_STROKES[digit][0], 200, 6, scale=0.55, height=220)
    rows = np.flatnonzero(cover.max(axis=1) > 0.5)
    cols = np.flatnonzero(cover.max(axis=0) > 0.5)
    top, bottom, left, right = rows[0] - 14, rows[-1] + 14, cols[0] - 14, cols[-1] + 14
    if side == "left":
        left = cols[0]
    elif side == "right":
        right = cols[-1] - 6
    else:
        bottom = rows[-1] - 6
    frame = np.zeros_like(cover)
    frame[top : top + 6, left : right + 6] = frame[bottom : bottom + 6, left : right + 6] = 1
    frame[top : bottom + 6, left : left + 6] = frame[top : bottom + 6, right : right + 6] = 1
    return _on_paper(np.maximum(cover, frame), photo, seed=digit)


# (a photo of the 6 on its box's left side still reads 5: its loop leaves the side
# too steeply for its end to head along it)
@pytest.mark.parametrize(
    ("digit", "side", "photo"),
    [
        *((0, side, photo) for side in ("left", "right", "bottom") for photo in (False, True)),
        (6, "left", False),
    ],
)
def test_a_digit_whose_stroke_lies_on_its_box_is_read(model, digit, side, photo):
    assert read(model, _boxed_on_its_side(digit, side, photo)) == digit


def test_a_stroke_cut_by_a_line_it_lay_on_is_joined_again():
    mask = np.zeros((120, 100), bool)
    yy, xx = np.mgrid[:120, :100]
    zero = np.abs(np.hypot((yy - 60) / 1.4, xx - 50) - 30) < 2.5  # a 0
    mask |= zero
    line = np.zeros_like(mask)
    line[:, 17:25] = True  # a box's side over the 0's left
    mask |= line
    back = pp.bridge_cut([(line, 0)], mask & ~line)
    assert back[50:70, 17:25].any(axis=1).all(), "the 0's side, where it lay on the line"
    assert not back[:25].any() and not back[95:].any(), "not past where the 0 left it"


# Variants a first version of the join read wrong: 3s whose tips touch their box's
# side, joined along it into a B (read 8 and 9).
@pytest.mark.parametrize(("index", "seed"), [(1, 7), (361, 9)])
def test_a_three_whose_tips_touch_its_box_is_not_closed(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert "box-touching" in name and label == 3
    assert read(model, data) == 3


@pytest.mark.parametrize("grid", [False, True])
@pytest.mark.parametrize("middle", [0.3, 0.6, 0.9])
def test_the_tips_of_a_three_on_a_grid_line_are_not_joined(middle, grid):
    # a 3's tips touching a vertical line head along it at each other, as a cut loop's
    # ends do; joined, they made a B (read 8). The 3's middle reaches into the space
    # it holds against the line, however shallow (``middle``: how far, of its width),
    # and the rows of a grid cut that space into cells (a fresh reading's 3s).
    yy, xx = np.mgrid[:160, :120]
    mask = np.zeros((160, 120), bool)
    for centre in (45, 115):  # two right half-rings, their tips on the line at x = 20
        ring = np.abs(np.hypot(yy - centre, xx - 20) - 35) < 3
        mask |= ring & (xx >= 20)
    mask[78:82, 20 + round(35 * (1 - middle)) : 58] = True  # the 3's middle
    line = np.zeros_like(mask)
    line[:, 14:22] = True  # a grid line, its band over the tips
    rows = np.zeros_like(mask)
    if grid:
        rows[58:62] = rows[98:102] = True  # the grid's rows, removed too
    assert not pp.bridge_cut([(line, 0), (rows, 1)], mask & ~line & ~rows).any()


# (a photo of the 0 dipping 2 px past its rules still reads 2: its ends there leave
# the rule at 60 degrees, no longer heading along it)
@pytest.mark.parametrize(("dip", "photo"), [(0, False), (0, True), (2, False)])
def test_a_zero_whose_top_and_bottom_lie_on_rules_is_read(model, dip, photo):
    # its flat top and bottom lie along two rules, dipping past the lower by ``dip`` px:
    # the rules' bands cut it into ( ) (read 2 before), and what dips past a rule
    # beside its ends is no stroke crossing it
    yy, xx = np.mgrid[:260, :240]
    bottom = 180 + dip
    # a 0 with a flat bottom (a superellipse), 6 px wide
    level = (np.abs((yy - (bottom - 60)) / 60) ** 4 + np.abs((xx - 120) / 40) ** 4) ** 0.25
    cover = (np.abs(level - 1) < 0.05).astype(np.float32)
    for row in (60, 180):  # ruled paper
        cover[row - 2 : row + 2, :] = 1.0
    assert read(model, _on_paper(cover, photo, seed=dip)) == 0


def _three_on_a_grid(variant: int, pen: int, spacing: int, photo: bool) -> bytes:
    """A 3 on squared paper, a column of the grid through its leftmost ink (its tips)."""
    cover = coverage(DIGIT_STROKES[3][variant], 200, pen, scale=0.6, height=220)
    left = np.flatnonzero(cover.max(axis=0) > 0.5)[0]
    grid = np.zeros_like(cover)
    for x in range(left % spacing, 200, spacing):
        grid[:, x : x + 3] = 1
    for y in range(7, 220, spacing):
        grid[y : y + 3, :] = 1
    return _on_paper(np.maximum(cover, grid), photo, seed=variant)


# A first version of the joins closed these 3s into a B or a 0-like blob (read 9, 8, 0)
@pytest.mark.parametrize(
    ("variant", "pen", "spacing", "photo"),
    [
        *((0, 6, 40, photo) for photo in (False, True)),
        *((0, pen, 70, False) for pen in (9, 12)),
        (0, 9, 40, False),
        (0, 12, 40, True),
        (1, 6, 40, True),
    ],
)
def test_a_three_whose_tips_lie_on_a_grid_line_is_read(model, variant, pen, spacing, photo):
    assert read(model, _three_on_a_grid(variant, pen, spacing, photo)) == 3


def test_a_hole_in_one_slanted_line_is_no_loop():
    sliver = np.eye(12, dtype=bool)  # a hole one pixel wide along a slanted join
    assert not pp._round_loop(sliver, width=1.0)


def test_grain_along_a_dark_band_is_not_joined():
    # a photo's dark desk band along the edge is a line; the grain beside it is specks
    # that head every way: joined, they gave the band back and the digit read blank
    rng = np.random.default_rng(0)
    mask = np.zeros((150, 200), bool)
    line = np.zeros_like(mask)
    line[:, :12] = True
    mask[:, 12:16] = rng.random((150, 4)) < 0.5  # the grain
    yy, xx = np.mgrid[:150, :200]
    mask |= np.abs(np.hypot((yy - 75) / 1.4, xx - 110) - 30) < 2.5  # a 0 far from it
    assert not pp.bridge_cut([(line, 0)], mask).any()


def test_strokes_crossing_or_ending_on_a_line_are_not_joined_along_it():
    mask = np.zeros((120, 100), bool)
    line = np.zeros_like(mask)
    line[60:66, :] = True  # a rule
    mask[20:100, 30:35] = True  # a stroke crossing it
    mask[20:60, 70:75] = True  # a stroke ending on it, from above
    mask[66:100, 80:85] = True  # and one from below
    assert not pp.bridge_cut([(line, 1)], mask).any()


def test_a_box_drawn_around_the_digit_is_dropped(model):
    cover = coverage(SEVEN, 200, 7, scale=0.6, height=200)
    cover[15:19, 25:175] = cover[181:185, 25:175] = 1.0
    cover[15:185, 25:29] = cover[15:185, 171:175] = 1.0
    assert read(model, paper(cover)) == 7


# ------------------------------------------- C: a digit that fills its frame (a scan)


def ring(side: int = 48, radius: float = 17, width: float = 6) -> np.ndarray:
    """A thick 0 whose ink reaches the frame's edges, as in a tight postal scan."""
    yy, xx = np.mgrid[:side, :side]
    distance = np.hypot((yy - side / 2 + 0.5) / 1.3, xx - side / 2 + 0.5)
    return np.abs(distance - radius) < width / 2


def test_a_thick_zero_filling_the_frame_is_neither_rules_nor_a_box():
    zero = ring()
    assert zero[0].any() and zero[-1].any()  # it touches the top and the bottom
    assert not pp.rule_lines(zero).any()
    assert pp.ink_components(zero.astype(np.float32)).sum() == zero.sum()


def test_a_speck_inside_a_zero_does_not_make_the_zero_a_frame():
    ink = ring().astype(np.float32)
    ink[23:25, 23:25] = 1.0  # dust in the loop
    keep = pp.ink_components(ink)
    assert keep[ring()].all()


def test_an_edge_band_hugs_the_edge_and_a_digit_touching_it_does_not():
    ink = np.zeros((100, 100), np.float32)
    ink[:6, :] = 1.0  # a sheet's edge along the top
    ink[30:80, 45:52] = 1.0  # a 1 apart from it
    keep = pp.ink_components(ink)
    assert not keep[:6].any() and keep[30:80, 45:52].all()
    seven = np.zeros((100, 100), np.float32)
    seven[:12, 5:95] = 1.0  # a 7's bar along the top of a tight crop...
    seven[12:100, 80:92] = 1.0  # ...and its stem down to the bottom
    assert pp.ink_components(seven).sum() == (seven > 0).sum()


def test_the_top_and_bottom_left_of_a_box_go_and_bars_drawn_apart_stay():
    ink = np.zeros((200, 200), np.float32)
    ink[40:44, 60:140] = ink[156:160, 60:140] = 1.0  # a box's top and bottom (its sides
    ink[60:140, 85:91] = ink[60:140, 109:115] = 1.0  # went as rules), round a narrow 0
    ink[60:66, 85:115] = ink[134:140, 85:115] = 1.0
    keep = pp.ink_components(ink)
    assert not keep[40:44].any() and not keep[156:160].any()
    assert keep[60:140, 85:91].all()
    five = np.zeros((200, 200), np.float32)
    five[40:46, 70:140] = 1.0  # a 5's bar, drawn apart, as long as its body is wide
    five[50:100, 70:76] = five[100:106, 70:130] = five[106:150, 124:130] = 1.0
    five[144:150, 70:130] = 1.0
    assert pp.ink_components(five).sum() == (five > 0).sum()
    # a 7's bar drawn apart, running a little past its stem at both ends: no pair, stays
    seven = np.zeros((200, 200), np.float32)
    seven[40:46, 60:146] = 1.0
    for row in range(52, 150):
        column = round(134 - 0.35 * (row - 52))
        seven[row, column - 3 : column + 3] = 1.0
    assert pp.ink_components(seven).sum() == (seven > 0).sum()


def test_a_line_from_one_removed_rule_to_another_goes():
    # a form's box whose sides run the picture's height go as rules; its top and
    # bottom, left between them, were kept with a 0 reaching almost to the sides
    # (they did not run past it by 5% of their length)
    ink = np.zeros((200, 200), np.float32)
    ink[:, 40:46] = ink[:, 154:160] = 1.0  # the sides, as rules
    ink[10:16, 46:154] = ink[184:190, 46:154] = 1.0  # the top and the bottom
    yy, xx = np.mgrid[:200, :200]
    zero = np.abs(np.hypot((yy - 100) / 1.4, xx - 100) - 47) < 3  # from column 50 to 150
    ink[zero] = 1.0
    keep = pp.ink_components(ink)
    assert np.array_equal(keep, zero)
    # a bar drawn apart that stops short of a rule is the digit's, as before
    ink[10:16, 46:154] = 0.0
    ink[20:26, 60:140] = 1.0
    assert pp.ink_components(ink)[20:26, 60:140].all()
    # and so is one reaching both rules, drawn closer to the rest than its own width
    ink[20:26, 46:154] = 1.0
    assert pp.ink_components(ink)[20:26, 50:150].all()
    # a stroke's pieces between the rules it crosses lie among its other pieces: kept
    ruled = np.zeros((200, 200), np.float32)
    ruled[40:43, :] = ruled[90:93, :] = ruled[140:143, :] = 1.0
    ruled[20:180, 96:102] = 1.0  # a 1 crossing three rules
    keep = pp.ink_components(ruled)
    for piece in (slice(20, 36), slice(48, 86), slice(98, 136), slice(148, 180)):
        assert keep[piece, 96:102].all()


# kind E (tests/kinds.py): a box or a partial box whose sides went as rules, its top
# or bottom kept with the digit (a 5 with a bar above read a sure 8, a 3 underlined a
# sure 1), before lines between removed rules went
ONCE_KEPT_BETWEEN_RULES = ((90, 9), (114, 9), (65, 9), (113, 9))


@pytest.mark.parametrize(("index", "seed"), ONCE_KEPT_BETWEEN_RULES)
def test_digits_once_read_with_a_line_between_rules_are_read(model, index, seed):
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("E", index, seed)
    assert "box" in name
    assert read(model, data) == label, name


@pytest.mark.parametrize("digit", [6, 9, 4])
def test_an_underline_apart_from_the_digit_goes(model, digit):
    # 6 and 9 are underlined to tell them apart; the line, drawn with the same pen
    # under the digit and past both its sides, was read with it (a 9 as a sure 1)
    strokes = DIGIT_STROKES[digit][0]
    points = np.concatenate([np.asarray(stroke) for stroke in strokes])
    left, right, bottom = points[:, 0].min(), points[:, 0].max(), points[:, 1].max()
    underline = line((left - 0.15, bottom + 0.1), (right + 0.15, bottom + 0.11))
    alone = render_strokes(strokes, pen=14, scale=0.75)
    picture = render_strokes([*strokes, underline], pen=14, scale=0.75)
    # what is cropped is the digit alone, as tall as without the line
    cropped = stage(pp.preprocess(picture), "cropped").shape
    assert cropped == stage(pp.preprocess(alone), "cropped").shape
    assert read(model, picture) == digit


def test_a_base_drawn_apart_is_no_underline():
    # a 2 whose base was drawn as a stroke of its own, from where the diagonal ends and
    # a little past both sides (a fresh reading: 20 of 100 such 2s read a sure 7 when
    # an underline had only to run 5% of its length past the digit)
    two = np.zeros((200, 200), np.float32)
    for column in range(70, 131):  # the top curve, as a flat arc
        row = round(60 - 0.006 * (column - 100) ** 2 * 4)
        two[row : row + 6, column] = 1.0
    for row in range(60, 140):  # the diagonal down to the left
        column = round(130 - 0.75 * (row - 60))
        two[row, column - 3 : column + 3] = 1.0
    two[146:152, 63:137] = 1.0  # the base, apart, from just left of the diagonal's end
    assert pp.ink_components(two).sum() == (two > 0).sum()


def test_paper_surface_follows_the_light_under_thick_strokes():
    zero = ring(side=64, radius=22, width=12)
    y, x = np.mgrid[:64, :64] / 64
    light = 0.95 - 0.3 * x + 0.1 * y * y  # uneven light, darker to the right
    gray = paper(ndi.gaussian_filter(zero.astype(np.float32), 2), light=light)
    surface = pp.paper_surface(gray, False, zero)  # ink-bright: 1 - paper
    error = np.abs(surface[zero] - (1 - light)[zero])
    assert error.max() < 0.05 and np.median(error) < 0.025  # the ink stands 0.5 above it


def test_a_strip_along_a_whole_edge_is_cut_off_where_a_digit_touches_it():
    ink = np.zeros((100, 120), np.float32)
    ink[:, :8] = 1.0  # a desk beside the sheet, along the whole left edge
    ink[30:80, 8:16] = 1.0  # a 1's stem...
    ink[30:36, 8:40] = 1.0  # ... and a stroke, touching the strip
    keep = pp.ink_components(ink)
    assert not keep[:, :8].any()
    assert keep[30:80, 12:16].all() and keep[30:36, 16:40].all()


def test_a_band_from_side_to_side_is_not_the_digit():
    ink = np.zeros((120, 160), np.float32)
    rows = np.arange(160)
    for col in rows:  # a tilted band, deeper than an edge strip, wider than the digit
        top = 10 + col // 8
        ink[top : top + 14, col] = 1.0
    yy, xx = np.mgrid[:120, :160]
    zero = np.abs(np.hypot((yy - 85) / 1.4, xx - 80) - 14) < 2.5
    ink[zero] = 1.0
    keep = pp.ink_components(ink)
    assert keep[zero].all() and not keep[:40].any()


def test_fills_frame():
    keep = np.zeros((20, 20), bool)
    keep[2:18, 8:11] = True
    assert pp.fills_frame(keep)
    keep[2:5, :] = False
    assert not pp.fills_frame(keep)


def test_ink_covering_half_of_the_frame_is_not_blank():
    rng = np.random.default_rng(1)
    signal = np.abs(rng.normal(0, 0.01, (48, 48))).astype(np.float32)
    signal[ring(width=12)] += 0.6  # the ink covers about half of the pixels
    assert ring(width=12).mean() > 0.4
    ink, blank = pp.normalise_contrast(signal)
    assert not blank
    assert (ink[ring(width=12)] > 0.5).mean() > 0.9 and (ink[~ring(width=12)] > 0).mean() < 0.05


def test_a_stroke_touching_the_border_of_a_tight_crop_stays_ink(model):
    cover = coverage(SEVEN, 64, 8, scale=1.0, height=64)  # the 7 fills the frame
    rows = np.flatnonzero(cover.max(axis=1) > 0.5)
    cover = cover[rows[0] :, :]  # cropped at its bar: the bar runs along the top edge
    result = pp.preprocess(paper(cover, light=np.linspace(0.8, 0.95, cover.shape[1])[None, :]))
    assert stage(result, "ink")[:3].max() > 0.5  # the bar is ink, not background
    assert int(model.predict(result.pixels[None])[0]) == 7


def test_mnist_test_digits_as_postal_scans_are_read(model, mnist_test):
    from core.augment import scanned

    picked = np.random.default_rng(123).choice(len(mnist_test.labels), 40, replace=False)
    right = 0
    for index in picked:
        rng = np.random.default_rng(int(index))
        scan = scanned(mnist_test.images[index].astype(np.float32) / 255, rng)
        right += read(model, scan) == int(mnist_test.labels[index])
    # 89% on 200 such scans in bench/eval_real.py; 40% before the scan fixes
    assert right / len(picked) >= 0.8


def test_a_frame_filling_digit_keeps_its_lighter_strokes():
    # Soft-edged strokes over half a small scan: the signal's median lies on their
    # edges, and its spread, taken for the paper's grain, had set the threshold at its
    # 0.6 cap, cutting away a stroke half as dark as the rest.
    rng = np.random.default_rng(2)
    strokes = np.zeros((48, 48), np.float32)
    strokes[ring(side=48, radius=15, width=4)] = 0.8
    strokes[6:42, 23:26] = 0.4  # a lighter stroke down the middle
    signal = np.abs(rng.normal(0, 0.01, strokes.shape)) + ndi.gaussian_filter(strokes, 1.5)
    signal = np.clip(signal, 0, 1).astype(np.float32)
    assert (signal > 0.1).mean() > 0.4
    ink, blank = pp.normalise_contrast(signal)
    assert not blank
    assert ink[12:36, 24].min() > 0.2, "the lighter stroke was cut away"
    assert (ink[signal < 0.05] > 0).mean() < 0.02, "the paper is ink"


# Postal scans of MNIST test digits, 16 px, once misread (index, its scan's seed): their
# lighter strokes were cut (threshold from the median), or a 5's sloping bars, at 32 px,
# were taken for the two rules of ruled paper.
ONCE_MISREAD_SCANS = ((76, 13), (3083, 8), (5726, 0), (7132, 9), (8649, 5))


@pytest.mark.parametrize(("index", "seed"), ONCE_MISREAD_SCANS)
def test_small_postal_scans_once_misread_are_read(model, mnist_test, index, seed):
    from core.augment import scanned

    digit = mnist_test.images[index].astype(np.float32) / 255
    scan = scanned(digit, np.random.default_rng([index, 5, 11, seed]))
    assert scan.shape == (16, 16)
    assert read(model, scan) == int(mnist_test.labels[index])


# MNIST test digits thickened by a 3x3 grey dilation, as postal scans (index; the
# scan's rng is [index, 5, 5]): their tight reading, against the paper's surface, covers
# most of the frame and measured blank, so the hollow first reading stayed (a fresh
# reading found 0 read a sure 9, 3 read 4 or 2); it is measured as a bold digit's now
ONCE_HOLLOW_BOLD_SCANS = (1121, 3045, 4710, 6745)


@pytest.mark.parametrize("index", ONCE_HOLLOW_BOLD_SCANS)
def test_bold_scans_once_read_hollow_are_read(model, mnist_test, index):
    from core.augment import scanned

    digit = ndi.grey_dilation(mnist_test.images[index].astype(np.float32) / 255, size=(3, 3))
    scan = scanned(digit, np.random.default_rng([index, 5, 5]))
    assert read(model, scan) == int(mnist_test.labels[index])


def test_ink_covering_three_quarters_of_the_frame_is_blank_only_at_first():
    # A bold digit filling a small scan: the lightest quarter of the signal is still
    # on the strokes' edges. The lightest tenth finds the paper, as a last try.
    rng = np.random.default_rng(1)
    bold = ring(width=16)
    assert 0.7 < bold.mean() < 0.85
    signal = np.abs(rng.normal(0, 0.01, bold.shape)) + ndi.gaussian_filter(bold * 0.7, 1.0)
    signal = np.clip(signal, 0, 1).astype(np.float32)
    assert pp.normalise_contrast(signal)[1], "the quartile alone reads no paper"
    ink, blank = pp.normalise_contrast(signal, bold=True)
    assert not blank
    assert (ink[bold] > 0.5).mean() > 0.9 and (ink[signal < 0.05] > 0).mean() < 0.05


@pytest.mark.parametrize("shape", [(9, 9), (16, 16), (17, 40), (64, 64)])
def test_noise_without_a_digit_stays_blank(shape):
    # read from its lightest tenth, grain stands out as well as ink: the bold try
    # believes only two levels clearly apart (a review found 9x9 noise read as a sure 2)
    rng = np.random.default_rng(1)
    for _ in range(5):
        assert pp.preprocess(np.clip(0.6 + rng.normal(0, 0.15, shape), 0, 1)).is_blank
    assert pp.preprocess(rng.uniform(0, 1, shape).astype(np.float32)).is_blank


def test_separability_of_two_levels_and_of_noise():
    rng = np.random.default_rng(0)
    bins = np.arange(101)
    two_levels = np.bincount(
        np.r_[rng.normal(5, 1, 300), rng.normal(70, 2, 700)].astype(int), minlength=101
    )
    normal = np.bincount(np.clip(rng.normal(50, 10, 20000), 0, 100).astype(int), minlength=101)
    assert pp.separability(two_levels) > 0.95
    assert 0.6 < pp.separability(normal) < 0.7  # 2 / pi for a normal distribution
    assert pp.separability(np.ones_like(bins)) == pytest.approx(0.75, abs=0.01)
    assert pp.separability(np.zeros_like(bins)) == 0.0


# Bold MNIST test digits as 48 px postal scans (index, label), once reported blank.
ONCE_BLANK_SCANS = ((8481, 0), (6797, 2))


@pytest.mark.parametrize(("index", "label"), ONCE_BLANK_SCANS)
def test_bold_postal_scans_once_read_blank_are_read(model, mnist_test, index, label):
    from core.augment import scanned

    scan = scanned(
        mnist_test.images[index].astype(np.float32) / 255, np.random.default_rng([index, 2, 11])
    )
    assert scan.shape == (48, 48) and int(mnist_test.labels[index]) == label
    assert read(model, scan) == label


def test_a_frame_filling_fives_bars_are_no_rules(mnist_test):
    from core.augment import scanned

    scan = scanned(
        mnist_test.images[5726].astype(np.float32) / 255, np.random.default_rng([5726, 5, 11, 0])
    )
    result = pp.preprocess(scan)
    cropped = stage(result, "cropped")
    assert cropped.shape[0] > 0.8 * stage(result, "ink").shape[0]
    assert cropped.shape[1] > 0.5 * cropped.shape[0], "the 5 lost its bars"


# ---------------------------------------------------------------- F: loops


def test_thickening_a_thin_stroke_keeps_a_small_loop_open():
    thin = render_strokes(SIX, pen=3, scale=0.9)
    final = pp.preprocess(thin).pixels > 0.5
    holes = ndi.binary_fill_holes(final) & ~final
    assert holes.sum() >= 2, "the 6's loop was filled in"


def test_thinning_stops_where_the_thinnest_strokes_reach_the_target():
    # A bold scan's blot beside a thinner stroke: thinning both by the mean's excess
    # cut the thin one to a faint hairline.
    ink = np.zeros((80, 80), np.float32)
    ink[10:40, 10:40] = 1  # a blot 30 px wide
    ink[40:72, 30:38] = 1  # a stroke 8 px wide
    shape = pp.outline(ink)
    width = pp.stroke_width(ink, shape)
    assert width > 11
    thinned = pp.normalise_stroke(ink, width, 6.0, shape)
    across = thinned[60, 20:50]
    assert 5 <= np.count_nonzero(across > 0.5) <= 8, (
        "the thin stroke keeps about the target's width"
    )
    assert np.count_nonzero(thinned[25, :] > 0.5) > 20, "the blot is thinned no further"


def test_hole_growth_is_limited_inside_loops_only():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    mask[16:24, 16:24] = False  # a loop of inscribed radius 4
    outside = ndi.distance_transform_edt(~mask)
    growth = pp.hole_growth(mask, outside, 3.0)
    assert growth[20, 20] == pytest.approx(0.4 * 4)
    assert growth[0, 0] == pytest.approx(3.0)


# ---------------------------------------------------------------- G: soft photos


def test_a_soft_low_contrast_photo_is_read(model):
    cover = ndi.gaussian_filter(coverage(SEVEN, 240, 14, scale=0.7, height=240), 4)
    assert read(model, paper(cover, light=0.8, ink=0.6)) == 7


# ---------------------------------------------------------------- verdict and calibration


def test_verdict_reasons():
    names = [str(d) for d in range(10)]
    sure = np.full(10, 0.005)
    sure[3] = 0.955
    verdict = judge(names, sure, threshold=0.9)
    assert verdict.sure and verdict.why is None and names[verdict.best] == "3"
    close = np.full(10, 0.02)
    close[3], close[8] = 0.5, 0.34
    assert judge(names, close, threshold=0.9).why == "two digits are close: 3 or 8"
    flat = np.full(10, 0.07)
    flat[3] = 0.37
    assert judge(names, flat, threshold=0.9).why == UNLIKE
    assert judge(names, sure, stroke_ratio=0.35, threshold=0.9).why == TOO_SMALL
    nearly = np.full(10, 0.02)
    nearly[3] = 0.82
    assert (
        judge(names, nearly, threshold=0.9).why
        == "82% is under the 90% this model needs to be sure"
    )
    # just under the bar: one decimal, not "72% is under the 72%" (a bench miss at
    # 71.8% read so); further under, whole percents as before
    for top, bar, shown in ((0.718, 0.72, "71.8%"), (0.7599, 0.76, "75.9%"), (0.754, 0.76, "75%")):
        nearly = np.full(10, (1 - top - 0.1) / 8)
        nearly[3], nearly[8] = top, 0.1
        verdict = judge(names, nearly, threshold=bar)
        assert not verdict.sure
        assert verdict.why == f"{shown} is under the {bar:.0%} this model needs to be sure"


def test_sure_probability_comes_from_the_calibration():
    assert sure_probability({}) == 0.6
    assert sure_probability({"calibration": {"sure_probability": 0.85}}) == 0.85
    assert sure_probability({"calibration": {"sure_probability": "high"}}) == 0.6


def test_temperature_divides_the_logits_and_is_checked():
    coef, intercept = np.zeros((10, 784)), np.arange(10, dtype=np.float64)
    model = DigitModel(coef, intercept, range(10), {"name": "t", "calibration": {"temperature": 2}})
    probs = model.predict_proba(np.zeros((1, 28, 28)))
    np.testing.assert_allclose(probs, probabilities(intercept[None] / 2, False))
    for bad in (0, -1, float("nan"), "2", True):
        with pytest.raises(ModelError, match="temperature"):
            DigitModel(
                coef, intercept, range(10), {"name": "t", "calibration": {"temperature": bad}}
            )


def test_a_16_pixel_scan_is_enlarged_and_read(model):
    digit = np.zeros((16, 16), np.float32)
    digit[1:15, 7:10] = 1.0  # a 1 filling a 16 px postal-scan box
    enlarged = pp.enlarge_small(paper(digit))
    assert enlarged.shape == (32, 32)
    assert pp.enlarge_small(np.zeros((28, 28), np.float32)).shape == (28, 28)
    assert read(model, paper(digit)) == 1


def test_a_faint_shading_spot_larger_than_the_digit_is_not_the_digit():
    ink = np.zeros((150, 150), np.float32)
    yy, xx = np.mgrid[:150, :150]
    # a shading at the corner, just reaching strong ink at its darkest
    ink += np.clip(0.56 * (1 - np.hypot(yy - 150, xx - 150) / 45), 0, 1).astype(np.float32)
    ink[40:70, 60:63] = 1.0  # a small 1
    keep = pp.ink_components(ink)
    assert keep[40:70, 60:63].all() and not keep[140:, 140:].any()


def test_a_blank_photo_is_read_again_in_more_detail(tmp_path):
    rng = np.random.default_rng(3)
    photo = np.clip(0.85 + rng.normal(0, 0.01, (2400, 1800)), 0, 1)
    photo[1100:1160, 900:902] = 0.45  # a 2 px pencil 1, 60 px tall in a 2400 px photo
    path = tmp_path / "pencil.jpg"
    Image.fromarray(np.round(photo * 255).astype(np.uint8)).save(path, quality=92)
    result = pp.preprocess(str(path))
    assert not result.is_blank


def test_calibration_inputs_take_each_way_in_turn_and_are_deterministic(mnist_train):
    from core.augment import calibration_inputs

    images = mnist_train.images[:6]
    first = list(calibration_inputs(images, seed=1))
    again = list(calibration_inputs(images, seed=1))
    shapes = [picture.shape for _, picture in first]
    assert shapes[0] == shapes[3] == (280, 280, 4)  # the canvas
    assert len(shapes[1]) == len(shapes[4]) == 3 and shapes[1][2] == 3  # a photo
    assert len(shapes[2]) == 2 and shapes[2][0] == shapes[2][1]  # a postal scan
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))


def test_count_loops_counts_holes_of_the_ink():
    zero = render_strokes(DIGIT_STROKES[0][0], pen=12)[..., 3] / 255.0
    eight = render_strokes(DIGIT_STROKES[8][0], pen=12)[..., 3] / 255.0
    assert pp.count_loops(zero) == 1
    assert pp.count_loops(eight) == 2
    assert pp.count_loops(ndi.binary_fill_holes(eight >= 0.5).astype(float)) == 0
    # A pinhole under min_area is no loop.
    dot = np.ones((9, 9))
    dot[4, 4] = 0
    assert pp.count_loops(dot) == 1 and pp.count_loops(dot, min_area=2) == 0


def test_count_loops_equals_filling_the_holes():
    """One labelling of the background counts what scipy's binary_fill_holes fills."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        image = rng.random(tuple(rng.integers(3, 40, 2))) * rng.uniform(0.3, 1.3)
        ink = image >= pp.LOOP_LEVEL
        holes, _ = ndi.label(ndi.binary_fill_holes(ink) & ~ink)
        sizes = np.bincount(holes.ravel())[1:]
        for area in (1, 3):
            assert pp.count_loops(image, min_area=area) == int(np.sum(sizes >= area))


def test_an_eight_with_a_tiny_top_loop_is_not_read_sure_as_a_zero():
    """Kind F: the top loop is kept in the redrawn strokes, but closes at 28x28 under
    the model's blur; the shipped model then leans to 0, so the loop lost must cost
    the answer its sureness unless the probability clears the calibrated higher bar."""
    from core.cli import classify_record
    from tests.kinds import SMALL_LOOPS

    model = load_model("ten-class")
    image = render_strokes(SMALL_LOOPS[8][0], pen=6)
    result = pp.preprocess(image)
    assert result.loops == 2
    assert lost_loop(result.loops, model.transform(result.pixels[None])[0])
    bar = sure_probability(model.card, "lost_loop_probability")
    assert bar is not None and bar > sure_probability(model.card)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    record = classify_record(model, buffer.getvalue())
    assert record["label"] == 8 or not record["sure"]


def test_a_round_zero_keeps_its_loop_and_the_rule_is_the_calibrated_bar():
    model = load_model("ten-class")
    result = pp.preprocess(render_strokes(DIGIT_STROKES[0][0], pen=16))
    assert result.loops == 1
    assert not lost_loop(result.loops, model.transform(result.pixels[None])[0])
    names = [str(d) for d in range(10)]
    probs = np.full(10, 0.01)
    probs[8] = 0.91 - 0.01
    assert judge(names, probs, 0.1, 0.8, loop_lost=True, loop_threshold=0.95).why == LOST_LOOP
    assert judge(names, probs, 0.1, 0.8, loop_lost=True, loop_threshold=0.85).sure
    assert judge(names, probs, 0.1, 0.8, loop_lost=True, loop_threshold=None).sure
    assert judge(names, probs, 0.1, 0.8, loop_lost=False, loop_threshold=0.95).sure


@pytest.mark.parametrize("index", [36, 42, 47])
def test_a_faint_small_digit_on_blotchy_paper_is_read(index):
    """Kind B: blotchy paper made the automatic polarity say light ink, the
    lightest-pixel reduction erased the strokes and the photo read blank (these
    variants did, before the dark-ink retry)."""
    from core.cli import classify_record
    from tests.kinds import make_variant

    name, data, label, _ = make_variant("B", index, seed=0)
    record = classify_record(load_model("ten-class"), data)
    assert not record["blank"] and record["label"] == label, f"{name}: {record}"


@pytest.mark.parametrize(("index", "seed"), [(17, 7)])
def test_the_dark_ink_retry_still_has_inputs_whose_polarity_tips(index, seed):
    # (variant 36's no longer tips, since thin strokes are weighed against the local
    # contrast, nor do 42's and 47's, since light ink must settle at a stroke's width
    # and no clear vote means dark ink: this one's border, all shadow, still says light)
    from tests.kinds import make_variant

    name, data, _, _ = make_variant("B", index, seed=seed)
    tips = [
        pp.photo_polarity(pp.reduce_gray(pp.composite_alpha(*pp.to_grayscale(pp.load(*how)))))
        for how in ((data, None), (data, None, pp.DETAIL_SIDE))
    ]
    assert any(tips), f"{name}: the polarity no longer tips at either reading"


def test_thickening_does_not_close_a_gap_between_strokes_into_a_loop():
    # A thin C whose mouth is narrower than what thickening adds on both sides: grown
    # in full it would close into an O; it grows half as much and stays a C.
    rows, cols = np.mgrid[:80, :80]
    radius = np.hypot(rows - 40, cols - 40)
    ring = (np.abs(radius - 30) < 1.0) & ~((cols > 60) & (np.abs(rows - 40) < 5))
    work = ring.astype(np.float32)
    shape = pp.outline(work)
    width = pp.stroke_width(work, shape)
    target = 11.0
    assert pp.count_loops(work) == 0
    full = np.clip(pp.hole_growth(*shape, (target - width) / 2) + 1 - shape[1], 0, 1)
    assert pp.count_loops(full, min_area=pp.LOOP_AREA) == 1  # what it would have done
    strokes = pp.normalise_stroke(work, width, target, shape)
    assert pp.count_loops(strokes, min_area=pp.LOOP_AREA) == 0
    assert pp.stroke_width(strokes) > 1.5 * width  # it still thickened


def test_an_open_four_in_a_photo_is_not_closed_into_a_nine(model):
    path = REALDIGITS / "4_mhw32_17.png"
    if not path.is_file():
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{path} is not there")
    assert read(model, str(path)) == 4


def test_two_loops_read_as_anything_but_eight_are_not_sure():
    names = [str(d) for d in range(10)]
    zero = np.full(10, 0.001)
    zero[0] = 0.991
    assert judge(names, zero, 0.1, 0.8, loops=2).why == TWO_LOOPS
    assert judge(names, zero, 0.1, 0.8, loops=1).sure  # a 0 has one loop
    eight = zero[::-1].copy()  # 8 at 99.1%
    eight[8], eight[9] = eight[9], eight[8]
    assert names[judge(names, eight, 0.1, 0.8, loops=3).best] == "8"
    assert judge(names, eight, 0.1, 0.8, loops=3).sure
    # a pair without 8, or the rest of 8-vs-rest, has no two-loop digit either...
    assert judge(["3", "7"], np.array([0.99, 0.01]), loops=2).why == TWO_LOOPS
    assert judge(["8", "not 8"], np.array([0.01, 0.99]), loops=2).why == TWO_LOOPS
    assert judge(["8", "-1"], np.array([0.01, 0.99]), loops=2).why == TWO_LOOPS
    # ... but the rest of 3-vs-rest holds the 8s (named "-1" by classify --json)
    assert judge(["3", "not 3"], np.array([0.01, 0.99]), loops=2).sure
    assert judge(["3", "-1"], np.array([0.01, 0.99]), loops=2).sure


def test_a_loop_read_as_1_or_7_is_not_sure():
    names = [str(d) for d in range(10)]
    seven = np.full(10, 0.001)
    seven[7] = 0.991
    assert judge(names, seven, 0.1, 0.8, loops=1).why == LOOPED.format("7")
    assert judge(names, seven, 0.1, 0.8, loops=0).sure
    one = np.roll(seven, -6)  # 1 at 99.1%
    assert judge(names, one, 0.1, 0.8, loops=1).why == "the drawing has a loop, as a 1 has not"
    assert judge(names, np.roll(seven, -5), 0.1, 0.8, loops=1).sure  # a 2 may curl
    assert not looped_stroke(1, "not 7") and looped_stroke(2, "1")


@pytest.mark.parametrize(("index", "way"), [(3927, "photo"), (8184, "canvas"), (3820, "photo")])
def test_nines_with_a_small_head_read_as_7_are_not_sure(mnist_test, tmp_path, index, way):
    """MNIST test 9s brought as the eval brings them (bench/eval_real.py's handwriting
    set): their small heads kept a loop, and the model read a sure 7 (2026-12-03)."""
    from bench.eval_real import _write_handwriting
    from core.cli import classify_record

    row = _write_handwriting((mnist_test.images[index], 9, index, way, str(tmp_path)))
    record = classify_record(load_model("ten-class"), (tmp_path / row["file"]).read_bytes())
    assert mnist_test.labels[index] == 9
    assert record["label"] == 9 or not record["sure"], record


# (the top loop's radius, of the canvas; the pen, px)
@pytest.mark.parametrize(
    ("top", "pen"),
    [(0.07, 6), (0.07, 12), (0.07, 20), (0.07, 24), (0.1, 6), (0.1, 20), (0.13, 6), (0.13, 20)],
)
def test_an_eight_of_a_tiny_loop_on_a_round_one_is_never_shown_sure_as_another_digit(top, pen):
    """Two rings, the top one small and the bottom one as wide as a 0: the model of
    2026-12-01 read them all as 0, most at 97-100%. The loops are there in what the
    model sees (no loop is lost); it is the linear model that reads 0."""
    from core.cli import classify_record

    bottom = 0.8 - 2 * top
    strokes = [
        arc(0.5, 0.1 + top, top, top, -90, 270),
        arc(0.5, 0.9 - bottom / 2, bottom / 2 * 0.85, bottom / 2, -90, 270),
    ]
    image = render_strokes(strokes, pen=pen)
    # With a 20 px pen the top loop is a 20 px hole that thickening closes: it is
    # counted as drawn (once it was not, and the 0 was sure at 99.9%).
    assert pp.preprocess(image).loops == 2
    record = classify_record(load_model("ten-class"), image)
    assert record["label"] == 8 or not record["sure"], record
    if top < 0.13:  # read 0 at 97% or more: only the two loops make it unsure
        assert record["why"] == TWO_LOOPS, record
