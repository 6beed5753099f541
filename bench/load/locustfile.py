"""Students as Locust users: each one a Digit Lens session over Streamlit's WebSocket.

Used by ``bench/load/run.py`` (which starts the server and prints the figures);
also runs under Locust's own command line against a server you started::

    PYTHONPATH=. .venv/bin/locust -f bench/load/locustfile.py --headless -u 20 -r 5 -t 60s \
        --host http://127.0.0.1:8501

Each user opens the app (``on_start``) and then, once every ``Student.interval``
seconds on average (jittered by ±``Student.jitter``, Locust's ``constant_pacing``
with a random target), does one of:

* **draw** (most often): press Clear, then send one stroke as the canvas sends it
  (a captured component value, moved and scaled); the request ``draw`` is timed
  from the stroke sent to the ``Prediction`` metric received, which must be the
  digit drawn;
* **upload**: open "Upload a photo", upload a freshly made photo of a digit (PNG,
  ``bench/bench_load.photo_png``), back to Draw; ``upload`` is timed from the
  request for an upload URL to the Prediction;
* **switch model**: draw a 0 or a 1, switch the sidebar to "Two digits" (0 vs 1),
  expect the same digit, switch back; ``model`` is timed from the switch to the
  Prediction.

A wrong digit is a Locust failure (``WrongDigit``) and is counted apart; a
connection error, timeout or error shown by the app is a failure too, and the
user reconnects before its next task.
"""

from __future__ import annotations

import random
import time
from typing import ClassVar

from locust import User, events, task

from bench.bench_load import photo_png
from bench.load.protocol import (
    PAIR,
    TEN_CLASS,
    ProtocolError,
    Run,
    Session,
    load_strokes,
    vary,
)

STROKES = load_strokes()
PAIR_DIGITS = (0, 1)  # the pair the sidebar shows first on "Two digits"


class WrongDigit(AssertionError):
    """The Prediction shown is not the digit the simulated student drew or uploaded."""


def jittered_pacing(user: Student) -> float:
    """Seconds to wait so that tasks start every ``interval`` × U(1 - jitter, 1 + jitter) s.

    Locust's ``constant_pacing`` with a random target: the mean rate per user stays
    ``1 / interval``, the users drift apart as a classroom does.
    """
    target = user.interval * user.rng.uniform(1 - user.jitter, 1 + user.jitter)
    now = time.perf_counter()
    ran = now - user.last_start
    wait = max(0.0, target - ran)
    user.last_start = now + wait
    return wait


class Student(User):
    """One student's session. ``interval``, ``jitter`` and the task weights are set by run.py."""

    interval = 3.0
    jitter = 0.5
    timeout = 30.0
    wait_time = jittered_pacing
    counters: ClassVar[dict[str, int]] = {"wrong": 0, "errors": 0}  # all users together

    def on_start(self) -> None:
        self.rng = random.Random()
        self.last_start = time.perf_counter()
        self.session: Session | None = None
        self.open()

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()

    # ------------------------------------------------------------ reporting

    def record(
        self,
        name: str,
        start: float,
        run: Run | None,
        expected: int | None,
        error: Exception | None = None,
    ) -> None:
        """One Locust request: time to the Prediction, failed if wrong or errored."""
        if error is None and run is not None and expected is not None:
            shown = run.prediction
            if shown is None:
                error = ProtocolError("the run finished without a Prediction")
            elif shown.rstrip("?") != str(expected):
                error = WrongDigit(f"expected {expected}, shown {shown}")
                Student.counters["wrong"] += 1
        if error is not None and not isinstance(error, WrongDigit):
            Student.counters["errors"] += 1
        end = run.prediction_at if run is not None and run.prediction_at else time.perf_counter()
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(end - start) * 1000,
            response_length=run.bytes_received if run is not None else 0,
            exception=error,
            context={},
        )

    def open(self) -> None:
        start = time.perf_counter()
        try:
            self.session = Session(self.host, timeout=self.timeout)
            run = self.session.connect()
        except Exception as error:  # a bench reports, it goes on
            self.record("open", start, None, None, error)
            self.session = None
            return
        self.record("open", start, run, None)

    def ready(self) -> Session | None:
        """The session, reconnected after a failure; None if that failed too."""
        if self.session is None:
            self.open()
        return self.session

    def fail(self, name: str, start: float, error: Exception) -> None:
        self.record(name, start, None, None, error)
        if self.session is not None:
            self.session.close()
        self.session = None

    def clear_and_draw(self, session: Session, digit: int, name: str = "draw") -> Run:
        if session.page and session.page != session.pages["Draw"][0]:
            session.goto("Draw")
        session.clear_canvas()
        start = time.perf_counter()
        run = session.draw(vary(self.rng.choice(STROKES[digit]), self.rng))
        self.record(name, start, run, digit)
        return run

    # ------------------------------------------------------------ tasks

    @task(8)
    def draw(self) -> None:
        session = self.ready()
        if session is None:
            return
        start = time.perf_counter()
        try:
            self.clear_and_draw(session, self.rng.choice(sorted(STROKES)))
        except Exception as error:
            self.fail("draw", start, error)

    @task(1)
    def upload(self) -> None:
        session = self.ready()
        if session is None:
            return
        digit = self.rng.randrange(10)
        start = time.perf_counter()
        try:
            session.goto("Upload a photo")
            data = photo_png(digit, self.rng)
            start = time.perf_counter()
            run = session.upload(data, f"digit-{digit}.png")
            self.record("upload", start, run, digit)
            session.goto("Draw")
        except Exception as error:
            self.fail("upload", start, error)

    @task(1)
    def switch_model(self) -> None:
        session = self.ready()
        if session is None:
            return
        digit = self.rng.choice(PAIR_DIGITS)
        start = time.perf_counter()
        try:
            self.clear_and_draw(session, digit)
            start = time.perf_counter()
            self.record("model", start, session.choose_model(PAIR), digit)
            start = time.perf_counter()
            self.record("model", start, session.choose_model(TEN_CLASS), digit)
        except Exception as error:
            self.fail("model", start, error)


@events.init.add_listener
def _reset_counters(**_kwargs) -> None:
    Student.counters.update(wrong=0, errors=0)
