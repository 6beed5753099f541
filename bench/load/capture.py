"""Capture the canvas's own WebSocket payloads from a real Chromium session.

Run from the repository root (about a minute; needs /usr/bin/chromium)::

    .venv/bin/python bench/load/capture.py [--out bench/load/fixtures/strokes.json]

Starts the app (``serve.py``), opens it in headless Chromium, and for every digit
presses Clear, draws the digit in one stroke with the mouse (the templates of
``bench/bench_load.py``) and waits for the Prediction. Playwright's WebSocket
``framesent`` events give each ``BackMsg`` the page sent; the canvas widget's
``json_value`` in the rerun that produced the Prediction is the component value
exactly as streamlit-drawable-canvas sent it (fabric.js paths plus a PNG data URL).
Those are saved with the digit they were drawn as and the prediction shown; the
load generator (``bench/load/protocol.py``) replays them, moved and scaled.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg

from bench.bench_load import STROKES
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_streamlit,
    stop,
    wait_until_up,
)
from tests.browser.helpers import clear, draw, open_app, wait_prediction

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "bench" / "load" / "fixtures" / "strokes.json"


def canvas_value(frames: list[bytes]) -> str | None:
    """The canvas's ``json_value`` in the last rerun among ``frames`` that carries one."""
    found = None
    for frame in frames:
        message = BackMsg()
        message.ParseFromString(frame)
        if message.WhichOneof("type") != "rerun_script":
            continue
        for widget in message.rerun_script.widget_states.widgets:
            if "-canvas-" in widget.id and widget.WhichOneof("value") == "json_value":
                value = json.loads(widget.json_value)
                if (value.get("drawing") or {}).get("data"):
                    found = widget.json_value
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURE)
    parser.add_argument("--digits", default="012378", help="which digits to draw")
    args = parser.parse_args()

    port = free_port()
    server = start_streamlit(REPO / "serve.py", port)
    sent: list[bytes] = []
    captured = []
    try:
        url = wait_until_up(server, port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "websocket",
                lambda ws: ws.on(
                    "framesent", lambda data: sent.append(data) if isinstance(data, bytes) else None
                ),
            )
            open_app(page, url)
            for digit in map(int, args.digits):
                clear(page)
                start = len(sent)
                # Unit coordinates, as tests/browser/helpers.draw takes them.
                draw(page, [STROKES[digit]])
                shown = wait_prediction(page)
                time.sleep(0.3)  # the frame event reaches Python after the page has moved on
                value = canvas_value(sent[start:])
                if value is None:
                    raise SystemExit(f"digit {digit}: no canvas value among the frames sent")
                captured.append({"digit": digit, "shown": shown, "json_value": value})
                print(f"digit {digit}: shown {shown}, payload {len(value)} characters")
            browser.close()
    finally:
        stop(server)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    fixture = {
        "what": "streamlit-drawable-canvas component values (json_value) sent by Chromium, "
        "captured by bench/load/capture.py",
        "captured": datetime.date.today().isoformat(),
        "streamlit": importlib.metadata.version("streamlit"),
        "streamlit-drawable-canvas": importlib.metadata.version("streamlit-drawable-canvas"),
        "strokes": captured,
    }
    args.out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
