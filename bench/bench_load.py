"""Many people at once: one Digit Lens server, N browser sessions drawing and uploading.

Run from the repository root::

    .venv/bin/python -m bench.bench_load [--sessions 20] [--seconds 60] [--think 1.0]

Starts ``streamlit run serve.py`` (as the README does) once on a free port, opens
``--sessions`` browser contexts (Playwright, system Chromium, spread over
``--browsers`` processes) and, for ``--seconds``, has every session repeat: Clear,
draw one digit (a single stroke) with the mouse, wait for the Prediction; every
``--upload-every``-th action instead goes to "Upload a photo" and uploads a PNG
photo of a digit. Each drawing and photo is jittered (position, size, noise) so that
no two are the same bytes: the app caches analyses by image bytes, and a cache hit
would flatter the figures. Session ``i`` alternates between two digits of its own;
every result must be the digit that session just drew or uploaded, from a cleared
canvas / fresh upload, so a result that belonged to another session (or a stale one)
shows up as "wrong".

Prints: sessions, actions done, errors (exceptions on the page, error alerts,
timeouts), wrong results, median and p95 from the mouse-up of the stroke to the
Prediction showing (timed in the page with ``performance.now()``), the same from
handing over the file to the Prediction for uploads (timed from Python), the
server's peak RSS (the streamlit process and its children, sampled every 0.5 s
from /proc) and the CPU time used by the server and by everything else.
Targets: zero errors, p95 <= 1 s, server memory <= 500 MB. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_streamlit,
    stop,
    wait_until_up,
)
from tests.browser.helpers import CANVAS, JS_PREDICTION
from tests.processes import cpu_seconds, process_tree
from tests.strokes import DIGIT_STROKES, line, render_strokes

REPO = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT = 30_000  # ms for any one wait; a longer one counts as an error
MARGIN = 0.08  # keep the digit off the canvas edges, as tests/browser/helpers.draw does

# One stroke per digit, so that the first Prediction after a Clear is the answer.
STROKES = {d: next(v for v in DIGIT_STROKES[d] if len(v) == 1)[0] for d in range(10) if d != 4}
STROKES[4] = line((0.34, 0.1), (0.27, 0.58), (0.62, 0.58), (0.64, 0.12), (0.64, 0.9))

JS_IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning';
}"""
# Installed just before the stroke: when the mouse-up happens, and when a Prediction shows.
JS_ARM = f"""() => {{
    const prediction = {JS_PREDICTION};
    const t = {{up: null, shown: null, value: null}};
    window.__load = t;
    document.addEventListener('mouseup', () => {{ t.up = performance.now(); }},
                              {{capture: true, once: true}});
    const check = () => {{
        if (t.up === null || t.shown !== null) return;
        const value = prediction();
        if (value) {{ t.shown = performance.now(); t.value = value; observer.disconnect(); }}
    }};
    // Event-driven only: twenty pages polling every frame would load the browser.
    const observer = new MutationObserver(check);
    observer.observe(document.body, {{subtree: true, childList: true, characterData: true}});
}}"""
POLL = 100  # ms between checks of Playwright's waits (its default, every frame, costs CPU)
EXCEPTION = '[data-testid="stException"]'
ALERT_ERROR = '[data-testid="stAlertContentError"]'


