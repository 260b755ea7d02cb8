"""Download buttons: every table goes out through analysis/spreadsheet.py, every shipped file as it is on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pandas as pd
import streamlit as st

from analysis import spreadsheet


def csv_download(
    label: str,
    frame: pd.DataFrame,
    file_name: str,
    key: str,
    on_click: Callable[[], object] | Literal["rerun"] = "rerun",
) -> None:
    """The frame as a CSV download in which no cell can start a formula (rejected values are quoted verbatim)."""
    st.download_button(
        label, spreadsheet.csv_bytes(frame), file_name=file_name, mime="text/csv", key=key, on_click=on_click
    )


def file_download(label: str, path: Path, mime: str, key: str) -> None:
    """A file shipped with the dashboard (a template, an example, a saved mapping), downloaded under its own name."""
    st.download_button(
        label, data=path.read_bytes(), file_name=path.name, mime=mime, key=key, icon=":material/download:"
    )
