"""Saving digits from a prediction, and the My digits page, without a browser (AppTest)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.explain import mnist_image
from core.imagefile import PNG_SIGNATURE
from core.model import load_model
from core.preprocess import preprocess
from core.storage import CSV_FILE, DigitStore, default_db_path, export_zip, mnist_pixels
from tests.personal import personal_set
from tests.test_app import canvas_png, metric_value
from ui.views import analyse

TIMEOUT = 60
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _predicted_then_feedback(data: bytes):
    from ui.views import analyse, feedback_buttons, show_prediction

    analysis = analyse(data, "ten-class", invert=True)
    show_prediction(analysis)
    feedback_buttons(analysis, data)


def test_mnist_image_is_what_preprocessing_made():
    data = canvas_png(5)
    analysis = analyse(data, "ten-class", invert=True)
    expected = mnist_pixels(preprocess(data).pixels)
    np.testing.assert_array_equal(mnist_image(analysis), expected)


def test_correct_then_it_was_a_saves_one_digit_and_relabels_it():
    data = canvas_png(7)
    at = AppTest.from_function(_predicted_then_feedback, args=(data,), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert not default_db_path().exists()  # nothing is opened until a button is pressed
    at.button(key="feedback_correct").click().run()
    assert not at.exception
    store = DigitStore()
    (saved,) = store.digits()
    assert (saved.label, saved.predicted, saved.model) == (7, 7, "ten-class")
    assert store.raw(saved.id) == data
    np.testing.assert_array_equal(saved.pixels, mnist_pixels(preprocess(data).pixels))
    assert any(f"Saved as a 7 (#{saved.id})" in c.value for c in at.caption)

    # The same drawing said to be another digit: the saved one is relabelled, not doubled.
    at.pills(key="feedback_label").set_value(1).run()
    assert not at.exception
    (relabelled,) = store.digits()
    assert (relabelled.id, relabelled.label, relabelled.predicted) == (saved.id, 1, 7)
    assert at.pills(key="feedback_label").value is None  # ready for the next digit
    assert any("now as a 1" in c.value for c in at.caption)


def _fill(n: int = 30) -> DigitStore:
    store = DigitStore()
    store.add_many(
        (label, mnist_pixels(preprocess(data).pixels), data, None, "ten-class", None)
        for data, label in personal_set(n)
    )
    return store


def _my_digits() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/my_digits.py").run()
    assert not at.exception
    return at


def test_my_digits_page_when_empty_says_how_to_save():
    at = _my_digits()
    assert "No digits saved yet" in at.info[0].value
    assert at.get("download_button")  # import is offered even now


def test_my_digits_page_shows_digits_by_label_relabels_and_deletes():
    store = _fill(30)
    at = _my_digits()
    assert any("30 digits saved" in c.value for c in at.caption)
    headings = [m.value for m in at.markdown if "saved" in m.value]
    assert headings == [f"**{d}** · 3 saved" for d in range(10)]
    galleries = at.get("html")
    assert sum(block.proto.body.count("<img ") for block in galleries) == 30

    first, second = (d.id for d in store.digits()[:2])
    at.multiselect(key="chosen_digits").set_value([first, second]).run()
    at.selectbox(key="new_label").set_value(9).run()
    at.button[[b.label for b in at.button].index("Relabel")].click().run()
    assert not at.exception
    assert [at.success[0].value] == ["Relabelled 2 digits as 9."]
    assert store.counts()[9] == 5
    at.multiselect(key="chosen_digits").set_value([first]).run()
    at.button[[b.label for b in at.button].index("Delete")].click().run()
    assert not at.exception
    assert len(store) == 29 and first not in {d.id for d in store.digits()}

    # Open one: the active model reads the saved 28×28; the input it came from is shown.
    assert not [m for m in at.metric if m.label == "Prediction"]
    at.selectbox(key="open_digit").set_value(second).run()
    assert not at.exception
    saved = {d.id: d for d in store.digits()}[second]
    expected = load_model("ten-class").predict(saved.pixels[None] / 255.0)[0]
    assert metric_value(at).rstrip("?") == str(expected)
    assert len(at.image) == 1  # the raw input, as it was given
    assert any(c.value.startswith("a 9, saved ") for c in at.caption)


def test_my_digits_page_measures_every_model_on_the_saved_digits():
    store = _fill(20)
    at = _my_digits()
    table = at.dataframe[0].value
    assert table["model"].tolist()[:2] == ["ten-class", "binary-0-1"]
    assert len(table) == 1 + 45  # ten-class and every pair: every digit was saved
    ten = table.set_index("model").loc["ten-class"]
    assert ten["digits"] == 20 and ten["accuracy"].endswith("%")
    _, images, labels = store.arrays()
    right = np.mean(load_model("ten-class").predict(images.astype(np.float32) / 255) == labels)
    assert ten["accuracy"] == f"{right:.1%}"
    assert at.selectbox(key="confusion_model").value == "ten-class"
    assert len(at.get("plotly_chart")) == 1


def test_my_digits_page_imports_an_export_and_refuses_a_bad_file():
    source = DigitStore(default_db_path().with_name("other.sqlite3"))
    source.add_many([(3, np.full((28, 28), 200, np.uint8)), (4, np.zeros((28, 28), np.uint8))])
    archive = export_zip(source)
    at = _my_digits()
    uploader = at.get("file_uploader")[0]
    uploader.upload("broken.zip", b"not a zip", "application/zip").run()
    at.button[[b.label for b in at.button].index("Import")].click().run()
    assert not at.exception
    assert at.error[0].value.startswith("broken.zip: not a readable zip")
    assert len(DigitStore()) == 0

    at.get("file_uploader")[0].upload("mine.zip", archive, "application/zip").run()
    at.button[[b.label for b in at.button].index("Import")].click().run()
    assert not at.exception
    assert at.success[0].value == "Imported 2 digits from mine.zip."
    assert DigitStore().counts()[3] == 1
    with zipfile.ZipFile(io.BytesIO(export_zip(DigitStore()))) as zipped:
        assert zipped.read(CSV_FILE).decode().count("\n") == 3


@pytest.mark.mnist
def test_adapt_tab_shows_shipped_and_adapted_figures_then_uses_the_model(mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    _fill(100)
    at = _my_digits()
    at.select_slider(key="adapt_size").set_value(2_000)
    at.button(key="adapt").click().run(timeout=180)
    assert not at.exception and not at.error
    metrics = {m.label: m for m in at.metric}
    shipped = metrics["ten-class on your digits"]
    adapted = metrics["Adapted, on your digits it did not train on"]
    assert float(adapted.value.rstrip("%")) >= float(shipped.value.rstrip("%"))
    assert "ten-class on MNIST's test set" in metrics and "Adapted, on MNIST's test set" in metrics
    assert any("100 saved digits, 5 folds" in c.value for c in at.caption)

    at.button[[b.label for b in at.button].index("Use it")].click().run()
    assert not at.exception
    assert at.session_state["model_name"].startswith("ten-class adapted to my digits@")
    at.text_input(key="adapted_name").set_value("my-hand").run()
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Saved as my-hand")
    from core.model import user_model_names

    assert user_model_names() == ["my-hand"]
    # The saved model is measured beside the shipped ones.
    assert "my-hand" in at.dataframe[0].value["model"].tolist()


def test_upload_page_saves_the_uploaded_file_with_its_label():
    from tests.test_app import photo

    data = photo(2, fmt="JPEG")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/upload.py").run()
    at.file_uploader[0].set_value(("two.jpg", data, "image/jpeg")).run()
    at.button(key="feedback_correct").click().run()
    assert not at.exception
    store = DigitStore()
    (saved,) = store.digits()
    assert (saved.label, saved.predicted) == (2, 2)
    raw = store.raw(saved.id)  # the photo as a PNG, the very pixels the JPEG decodes to
    assert raw.startswith(PNG_SIGNATURE)
    np.testing.assert_array_equal(
        np.asarray(Image.open(io.BytesIO(raw))), np.asarray(Image.open(io.BytesIO(data)))
    )


def test_a_corrupt_database_is_one_line_on_the_page_and_left_untouched():
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database at all\n" * 64)
    before = path.read_bytes()
    at = _my_digits()
    assert not at.exception
    (error,) = at.error
    assert "not a SQLite database" in error.value and "\n" not in error.value
    # Saving from a prediction says so too, and writes nothing.
    at = AppTest.from_function(
        _predicted_then_feedback, args=(canvas_png(3),), default_timeout=TIMEOUT
    ).run()
    at.button(key="feedback_correct").click().run()
    assert not at.exception
    message = at.error[0].value
    assert message.startswith("Not saved: ") and "not a SQLite database" in message
    assert path.read_bytes() == before


def test_a_saved_one_vs_rest_model_is_measured_and_its_classes_named():
    from core.model import DigitModel, save_user_model

    _fill(20)
    ten = load_model("ten-class")
    # "2 or not": the ten-class model's 2 row against the mean of the others.
    others = np.delete(ten.coef_, 2, axis=0).mean(axis=0)
    model = DigitModel(
        (ten.coef_[2] - others)[None],
        np.array([ten.intercept_[2] - np.delete(ten.intercept_, 2).mean()]),
        [-1, 2],
        {
            "name": "two-or-not",
            "task": "one-vs-rest",
            "class_names": {"-1": "not 2"},
            "input_transform": ten.input_transform,
        },
    )
    save_user_model(model, "two-or-not")
    at = _my_digits()
    table = at.dataframe[0].value.set_index("model")
    assert table.loc["two-or-not", "digits"] == 20  # every digit: a 2 or not
    at.selectbox(key="confusion_model").set_value("two-or-not").run()
    assert not at.exception
    spec = at.get("plotly_chart")[0].proto.spec
    assert '"not 2"' in spec and '"-1"' not in spec
