"""MNIST for the Explore and Train pages: loaded once per process, read-only; how to get it."""

from __future__ import annotations

import streamlit as st

from core.data import (
    HOW_TO_POINT,
    Split,
    can_download,
    download_mnist,
    load_split,
    mnist_available,
    resolve_data_dir,
)
from core.errors import DataError
from core.jobs import Job, checkpoint


@st.cache_resource(show_spinner="Loading MNIST…", max_entries=2)
def load_mnist(directory: str) -> tuple[Split, Split]:
    """Both splits from one directory, shared read-only by every session."""
    splits = load_split("train", directory), load_split("test", directory)
    for split in splits:
        split.images.setflags(write=False)
        split.labels.setflags(write=False)
    return splits


def mnist() -> tuple[Split, Split] | None:
    """MNIST's training and test splits, or None (with an error shown) when missing or broken."""
    directory = resolve_data_dir()
    if not mnist_available(directory):
        return None
    try:
        return load_mnist(str(directory))
    except DataError as error:
        st.error(str(error), icon=":material/error:")
        return None


@st.cache_data(ttl=120, show_spinner=False)
def _online() -> bool:
    return can_download()


def how_to_get_mnist(why: str) -> None:
    """Say why MNIST is needed and how to get it: a download button when online."""
    directory = resolve_data_dir()
    st.info(f"{why} MNIST was not found in `{directory}`.", icon=":material/dataset:")
    if not _online():
        st.caption(f"This machine cannot reach OpenML now: {HOW_TO_POINT}, then restart the app.")
        return
    st.caption(
        f"Download it once (about 55 MB from OpenML) into the per-user cache, or {HOW_TO_POINT}."
    )
    if st.button("Download MNIST", icon=":material/download:", key="download_mnist"):
        bar = st.progress(0.0, text="starting")
        job = Job(
            lambda progress, cancel: download_mnist(directory, checkpoint(progress, cancel)),
            what="downloading MNIST",
            name="digit-lens-download",
        )
        job.follow(lambda text, fraction: bar.progress(fraction, text=text))
        if job.error:
            st.error(job.error, icon=":material/cloud_off:")
            return
        load_mnist.clear()
        st.rerun()
