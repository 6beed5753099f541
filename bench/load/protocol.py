"""A Digit Lens session without a browser: Streamlit's WebSocket protocol, spoken by Python.

A browser tab talks to a Streamlit server over one WebSocket (``/_stcore/stream``):
it sends ``BackMsg`` protobufs (``rerun_script`` with every widget's value, a request
for upload URLs) and receives ``ForwardMsg`` protobufs (the elements of each script
run, ``script_finished``). :class:`Session` does the same with the message classes
of the installed ``streamlit.proto``, so the server does exactly the work it does
for a real page while the client costs little: nothing is laid out or painted.

What it mirrors of Streamlit's frontend:

* the handshake: ``GET /_stcore/health`` sets the ``_streamlit_xsrf`` cookie, which
  goes back as the second WebSocket subprotocol and, on uploads, as ``X-Xsrftoken``;
* widget values: every rerun carries the value of each widget of the current page
  the user has set (the server keeps the rest, as for a page that never touched
  them); a button press is a one-run trigger;
* the message cache: large elements the server marks cacheable are kept, their
  hashes sent back with every rerun, and later ``ref_hash`` messages resolved from
  the cache, so the server sends what it would send a browser;
* uploads: ``file_urls_request``, a multipart ``PUT`` of the file, then a rerun with
  the uploader's ``file_uploader_state_value``.

The canvas value is a component value captured from Chromium
(``bench/load/capture.py``, ``bench/load/fixtures/strokes.json``); :func:`vary`
moves and scales it, image and paths alike, so no two drawings are the same bytes
(the app caches analyses by image bytes; a cache hit would flatter the figures).

No Locust and no gevent here: ``bench/load/locustfile.py`` runs sessions as Locust
users, and ``tests/browser/test_load_client.py`` runs one plainly.
"""

from __future__ import annotations

import base64
import io
import json
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
import websocket
from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "strokes.json"
TEN_CLASS = "Ten digits (0-9)"  # the sidebar's radio options, as pages/explain.py names them
PAIR = "Two digits"
# What Chromium sent as context_info in the captured session.
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "color_scheme": "light"}


class ProtocolError(RuntimeError):
    """The server closed, timed out, showed an error, or answered something unexpected."""


@dataclass
class Run:
    """What one script run sent back, and when (``time.perf_counter`` seconds)."""

    sent: float
    prediction: str | None = None
    prediction_at: float | None = None
    finished_at: float | None = None
    widgets: dict[str, str] = field(default_factory=dict)  # widget id -> element type
    labels: dict[str, str] = field(default_factory=dict)  # widget id -> label shown
    errors: list[str] = field(default_factory=list)  # exceptions and error alerts shown
    bytes_received: int = 0

    @property
    def to_prediction(self) -> float | None:
        """Seconds from the rerun sent to the Prediction metric received."""
        return None if self.prediction_at is None else self.prediction_at - self.sent

    @property
    def to_finished(self) -> float | None:
        """Seconds from the rerun sent to ``script_finished`` received."""
        return None if self.finished_at is None else self.finished_at - self.sent


def load_strokes(path: Path = FIXTURE) -> dict[int, list[str]]:
    """The captured canvas values by digit drawn: ``{digit: [json_value, ...]}``."""
    fixture = json.loads(path.read_text())
    strokes: dict[int, list[str]] = {}
    for entry in fixture["strokes"]:
        strokes.setdefault(int(entry["digit"]), []).append(entry["json_value"])
    return strokes


def vary(
    json_value: str,
    rng: random.Random,
    scale: tuple[float, float] = (0.8, 1.05),
    shift: float = 20.0,
) -> str:
    """The captured canvas value with its drawing scaled about the centre and moved.

    The PNG (``drawing.data``) is resampled with the same affine map as the fabric.js
    path points (``drawing.raw``), so the value stays one the canvas could have sent.

    Parameters
    ----------
    json_value : str
        A canvas component value as captured (JSON text).
    rng : random.Random
        Source of the scale factor and the shift.
    scale : (float, float)
        Range of the scale factor (1: as drawn).
    shift : float
        Largest move in each direction, canvas pixels.
    """
    value = json.loads(json_value)
    drawing = value["drawing"]
    header, encoded = drawing["data"].split(",", 1)
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    width, height = image.size
    s = rng.uniform(*scale)
    dx, dy = rng.uniform(-shift, shift), rng.uniform(-shift, shift)
    cx, cy = width / 2, height / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return cx + (x - cx) * s + dx, cy + (y - cy) * s + dy

    # PIL's affine transform maps output pixels back to input pixels: the inverse map.
    inverse = (1 / s, 0, cx - (cx + dx) / s, 0, 1 / s, cy - (cy + dy) / s)
    fill = image.getpixel((0, 0))  # the canvas background
    moved = image.transform(
        image.size,
        Image.Transform.AFFINE,
        inverse,
        resample=Image.Resampling.BILINEAR,
        fillcolor=fill,
    )
    buffer = io.BytesIO()
    moved.save(buffer, "PNG")
    drawing["data"] = f"{header},{base64.b64encode(buffer.getvalue()).decode('ascii')}"
    for shape in drawing["raw"].get("objects", []):
        shape["left"], shape["top"] = at(shape["left"], shape["top"])
        shape["scaleX"], shape["scaleY"] = shape["scaleX"] * s, shape["scaleY"] * s
        for command in shape.get("path", []):
            for i in range(1, len(command) - 1, 2):
                command[i], command[i + 1] = at(command[i], command[i + 1])
    return json.dumps(value, separators=(",", ":"))  # compact, as JSON.stringify sends it


