"""Linear digit models: arrays plus a JSON card, no pickle anywhere.

A model is ``coef`` (k, 784), ``intercept`` (k,) and ``classes``: k is the
number of classes for the ten-class (softmax) model and 1 for a binary
(sigmoid) model, whose single row scores its second class. Its card (a JSON
file beside the ``.npz``) records what it is, the input transform it was
trained on (applied by the model itself) and how it was made and measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.data import user_data_dir
from core.errors import ModelError
from core.records import ModelCard
from core.transforms import TRANSFORMS


def _shipped_models_dir() -> Path:
    """``models/`` beside ``core/`` in a checkout; ``core/shipped_models`` once pip-installed."""
    here = Path(__file__).resolve().parent
    installed = here / "shipped_models"  # pyproject.toml maps models/ there in a wheel
    return installed if installed.is_dir() else here.parent / "models"


MODELS_DIR = _shipped_models_dir()
SIDE = 28
N_PIXELS = SIDE * SIDE
FORMAT_VERSION = 1
MANIFEST = "SHA256SUMS"  # beside the shipped models: checksums of every card and array file
# The names of models by what they tell apart: ten-class, binary-A-B, A-vs-rest.
_TASK_NAME = re.compile(r"^(?:(?P<ten>ten-class)|binary-(?P<a>\d)-(?P<b>\d)|(?P<one>\d)-vs-rest)$")
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def shipped_model_names() -> list[str]:
    """Names of every model that ships with Digit Lens, shipped or not yet built."""
    pairs = [f"binary-{a}-{b}" for a in range(10) for b in range(a + 1, 10)]
    return ["ten-class", *pairs]


def parse_model_name(name: str) -> tuple[str, tuple[int, ...]] | None:
    """The task and digits a model name stands for, or None for any other name.

    ``"ten-class"`` → ``("ten-class", ())``, ``"binary-3-7"`` → ``("binary", (3, 7))``
    (digits as written), ``"2-vs-rest"`` → ``("one-vs-rest", (2,))``. The inverse
    is :func:`model_name`.
    """
    match = _TASK_NAME.match(str(name))
    if match is None:
        return None
    if match["ten"]:
        return "ten-class", ()
    if match["one"]:
        return "one-vs-rest", (int(match["one"]),)
    return "binary", (int(match["a"]), int(match["b"]))


def model_name(task: str, digits: tuple[int, ...] = ()) -> str:
    """The name of a model for a task: ``ten-class``, ``binary-A-B`` (A < B) or ``A-vs-rest``."""
    if task == "binary":
        return binary_name(*digits)
    if task == "one-vs-rest":
        return f"{digits[0]}-vs-rest"
    return "ten-class"


def _is_shipped_name(name: str) -> bool:
    """True for ten-class and binary-A-B: names of models that ship (or would, if A > B)."""
    parsed = parse_model_name(name)
    return parsed is not None and parsed[0] != "one-vs-rest"


def binary_name(first: int, second: int) -> str:
    """Shipped name of the binary model for a pair of digits, in either order."""
    low, high = sorted((int(first), int(second)))
    if not (0 <= low < high <= 9):
        raise ModelError(f"a binary model needs two different digits 0-9, got {first} and {second}")
    return f"binary-{low}-{high}"


def as_images(images: Any, what: str = "images") -> np.ndarray:
    """Validate MNIST-format input and return it as float32 (n, 28, 28).

    Parameters
    ----------
    images : array-like
        Shape (n, 28, 28) or (n, 784), values in [0, 1] (ink bright on dark).
    what : str
        Name used in error messages.

    Raises
    ------
    ModelError
        With a message that says what was wrong and how to fix it.
    """
    try:
        array = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError):
        raise ModelError(
            f"{what} must be a numeric array of shape (n, 28, 28) or (n, 784)"
        ) from None
    if array.ndim == 2 and array.shape[1] == N_PIXELS:
        array = array.reshape(-1, SIDE, SIDE)
    if array.ndim != 3 or array.shape[1:] != (SIDE, SIDE):
        raise ModelError(
            f"{what} must have shape (n, 28, 28) or (n, 784), got {array.shape}; "
            "pass one image as image[None]"
        )
    if not np.isfinite(array).all():
        raise ModelError(f"{what} contain NaN or infinite values")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ModelError(
            f"{what} must lie in [0, 1] (found {array.min():g}..{array.max():g}); "
            "divide 8-bit pixels by 255"
        )
    return array


@dataclass(frozen=True)
class Contributions:
    """Why one image got its scores: pixel × coefficient, per class.

    ``intercepts[k] + maps[k].sum() == logits[k]`` for every row k, and the
    softmax (ten-class) or sigmoid (binary) of ``logits`` is the model's
    ``predict_proba``.
    """

    maps: np.ndarray  # (k, 28, 28)
    intercepts: np.ndarray  # (k,)
    logits: np.ndarray  # (k,)
    classes: tuple[int, ...]  # the class each row scores: all ten, or the binary's second digit
    model_input: np.ndarray  # (28, 28) what the model saw, after its input transform


def _freeze(array: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """A read-only copy: one model is shared by every session of the app."""
    with np.errstate(over="ignore"):  # an overflow becomes inf, which the caller refuses
        array = np.array(array, dtype=dtype)
    array.setflags(write=False)
    return array


class DigitModel:
    """A linear classifier of MNIST-format digits, in scikit-learn's image.

    Parameters
    ----------
    coef : numpy.ndarray
        (k, 784) weights; k = number of classes, or 1 for a binary model.
    intercept : numpy.ndarray
        (k,) biases.
    classes : sequence of int
        The labels, in the order of ``predict_proba``'s columns.
    card : ModelCard
        What the model is and how it was made (:class:`core.records.ModelCard`);
        must hold ``name`` and may hold ``input_transform`` (a key of
        ``core.transforms.TRANSFORMS``). ``classes`` and ``input_transform`` are
        filled in from the arguments.

    Notes
    -----
    The arrays are read-only: one model is shared by every session of the app.
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes, card: ModelCard | dict):
        classes_array = np.asarray(classes)
        if classes_array.ndim != 1 or classes_array.dtype.kind not in "iu":
            raise ModelError(f"model classes must be a list of integers, got {classes_array!r}")
        classes = tuple(int(c) for c in classes_array)
        coef = np.asarray(coef)
        intercept = np.asarray(intercept)
        if coef.dtype.kind not in "fiu" or intercept.dtype.kind not in "fiu":
            raise ModelError(
                f"model arrays must be numbers, got {coef.dtype} and {intercept.dtype}"
            )
        rows = 1 if len(classes) == 2 else len(classes)
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ModelError(f"a model needs two or more distinct classes, got {classes}")
        if coef.shape != (rows, N_PIXELS) or intercept.shape != (rows,):
            raise ModelError(
                f"model arrays do not fit {len(classes)} classes: coef {coef.shape}, "
                f"intercept {intercept.shape}, expected ({rows}, {N_PIXELS}) and ({rows},)"
            )
        coef, intercept = _freeze(coef), _freeze(intercept)
        # Checked after the cast to float32, where 1e300 becomes infinite.
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise ModelError("model arrays contain NaN or infinite values (or overflow float32)")
        transform = card.get("input_transform", "none")
        if not isinstance(transform, str) or transform not in TRANSFORMS:
            raise ModelError(
                f"model card names unknown input transform {transform!r}; "
                f"known: {', '.join(TRANSFORMS)}"
            )
        calibration = card.get("calibration", {})
        temperature = calibration.get("temperature", 1.0) if isinstance(calibration, dict) else None
        if (
            not isinstance(temperature, (int, float))
            or isinstance(temperature, bool)
            or not (math.isfinite(temperature) and temperature > 0)
        ):
            raise ModelError(
                "model card's calibration temperature must be a positive number, "
                f"got {temperature!r}"
            )
        self.coef_ = coef
        self.intercept_ = intercept
        self.classes_ = _freeze(np.array(classes), np.int64)
        self.card: ModelCard = {**card, "classes": list(classes), "input_transform": transform}
        self._transform = TRANSFORMS[transform]

    @property
    def name(self) -> str:
        """The model's name, e.g. ``ten-class`` or ``binary-3-7``."""
        return str(self.card.get("name", "unnamed"))

    @property
    def is_binary(self) -> bool:
        """True for a two-class (sigmoid) model."""
        return len(self.classes_) == 2

    @property
    def input_transform(self) -> str:
        """Name of the transform the model applies to its input before scoring."""
        return self.card["input_transform"]

    def transform(self, images) -> np.ndarray:
        """What the model sees: its input transform applied, float32 (n, 28, 28)."""
        return self._transform(as_images(images))

    def decision_function(self, images) -> np.ndarray:
        """Logits, (n, k): one per class, or one (for the second class) if binary."""
        seen = self.transform(images).reshape(-1, N_PIXELS)
        return seen @ self.coef_.T + self.intercept_

    @property
    def temperature(self) -> float:
        """Divides the logits before softmax (sigmoid): 1 unless the card is calibrated."""
        return float(self.card.get("calibration", {}).get("temperature", 1.0))

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities of (n, k) logits, as :meth:`predict_proba` gives."""
        return probabilities(logits, self.is_binary, self.temperature)

    def predict_proba(self, images) -> np.ndarray:
        """Class probabilities, (n, n_classes), columns in the order of ``classes_``.

        Calibrated: ``softmax(logits / temperature)`` (sigmoid for a pair), see
        :attr:`temperature`.
        """
        return self.probabilities(self.decision_function(images))

    def predict(self, images) -> np.ndarray:
        """Most probable label of each image, (n,)."""
        return self.classes_[np.argmax(self.predict_proba(images), axis=1)]

    def contributions(self, image) -> Contributions:
        """Per-pixel contributions to each logit for one image (28, 28) or (784,).

        Returns
        -------
        Contributions
            ``maps[k] = model_input * coef[k]`` as 28×28, with the intercepts and
            logits, so that intercept + sum of the map is the logit.
        """
        seen = self.transform(np.asarray(image).reshape(1, SIDE, SIDE))[0]
        maps = seen[None, :, :] * self.coef_.reshape(-1, SIDE, SIDE)
        scored = self.classes_[1:] if self.is_binary else self.classes_
        return Contributions(
            maps=maps,
            intercepts=self.intercept_.copy(),
            logits=self.intercept_ + maps.reshape(len(maps), -1).sum(axis=1),
            classes=tuple(int(c) for c in scored),
            model_input=seen,
        )

    def coefficient_images(self) -> np.ndarray:
        """The weights as (k, 28, 28) pictures."""
        return self.coef_.reshape(-1, SIDE, SIDE)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of what decides every answer: weights, intercepts, classes, transform and
        temperature.

        Two models with the same fingerprint classify every image alike, so it can
        key caches of their results (the arrays are read-only, so it is computed once).
        """
        if getattr(self, "_fingerprint", None) is None:
            digest = hashlib.sha256(self.coef_.tobytes())
            digest.update(self.intercept_.tobytes())
            digest.update(
                json.dumps(
                    [self.classes_.tolist(), self.input_transform, self.temperature]
                ).encode()
            )
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def save(self, directory: str | os.PathLike, name: str | None = None) -> Path:
        """Write ``<name>.npz`` and ``<name>.json`` into ``directory``.

        The card records the SHA-256 of the ``.npz`` so that a tampered or
        mismatched pair is refused at load. Files are written to temporary
        names first, so a failed save leaves any earlier model intact.

        Returns
        -------
        pathlib.Path
            Path of the ``.json`` card.
        """
        name = name or self.name
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}", name):
            raise ModelError(
                f"model name {name!r} is not usable as a file name: use letters, digits, . _ -"
            )
        directory = Path(directory)
        npz_path, card_path = directory / f"{name}.npz", directory / f"{name}.json"
        # Temporary names of this call's own: two saves of one name never share a half-file.
        unique = f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
        tmp_npz = directory / f".{name}.npz.{unique}.partial"
        tmp_card = directory / f".{name}.json.{unique}.partial"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            _write_npz(tmp_npz, coef=self.coef_, intercept=self.intercept_, classes=self.classes_)
            card = {
                **self.card,
                "name": name,
                "format_version": FORMAT_VERSION,
                "arrays_file": npz_path.name,
                "arrays_sha256": _sha256(tmp_npz),
            }
            tmp_card.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
            tmp_npz.replace(npz_path)
            tmp_card.replace(card_path)
        except OSError as error:
            raise ModelError(
                f"cannot save model {name!r} in {directory}: {error.strerror or error}"
            ) from None
        finally:
            for partial in (tmp_npz, tmp_card):
                with contextlib.suppress(OSError):  # gone already, or never could be made
                    partial.unlink()
        self.card = card
        return card_path

    def __repr__(self) -> str:
        return f"DigitModel(name={self.name!r}, classes={list(self.classes_)})"


