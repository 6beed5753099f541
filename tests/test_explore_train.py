"""Model explorer and Train pages, and the session/saved models they make active.

AppTest drives the pages; the pure logic they call is tested directly.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.data import Split
from core.model import DigitModel, load_model, save_user_model
from core.train import (
    PRESETS,
    REST,
    SOLVER_PENALTIES,
    Cancelled,
    TrainConfig,
    TrainingJob,
    evaluate,
    misclassified,
    task_config,
    task_data,
    task_indices,
    train,
    validate,
)
from pages.explain import KIND_SAVED, KIND_SESSION, KIND_TEN
from tests.strokes import DIGIT_STROKES, render_strokes

TIMEOUT = 60
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def canvas_png(digit: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(render_strokes(DIGIT_STROKES[digit][0], pen=18, mode="RGBA")).save(
        buffer, "PNG"
    )
    return buffer.getvalue()


def flipped(name: str = "binary-3-7") -> DigitModel:
    """A shipped binary model with its weights negated: it reads every 3 as 7 and back."""
    model = load_model(name)
    return DigitModel(-model.coef_, -model.intercept_, model.classes_, dict(model.card))


# ------------------------------------------------ session and saved models


def _session_models(data: bytes):
    import streamlit as st

    from pages.explain import active_model, analyse, model_sidebar, use_model
    from tests.test_explore_train import flipped

    name = model_sidebar()
    st.button("Use the flipped model", on_click=use_model, args=(flipped(), "flipped 3v7"))
    st.write(f"active: {name}")
    st.write(f"classes: {active_model().classes_.tolist()}")
    st.write(f"reads: {analyse(data, name, invert=True).predicted}")


def _lines(at: AppTest) -> dict[str, str]:
    return dict(m.value.split(": ", 1) for m in at.markdown if ": " in m.value)


def test_use_model_makes_a_trained_model_active_for_the_session():
    at = AppTest.from_function(_session_models, args=(canvas_png(3),), default_timeout=TIMEOUT)
    at.run()
    assert _lines(at) == {"active": "ten-class", "classes": str(list(range(10))), "reads": "3"}
    assert at.sidebar.radio[0].options == ["Ten digits (0-9)", "Two digits"]

    at.button[0].click().run()
    assert not at.exception
    assert at.sidebar.radio[0].value == KIND_SESSION
    lines = _lines(at)
    assert lines["active"].startswith("flipped 3v7@") and lines["classes"] == "[3, 7]"
    assert lines["reads"] == "7"  # the negated weights read the 3 as 7
    assert "flipped 3v7" in at.sidebar.caption[0].value

    # Back to a shipped model and again to the session's one: it is still there.
    at.sidebar.radio[0].set_value(KIND_TEN).run()
    assert _lines(at)["reads"] == "3"
    at.sidebar.radio[0].set_value(KIND_SESSION).run()
    assert _lines(at)["reads"] == "7"


def test_saved_models_appear_in_the_sidebar_picker():
    save_user_model(flipped(), "flipped-saved")
    at = AppTest.from_function(_session_models, args=(canvas_png(3),), default_timeout=TIMEOUT)
    at.run()
    assert KIND_SAVED in at.sidebar.radio[0].options
    at.sidebar.radio[0].set_value(KIND_SAVED).run()
    assert not at.exception
    assert at.sidebar.selectbox(key="saved_model").value == "flipped-saved"
    lines = _lines(at)
    assert lines["active"].startswith("flipped-saved@") and lines["reads"] == "7"

    # Saved again under the same name with other weights: the picker reads the new file.
    save_user_model(load_model("binary-3-7"), "flipped-saved", overwrite=True)
    at.run()
    assert _lines(at)["reads"] == "3"


# ------------------------------------------------------------ core pieces


def _tiny_split(count: int = 400, seed: int = 0) -> Split:
    """Random 'digits': enough for the training machinery, not for accuracy."""
    rng = np.random.default_rng(seed)
    images = (rng.random((count, 28, 28)) * 255).astype(np.uint8)
    return Split(images, np.arange(count, dtype=np.uint8) % 10)


def test_presets_are_valid_and_cover_the_issue():
    assert len(PRESETS) == 6
    for name, preset in PRESETS.items():
        config = validate(preset.config)
        assert preset.about, name
        assert config.penalty in SOLVER_PENALTIES[config.solver]
    tasks = {preset.config.task for preset in PRESETS.values()}
    assert tasks == {"ten-class", "binary", "one-vs-rest"}
    assert PRESETS["3 vs 7"].config.digits == (3, 7)


def test_task_config_reads_the_task_back_from_a_model():
    assert task_config(load_model("ten-class")) == TrainConfig(task="ten-class")
    assert task_config(load_model("binary-3-7")) == TrainConfig(task="binary", digits=(3, 7))
    rest = DigitModel(np.zeros((1, 784)), np.zeros(1), (REST, 2), {"task": "one-vs-rest"})
    assert task_config(rest) == TrainConfig(task="one-vs-rest", digits=(2,))
    labels = np.array([1, 3, 7, 7, 0])
    assert task_indices(TrainConfig(task="binary", digits=(3, 7)), labels).tolist() == [1, 2, 3]
    assert task_indices(TrainConfig(), labels).tolist() == [0, 1, 2, 3, 4]


def test_training_job_reports_progress_and_finishes_in_the_background():
    job = TrainingJob(TrainConfig(max_iter=15, input_transform="none"), _tiny_split(), None)
    assert not job.running and job.elapsed == 0.0
    job.start()
    assert job.wait(60)
    assert not job.running and job.error is None and not job.cancelled
    assert job.model is not None and job.model.card["iterations"] <= 15
    assert job.fraction == 1.0 and job.message == "done"


def test_cancel_stops_a_training_job_between_iterations():
    seen = []
    stop = threading.Event()

    def progress(message, fraction):
        seen.append(message)
        if "iteration 2 " in message:
            stop.set()  # as the Cancel button does, from another thread

    with pytest.raises(Cancelled):
        train(
            TrainConfig(max_iter=500, tol=1e-12, input_transform="none"),
            _tiny_split(),
            progress=progress,
            cancel=stop,
        )
    assert any("iteration 2 " in m for m in seen)
    assert not any("iteration 4 " in m for m in seen)  # stopped inside the fit

    job = TrainingJob(TrainConfig(max_iter=2000, tol=1e-12), _tiny_split(4000), None).start()
    job.cancel()
    assert job.wait(60)
    assert job.cancelled and job.model is None and job.error is None


def test_a_failed_job_says_why_in_one_line():
    bad = Split(np.zeros((40, 28, 28), np.uint8), np.zeros(40, np.uint8))  # one class only
    job = TrainingJob(TrainConfig(), bad, None).start()
    assert job.wait(60)
    assert job.model is None and job.error and "\n" not in job.error


@pytest.mark.mnist
def test_misclassified_are_really_misclassified(mnist_test):
    model = load_model("binary-4-9")
    config = task_config(model)
    chosen = task_indices(config, mnist_test.labels)
    images, labels = task_data(config, mnist_test.images[chosen], mnist_test.labels[chosen])
    wrong = misclassified(model, images, labels)
    figures = evaluate(model, images, labels)
    assert len(wrong["index"]) == round((1 - figures["accuracy"]) * figures["n"]) > 0
    predicted = model.predict(images[wrong["index"]])
    np.testing.assert_array_equal(predicted, wrong["predicted"])
    assert (wrong["true"] != wrong["predicted"]).all()
    np.testing.assert_array_equal(labels[wrong["index"]], wrong["true"])
    confidence = wrong["probs"].max(axis=1)
    assert (np.diff(confidence) <= 0).all()  # the most confident mistakes first
