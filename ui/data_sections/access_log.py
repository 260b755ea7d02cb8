"""The Data page's access-log tab (administrators): who looked at what, filtered and downloaded, never the data."""

from __future__ import annotations

import streamlit as st

from analysis import store
from analysis.access import Person
from analysis.views import access_log as access_log_views
from ui import components, downloads, state


def access_log_section(person: Person) -> None:
    """Who looked at what: every sign-in, patient view, download, import and removal, never the data."""
    try:
        lines = state.access_log()
    except store.StoreError as error:
        st.error(f"{error} The access log is read from the store file itself.")
        return
    if lines.empty:
        components.empty_state("The access log is empty: sign-ins, patient views and downloads are listed here.")
        return
    left, middle, right = st.columns(3)
    with left:
        users = st.multiselect("Who", sorted(lines["user_name"].unique()), key="data_log_users", placeholder="Everyone")
    with middle:
        actions = st.multiselect(
            "Did what", sorted(lines["action"].unique()), key="data_log_actions", placeholder="All"
        )
    with right:
        target = st.text_input("Patient, report or file contains", key="data_log_target")
    first, last = lines["logged_at"].min().date(), lines["logged_at"].max().date()
    days = st.date_input("Between", value=(first, last), key="data_log_days")
    start, end = (list(days) + [None, None])[:2] if isinstance(days, (tuple, list)) else (days, days)
    shown = access_log_views.filter_log(lines, tuple(users), tuple(actions), start, end, target)
    st.caption(f"{len(shown):,} of {len(lines):,} lines, newest first. Lines are only ever added, never changed.")
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "logged_at": st.column_config.DatetimeColumn("When", format="DD MMM YYYY HH:mm:ss"),
            "user_name": "Who",
            "role": "Role",
            "action": "Did what",
            "target": "Patient, report or files",
            "detail": "Detail",
        },
    )
    downloads.csv_download(
        "Download these lines (CSV)",
        shown,
        file_name="access_log.csv",
        key="data_log_download",
        on_click=lambda: state.log_access(person, "downloaded access log", "access_log.csv"),
    )
