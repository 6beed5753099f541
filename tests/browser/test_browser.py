"""Digit Lens in headless Chromium: draw with the mouse, upload photos, switch models.

Run with ``.venv/bin/pytest -m browser tests/browser``. Screenshots go to
``artifacts/screenshots/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.browser.helpers import (
    CANVAS,
    canvas_box,
    clear,
    draw,
    draw_touch,
    open_app,
    open_page,
    prediction,
    wait_idle,
    wait_prediction,
    wait_rendered,
)
from tests.strokes import DIGIT_STROKES, line, render_strokes

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
TALL = {"width": 1280, "height": 2100}  # Streamlit scrolls inside the page: a tall window
PHONE = {"width": 390, "height": 844}
HINT = "Draw a digit in the black box"


@pytest.fixture(scope="module")
def page(browser, app_url):
    """One desktop page for the drawing tests (Clear between digits)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    open_app(page, app_url)
    yield page
    context.close()


def fresh_canvas(page) -> None:
    """Clear the canvas and check that the hint replaces the prediction."""
    clear(page)
    page.get_by_text(HINT).wait_for(timeout=10_000)
    assert prediction(page) is None


def drawn(page, strokes, expected: str, shot: str | None = None, screenshots=None) -> str:
    fresh_canvas(page)
    draw(page, strokes)
    try:
        value = wait_prediction(page, expected, timeout=10_000)
    except Exception:  # keep the evidence: the stages show what the model saw
        wait_idle(page)
        value = prediction(page)
        if screenshots is not None:
            page.screenshot(path=str(screenshots / f"misread-{expected}-as-{value}.png"))
    if shot and screenshots is not None:
        wait_rendered(page)
        page.screenshot(path=str(screenshots / shot))
    return value


def test_vertical_bar_reads_1(page, screenshots):
    value = drawn(page, [line((0.5, 0.05), (0.5, 0.95))], "1", "draw-1.png", screenshots)
    assert value == "1"


@pytest.mark.parametrize(("digit", "variant"), [(0, 0), (2, 0), (3, 0), (4, 0), (7, 0), (8, 1)])
def test_drawn_digit_is_read(page, screenshots, digit, variant):
    value = drawn(page, DIGIT_STROKES[digit][variant], str(digit), None, screenshots)
    assert value == str(digit), f"drew {digit} (variant {variant}), the app read {value}"


def test_a_dot_says_it_is_too_small_for_the_pen(page, screenshots):
    fresh_canvas(page)
    draw(page, [line((0.5, 0.5), (0.52, 0.51))])  # one press of the default 18 px pen
    message = page.get_by_text("That looks like a dot or a blob, not a digit.")
    message.wait_for(timeout=10_000)
    assert "Too small for the pen: draw the digit bigger" in message.inner_text()
    assert prediction(page) is None
    page.screenshot(path=str(screenshots / "draw-dot.png"))


def test_clear_shows_the_hint_again(page):
    draw(page, DIGIT_STROKES[5][1])
    wait_prediction(page)
    fresh_canvas(page)
    assert page.get_by_text(HINT).is_visible()


def test_canvas_toolbar_undo_and_reset_are_visible(page):
    toolbar_buttons = page.locator(f"{CANVAS} >> xpath=ancestor::*[4]//button")
    visible = [b for b in toolbar_buttons.all() if b.is_visible()]
    assert len(visible) >= 3, "the canvas toolbar (undo, redo, reset) should be visible"


def test_undo_takes_back_the_last_stroke_and_redo_restores_it(page):
    fresh_canvas(page)
    draw(page, [line((0.5, 0.05), (0.5, 0.95))])
    wait_prediction(page, "1")
    undo = page.get_by_role("button", name="Undo", exact=True)
    undo.click()  # the only stroke: back to an empty canvas and the hint
    page.get_by_text(HINT).wait_for(timeout=10_000)
    wait_idle(page)
    assert prediction(page) is None
    page.get_by_role("button", name="Redo", exact=True).click()
    assert wait_prediction(page, "1") == "1"


def test_hover_on_a_map_shows_pixel_weight_and_contribution(page, screenshots):
    fresh_canvas(page)
    draw(page, DIGIT_STROKES[7][0])
    wait_prediction(page, "7")
    wait_idle(page)
    maps = page.locator(".stPlotlyChart").nth(2)  # the bars, the weights, the maps
    maps.scroll_into_view_if_needed()
    plot = maps.locator(".nsewdrag").first
    box = plot.bounding_box()
    # The middle of the first tile (digit 0): five 28-px tiles a row, two rows.
    page.mouse.move(box["x"] + box["width"] * 0.09, box["y"] + box["height"] * 0.23)
    label = page.locator(".hoverlayer .hovertext").first
    label.wait_for(timeout=5_000)
    text = label.text_content()
    page.screenshot(path=str(screenshots / "hover.png"))
    assert "pixel" in text and "weight" in text and "contribution" in text, text


