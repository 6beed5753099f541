"""The bare baseline for bench/bench_app_latency.py: the canvas and one Prediction metric.

Same canvas settings, same preprocessing and the same shipped ten-class model as
the Draw page, nothing else: the fastest a drawing can turn into a prediction.
Run it alone with ``streamlit run bench/bare_app.py``.
"""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.model import load_model
from core.preprocess import PreprocessOptions, preprocess


@st.cache_resource
def model():
    return load_model("ten-class")


def clear() -> None:
    st.session_state["canvas_id"] = st.session_state.get("canvas_id", 0) + 1


canvas = st_canvas(
    stroke_width=18,
    stroke_color="#ffffff",
    background_color="#000000",
    update_streamlit=True,
    height=280,
    width=280,
    drawing_mode="freedraw",
    return_image_data=True,
    key=f"canvas-{st.session_state.get('canvas_id', 0)}",
)
st.button("Clear", on_click=clear)
if (canvas.json_data or {}).get("objects") and canvas.image_bytes:
    result = preprocess(canvas.image_bytes, PreprocessOptions(invert=True))
    if not result.is_blank:
        probs = model().predict_proba(result.pixels[None])[0]
        st.metric("Prediction", str(int(model().classes_[probs.argmax()])))
