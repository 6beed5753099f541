"""Does the load generator cost the server what a real browser costs it? One drawing at a time.

Run from the repository root (about a minute; needs /usr/bin/chromium)::

    .venv/bin/python -m bench.load.calibrate [--drawings 12]

Starts the app (``serve.py``) once and opens two sessions on it: a headless
Chromium page driven by Playwright, and a protocol session
(``bench/load/protocol.py``). They take turns, one drawing each at a time, so both
see the same server in the same state of the machine: press Clear, draw a digit
in one stroke (Chromium: with the mouse, the templates the fixtures were captured
from; the generator: a captured value, moved and scaled), wait for the run to end.

Per drawing, for each: at the server's door (a loopback relay in front of it, one
per client, see :class:`Door`), from the stroke's message in to the Prediction
out: the server's own time per drawing; on the client's side of the wire, from
the stroke's rerun message sent to the ``Prediction`` element received and to
``script_finished`` received (Chromium's frames stamped through the DevTools
protocol, on its renderer's thread; the generator's by ``time.perf_counter``),
and the server's CPU seconds for Clear + stroke (/proc, from the click and from
the mouse-up, less the server's idle rate).
The generator waits between Clear and stroke as long as the mouse took to draw.
Both clients run niced below the server, as if on machines of their own. Prints
medians and the generator / browser ratios; the target is within 20% (0.8-1.2)
for the server's time per drawing (at the door, and its CPU). Asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import random
import socket
import statistics
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.bench_load import STROKES
from bench.load.protocol import Session, load_strokes, vary
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_streamlit,
    stop,
    wait_until_up,
)
from tests.browser.helpers import canvas_box, clear, open_app, wait_idle, wait_prediction
from tests.processes import cpu_seconds

REPO = Path(__file__).resolve().parents[2]


class WireClock:
    """Chromium's own timestamps of the stroke's rerun sent and of the replies to it."""

    def __init__(self) -> None:
        self.sent: float | None = None
        self.prediction: float | None = None
        self.finished: float | None = None

    def attach(self, page) -> None:
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", self._sent)
        cdp.on("Network.webSocketFrameReceived", self._received)
        cdp.send("Network.enable")

    def reset(self) -> None:
        self.sent = self.prediction = self.finished = None

    @staticmethod
    def _payload(event: dict) -> bytes:
        frame = event["response"]
        data = frame["payloadData"]
        return base64.b64decode(data) if frame.get("opcode") == 2 else data.encode()

    def _sent(self, event: dict) -> None:
        message = BackMsg()
        message.ParseFromString(self._payload(event))
        if message.WhichOneof("type") != "rerun_script":
            return
        for widget in message.rerun_script.widget_states.widgets:
            is_stroke = "-canvas-" in widget.id and '"data":"data:image' in widget.json_value
            if is_stroke and self.sent is None:
                self.sent = event["timestamp"]

    def _received(self, event: dict) -> None:
        if self.sent is None:
            return
        message = ForwardMsg()
        message.ParseFromString(self._payload(event))
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            if element.WhichOneof("type") == "metric" and element.metric.label == "Prediction":
                self.prediction = self.prediction or event["timestamp"]
        elif kind == "script_finished" and self.finished is None:
            self.finished = event["timestamp"]


class Door:
    """A loopback TCP relay in front of the server: times a drawing where the server sees it.

    Stamps the bytes as they pass, for one client: from the last chunk of the last
    sizeable message the client sent (the stroke's rerun, ~18 kB) to the first chunk
    the server sent back holding the ``Prediction`` metric's label (Streamlit sends
    frames uncompressed). Neither client's own reading enters into it: Chromium
    stamps frames on its renderer's thread, busy with React and Plotly while the
    server's messages arrive; the generator reads them at once.
    """

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sent: float | None = None
        self.last_up = 0.0
        self.times: list[float] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def take(self) -> float | None:
        """The last drawing's time at the door, and forget it."""
        return self.times.pop() if self.times else None

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.target))
            for source, sink, up in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pipe, args=(source, sink, up), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                now = time.perf_counter()
                # The stroke's message is whole when its last chunk is in: stamp that.
                # Chunks 20 ms apart or less are one message; a lone small one is a pong.
                if up and (len(data) > 200 or now - self.last_up < 0.02):
                    self.sent = self.last_up = now
                elif not up and self.sent is not None and b"Prediction" in data:
                    self.times.append(now - self.sent)
                    self.sent = None
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def idle_rate(pid: int, seconds: float = 4.0) -> float:
    """The server's CPU seconds per second with its sessions open and idle (pings, timers)."""
    before = cpu_seconds([pid])
    time.sleep(seconds)
    return (cpu_seconds([pid]) - before) / seconds


