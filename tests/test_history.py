"""Training you can watch: what each solver records, and replaying it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core import fit_server
from core.history import STEPS, History, Watcher, objective
from core.logistic import fit_lbfgs
from core.train import SOLVER_PENALTIES, TrainConfig, TrainingJob, train


def test_history_keeps_float16_weights_and_replays_the_right_step():
    history = History("lbfgs")
    for step in range(1, 4):
        history.add(step, 1.0 / step, 0.5 + step / 10, np.full((10, 784), step, np.float64))
    assert len(history) == 3 and history.steps == [1, 2, 3]
    assert history.weights[0].dtype == np.float16
    assert history.nbytes == 3 * 10 * 784 * 2
    assert np.all(history.snapshot(1) == 2.0) and history.snapshot(1).dtype == np.float32
    _, losses, accuracies = history.curves()
    assert losses == [1.0, 0.5, pytest.approx(1 / 3)] and accuracies[-1] == pytest.approx(0.8)
    with pytest.raises(IndexError, match="step 4 not recorded"):
        history.snapshot(3)


def test_objective_is_the_lbfgs_objective():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y = rng.integers(0, 3, 200)
    seen = []
    fit = fit_lbfgs(
        x, y, 3, C=0.5, max_iter=5, on_step=lambda i, w, b, loss: seen.append((w.copy(), b, loss))
    )
    assert len(seen) == fit.iterations
    w, b, loss = seen[-1]
    assert objective(x, y, w, b, 0.5) == pytest.approx(loss, rel=1e-5)


def test_watcher_measures_accuracy_for_softmax_and_sigmoid():
    x = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    assert Watcher(x, np.array([0, 1])).accuracy(np.eye(2), np.zeros(2)) == 1.0
    assert Watcher(x, np.array([0, 1])).accuracy(np.array([[-1.0, 1.0]]), np.zeros(1)) == 1.0
    assert np.isnan(Watcher(x[:0], np.zeros(0)).accuracy(np.eye(2), np.zeros(2)))


def test_every_solver_has_a_step_kind():
    assert set(STEPS) == set(SOLVER_PENALTIES)


@pytest.mark.mnist
@pytest.mark.parametrize(
    ("solver", "task", "penalty"),
    [
        ("lbfgs", "ten-class", "l2"),
        ("saga", "ten-class", "none"),
        ("sag", "binary", "l2"),
        ("newton-cg", "binary", "l2"),
        ("newton-cholesky", "binary", "l2"),
        ("liblinear", "binary", "l1"),
    ],
)
def test_each_solver_records_one_entry_per_step(mnist_train, mnist_test, solver, task, penalty):
    digits = (3, 7) if task == "binary" else ()
    config = TrainConfig(
        task=task,
        digits=digits,
        solver=solver,
        penalty=penalty,
        tol=0.01,
        train_size=2_000,
        test_size=500,
        input_transform="none",
    )
    history = History(solver)
    model = train(config, mnist_train, mnist_test, history=history)
    assert history.step_name == STEPS[solver]
    if STEPS[solver] == "end only":
        assert len(history) == 1 and history.steps == [model.card["iterations"]]
    else:
        assert len(history) == model.card["iterations"] >= 1
        assert history.steps == list(range(1, len(history) + 1))
    outputs = 10 if task == "ten-class" else 1
    assert history.snapshot(len(history) - 1).shape == (outputs, 784)
    # The last snapshot is the model's weights (float16), and the curves are sane.
    np.testing.assert_allclose(
        history.snapshot(len(history) - 1), model.coef_, atol=2e-3 * np.abs(model.coef_).max()
    )
    assert history.loss[-1] <= history.loss[0] + 1e-9
    assert all(0 <= a <= 1 for a in history.test_accuracy)
    assert abs(history.test_accuracy[-1] - model.card["test"]["accuracy"]) < 0.05


@pytest.mark.mnist
@pytest.mark.parametrize(
    ("solver", "task", "penalty"),
    [("saga", "binary", "l2"), ("sag", "ten-class", "l2"), ("saga", "ten-class", "l1")],
)
def test_recording_sag_is_the_unrecorded_fit_epoch_for_epoch(
    mnist_train, mnist_test, solver, task, penalty
):
    config = TrainConfig(
        task=task,
        digits=(3, 7) if task == "binary" else (),
        solver=solver,
        penalty=penalty,
        C=1.0,
        tol=1e-3 if task == "binary" else 0.05,
        train_size=3_000,
        test_size=500,
    )
    history = History(solver)
    recorded = train(config, mnist_train, mnist_test, history=history)
    plain = train(config, mnist_train, mnist_test)
    # Memory carried and one sample stream: the same epochs, so the same weights and stop
    # (a restarted memory or a reseeded order would land a few percent away).
    np.testing.assert_allclose(recorded.coef_, plain.coef_, rtol=1e-5, atol=1e-7)
    assert len(history) == recorded.card["iterations"] == plain.card["iterations"]
    assert recorded.card["converged"] == plain.card["converged"]


@pytest.mark.mnist
def test_a_training_job_fills_its_history_and_cancel_still_stops_it(mnist_train, mnist_test):
    job = TrainingJob(
        TrainConfig(task="binary", digits=(0, 1), train_size=3_000), mnist_train, mnist_test
    ).start()
    job.wait(60)
    assert job.model is not None and len(job.history) == job.model.card["iterations"]
    if not fit_server.AVAILABLE:
        return
    job = TrainingJob(
        TrainConfig(solver="saga", penalty="none", tol=1e-9, max_iter=10_000, train_size=5_000),
        mnist_train,
        mnist_test,
    ).start()
    while len(job.history) < 2 and job.running:
        job.wait(0.1)
    job.cancel()
    assert job.wait(10) and job.cancelled


@pytest.mark.mnist
@pytest.mark.parametrize(
    ("solver", "task"), [("newton-cg", "ten-class"), ("newton-cholesky", "binary")]
)
def test_recording_a_newton_solver_is_the_unrecorded_fit_step_for_step(
    mnist_train, mnist_test, solver, task
):
    config = TrainConfig(
        task=task,
        digits=(3, 7) if task == "binary" else (),
        solver=solver,
        train_size=2_000,  # all of them in the recorded loss: it is the exact objective
        test_size=500,
        input_transform="none",
    )
    history = History(solver)
    recorded = train(config, mnist_train, mnist_test, history=history)
    plain = train(config, mnist_train, mnist_test)
    np.testing.assert_allclose(recorded.coef_, plain.coef_, rtol=1e-4, atol=1e-6)
    assert len(history) == recorded.card["iterations"] == plain.card["iterations"]
    scale = np.abs(plain.coef_).max()
    np.testing.assert_allclose(history.snapshot(len(history) - 1), plain.coef_, atol=2e-3 * scale)
    # A Newton step with a line search lowers the objective every time.
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(history.loss))
