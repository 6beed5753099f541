"""Train a model of your own: task, regularisation, solver, data; compare, use, save.

Training runs in a background thread (core.train.TrainingJob, a core.jobs.Job), one
per session; this page only polls its progress, so no other session waits for it.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from core.errors import ModelError, TrainingError
from core.explain import model_summary, transform_words
from core.model import DigitModel, binary_name, save_user_model
from core.train import (
    PENALTIES,
    PRESETS,
    TrainConfig,
    TrainingJob,
    solvers_for,
    stops_at_once,
    validate,
)
from core.transforms import TRANSFORMS
from ui.mnist import how_to_get_mnist, mnist
from ui.session import TEN_CLASS, get_model, remember_model, use_model
from ui.training import experiments, job_status, live_view, replay
from ui.views import weights_chart

JOB = "train_job"  # session state: this session's TrainingJob
JOB_LABEL = "train_job_label"  # session state: what the job's model is called (set at its start)
OWN = "(my own settings)"
TASK_WORDS = {
    "ten-class": "Ten digits (0-9)",
    "binary": "Two digits",
    "one-vs-rest": "One digit against the rest",
}
PENALTY_WORDS = {"none": "none", "l1": "L1", "l2": "L2", "elasticnet": "elastic net"}
C_VALUES = [round(m * 10.0**e, 6) for e in range(-4, 4) for m in (1, 2, 5)] + [10_000.0]
TOL_VALUES = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0]
TRAIN_SIZES = [1_000, 2_500, 5_000, 7_500, 10_000, 20_000, 30_000, 45_000, 60_000]
TEST_SIZES = [1_000, 2_500, 5_000, 10_000]
DEFAULTS = TrainConfig()


def _key(name: str) -> str:
    return f"tr_{name}"


def control_values(config: TrainConfig) -> dict:
    """The controls' values that reproduce a config (sizes None mean all)."""
    first, second = config.digits if config.task == "binary" else (0, 1)
    return {
        "task": config.task,
        "first": first,
        "second": second,
        "one": config.digits[0] if config.task == "one-vs-rest" else 2,
        "input": config.input_transform,
        "penalty": config.penalty,
        "l1_ratio": config.l1_ratio,
        "solver": config.solver,
        "C": min(C_VALUES, key=lambda c: abs(np.log10(c) - np.log10(config.C))),
        "tol": min(TOL_VALUES, key=lambda t: abs(np.log10(t) - np.log10(config.tol))),
        "max_iter": int(config.max_iter),
        "train_size": config.train_size or 60_000,
        "test_size": config.test_size or 10_000,
        "seed": config.seed,
    }


KEYS = tuple(control_values(DEFAULTS))  # session-state names (tr_...) of the controls


def apply_preset() -> None:
    """Callback of the preset picker: set every control to the preset's values."""
    preset = PRESETS.get(st.session_state[_key("preset")])
    if preset is not None:
        for name, value in control_values(preset.config).items():
            st.session_state[_key(name)] = value


def mark_own() -> None:
    """Callback of every control: the settings are no longer exactly the preset's."""
    st.session_state[_key("preset")] = OWN


def config_from_controls() -> TrainConfig:
    """The TrainConfig the controls describe."""
    value = {name: st.session_state[_key(name)] for name in KEYS}
    task = value["task"]
    digits = {
        "ten-class": (),
        "binary": (value["first"], value["second"]),
        "one-vs-rest": (value["one"],),
    }[task]
    return TrainConfig(
        task=task,
        digits=digits,
        C=float(value["C"]),
        penalty=value["penalty"],
        l1_ratio=float(value["l1_ratio"]),
        solver=value["solver"],
        tol=float(value["tol"]),
        max_iter=int(value["max_iter"]),
        train_size=None if value["train_size"] >= 60_000 else int(value["train_size"]),
        test_size=None if value["test_size"] >= 10_000 else int(value["test_size"]),
        seed=int(value["seed"]),
        input_transform=value["input"],
    )


def _row(explanation: str):
    """A control on the left, a plain sentence about what it does on the right."""
    control, words = st.columns([3, 2], vertical_alignment="center")
    words.caption(explanation)
    return control


