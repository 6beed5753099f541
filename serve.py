"""Start Digit Lens with its modules loaded before the first visitor: ``streamlit run serve.py``.

``app.py`` is the app itself (``streamlit run app.py`` works too); this wraps it in
an ``st.App`` whose start-up imports what the first session would otherwise wait
for: numpy, scipy and Pillow behind ``core``, pandas and pyarrow that Streamlit
loads to send the canvas its arguments, and the canvas component itself.
"""

from __future__ import annotations

import gc
import importlib
import time
from contextlib import asynccontextmanager

import streamlit as st

# Imported at start-up; each would cost the first session 0.1-0.5 s on a 2-core machine.
WARM_MODULES = (
    "numpy",
    "pandas",
    "pyarrow",
    "PIL.Image",
    "plotly.graph_objects",
    "ui.views",
    "streamlit_drawable_canvas",
)


@asynccontextmanager
async def warm_up(app: st.App):
    """Import :data:`WARM_MODULES` before the server takes its first session.

    Best effort: a module that fails here is named in one line, and the app
    still starts (its session then imports it, and reports any real error).
    """
    started = time.perf_counter()
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception as error:  # the app must start regardless
            print(f"Digit Lens: could not preload {name}: {error}".splitlines()[0], flush=True)
    print(f"Digit Lens: modules loaded in {time.perf_counter() - started:.1f} s", flush=True)
    # Streamlit collects garbage in full after every script run (runner.postScriptGC),
    # holding the GIL: with these modules loaded that walks ~130,000 objects, 0.25 s
    # per rerun of every session, most of a busy server's time. What start-up made
    # lives as long as the process: freezing it leaves the collector only the rest.
    gc.freeze()
    yield


app = st.App("app.py", lifespan=warm_up)
