"""Real input in the browser: the app says why it is not sure, and reads a hard photo.

Screenshots go to artifacts/screenshots (``real-*.png``).
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser.helpers import open_app, open_page, wait_prediction, wait_rendered
from tests.kinds import make_variant
from tests.strokes import DIGIT_STROKES, render_strokes

pytestmark = pytest.mark.browser
TALL = {"width": 1280, "height": 2100}


def upload(page, name: str, data: bytes, mime: str) -> None:
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.wait_for(state="attached")
    uploader.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_upload_says_why_it_is_not_sure_and_reads_a_photo_on_a_desk(browser, app_url, screenshots):
    context = browser.new_context(viewport=TALL)
    page = context.new_page()
    try:
        open_app(page, app_url)
        open_page(page, "Upload a photo", "upload")
        # A 4 drawn small in a corner with a wide pen: its loop is filled in.
        small = render_strokes(DIGIT_STROKES[4][0], pen=16, scale=0.18)
        buffer = io.BytesIO()
        Image.fromarray(small).save(buffer, "PNG")
        upload(page, "small-4.png", buffer.getvalue(), "image/png")
        value = wait_prediction(page, None, timeout=30_000)
        assert value.endswith("?"), value
        note = page.get_by_text("not sure: too small for the pen")
        note.first.wait_for(timeout=10_000)
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "real-not-sure-small-wide-pen.png"))
        # A photo of a sheet on a dark desk (failure kind A): read right, and sure.
        name, data, label, _ = make_variant("A", 0, 0)
        upload(page, name, data, "image/jpeg")
        assert wait_prediction(page, str(label), timeout=30_000) == str(label)
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "real-sheet-on-desk.png"))
    finally:
        context.close()
