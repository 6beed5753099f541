"""The tutorials' experiments (core.experiments), without Streamlit, on small data."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from core.experiments import (
    gradient_descent,
    gradient_descent_by_hand,
    l1_path,
    solvers_compared,
    three_points,
)
from core.history import objective
from core.jobs import Cancelled, Job
from core.logistic import fit_lbfgs
from core.train import TrainConfig


def _tiny(classes: int = 3, n: int = 120, d: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(classes, d))
    y = rng.integers(0, classes, n)
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


@pytest.mark.parametrize("classes", [2, 3])
def test_gradient_descent_cost_falls_every_epoch(classes):
    x, y = _tiny(classes)
    coef, intercept, costs = gradient_descent(x, y, classes, learning_rate=0.1, epochs=50, C=1.0)
    assert len(costs) == 51 and costs[0] == pytest.approx(
        np.log(classes) if classes > 2 else np.log(2)
    )
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(costs))
    assert costs[-1] < 0.5 * costs[0]
    # The costs are the objective lbfgs minimises, measured at the weights returned.
    assert objective(x, y, coef, intercept, 1.0) == pytest.approx(costs[-1], rel=1e-6)


@pytest.mark.parametrize("classes", [2, 3])
def test_gradient_descent_weights_approach_lbfgs_on_a_tiny_problem(classes):
    x, y = _tiny(classes)
    fit = fit_lbfgs(x, y, classes, C=0.1, tol=1e-10, max_iter=1_000)
    gaps = []
    for epochs in (20, 200, 2_000):
        coef, _, _ = gradient_descent(x, y, classes, learning_rate=0.1, epochs=epochs, C=0.1)
        gaps.append(np.linalg.norm(coef - fit.coef) / np.linalg.norm(fit.coef))
    # Down to lbfgs's own precision (float32 products): under 1% of the weights' size.
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.01


def test_gradient_descent_refuses_a_bad_learning_rate():
    x, y = _tiny()
    with pytest.raises(ValueError, match="learning rate"):
        gradient_descent(x, y, 3, learning_rate=0.0)


def test_three_points_are_the_ends_and_the_middle():
    assert three_points(list(range(7))) == [0, 3, 6]
    assert three_points([1, 2]) == [1, 2]


@pytest.mark.mnist
def test_gradient_descent_by_hand_beside_lbfgs(mnist_train, mnist_test):
    config = TrainConfig(task="binary", digits=(0, 1), C=1.0, train_size=2_000, test_size=1_000)
    result = gradient_descent_by_hand(mnist_train, mnist_test, config, learning_rate=0.1, epochs=30)
    assert len(result.costs) == 31 and result.costs[-1] < result.costs[0]
    # L-BFGS gets lower on the same objective, and both read 0s and 1s well.
    assert min(result.lbfgs_costs) < result.costs[-1]
    assert result.accuracy > 0.95 and result.lbfgs_accuracy > 0.95
    assert result.weight_correlation > 0.3 and result.coef.shape == (1, 784)


@pytest.mark.mnist
def test_solvers_compared_reach_the_same_accuracy(mnist_train, mnist_test):
    config = TrainConfig(
        task="binary", digits=(3, 7), C=1.0, tol=1e-3, train_size=3_000, test_size=1_000,
        input_transform="none",
    )  # fmt: skip
    seen = []
    runs = solvers_compared(mnist_train, mnist_test, config, progress=lambda m, f: seen.append(f))
    assert [r.solver for r in runs] == [
        "lbfgs", "newton-cg", "newton-cholesky", "sag", "saga", "liblinear"
    ]  # fmt: skip
    accuracies = [r.accuracy for r in runs]
    assert max(accuracies) - min(accuracies) < 0.02 and min(accuracies) > 0.9
    assert all(r.seconds > 0 for r in runs) and seen[-1] == 1.0


@pytest.mark.mnist
def test_l1_path_zero_share_grows_as_c_shrinks(mnist_train, mnist_test):
    config = TrainConfig(
        task="binary", digits=(3, 7), penalty="l1", solver="liblinear", train_size=3_000,
        test_size=1_000, input_transform="none",
    )  # fmt: skip
    points = l1_path(mnist_train, mnist_test, config, Cs=(1.0, 0.05, 0.01, 0.001))
    assert [p.C for p in points] == [1.0, 0.05, 0.01, 0.001]
    zeros = [p.zero_share for p in points]
    assert zeros == sorted(zeros) and zeros[0] < zeros[-1] and zeros[-1] > 0.95
    assert points[0].accuracy > 0.95 and points[0].accuracy >= points[-1].accuracy


@pytest.mark.mnist
def test_an_experiment_runs_as_a_job_and_can_be_cancelled(mnist_train, mnist_test):
    started = threading.Event()

    def work(progress, cancel):
        def report(message, fraction):
            started.set()
            progress(message, fraction)

        return gradient_descent_by_hand(
            mnist_train, mnist_test, epochs=100_000, progress=report, cancel=cancel
        )

    job = Job(work, what="gradient descent").start()
    assert started.wait(30)
    job.cancel()
    assert job.wait(10) and job.cancelled and job.result is None
    with pytest.raises(Cancelled):
        gradient_descent_by_hand(mnist_train, mnist_test, cancel=_set())


def _set() -> threading.Event:
    event = threading.Event()
    event.set()
    return event
