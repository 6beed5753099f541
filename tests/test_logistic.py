"""core.logistic.fit_lbfgs reaches scikit-learn's lbfgs optimum, deterministically."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from core import logistic
from core.logistic import fit_lbfgs


def blobs(n_classes: int, rows: int = 600, dim: int = 12, seed: int = 0):
    """Overlapping Gaussian classes: the optimum is finite even without a penalty."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, n_classes, rows)
    centres = rng.normal(0, 1.0, (n_classes, dim))
    features = centres[targets] + rng.normal(0, 1.5, (rows, dim))
    return features.astype(np.float32), targets


def sklearn_fit(features, targets, C, sample_weight=None):
    estimator = LogisticRegression(C=C, tol=1e-10, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(features.astype(np.float64), targets, sample_weight=sample_weight)
    return estimator


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("C", [0.05, 1.0, np.inf])
def test_same_optimum_as_scikit_learn(n_classes, C):
    features, targets = blobs(n_classes)
    reference = sklearn_fit(features, targets, C)
    ours = fit_lbfgs(features, targets, n_classes, C=C, tol=1e-8, max_iter=5000)
    assert ours.converged
    assert ours.coef.shape == reference.coef_.shape
    np.testing.assert_allclose(ours.coef, reference.coef_, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(ours.intercept, reference.intercept_, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sample_weights_as_scikit_learn(n_classes):
    features, targets = blobs(n_classes, seed=1)
    weights = np.random.default_rng(2).uniform(0.2, 5.0, len(targets))
    reference = sklearn_fit(features, targets, 0.5, sample_weight=weights)
    ours = fit_lbfgs(
        features, targets, n_classes, C=0.5, tol=1e-8, max_iter=5000, sample_weight=weights
    )
    np.testing.assert_allclose(ours.coef, reference.coef_, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(ours.intercept, reference.intercept_, rtol=2e-3, atol=2e-3)


def test_starting_at_the_optimum_stays_there():
    features, targets = blobs(3)
    first = fit_lbfgs(features, targets, 3, C=1.0, tol=1e-8, max_iter=5000)
    again = fit_lbfgs(
        features, targets, 3, C=1.0, tol=1e-6, max_iter=5000, init=(first.coef, first.intercept)
    )
    assert again.iterations <= 2
    np.testing.assert_allclose(again.coef, first.coef, atol=1e-4)


def test_the_same_model_whatever_the_number_of_cores(monkeypatch):
    features, targets = blobs(4, rows=1000)
    monkeypatch.setattr(logistic, "BLOCK_ROWS", 64)  # 16 blocks, so every worker has some
    fits = []
    for cores in (1, 2, 3):
        monkeypatch.setattr(logistic, "_cores", lambda cores=cores: cores)
        fits.append(fit_lbfgs(features, targets, 4, C=1.0, max_iter=50))
    for fit in fits[1:]:
        assert fit.iterations == fits[0].iterations
        np.testing.assert_array_equal(fit.coef, fits[0].coef)
        np.testing.assert_array_equal(fit.intercept, fits[0].intercept)


def test_on_iteration_counts_steps_and_can_stop_the_fit():
    features, targets = blobs(3)
    seen = []

    class Stop(Exception):
        pass

    def on_iteration(step: int) -> None:
        seen.append(step)
        if step == 3:
            raise Stop

    with pytest.raises(Stop):
        fit_lbfgs(features, targets, 3, tol=1e-10, max_iter=1000, on_iteration=on_iteration)
    assert seen == [1, 2, 3]


def test_max_iter_reached_is_not_converged():
    features, targets = blobs(3)
    fit = fit_lbfgs(features, targets, 3, tol=1e-12, max_iter=2)
    assert fit.iterations == 2 and not fit.converged


@pytest.mark.parametrize(
    "targets, n_classes, init",
    [
        (np.array([0, 1, 3]), 3, None),  # a target outside 0..n_classes-1
        (np.array([0, -1, 1]), 2, None),
        (np.array([0, 0, 0]), 1, None),  # one class is not a classification
        (np.array([], dtype=int), 2, None),
        (np.array([0, 1, 2]), 3, (np.zeros((2, 2)), np.zeros(3))),  # init of the wrong shape
    ],
)
def test_bad_targets_or_init_are_refused(targets, n_classes, init):
    features = np.ones((len(targets), 2), np.float32)
    with pytest.raises(ValueError, match="must be"):
        fit_lbfgs(features, targets, n_classes, init=init)


def test_the_loss_stays_finite_when_a_class_is_far_behind():
    features, targets = blobs(3)
    objective = logistic._Objective(features, targets, 3, 1.0, None)
    theta = np.zeros(objective.dim * 3 + 3)
    theta[-3:] = [0.0, 0.0, -500.0]  # class 2 scores 500 below the others everywhere
    loss, gradient = objective(theta)
    assert np.isfinite(loss) and np.all(np.isfinite(gradient))
    assert loss > 100  # the images of class 2 are each about 500 nats wrong


def test_fits_in_several_sessions_at_once_restore_blas_threads_once_all_end():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    first, second = logistic._one_blas_thread(), logistic._one_blas_thread()
    first.__enter__()
    second.__enter__()
    assert set(blas_threads()) == {1}
    first.__exit__(None, None, None)
    assert set(blas_threads()) == {1}  # the second fit still runs
    second.__exit__(None, None, None)
    assert blas_threads() == before


@pytest.mark.parametrize(
    "rows, weights, message",
    [
        (5, None, "features must be"),  # 5 feature rows for 4 targets
        (4, np.array([1.0, 1.0, -1.0, 1.0]), "sample_weight"),
        (4, np.zeros(4), "sample_weight"),
        (4, np.ones(3), "sample_weight"),
    ],
)
def test_mismatched_features_or_weights_are_refused(rows, weights, message):
    with pytest.raises(ValueError, match=message):
        fit_lbfgs(np.ones((rows, 2), np.float32), np.array([0, 1, 0, 1]), 2, sample_weight=weights)
