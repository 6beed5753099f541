"""Model explorer and Train pages, and the session/saved models they make active.

AppTest drives the pages; the pure logic they call is tested directly.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

from core.model import DigitModel, load_model, save_user_model
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
