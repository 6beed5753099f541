"""Run scikit-learn fits in child processes that can be ended at once.

scikit-learn's solvers other than lbfgs report nothing until their fit returns,
which for saga on 60,000 images can take minutes, so a fit in a thread cannot
be cancelled. :func:`fit_in_child` runs one in a process of its own and ends it
when asked.

The processes come from a small server, started once per app process with
``python -m core.fit_server``: it imports scikit-learn, then forks one child per
fit (safe there: besides the one serving, its only thread waits on a pipe). That makes a fit's
start-up milliseconds rather than the seconds a new interpreter takes, and keeps
the children clear of multiprocessing's habit of re-running the parent's
``__main__``, which under Streamlit is whatever page script last ran. The server
exits when the app process that started it does.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener, wait
from pathlib import Path
from typing import Any

from core.errors import TrainingError

START_TIMEOUT = 60.0  # seconds for the server to import scikit-learn and listen

_lock = threading.Lock()
_server: tuple[subprocess.Popen, str, bytes] | None = None


class FitCancelled(Exception):
    """The fit was ended because its caller asked."""


def _server_address() -> tuple[str, bytes]:
    """The running server's socket and key, starting the server if needed."""
    global _server
    with _lock:
        if _server is not None and _server[0].poll() is None:
            return _server[1], _server[2]
        directory = tempfile.mkdtemp(prefix="digit-lens-fits-")
        address = os.path.join(directory, "socket")
        key = secrets.token_bytes(32)
        process = subprocess.Popen(
            [sys.executable, "-m", "core.fit_server", address],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.PIPE,  # the server exits when this closes: when we do
            env={**os.environ, "DIGIT_LENS_FIT_KEY": key.hex()},
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(address):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise TrainingError("the process that runs scikit-learn's solvers did not start")
            time.sleep(0.02)
        _server = (process, address, key)
        return address, key


def fit_in_child(
    fit: Callable[..., Any], args: tuple, cancel: threading.Event | None = None
) -> Any:
    """``fit(*args)`` in a child process; its result, or :class:`FitCancelled` when cancelled.

    Parameters
    ----------
    fit : callable
        A module-level function (the child finds it by name).
    args : tuple
        Its arguments (pickled to the child: arrays, dataclasses).
    cancel : threading.Event, optional
        Set it to end the child at once.

    Raises
    ------
    FitCancelled
        ``cancel`` was set before the fit returned.
    TrainingError
        The fit raised (its message, in one line) or its process died.
    """
    address, key = _server_address()
    with Client(address, family="AF_UNIX", authkey=key) as connection:
        connection.send((fit.__module__, fit.__qualname__, args))
        child = connection.recv()  # the pid of the process doing the fit
        try:
            while not wait([connection], timeout=0.1):
                if cancel is not None and cancel.is_set():
                    raise FitCancelled
            outcome, value = connection.recv()
        except EOFError:
            raise TrainingError("the fit's process ended without an answer") from None
        except BaseException:
            # Still fitting (it has not answered): end it now.
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
            raise
    if outcome == "error":
        raise TrainingError(value)
    return value


def _serve_one(connection: Connection) -> None:
    """In a forked child: run the requested fit and send back what came of it."""
    try:
        connection.send(os.getpid())
        module, name, args = connection.recv()

        def exit_if_abandoned() -> None:
            # The app never writes again: the connection turns readable only when the
            # app side closes, that is when the app process is gone. Then so is this fit.
            connection.poll(None)
            os._exit(1)

        threading.Thread(target=exit_if_abandoned, daemon=True).start()
        __import__(module)
        function = sys.modules[module]
        for part in name.split("."):
            function = getattr(function, part)
        try:
            connection.send(("ok", function(*args)))
        except Exception as error:  # one line for the user, as everywhere
            connection.send(("error", f"{type(error).__name__}: {error}".splitlines()[0]))
    finally:
        connection.close()
        os._exit(0)


def _main(address: str) -> None:
    key = bytes.fromhex(os.environ.pop("DIGIT_LENS_FIT_KEY"))
    import sklearn.linear_model  # noqa: F401  imported once, shared by every fork

    import core.train  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel

    def exit_with_parent() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the app process is gone
        with contextlib.suppress(OSError):
            os.unlink(address)
            os.rmdir(os.path.dirname(address))
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    with Listener(address, family="AF_UNIX", authkey=key) as listener:
        while True:
            try:
                connection = listener.accept()
            except (OSError, EOFError):
                continue  # a client that went away or had the wrong key
            if os.fork() == 0:
                listener.close()
                _serve_one(connection)
            connection.close()


if __name__ == "__main__":
    _main(sys.argv[1])
