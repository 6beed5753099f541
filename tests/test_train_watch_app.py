"""AppTest: the Train page's live curves and replay, and the tutorials' experiments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.mnist

TIMEOUT = 60
APP = str(Path(__file__).resolve().parent.parent / "app.py")
TRAIN = "pages/train.py"


def _train_page(mnist_dir, monkeypatch) -> AppTest:
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page(TRAIN).run()
    assert not at.exception
    return at


def _titles(at: AppTest) -> list[str]:
    """The titles of the page's Plotly charts."""
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec)["layout"].get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def test_training_records_every_iteration_and_the_slider_replays_them(mnist_dir, monkeypatch):
    at = _train_page(mnist_dir, monkeypatch)
    at.selectbox(key="tr_preset").set_value("0 vs 1").run()
    at.select_slider(key="tr_train_size").set_value(2_500).run()
    at.button(key="tr_train").click().run()
    job = at.session_state["train_job"]
    assert job.wait(60) and job.error is None
    at.run()
    assert not at.exception
    history = job.history
    assert len(history) == job.model.card["iterations"] >= 2
    slider = at.slider(key="tr_replay")
    assert (slider.min, slider.max, slider.value) == (1, len(history), len(history))
    assert f"weights after iteration {len(history)}" in " ".join(_titles(at))
    slider.set_value(1).run()
    assert "weights after iteration 1: loss" in " ".join(_titles(at))
    assert any("lbfgs recorded one point per iteration" in c.value for c in at.caption)


def test_each_experiment_is_one_click_and_shows_its_result(mnist_dir, monkeypatch):
    at = _train_page(mnist_dir, monkeypatch)
    at.select_slider(key="exp_epochs").set_value(20).run()
    at.button(key="exp_run_descent").click().run()
    job = at.session_state["exp_job"]
    assert job.wait(60) and job.error is None, job.error
    at.run()
    assert not at.exception
    table = at.table[0].value
    assert list(table.columns) == ["", "gradient descent", "L-BFGS"]
    assert table["gradient descent"].iloc[0] == "20 epochs"
    assert {"gradient descent's weights", "L-BFGS's weights"} <= set(_titles(at))
    assert "Ng" in at.info[0].value  # the tutorial's figure, in words

    at.button(key="exp_run_l1").click().run()
    job = at.session_state["exp_job"]
    assert job.wait(60) and job.error is None, job.error
    at.run()
    assert not at.exception
    weights = [t for t in _titles(at) if t.startswith("C=")]
    assert len(weights) == 3 and weights[0].startswith("C=1:")
    assert "L1 Penalty and Sparsity" in at.info[0].value


def test_an_experiment_can_be_cancelled(mnist_dir, monkeypatch):
    at = _train_page(mnist_dir, monkeypatch)
    at.button(key="exp_run_solvers").click().run()
    assert at.button(key="exp_run_l1").disabled  # one experiment at a time
    at.button(key="exp_cancel").click().run()
    job = at.session_state["exp_job"]
    assert job.wait(30) and job.cancelled
    at.run()
    assert "Experiment cancelled" in at.warning[0].value
    assert not at.button(key="exp_run_l1").disabled
