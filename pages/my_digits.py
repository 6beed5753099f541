"""My digits: the digits you saved, how every model reads them, and a model adapted to them.

Digits are saved from the Draw and Upload pages ("Correct" / "It was a …") into
one SQLite file (:mod:`core.storage`); adapting is :func:`core.adapt.adapt`.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import streamlit as st

from core.adapt import AdaptConfig, Adapted, adapt, evaluate_saved, meaningful_pairs, mnist_sample
from core.data import resolve_data_dir
from core.errors import DigitLensError
from core.explain import class_names
from core.jobs import Job
from core.model import DigitModel, load_model, save_user_model, user_model_names
from core.preprocess import preprocess
from core.storage import DigitStore, SavedDigit, export_zip, import_zip
from ui.figures import confusion_figure
from ui.mnist import how_to_get_mnist, load_mnist, mnist
from ui.session import TEN_CLASS, active_model_name, get_model, lookup_model, model_label, use_model
from ui.views import analyse_pixels, digit_store, show_explanation, show_prediction, stages_html

NOTE = "my_digits_note"  # session state: (kind, text) to show on the next run
ADAPTED = "my_digits_adapted"  # session state: this session's last Adapted result
UPLOADS = "my_digits_uploads"  # session state: bumped to empty the import uploader
PLAIN = {"displayModeBar": False}
GALLERY_MAX = 120  # thumbnails shown per label


def say(kind: str, text: str) -> None:
    """Keep a message for the next run (callbacks cannot draw in place)."""
    st.session_state[NOTE] = (kind, text)


def show_note() -> None:
    kind, text = st.session_state.pop(NOTE, (None, None))
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind == "warning":
        st.warning(text, icon=":material/stop:")
    elif text:
        st.success(text, icon=":material/check:")


# ------------------------------------------------------------------ digits


def caption(digit: SavedDigit) -> str:
    """Under each thumbnail: its id, and what the model read if it was wrong."""
    wrong = digit.predicted is not None and digit.predicted != digit.label
    return f"#{digit.id}" + (f" read {digit.predicted}" if wrong else "")


def relabel_chosen(store: DigitStore) -> None:
    ids, label = st.session_state.get("chosen_digits", []), st.session_state.get("new_label")
    try:
        changed = store.relabel(ids, label)
    except DigitLensError as error:
        say("error", str(error))
        return
    say("success", f"Relabelled {changed} digit{'s' * (changed != 1)} as {label}.")
    st.session_state["chosen_digits"] = []


def delete_chosen(store: DigitStore) -> None:
    ids = st.session_state.get("chosen_digits", [])
    try:
        deleted = store.delete(ids)
    except DigitLensError as error:
        say("error", str(error))
        return
    say("success", f"Deleted {deleted} digit{'s' * (deleted != 1)}.")
    st.session_state["chosen_digits"] = []


def digits_tab(store: DigitStore, saved: list[SavedDigit]) -> None:
    by_label = {label: [d for d in saved if d.label == label] for label in range(10)}
    for label, digits in by_label.items():
        if digits:
            st.markdown(f"**{label}** · {len(digits)} saved")
            shown = digits[-GALLERY_MAX:]  # the newest: a page of thousands would crawl
            st.html(stages_html(tuple((caption(d), d.pixels) for d in shown)))
            if len(digits) > len(shown):
                st.caption(f"and {len(digits) - len(shown)} older ones (export to see all)")
    st.divider()
    st.markdown("**Change**")
    chosen, new_label = st.columns([3, 1], vertical_alignment="bottom")
    chosen.multiselect(
        "Digits",
        [d.id for d in saved],
        format_func=lambda i: f"#{i}",
        key="chosen_digits",
        placeholder="pick by number (#)",
    )
    new_label.selectbox("New label", range(10), key="new_label")
    relabel, delete = st.columns(2)
    nothing = not st.session_state.get("chosen_digits")
    relabel.button(
        "Relabel", on_click=relabel_chosen, args=(store,), disabled=nothing, width="stretch"
    )
    delete.button(
        "Delete",
        on_click=delete_chosen,
        args=(store,),
        disabled=nothing,
        icon=":material/delete:",
        width="stretch",
    )
    open_digit(store, saved)


def open_digit(store: DigitStore, saved: list[SavedDigit]) -> None:
    """One saved digit as the active model reads it now, with the input it was made from."""
    st.markdown("**Open**")
    by_id = {d.id: d for d in saved}
    chosen = st.selectbox(
        "Digit",
        list(by_id),
        index=None,
        format_func=lambda i: f"#{i} (a {by_id[i].label})",
        key="open_digit",
        placeholder="pick a digit to see how the model reads it",
    )
    if chosen is None:
        return
    digit = by_id[chosen]
    analysis = analyse_pixels(digit.pixels, active_model_name(), f"saved #{digit.id}")
    raw, reading = st.columns([1, 2])
    with raw:
        try:
            data = store.raw(digit.id)
        except DigitLensError:  # deleted by another session since this page listed it
            data = b""
        if data:
            # The input stage, not the file itself: a canvas drawing is white ink on
            # transparency, invisible on a light page; this stage composites it as the app reads it.
            with contextlib.suppress(DigitLensError):
                first = preprocess(data).stages[0].image
                st.image(first, caption="the input", width=160, clamp=True)
        model = f" by {digit.model}" if digit.model else ""
        read = f", read as {digit.predicted}{model}" if digit.predicted is not None else ""
        st.caption(f"a {digit.label}{read}, saved {digit.created}")
    with reading:
        show_prediction(analysis)
    show_explanation(analysis)


# ---------------------------------------------------------------- accuracy


@st.cache_data(max_entries=8, show_spinner="Measuring every model on your digits…")
def shipped_scores(images: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """Each shipped model that can be measured on these digits: ten-class, pairs of saved digits."""
    names = [TEN_CLASS, *meaningful_pairs(labels)]
    return {name: evaluate_saved(get_model(name), images, labels) for name in names}


def other_models() -> dict[str, DigitModel]:
    """The user's saved models and this session's active model, if not shipped."""
    models = {}
    for name in user_model_names():
        try:
            models[name] = load_model(name)
        except DigitLensError as error:
            st.caption(f"Saved model {name} cannot be loaded: {error}")
    key = active_model_name()
    if "@" in key:  # a model trained or adapted in this session, or a saved one
        models.setdefault(model_label(key), lookup_model(key))
    return models


def score_rows(scores: dict[str, dict | None]) -> list[dict]:
    """The accuracy table: one row a model."""
    return [
        {"model": name, "accuracy": f"{s['accuracy']:.1%}", "digits": s["n"]}
        for name, s in scores.items()
        if s is not None
    ]


def accuracy_tab(images: np.ndarray, labels: np.ndarray) -> None:
    scores = dict(shipped_scores(images, labels))
    others = other_models()
    for name, model in others.items():
        scores[name] = evaluate_saved(model, images, labels)
    st.caption(
        "Each model on the saved digits it can read: ten-class on all of them, a pair on "
        "those of its two digits (pairs of digits you saved), then your saved models."
    )
    st.dataframe(score_rows(scores), hide_index=True, key="scores_table")
    shown = [name for name, s in scores.items() if s is not None]
    name = st.selectbox("Confusion matrix of", shown, key="confusion_model")
    model = others[name] if name in others else get_model(name)
    figure = confusion_figure(scores[name], class_names(model), normalised=False)
    st.plotly_chart(figure, config=PLAIN, key="confusion")


# ------------------------------------------------------------------- adapt


@st.cache_resource(max_entries=2, show_spinner="Preparing the MNIST sample…")
def prepared_sample(
    directory: str, base_name: str, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST sample as the base model sees it, shared read-only by every session."""
    train, _ = load_mnist(directory)
    x, y = mnist_sample(train, get_model(base_name), size, seed)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def run_adapt(base_name: str, images: np.ndarray, labels: np.ndarray, config: AdaptConfig):
    """Adapt in a background job while this run shows its progress and a Cancel button.

    Cancel (or leaving the page) stops this run, and with it the job, at its next
    L-BFGS iteration: adapting takes seconds of both cores.
    """
    splits = mnist()
    if splits is None:
        how_to_get_mnist("Adapting trains on MNIST plus your digits.")
        return
    bar = st.progress(0.0, text="starting")
    stop = st.empty()
    stop.button(
        "Cancel",
        icon=":material/stop:",
        key="adapt_cancel",
        on_click=say,
        args=("warning", "Adapting cancelled."),
    )
    try:
        sample = prepared_sample(str(resolve_data_dir()), base_name, config.mnist_size, config.seed)
        base = get_model(base_name)
    except DigitLensError as error:
        bar.empty()
        stop.empty()
        st.error(str(error), icon=":material/error:")
        return
    except Exception as error:  # e.g. MemoryError: one line, the page stays
        bar.empty()
        stop.empty()
        st.error(f"adapting failed: {type(error).__name__}: {error}", icon=":material/error:")
        return
    job = Job(
        lambda progress, cancel: adapt(
            base, images, labels, sample, splits[1], config, progress, cancel
        ),
        what="adapting",
        name="digit-lens-adapt",
    )
    job.follow(lambda text, fraction: bar.progress(fraction, text=text))
    bar.empty()
    stop.empty()
    if job.error:
        st.error(job.error, icon=":material/error:")
    elif job.result is not None:
        st.session_state[ADAPTED] = job.result


