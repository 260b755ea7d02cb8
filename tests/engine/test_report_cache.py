"""The store's report cache gives exactly the computed numbers, and is never used once stale."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from analysis import ingest, store
from analysis.demo import build as demo_store
from analysis.engine.timeline import CACHE_KEY, load_timeline, save_report_cache
from analysis.reporting.report import quarterly_report
from analysis.settings import Settings


@pytest.fixture
def demo_path(tmp_path):
    path = tmp_path / "demo.duckdb"
    demo_store.build(path, n_patients=80, seed=4, end_date=dt.date(2026, 10, 31))
    return path


def test_cached_report_equals_the_computed_one(demo_path):
    """The demo build leaves a cache; reading it gives the same frames and report as computing."""
    with store.opened(demo_path, read_only=True) as con:
        assert store.get_meta(con, CACHE_KEY)
        cached = load_timeline(con, Settings(), with_details=False)
        computed = load_timeline(con, Settings(), with_details=True)
    pd.testing.assert_frame_equal(cached.courses, computed.courses)
    key = ["course_id", "instrument"]
    pd.testing.assert_frame_equal(
        cached.course_outcomes.sort_values(key).reset_index(drop=True),
        computed.course_outcomes.sort_values(key).reset_index(drop=True),
    )
    assert cached.data_last_date == computed.data_last_date
    for quarter in ("all", "2026Q1"):
        assert quarterly_report(cached, quarter, suppress=False) == quarterly_report(computed, quarter, suppress=False)


def test_an_import_makes_the_cache_stale(demo_path):
    """New sessions change the data version: the report computes afresh and counts them."""
    with store.opened(demo_path) as con:
        before = quarterly_report(load_timeline(con, with_details=False), "all", suppress=False)
        sessions = pd.DataFrame({"patient_id": ["NEW1"], "session_date": ["2026-10-20"], "modality": ["IV"]})
        assert ingest.import_tables(con, [("s.csv", sessions)], today=dt.date(2026, 11, 26)).ok
        after = quarterly_report(load_timeline(con, with_details=False), "all", suppress=False)
    assert after["courses_started"] == before["courses_started"] + 1


def test_other_settings_never_read_a_cache_made_with_different_ones(demo_path):
    """A clinic that changes its course gap gets outcomes computed with the new gap."""
    with store.opened(demo_path) as con:
        save_report_cache(con, Settings())
        wider = replace(Settings(), course_gap_days=400)
        from_settings = load_timeline(con, wider, with_details=False)
        computed = load_timeline(con, wider, with_details=True)
    assert len(from_settings.courses) == len(computed.courses)
    assert len(computed.courses) < len(load_timeline(store.connect(demo_path, read_only=True), Settings()).courses)


def test_removing_the_demo_leaves_no_computed_copy_behind(demo_path):
    """After the demo is removed, no cached course or outcome of it remains in the file."""
    with store.opened(demo_path) as con:
        store.clear(con)
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        report = quarterly_report(load_timeline(con, with_details=False), "all", suppress=False)
    assert not any(table.startswith("cache_") for table in tables)
    assert report["courses_started"] == 0


def test_the_dashboards_full_timeline_from_the_cache_equals_the_computed_one(demo_path):
    """Every assessment and pre-booster score read from the cache matches a fresh computation."""
    with store.opened(demo_path, read_only=True) as con:
        cached = load_timeline(con, Settings())
    fresh_settings = replace(Settings(), suppression_max=9)  # another fingerprint: computed afresh
    with store.opened(demo_path, read_only=True) as con:
        computed = load_timeline(con, fresh_settings)
    for name, key in (
        ("assessments", ["patient_id", "assessment_date", "instrument"]),
        ("boosters", ["course_id", "session_number", "instrument"]),
        ("sessions", ["patient_id", "session_date"]),
    ):
        pd.testing.assert_frame_equal(
            getattr(cached, name).sort_values(key).reset_index(drop=True),
            getattr(computed, name).sort_values(key).reset_index(drop=True),
        )


def test_the_app_snapshot_carries_the_cache(demo_path):
    """The dashboard's in-memory copy holds the cached frames, so its first load need not recompute."""
    snapshot = store.snapshot(demo_path)
    tables = {row[0] for row in snapshot.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"cache_courses", "cache_assessments", "cache_boosters"} <= tables
    assert len(load_timeline(snapshot, Settings()).assessments) > 0
