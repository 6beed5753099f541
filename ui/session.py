"""The session's models: the sidebar's picker and the models trained or saved in this session.

Shipped and saved models are loaded once per process and shared read-only
(``st.cache_resource``); a model trained, adapted or picked from the saved ones
is kept in this session's state under a key that carries its fingerprint
(``label@fingerprint``), so caches keyed by it never mix two models.
"""

from __future__ import annotations

import streamlit as st

from core.errors import ModelError
from core.explain import model_summary
from core.model import DigitModel, binary_name, load_model, user_model_names, user_models_dir

TEN_CLASS = "ten-class"
KIND_TEN = "Ten digits (0-9)"
KIND_PAIR = "Two digits"
MODEL_KEY = "model_name"  # session state: the active model's key
KIND_SAVED = "Saved models"
KIND_SESSION = "Trained in this session"
SESSION_MODELS = "session_models"  # session state: {key: DigitModel} of models not shipped
SESSION_LABELS = "session_model_labels"  # session state: {key: label shown for it}
SESSION_ACTIVE = "session_model_key"  # session state: the key use_model made active
PENDING_KIND = "model_kind_pending"  # session state: the picker's kind to show on the next run
MAX_SESSION_MODELS = 4


@st.cache_resource(show_spinner=False)
def get_model(name: str) -> DigitModel:
    """A shipped model, loaded once per process and shared by every session."""
    return load_model(name)


@st.cache_resource(max_entries=16, show_spinner=False)
def _saved_model(name: str, stamp: tuple[int, int]) -> DigitModel:
    """A saved model as it is on disk now: ``stamp`` (the card's mtime, inode) keys each version."""
    return load_model(name)


def remember_model(model: DigitModel, label: str) -> str:
    """Keep a model that is not shipped in this session; return the key it is known by.

    The key carries the model's fingerprint, so the process-wide caches of
    analyses and figures, keyed by it, never mix two models that share a label.
    """
    key = f"{label}@{model.fingerprint[:16]}"
    models = st.session_state.setdefault(SESSION_MODELS, {})
    labels = st.session_state.setdefault(SESSION_LABELS, {})
    models[key], labels[key] = model, label
    keep = {key, st.session_state.get(SESSION_ACTIVE), st.session_state.get(MODEL_KEY)}
    for old in [k for k in models if k not in keep][: max(0, len(models) - MAX_SESSION_MODELS)]:
        del models[old], labels[old]
    return key


def lookup_model(key: str) -> DigitModel:
    """The model behind a key from :func:`active_model_name`: this session's, or shipped."""
    session_model = st.session_state.get(SESSION_MODELS, {}).get(key)
    return session_model if session_model is not None else get_model(key)


def model_label(key: str) -> str:
    """What to call the model with this key: its shipped name or the label it was given."""
    return st.session_state.get(SESSION_LABELS, {}).get(key, key)


def use_model(model: DigitModel, label: str) -> None:
    """Make an in-memory model the active model of this session.

    The sidebar shows it as "Trained in this session" and every page uses it,
    for this session only (session state, never a shared cache). Call it from a
    widget's callback (``on_click``) so that the sidebar shows it on the run
    that follows; called in the page's body, follow it with ``st.rerun()``.

    Parameters
    ----------
    model : DigitModel
    label : str
        Shown in the sidebar, e.g. ``"ten-class, saga, C=1"``.
    """
    key = remember_model(model, label)
    st.session_state[SESSION_ACTIVE] = key
    st.session_state[MODEL_KEY] = key
    st.session_state[PENDING_KIND] = KIND_SESSION


def model_sidebar() -> str:
    """The model picker in the sidebar; stores and returns the active model's key."""
    saved = user_model_names()
    session_key = st.session_state.get(SESSION_ACTIVE)
    if session_key not in st.session_state.get(SESSION_MODELS, {}):
        session_key = None
    kinds = [KIND_TEN, KIND_PAIR] + [KIND_SAVED] * bool(saved) + [KIND_SESSION] * bool(session_key)
    pending = st.session_state.pop(PENDING_KIND, None)
    if pending in kinds:
        st.session_state["model_kind"] = pending
    elif st.session_state.get("model_kind", KIND_TEN) not in kinds:
        st.session_state["model_kind"] = KIND_TEN
    with st.sidebar:
        st.subheader("Model")
        kind = st.radio(
            "Model",
            kinds,
            key="model_kind",
            label_visibility="collapsed",
            help="Logistic regression over the 784 pixels: softmax over ten digits, "
            "or a sigmoid that tells two digits apart.",
        )
        if kind == KIND_PAIR:
            left, right = st.columns(2)
            first = left.selectbox("First digit", range(10), index=0, key="pair_first")
            others = [d for d in range(10) if d != first]
            if st.session_state.get("pair_second") == first:
                st.session_state["pair_second"] = others[0]
            second = right.selectbox("Second digit", others, index=0, key="pair_second")
            name = binary_name(first, second)
        elif kind == KIND_SAVED:
            choice = st.selectbox("Saved model", saved, key="saved_model")
            name = _pick_saved(choice)
        elif kind == KIND_SESSION:
            name = session_key
        else:
            name = TEN_CLASS
        st.caption(model_summary(lookup_model(name), model_label(name)))
    st.session_state[MODEL_KEY] = name
    return name


def _pick_saved(name: str) -> str:
    """Load a saved model (again if its file changed) and return its session key."""
    try:
        card = (user_models_dir() / f"{name}.json").stat()
        model = _saved_model(name, (card.st_mtime_ns, card.st_ino))
    except (OSError, ModelError) as error:
        st.error(f"cannot load saved model {name}: {error}", icon=":material/error:")
        return TEN_CLASS
    return remember_model(model, name)


def active_model_name() -> str:
    """The key of the model chosen in the sidebar (ten-class until the sidebar has run).

    A shipped model's name, or ``label@fingerprint`` for a saved or trained one.
    """
    return st.session_state.get(MODEL_KEY, TEN_CLASS)


def active_model() -> DigitModel:
    """The model chosen in the sidebar or made active by :func:`use_model`."""
    return lookup_model(active_model_name())