def save_adapted(result: Adapted) -> None:
    name = st.session_state.get("adapted_name", "").strip()
    try:
        path = save_user_model(result.model, name)
    except DigitLensError as error:
        say("error", f"Not saved: {error}")
        return
    say("success", f"Saved as {name} ({path.parent}); pick it under Saved models.")


def show_adapted(result: Adapted) -> None:
    """Both models side by side: on your held-out digits, and on MNIST's test set."""
    yours = st.columns(2)
    yours[0].metric(
        f"{result.base_name} on your digits",
        f"{result.base_saved['accuracy']:.1%}",
        help=f"All {result.n_saved} of your digits; it never trained on them.",
    )
    gain = result.adapted_saved["accuracy"] - result.base_saved["accuracy"]
    yours[1].metric(
        "Adapted, on your digits it did not train on",
        f"{result.adapted_saved['accuracy']:.1%}",
        delta=f"{gain:+.1%}",
        help=f"{result.folds}-fold cross-validation: each digit read by a model adapted "
        "without it.",
    )
    if result.base_mnist is not None:
        tests = st.columns(2)
        tests[0].metric(
            f"{result.base_name} on MNIST's test set", f"{result.base_mnist['accuracy']:.2%}"
        )
        loss = result.adapted_mnist["accuracy"] - result.base_mnist["accuracy"]
        tests[1].metric(
            "Adapted, on MNIST's test set",
            f"{result.adapted_mnist['accuracy']:.2%}",
            delta=f"{loss:+.2%}",
        )
    st.caption(
        f"{result.n_saved} saved digits, {result.folds} folds; adapted in {result.seconds:.0f} s. "
        "The model you can use or save below was adapted on all of them."
    )
    label = f"{result.base_name} adapted to my digits"
    use, name, save = st.columns([2, 2, 1], vertical_alignment="bottom")
    use.button(
        "Use it",
        on_click=use_model,
        args=(result.model, label),
        icon=":material/play_arrow:",
        help="Make it this session's model on every page.",
    )
    name.text_input("Name", value="my-hand", key="adapted_name", max_chars=64)
    save.button("Save", on_click=save_adapted, args=(result,), icon=":material/save:")


