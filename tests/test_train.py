"""Training: invalid combinations refused; what it trains on real MNIST is accurate."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.errors import TrainingError
from core.train import REST, Cancelled, TrainConfig, evaluate, task_data, train, validate


@pytest.mark.parametrize(
    "config, message",
    [
        (TrainConfig(task="eleven"), "unknown task"),
        (TrainConfig(task="binary", digits=(3,)), "needs 2 digit"),
        (TrainConfig(task="binary", digits=(3, 3)), "two different"),
        (TrainConfig(task="one-vs-rest", digits=(12,)), "0-9"),
        (TrainConfig(penalty="l1", solver="lbfgs"), "cannot fit penalty l1: use saga or liblinear"),
        (TrainConfig(penalty="elasticnet", solver="saga", l1_ratio=1.0), "0 < l1_ratio < 1"),
        (TrainConfig(penalty="none", solver="liblinear"), "cannot fit penalty none"),
        (TrainConfig(solver="liblinear"), "two classes only"),
        (TrainConfig(C=0.0), "C must be a positive"),
        (TrainConfig(C=float("nan")), "C must be a positive"),
        (TrainConfig(tol=-1.0), "tol"),
        (TrainConfig(max_iter=0), "max_iter"),
        (TrainConfig(train_size=5), "train_size"),
        (TrainConfig(solver="adam"), "unknown solver"),
        (TrainConfig(input_transform="fourier"), "unknown input transform"),
    ],
)
def test_invalid_combinations_are_refused(config, message):
    with pytest.raises(TrainingError, match=message):
        validate(config)


def test_valid_combinations_pass():
    for config in (
        TrainConfig(),
        TrainConfig(task="binary", digits=(7, 3), solver="liblinear", penalty="l1"),
        TrainConfig(penalty="elasticnet", solver="saga", l1_ratio=0.3),
        TrainConfig(penalty="none", solver="saga"),
    ):
        assert validate(config).task == config.task


def test_task_data_keeps_the_pair_and_labels_the_rest():
    images = np.zeros((6, 28, 28), np.uint8)
    labels = np.array([3, 7, 1, 3, 9, 7])
    pair_images, pair_labels = task_data(TrainConfig(task="binary", digits=(3, 7)), images, labels)
    assert pair_labels.tolist() == [3, 7, 3, 7]
    assert pair_images.dtype == np.float32
    _, rest = task_data(TrainConfig(task="one-vs-rest", digits=(3,)), images, labels)
    assert rest.tolist() == [3, REST, REST, 3, REST, REST]


def test_cancel_stops_training(mnist_train):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        train(TrainConfig(task="binary", digits=(0, 1)), mnist_train, cancel=stop)


def test_binary_pair_trained_on_all_of_mnist_reaches_99(mnist_train, mnist_test):
    model = train(TrainConfig(task="binary", digits=(3, 7)), mnist_train, mnist_test)
    assert model.card["test"]["accuracy"] >= 0.99
    assert model.classes_.tolist() == [3, 7]
    assert model.card["training_data_sha256"] == mnist_train.checksum
    assert model.card["versions"]["scikit-learn"]
    # The card's figure is what the model really does on the pair's test images.
    images, labels = task_data(
        model_config := TrainConfig(task="binary", digits=(3, 7)),
        mnist_test.images,
        mnist_test.labels,
    )
    assert evaluate(model, images, labels)["accuracy"] == model.card["test"]["accuracy"]
    assert model_config.name == "binary-3-7"


def test_ten_class_on_a_subset_learns_and_records_its_card(mnist_train, mnist_test):
    steps = []
    model = train(
        TrainConfig(train_size=6_000, max_iter=100, seed=1),
        mnist_train,
        mnist_test,
        progress=lambda message, fraction: steps.append(fraction),
    )
    card = model.card
    assert card["test"]["accuracy"] >= 0.91
    assert card["train_images"] == 6_000
    assert len(card["test"]["confusion"]) == 10
    assert sum(map(sum, card["test"]["confusion"])) == 10_000
    assert set(card["test"]["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert card["parameters"]["C"] == TrainConfig().C
    assert steps == sorted(steps) and steps[-1] == 1.0


def test_one_vs_rest_and_l1_sparsity(mnist_train, mnist_test):
    model = train(
        TrainConfig(
            task="one-vs-rest",
            digits=(2,),
            penalty="l1",
            solver="liblinear",
            C=0.05,
            train_size=5_000,
        ),
        mnist_train,
        mnist_test,
    )
    assert model.classes_.tolist() == [REST, 2]
    assert model.card["class_names"] == {str(REST): "not 2"}
    assert model.card["sparsity"] > 0.5  # L1 zeroes most pixels
    assert model.card["test"]["accuracy"] >= 0.95


def test_one_rule_says_which_solver_fits_which_penalty():
    from core.train import solver_problem, solvers_for

    assert solvers_for("l1", "binary") == ["saga", "liblinear"]
    assert solvers_for("l1", "ten-class") == ["saga"]
    assert solvers_for("elasticnet", "binary") == ["saga"]
    assert "lbfgs" in solvers_for("none", "ten-class")
    assert solver_problem("lbfgs", "l1", "binary").startswith("solver lbfgs cannot fit penalty l1")
    assert "two classes only" in solver_problem("liblinear", "l2", "ten-class")
    for solver in solvers_for("l2", "one-vs-rest"):
        validate(TrainConfig(task="one-vs-rest", digits=(2,), solver=solver))