def controls() -> None:
    """Every training control, each with what it does to the model."""
    for name, value in control_values(DEFAULTS).items():
        st.session_state.setdefault(_key(name), value)
    st.session_state.setdefault(_key("preset"), OWN)

    _row("Start from a classic experiment or a well-known pair, then change anything.").selectbox(
        "Preset", [OWN, *PRESETS], key=_key("preset"), on_change=apply_preset
    )
    if (preset := PRESETS.get(st.session_state[_key("preset")])) is not None:
        st.caption(preset.about)

    task = _row(
        "Ten digits: one weight map per digit, softmax picks one. Two digits or one "
        "against the rest: a single map, sigmoid decides."
    ).radio(
        "Task",
        list(TASK_WORDS),
        format_func=TASK_WORDS.get,
        key=_key("task"),
        horizontal=True,
        on_change=mark_own,
    )
    if task == "binary":
        place = _row("The model will only ever answer one of these two.")
        left, right = place.columns(2)
        first = left.selectbox("First digit", range(10), key=_key("first"), on_change=mark_own)
        if st.session_state[_key("second")] == first:
            st.session_state[_key("second")] = (first + 1) % 10
        right.selectbox(
            "Second digit",
            [d for d in range(10) if d != first],
            key=_key("second"),
            on_change=mark_own,
        )
    elif task == "one-vs-rest":
        _row("Every other digit counts as 'not this one'.").selectbox(
            "The digit", range(10), key=_key("one"), on_change=mark_own
        )

    _row(
        "What the model sees: raw pixels, or digits straightened (deskewed), narrow ones "
        "widened, and softened, so slant, width and stroke width matter less."
    ).selectbox(
        "Input",
        list(TRANSFORMS),
        format_func=lambda t: transform_words(t).capitalize() or "Raw pixels",
        key=_key("input"),
        on_change=mark_own,
    )

    penalty = _row(
        "Regularisation keeps weights small. L2 shrinks all of them; L1 sets unhelpful "
        "pixels to exactly zero (sparse maps); elastic net mixes both; none fits the "
        "training images as closely as it can."
    ).radio(
        "Penalty",
        PENALTIES,
        format_func=PENALTY_WORDS.get,
        key=_key("penalty"),
        horizontal=True,
        on_change=mark_own,
    )
    if penalty == "elasticnet":
        _row("Share of L1 in the mix: 0 would be pure L2, 1 pure L1.").slider(
            "L1 ratio", 0.05, 0.95, step=0.05, key=_key("l1_ratio"), on_change=mark_own
        )

    solvers = solvers_for(penalty, task)
    if st.session_state[_key("solver")] not in solvers:
        st.session_state[_key("solver")] = solvers[0]
    _row(
        "The optimiser. Only solvers that can handle this penalty are offered; they "
        "reach the same optimum at different speeds (saga: one image at a time)."
    ).selectbox("Solver", solvers, key=_key("solver"), on_change=mark_own)

    _row(
        "Inverse strength of the penalty: small C means smoother, smaller weights; "
        "large C trusts the training images more. Each step is ×2 or ×2.5."
    ).select_slider(
        "C (log scale)",
        C_VALUES,
        key=_key("C"),
        disabled=penalty == "none",
        format_func=lambda c: f"{c:g}",
        on_change=mark_own,
    )
    tolerance = _row(
        "Stop when an iteration improves the fit by less than this: larger stops sooner."
    )
    tolerance.select_slider(
        "Tolerance",
        TOL_VALUES,
        key=_key("tol"),
        format_func=lambda t: f"{t:g}",
        on_change=mark_own,
    )
    _row("Stop after this many passes whatever the tolerance says.").number_input(
        "Max iterations", 1, 10_000, step=10, key=_key("max_iter"), on_change=mark_own
    )
    sizes = _row("Training images drawn at random from MNIST's 60,000: more is slower and better.")
    sizes.select_slider(
        "Training images",
        TRAIN_SIZES,
        key=_key("train_size"),
        format_func=lambda n: f"{n:,}",
        on_change=mark_own,
    )
    _row("Test images the accuracy is measured on, from MNIST's 10,000.").select_slider(
        "Test images",
        TEST_SIZES,
        key=_key("test_size"),
        format_func=lambda n: f"{n:,}",
        on_change=mark_own,
    )
    seed = _row("Picks the random images and seeds the stochastic solvers: same seed, same model.")
    seed.number_input("Seed", 0, 2**31 - 1, step=1, key=_key("seed"), on_change=mark_own)


def start(config: TrainConfig) -> None:
    """Callback of the Train button: start a job in the background."""
    data = mnist()
    if data is None:
        return
    st.session_state[JOB] = TrainingJob(config, *data).start()
    st.session_state[JOB_LABEL] = label_for(config)


@st.fragment(run_every=0.5)
def progress_panel() -> None:
    """Redrawn every half second while the job runs; the whole page reruns when it ends."""
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is None:
        return
    when = "within a second" if stops_at_once(job.config) else "when its fit returns"
    job_status(job, f"Cancelling: {job.config.solver} stops {when}.", "tr_cancel")
    live_view(job)


