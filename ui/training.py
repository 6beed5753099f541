"""The Train page's watchable parts: live curves and weights, the replay, the experiments.

Every computation is in ``core`` (:mod:`core.history`, :mod:`core.experiments`),
run as :class:`core.jobs.Job`; this module lays them out.
"""

from __future__ import annotations

import streamlit as st

from core.experiments import (
    REFERENCES,
    DescentResult,
    PathPoint,
    SolverRun,
    gradient_descent_by_hand,
    l1_path,
    solvers_compared,
    three_points,
)
from core.history import WATCH_TEST_IMAGES, WATCH_TRAIN_IMAGES, History
from core.jobs import Job
from core.train import TrainConfig, TrainingJob
from ui.training_figures import (
    curves_figure,
    descent_figure,
    l1_path_figure,
    snapshot_figure,
    solvers_figure,
)

CHART = {"displayModeBar": False}
EXP_JOB = "exp_job"  # session state: this session's experiment Job
EXP_KIND = "exp_kind"  # session state: which experiment it runs
WHAT_IS_RECORDED = {
    "iteration": "one point per iteration",
    "epoch": "one point per epoch (a pass over every training image)",
    "end only": "the end only: liblinear cannot be paused and resumed",
}


def _curves(history: History, at: int | None = None) -> dict:
    steps, loss, accuracy = history.curves()
    return curves_figure(steps, loss, accuracy, history.step_name, at)


def live_view(job: TrainingJob) -> None:
    """While it trains: the loss and test accuracy so far, and the latest weights."""
    history = job.history
    if history is None or len(history) == 0:
        return
    st.plotly_chart(_curves(history), config=CHART, key="tr_live_curves")
    last = len(history) - 1
    st.plotly_chart(
        snapshot_figure(
            history.snapshot(last), job.config, f"weights after {history.step_name} {last + 1}"
        ),
        config=CHART,
        key="tr_live_weights",
    )


def replay(job: TrainingJob) -> None:
    """After training: the curves, and a slider that shows the weights step by step."""
    history = job.history
    if history is None or len(history) == 0:
        return
    st.markdown("##### How it trained")
    n = len(history)
    st.caption(
        f"{job.config.solver} recorded {WHAT_IS_RECORDED[history.step_name]}: {n} in all. "
        "Training loss: the objective the solver minimises (log loss plus penalty"
        + ("" if job.config.solver == "lbfgs" else f", on {WATCH_TRAIN_IMAGES:,} training images")
        + f"); test accuracy on up to {WATCH_TEST_IMAGES:,} test images (the table uses all)."
    )
    at = n
    if n > 1:
        at = st.slider(f"Replay the weights: {history.step_name}", 1, n, n, key="tr_replay")
    st.plotly_chart(_curves(history, at), config=CHART, key="tr_replay_curves")
    st.plotly_chart(
        snapshot_figure(
            history.snapshot(at - 1),
            job.config,
            f"weights after {history.step_name} {at}: loss {history.loss[at - 1]:.4f}, "
            f"test accuracy {history.test_accuracy[at - 1]:.1%}",
        ),
        config=CHART,
        key="tr_replay_weights",
    )


# ------------------------------------------------------------ experiments

EXPERIMENTS = {
    "descent": "Gradient descent by hand",
    "solvers": "Solvers compared",
    "l1": "L1 path",
}
ABOUT = {
    "descent": "Batch gradient descent written out in numpy (softmax, 2,000 training digits, "
    "raw pixels, C = 1), its cost epoch by epoch beside L-BFGS on the same images.",
    "solvers": "3 against 7 (about 2,000 training digits, raw pixels, L2, C = 1) fitted by each "
    "of the six solvers: same objective, different times.",
    "l1": "3 against 7 by liblinear with an L1 penalty, for ten values of C from 1 down to "
    "0.001: how many weights become exactly zero, and what it costs.",
}


def _start(kind: str, splits: tuple, learning_rate: float, epochs: int) -> None:
    """Callback of an experiment's button: run it as a job in the background."""
    train_split, test_split = splits
    work = {
        "descent": lambda progress, cancel: gradient_descent_by_hand(
            train_split,
            test_split,
            learning_rate=learning_rate,
            epochs=epochs,
            progress=progress,
            cancel=cancel,
        ),
        "solvers": lambda progress, cancel: solvers_compared(
            train_split, test_split, progress=progress, cancel=cancel
        ),
        "l1": lambda progress, cancel: l1_path(
            train_split, test_split, progress=progress, cancel=cancel
        ),
    }[kind]
    st.session_state[EXP_JOB] = Job(work, what=EXPERIMENTS[kind], name="digit-lens-experiment")
    st.session_state[EXP_JOB].start()
    st.session_state[EXP_KIND] = kind


def job_status(job: Job, cancelling: str, key: str) -> None:
    """A running job's progress bar and its Cancel button, or what cancelling waits for.

    Called from a fragment that reruns every half second; once the job is over the
    whole page reruns, to show its result.
    """
    if not job.running:
        st.rerun()
    st.progress(job.fraction, text=f"{job.message} · {job.elapsed:.1f} s")
    if job.cancelling:
        st.caption(cancelling)
    else:
        st.button("Cancel", icon=":material/stop:", on_click=job.cancel, key=key)


