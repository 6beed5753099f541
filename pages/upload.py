"""Upload a photo of a digit, or take one with the camera."""

import streamlit as st

from core.errors import ImageError
from ui.session import active_model_name
from ui.views import (
    EXAMPLE_LABELS,
    analyse,
    example_photos,
    feedback_buttons,
    show_explanation,
    show_prediction,
)

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
INK_CHOICES = {
    "Automatic": None,
    "Dark ink on light paper": False,
    "Light ink on a dark background": True,
}


def manual_options() -> dict:
    """The expander of manual overrides, as keyword arguments of ``analyse``."""
    with st.expander("Manual overrides: ink, contrast, crop"):
        ink = st.radio("Ink", list(INK_CHOICES), horizontal=True, key="ink")
        contrast = None
        if st.toggle("Set the contrast threshold", key="contrast_on"):
            contrast = st.slider(
                "Contrast threshold",
                0.0,
                0.95,
                0.1,
                0.01,
                key="contrast",
                help="Ink fainter than this (relative to the darkest strokes) becomes "
                "paper. Raise it to clean a noisy photo, lower it to keep faint pencil.",
            )
        crop = None
        if st.toggle("Crop the photo", key="crop_on"):
            left, right = st.slider(
                "Left and right edges", 0.0, 1.0, (0.0, 1.0), 0.01, key="crop_x"
            )
            top, bottom = st.slider(
                "Top and bottom edges", 0.0, 1.0, (0.0, 1.0), 0.01, key="crop_y"
            )
            if right - left >= 0.02 and bottom - top >= 0.02:
                crop = (left, top, right, bottom)
            else:
                st.warning("The crop is too small: using the whole photo.")
    return {"invert": INK_CHOICES[ink], "contrast": contrast, "crop": crop}


EXAMPLE = "example"  # session state: the name of the example photo shown, if any


def forget_example() -> None:
    """A photo uploaded or taken replaces the example."""
    st.session_state.pop(EXAMPLE, None)


def example_buttons() -> None:
    """Thumbnails of the project's own example photos, one click each."""
    st.caption("No photo at hand? Try one of these, made by the app itself:")
    photos = example_photos()
    for column, (name, data) in zip(st.columns(len(photos)), photos.items(), strict=True):
        column.image(data, width=120)  # a thumbnail, even where the columns stack
        column.button(
            EXAMPLE_LABELS[name],
            key=f"example-{name}",
            help=name,
            on_click=st.session_state.__setitem__,
            args=(EXAMPLE, name),
            width="stretch",
            type="primary" if st.session_state.get(EXAMPLE) == name else "secondary",
        )


left, right = st.columns([1, 1], gap="medium")
with left:
    st.markdown("#### Show a photo of one digit")
    camera = st.toggle("Use the camera", key="use_camera")
    if camera:
        photo = st.camera_input("Take a photo of one digit", key="camera", on_change=forget_example)
    else:
        photo = st.file_uploader(
            "Upload a photo of one digit",
            type=IMAGE_TYPES,
            key="upload",
            help="PNG, JPEG, WebP, BMP, GIF or TIFF; dark ink on paper or chalk on a board.",
            on_change=forget_example,
        )
    example_buttons()
    options = manual_options()

name, data = (photo.name, photo.getvalue()) if photo is not None else (None, None)
if st.session_state.get(EXAMPLE) in example_photos():
    name = st.session_state[EXAMPLE]
    data = example_photos()[name]

analysis = None
with right:
    if data is None:
        st.info(
            "Take a photo of one digit."
            if camera
            else "Upload a photo of one handwritten digit; the prediction appears here."
        )
    else:
        try:
            analysis = analyse(data, active_model_name(), **options)
            if name in example_photos():
                st.caption(f"Example: {name.lower()}, a photo the app drew itself.")
        except ImageError as error:
            st.error(f"{name}: {error}", icon=":material/broken_image:")
        else:
            if analysis.is_blank:
                st.warning(
                    "The ink found is a dot or a blob, not a digit: its strokes are too "
                    "wide for its size. Write the digit bigger, or with a thinner pen."
                    if analysis.dot
                    else "No digit found in this photo: try the manual overrides "
                    "(contrast, crop) or a closer photo."
                )
            else:
                show_prediction(analysis)
                feedback_buttons(analysis, data)

if analysis is not None:
    show_explanation(analysis)