def adapt_tab(images: np.ndarray, labels: np.ndarray) -> None:
    st.caption(
        "Retrain on a sample of MNIST plus your digits, starting from the shipped model. "
        "Your digits are split into folds; each fold is read by a model adapted on the "
        "others, so the figure below is for digits the model did not train on."
    )
    bases = [TEN_CLASS, *meaningful_pairs(labels)]
    base_name = st.selectbox("Start from", bases, key="adapt_base")
    weight, size, folds = st.columns(3)
    weight.slider(
        "Weight of one of your digits",
        1,
        100,
        10,
        key="adapt_weight",
        help="How many MNIST digits each of yours counts for.",
    )
    size.select_slider(
        "MNIST digits mixed in", [2_000, 5_000, 10_000, 20_000], 10_000, key="adapt_size"
    )
    folds.select_slider("Folds", [2, 3, 5, 10], 5, key="adapt_folds")
    if st.button("Adapt", type="primary", icon=":material/tune:", key="adapt"):
        config = AdaptConfig(
            weight=float(st.session_state["adapt_weight"]),
            mnist_size=int(st.session_state["adapt_size"]),
            folds=int(st.session_state["adapt_folds"]),
        )
        run_adapt(base_name, images, labels, config)
    result = st.session_state.get(ADAPTED)
    if result is not None:
        show_adapted(result)


# ---------------------------------------------------------- export, import


def import_uploaded(store: DigitStore) -> None:
    key = f"import_file_{st.session_state.get(UPLOADS, 0)}"
    upload = st.session_state.get(key)
    if upload is None:
        return
    try:
        ids = import_zip(store, upload.getvalue())
    except DigitLensError as error:
        say("error", f"{upload.name}: {error}")
        return
    say("success", f"Imported {len(ids)} digits from {upload.name}.")
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1


def files_tab(store: DigitStore, count: int) -> None:
    st.caption(
        "MNIST's own format: images and labels as IDX files (gzip) plus a CSV with each "
        "digit's id, label, what the model read, the model and the time, in one zip."
    )
    st.download_button(
        f"Download all {count} digits",
        data=functools.partial(export_zip, store),
        file_name="my-digits.zip",
        mime="application/zip",
        on_click="ignore",
        icon=":material/download:",
        disabled=count == 0,
    )
    st.file_uploader(
        "Import digits (a zip downloaded here)",
        type=["zip"],
        key=f"import_file_{st.session_state.get(UPLOADS, 0)}",
    )
    st.button("Import", on_click=import_uploaded, args=(store,), icon=":material/upload:")


# -------------------------------------------------------------------- page

st.markdown("#### My digits")
try:
    store = digit_store()
    saved = store.digits()
except DigitLensError as error:
    st.error(str(error), icon=":material/error:")
    st.stop()
show_note()
if saved:
    st.caption(f"{len(saved)} digit{'s' * (len(saved) != 1)} saved in `{store.path}`.")
else:
    st.info(
        "No digits saved yet: draw or upload one, then press Correct, or pick what it "
        "was under It was a. Or import digits below.",
        icon=":material/info:",
    )
images = np.stack([d.pixels for d in saved]) if saved else np.zeros((0, 28, 28), np.uint8)
labels = np.array([d.label for d in saved], np.uint8)
tabs = st.tabs(["Digits", "Accuracy", "Adapt", "Export and import"])
with tabs[0]:
    if saved:
        digits_tab(store, saved)
with tabs[1]:
    if saved:
        accuracy_tab(images, labels)
with tabs[2]:
    if saved:
        adapt_tab(images, labels)
with tabs[3]:
    files_tab(store, len(saved))
