"""core.fit_server: fits in child processes that answer, fail in one line, or are ended."""

from __future__ import annotations

import operator
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

from core import fit_server
from core.errors import TrainingError
from core.fit_server import FitCancelled, fit_in_child
from tests.processes import children_of

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    not fit_server.AVAILABLE or not Path("/proc").exists(), reason="forks, reads /proc: Linux"
)


# The child finds a fit by module and name: stdlib functions stand in for fits here
# (pytest imports this file under a name the server could not import).


def test_a_fit_in_a_child_answers_with_its_result():
    assert fit_in_child(operator.add, (np.arange(3), np.ones(3))).tolist() == [1.0, 2.0, 3.0]


def test_a_fit_the_child_cannot_find_says_so_in_one_line(monkeypatch):
    # A function is sent by reference (module and name): this module exists here only.
    only_here = types.ModuleType("only_in_this_process")
    exec("def local(x):\n    return x\n", only_here.__dict__)
    monkeypatch.setitem(sys.modules, only_here.__name__, only_here)
    with pytest.raises(TrainingError, match="the fit failed: ModuleNotFoundError"):
        fit_in_child(only_here.local, (1,))
    with pytest.raises(TrainingError, match="the fit failed: cannot send"):
        fit_in_child(lambda x: x, (1,))  # nothing the child could find at all


def test_a_wrong_key_or_a_dead_server_does_not_stop_the_next_fit():
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    fit_in_child(operator.add, (1, 2))
    server, address, _ = fit_server._server
    assert os.getsid(server.pid) != os.getsid(0)  # Ctrl+C in our terminal does not reach it
    with pytest.raises(AuthenticationError):
        Client(address, family="AF_UNIX", authkey=b"not the key")
    assert fit_in_child(operator.add, (2, 3)) == 5  # still serving
    server.kill()
    server.wait()
    assert fit_in_child(operator.add, (3, 4)) == 7  # a new server took over
    assert fit_server._server[0].pid != server.pid
    assert not os.path.exists(os.path.dirname(address))  # the dead one's directory is gone


def test_a_failing_fit_is_one_line():
    with pytest.raises(TrainingError, match="ValueError: invalid literal") as caught:
        fit_in_child(int, ("not a number\nsecond line",))
    assert "\n" not in str(caught.value)


pytestmark = pytest.mark.skipif(
    not fit_server.AVAILABLE or not Path("/proc").exists(), reason="Linux"
)


def test_cancel_ends_the_child_at_once():
    fit_in_child(operator.add, (1, 2))  # the server is up
    server = fit_server._server[0]
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(FitCancelled):
        fit_in_child(time.sleep, (600,), cancel)
    deadline = time.monotonic() + 10
    while children_of(server.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children_of(server.pid) == []


def run_app_process(script: str) -> str:
    """Run ``script`` as an app process that prints its fit server's address and pid, then
    exits; wait until that server is gone too and return the address."""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    address, server_pid = done.stdout.split()[-2:]
    deadline = time.monotonic() + 10
    while Path(f"/proc/{server_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{server_pid}").exists()
    return address


def test_the_server_goes_when_the_app_process_does():
    address = run_app_process(
        "import operator\n"
        "from core import fit_server\n"
        "assert fit_server.fit_in_child(operator.add, (2, 3)) == 5\n"
        "print(fit_server._server[1], fit_server._server[0].pid)\n"
    )
    assert not os.path.exists(os.path.dirname(address))


def test_a_fit_whose_app_process_is_gone_stops_too():
    # An app process starts a long fit, then dies without cancelling it.
    address = run_app_process(
        "import threading, time, os\n"
        "from core import fit_server\n"
        "threading.Thread(target=fit_server.fit_in_child, args=(time.sleep, (600,)), daemon=True)"
        ".start()\n"
        "while fit_server._server is None:\n"
        "    time.sleep(0.05)\n"
        "time.sleep(1)  # connected: the fit runs\n"
        "print(fit_server._server[1], fit_server._server[0].pid, flush=True)\n"
        "os._exit(0)\n"
    )
    # Its forked fit (same command line, socket address included) went with it.
    deadline = time.monotonic() + 10
    while processes_serving(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_serving(address) == []
    assert not os.path.exists(os.path.dirname(address))


def processes_serving(address: str) -> list[int]:
    """The fit server listening on ``address`` and its forked fits, if still running."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="ignore")
        except OSError:
            continue
        if "core.fit_server" in command and address in command:
            found.append(int(pid))
    return found
