"""CPU seconds one drawing costs, per process: Chromium, Playwright, the server.

Run from the repository root (about a minute)::

    .venv/bin/python -m bench.bench_action_cost [--actions 8]

Starts the app (``serve.py``) and ``bench/bare_app.py`` in turn, opens one
headless Chromium page on each, and for ``--actions`` digits presses Clear,
draws the digit with the mouse and waits for the Prediction (and, on the full
page, for every chart and image to be painted). Reads every process's CPU time
from /proc before and after, and prints the CPU seconds per action of each kind
of process, then what that implies for the load bench: how many actions per
second this machine's cores can carry at all, browsers included. Asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import os
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_streamlit,
    stop,
    wait_until_up,
)
from tests.browser.helpers import clear, draw, open_app, prediction, wait_idle, wait_rendered
from tests.processes import cpu_seconds
from tests.strokes import DIGIT_STROKES

REPO = Path(__file__).resolve().parent.parent


def cpu_by_process() -> dict[int, tuple[float, str]]:
    """pid -> (CPU seconds used so far, command line), for every process we can read."""
    out = {}
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        out[pid] = (cpu_seconds([pid]), command)
    return out


def kind(command: str, server_pid: int, pid: int) -> str | None:
    """Which part of the test bench a process is, or None for the rest of the machine."""
    if pid == server_pid:
        return "server"
    if "chromium" in command:
        for process_type in ("renderer", "gpu-process", "utility", "zygote"):
            if f"--type={process_type}" in command:
                return f"chromium {process_type}"
        return "chromium browser"
    if "playwright" in command and "node" in command:
        return "playwright driver"
    if pid == os.getpid():
        return "this script"
    return None


def measure(script: Path, actions: int) -> dict[str, float]:
    """CPU seconds per Clear + draw + Prediction, by kind of process."""
    port = free_port()
    server = start_streamlit(script, port)
    try:
        url = wait_until_up(server, port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            open_app(page, url)
            full = script.name != "bare_app.py"

            def act(digit: int) -> None:
                clear(page)
                draw(page, DIGIT_STROKES[digit][0])
                prediction(page)
                wait_idle(page)
                if full:
                    wait_rendered(page)

            for digit in (7, 3):  # warm-up: lazy chunks, caches
                act(digit)
            time.sleep(1)
            before = cpu_by_process()
            for number in range(actions):
                act((1, 4, 7, 0)[number % 4])
            after = cpu_by_process()
            browser.close()
    finally:
        stop(server)
    spent: dict[str, float] = collections.Counter()
    for pid, (seconds, command) in after.items():
        what = kind(command, server.pid, pid)
        if what:
            spent[what] += seconds - before.get(pid, (0.0, ""))[0]
    return {what: seconds / actions for what, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=8, help="drawings timed in each app")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    for name, script in (
        ("full app", REPO / "serve.py"),
        ("bare app", REPO / "bench" / "bare_app.py"),
    ):
        costs = measure(script, args.actions)
        total = sum(costs.values())
        parts = ", ".join(
            f"{what} {seconds:.2f}"
            for what, seconds in sorted(costs.items(), key=lambda item: -item[1])
        )
        print(f"{name}: {total:.2f} CPU-s per drawing ({parts})")
        print(
            f"  -> at most {cores / total:.1f} drawings/s on this machine's {cores} cores with "
            f"the browsers here; the server alone could do {1 / costs.get('server', 1e-9):.0f}/s "
            "on one core"
        )


if __name__ == "__main__":
    main()
