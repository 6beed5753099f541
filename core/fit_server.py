"""Run scikit-learn fits in child processes that can be ended at once.

scikit-learn's solvers other than lbfgs report nothing until their fit returns,
which for saga on 60,000 images can take minutes, so a fit in a thread cannot
be cancelled. :func:`fit_in_child` runs one in a process of its own and ends it
when asked.

The processes come from a small server, started once per app process with
``python -m core.fit_server``: it imports scikit-learn, then forks one child
per fit (its only other thread waits on a pipe for the app to exit and holds no
lock). That makes a fit's start-up milliseconds rather than the seconds a new
interpreter takes, and keeps the children clear of multiprocessing's habit of
re-running the parent's ``__main__``, which under Streamlit is whatever page
script last ran. The server has a session of its own (Ctrl+C in the app's
terminal is the app's business) and exits when the app process that started it
does. Arrays go to the child as raw bytes, not pickled copies. Where there is
no fork or no Unix socket (Windows), fits run in the calling thread instead,
and end only when they are done.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener, wait
from pathlib import Path
from typing import Any

from core.errors import TrainingError

AVAILABLE = hasattr(os, "fork") and hasattr(socket, "AF_UNIX")
START_TIMEOUT = 60.0  # seconds for the server to import scikit-learn and listen
READY = b"ready\n"
NICENESS = 10  # fits yield the CPU to the app's sessions

_lock = threading.Lock()
_local = threading.local()  # where no child process runs the fit: its report callback
_child_report: Callable[[Any], None] | None = None  # in a child: sends to the app
_server: tuple[subprocess.Popen, str, bytes] | None = None


class FitCancelled(Exception):
    """The fit was ended because its caller asked."""


def _stop_server() -> None:
    """End the server (if any) and remove its socket directory. Call with ``_lock`` held."""
    global _server
    if _server is None:
        return
    process, address, _ = _server
    _server = None
    if process.poll() is None:
        process.kill()
    process.wait()
    shutil.rmtree(os.path.dirname(address), ignore_errors=True)


def _start_server() -> tuple[subprocess.Popen, str, bytes]:
    """Start the server and wait until it listens. Call with ``_lock`` held."""
    directory = tempfile.mkdtemp(prefix="digit-lens-fits-")
    if len(directory) > 90:  # Unix socket paths are limited to ~100 bytes (macOS: 104)
        shutil.rmtree(directory)
        directory = tempfile.mkdtemp(prefix="digit-lens-fits-", dir="/tmp")
    address = os.path.join(directory, "socket")
    key = secrets.token_bytes(32)
    process = subprocess.Popen(
        [sys.executable, "-m", "core.fit_server", address],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,  # the server exits when this closes: when we do
        stdout=subprocess.PIPE,  # it says READY here once it listens
        env={**os.environ, "DIGIT_LENS_FIT_KEY": key.hex()},
        start_new_session=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    if not ready or process.stdout.readline() != READY:
        process.kill()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)
        raise TrainingError("the process that runs scikit-learn's solvers did not start")
    return process, address, key


def _connect() -> Connection:
    """A connection to the server, starting (or restarting) it as needed."""
    global _server
    with _lock:
        for attempt in (1, 2):
            if _server is None or _server[0].poll() is not None:
                _stop_server()
                _server = _start_server()
            _, address, key = _server
            try:
                return Client(address, family="AF_UNIX", authkey=key)
            except (OSError, EOFError, AuthenticationError) as error:
                _stop_server()  # a server that does not answer is replaced, once
                if attempt == 2:
                    raise TrainingError(f"cannot reach the fitting process: {error}") from None
    raise AssertionError("unreachable")


def _send_call(connection: Connection, function: Callable[..., Any], args: tuple) -> None:
    """Send the call, its arrays as raw bytes after it (pickle protocol 5, out of band)."""
    buffers: list[pickle.PickleBuffer] = []
    try:
        call = pickle.dumps((function, args), protocol=5, buffer_callback=buffers.append)
    except (pickle.PicklingError, AttributeError, TypeError) as error:  # e.g. a lambda
        raise TrainingError(f"the fit failed: cannot send {function!r}: {error}") from None
    views = [buffer.raw() for buffer in buffers]
    connection.send((call, [view.nbytes for view in views]))
    for view in views:
        connection.send_bytes(view)


def _receive_call(connection: Connection) -> tuple[Callable[..., Any], tuple]:
    call, sizes = connection.recv()
    buffers = [bytearray(size) for size in sizes]  # writable, as the arrays were
    for buffer in buffers:
        connection.recv_bytes_into(buffer)
    return pickle.loads(call, buffers=buffers)


def report(payload: Any) -> None:
    """From inside a fit: send ``payload`` to the caller's ``on_report`` as the fit runs.

    In a child process it travels over the fit's connection; where the fit runs in
    the calling thread it is handed over directly; elsewhere it is dropped.
    """
    if _child_report is not None:
        _child_report(payload)
    elif (receive := getattr(_local, "on_report", None)) is not None:
        receive(payload)


def fit_in_child(
    fit: Callable[..., Any],
    args: tuple,
    cancel: threading.Event | None = None,
    on_report: Callable[[Any], None] | None = None,
) -> Any:
    """``fit(*args)`` in a child process; its result, or :class:`FitCancelled` when cancelled.

    Parameters
    ----------
    fit : callable
        Anything pickle can send: a module-level function (pickled by reference, so
        the child imports its module, once per fit unless the server preloaded it).
    args : tuple
        Its arguments: arrays travel as raw bytes, the rest pickled.
    cancel : threading.Event, optional
        Set it to end the child at once.
    on_report : callable, optional
        Called in this thread with each payload the fit passes to :func:`report`
        while it runs; an exception it raises ends the child and propagates.

    Raises
    ------
    FitCancelled
        ``cancel`` was set before the fit returned.
    TrainingError
        The fit raised (its message, in one line) or its process could not run it.
    """
    if not AVAILABLE:
        _local.on_report = on_report
        try:
            return fit(*args)
        finally:
            _local.on_report = None
    with _connect() as connection:
        child = None
        try:
            child = connection.recv()  # the pid of the process doing the fit
            _send_call(connection, fit, args)
            while True:
                if cancel is not None and cancel.is_set():
                    raise FitCancelled
                if not wait([connection], timeout=0.1):
                    continue
                message = connection.recv()
                if message[0] != "report":
                    break
                if on_report is not None:
                    on_report(message[1])
            outcome, value = message
        except (OSError, EOFError) as error:
            _end(child, connection)
            raise TrainingError(f"the fitting process failed: {error or 'it ended'}") from None
        except BaseException:
            _end(child, connection)
            raise
    if outcome == "error":
        raise TrainingError(f"the fit failed: {value}")
    return value


def _end(child: object, connection: Connection) -> None:
    """Kill a child that is still fitting (one that has answered is gone already)."""
    with contextlib.suppress(OSError):
        if isinstance(child, int) and child > 1 and not connection.poll(0):
            os.kill(child, signal.SIGKILL)


def _serve_one(connection: Connection) -> None:
    """In a forked child: run the requested fit and send back what came of it."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        connection.send(os.getpid())
        try:
            function, args = _receive_call(connection)
        except Exception as error:  # e.g. the function's module does not import here
            connection.send(("error", f"{type(error).__name__}: {error}".splitlines()[0]))
            return

        def exit_if_abandoned() -> None:
            # The app never writes again: the connection turns readable only when the
            # app side closes, that is when the app process is gone. Then so is this fit.
            connection.poll(None)
            os._exit(1)

        threading.Thread(target=exit_if_abandoned, daemon=True).start()
        # The server runs as __main__: the fit's code reports through core.fit_server.
        import core.fit_server as module

        module._child_report = lambda payload: connection.send(("report", payload))
        try:
            result = ("ok", function(*args))
        except Exception as error:  # one line for the user, as everywhere
            result = ("error", f"{type(error).__name__}: {error}".splitlines()[0])
        connection.send(result)
    finally:
        os._exit(0)


