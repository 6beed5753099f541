"""Model explorer and Train pages, and the session/saved models they make active.

AppTest drives the pages; the pure logic they call is tested directly.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core import fit_server
from core.data import Split
from core.errors import TrainingError
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
from tests.processes import children_of
from tests.strokes import DIGIT_STROKES, render_strokes
from ui.session import KIND_SAVED, KIND_SESSION, KIND_TEN

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

    from tests.test_explore_train import flipped
    from ui.session import active_model, model_sidebar, use_model
    from ui.views import analyse

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


def _fits_running() -> list[int]:
    """Processes forked by core.fit_server's server for fits, now."""
    return children_of(fit_server._server[0].pid) if fit_server._server else []


@pytest.mark.skipif(not fit_server.AVAILABLE, reason="needs fork and Unix sockets")
def test_cancel_ends_a_scikit_learn_solver_mid_fit():
    # saga reports nothing until its fit returns; this one would run for many minutes.
    config = TrainConfig(solver="saga", tol=1e-12, max_iter=100_000, input_transform="none")
    job = TrainingJob(config, _tiny_split(6000), None).start()
    deadline = time.monotonic() + 60
    while not _fits_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _fits_running() and job.running  # fitting, in its own process
    job.cancel()
    assert job.wait(30)
    assert job.cancelled and job.model is None and job.error is None
    while _fits_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _fits_running()  # the fit's process was ended, not left to finish


def test_a_scikit_learn_solver_in_its_own_process_gives_scikit_learns_model():
    from sklearn.linear_model import LogisticRegression

    # Strongly regularised, so that both converge to the one optimum.
    config = TrainConfig(solver="newton-cg", C=0.01, max_iter=200, input_transform="none")
    split = _tiny_split(3000)
    model = train(config, split)
    images, targets = task_data(config, split.images, split.labels)
    flat = images.reshape(len(images), -1)
    reference = LogisticRegression(C=config.C, solver="newton-cg", max_iter=200).fit(flat, targets)
    assert model.card["converged"]
    assert np.mean(model.predict(images) == reference.predict(flat)) >= 0.999


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


# ------------------------------------------------------------------ pages

EXPLORE, TRAIN = "pages/explore.py", "pages/train.py"


def _page(path: str, model_name: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if model_name is not None:
        at.session_state["model_name"] = model_name  # as the sidebar's picker sets it
    at.switch_page(path).run()
    assert not at.exception
    return at


def _gallery(at: AppTest) -> dict[int, tuple[str, str]]:
    """MNIST test index -> (true, read as), from the gallery's buttons."""
    return {
        int(b.key.removeprefix("ex_open_")): tuple(b.label.split(" → "))
        for b in at.button
        if b.key and b.key.startswith("ex_open_")
    }


@pytest.mark.mnist
@pytest.mark.parametrize("model_name", ["ten-class", "binary-3-7"])
def test_explorer_gallery_shows_real_mistakes_and_explains_them(
    mnist_dir, mnist_test, monkeypatch, model_name
):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    model = load_model(model_name)
    at = _page(EXPLORE, model_name)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{model.card['test']['accuracy']:.2%}"
    assert len(at.get("plotly_chart")) == 3  # per-class bars, confusion matrix, weights
    shown = _gallery(at)
    assert 0 < len(shown) <= 30
    images = mnist_test.images[list(shown)]
    predicted = model.predict(images.astype(np.float32) / 255)
    for (index, (true, said)), answer in zip(shown.items(), predicted, strict=True):
        assert true != said
        assert true == str(mnist_test.labels[index])  # the label MNIST gives it
        assert said == str(answer)  # what the model really answers
        assert true in [str(c) for c in model.classes_]

    # Filter by true digit and by answer.
    first = str(model.classes_[0])
    at.selectbox(key="ex_true").set_value(int(first)).run()
    assert {true for true, _ in _gallery(at).values()} == {first}
    at.selectbox(key="ex_true").set_value("any").run()
    at.selectbox(key="ex_pred").set_value(int(first)).run()
    assert {said for _, said in _gallery(at).values()} == {first}

    # A digit opens in the explanation view, which reads it as the gallery said.
    index, (true, said) = next(iter(_gallery(at).items()))
    at.button(key=f"ex_open_{index}").click().run()
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "Prediction").rstrip("?") == said
    assert f"Test digit {index}: labelled {true}" in [s.value for s in at.subheader]
    stages = at.get("html")[0].proto.body
    assert f"MNIST test digit {index}" in stages and "model input" in stages
    at.button(key="ex_close").click().run()
    assert not [m for m in at.metric if m.label == "Prediction"]


