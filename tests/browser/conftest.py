"""Start Digit Lens once per test session and drive it with Debian's Chromium.

Never calls ``playwright install``: the browser is the system's /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DIGIT_LENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_streamlit(script: str | Path, port: int, *extra: str) -> subprocess.Popen:
    """``streamlit run script`` on ``port``, headless, logging to artifacts/."""
    log_dir = REPO / "artifacts"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"streamlit-{Path(script).stem}-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        *extra,
    ]
    # The server's saved models and digits go to a fresh directory, never the user's.
    home = tempfile.mkdtemp(prefix="digit-lens-home-")
    env = {**os.environ, "DIGIT_LENS_HOME": home}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log_path  # type: ignore[attr-defined]  # for tests that read the log
    return process


def wait_until_up(process: subprocess.Popen, port: int, timeout: float = START_TIMEOUT) -> str:
    """Wait for Streamlit's health endpoint; return the app's URL."""
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}; see artifacts/")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.status == 200:
                    return url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer on port {port} within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def app_server() -> Iterator[tuple[subprocess.Popen, str]]:
    """The app started as the README starts it, and its URL; killed at the end of the session."""
    port = free_port()
    process = start_streamlit(REPO / "serve.py", port)
    try:
        yield process, wait_until_up(process, port)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def app_url(app_server) -> str:
    return app_server[1]


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