def probabilities(logits: np.ndarray, binary: bool, temperature: float = 1.0) -> np.ndarray:
    """Softmax of (n, k) logits, or for a binary model sigmoid of (n, 1) as two columns.

    The logits are divided by ``temperature`` first (temperature scaling: > 1
    makes a model less sure, leaving its ranking of the classes as it is).
    """
    logits = np.asarray(logits, dtype=np.float64) / temperature
    if binary:
        second = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return np.stack([1.0 - second, second], axis=1)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    """A compressed ``.npz`` whose bytes depend only on the arrays (no timestamps)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


VOLATILE_CARD_KEYS = ("created", "fit_seconds")  # a time and a timing: never the same twice


def manifest_digest(path: Path) -> str:
    """SHA-256 of a model file as ``SHA256SUMS`` records it.

    An ``.npz`` is hashed as it is. A card is hashed without
    ``VOLATILE_CARD_KEYS``, as JSON with sorted keys: everything that decides or
    describes the model is covered (a changed temperature or transform is
    caught), and a retraining with ``constraints.txt`` reproduces the manifest
    byte for byte. A card that is not JSON is hashed as it is (and so mismatches).
    """
    if path.suffix != ".json":
        return _sha256(path)
    try:
        card = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _sha256(path)
    if not isinstance(card, dict):
        return _sha256(path)
    stable = {key: value for key, value in card.items() if key not in VOLATILE_CARD_KEYS}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


def write_manifest(directory: str | os.PathLike) -> Path:
    """Record every model file's :func:`manifest_digest` in ``directory``'s ``SHA256SUMS``."""
    directory = Path(directory)
    lines = [
        f"{manifest_digest(path)}  {path.name}\n"
        for path in sorted(directory.iterdir())
        if path.suffix in (".json", ".npz") and not path.name.startswith(".")
    ]
    (directory / MANIFEST).write_text("".join(lines))
    return directory / MANIFEST


def _verify_manifest(card_path: Path) -> None:
    """Shipped models must match the checksums shipped with them, card and arrays alike."""
    manifest = card_path.parent / MANIFEST
    try:
        sums = dict(reversed(line.split("  ", 1)) for line in manifest.read_text().splitlines())
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {manifest}: {error}; reinstall the shipped models") from None
    for path in (card_path, card_path.with_suffix(".npz")):
        if not path.is_file() or sums.get(path.name) != manifest_digest(path):
            raise ModelError(
                f"shipped model file {path.name} does not match {MANIFEST}: it was changed or "
                "damaged; restore models/ (git checkout models) or regenerate it"
            )


def _resolve(name_or_path: str | os.PathLike) -> Path:
    """The card path for a shipped name, a card, an ``.npz`` or a path without suffix."""
    text = str(name_or_path)
    if _is_shipped_name(text):
        task, digits = parse_model_name(text)
        if task == "binary":
            binary_name(*digits)  # refuses binary-3-3
            if digits[0] > digits[1]:
                raise ModelError(f"model {text!r}: write the smaller digit first, e.g. binary-3-7")
        return MODELS_DIR / f"{text}.json"
    if _USER_NAME.match(text) and (user_models_dir() / f"{text}.json").is_file():
        return user_models_dir() / f"{text}.json"
    path = Path(text).expanduser()
    if path.suffix in (".json", ".npz"):
        return path.with_suffix(".json")
    if path.parent == Path(".") and not path.exists():
        raise ModelError(
            f"unknown model {text!r}: use ten-class, binary-A-B with A<B (e.g. binary-3-7), "
            "the name of a saved model, or the path of a model written by train"
        )
    return path.with_suffix(".json")


def user_models_dir() -> Path:
    """Where the user's saved models live: ``models`` in :func:`core.data.user_data_dir`."""
    return user_data_dir() / "models"


