"""Upload a photo of a digit, or take one with the camera."""

import streamlit as st

from core.errors import ImageError
from ui.session import active_model_name
from ui.views import analyse, feedback_buttons, show_explanation, show_prediction

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


left, right = st.columns([1, 1], gap="medium")
with left:
    st.markdown("#### Show a photo of one digit")
    camera = st.toggle("Use the camera", key="use_camera")
    if camera:
        photo = st.camera_input("Take a photo of one digit", key="camera")
    else:
        photo = st.file_uploader(
            "Upload a photo of one digit",
            type=IMAGE_TYPES,
            key="upload",
            help="PNG, JPEG, WebP, BMP, GIF or TIFF; dark ink on paper or chalk on a board.",
        )
    options = manual_options()

analysis = None
with right:
    if photo is None:
        st.info(
            "Take a photo of one digit."
            if camera
            else "Upload a photo of one handwritten digit; the prediction appears here."
        )
    else:
        try:
            analysis = analyse(photo.getvalue(), active_model_name(), **options)
        except ImageError as error:
            st.error(f"{photo.name}: {error}", icon=":material/broken_image:")
        else:
            if analysis.is_blank:
                st.warning(
                    "No digit found in this photo: try the manual overrides "
                    "(contrast, crop) or a closer photo."
                )
            else:
                show_prediction(analysis)
                feedback_buttons(analysis, photo.getvalue())

if analysis is not None:
    show_explanation(analysis)
