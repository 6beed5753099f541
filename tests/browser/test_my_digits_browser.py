"""Draw a digit, say what it really was, and find it on the My digits page (Chromium)."""

from __future__ import annotations

import zipfile

import pytest

from core.storage import CSV_FILE, IMAGES_FILE, LABELS_FILE
from tests.browser.helpers import (
    draw,
    open_app,
    open_page,
    wait_idle,
    wait_prediction,
    wait_rendered,
)
from tests.strokes import DIGIT_STROKES

pytestmark = pytest.mark.browser

TALL = {"width": 1280, "height": 2100}


def test_draw_correct_the_label_and_find_it_on_my_digits(browser, app_url, screenshots):
    context = browser.new_context(viewport=TALL)
    page = context.new_page()
    try:
        open_app(page, app_url)
        draw(page, DIGIT_STROKES[7][0])
        assert wait_prediction(page, "7") == "7"
        wait_idle(page)
        # The model read a 7; say it was a 4 (a deliberate correction, to find it by).
        pills = page.get_by_role("radiogroup", name="It was a")
        pills.get_by_role("radio", name="4", exact=True).click()
        page.get_by_text("Saved as a 4 (#").wait_for(timeout=10_000)
        saved = page.get_by_text("Saved as a 4 (#").inner_text()
        number = saved.split("(#", 1)[1].split(")", 1)[0]
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "my-digits-saved.png"))

        open_page(page, "My digits", "my_digits")
        page.get_by_text("4 · 1 saved").wait_for(timeout=15_000)
        thumbnail = page.locator(f'img[alt="#{number} read 7"]')
        thumbnail.wait_for(timeout=10_000)
        assert thumbnail.is_visible()
        assert not page.get_by_text("7 · ").count(), "the digit was saved as a 4, not a 7"
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "my-digits-page.png"))

        # The download is the export: MNIST IDX + CSV in a zip, the 4 in it.
        page.get_by_role("tab", name="Export and import").click()
        with page.expect_download(timeout=15_000) as download:
            page.get_by_role("button", name="Download all").click()
        archive = download.value.path()
        with zipfile.ZipFile(archive) as zipped:
            assert sorted(zipped.namelist()) == sorted([CSV_FILE, IMAGES_FILE, LABELS_FILE])
            rows = zipped.read(CSV_FILE).decode().splitlines()
        assert rows[0] == "id,label,predicted,model,time"
        assert [r.split(",")[:3] for r in rows[1:]] == [[number, "4", "7"]]

        page.get_by_role("tab", name="Accuracy").click()
        page.locator(".stPlotlyChart .main-svg").first.wait_for(timeout=15_000)
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "my-digits-accuracy.png"))
    finally:
        context.close()


@pytest.mark.mnist
def test_adapt_can_be_cancelled(browser, mnist_dir, tmp_path, monkeypatch, screenshots):
    """Adapt runs in the background with a progress bar; Cancel stops it and says so."""
    from core.preprocess import preprocess
    from core.storage import DigitStore, mnist_pixels
    from tests.browser.conftest import REPO, free_port, start_streamlit, stop, wait_until_up
    from tests.personal import personal_set

    database = tmp_path / "digits.sqlite3"
    DigitStore(database).add_many(
        (label, mnist_pixels(preprocess(data).pixels), data, None, "ten-class", None)
        for data, label in personal_set(100)
    )
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    monkeypatch.setenv("DIGIT_LENS_DB", str(database))
    port = free_port()
    process = start_streamlit(REPO / "serve.py", port)
    context = browser.new_context(viewport=TALL)
    try:
        page = context.new_page()
        open_app(page, wait_until_up(process, port))
        open_page(page, "My digits", "my_digits")
        page.get_by_role("tab", name="Adapt").click()
        page.get_by_role("button", name="Adapt").click()
        cancel = page.get_by_role("button", name="Cancel")
        cancel.wait_for(timeout=30_000)
        page.locator(".stProgress").first.wait_for(timeout=30_000)
        cancel.click()
        page.get_by_text("Adapting cancelled.").wait_for(timeout=30_000)
        wait_idle(page)
        assert not page.get_by_text("Adapted, on your digits").count()
        assert not page.get_by_role("button", name="Cancel").count()
        page.screenshot(path=str(screenshots / "my-digits-adapt-cancelled.png"))
    finally:
        context.close()
        stop(process)