def user_model_names() -> list[str]:
    """Names of the models the user saved with :func:`save_user_model`, sorted."""
    directory = user_models_dir()
    if not directory.is_dir():
        return []
    return sorted(
        path.stem
        for path in directory.glob("*.json")
        if _USER_NAME.match(path.stem) and path.with_suffix(".npz").is_file()
    )


def save_user_model(model: DigitModel, name: str, overwrite: bool = False) -> Path:
    """Save a model under a name of the user's, to load later with ``load_model(name)``.

    Parameters
    ----------
    model : DigitModel
    name : str
        Letters, digits, ``-`` and ``_`` (at most 64, starting with a letter or
        digit); not the name of a shipped model.
    overwrite : bool
        Replace a saved model of the same name; refused otherwise.

    Returns
    -------
    pathlib.Path
        Path of the model's ``.json`` card (the ``.npz`` is beside it).

    Raises
    ------
    ModelError
        For a bad or taken name; nothing already saved is touched.
    """
    name = str(name).strip()
    if not _USER_NAME.match(name):
        raise ModelError(
            f"model name {name!r} is not allowed: use up to 64 letters, digits, - and _, "
            "starting with a letter or digit"
        )
    if _is_shipped_name(name):
        raise ModelError(f"{name!r} is the name of a shipped model: pick another name")
    directory = user_models_dir()
    if not overwrite and (directory / f"{name}.json").exists():
        raise ModelError(f"a saved model named {name!r} exists: pick another name or overwrite it")
    # Save a copy, so the caller's model keeps its own card.
    copy = DigitModel(model.coef_, model.intercept_, model.classes_, dict(model.card))
    return copy.save(directory, name)


