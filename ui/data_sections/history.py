"""The Data page's import history and quarantine tabs: what each import brought in, and the rows it set aside."""

from __future__ import annotations

import duckdb
import streamlit as st

from analysis.access import Person
from analysis.views.data import results as result_views
from ui import components, downloads, state


def history_section(con: duckdb.DuckDBPyConnection | None) -> None:
    """Every import, newest first: when, who, and how many rows were added, merged or rejected."""
    history = result_views.import_history(con)
    if history.empty:
        components.empty_state(
            "No imports yet. Files you import on the first tab are listed here with when, who, "
            "and how many rows were added, merged or rejected."
        )
        return
    st.dataframe(
        history,
        hide_index=True,
        column_config={
            "imported_at": st.column_config.DatetimeColumn("When", format="DD MMM YYYY HH:mm"),
            "file_name": "File",
            "file_kind": "Held",
            "rows_read": "Rows",
            "rows_added": "Added",
            "rows_merged": "Already in store",
            "rows_rejected": "Rejected",
            "user_name": "By",
            "file_size": st.column_config.NumberColumn("Bytes"),
            "sha256": "SHA-256",
            "options": "Options",
        },
    )


def quarantine_section(con: duckdb.DuckDBPyConnection | None, person: Person) -> None:
    """The rows set aside with their reasons, to fix and import again; resolved rows on request."""
    counts = result_views.quarantine_counts(con)
    if counts["open"] + counts["resolved"] == 0:
        components.empty_state(
            "The quarantine is empty. Rows set aside by an import with *Skip invalid rows* are "
            "kept here with the reason, to fix and import again."
        )
        return
    resolved_note = (
        f" {counts['resolved']:,} earlier rows were resolved: a later import brought them in cleanly."
        if counts["resolved"]
        else ""
    )
    if counts["open"]:
        st.caption(
            f"{counts['open']:,} rows set aside, each with the reason. Fix them in the source file and import it "
            "again." + resolved_note
        )
    else:
        st.success("Nothing left to fix in the quarantine." + resolved_note, icon=":material/check_circle:")
    show_resolved = bool(counts["resolved"]) and st.toggle(
        f"Show the {counts['resolved']:,} resolved rows instead (kept for the audit)", key="data_quarantine_resolved"
    )
    rows = result_views.quarantine_rows(con, resolved=show_resolved)
    if rows.empty:
        return
    if len(rows) <= result_views.PROBLEMS_IN_FULL:
        # A table wraps each sentence (a grid cuts the reason off mid-sentence).
        st.table(result_views.quarantine_to_read(rows))
    else:
        st.dataframe(
            rows,
            hide_index=True,
            column_config={
                "imported_at": st.column_config.DatetimeColumn("Imported", format="DD MMM YYYY HH:mm", width="small"),
                "file": st.column_config.TextColumn("File", width="small"),
                "row": st.column_config.NumberColumn("Row", width="small"),
                "column": st.column_config.TextColumn("Column", width="small"),
                "value": st.column_config.TextColumn("Value", width="small"),
                "reason": st.column_config.TextColumn("What to fix", width="large"),
                "resolved_by": st.column_config.TextColumn("Resolved by", width="small"),
            },
        )
    downloads.csv_download(
        "Download the quarantine (CSV)",
        rows,
        file_name="quarantine.csv",
        key="data_quarantine_download",
        on_click=lambda: state.log_access(person, "downloaded quarantine", "quarantine.csv"),
    )
