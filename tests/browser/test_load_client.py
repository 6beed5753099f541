"""The load generator's protocol client still speaks to the app as it is now.

``bench/load/protocol.py`` plays a browser tab over Streamlit's WebSocket; if the
app's widgets or the protocol change under it, the load figures would silently
measure something else. No timing is asserted here: it opens a session against
the server the browser tests start, draws one stroke captured from Chromium
(moved and scaled, as the load generator sends it), and reads back the digit.
"""

from __future__ import annotations

import random

import pytest

from bench.load.protocol import PAIR, TEN_CLASS, Session, load_strokes, vary

pytestmark = pytest.mark.browser  # it needs the app server the browser tests start


def test_a_captured_stroke_gets_its_digit_back(app_url):
    strokes = load_strokes()
    session = Session(app_url, timeout=30)
    try:
        first = session.connect()
        assert first.prediction is None  # an empty canvas: nothing to read yet
        session.clear_canvas()
        rng = random.Random(14)
        run = session.draw(vary(strokes[7][0], rng))
        assert run.prediction is not None and run.prediction.rstrip("?") == "7"
        assert run.prediction_at <= run.finished_at

        # The same drawing of a 1 read by the pair model 0 vs 1, then by ten-class again.
        session.clear_canvas()
        assert session.draw(vary(strokes[1][0], rng)).prediction.rstrip("?") == "1"
        assert session.choose_model(PAIR).prediction.rstrip("?") == "1"
        assert session.choose_model(TEN_CLASS).prediction.rstrip("?") == "1"
    finally:
        session.close()