@st.fragment(run_every=0.5)
def _experiment_progress() -> None:
    job: Job | None = st.session_state.get(EXP_JOB)
    if job is not None:
        job_status(job, "Cancelling: stops at its next step.", "exp_cancel")


def experiments(splits: tuple) -> None:
    """The three classic experiments, one click each, with their result below."""
    st.subheader("The tutorials' experiments")
    st.caption(
        "The lessons of the classic logistic-regression tutorials, run here on MNIST in "
        "seconds. Each runs in the background and can be cancelled."
    )
    job: Job | None = st.session_state.get(EXP_JOB)
    busy = job is not None and job.running
    left, right = st.columns(2)
    learning_rate = left.select_slider(
        "Gradient descent: learning rate",
        [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0],
        value=0.5,
        key="exp_lr",
    )
    epochs = right.select_slider(
        "Gradient descent: epochs", [10, 20, 50, 100, 200, 500], value=100, key="exp_epochs"
    )
    for column, (kind, title) in zip(st.columns(3), EXPERIMENTS.items(), strict=True):
        with column:
            st.button(
                title,
                key=f"exp_run_{kind}",
                disabled=busy,
                on_click=_start,
                args=(kind, splits, learning_rate, epochs),
                width="stretch",
            )
            st.caption(ABOUT[kind])
    if busy:
        _experiment_progress()
        return
    if job is None:
        return
    if job.cancelled:
        st.warning(f"Experiment cancelled after {job.elapsed:.1f} s.", icon=":material/stop:")
    elif job.error:
        st.error(job.error, icon=":material/error:")
    elif job.result is not None:
        kind = st.session_state.get(EXP_KIND)
        st.markdown(f"##### {EXPERIMENTS[kind]} · {job.elapsed:.1f} s")
        {"descent": _descent, "solvers": _solvers, "l1": _l1}[kind](job.result)
        st.info(
            f"What the tutorial published: {REFERENCES[_REFERENCE[kind]]}",
            icon=":material/menu_book:",
        )


_REFERENCE = {"descent": "gradient descent", "solvers": "solvers", "l1": "l1"}
TEN = TrainConfig()


def _descent(result: DescentResult) -> None:
    st.plotly_chart(descent_figure(result), config=CHART, key="exp_descent_curve")
    st.table(
        {
            "": ["steps", "final cost", "test accuracy", "time"],
            "gradient descent": [
                f"{len(result.costs) - 1} epochs",
                f"{result.costs[-1]:.4f}",
                f"{result.accuracy:.1%}",
                f"{result.seconds:.2f} s",
            ],
            "L-BFGS": [
                f"{len(result.lbfgs_costs)} iterations",
                f"{result.lbfgs_costs[-1]:.4f}",
                f"{result.lbfgs_accuracy:.1%}",
                f"{result.lbfgs_seconds:.2f} s",
            ],
        },
        hide_index=True,
    )
    st.caption(
        f"Weights compared: correlation {result.weight_correlation:.2f}, distance "
        f"{result.weight_gap:.0%} of L-BFGS's weights' size (0% = the same weights). "
        f"{result.train_images:,} training images."
    )
    config = TrainConfig(task=TEN.task) if len(result.classes) > 2 else _pair(result.classes)
    mine, theirs = st.columns(2)
    mine.plotly_chart(
        snapshot_figure(result.coef, config, "gradient descent's weights"),
        config=CHART,
        key="exp_descent_w",
    )
    theirs.plotly_chart(
        snapshot_figure(result.lbfgs_coef, config, "L-BFGS's weights"),
        config=CHART,
        key="exp_lbfgs_w",
    )


def _pair(classes: tuple[int, ...]) -> TrainConfig:
    return TrainConfig(task="binary", digits=tuple(classes))


def _solvers(runs: list[SolverRun]) -> None:
    st.plotly_chart(solvers_figure(runs), config=CHART, key="exp_solvers_plot")
    st.table(
        {
            "solver": [r.solver for r in runs],
            "fit time": [f"{r.seconds:.2f} s" for r in runs],
            "test accuracy": [f"{r.accuracy:.2%}" for r in runs],
            "iterations": [f"{r.iterations}{'' if r.converged else ' (max)'}" for r in runs],
        },
        hide_index=True,
    )
    st.caption(
        "Fit time only (not the data's preparation); each non-lbfgs solver runs in a child "
        "process. Timings on a shared machine vary from run to run."
    )


def _l1(points: list[PathPoint]) -> None:
    st.plotly_chart(l1_path_figure(points), config=CHART, key="exp_l1_plot")
    config = _pair((3, 7))
    for column, point in zip(st.columns(3), three_points(points), strict=False):
        column.plotly_chart(
            snapshot_figure(
                point.coef,
                config,
                f"C={point.C:g}: {point.zero_share:.0%} zero, {point.accuracy:.1%} right",
            ),
            config=CHART,
            key=f"exp_l1_w_{point.C:g}",
        )