def draw_stroke(page, stroke, release: bool = True, margin: float = 0.08) -> None:
    """One stroke with the mouse, as tests/browser/helpers.draw; the button left down if asked."""
    box = canvas_box(page)
    span_x, span_y = box["width"] * (1 - 2 * margin), box["height"] * (1 - 2 * margin)
    points = [
        (
            box["x"] + box["width"] * margin + x * span_x,
            box["y"] + box["height"] * margin + y * span_y,
        )
        for x, y in stroke
    ]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=2)
    if release:
        page.mouse.up()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=12, help="drawings by each client")
    args = parser.parse_args()

    strokes = load_strokes()
    digits = sorted(strokes)
    rng = random.Random(20)
    browser_times: dict[str, list[float]] = {
        "door": [],
        "prediction": [],
        "finished": [],
        "cpu": [],
    }
    client_times: dict[str, list[float]] = {"door": [], "prediction": [], "finished": [], "cpu": []}
    wrong = {"browser": 0, "generator": 0}
    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    port = free_port()
    server = start_streamlit(REPO / "serve.py", port)
    try:
        wait_until_up(server, port)
        # In a classroom each browser has a machine of its own; here Chromium shares the
        # server's two cores. Niced (with this process, equally for both clients), it
        # yields the CPU to the server.
        os.nice(19)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            clock = WireClock()
            clock.attach(page)
            browser_door, client_door = Door(port), Door(port)
            open_app(page, browser_door.url)
            session = Session(client_door.url)
            session.connect()
            idle = idle_rate(server.pid)
            for index in range(args.drawings):
                digit = digits[index % len(digits)]

                # The browser: Clear, a stroke with the mouse, the whole run.
                cpu = cpu_seconds([server.pid])
                start = time.monotonic()
                clear(page)
                cpu_clear = cpu_seconds([server.pid]) - cpu - idle * (time.monotonic() - start)
                clock.reset()
                stroke_took = time.monotonic()
                draw_stroke(page, STROKES[digit], release=False)
                stroke_took = time.monotonic() - stroke_took
                cpu, start = cpu_seconds([server.pid]), time.monotonic()
                page.mouse.up()
                shown = wait_prediction(page)
                wait_idle(page)
                deadline = time.monotonic() + 5
                while clock.finished is None and time.monotonic() < deadline:
                    page.wait_for_timeout(20)  # CDP events arrive on Playwright's loop
                cpu_stroke = cpu_seconds([server.pid]) - cpu - idle * (time.monotonic() - start)
                browser_times["cpu"].append(cpu_clear + cpu_stroke)
                if None not in (clock.sent, clock.prediction, clock.finished):
                    browser_times["prediction"].append(clock.prediction - clock.sent)
                    browser_times["finished"].append(clock.finished - clock.sent)
                wrong["browser"] += shown.rstrip("?") != str(digit)
                if (door := browser_door.take()) is not None:
                    browser_times["door"].append(door)

                # The generator: the same, over the protocol, with the same time to draw.
                cpu, start = cpu_seconds([server.pid]), time.monotonic()
                session.clear_canvas()
                cpu_clear = cpu_seconds([server.pid]) - cpu - idle * (time.monotonic() - start)
                time.sleep(stroke_took)
                cpu, start = cpu_seconds([server.pid]), time.monotonic()
                run = session.draw(vary(rng.choice(strokes[digit]), rng))
                cpu_stroke = cpu_seconds([server.pid]) - cpu - idle * (time.monotonic() - start)
                client_times["cpu"].append(cpu_clear + cpu_stroke)
                client_times["prediction"].append(run.to_prediction)
                client_times["finished"].append(run.to_finished)
                wrong["generator"] += (run.prediction or "").rstrip("?") != str(digit)
                if (door := client_door.take()) is not None:
                    client_times["door"].append(door)
            session.close()
            browser.close()
    finally:
        stop(server)

    print(
        f"Calibration: {args.drawings} drawings each, one at a time, alternating, "
        f"same server ({len(browser_times['prediction'])} browser drawings timed on the wire)"
    )
    rows = (
        ("at the server's door: stroke -> Prediction", "door", 1000),
        ("stroke sent -> Prediction received, ms", "prediction", 1000),
        ("stroke sent -> script_finished, ms", "finished", 1000),
        ("server CPU per Clear + stroke, ms", "cpu", 1000),  # idle rate subtracted
    )
    print(f"  {'':<40} {'browser':>8} {'generator':>10} {'ratio':>6}")
    for label, key, unit in rows:
        b = statistics.median(browser_times[key]) * unit
        g = statistics.median(client_times[key]) * unit
        print(f"  {label:<40} {b:8.0f} {g:10.0f} {g / b:6.2f}")
    print(f"  wrong digits: browser {wrong['browser']}, generator {wrong['generator']}")
    print("  target: the generator's server time per drawing within 20% of the browser's")
    print(f"load after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
