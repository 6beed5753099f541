"""The contrast view in headless Chromium: why the prediction and not the runner-up.

Draws a digit, opens "Why this digit and not another?", and checks that the
logit gap printed equals the difference of the two classes' logits in the
table above it. The screenshot goes to ``artifacts/screenshots/contrast.png``.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import draw, open_app, open_page, wait_prediction, wait_rendered
from tests.strokes import DIGIT_STROKES

pytestmark = pytest.mark.browser

TALL = {"width": 1280, "height": 2600}  # the whole explanation in one screenshot
# The logit table's rows as {digit: logit}: the first and the "logit" columns, by header.
JS_LOGITS = """() => {
    const table = document.querySelector('[data-testid="stTable"] table');
    if (!table) return null;
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.innerText.trim());
    const col = heads.indexOf('logit');
    const out = {};
    for (const row of table.querySelectorAll('tbody tr')) {
        const cells = [...row.querySelectorAll('th, td')].map((c) => c.innerText.trim());
        out[cells[0]] = cells[col];
    }
    return out;
}"""
GAP = re.compile(r"logit gap of (\S+) over (\S+): ([+-][0-9.]+) ([+−]) ([0-9.]+) = ([+-][0-9.]+)")


def test_contrast_gap_equals_the_difference_of_the_two_logits(browser, app_url, screenshots):
    context = browser.new_context(viewport=TALL)
    page = context.new_page()
    try:
        open_app(page, app_url)
        draw(page, DIGIT_STROKES[9][0])
        predicted = wait_prediction(page, "9")
        wait_rendered(page)
        page.get_by_text("Why this digit and not another?").click()
        line = page.get_by_text("logit gap of")
        line.wait_for(timeout=15_000)
        wait_rendered(page)
        match = GAP.search(line.inner_text())
        assert match, line.inner_text()
        a, b, gap = match[1], match[2], float(match[6])
        # intercept difference + Σ map = logit gap, as printed.
        total = float(match[5]) * (1 if match[4] == "+" else -1)
        assert float(match[3]) + total == pytest.approx(gap, abs=0.011)
        assert a == predicted and b != a
        logits = {digit: float(value) for digit, value in page.evaluate(JS_LOGITS).items()}
        assert len(logits) == 10
        # Both sides rounded to 0.01 apart: their difference within one rounding step.
        assert gap == pytest.approx(logits[a] - logits[b], abs=0.011)
        # The runner-up is the second-highest logit (softmax keeps the order).
        ranked = sorted(logits, key=logits.get, reverse=True)
        assert (a, b) == (ranked[0], ranked[1])
        chart = page.locator(".stPlotlyChart").last
        chart.scroll_into_view_if_needed()
        assert chart.locator(".heatmaplayer").count() == 1
        assert chart.locator(".scatterlayer .point").count() > 0  # the marked pixels
        page.screenshot(path=str(screenshots / "contrast.png"), full_page=True)
    finally:
        context.close()


def test_an_example_photo_in_one_click_and_its_contrast(browser, app_url, screenshots):
    context = browser.new_context(viewport=TALL)
    page = context.new_page()
    try:
        open_app(page, app_url)
        open_page(page, "Upload a photo", "upload")
        page.get_by_role("button", name="Chalk").click()
        assert wait_prediction(page, "3", timeout=30_000) == "3"
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "upload-examples.png"))
        page.get_by_text("Why this digit and not another?").click()
        line = page.get_by_text("logit gap of")
        line.wait_for(timeout=15_000)
        assert GAP.search(line.inner_text())[1] == "3"
        wait_rendered(page)
        page.screenshot(path=str(screenshots / "contrast-example-photo.png"), full_page=True)
    finally:
        context.close()
