"""Digit Lens: draw or photograph a digit and watch logistic regression read it.

Run with ``streamlit run serve.py`` (which loads the modules first) or
``streamlit run app.py``. Works offline: the shipped models in ``models/`` are
loaded on first use, once per process, and shared read-only.
"""

import streamlit as st

from ui.session import model_sidebar

st.set_page_config(page_title="Digit Lens", page_icon=":material/search:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
        st.Page("pages/upload.py", title="Upload a photo", icon=":material/photo_camera:"),
        st.Page("pages/explore.py", title="Model explorer", icon=":material/insights:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/my_digits.py", title="My digits", icon=":material/folder_special:"),
    ]
)
model_sidebar()
navigation.run()