@dataclass
class Tally:
    draw_seconds: list[float] = field(default_factory=list)
    upload_seconds: list[float] = field(default_factory=list)
    wire_seconds: list[float] = field(default_factory=list)  # see WireClock
    actions: int = 0
    errors: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- server memory and CPU


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as handle:
                for row in handle:
                    if row.startswith("VmRSS:"):
                        total += int(row.split()[1])
        except OSError:
            pass
    return total / 1024


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class MemorySampler(threading.Thread):
    """VmRSS of the server's process tree every ``interval`` seconds; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append((time.monotonic(), rss_mb(process_tree(self.pid))))
            self.halt.wait(self.interval)

    def peak(self, since: float = 0.0) -> float:
        return max((mb for t, mb in self.samples if t >= since), default=float("nan"))


# ---------------------------------------------------------------- what a session does


def jittered(stroke, rng: random.Random):
    """The stroke moved and resized a little: never the same drawing twice."""
    scale, dx, dy = rng.uniform(0.8, 1.0), rng.uniform(-0.06, 0.06), rng.uniform(-0.05, 0.05)
    return [(0.5 + (x - 0.5) * scale + dx, 0.5 + (y - 0.5) * scale + dy) for x, y in stroke]


def photo_png(digit: int, rng: random.Random) -> bytes:
    """A photo of the digit on paper: dark pen on light, uneven light, noise; PNG."""
    grey = render_strokes(
        [STROKES[digit]],
        size=360,
        pen=rng.uniform(10, 16),
        ink=35,
        background=220,
        mode="L",
        scale=rng.uniform(0.65, 0.8),
        offset=(rng.uniform(-20, 20), rng.uniform(-20, 20)),
    )
    light = np.linspace(-15, 10, 360, dtype=np.float32)[:, None]
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 2.5, grey.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(grey + light + noise, 0, 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


async def canvas_box(page) -> dict:
    canvas = page.locator(CANVAS).first
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    if box is None:
        raise RuntimeError("the drawing canvas is not on the page")
    return box


async def wait_idle(page) -> None:
    await page.wait_for_function(JS_IDLE, timeout=TIMEOUT, polling=POLL)


async def page_error(page) -> str | None:
    """The first line of an exception or error alert shown on the page, if any."""
    for selector in (EXCEPTION, ALERT_ERROR):
        found = page.locator(selector)
        if await found.count():
            text = (await found.first.inner_text()).strip()
            return f"{selector}: {text.splitlines()[0] if text else '(no text)'}"
    return None


class WireClock:
    """The server's part of a result, timed on the wire by Chromium's network stack.

    From the first WebSocket frame the page sends after :meth:`arm` (the rerun that
    carries the stroke or the uploaded file) to the first frame it receives holding the
    ``Prediction`` metric, both stamped by Chromium's network layer (CDP). The page's
    own work (React, Plotly, painting) is not in it; on this one machine that work,
    done by the 20 pages at once, is what the in-page figures mostly measure.
    """

    def __init__(self) -> None:
        self.armed = False
        self.sent: float | None = None
        self.received: float | None = None

    async def attach(self, context, page) -> None:
        cdp = await context.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", self._sent)
        cdp.on("Network.webSocketFrameReceived", self._received)
        await cdp.send("Network.enable")

    def arm(self) -> None:
        self.armed, self.sent, self.received = True, None, None

    def seconds(self) -> float | None:
        if self.sent is None or self.received is None:
            return None
        return self.received - self.sent

    def _sent(self, event: dict) -> None:
        if self.armed and self.sent is None:
            self.sent = event["timestamp"]

    def _received(self, event: dict) -> None:
        if self.sent is None or self.received is not None:
            return
        frame = event["response"]
        payload = frame["payloadData"]
        data = base64.b64decode(payload) if frame.get("opcode") == 2 else payload.encode()
        if b"Prediction" in data:  # the metric's label, in the protobuf of its delta
            self.received, self.armed = event["timestamp"], False


class Session:
    def __init__(self, index: int, page, url: str, tally: Tally, upload_every: int):
        self.index, self.page, self.url, self.tally = index, page, url, tally
        self.wire = WireClock()
        self.digits = (index % 10, (index + 3 + index // 10) % 10)
        self.rng = random.Random(index)
        self.upload_every = upload_every
        self.on_draw_page = True
        self.count = 0

    async def open(self) -> float:
        start = time.perf_counter()
        await self.page.goto(self.url)
        await self.page.locator(CANVAS).first.wait_for(state="visible", timeout=TIMEOUT)
        await wait_idle(self.page)
        return time.perf_counter() - start

    async def run(self, deadline: float, think: float) -> None:
        while time.monotonic() < deadline:
            digit = self.digits[self.count % 2]
            upload = self.upload_every > 0 and self.count % self.upload_every == 1
            name = f"session {self.index} action {self.count} ({'upload' if upload else 'draw'})"
            self.count += 1
            try:
                if upload:
                    value, seconds = await self.upload(digit)
                    self.tally.upload_seconds.append(seconds)
                else:
                    value, seconds = await self.draw(digit)
                    self.tally.draw_seconds.append(seconds)
                if (wire := self.wire.seconds()) is not None:
                    self.tally.wire_seconds.append(wire)
                self.tally.actions += 1
                if value.rstrip("?") != str(digit):
                    self.tally.wrong.append(f"{name}: drew {digit}, shown {value!r}")
                if error := await page_error(self.page):
                    self.tally.errors.append(f"{name}: {error}")
            except PlaywrightTimeout as timeout:
                error = await page_error(self.page)
                first = str(timeout).splitlines()[0]
                self.tally.errors.append(
                    f"{name}: timeout ({first})" + (f"; {error}" if error else "")
                )
                await self.recover()
            except Exception as failure:  # a bench reports, it does not stop
                self.tally.errors.append(f"{name}: {type(failure).__name__}: {failure}")
                await self.recover()
            if think:
                await asyncio.sleep(self.rng.uniform(0.5, 1.5) * think)

    async def recover(self) -> None:
        """After a failure: reload the app, so the next action starts clean."""
        try:
            await self.open()
            self.on_draw_page = True
        except Exception as failure:
            self.tally.errors.append(f"session {self.index}: reload failed: {failure}")

    async def clear(self) -> None:
        page = self.page
        if not self.on_draw_page:
            await page.get_by_role("link", name="Draw").click()
            await page.locator(CANVAS).first.wait_for(state="visible", timeout=TIMEOUT)
            await wait_idle(page)
            self.on_draw_page = True
        old = await page.locator(CANVAS).first.element_handle()
        await page.get_by_role("button", name="Clear").click()
        await page.wait_for_function(
            "(el) => !el.isConnected", arg=old, timeout=TIMEOUT, polling=POLL
        )
        await page.locator(CANVAS).first.wait_for(state="visible", timeout=TIMEOUT)
        await wait_idle(page)
        await page.wait_for_function(f"() => !({JS_PREDICTION})()", timeout=TIMEOUT, polling=POLL)

    async def draw(self, digit: int) -> tuple[str, float]:
        """Clear, draw the digit in one stroke; the Prediction and seconds from mouse-up."""
        page = self.page
        await self.clear()
        box = await canvas_box(page)
        span_x, span_y = box["width"] * (1 - 2 * MARGIN), box["height"] * (1 - 2 * MARGIN)
        points = [
            (
                box["x"] + box["width"] * MARGIN + x * span_x,
                box["y"] + box["height"] * MARGIN + y * span_y,
            )
            for x, y in jittered(STROKES[digit], self.rng)
        ]
        await page.evaluate(JS_ARM)
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for point in points[1:]:
            await page.mouse.move(*point, steps=2)
        self.wire.arm()
        await page.mouse.up()
        await page.wait_for_function(
            "() => window.__load.shown !== null", timeout=TIMEOUT, polling=POLL
        )
        t = await page.evaluate("window.__load")
        return t["value"], (t["shown"] - t["up"]) / 1000

    async def upload(self, digit: int) -> tuple[str, float]:
        """Go to Upload a photo and upload a fresh PNG; the Prediction and seconds taken."""
        page = self.page
        await page.get_by_role("link", name="Upload a photo").click()
        self.on_draw_page = False
        uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        await uploader.wait_for(state="attached", timeout=TIMEOUT)
        await wait_idle(page)
        await page.wait_for_function(f"() => !({JS_PREDICTION})()", timeout=TIMEOUT, polling=POLL)
        data = photo_png(digit, self.rng)
        name = f"s{self.index}-{self.count}-digit.png"
        start = time.perf_counter()
        self.wire.arm()
        await uploader.set_input_files(
            files=[{"name": name, "mimeType": "image/png", "buffer": data}]
        )
        await page.wait_for_function(f"() => !!({JS_PREDICTION})()", timeout=TIMEOUT, polling=POLL)
        seconds = time.perf_counter() - start
        return await page.evaluate(JS_PREDICTION), seconds


# ---------------------------------------------------------------- the run


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"n {len(values)}, median {statistics.median(values) * 1000:.0f} ms, "
        f"p95 {percentile(values, 0.95) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
    )


async def drive(args, url: str, tally: Tally, server_pid: int, sampler: MemorySampler) -> dict:
    report: dict = {}
    async with async_playwright() as playwright:
        browsers = [
            await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            for _ in range(args.browsers)
        ]
        sessions = []
        for index in range(args.sessions):
            context = await browsers[index % len(browsers)].new_context(viewport=VIEWPORT)
            page = await context.new_page()
            session = Session(index, page, url, tally, args.upload_every)
            await session.wire.attach(context, page)
            sessions.append(session)
        opening = asyncio.Semaphore(4)  # a crowd arriving, four pages loading at a time

        async def open_one(session: Session) -> float:
            async with opening:
                return await session.open()

        started = time.monotonic()
        report["open_seconds"] = await asyncio.gather(*(open_one(s) for s in sessions))
        report["open_wall"] = time.monotonic() - started
        report["rss_after_open"] = rss_mb(process_tree(server_pid))

        cpu_server, cpu_machine = cpu_seconds(process_tree(server_pid)), machine_cpu_seconds()
        run_start = time.monotonic()
        deadline = run_start + args.seconds
        await asyncio.gather(*(s.run(deadline, args.think) for s in sessions))
        report["run_wall"] = time.monotonic() - run_start
        report["cpu_server"] = cpu_seconds(process_tree(server_pid)) - cpu_server
        report["cpu_machine"] = machine_cpu_seconds() - cpu_machine
        report["peak_run"] = sampler.peak(since=run_start)
        for browser in browsers:
            await browser.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions at once")
    parser.add_argument("--seconds", type=float, default=60, help="how long they keep going")
    parser.add_argument("--browsers", type=int, default=1, help="Chromium processes to use")
    parser.add_argument(
        "--upload-every", type=int, default=2, help="every Nth action is an upload (0: never)"
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between a session's actions, s"
    )
    parser.add_argument(
        "--same-priority",
        action="store_true",
        help="run the browsers at the server's CPU priority (default: niced to 19)",
    )
    args = parser.parse_args()

    port = free_port()
    # No file watcher: as deployed. With it, an edit to any module while the bench runs
    # makes Streamlit unload modules under the feet of the sessions' imports.
    server = start_streamlit(REPO / "serve.py", port)
    sampler = MemorySampler(server.pid)
    tally = Tally()
    try:
        url = wait_until_up(server, port)
        idle_rss = rss_mb(process_tree(server.pid))
        sampler.start()  # before nicing: its thread keeps the normal priority
        if not args.same_priority:
            # Users' browsers run on their own machines; here 20 Chromium pages share the
            # server's 2 cores and would starve it. Niced, this process and everything it
            # starts from now on (Playwright, Chromium) yield the CPU to the server.
            os.nice(19)
        report = asyncio.run(drive(args, url, tally, server.pid, sampler))
    finally:
        sampler.halt.set()
        stop(server)

    cores = os.cpu_count() or 1
    actions = tally.actions + len(tally.errors)
    print(
        f"Load: {args.sessions} sessions in {args.browsers} Chromium, {args.seconds:.0f} s, "
        f"upload every {args.upload_every} actions, think {args.think:.1f} s, {cores} cores, "
        f"browsers {'at the same CPU priority as' if args.same_priority else 'niced below'} "
        "the server"
    )
    opened = report["open_seconds"]
    print(
        f"  pages opened: {len(opened)} in {report['open_wall']:.1f} s "
        f"(each: median {statistics.median(opened):.1f} s, max {max(opened):.1f} s)"
    )
    print(
        f"  actions: {actions} attempted, {tally.actions} completed "
        f"({len(tally.draw_seconds)} drawings, {len(tally.upload_seconds)} uploads) "
        f"in {report['run_wall']:.0f} s = {tally.actions / report['run_wall']:.1f}/s"
    )
    print(f"  errors: {len(tally.errors)}  (target 0)")
    for error in tally.errors[:10]:
        print(f"    {error}")
    print(f"  wrong results (not the session's own digit): {len(tally.wrong)}")
    for wrong in tally.wrong[:10]:
        print(f"    {wrong}")
    print(f"  mouse-up to Prediction: {figures(tally.draw_seconds)}  (target p95 <= 1000 ms)")
    print(f"  upload to Prediction:   {figures(tally.upload_seconds)}")
    print(
        f"  on the wire, rerun sent to Prediction received (both kinds): "
        f"{figures(tally.wire_seconds)}"
    )
    print(
        f"  server RSS: idle {idle_rss:.0f} MB, after opening {report['rss_after_open']:.0f} MB, "
        f"peak {sampler.peak():.0f} MB (during the run {report['peak_run']:.0f} MB)  "
        f"(target <= 500 MB)"
    )
    busy = report["cpu_machine"] / (report["run_wall"] * cores)
    server_share = report["cpu_server"] / max(report["cpu_machine"], 1e-9)
    print(
        f"  CPU during the run: machine {busy:.0%} busy of {cores} cores; the server used "
        f"{report['cpu_server']:.0f} s of {report['cpu_machine']:.0f} busy CPU-seconds "
        f"({server_share:.0%}), the rest is Chromium, Playwright and this script"
    )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
