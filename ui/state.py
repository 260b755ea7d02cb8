"""The app's data: one cached in-memory snapshot of the store, a cursor per session, shared filters.

DuckDB lets one process write a file. The app never keeps the store open: it copies it into
memory (a snapshot) and re-copies only when the file changes, so `python -m analysis import`
can write while the dashboard is open and the next rerun shows the new data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from analysis import access, store
from analysis.access import Person
from analysis.demo import build as demo_store
from analysis.engine.cohort import CohortFilter
from analysis.engine.timeline import Timeline, load_timeline
from analysis.settings import Settings, load_settings
from ui import auth

log = logging.getLogger(__name__)

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


@st.cache_resource(show_spinner=False)
def _log_only_changes() -> dict[tuple, tuple]:
    """File fingerprints after the app's own access-log lines -> the fingerprint of the data they left unchanged."""
    return {}


_LOG_LOCK = threading.Lock()


def fingerprint(path: Path) -> tuple:
    """The store file's fingerprint, seen through the app's own access-log writes.

    A log line changes the file but none of the data: without this, every patient view would
    re-copy the store and recompute every outcome for every user.
    """
    raw = store.fingerprint(path)
    return _log_only_changes().get(raw, raw)


@contextmanager
def _store_for_the_log(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the store file for access-log work; the app's snapshot stays as it is."""
    with _LOG_LOCK:
        seen = fingerprint(path)
        snapshot = _copy(str(path), seen)
        shown = None
        if snapshot is not None:
            cursor = snapshot.cursor()  # the snapshot is shared by every session's thread
            shown = _meta(cursor)
            cursor.close()
        with store.opened(path) as con:
            # Safe to treat the file as unchanged only when it holds the data the app already shows.
            unchanged = shown is not None and _meta(con) == shown
            yield con
        if unchanged:
            _log_only_changes()[store.fingerprint(path)] = seen


def log_access(person: Person | None, action: str, target: str | None = None, detail: str | None = None) -> bool:
    """One line in the store's access log (the file, not the snapshot). False when it could not be written."""
    path = db_path()
    if person is None or not path.exists():
        return False
    try:
        with _store_for_the_log(path) as con:
            store.append_access(con, person.email, person.role, action, target, detail)
    except store.StoreError as error:
        log.warning("access log not written (%s %s): %s", action, target, error)
        return False
    return True


def access_log() -> pd.DataFrame:
    """Every line of the access log, newest first, read from the store file (StoreError when it is busy)."""
    path = db_path()
    if not path.exists():
        return pd.DataFrame(columns=list(store.ACCESS_LOG_COLUMNS))
    with _store_for_the_log(path) as con:
        return store.access_log(con)


def _meta(con: duckdb.DuckDBPyConnection) -> list:
    return con.execute("SELECT key, value FROM meta ORDER BY key").fetchall()


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
    key = (str(path), fingerprint(path), hash(current))  # seen through the app's own log lines
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


@st.cache_resource(show_spinner=False, max_entries=16)
def _scoped(path_key: str, fingerprint: tuple, settings_key: int, scope: access.Scope, _timeline: Timeline) -> Timeline:
    scoped = access.restrict(_timeline, scope)
    scoped.extras["scope"] = scope.key  # a fresh subset: carries its scope into every cache key made from it
    return scoped


def timeline() -> Timeline | None:
    """Every course and outcome this session's person may see, computed once per store version, settings and scope.

    A clinician's timeline holds only their own patients' courses, cut before any page computes from it.
    It carries its version (timeline.version) and scope: cache what is computed from it under both.
    """
    key, current = version()
    full = _timeline(*key, current)
    scope = auth.scope()
    if full is None or scope.everyone:
        return full
    return _scoped(*key, scope, full)


def scope_key(timeline: Timeline | None) -> str:
    """The scope a timeline was cut to ('everyone' for the full one), for cache keys."""
    return "none" if timeline is None else timeline.extras.get("scope", "everyone")


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
    with _LOG_LOCK:  # an import that raced a log line must not hide behind that line's alias
        _log_only_changes().clear()
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
