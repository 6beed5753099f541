"""core.jobs: the one background-job mechanism of training, adapting and the MNIST download."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.adapt import AdaptConfig, adapt
from core.errors import DataError
from core.jobs import Cancelled, Job, checkpoint
from core.model import load_model


def counting(steps: int, gate: threading.Event | None = None):
    """Work of ``steps`` steps that waits for ``gate`` before each one."""

    def work(progress, cancel) -> int:
        step = checkpoint(progress, cancel)
        for i in range(steps):
            if gate is not None:
                gate.wait(10)
            step(f"step {i + 1} of {steps}", (i + 1) / steps)
        return steps

    return work


def test_a_job_reports_progress_and_its_result():
    job = Job(counting(3), what="counting").start()
    assert job.wait(10)
    assert (job.result, job.error, job.cancelled, job.running) == (3, None, False, False)
    assert (job.message, job.fraction) == ("step 3 of 3", 1.0)
    assert job.elapsed >= 0


def test_cancel_stops_at_the_next_step():
    gate = threading.Event()
    job = Job(counting(5, gate)).start()
    job.cancel()
    assert job.cancelling
    gate.set()
    assert job.wait(10)
    assert job.cancelled and job.result is None and job.error is None
    assert not job.cancelling


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (DataError("MNIST is not there"), "MNIST is not there"),
        (MemoryError("no room\nsecond line"), "adapting failed: MemoryError: no room"),
    ],
)
def test_errors_end_in_one_line(error, line):
    def work(progress, cancel):
        raise error

    job = Job(work, what="adapting").start()
    assert job.wait(10)
    assert job.error == line and not job.cancelled


def test_following_a_job_shows_progress_and_an_interrupted_follower_cancels_it():
    gate = threading.Event()
    shown: list[tuple[str, float]] = []
    job = Job(counting(3)).follow(lambda text, fraction: shown.append((text, fraction)), 0.01)
    assert job.result == 3 and not job.running

    class Stop(Exception):  # what Streamlit raises in a run the user stopped
        pass

    def stop(text: str, fraction: float) -> None:
        raise Stop

    job = Job(counting(3, gate))
    with pytest.raises(Stop):
        job.follow(stop, 0.01)
    gate.set()
    assert job.wait(10) and job.cancelled


def test_adapting_stops_once_cancelled():
    base = load_model("binary-3-7")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = np.array([3, 7] * 20, np.uint8)
    sample = (base.transform(images / 255.0).reshape(40, -1), labels.astype(np.int64))
    cancel = threading.Event()
    iterations: list[str] = []

    def progress(message: str, fraction: float) -> None:
        iterations.append(message)
        cancel.set()  # as the first fold starts

    with pytest.raises(Cancelled):
        adapt(base, images, labels, sample, None, AdaptConfig(folds=2), progress, cancel)
    assert len(iterations) == 1  # the first fold started, and nothing after it