def load_model(name_or_path: str | os.PathLike) -> DigitModel:
    """Load a shipped model or a user's saved model by name, or any model by path.

    Parameters
    ----------
    name_or_path : str or path-like
        ``ten-class``, ``binary-A-B`` (A < B), the name of a model saved with
        :func:`save_user_model`, or the path of a model's ``.json`` card or
        ``.npz`` arrays (the other file must sit beside it).

    Returns
    -------
    DigitModel

    Raises
    ------
    ModelError
        If a file is missing, truncated, tampered with, holds pickled objects,
        or does not match its card.
    """
    card_path = _resolve(name_or_path)
    if not card_path.is_file():
        raise ModelError(f"model card {card_path} not found")
    if card_path.parent.resolve() == MODELS_DIR:
        _verify_manifest(card_path)
    try:
        card = json.loads(card_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"model card {card_path} is not valid JSON: {error}") from None
    if not isinstance(card, dict) or "arrays_sha256" not in card:
        raise ModelError(f"{card_path} is not a Digit Lens model card (no arrays_sha256)")
    arrays_file = card.get("arrays_file", card_path.stem + ".npz")
    if not isinstance(arrays_file, str) or Path(arrays_file).name != arrays_file:
        raise ModelError(
            f"{card_path.name} names arrays {arrays_file!r}: not a file name beside it"
        )
    npz_path = card_path.with_name(arrays_file)
    if not npz_path.is_file():
        raise ModelError(f"model arrays {npz_path} not found beside {card_path.name}")
    if _sha256(npz_path) != card["arrays_sha256"]:
        raise ModelError(
            f"{npz_path} does not match the checksum in its card: it was changed or damaged; "
            "restore it or retrain"
        )
    try:
        arrays = np.load(npz_path, allow_pickle=False)
        if not isinstance(arrays, np.lib.npyio.NpzFile):
            raise ModelError(f"{npz_path} is a single array, not a model's .npz archive")
        with arrays:
            coef, intercept, classes = arrays["coef"], arrays["intercept"], arrays["classes"]
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise ModelError(f"{npz_path} holds pickled objects; refused (no pickle)") from None
        raise ModelError(f"{npz_path} is not a valid model file: {error}") from None
    except (OSError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise ModelError(f"{npz_path} is truncated or not a model file: {error}") from None
    if list(np.asarray(classes).tolist()) != list(card.get("classes", [])):
        raise ModelError(
            f"{card_path.name} names classes {card.get('classes')}, arrays hold "
            f"{np.asarray(classes).tolist()}: card and arrays do not match"
        )
    return DigitModel(coef, intercept, classes, card)
