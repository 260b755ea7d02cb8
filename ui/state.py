"""The app's data: one cached in-memory snapshot of the store, a cursor per session, shared filters.

DuckDB lets one process write a file. The app never keeps the store open: it copies it into
memory (a snapshot) and re-copies only when the file changes, so `python -m analysis import`
can write while the dashboard is open and the next rerun shows the new data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import streamlit as st

from analysis import store
from analysis.demo import build as demo_store
from analysis.engine.cohort import CohortFilter
from analysis.engine.timeline import Timeline, load_timeline
from analysis.settings import Settings, load_settings

FILTER_KEYS = {
    "sites": "filter_sites",
    "clinicians": "filter_clinicians",
    "modalities": "filter_modalities",
    "conditions": "filter_conditions",
    "age_bands": "filter_age_bands",
    "sexes": "filter_sexes",
}
DATE_RANGE_KEY = "filter_start_dates"


def db_path() -> Path:
    return store.db_path_from_env()


@st.cache_resource(show_spinner=False)
def _settings(path_key: str, modified: float) -> Settings:
    return load_settings(path_key or None)


def settings() -> Settings:
    import os

    from analysis.settings import DEFAULT_SETTINGS_PATH

    named = os.environ.get("OUTCOMES_SETTINGS", "")
    path = Path(named) if named else DEFAULT_SETTINGS_PATH
    modified = path.stat().st_mtime if path.exists() else 0.0
    return _settings(named, modified)


@st.cache_resource(show_spinner=False, max_entries=2)
def _copy(path_key: str, fingerprint: tuple) -> duckdb.DuckDBPyConnection | None:
    """One in-memory copy per version of the store file; never mutated after it is made."""
    path = Path(path_key)
    if not path.exists():
        return None
    return store.snapshot(path)


def _snapshot(path_key: str, fingerprint: tuple) -> duckdb.DuckDBPyConnection | None:
    """The copy, or one sentence and a stop when the file is not a store this app can read."""
    try:
        return _copy(path_key, fingerprint)
    except store.StoreError as error:
        st.error(f"{error} Set OUTCOMES_DB to your clinic's store, or unset it to use the demo.")
        st.stop()


def ensure_store() -> bool:
    """Build the demo clinic on first run at the default path. True when it was built now."""
    path = db_path()
    if path.exists() or not store.is_default_path(path):
        return False
    with st.spinner("First run: building the demo clinic (synthetic patients)…"):
        return demo_store.ensure_default_demo(path)


def _this_run() -> object | None:
    """An object that lives exactly as long as this rerun (None outside a Streamlit run).

    Streamlit gives each rerun a fresh `cursors` dict; holding it in the session state keeps it
    alive, so an identity test never mistakes a later rerun for this one (as id() could).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    # Should a Streamlit release drop `cursors`, each call reads the file again (the timeline still
    # carries its own key, so no cache is mislabelled).
    return getattr(ctx, "cursors", None)


def version() -> tuple[tuple, Settings]:
    """(store path, fingerprint, settings hash) and the settings, read once per rerun.

    The timeline, the cursor and every cached view of one rerun then describe the same store, even
    when an import lands halfway through the rerun; the next rerun reads the new version.
    """
    run = _this_run()
    memo = st.session_state.get("_version")
    if run is not None and memo is not None and memo[0] is run:
        return memo[1], memo[2]
    path = db_path()
    current = settings()
    key = (str(path), store.fingerprint(path), hash(current))
    st.session_state["_version"] = (run, key, current)
    return key, current


def connection() -> duckdb.DuckDBPyConnection | None:
    """A cursor on the current snapshot for this session (None while no store file exists)."""
    (path_key, fingerprint, _), _ = version()
    snapshot = _snapshot(path_key, fingerprint)
    if snapshot is None:
        return None
    key = ("cursor", path_key, fingerprint)  # the store version, never id() of a copy that may be freed
    if st.session_state.get("_cursor_key") != key:
        st.session_state["_cursor"] = snapshot.cursor()
        st.session_state["_cursor_key"] = key
    return st.session_state["_cursor"]


@st.cache_resource(show_spinner=False, max_entries=4)
def _timeline(path_key: str, fingerprint: tuple, settings_key: int, _settings: Settings) -> Timeline | None:
    snapshot = _snapshot(path_key, fingerprint)
    if snapshot is None:
        return None
    cursor = snapshot.cursor()
    try:
        loaded = load_timeline(cursor, _settings)
    finally:
        cursor.close()
    return dataclasses.replace(loaded, version=(path_key, fingerprint, settings_key))


def timeline() -> Timeline | None:
    """Every course and outcome of the store, computed once per store version and settings.

    It carries its version (timeline.version): cache what is computed from it under that key.
    """
    key, current = version()
    return _timeline(*key, current)


def is_demo() -> bool:
    con = connection()
    return bool(con is not None and store.is_demo(con))


def store_counts() -> dict[str, int]:
    con = connection()
    if con is None:
        return {table: 0 for table in ("patients", "sessions", "assessments", "imports", "quarantine")}
    return store.counts(con)


def has_data() -> bool:
    counts = store_counts()
    return counts["sessions"] > 0 or counts["assessments"] > 0


def filters() -> CohortFilter:
    """The sidebar's cohort, as every page and chart receives it."""
    state = st.session_state
    dates = state.get(DATE_RANGE_KEY) or ()
    start_from = dates[0] if len(dates) >= 1 else None
    start_to = dates[1] if len(dates) >= 2 else None
    return CohortFilter(
        start_from=start_from if isinstance(start_from, dt.date) else None,
        start_to=start_to if isinstance(start_to, dt.date) else None,
        **{name: tuple(state.get(key) or ()) for name, key in FILTER_KEYS.items()},
    )


def data_changed() -> None:
    """Call after the app itself wrote to the store: drop this session's cursor on the old copy."""
    st.session_state.pop("_cursor_key", None)
    st.session_state.pop("_cursor", None)
    st.session_state.pop("_version", None)


def run_inside_frame() -> None:
    """Make sure a page runs inside dashboard.py's frame (sidebar filters, banner, navigation).

    On a fresh server, Streamlit runs the first deep link (e.g. /patient) straight from the
    pages/ folder in its old multipage mode, skipping the frame. Switching that mode off and
    rerunning lets dashboard.py's st.navigation serve the same page properly.
    """
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager

    # AppTest re-detects the folder on every run and drives pages directly; a rerun there
    # would swallow the widget event being tested. The browser test covers the real server.
    if config.get_option("global.appTest"):
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