def _main(address: str) -> None:
    key = bytes.fromhex(os.environ.pop("DIGIT_LENS_FIT_KEY"))
    if os.getpriority(os.PRIO_PROCESS, 0) < NICENESS:
        os.setpriority(os.PRIO_PROCESS, 0, NICENESS)
    import sklearn.linear_model  # noqa: F401  imported once, shared by every fork

    def exit_with_parent() -> None:
        # os.read, not sys.stdin: it takes no lock a forked child could inherit held.
        while os.read(sys.stdin.fileno(), 1):
            pass
        shutil.rmtree(os.path.dirname(address), ignore_errors=True)  # EOF: the app is gone
        os._exit(0)

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished fits are reaped by the kernel
    try:
        with Listener(address, family="AF_UNIX", authkey=key) as listener:
            threading.Thread(target=exit_with_parent, daemon=True).start()
            sys.stdout.buffer.write(READY)
            sys.stdout.buffer.flush()
            while True:
                try:
                    connection = listener.accept()
                except (OSError, EOFError, AuthenticationError):
                    continue  # a client that went away or had the wrong key
                try:
                    if os.fork() == 0:
                        listener.close()
                        _serve_one(connection)
                except OSError:
                    pass  # no process left to fork: the client sees the connection close
                connection.close()
    finally:
        shutil.rmtree(os.path.dirname(address), ignore_errors=True)
        os._exit(0)


if __name__ == "__main__":
    _main(sys.argv[1])
