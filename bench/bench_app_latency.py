"""Latency of the Draw page against a bare canvas + metric app, in headless Chromium.

Run from the repository root (takes about eight minutes)::

    .venv/bin/python -m bench.bench_app_latency [--pages 20] [--later 2]

Starts the app (``serve.py``, as the README runs it) and ``bench/bare_app.py`` side
by side. Then, ``--pages`` times, for each app in turn (alternating which goes
first, so that both see the same load), opens a **fresh page** (a new browser
context: empty cache, new session), waits as a person would until the page has
settled (the canvas ready, every element painted, no main-thread long task and no
file fetched for ``--quiet`` ms), draws a digit on it (the *first drawing*), then
presses Clear and draws ``--later`` more (*later drawings*). ``--quiet 0`` draws as
soon as the canvas is ready instead. The very first
page of each app after the server started is reported apart (it also pays the
server process's first calls). Every digit is one stroke, and is timed, in the
page (``performance.now()``), from the mouse-up of the stroke to

* ``prediction``: the ``Prediction`` metric showing a value, and
* ``complete``: the rerun being over (``data-test-script-state`` back to
  ``notRunning``) and, on the full page, every chart and image painted.

Where the time goes, per drawing: the page's WebSocket messages are timestamped
(an init script wraps ``WebSocket``), which splits ``prediction`` into *send*
(mouse-up to the rerun request leaving: the canvas's own delay), *server* (to the
first message back), *run* (to the last message before the metric showed) and
*paint* (to the metric in the DOM); long tasks on the page's main thread and the
files fetched during the drawing are listed too.

The canvas waits ~200 ms after a stroke before it sends the drawing; that floor
is in both apps. Prints medians, p95 and the full / bare ratios, plus the time
from navigation to the canvas on the page (first session after server start,
then a warm one; the browser itself is started and warmed on a blank page
first) and from navigation to the page settled. Prints figures, asserts nothing.
Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
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
    CANVAS,
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


# Before any page script: timestamps of every WebSocket message, and the main thread's
# long tasks (a lazily loaded chunk being parsed shows up there).
JS_INIT = """(() => {
    window.__ws = [];
    window.__long = [];
    const Original = window.WebSocket;
    class Timed extends Original {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', () => window.__ws.push(['in', performance.now()]));
        }
        send(data) {
            window.__ws.push(['out', performance.now()]);
            return super.send(data);
        }
    }
    window.WebSocket = Timed;
    try {
        new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.__long.push([e.startTime, e.duration]);
        }).observe({type: 'longtask', buffered: true});
    } catch (e) {}
})();"""
# What happened between the mouse-up and the metric: the phases, long tasks, files fetched.
JS_PHASES = """() => {
    const t = window.__latency;
    const after = (kind, since) => window.__ws.find(([k, at]) => k === kind && at >= since);
    const sent = after('out', t.up);
    const reply = sent && after('in', sent[1]);
    const before = window.__ws.filter(([k, at]) => k === 'in' && at <= t.prediction);
    const last = before.length ? before[before.length - 1][1] : null;
    const busy = window.__long.filter(([at]) => at >= t.up && at <= t.prediction)
        .reduce((sum, [, d]) => sum + d, 0);
    const files = performance.getEntriesByType('resource')
        .filter((e) => e.startTime >= t.up && e.startTime <= (t.complete ?? t.prediction))
        .map((e) => [e.name.split('?')[0].split('/').pop(), e.duration, e.encodedBodySize || 0]);
    return {sent: sent ? sent[1] : null, reply: reply ? reply[1] : null, last, busy, files};
}"""

# The page has settled: painted, and nothing on its main thread or the network for `quiet` ms.
JS_SETTLED = f"""(quiet) => {{
    if (!({JS_RENDERED})()) return false;
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const busy = window.__long.reduce((end, [at, d]) => Math.max(end, at + d), 0);
    const fetched = performance.getEntriesByType('resource')
        .reduce((end, e) => Math.max(end, e.responseEnd), 0);
    return performance.now() - Math.max(busy, fetched) >= quiet;
}}"""


def time_to_canvas(page, url: str) -> float:
    """Seconds from navigation to the canvas on the page (then waits for the run to end).

    Not to the end of the run: the Draw page asks for a rerun once the canvas is up
    (the warm-up of ``ui.views.warm_up_elements``), and the page says that run is over
    only after the code it loads is compiled.
    """
    start = time.perf_counter()
    page.goto(url)
    page.locator(CANVAS).first.wait_for(state="visible", timeout=30_000)
    seconds = time.perf_counter() - start
    wait_idle(page)
    return seconds


def settle(page, quiet: float, timeout: float = 60_000) -> float:
    """Wait until the page has settled (:data:`JS_SETTLED`); return s since navigation."""
    if quiet > 0:
        try:
            page.wait_for_function(JS_SETTLED, arg=quiet, timeout=timeout, polling=50)
        except PlaywrightTimeout:
            print("  (the page never settled: drawing anyway)")
    return page.evaluate("performance.now()") / 1000


FIRST_STROKES = [  # one-stroke digits: the first stroke is the whole drawing
    DIGIT_STROKES[d][v] for d, v in [(7, 0), (2, 0), (3, 0), (0, 0), (8, 0), (9, 0), (6, 0)]
]


def digits(count: int) -> list[tuple[int, list]]:
    """``count`` one-stroke digits, every digit and variant in turn.

    One stroke each: after a first stroke of several, the metric is already on the
    page, and the time to it would measure nothing.
    """
    variants = [
        (d, v)
        for v in range(3)
        for d in range(10)
        if v < len(DIGIT_STROKES[d]) and len(DIGIT_STROKES[d][v]) == 1
    ]
    return [(d, DIGIT_STROKES[d][v]) for d, v in (variants * count)[:count]]


def measure(page, strokes, fresh: bool = False) -> dict | None:
    """One one-stroke digit (from a cleared canvas unless ``fresh``); None if it never showed.

    ``fresh``: the page was just opened and nothing was drawn or pressed yet; the digit
    is drawn as it is, with nothing before it.
    """
    if not fresh:
        clear(page)
    page.evaluate(JS_ARM)
    draw(page, strokes)
    try:
        page.wait_for_function("() => window.__latency.prediction !== null", timeout=60_000)
    except PlaywrightTimeout:
        state = page.evaluate("window.__latency")
        print(f"  (no prediction shown: {state}, prediction {prediction(page)!r})")
        return None
    try:  # on a loaded machine a fresh page's charts can take tens of seconds
        page.wait_for_function("() => window.__latency.complete !== null", timeout=COMPLETE_WAIT)
    except PlaywrightTimeout:
        print("  (a digit's page was not complete in time: its prediction is kept)")
    t = page.evaluate("window.__latency")
    phases = page.evaluate(JS_PHASES)
    run = {
        "prediction": (t["prediction"] - t["up"]) / 1000,
        "complete": (t["complete"] - t["up"]) / 1000 if t["complete"] is not None else None,
        "busy": phases["busy"] / 1000,
        "files": phases["files"],
    }
    if phases["sent"] is not None and phases["reply"] is not None and phases["last"] is not None:
        run["send"] = (phases["sent"] - t["up"]) / 1000
        run["server"] = (phases["reply"] - phases["sent"]) / 1000
        run["run"] = (max(phases["last"], phases["reply"]) - phases["reply"]) / 1000
        run["paint"] = (t["prediction"] - max(phases["last"], phases["reply"])) / 1000
    return run


COMPLETE_WAIT = 30_000  # ms
QUIET = 500.0  # ms without long tasks or fetches before the first drawing


def summary(values: list[float | None]) -> str:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return "none completed"
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    missing = f"  ({len(values) - len(ordered)} not complete)" if len(ordered) < len(values) else ""
    return f"median {statistics.median(ordered) * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms{missing}"


def median(runs: list[dict], key: str) -> float:
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else float("nan")


PHASES = ("send", "server", "run", "paint", "busy")


def fresh_page(browser, url: str, first: list, later: list[list]) -> tuple[dict, list[dict]]:
    """Open a fresh page, let it settle, draw ``first`` on it, then each of ``later`` after Clear.

    The first run's ``settled`` is the time from navigation to the page settled.
    """
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(JS_INIT)
    try:
        page = context.new_page()
        open_app(page, url)
        settled = settle(page, QUIET)
        first_run = measure(page, first, fresh=True)
        if first_run is not None:
            first_run["settled"] = settled
        later_runs = [measure(page, strokes) for strokes in later]
        return first_run, [run for run in later_runs if run is not None]
    finally:
        context.close()


def ms(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    return f"{statistics.median(values) * 1000:5.0f}" if values else "    -"


def main() -> None:
    global COMPLETE_WAIT, QUIET
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="fresh pages opened on each app")
    parser.add_argument("--later", type=int, default=2, help="digits drawn after the first")
    parser.add_argument(
        "--complete-wait", type=float, default=30, help="s to wait for a page to be complete"
    )
    parser.add_argument(
        "--quiet",
        type=float,
        default=QUIET,
        help="ms without long tasks or fetches before the first drawing (0: draw at once)",
    )
    args = parser.parse_args()
    COMPLETE_WAIT = args.complete_wait * 1000
    QUIET = args.quiet
    apps = {"full": REPO / "serve.py", "bare": REPO / "bench" / "bare_app.py"}
    servers = {}
    try:
        for name, script in apps.items():
            port = free_port()
            servers[name] = (start_streamlit(script, port), port)
        urls = {name: wait_until_up(proc, port) for name, (proc, port) in servers.items()}
        loads: dict[str, list[float]] = {name: [] for name in apps}
        starts: dict[str, dict] = {}
        firsts: dict[str, list[dict]] = {name: [] for name in apps}
        laters: dict[str, list[dict]] = {name: [] for name in apps}
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
                for _ in range(2):  # the first session after start, then a warm one
                    context = browser.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    loads[name].append(time_to_canvas(page, url))
                    context.close()
                # The first drawing the server process ever sees: its first calls.
                starts[name], _ = fresh_page(browser, url, FIRST_STROKES[0], [])
            later_strokes = [strokes for _, strokes in digits(args.pages * args.later)]
            for index in range(args.pages):
                order = list(apps) if index % 2 == 0 else list(reversed(apps))
                first = FIRST_STROKES[index % len(FIRST_STROKES)]
                later = later_strokes[index * args.later : (index + 1) * args.later]
                shown = []
                for name in order:
                    first_run, later_runs = fresh_page(browser, urls[name], first, later)
                    if first_run is not None:
                        firsts[name].append(first_run)
                        shown.append(f"{name} first {first_run['prediction'] * 1000:.0f} ms")
                    laters[name] += later_runs
                print(f"  page {index + 1}/{args.pages}: {', '.join(shown)}", flush=True)
            browser.close()
    finally:
        for process, _ in servers.values():
            stop(process)
    report(apps, loads, starts, firsts, laters)


def report(apps, loads, starts, firsts, laters) -> None:
    """Print medians, p95, ratios, the phases and the files a first drawing fetched."""
    counts = ", ".join(
        f"{name} {len(firsts[name])} first / {len(laters[name])} later" for name in apps
    )
    print(f"Draw-to-prediction latency on fresh pages, digits timed: {counts}")
    print("(from the mouse-up of the stroke; every page a new browser context and session)")
    for key in ("prediction", "complete"):
        for which, runs in (("first", firsts), ("later", laters)):
            for name in apps:
                values = [run[key] for run in runs[name]]
                print(f"  {key:10s} {which} {name}: {summary(values)}")
        for which, runs in (("first", firsts), ("later", laters)):
            full, bare = median(runs["full"], key), median(runs["bare"], key)
            target = "(target <= 1.2)" if key == "prediction" else "(not the target's measure)"
            print(
                f"  {key:10s} {which} drawing, ratio full / bare (medians): {full / bare:.2f}  "
                f"{target}"
            )
        for name in apps:
            first, later = median(firsts[name], key), median(laters[name], key)
            print(f"  {key:10s} {name}: first / later drawing (medians): {first / later:.2f}")
    print(
        "Where the prediction's time goes (medians, ms): send = mouse-up to the rerun "
        "request, server = to the first reply, run = to the last message before the "
        "metric, paint = to the metric in the DOM; busy = main-thread long tasks"
    )
    print(f"  {'':28s}" + "".join(f"{phase:>8s}" for phase in PHASES))
    for name in apps:
        for which, runs in (
            ("first", firsts[name]),
            ("later", laters[name]),
            ("first after server start", [starts[name]] if starts[name] else []),
        ):
            cells = "".join(f"{ms([r[p] for r in runs if p in r]):>8s}" for p in PHASES)
            print(f"  {name + ' ' + which:28s}{cells}")
    for name in apps:
        fetched: dict[str, list[float]] = {}
        for run in firsts[name]:
            for file, duration, _size in run["files"]:
                fetched.setdefault(file, []).append(duration / 1000)
        common = sorted(fetched.items(), key=lambda item: -len(item[1]))[:8]
        listed = ", ".join(f"{file} ({len(d)}x, {ms(d).strip()} ms)" for file, d in common)
        later_files = sum(len(run["files"]) for run in laters[name])
        print(
            f"  files fetched during a first drawing, {name}: {listed or 'none'}; "
            f"during later drawings: {later_files} in all"
        )
    print("Page load to the canvas on the page (server already started)")
    if os.path.exists("/proc/loadavg"):
        with open("/proc/loadavg") as file:
            print(f"  (load average at the end: {' '.join(file.read().split()[:3])})")
    for name in apps:
        first, warm = loads[name]
        print(f"  {name}: first session {first:.2f} s, warm {warm:.2f} s  (target <= 3 s)")
    print(f"Navigation to the page settled (nothing for {QUIET:.0f} ms), fresh pages")
    for name in apps:
        print(f"  {name}: {summary([run.get('settled') for run in firsts[name]])}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
