"""Draw a digit with the mouse or a finger; the prediction follows every stroke."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.verdict import TOO_SMALL
from ui.session import active_model_name
from ui.views import (
    HINT_DRAW,
    analyse,
    feedback_buttons,
    has_strokes,
    show_explanation,
    show_prediction,
    warm_up_elements,
)

CANVAS_SIDE = 280
CANVAS_ID = "canvas_id"  # session state: bumped by Clear to remount an empty canvas


def clear_canvas() -> None:
    st.session_state[CANVAS_ID] = st.session_state.get(CANVAS_ID, 0) + 1


left, right = st.columns([1, 1], gap="medium")
with left:
    st.markdown("#### Draw a digit")
    canvas = st_canvas(
        stroke_width=st.session_state.get("pen_width", 18),
        stroke_color="#ffffff",
        background_color="#000000",
        update_streamlit=True,
        height=CANVAS_SIDE,
        width=CANVAS_SIDE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"canvas-{st.session_state.get(CANVAS_ID, 0)}",
    )

image = canvas.image_bytes if has_strokes(canvas.json_data) else None
analysis = analyse(image, active_model_name(), invert=True) if image else None

with right:
    if analysis is None:
        st.info(HINT_DRAW)
    elif analysis.is_blank:
        st.info(
            f"That looks like a dot or a blob, not a digit. {TOO_SMALL.capitalize()}."
            if analysis.dot
            else "No digit found: draw it bigger."
        )
    else:
        show_prediction(analysis)
        feedback_buttons(analysis, image)

# Under the canvas, but sent after the Prediction: each element before it is one more
# message for the browser to take in before it can show the answer.
with left:
    pen, clear = st.columns([3, 1], vertical_alignment="bottom")
    pen.slider("Pen width", min_value=6, max_value=40, value=18, step=1, key="pen_width")
    clear.button("Clear", on_click=clear_canvas, icon=":material/delete:", width="stretch")

if analysis is not None and not analysis.is_blank:
    show_explanation(analysis)
else:  # the result's code loads while the visitor reads the page, once the canvas is up
    warm_up_elements(after="canvas")
