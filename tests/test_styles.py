"""1s with a flag, crossed 7s, 8s with a small top loop, 9s with a hooked tail:
ways of writing MNIST's American writers seldom used.

The shipped ten-class model also learns them (``augment="four-styles+print"``,
:func:`core.augment.styles`); without them it read seven in ten flagged 1s as
another digit, an 8 whose top loop is a third of its height as a 0, and a 9
written like a "g" as a 3.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from core import augment
from core.cli import classify_record
from core.explain import model_summary
from core.model import load_model
from core.preprocess import count_loops, preprocess
from core.train import TrainConfig, train
from tests.strokes import DIGIT_STROKES, render_strokes

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "realdigits"
# Published drawings of 1s with a flag that the model of 2026-12-01 01:43 read as 9, 7
# and 4.
FLAGGED_ONES = ["1_caecuse_2.jpg", "1_alexserodio_2.jpg", "1_mzecic_2.png"]
# Published 9s with a tail hooked to the left that the model of 2026-12-01 07:30 read
# as 3 (two) and 8.
HOOKED_NINES = ["9_wikunia_18.png", "9_mzecic_10.png", "9_caecuse_10.jpg"]
# Published digits still misread, none of which may be shown sure as another digit:
STILL_CLOSE = {
    "1_wikunia_2.png": 1,  # a flagged 1 (photo) read as 4; then 1, unsure; an unsure 7
    "7_mhw32_4.jpg": 7,  # a 7 crossed high, a sure 9 at 88%; now an unsure 9
    "8_maikkatko_9.png": 8,  # a round top on a wide flat loop, a sure 2 at 87%: two loops
    "9_wikunia_10.png": 9,  # a hooked 9 (photo), a sure 3 at 86%; now an unsure 3
    "3_mhw32_8.png": 3,  # a wide flat 3 (photo), read as 3 until the hooked 9s, then an
    # unsure 9; an unsure 3 since strokes are drawn at 2.52 px (core.preprocess)
}


@pytest.fixture(scope="module")
def model():
    return load_model("ten-class")


def published(name: str) -> Path:
    """A file of ``realdigits``: skipped when it is missing, but failed in CI, which has it."""
    path = REAL / name
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is not there")
        pytest.skip(f"{path} is not there")
    return path


def test_styles_adds_ones_sevens_eights_and_nines_deterministically(mnist_train):
    images, labels = mnist_train.images[:3000], mnist_train.labels[:3000]
    grown, grown_labels = augment.styles(images, labels, seed=0)
    count = {digit: np.count_nonzero(labels == digit) for digit in (1, 7, 8)}
    count_nines = np.count_nonzero(labels == 9)
    added = grown_labels[len(labels) :]
    assert np.array_equal(grown[: len(images)], images)
    assert np.count_nonzero(added == 1) == round(augment.FLAG_SHARE * count[1])
    assert np.count_nonzero(added == 7) == round(augment.CROSS_SHARE * count[7])
    # a few thick 8s whose loops the redrawing fills are left out
    assert 0.9 * augment.SMALL_TOP_SHARE * count[8] <= np.count_nonzero(added == 8)
    assert np.count_nonzero(added == 8) <= round(augment.SMALL_TOP_SHARE * count[8])
    assert set(added.tolist()) == {1, 7, 8} and grown.dtype == np.uint8
    again, again_labels = augment.styles(images, labels, seed=0)
    assert np.array_equal(again, grown) and np.array_equal(again_labels, grown_labels)
    other, _ = augment.styles(images, labels, seed=1)
    assert not np.array_equal(other, grown)
    # "continental", the model of 2026-12-01 03:59, is the same 1s and 7s, no 8s
    old, old_labels = augment.styles(images, labels, 0, augment.STYLE_SETS["continental"])
    assert np.array_equal(old, grown[: len(old)]) and 8 not in old_labels[len(labels) :]
    # "four-styles" (the shipped recipe's styles) is "styles" followed by 9s with a hooked tail
    four, four_labels = augment.styles(images, labels, 0, augment.STYLE_SETS["four-styles"])
    assert np.array_equal(four[: len(grown)], grown)
    nines = four_labels[len(grown) :]
    assert (nines == 9).all() and nines.size == round(augment.HOOK_SHARE * count_nines)


def test_digits_without_ink_or_stem_are_left_out():
    blank = np.zeros((4, 28, 28), np.uint8)
    assert augment.flag_one(blank[0], np.random.default_rng(0)) is None
    assert augment.cross_seven(blank[0], np.random.default_rng(0)) is None
    assert augment.small_top_loop(blank[0], np.random.default_rng(0)) is None
    assert augment.hook_tail(blank[0], np.random.default_rng(0)) is None
    # twenty of each, so that every share picks some: none can be drawn again
    many = np.zeros((80, 28, 28), np.uint8)
    digits = np.repeat(np.array([1, 7, 8, 9], np.uint8), 20)
    images, labels = augment.styles(many, digits, 0, (1, 7, 8, 9))
    assert images is many and labels is digits
    # a 7 whose row at the bar's height has no ink (its stem broken there) gets no bar
    short = np.zeros((28, 28), np.uint8)
    short[4:7, 6:22] = 255  # the top bar...
    short[21:24, 10:13] = 255  # ... and the stem's foot alone
    assert augment.cross_seven(short, np.random.default_rng(0)) is None
    with pytest.raises(TypeError, match="uint8"):
        augment.styles(blank.astype(np.float32), np.array([1, 7, 8, 8]))


def test_training_with_styles_adds_the_digits_to_the_fit(mnist_train, mnist_test):
    plain = train(TrainConfig(train_size=3_000, max_iter=50), mnist_train, mnist_test)
    more = TrainConfig(train_size=3_000, max_iter=50, augment="styles")
    model = train(more, mnist_train, mnist_test)
    assert model.card["parameters"]["augment"] == "styles"
    assert model.card["train_images"] > plain.card["train_images"] == 3_000
    assert model.card["versions"]["pillow"]


def test_a_flag_goes_up_left_of_the_one_and_a_bar_across_the_seven(mnist_train):
    rng = np.random.default_rng(0)
    one = mnist_train.images[np.flatnonzero(mnist_train.labels == 1)[0]]
    flagged = augment.flag_one(one, rng)
    new = (flagged > augment.INK) & ~(one > augment.INK)
    rows, cols = np.nonzero(new)
    ink_rows, ink_cols = np.nonzero(one > augment.INK)
    assert rows.size > 5
    assert rows.mean() < ink_rows.mean() and cols.mean() < ink_cols.mean()  # upper left
    seven = mnist_train.images[np.flatnonzero(mnist_train.labels == 7)[0]]
    crossed = augment.cross_seven(seven, rng)
    rows, cols = np.nonzero((crossed > augment.INK) & ~(seven > augment.INK))
    ink_rows = np.flatnonzero((seven > augment.INK).any(axis=1))
    stem = np.flatnonzero(seven[int(np.median(rows))] > augment.INK).mean()
    assert rows.size > 3 and np.ptp(rows) < 0.4 * np.ptp(ink_rows)  # a band across...
    assert cols.min() < stem < cols.max()  # ... on both sides of the stem
    assert np.array_equal(np.maximum(crossed, seven), crossed)  # ink is only added


def test_a_nine_gets_a_tail_hooked_to_the_lower_left_as_wide_as_its_strokes(mnist_train):
    nines = mnist_train.images[mnist_train.labels == 9][:40]
    rng = np.random.default_rng(0)
    further = 0
    for nine in nines:
        hooked = augment.hook_tail(nine, rng)
        assert hooked is not None and hooked.dtype == np.uint8
        # brought back to MNIST's 20 px box, centred, drawn with the digit's own pen
        rows, cols = np.nonzero(hooked)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 == 20
        assert 12 <= rows.mean() <= 16 and 12 <= cols.mean() <= 16
        assert augment.pen_width(hooked) == pytest.approx(augment.pen_width(nine), rel=0.35)
        assert len(_loops(hooked)) >= len(_loops(nine)) - 1  # a loop may touch the hook
        rows, cols = np.nonzero(hooked > augment.INK)
        old_rows, old_cols = np.nonzero(nine > augment.INK)
        low = rows > np.percentile(rows, 80)  # the lowest fifth of the ink...
        old_low = old_rows > np.percentile(old_rows, 80)
        # ... now reaches further left of the digit's middle than the straight tail did
        further += cols[low].min() - cols.mean() < old_cols[old_low].min() - old_cols.mean()
    # (not every 9: one whose loop sits low already reaches as far left near its foot)
    assert further >= 0.85 * len(nines)


def _loops(image: np.ndarray) -> list[tuple[float, int]]:
    """(mean row, area) of each loop (enclosed background) of a 28x28 digit, top first."""
    from scipy import ndimage as ndi

    strokes = image > augment.INK
    holes, count = ndi.label(ndi.binary_fill_holes(strokes) & ~strokes)
    found = [np.nonzero(holes == n) for n in range(1, count + 1)]
    return sorted((float(rows.mean()), rows.size) for rows, _ in found)


def test_an_eight_keeps_its_height_and_its_top_loop_shrinks(mnist_train):
    # The top loop shrinks, or closes as in the 8s read as 0, and the bottom one
    # grows: the area the loops enclose lies lower (not always: an 8 whose top loop
    # is open and its bottom one closed keeps them where they were).
    eights = mnist_train.images[mnist_train.labels == 8][:60]
    eights = [eight for eight in eights if count_loops(eight / 255, min_area=2) == 2]
    rng = np.random.default_rng(0)
    made = [(eight, augment.small_top_loop(eight, rng)) for eight in eights]
    made = [(eight, new) for eight, new in made if new is not None]  # None: loops filled
    assert len(made) >= 0.9 * len(eights) >= 25
    lower = shrunk = 0
    for eight, new in made:
        assert new.dtype == np.uint8
        rows = np.flatnonzero((eight > augment.INK).any(axis=1))
        new_rows = np.flatnonzero((new > augment.INK).any(axis=1))
        assert abs(np.ptp(new_rows) - np.ptp(rows)) <= 2  # the same height
        before, after = _loops(eight), _loops(new)
        centre = [
            sum(row * area for row, area in loops) / sum(a for _, a in loops)
            for loops in (before, after)
        ]
        lower += centre[1] > centre[0]
        if len(before) == len(after) == 2:  # both loops still there: the top one is smaller
            assert after[0][1] < before[0][1]
            shrunk += 1
    assert lower >= 0.9 * len(made)
    assert shrunk >= 5


def test_the_shipped_ten_class_model_learned_the_styles(model):
    assert model.card["parameters"]["augment"] == "four-styles+print"  # tests/test_printed.py
    summary = model_summary(model)  # the sidebar says so
    assert "1s with a flag, crossed 7s, 8s with a small top loop, 9s with a hooked tail" in summary
    assert "flag" not in model_summary(load_model("binary-3-7"))  # the pairs did not


@pytest.mark.parametrize("name", FLAGGED_ONES)
def test_published_ones_with_a_flag_read_as_one(model, name):
    record = classify_record(model, str(published(name)))
    assert record["label"] == 1, record


@pytest.mark.parametrize("name", HOOKED_NINES)
def test_published_nines_with_a_hooked_tail_read_as_nine(model, name):
    record = classify_record(model, str(published(name)))
    assert record["label"] == 9, record


@pytest.mark.parametrize("name", sorted(STILL_CLOSE))
def test_published_digits_still_misread_are_never_shown_sure_as_another_digit(model, name):
    record = classify_record(model, str(published(name)))
    assert record["label"] == STILL_CLOSE[name] or not record["sure"], record


@pytest.mark.parametrize("variant", [1, 2])  # flagged, flagged with a base
@pytest.mark.parametrize("pen", [8, 18, 30])
def test_a_one_with_a_flag_drawn_on_the_canvas_reads_as_one(model, variant, pen):
    result = preprocess(render_strokes(DIGIT_STROKES[1][variant], pen=pen))
    assert int(model.predict(result.pixels[None])[0]) == 1


def test_the_thin_eight_of_kind_f_reads_as_eight(model):
    # Kind F's 8, a small loop on a larger one, on the canvas: the model of 2026-12-01
    # 03:59 read it as 0 (71-78%), every one. Across pens and sizes most now read 8,
    # though not sure, and none a sure 0: of these 66 drawings, 56 since strokes are
    # drawn at 2.52 px, 41 at 2.86 (the misses 0 at 41-52%, pen 18 at full size one).
    from tests.kinds import SMALL_LOOPS

    eights = drawings = 0
    for pen in range(3, 25):
        for scale in (1.0, 0.9, 0.6):
            drawing = render_strokes(SMALL_LOOPS[8][0], pen=pen, scale=scale)
            record = classify_record(model, drawing)
            assert record["label"] == 8 or not record["sure"], (pen, scale, record)
            eights += record["label"] == 8
            drawings += 1
    assert eights >= 0.8 * drawings
