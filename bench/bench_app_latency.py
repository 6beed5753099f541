"""Latency of the Draw page against a bare canvas + metric app, in headless Chromium.

Run from the repository root (takes about two minutes)::

    .venv/bin/python -m bench.bench_app_latency [--digits 30]

Starts the app (``serve.py``, as the README runs it) and ``bench/bare_app.py`` side
by side, opens each in its own browser context, then for every digit: presses Clear,
draws the digit's strokes with the mouse and times, in the page
(``performance.now()``), from the mouse-up of the last stroke to

* ``prediction``: the ``Prediction`` metric showing a value, and
* ``complete``: the rerun being over (``data-test-script-state`` back to
  ``notRunning``) and, on the full page, every chart and image painted.

The canvas waits ~200 ms after a stroke before it sends the drawing; that floor
is in both apps. Prints medians, p95 and the full / bare ratios, plus the time
from navigation to a canvas ready to draw on (first session after server start,
then a warm one; the browser itself is started and warmed on a blank page
first). Prints figures, asserts nothing. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_streamlit,
    stop,
    wait_until_up,
)
from tests.browser.helpers import (
    JS_PREDICTION,
    JS_RENDERED,
    clear,
    draw,
    open_app,
    prediction,
    wait_idle,
)
from tests.strokes import DIGIT_STROKES

REPO = Path(__file__).resolve().parent.parent

VIEWPORT = {"width": 1280, "height": 1800}

# Installed before the last stroke: timestamps, in the page, of what follows its mouse-up.
JS_ARM = f"""() => {{
    const app = document.querySelector('[data-testid="stApp"]');
    const prediction = {JS_PREDICTION};
    const rendered = {JS_RENDERED};
    const t = {{up: null, prediction: null, idle: null, complete: null, ran: false}};
    window.__latency = t;
    document.addEventListener('mouseup', () => {{ t.up = performance.now(); }},
                              {{capture: true, once: true}});
    const check = (records) => {{
        if (t.up === null || t.complete !== null) return;
        const now = performance.now();
        // A run can start and end between two callbacks: its records still say so.
        for (const r of records || []) {{
            if (r.attributeName === 'data-test-script-state' && r.oldValue === 'running') {{
                t.ran = true;
            }}
        }}
        if (t.prediction === null && prediction()) t.prediction = now;
        const state = app.getAttribute('data-test-script-state');
        if (state === 'running') t.ran = true;
        if (t.idle === null && t.ran && state === 'notRunning' && t.prediction !== null) {{
            t.idle = now;
        }}
        if (t.idle !== null && rendered()) {{ t.complete = now; observer.disconnect(); }}
    }};
    const observer = new MutationObserver(check);
    observer.observe(document.body, {{subtree: true, childList: true, attributes: true,
                                      attributeOldValue: true, characterData: true}});
    const poll = () => {{ check(); if (t.complete === null) requestAnimationFrame(poll); }};
    requestAnimationFrame(poll);
}}"""


def digits(count: int) -> list[tuple[int, list]]:
    variants = [(d, v) for v in range(3) for d in range(10) if v < len(DIGIT_STROKES[d])]
    return [(d, DIGIT_STROKES[d][v]) for d, v in (variants * count)[:count]]


def measure(page, strokes) -> dict[str, float] | None:
    """One digit from a cleared canvas; None (and a note) if it never completed."""
    clear(page)
    if len(strokes) > 1:
        draw(page, strokes[:-1])
        page.wait_for_timeout(350)  # let the canvas send the earlier strokes
        wait_idle(page)
    page.evaluate(JS_ARM)
    draw(page, strokes[-1:])
    try:
        page.wait_for_function("() => window.__latency.complete !== null", timeout=20_000)
    except PlaywrightTimeout:
        state = page.evaluate("window.__latency")
        print(f"  (a digit did not complete: {state}, prediction {prediction(page)!r})")
        return None
    t = page.evaluate("window.__latency")
    return {
        "prediction": (t["prediction"] - t["up"]) / 1000,
        "complete": (t["complete"] - t["up"]) / 1000,
    }


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(values) * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=30, help="digits drawn in each app")
    args = parser.parse_args()
    apps = {"full": REPO / "serve.py", "bare": REPO / "bench" / "bare_app.py"}
    servers = {}
    try:
        for name, script in apps.items():
            port = free_port()
            servers[name] = (start_streamlit(script, port), port)
        urls = {name: wait_until_up(proc, port) for name, (proc, port) in servers.items()}
        results: dict[str, dict[str, list[float]]] = {}
        loads: dict[str, list[float]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            # Warm the browser process itself first (a user's browser is already running),
            # so that the app measured first does not pay for Chromium's own start-up.
            warm = browser.new_context()
            warm.new_page().goto("about:blank")
            warm.close()
            for name, url in urls.items():
                loads[name] = []
                for _ in range(2):  # the first session after start, then a warm one
                    context = browser.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    loads[name].append(open_app(page, url))
                    context.close()
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                open_app(page, url)
                measure(page, DIGIT_STROKES[7][0])  # warm-up: lazy chunks, caches
                runs = [measure(page, strokes) for _, strokes in digits(args.digits)]
                runs = [run for run in runs if run is not None]
                results[name] = {key: [run[key] for run in runs] for key in runs[0]}
                context.close()
            browser.close()
    finally:
        for process, _ in servers.values():
            stop(process)

    counts = ", ".join(f"{name} {len(results[name]['complete'])}" for name in apps)
    print(f"Draw-to-prediction latency, digits timed: {counts} (from mouse-up of the last stroke)")
    for key in ("prediction", "complete"):
        for name in apps:
            print(f"  {key:10s} {name}: {summary(results[name][key])}")
        ratio = statistics.median(results["full"][key]) / statistics.median(results["bare"][key])
        target = "(target <= 1.2)" if key == "prediction" else "(not the target's measure)"
        print(f"  {key:10s} ratio full / bare (medians): {ratio:.2f}  {target}")
    print("Page load to a canvas ready to draw (server already started)")
    for name in apps:
        first, warm = loads[name]
        print(f"  {name}: first session {first:.2f} s, warm {warm:.2f} s  (target <= 3 s)")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
