"""Background jobs: training, adapting and downloading run off the app's script thread.

One mechanism for all three: the work runs in a daemon thread at a lower
priority, reports ``progress(message, fraction)``, stops at its next step once
cancelled (raising :class:`Cancelled`), and ends with a result, a cancellation
or a one-line error, never a traceback. A page either polls a job it keeps in
session state (Train) or follows it until it ends (:meth:`Job.follow`: Adapt,
the MNIST download), cancelling it if the page's run is stopped.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from core.errors import DigitLensError

T = TypeVar("T")
Progress = Callable[[str, float], None]  # progress(message, fraction in [0, 1])
NICENESS = 10  # Linux: a job's thread yields the CPU to the threads that answer sessions


class Cancelled(Exception):
    """The work was stopped by its caller."""


def checkpoint(progress: Progress | None, cancel: threading.Event | None) -> Progress:
    """A ``step(message, fraction)`` that reports progress and raises :class:`Cancelled` if asked.

    Work calls it between steps: that is where a cancellation takes effect.
    """
    report = progress or (lambda message, fraction: None)

    def step(message: str, fraction: float) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        report(message, fraction)

    return step


class Job(Generic[T]):
    """``work(progress, cancel)`` in a background thread, its state readable at any moment.

    Parameters
    ----------
    work : callable
        ``work(progress, cancel) -> T``; it calls ``progress(message, fraction)``
        between steps and stops (raising :class:`Cancelled`) once ``cancel`` is set.
    what : str
        What the work is, for its error line: ``"training"`` gives
        ``"training failed: MemoryError: ..."``.
    name : str
        The thread's name.
    """

    def __init__(
        self,
        work: Callable[[Progress, threading.Event], T],
        what: str = "the job",
        name: str = "digit-lens-job",
    ):
        self._work = work
        self.what = what
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.message, self.fraction = "waiting", 0.0
        self.started: float | None = None
        self.finished: float | None = None
        self.result: T | None = None
        self.error: str | None = None
        self.cancelled = False

    def start(self) -> Job[T]:
        """Start the work; returns at once."""
        self.started = time.monotonic()
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the work to stop at its next step."""
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        """True once cancel was asked and the job has not stopped yet."""
        return self._cancel.is_set() and self.running

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the result, an error or the cancellation is in."""
        return self.started is not None and self.finished is None

    @property
    def elapsed(self) -> float:
        """Seconds since :meth:`start` (until the end, once finished)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is over (or ``timeout`` seconds); True if it is over."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def follow(self, show: Progress, interval: float = 0.25) -> Job[T]:
        """Start if needed, then block until the end, calling ``show`` with the progress.

        If the caller is interrupted meanwhile (a Streamlit run stopped because the
        user pressed Cancel or left the page raises in ``show``), the work is
        cancelled at its next step.
        """
        if self.started is None:
            self.start()
        try:
            while not self.wait(interval):
                show(self.message, self.fraction)  # also where Streamlit stops a run
        finally:
            if self.running:
                self.cancel()
        return self

    def _progress(self, message: str, fraction: float) -> None:
        self.message, self.fraction = message, fraction

    def _run(self) -> None:
        # Linux schedules threads one by one: a nicer job thread leaves the CPU to the
        # threads that answer the app's sessions when they need it (elsewhere, or if
        # refused, it runs at normal priority).
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
        try:
            self.result = self._work(self._progress, self._cancel)
        except Cancelled:
            self.cancelled = True
        except DigitLensError as error:
            self.error = str(error)
        except Exception as error:  # shown to the user in one line, never a traceback
            self.error = f"{self.what} failed: {type(error).__name__}: {error}".splitlines()[0]
        finally:
            self.finished = time.monotonic()
