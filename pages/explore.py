"""Model explorer: how the active model does on MNIST's test set, what it weighs, where it errs.

Works for any active model (ten-class, a pair, one against the rest, saved or
trained in this session). Without MNIST it shows the figures in the model's
card and says how to get the data.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data import resolve_data_dir
from core.explain import class_names, model_summary
from core.model import DigitModel
from core.records import Mistakes, Scores
from core.train import evaluate, misclassified, task_config, task_data, task_indices
from ui.figures import confusion_figure, per_class_figure
from ui.mnist import how_to_get_mnist, load_mnist, mnist
from ui.session import active_model_name, lookup_model, model_label
from ui.views import (
    BY_FINGERPRINT,
    analyse_pixels,
    show_explanation,
    show_prediction,
    zero_weights_chart,
)

ANY = "any"
PAGE = 30  # gallery digits shown at a time
OPEN = "explore_digit"  # session state: the MNIST test index opened in the explanation view
SHOWN = "explore_shown"  # session state: how many gallery digits are shown
PLAIN = {"displayModeBar": False}


@st.cache_data(
    max_entries=16, show_spinner="Measuring on MNIST's test set…", hash_funcs=BY_FINGERPRINT
)
def measure(model: DigitModel, data_dir: str) -> tuple[Scores, Mistakes]:
    """Test figures and every mistake of a model on MNIST's test set in ``data_dir``."""
    _, test = load_mnist(data_dir)
    config = task_config(model)
    chosen = task_indices(config, test.labels)
    images, labels = task_data(config, test.images[chosen], test.labels[chosen])
    wrong = misclassified(model, images, labels)
    wrong["index"] = chosen[wrong["index"]]  # positions in MNIST's test set
    return evaluate(model, images, labels), wrong


def _tile(image: np.ndarray) -> np.ndarray:
    """A 28×28 digit three times larger, pixels kept sharp."""
    return np.kron(image, np.ones((3, 3), dtype=np.uint8))


def gallery(wrong: Mistakes, test_images: np.ndarray, model: DigitModel) -> None:
    """Misclassified test digits, filterable, each with a button that explains it."""
    names = class_names(model)
    classes = [int(c) for c in model.classes_]
    name_of = dict(zip(classes, names, strict=True))
    left, right, count = st.columns([1, 1, 2], vertical_alignment="bottom")
    true = left.selectbox("True digit", [ANY, *classes], format_func=lambda c: name_of.get(c, c),
                          key="ex_true")  # fmt: skip
    said = right.selectbox("Read as", [ANY, *classes], format_func=lambda c: name_of.get(c, c),
                           key="ex_pred")  # fmt: skip
    keep = np.ones(len(wrong["index"]), dtype=bool)
    if true != ANY:
        keep &= wrong["true"] == true
    if said != ANY:
        keep &= wrong["predicted"] == said
    rows = np.flatnonzero(keep)
    count.caption(
        f"{len(rows)} of {len(wrong['index'])} mistakes; the most confident first. "
        "Press a digit's button to see why the model read it so."
    )
    shown = rows[: st.session_state.get(SHOWN, PAGE)]
    with st.container(height=430 if len(shown) > 12 else "content", border=True):
        per_row = 6
        for start in range(0, len(shown), per_row):
            for column, row in zip(
                st.columns(per_row), shown[start : start + per_row], strict=False
            ):
                index, t, p = (int(wrong[k][row]) for k in ("index", "true", "predicted"))
                probs = wrong["probs"][row]
                column.image(_tile(test_images[index]), width=84)
                column.button(
                    f"{name_of[t]} → {name_of[p]}",
                    key=f"ex_open_{index}",
                    help=f"MNIST test digit {index}: true {name_of[t]}, read as {name_of[p]}",
                    on_click=st.session_state.__setitem__,
                    args=(OPEN, index),
                )
                column.caption(
                    f"P({name_of[p]}) {probs[classes.index(p)]:.0%} · "
                    f"P({name_of[t]}) {probs[classes.index(t)]:.0%}"
                )
        if len(rows) > len(shown):
            st.button(
                f"Show {min(PAGE, len(rows) - len(shown))} more",
                key="ex_more",
                on_click=st.session_state.__setitem__,
                args=(SHOWN, len(shown) + PAGE),
            )


def opened_digit(model_key: str, test_images: np.ndarray, test_labels: np.ndarray) -> None:
    """The explanation view of one test digit, exactly as for a drawing."""
    index = st.session_state.get(OPEN)
    if index is None:
        return
    analysis = analyse_pixels(test_images[index], model_key, f"MNIST test digit {index}")
    head, close = st.columns([4, 1], vertical_alignment="bottom")
    head.subheader(f"Test digit {index}: labelled {int(test_labels[index])}")
    close.button("Close", key="ex_close", on_click=st.session_state.pop, args=(OPEN, None))
    show_prediction(analysis)
    show_explanation(analysis)


# ------------------------------------------------------------------- page

key = active_model_name()
model = lookup_model(key)
label = model_label(key)
names = class_names(model)
st.markdown(f"#### Model explorer: `{label}`")
st.caption(model_summary(model, label) + " Pick another model in the sidebar.")

data = mnist()
if data is None:
    how_to_get_mnist(
        "The gallery of mistakes needs MNIST's test images; below are the figures "
        "stored in the model's card."
    )
    figures, wrong = model.card.get("test"), None
else:
    figures, wrong = measure(model, str(resolve_data_dir()))

coefs = model.coef_
zero_share = float(np.mean(coefs == 0))
facts = st.columns(4)
if figures:
    facts[0].metric("Test accuracy", f"{figures['accuracy']:.2%}")
    facts[1].metric("Test images", f"{figures['n']:,}")
facts[2].metric(
    "Zero weights", f"{zero_share:.1%}", help="Weights exactly 0: those pixels never count."
)
fit = model.card.get("fit_seconds")
facts[3].metric("Fit time", f"{fit:.1f} s" if fit is not None else "—")

if figures:
    accuracy, confusion = st.columns([2, 3], gap="large")
    with accuracy:
        st.markdown("**Accuracy per digit**")
        st.plotly_chart(per_class_figure(figures, names), config=PLAIN, key="ex_per_class")
    with confusion:
        top, switch = st.columns([2, 3], vertical_alignment="center")
        top.markdown("**Confusion matrix**")
        scale = switch.radio(
            "Confusion scale",
            ["Counts", "Share of each true digit"],
            horizontal=True,
            key="ex_scale",
            label_visibility="collapsed",
        )
        st.plotly_chart(
            confusion_figure(figures, names, scale != "Counts"), config=PLAIN, key="ex_confusion"
        )
else:
    st.warning("This model's card holds no test figures.", icon=":material/info:")

st.markdown("**What each class looks for**")
zeros = int(np.sum(coefs == 0))
st.caption(
    "Weight of every pixel, on one scale centred on zero: blue counts for the class, red "
    f"against it. {zeros:,} of {coefs.size:,} weights ({zero_share:.1%}) are exactly zero, "
    "marked in gold: those pixels never change the answer."
)
st.plotly_chart(zero_weights_chart(model), config=PLAIN, key="ex_weights")

if wrong is not None:
    _, test = data
    st.markdown("**Test digits it gets wrong**")
    gallery(wrong, test.images, model)
    opened_digit(key, test.images, test.labels)
