"""Shared fixtures: where MNIST is, and the MNIST splits loaded once per run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from core.data import Split, load_split, mnist_available

REPO = Path(__file__).resolve().parent.parent
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def user_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes its saved models and digits to a fresh directory, never ~."""
    home = tmp_path_factory.mktemp("digit-lens-home")
    monkeypatch.setenv("DIGIT_LENS_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """MNIST_DIR if set, else ../shared/data/mnist beside the checkout.

    Locally a missing MNIST skips the test; in CI it fails, because CI has it.
    """
    directory = Path(os.environ.get("MNIST_DIR") or SHARED_MNIST)
    if not mnist_available(directory):
        message = f"MNIST not found in {directory}: set MNIST_DIR"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return directory


@pytest.fixture(scope="session")
def mnist_train(mnist_dir: Path) -> Split:
    return load_split("train", mnist_dir)


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path) -> Split:
    return load_split("test", mnist_dir)


@pytest.fixture
def fake_openml(mnist_train: Split, mnist_test: Split, monkeypatch):
    """OpenML reachable, and ``fetch_openml("mnist_784")`` answering as it does online.

    The answer is built from the local MNIST (its 70,000 rows in OpenML's order and
    types: float pixels, string labels), so a "download" can be checked file for file.
    Returns the list of the calls' arguments.
    """
    import sklearn.datasets
    from sklearn.utils import Bunch

    from core import data

    calls = []

    def fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        images = np.concatenate([mnist_train.images, mnist_test.images]).reshape(-1, 784)
        labels = np.concatenate([mnist_train.labels, mnist_test.labels]).astype(str)
        return Bunch(data=images.astype(np.float64), target=labels.astype(object))

    monkeypatch.setattr(data, "_online", lambda *args, **kwargs: True)
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch_openml)
    return calls
