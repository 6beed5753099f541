"""A fresh page loads the result view's code before the first drawing (issue 13, item 5).

Streamlit's frontend fetches an element kind's code the first time a page shows
one (Plotly's 4.7 MB chunk, the Arrow table's, the metric's): the Draw page loads
them in a hidden container once the canvas is up and the browser idle, so that
the first drawing fetches nothing. Timings are bench/bench_app_latency.py's.
"""

from __future__ import annotations

import pytest

from tests.browser.helpers import (
    draw,
    open_app,
    wait_idle,
    wait_prediction,
    wait_rendered,
)
from tests.strokes import DIGIT_STROKES
from ui.views import WARM_UP

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 1800}
WARMED = f"""() => {{
    const box = document.querySelector('.st-key-{WARM_UP}');
    return !!box && !!box.querySelector('.main-svg') && !!box.querySelector('table')
        && !!box.querySelector('[data-testid="stMetric"]');
}}"""
SCRIPTS = """() => performance.getEntriesByType('resource')
    .map((e) => e.name.split('?')[0]).filter((name) => name.endsWith('.js'))"""


def test_a_fresh_page_loads_the_result_views_code_before_the_first_drawing(
    browser, app_url, screenshots
):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        open_app(page, app_url)
        page.wait_for_function(WARMED, timeout=60_000)
        wait_rendered(page)
        hidden = page.locator(f".st-key-{WARM_UP}")
        assert hidden.evaluate("(el) => getComputedStyle(el).visibility") == "hidden"
        assert hidden.bounding_box()["height"] == 0  # out of the layout: the page looks the same
        assert not page.get_by_role("button", name="0").count()  # its pills reach no one
        page.screenshot(path=str(screenshots / "draw-fresh-page.png"))

        loaded = set(page.evaluate(SCRIPTS))
        draw(page, DIGIT_STROKES[7][0])
        assert wait_prediction(page, "7") == "7"
        wait_idle(page)
        wait_rendered(page)
        fetched = set(page.evaluate(SCRIPTS)) - loaded
        assert not fetched, f"the first drawing fetched code: {sorted(fetched)}"
        assert not hidden.count()  # gone with the first result
        page.screenshot(path=str(screenshots / "draw-first-drawing.png"))
    finally:
        context.close()