def _sidebar_select(page, label: str, option: str, model: str) -> None:
    """Pick a digit in the sidebar and wait until the named model is the active one."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    sidebar.get_by_text(f"{model}:", exact=False).wait_for(timeout=10_000)
    wait_idle(page)


def test_binary_pair_and_back(browser, app_url, screenshots):
    context = browser.new_context(viewport=TALL)
    page = context.new_page()
    try:
        open_app(page, app_url)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("Two digits").click()
        sidebar.get_by_text("binary-0-1:").wait_for(timeout=10_000)  # 0 vs 1 by default
        _sidebar_select(page, "First digit", "3", "binary-1-3")  # the second moves off 3
        _sidebar_select(page, "Second digit", "7", "binary-3-7")
        draw(page, DIGIT_STROKES[7][0])
        assert wait_prediction(page, "7") == "7"
        wait_idle(page)
        assert page.get_by_text("only knows 3 and 7").is_visible()
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "binary-3-7.png"))
        # A digit outside the pair is still read as one of the two.
        fresh_canvas(page)
        draw(page, DIGIT_STROKES[0][0])
        assert wait_prediction(page) in {"3", "7", "3?", "7?"}

        sidebar.get_by_text("Ten digits (0-9)").click()
        sidebar.get_by_text("ten-class:").wait_for(timeout=10_000)
        assert wait_prediction(page, "0") == "0"  # same drawing, now with ten classes
    finally:
        context.close()


def photo_bytes(digit: int, fmt: str, variant: int = 0) -> bytes:
    """A photo of a digit: dark pen on light, unevenly lit, slightly noisy paper."""
    strokes = DIGIT_STROKES[digit][variant]
    grey = render_strokes(strokes, size=480, pen=18, ink=35, background=220, mode="L", scale=0.75)
    light = np.linspace(-15, 10, 480, dtype=np.float32)[:, None]
    noise = np.random.default_rng(digit).normal(0, 2.5, grey.shape)
    grey = np.clip(grey + light + noise, 0, 255).astype(np.uint8)
    rgb = np.dstack([grey, grey, np.clip(grey.astype(int) - 8, 0, 255).astype(np.uint8)])
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def test_upload_png_and_jpeg_photos(browser, app_url, screenshots):
    context = browser.new_context(viewport=TALL)
    page = context.new_page()
    try:
        open_app(page, app_url)
        open_page(page, "Upload a photo", "upload")
        uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        uploader.wait_for(state="attached")
        for digit, fmt, mime in [(4, "PNG", "image/png"), (7, "JPEG", "image/jpeg")]:
            name = f"photo-{digit}.{fmt.lower()}"
            uploader.set_input_files(
                files=[{"name": name, "mimeType": mime, "buffer": photo_bytes(digit, fmt)}]
            )
            assert wait_prediction(page, str(digit)) == str(digit)
            wait_rendered(page)
            page.screenshot(path=str(screenshots / f"upload-{digit}-{fmt.lower()}.png"))
        uploader.set_input_files(
            files=[{"name": "broken.png", "mimeType": "image/png", "buffer": b"not an image"}]
        )
        error = page.locator('[data-testid="stAlertContentError"]')
        error.wait_for(timeout=10_000)
        assert "broken.png" in error.inner_text()
        assert prediction(page) is None
        page.screenshot(path=str(screenshots / "upload-error.png"))
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_light_and_dark(browser, app_url, screenshots, scheme):
    context = browser.new_context(viewport=TALL, color_scheme=scheme)
    page = context.new_page()
    try:
        open_app(page, app_url)
        draw(page, DIGIT_STROKES[3][0])
        assert wait_prediction(page, "3") == "3"
        wait_idle(page)
        wait_rendered(page)
        page.screenshot(path=str(screenshots / f"page-{scheme}.png"))
    finally:
        context.close()


def test_phone_touch_drawing(browser, app_url, screenshots):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        open_app(page, app_url)
        page.locator(CANVAS).first.scroll_into_view_if_needed()
        box = canvas_box(page)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "canvas cut off"
        draw_touch(page, DIGIT_STROKES[7][0])
        assert wait_prediction(page, "7") == "7"
        wait_idle(page)
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "phone-top.png"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
        # Streamlit scrolls inside its own container: a very tall window shows it all.
        page.set_viewport_size({"width": PHONE["width"], "height": 3600})
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "phone-full.png"))
    finally:
        context.close()
