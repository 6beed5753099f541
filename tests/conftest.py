"""Shared fixtures: where MNIST is, and the MNIST splits loaded once per run."""

from __future__ import annotations

import os
from pathlib import Path

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
