"""Driving Digit Lens in a browser: draw strokes, read the Prediction metric.

Shared by the browser tests and ``bench/bench_app_latency.py``.
"""

from __future__ import annotations

import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout

CANVAS = "canvas.upper-canvas"  # fabric.js draws on the lower canvas, listens on the upper one
# The Prediction metric's value, found by its label as a screen reader would.
JS_PREDICTION = """() => {
    for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
        const label = metric.querySelector('[data-testid="stMetricLabel"]');
        if (label && label.innerText.trim() === 'Prediction') {
            const value = metric.querySelector('[data-testid="stMetricValue"]');
            return value ? value.innerText.trim() : null;
        }
    }
    return null;
}"""
APP = '[data-testid="stApp"]'


def open_app(page, url: str, timeout: float = 30_000) -> float:
    """Load the app and wait until the canvas can be drawn on; return seconds taken."""
    start = time.perf_counter()
    page.goto(url)
    page.locator(CANVAS).first.wait_for(state="visible", timeout=timeout)
    wait_idle(page, timeout)
    return time.perf_counter() - start


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the script has finished its run (Streamlit's running indicator is off)."""
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning';
        }""",
        timeout=timeout,
    )


# Charts, images and tables load their code lazily: a skeleton stands in until then.
JS_RENDERED = """() => {
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const charts = [...document.querySelectorAll('.stPlotlyChart')];
    const images = [...document.querySelectorAll('[data-testid="stImage"] img')];
    return charts.every((c) => c.querySelector('.main-svg'))
        && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def wait_rendered(page, timeout: float = 30_000) -> None:
    """Wait until the run is over and every chart and image on the page has been painted."""
    wait_idle(page, timeout)
    page.wait_for_function(JS_RENDERED, timeout=timeout)


def clear(page, timeout: float = 15_000) -> None:
    """Press the app's Clear button and wait for the fresh, empty canvas."""
    old = page.locator(CANVAS).first.element_handle()
    page.get_by_role("button", name="Clear").click()
    page.wait_for_function("(el) => !el.isConnected", arg=old, timeout=timeout)
    page.locator(CANVAS).first.wait_for(state="visible", timeout=timeout)
    wait_idle(page, timeout)


def canvas_box(page) -> dict:
    """The canvas's box in the viewport, scrolled into view first."""
    canvas = page.locator(CANVAS).first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    if box is None:
        raise AssertionError("the drawing canvas is not on the page")
    return box


def draw(page, strokes, margin: float = 0.08, steps: int = 2) -> None:
    """Replay strokes given in unit coordinates (y down) with the mouse on the canvas.

    ``margin`` keeps the digit off the canvas edges, as a person would.
    """
    at = _mapper(canvas_box(page), margin)
    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(point), steps=steps)
        page.mouse.up()


def _mapper(box: dict, margin: float):
    span_x, span_y = box["width"] * (1 - 2 * margin), box["height"] * (1 - 2 * margin)

    def at(point):
        x, y = point
        return (
            box["x"] + box["width"] * margin + x * span_x,
            box["y"] + box["height"] * margin + y * span_y,
        )

    return at


def draw_touch(page, strokes, margin: float = 0.08) -> None:
    """Replay strokes with a finger (touch events through the DevTools protocol)."""
    at = _mapper(canvas_box(page), margin)
    client = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            for index, point in enumerate(stroke):
                x, y = at(point)
                kind = "touchStart" if index == 0 else "touchMove"
                client.send(
                    "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]}
                )
            client.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        client.detach()


def prediction(page) -> str | None:
    """The Prediction metric's value, or None when the page shows none."""
    return page.evaluate(JS_PREDICTION)


def wait_prediction(page, expected: str | None = None, timeout: float = 15_000) -> str:
    """Wait until a Prediction is shown (and equals ``expected`` if given); return it."""
    page.wait_for_function(
        f"""(expected) => {{
            const text = ({JS_PREDICTION})();
            return expected === null ? !!text : text === expected;
        }}""",
        arg=expected,
        timeout=timeout,
    )
    return prediction(page)


def open_page(page, title: str, path: str, timeout: float = 30_000) -> None:
    """Go to another page by its sidebar link and wait until its script has run.

    A click that lands before the sidebar's navigation is live does nothing (once in
    a full CI run the Upload page never came): the link is clicked again until the
    URL ends with ``path``.
    """
    deadline = time.perf_counter() + timeout / 1000
    while True:
        page.get_by_role("link", name=title).click()
        try:
            page.wait_for_url(f"**/{path}", timeout=5_000)
            break
        except PlaywrightTimeout:  # the click did nothing: try the link again
            if time.perf_counter() > deadline:
                raise
    wait_idle(page, timeout)
