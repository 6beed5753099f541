"""DigitModel: the logit identity, the safe file format, and the shipped models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core import model as model_module
from core.errors import ModelError
from core.model import (
    DigitModel,
    as_images,
    binary_name,
    load_model,
    probabilities,
    shipped_model_names,
)


def _small_model(classes=tuple(range(10)), transform="deskew", seed=0) -> DigitModel:
    rows = 1 if len(classes) == 2 else len(classes)
    rng = np.random.default_rng(seed)
    return DigitModel(
        rng.normal(0, 0.1, (rows, 784)),
        rng.normal(0, 0.1, rows),
        classes,
        {"name": "tiny", "input_transform": transform},
    )


def _images(count=5, seed=1) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 28, 28), dtype=np.float32)


@pytest.mark.parametrize("classes", [tuple(range(10)), (3, 7)])
def test_logit_identity_and_probabilities(classes):
    model = _small_model(classes)
    images = _images()
    logits = model.decision_function(images)
    for image, row_logits, row_proba in zip(
        images, logits, model.predict_proba(images), strict=True
    ):
        parts = model.contributions(image)
        sums = parts.intercepts + parts.maps.reshape(len(parts.maps), -1).sum(axis=1)
        assert np.allclose(sums, parts.logits, atol=1e-4)
        assert np.allclose(parts.logits, row_logits, atol=1e-4)
        expected = probabilities(parts.logits[None], model.is_binary)[0]
        assert np.allclose(expected, row_proba, atol=1e-6)
    assert np.allclose(model.predict_proba(images).sum(axis=1), 1.0)


def test_binary_map_reads_towards_the_second_digit():
    model = _small_model((3, 7))
    parts = model.contributions(_images(1)[0])
    assert parts.maps.shape == (1, 28, 28)
    assert parts.classes == (7,)
    sigmoid = 1 / (1 + np.exp(-parts.logits[0]))
    assert model.predict_proba(_images(1))[0, 1] == pytest.approx(sigmoid, abs=1e-6)


def test_model_applies_its_own_input_transform():
    image = np.zeros((1, 28, 28), np.float32)
    for row in range(6, 22):  # a slanted bar: deskewing straightens it
        image[0, row, 8 + row // 2] = 1.0
    deskewing = _small_model(transform="deskew")
    plain = DigitModel(deskewing.coef_, deskewing.intercept_, range(10), {"name": "plain"})
    seen = deskewing.contributions(image[0]).model_input
    assert not np.allclose(seen, image[0])
    assert np.allclose(deskewing.decision_function(image), plain.decision_function(seen[None]))


def test_save_and_load_round_trip(tmp_path):
    model = _small_model()
    card_path = model.save(tmp_path, "round-trip")
    loaded = load_model(card_path)
    assert np.array_equal(loaded.coef_, model.coef_)
    assert np.array_equal(loaded.intercept_, model.intercept_)
    assert loaded.classes_.tolist() == list(range(10))
    assert loaded.input_transform == "deskew"
    assert np.allclose(loaded.predict_proba(_images()), model.predict_proba(_images()))
    # Loading by the .npz path finds the card beside it.
    assert load_model(tmp_path / "round-trip.npz").name == "round-trip"


def test_saving_twice_writes_identical_arrays(tmp_path):
    model = _small_model()
    model.save(tmp_path / "a", "m")
    model.save(tmp_path / "b", "m")
    assert (tmp_path / "a/m.npz").read_bytes() == (tmp_path / "b/m.npz").read_bytes()


def _rewrite_checksum(card_path: Path) -> None:
    card = json.loads(card_path.read_text())
    card["arrays_sha256"] = model_module._sha256(card_path.with_suffix(".npz"))
    card_path.write_text(json.dumps(card))


def test_pickled_npz_is_refused(tmp_path):
    card_path = _small_model().save(tmp_path, "evil")
    payload = np.array([{"not": "numbers"}], dtype=object)
    np.savez(card_path.with_suffix(".npz"), coef=payload, intercept=payload, classes=payload)
    _rewrite_checksum(card_path)
    with pytest.raises(ModelError, match="pickle"):
        load_model(card_path)


def test_tampered_arrays_fail_the_checksum(tmp_path):
    card_path = _small_model().save(tmp_path, "tampered")
    other = _small_model(seed=5)
    other.save(tmp_path / "other", "tampered")
    shutil.copy(tmp_path / "other/tampered.npz", card_path.with_suffix(".npz"))
    with pytest.raises(ModelError, match="checksum"):
        load_model(card_path)


def test_truncated_npz_is_refused(tmp_path):
    card_path = _small_model().save(tmp_path, "cut")
    npz = card_path.with_suffix(".npz")
    npz.write_bytes(npz.read_bytes()[:200])
    _rewrite_checksum(card_path)
    with pytest.raises(ModelError, match=r"truncated|not a valid"):
        load_model(card_path)


def test_card_that_does_not_match_its_arrays_is_refused(tmp_path):
    card_path = _small_model().save(tmp_path, "mismatch")
    card = json.loads(card_path.read_text())
    card["classes"] = [3, 7]
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="do not match"):
        load_model(card_path)


@pytest.mark.parametrize(
    "name, message",
    [
        ("binary-7-3", "smaller digit first"),
        ("binary-4-4", "two different digits"),
        ("eleven-class", "unknown model"),
    ],
)
def test_bad_names_are_refused(name, message):
    with pytest.raises(ModelError, match=message):
        load_model(name)


def test_missing_model_file_is_refused(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "absent.json")


def test_arrays_are_read_only():
    model = _small_model()
    with pytest.raises(ValueError):
        model.coef_[0, 0] = 1.0
    with pytest.raises(ValueError):
        model.intercept_[0] = 1.0


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 27, 28)), "shape"),
        (np.zeros(784), "shape"),
        (np.full((1, 784), 255.0), "divide"),
        (np.full((1, 28, 28), np.nan), "NaN"),
        ("not an array", "numeric"),
    ],
)
def test_input_is_validated_with_a_useful_message(bad, message):
    with pytest.raises(ModelError, match=message):
        as_images(bad)


def test_flat_and_square_inputs_agree():
    model = _small_model()
    images = _images()
    assert np.allclose(model.predict_proba(images), model.predict_proba(images.reshape(5, 784)))


def test_binary_name_orders_the_pair():
    assert binary_name(7, 3) == "binary-3-7"
    with pytest.raises(ModelError):
        binary_name(2, 2)


def test_every_shipped_model_loads():
    names = shipped_model_names()
    assert len(names) == 46
    for name in names:
        loaded = load_model(name)
        assert loaded.name == name
        assert loaded.card["test"]["accuracy"] > 0.9


@pytest.mark.parametrize(
    "name, floor",
    [("ten-class", 0.96), ("binary-0-1", 0.9995), ("binary-3-7", 0.99)],
)
def test_shipped_models_reach_their_accuracy(name, floor, mnist_test):
    loaded = load_model(name)
    images = mnist_test.images.astype(np.float32) / 255.0
    labels = mnist_test.labels
    if loaded.is_binary:
        keep = np.isin(labels, loaded.classes_)
        images, labels = images[keep], labels[keep]
    accuracy = float((loaded.predict(images) == labels).mean())
    assert accuracy >= floor
    assert accuracy == pytest.approx(loaded.card["test"]["accuracy"], abs=1e-9)


def test_shipped_card_edited_by_hand_is_refused(tmp_path, monkeypatch):
    shipped = tmp_path / "models"
    shutil.copytree(model_module.MODELS_DIR, shipped)
    monkeypatch.setattr(model_module, "MODELS_DIR", shipped.resolve())
    assert load_model("binary-3-7").name == "binary-3-7"
    card_path = shipped / "binary-3-7.json"
    card = json.loads(card_path.read_text())
    card["input_transform"] = "none"  # consistent with its arrays, but not what shipped
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="SHA256SUMS"):
        load_model("binary-3-7")
    (shipped / "SHA256SUMS").unlink()
    with pytest.raises(ModelError, match="SHA256SUMS"):
        load_model("ten-class")


def test_shipped_manifest_ignores_only_the_time_and_timing(tmp_path, monkeypatch):
    shipped = tmp_path / "models"
    shutil.copytree(model_module.MODELS_DIR, shipped)
    monkeypatch.setattr(model_module, "MODELS_DIR", shipped.resolve())
    card_path = shipped / "ten-class.json"
    card = json.loads(card_path.read_text())
    # A retraining writes another time and timing, and its own formatting: still the model.
    card_path.write_text(json.dumps({**card, "created": "2030-01-01T00:00:00Z", "fit_seconds": 1}))
    assert load_model("ten-class").temperature == card["calibration"]["temperature"]
    # A changed calibration decides other answers: refused.
    card["calibration"] = {**card["calibration"], "temperature": 0.5}
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="SHA256SUMS"):
        load_model("ten-class")


def test_one_parser_for_model_names():
    from core.model import model_name, parse_model_name

    assert parse_model_name("ten-class") == ("ten-class", ())
    assert parse_model_name("binary-3-7") == ("binary", (3, 7))
    assert parse_model_name("binary-7-3") == ("binary", (7, 3))  # as written
    assert parse_model_name("2-vs-rest") == ("one-vs-rest", (2,))
    for other in ("my-hand", "binary-3", "binary-3-7-9", "12-vs-rest", "ten-classes", ""):
        assert parse_model_name(other) is None
    for name in ("ten-class", "binary-3-7", "2-vs-rest"):
        assert model_name(*parse_model_name(name)) == name
    assert model_name("binary", (7, 3)) == "binary-3-7"