class Session:
    """One browser tab's worth of Digit Lens, over Streamlit's WebSocket.

    Parameters
    ----------
    base_url : str
        The app's address, e.g. ``http://127.0.0.1:8501`` (a proxy in front is fine).
    timeout : float
        Seconds to wait for any one message before :class:`ProtocolError`.
    http : requests.Session, optional
        The cookie jar and connection pool to use (one per simulated user).
    """

    def __init__(
        self, base_url: str, timeout: float = 30.0, http: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = http or requests.Session()
        self.ws: websocket.WebSocket | None = None
        self.session_id = ""
        self.pages: dict[str, tuple[str, str]] = {}  # title -> (page_script_hash, url path)
        self.page = ""  # the current page's script hash ("" until the first run)
        self.url = self.base_url + "/"
        self.values: dict[str, WidgetState] = {}  # widget id -> value the user set
        self.rendered: dict[str, str] = {}  # widget id -> element type, last run
        self.labels: dict[str, str] = {}  # widget id -> label, last run
        self.cache: dict[str, ForwardMsg] = {}  # hash -> cacheable message, as the browser keeps
        self.bytes_last = 0  # size of the last message received

    # ------------------------------------------------------------ connection

    def connect(self) -> Run:
        """Load the page, open the WebSocket and run the app's default page."""
        # The page itself: behind the proxy of scripts/serve-many.sh this sets the
        # cookie that pins the session to one server process.
        self.http.get(self.base_url + "/", timeout=self.timeout).raise_for_status()
        self.http.get(self.base_url + "/_stcore/health", timeout=self.timeout).raise_for_status()
        xsrf = self.http.cookies.get("_streamlit_xsrf", "")
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.ws = websocket.create_connection(
            f"{scheme}://{parts.netloc}{parts.path}/_stcore/stream",
            subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
            cookie=cookies or None,
            origin=f"{parts.scheme}://{parts.netloc}",
            timeout=self.timeout,
            enable_multithread=False,
        )
        return self.rerun()

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            finally:
                self.ws = None

    # ------------------------------------------------------------ what a user does

    def rerun(
        self,
        changed: Iterable[WidgetState] = (),
        trigger: WidgetState | None = None,
        page: str | None = None,
    ) -> Run:
        """Set widget values (and press at most one button), rerun, read the run to its end."""
        for state in changed:
            self.values[state.id] = state
        message = BackMsg()
        client = message.rerun_script
        for state in self.values.values():
            client.widget_states.widgets.append(state)
        if trigger is not None:
            client.widget_states.widgets.append(trigger)
        if page is not None:
            self.page = page
        client.page_script_hash = self.page
        client.cached_message_hashes.extend(self.cache)
        client.context_info.url = self.url
        for name, value in CONTEXT.items():
            setattr(client.context_info, name, value)
        client.context_info.is_embedded = False
        run = Run(sent=time.perf_counter())
        self._send(message)
        self._read_run(run)
        # As the browser does: only the widgets of the page just run keep their values.
        self.values = {k: v for k, v in self.values.items() if k in run.widgets}
        self.rendered, self.labels = run.widgets, run.labels
        if run.errors:
            raise ProtocolError("; ".join(run.errors))
        return run

    def widget(self, suffix: str, kind: str | None = None) -> str:
        """The id of the widget rendered last run whose key ends with ``suffix``.

        Streamlit's ids are ``$$ID-<hash>-<key>`` for keyed widgets.
        """
        for widget_id, element in self.rendered.items():
            if widget_id.endswith(f"-{suffix}") and (kind is None or element == kind):
                return widget_id
        raise ProtocolError(f"no widget '{suffix}' on the page (have {sorted(self.rendered)})")

    def canvas_id(self) -> str:
        for widget_id, element in self.rendered.items():
            if element == "bidi_component" and "-canvas-" in widget_id:
                return widget_id
        raise ProtocolError("no drawing canvas on the page")

    def goto(self, title: str) -> Run:
        """Open another page of the app, as its link in the sidebar does."""
        script_hash, path = self.pages[title]
        self.url = f"{self.base_url}/{path}"
        self.values = {}
        return self.rerun(page=script_hash)

    def press(self, label: str) -> Run:
        """Press the button showing this label (a trigger: true for one run only)."""
        button = next(
            (i for i, e in self.rendered.items() if e == "button" and self.labels.get(i) == label),
            None,
        )
        if button is None:
            raise ProtocolError(f"no button '{label}' on the page")
        return self.rerun(trigger=WidgetState(id=button, trigger_value=True))

    def clear_canvas(self) -> Run:
        """Press Clear: the page remounts an empty canvas under a new key."""
        return self.press("Clear")

    def draw(self, json_value: str) -> Run:
        """Send a canvas value, as the canvas does at the end of a stroke."""
        return self.rerun([WidgetState(id=self.canvas_id(), json_value=json_value)])

    def choose_model(self, kind: str) -> Run:
        """Pick ten-class or a pair in the sidebar's Model radio."""
        return self.rerun([WidgetState(id=self.widget("model_kind"), string_value=kind)])

    def upload(self, data: bytes, name: str, mime: str = "image/png") -> Run:
        """Upload a file with the page's file uploader (key ``upload``)."""
        uploader = self.widget("upload", "file_uploader")
        request = BackMsg()
        request_id = str(uuid.uuid4())
        request.file_urls_request.request_id = request_id
        request.file_urls_request.file_names.append(name)
        request.file_urls_request.session_id = self.session_id
        self._send(request)
        while True:
            reply = self._receive()
            if reply.WhichOneof("type") == "file_urls_response":
                response = reply.file_urls_response
                if response.response_id == request_id:
                    break
        if response.error_msg:
            raise ProtocolError(f"upload refused: {response.error_msg}")
        urls = response.file_urls[0]
        answer = self.http.put(
            self.base_url + urls.upload_url,
            files={"file": (name, data, mime)},
            headers={"X-Xsrftoken": self.http.cookies.get("_streamlit_xsrf", "")},
            timeout=self.timeout,
        )
        if answer.status_code >= 400:
            raise ProtocolError(f"upload PUT answered {answer.status_code}")
        state = WidgetState(id=uploader)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        return self.rerun([state])

    # ------------------------------------------------------------ the wire

    def _send(self, message: BackMsg) -> None:
        if self.ws is None:
            raise ProtocolError("not connected")
        self.ws.send_binary(message.SerializeToString())

    def _receive(self) -> ForwardMsg:
        if self.ws is None:
            raise ProtocolError("not connected")
        try:
            data = self.ws.recv()
        except websocket.WebSocketTimeoutException as error:
            wait = f"{self.timeout:.0f} s"
            raise ProtocolError(f"no message from the server within {wait}") from error
        except (websocket.WebSocketException, OSError) as error:
            raise ProtocolError(f"connection lost: {error}") from error
        if not isinstance(data, bytes):
            raise ProtocolError("the server sent a text frame")
        message = ForwardMsg()
        message.ParseFromString(data)
        self.bytes_last = len(data)
        if message.WhichOneof("type") == "ref_hash":
            cached = self.cache.get(message.ref_hash)
            if cached is None:
                raise ProtocolError(f"reference to a message not in the cache: {message.ref_hash}")
            resolved = ForwardMsg()
            resolved.CopyFrom(cached)
            resolved.metadata.CopyFrom(message.metadata)
            return resolved
        if message.metadata.cacheable and message.hash:
            self.cache[message.hash] = message
        return message

    def _read_run(self, run: Run) -> None:
        """Read messages until this run's ``script_finished``; note what matters on the way."""
        while True:
            message = self._receive()
            run.bytes_received += self.bytes_last
            kind = message.WhichOneof("type")
            if kind == "new_session":
                session = message.new_session
                self.session_id = session.initialize.session_id or self.session_id
                if session.page_script_hash:
                    self.page = session.page_script_hash
                for page in session.app_pages:
                    self.pages[page.page_name] = (page.page_script_hash, page.url_pathname)
            elif kind == "navigation":
                for page in message.navigation.app_pages:
                    self.pages[page.page_name] = (page.page_script_hash, page.url_pathname)
                if message.navigation.page_script_hash:
                    self.page = message.navigation.page_script_hash
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                self._note_element(message.delta.new_element, run)
            elif kind == "script_finished":
                if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # another run follows at once
                run.finished_at = time.perf_counter()
                if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.errors.append("the script did not compile")
                return

    @staticmethod
    def _note_element(element, run: Run) -> None:
        kind = element.WhichOneof("type")
        if kind == "metric" and element.metric.label == "Prediction":
            run.prediction, run.prediction_at = element.metric.body, time.perf_counter()
        elif kind == "exception":
            run.errors.append(f"exception: {element.exception.type}: {element.exception.message}")
        elif kind == "alert" and element.alert.format == element.alert.ERROR:
            run.errors.append(f"error shown: {element.alert.body.splitlines()[0]}")
        elif kind is not None:
            proto = getattr(element, kind)
            widget_id = getattr(proto, "id", "")
            if widget_id:
                run.widgets[widget_id] = kind
                run.labels[widget_id] = getattr(proto, "label", "")
