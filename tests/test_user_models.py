"""Models the user saves under a name: same safe format, loaded back by name."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ModelError
from core.model import (
    DigitModel,
    load_model,
    save_user_model,
    user_model_names,
    user_models_dir,
)


def _model(seed: int = 0, classes=(3, 7)) -> DigitModel:
    rows = 1 if len(classes) == 2 else len(classes)
    rng = np.random.default_rng(seed)
    return DigitModel(
        rng.normal(0, 0.1, (rows, 784)),
        rng.normal(0, 0.1, rows),
        classes,
        {"name": "binary-3-7", "input_transform": "deskew+soften", "task": "binary"},
    )


def test_saved_model_loads_back_by_name_with_the_same_answers(user_home):
    assert user_model_names() == []
    model = _model()
    path = save_user_model(model, "my-3v7_a")
    assert path.parent == user_models_dir() and path.parent.is_relative_to(user_home)
    assert user_model_names() == ["my-3v7_a"]
    loaded = load_model("my-3v7_a")
    assert loaded.name == "my-3v7_a"
    assert loaded.fingerprint == model.fingerprint
    images = np.random.default_rng(2).random((4, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(images), model.predict_proba(images))
    assert model.name == "binary-3-7"  # the caller's model keeps its own card
    # Shipped names still mean the shipped models.
    assert load_model("binary-3-7").fingerprint != model.fingerprint


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ten-class", "shipped model"),
        ("binary-3-7", "shipped model"),
        ("../escape", "not allowed"),
        ("has space", "not allowed"),
        ("", "not allowed"),
        ("x" * 65, "not allowed"),
        ("-leading", "not allowed"),
    ],
)
def test_bad_names_are_refused(name, message):
    with pytest.raises(ModelError, match=message):
        save_user_model(_model(), name)
    assert user_model_names() == []


def test_overwrite_only_when_asked():
    save_user_model(_model(seed=0), "mine")
    first = load_model("mine").fingerprint
    with pytest.raises(ModelError, match="exists"):
        save_user_model(_model(seed=1), "mine")
    assert load_model("mine").fingerprint == first  # nothing lost
    save_user_model(_model(seed=1), "mine", overwrite=True)
    assert load_model("mine").fingerprint == _model(seed=1).fingerprint
    assert user_model_names() == ["mine"]


def test_a_damaged_saved_model_is_refused_in_one_line():
    save_user_model(_model(), "broken")
    npz = user_models_dir() / "broken.npz"
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(ModelError, match="checksum"):
        load_model("broken")
    with pytest.raises(ModelError, match="unknown model 'nothing-saved'"):
        load_model("nothing-saved")


def test_fingerprint_tells_models_apart():
    assert _model(0).fingerprint == _model(0).fingerprint
    assert _model(0).fingerprint != _model(1).fingerprint
    ten = _model(0, classes=tuple(range(10)))
    assert len(ten.fingerprint) == 64


def test_a_save_that_cannot_be_written_is_one_model_error_and_leaves_no_partial_files(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ModelError, match="cannot save model 'mine'"):
        _model().save(blocker / "models", "mine")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
