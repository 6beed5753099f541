"""Models measured on saved digits, and a model adapted to one person's hand."""

from __future__ import annotations

import numpy as np
import pytest

from core import augment
from core.adapt import (
    AdaptConfig,
    _folds,
    adapt,
    evaluate_saved,
    meaningful_pairs,
    mnist_sample,
)
from core.errors import TrainingError
from core.model import load_model
from core.preprocess import preprocess
from core.storage import mnist_pixels
from tests.personal import personal_set

TEN = load_model("ten-class")


@pytest.fixture(scope="module")
def personal() -> tuple[np.ndarray, np.ndarray]:
    """100 digits of one person (tests/personal.py), as saved: uint8 MNIST format."""
    pairs = personal_set(100)
    images = np.stack([mnist_pixels(preprocess(data).pixels) for data, _ in pairs])
    return images, np.array([label for _, label in pairs], np.uint8)


def test_saved_digits_are_measured_per_model(personal):
    images, labels = personal
    result = evaluate_saved(TEN, images, labels)
    predicted = TEN.predict(images.astype(np.float32) / 255)
    assert result["n"] == 100
    assert result["accuracy"] == pytest.approx(float(np.mean(predicted == labels)))
    assert np.trace(result["confusion"]) == round(result["accuracy"] * 100)
    # A pair is measured on the saved digits of its two classes only.
    pair = load_model("binary-3-8")
    result = evaluate_saved(pair, images, labels)
    assert result["n"] == 20 and result["classes"] == [3, 8]
    assert evaluate_saved(pair, images[labels == 1], labels[labels == 1]) is None


def test_meaningful_pairs_need_both_digits_saved():
    assert meaningful_pairs(np.array([3, 7, 7, 3, 1])) == ["binary-1-3", "binary-1-7", "binary-3-7"]
    assert meaningful_pairs(np.array([4, 4])) == []


def test_folds_split_every_digit_evenly_and_once():
    labels = np.repeat(np.arange(10), [12, 10, 10, 10, 10, 10, 10, 10, 10, 3])
    folds = _folds(labels, 5, seed=0)
    joined = np.concatenate(folds)
    assert sorted(joined.tolist()) == list(range(len(labels)))  # each digit once
    for fold in folds:
        assert 17 <= len(fold) <= 19
        assert np.bincount(labels[fold], minlength=10)[1:9].tolist() == [2] * 8


def test_too_few_saved_digits_or_bad_settings_are_refused(personal):
    images, labels = personal
    mnist = (np.zeros((10, 784), np.float32), np.arange(10))
    with pytest.raises(TrainingError, match="at least 10 saved digits"):
        adapt(TEN, images[:9], labels[:9], mnist)
    with pytest.raises(TrainingError, match="weight"):
        adapt(TEN, images, labels, mnist, config=AdaptConfig(weight=0))
    with pytest.raises(TrainingError, match="folds"):
        adapt(TEN, images[:12], labels[:12], mnist, config=AdaptConfig(folds=13))


@pytest.mark.mnist
def test_adapted_model_reads_held_out_saved_digits_at_least_as_well(
    personal, mnist_train, mnist_test
):
    images, labels = personal
    config = AdaptConfig(mnist_size=2_000)
    steps = []
    result = adapt(
        TEN,
        images,
        labels,
        mnist_sample(mnist_train, TEN, config.mnist_size, config.seed),
        mnist_test,
        config,
        progress=lambda message, fraction: steps.append(fraction),
    )
    assert result.n_saved == 100 and result.folds == 5
    assert result.base_saved["n"] == result.adapted_saved["n"] == 100
    shipped, adapted = result.base_saved["accuracy"], result.adapted_saved["accuracy"]
    # Each digit read by a fold model that never saw it, the adapted model does at least as well.
    assert adapted >= shipped
    assert result.base_mnist["n"] == result.adapted_mnist["n"] == 10_000
    assert result.adapted_mnist["accuracy"] > 0.93  # what is lost on MNIST stays small
    assert steps == sorted(steps) and steps[-1] == 1.0
    model = result.model
    assert model.card["adapted_from"] == "ten-class" and model.card["saved_digits"] == 100
    assert model.card["saved_cross_validated"]["accuracy"] == adapted
    assert model.input_transform == TEN.input_transform
    # Trained on all the saved digits, the final model reads them (resubstitution, not a measure).
    assert np.mean(model.predict(images.astype(np.float32) / 255) == labels) >= adapted


def test_a_sample_without_every_class_is_refused_in_one_line(personal):
    images, labels = personal
    low = labels < 5  # the saved digits 0-4 only, and an MNIST sample of 0-4 only
    mnist = (np.zeros((20, 784), np.float32), np.arange(20) % 5)
    with pytest.raises(TrainingError, match="lacks some of the model's classes"):
        adapt(TEN, images[low], labels[low], mnist)


def test_the_mnist_sample_has_the_styles_the_base_model_learned(mnist_train):
    seen, targets = mnist_sample(mnist_train, TEN, 2_000, seed=0)
    assert TEN.card["parameters"]["augment"] == "four-styles+print"
    assert len(targets) > 2_000 and seen.shape == (len(targets), 784)
    # the printed digits come last, a seventh as many as MNIST's and the styled ones
    chosen = np.sort(np.random.default_rng(0).permutation(60_000)[:2_000])
    images, labels = mnist_train.images[chosen], mnist_train.labels[chosen]
    styled = len(augment.styles(images, labels, 0, augment.STYLE_SETS["four-styles"])[1])
    assert len(targets) == styled + 10 * round(styled * augment.PRINTED_SHARE / 10)
    assert np.array_equal(targets[styled:], np.arange(len(targets) - styled) % 10)
    pair = load_model("binary-3-8")  # MNIST's alone: the sample is MNIST's alone
    _, pair_targets = mnist_sample(mnist_train, pair, 2_000, seed=0)
    labels = mnist_train.labels[np.sort(np.random.default_rng(0).permutation(60_000)[:2_000])]
    assert len(pair_targets) == np.isin(labels, (3, 8)).sum()
