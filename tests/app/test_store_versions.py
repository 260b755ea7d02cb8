"""One rerun, one store version: an import landing halfway through a rerun never mixes two versions.

The timeline carries the version it was read at; cached views and the session's cursor key on that
version, read once per rerun, never on a second look at the file or on id() of a copy.
"""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

NEW_PATIENT = b"patient_id,session_date,modality\nNEW-1,2026-01-05,ketamine_iv\nNEW-2,2026-02-05,ketamine_im\n"


def _rerun_with_an_import_in_the_middle():
    """The app's pattern: timeline first, then (after an outside import) a cached view and the cursor."""
    import streamlit as st

    from analysis import ingest, store
    from analysis.views.overview import courses_started
    from ui import components, state

    timeline = state.timeline()
    if st.session_state.get("import_now"):
        st.session_state["import_now"] = False
        # `python -m analysis import` writing while the page renders.
        with store.opened(state.db_path()) as con:
            assert ingest.import_bytes(con, [("new.csv", st.session_state["new_rows"])]).ok
    con = state.connection()
    st.session_state["shown"] = components.cached(courses_started, timeline)["courses"]
    st.session_state["true"] = courses_started(timeline)["courses"]
    st.session_state["timeline_sessions"] = len(timeline.sessions)
    st.session_state["cursor_sessions"] = con.execute("SELECT count(*) FROM sessions").fetchone()[0]


@pytest.fixture
def app(demo_path, tmp_path, monkeypatch):
    path = tmp_path / "clinic.duckdb"
    shutil.copy(demo_path, path)
    monkeypatch.setenv("OUTCOMES_DB", str(path))
    app = AppTest.from_function(_rerun_with_an_import_in_the_middle, default_timeout=120)
    app.session_state["new_rows"] = NEW_PATIENT
    return app


def test_cached_views_are_keyed_on_the_timelines_own_version(app):
    app.session_state["import_now"] = True
    app.run()
    assert not app.exception, app.exception
    before = app.session_state["true"]
    assert app.session_state["shown"] == before  # this rerun shows the version it read
    app.run()  # the next rerun reads the new store
    assert not app.exception, app.exception
    assert app.session_state["true"] == before + 2
    assert app.session_state["shown"] == app.session_state["true"]  # not the old numbers cached under the new key


def test_the_cursor_of_a_rerun_sees_the_same_store_as_its_timeline(app):
    app.session_state["import_now"] = True
    app.run()
    assert not app.exception, app.exception
    assert app.session_state["cursor_sessions"] == app.session_state["timeline_sessions"]
    app.run()
    assert app.session_state["cursor_sessions"] == app.session_state["timeline_sessions"]
    assert app.session_state["cursor_sessions"] > 0