def shipped_counterpart(config: TrainConfig) -> str:
    """The shipped model of the same kind: the same pair, else the ten-class model."""
    return binary_name(*config.digits) if config.task == "binary" else TEN_CLASS


def label_for(config: TrainConfig) -> str:
    """A short name for a trained model: task, solver, penalty, C, and when."""
    if config.penalty == "none":
        how = "no penalty"
    else:
        how = f"{PENALTY_WORDS[config.penalty]} C={config.C:g}"
    return f"{config.name} ({config.solver}, {how}, {time.strftime('%H:%M:%S')})"


def facts(model: DigitModel) -> list[tuple[str, str]]:
    """What to compare: accuracy, test images, fit time, zero weights, iterations."""
    card = model.card
    test = card.get("test", {})
    accuracy = test.get("accuracy")
    stopped = "" if card.get("converged", True) else " (max reached)"
    return [
        ("Test accuracy", f"{accuracy:.2%}" if accuracy is not None else "—"),
        ("Test images", f"{test.get('n', 0):,}"),
        ("Training images", f"{card.get('train_images', 0):,}"),
        ("Fit time", f"{card.get('fit_seconds', float('nan')):.2f} s"),
        ("Zero weights", f"{card.get('sparsity', 0.0):.1%}"),
        ("Iterations", f"{card.get('iterations', '—')}{stopped}"),
    ]


def result(job: TrainingJob) -> None:
    """The trained model beside the shipped one, with Use and Save."""
    model = job.model
    if model is None:
        return
    label = st.session_state.get(JOB_LABEL) or label_for(job.config)
    remember_model(model, label)
    shipped_name = shipped_counterpart(job.config)
    shipped = get_model(shipped_name)
    st.subheader("Result")
    st.caption(
        f"Trained in {job.elapsed:.1f} s. Left: yours; right: the shipped `{shipped_name}` model"
        + (
            " (none ships for one digit against the rest)."
            if job.config.task == "one-vs-rest"
            else "."
        )
    )
    mine, theirs = st.columns(2)
    for column, what, shown in (
        (mine, "Yours", model),
        (theirs, f"Shipped {shipped_name}", shipped),
    ):
        with column:
            st.markdown(f"**{what}**")
            st.table(
                {"": [name for name, _ in facts(shown)], "value": [v for _, v in facts(shown)]},
                hide_index=True,
            )
            st.plotly_chart(
                weights_chart(shown), config={"displayModeBar": False}, key=f"tr_w_{what}"
            )
    replay(job)
    st.caption(model_summary(model, label))
    use, name_box, save = st.columns([1, 2, 1], vertical_alignment="bottom")
    use.button(
        "Use this model",
        icon=":material/check_circle:",
        on_click=use_model,
        args=(model, label),
        type="primary",
        key="tr_use",
    )
    name = name_box.text_input(
        "Save as", placeholder="letters, digits, - and _", key="tr_save_name"
    )
    overwrite = name_box.checkbox("Replace a saved model of this name", key="tr_overwrite")
    if save.button("Save", icon=":material/save:", key="tr_save"):
        try:
            path = save_user_model(model, name, overwrite=overwrite)
        except ModelError as error:
            st.error(str(error), icon=":material/error:")
        else:
            st.success(
                f"Saved as `{name}` ({path.parent}): pick it under Saved models in the sidebar.",
                icon=":material/save:",
            )


st.markdown("#### Train a model")
data = mnist()
if data is None:
    how_to_get_mnist("Training needs MNIST's 60,000 training images.")
    st.stop()

settings, outcome = st.columns([1, 1], gap="large")
with settings:
    controls()
    try:
        config = validate(config_from_controls())
    except TrainingError as error:
        st.error(str(error), icon=":material/error:")
        config = None
job: TrainingJob | None = st.session_state.get(JOB)
busy = job is not None and job.running
with outcome:
    st.button(
        "Train",
        icon=":material/model_training:",
        type="primary",
        disabled=busy or config is None,
        on_click=start,
        args=(config,),
        key="tr_train",
    )
    if busy:
        progress_panel()
    elif job is not None:
        if job.cancelled:
            st.warning(f"Training cancelled after {job.elapsed:.1f} s.", icon=":material/stop:")
        elif job.error:
            st.error(job.error, icon=":material/error:")
if job is not None and not busy and job.model is not None:
    result(job)
st.divider()
experiments(data)