def test_explorer_without_mnist_shows_the_card_and_how_to_get_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "no-mnist"))
    at = _page(EXPLORE, "binary-0-1")
    card = load_model("binary-0-1").card
    assert "MNIST was not found" in at.info[0].value
    assert "MNIST_DIR" in " ".join(c.value for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{card['test']['accuracy']:.2%}"
    assert metrics["Test images"] == f"{card['test']['n']:,}"
    assert len(at.get("plotly_chart")) == 3
    assert not _gallery(at)


def test_train_page_offers_only_valid_combinations(mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    at = _page(TRAIN)
    assert at.selectbox(key="tr_solver").options == [
        s for s, penalties in SOLVER_PENALTIES.items() if "l2" in penalties and s != "liblinear"
    ]
    at.radio(key="tr_penalty").set_value("l1").run()
    assert at.selectbox(key="tr_solver").options == ["saga"]  # liblinear: two classes only
    assert at.selectbox(key="tr_solver").value == "saga"
    at.radio(key="tr_task").set_value("binary").run()
    assert at.selectbox(key="tr_solver").options == ["saga", "liblinear"]
    at.radio(key="tr_penalty").set_value("elasticnet").run()
    assert at.slider(key="tr_l1_ratio").label == "L1 ratio"
    at.radio(key="tr_penalty").set_value("none").run()
    assert at.select_slider(key="tr_C").disabled  # no penalty: C means nothing
    assert "liblinear" not in at.selectbox(key="tr_solver").options
    # Every control has a plain sentence beside it.
    assert len(at.caption) >= 12
    # A preset sets every control; touching one makes the settings your own.
    at.selectbox(key="tr_preset").set_value("L1, C=1, saga (sparser weights)").run()
    assert (at.radio(key="tr_penalty").value, at.selectbox(key="tr_solver").value) == ("l1", "saga")
    assert at.select_slider(key="tr_train_size").value == 7_500
    assert at.radio(key="tr_task").value == "ten-class"
    at.number_input(key="tr_seed").set_value(3).run()
    assert at.selectbox(key="tr_preset").value == "(my own settings)"
    assert not at.exception


@pytest.mark.mnist
def test_train_page_trains_compares_uses_and_saves(mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    at = _page(TRAIN)
    at.selectbox(key="tr_preset").set_value("3 vs 7").run()
    at.select_slider(key="tr_train_size").set_value(5_000).run()
    at.button(key="tr_train").click().run()
    job = at.session_state["train_job"]
    assert job.wait(120) and job.error is None
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown if m.value.startswith("**")] == [
        "**Yours**",
        "**Shipped binary-3-7**",
    ]
    yours = at.table[0].value
    accuracy = yours.loc[yours[""] == "Test accuracy", "value"].item()
    assert float(accuracy.rstrip("%")) >= 98.0  # 3 vs 7 from 5,000 images
    assert (
        yours.loc[yours[""] == "Training images", "value"].item()
        == f"{job.model.card['train_images']:,}"
    )

    at.button(key="tr_use").click().run()
    assert at.session_state["model_name"].startswith("binary-3-7 (lbfgs")
    assert at.session_state["session_model_key"] == at.session_state["model_name"]

    at.text_input(key="tr_save_name").input("ten class").run()
    at.button(key="tr_save").click().run()
    assert "not allowed" in at.error[0].value
    at.text_input(key="tr_save_name").input("my-3v7").run()
    at.button(key="tr_save").click().run()
    assert "Saved as `my-3v7`" in at.success[0].value
    assert load_model("my-3v7").fingerprint == job.model.fingerprint
    at.button(key="tr_save").click().run()
    assert "exists" in at.error[0].value  # not overwritten unless asked


@pytest.mark.mnist
def test_train_page_cancel(mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    at = _page(TRAIN)
    at.select_slider(key="tr_tol").set_value(1e-6).run()
    at.number_input(key="tr_max_iter").set_value(5_000).run()
    at.button(key="tr_train").click().run()
    assert at.button(key="tr_train").disabled  # one job at a time
    assert at.get("progress")  # the bar with elapsed time
    at.button(key="tr_cancel").click().run()
    job = at.session_state["train_job"]
    assert job.wait(60) and job.cancelled
    at.run()
    assert "Training cancelled" in at.warning[0].value
    assert not at.button(key="tr_train").disabled


def _one_vs_rest_view(data: bytes):
    import streamlit as st

    from core.model import DigitModel, load_model
    from core.train import REST
    from ui.session import use_model
    from ui.views import analyse, show_prediction

    # The 2-vs-7 weights, relabelled as "2 against the rest": enough to check the names.
    pair = load_model("binary-2-7")
    rest = DigitModel(
        -pair.coef_,
        -pair.intercept_,
        (REST, 2),
        {"task": "one-vs-rest", "class_names": {str(REST): "not 2"}},
    )
    if "session_model_key" not in st.session_state:
        use_model(rest, "2 against the rest")
    show_prediction(analyse(data, st.session_state["model_name"], invert=True))


def test_one_vs_rest_models_name_the_rest():
    at = AppTest.from_function(_one_vs_rest_view, args=(canvas_png(7),), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert at.metric[0].value == "not 2"
    assert "only knows not 2 and 2" in " ".join(c.value for c in at.caption)
    bars = at.get("plotly_chart")[0].proto.spec
    assert '"not 2"' in bars


@pytest.mark.mnist
def test_explorer_for_a_one_vs_rest_model_of_this_session(mnist_dir, mnist_train, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    model = train(TrainConfig(task="one-vs-rest", digits=(2,), train_size=3_000), mnist_train)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    key = f"2 against the rest@{model.fingerprint[:16]}"
    at.session_state["session_models"] = {key: model}  # as use_model leaves them
    at.session_state["session_model_labels"] = {key: "2 against the rest"}
    at.session_state["model_name"] = key
    at.switch_page(EXPLORE).run()
    assert not at.exception
    assert "2 against the rest" in at.markdown[0].value
    shown = _gallery(at)
    assert shown and all(true != said for true, said in shown.values())
    assert {true for true, _ in shown.values()} <= {"not 2", "2"}
    assert at.selectbox(key="ex_true").options == ["any", "not 2", "2"]


@pytest.mark.mnist
def test_explorer_downloads_mnist_when_online_then_shows_the_test_figures(
    tmp_path, monkeypatch, fake_openml
):
    from ui import mnist as mnist_data

    mnist_data._online.clear()  # a cached "offline" from an earlier test must not answer
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "to-download"))
    at = _page(EXPLORE, "binary-0-1")
    assert "MNIST was not found" in at.info[0].value
    assert not _gallery(at)
    at.button(key="download_mnist").click().run()
    assert not at.exception
    assert len(fake_openml) == 1
    assert not [i for i in at.info if "MNIST was not found" in i.value]
    assert _gallery(at)  # the test set's mistakes, from the downloaded files
    mnist_data._online.clear()


def test_training_images_without_every_class_are_refused():
    few = Split(np.zeros((30, 28, 28), np.uint8), np.arange(30, dtype=np.uint8) % 7)
    with pytest.raises(TrainingError, match=r"lack class\(es\) \[7, 8, 9\]"):
        train(TrainConfig(), few)
