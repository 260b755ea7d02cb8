"""The Data page's templates tab: blank templates, filled-in examples and saved column mappings to download."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.views.data import mapping_step as mapping_views
from analysis.views.data import templates as template_views
from ui import components, downloads


def templates_section() -> None:
    """Every file shipped in data/templates and data/examples, then the mappings saved so far."""
    files = template_views.reference_files()
    if files.empty:
        components.empty_state("No templates or examples are installed in data/templates or data/examples.")
        return
    for group, rows in files.groupby("group", sort=False):
        st.markdown(f"**{group}**")
        for row in rows.itertuples():
            path = Path(row.path)
            downloads.file_download(
                row.label, path, mime=template_views.mime_type(row.name), key=f"data_file_{path.parent.name}_{row.name}"
            )
    st.caption(
        "Layout A: up to three tables (patients, sessions, assessments) as CSV files or sheets of one "
        "workbook. Layout B: one row per session with the scores taken before it. Dates as YYYY-MM-DD, "
        "MM/DD/YYYY or DD/MM/YYYY."
    )
    mappings = mapping_views.saved_mappings()
    if len(mappings):
        st.markdown("**Column mappings** (for exports in another shape; `--mapping FILE` on the command line)")
        for row in mappings.itertuples():
            path = Path(row.path)
            downloads.file_download(
                f"{path.name}: {row.reads}", path, mime="application/toml", key=f"data_mapping_file_{path.stem}"
            )
