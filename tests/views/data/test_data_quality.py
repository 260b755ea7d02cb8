"""The Data page's data quality: questionnaires missing before sessions, courses without a baseline.

Hand-worked in tests/clinic_fixture.py.
"""

from __future__ import annotations

import pytest

from analysis.engine.cohort import CohortFilter
from analysis.views.data import quality as quality_views


def test_completion_by_session_number(clinic):
    """PHQ-9 before session 1 for all 3 courses; before sessions 2-5 for none; before session 6 for A's only.

    A's session 7 is a booster and not counted. GAD-7: only C fills it in, and had one before session 1:
    1 of C's 2 induction sessions, session 1 (A and B never filled in a GAD-7, so none is looked for).
    """
    _, timeline = clinic
    table = quality_views.assessment_completion(timeline)
    phq9 = table.loc[table["instrument"] == "PHQ-9"]
    assert phq9[["session_number", "sessions", "with_score"]].values.tolist() == [
        [1, 3, 3],
        [2, 3, 0],
        [3, 2, 0],
        [4, 1, 0],
        [5, 1, 0],
        [6, 1, 1],
    ]
    gad7 = table.loc[table["instrument"] == "GAD-7"].set_index("session_number")
    assert gad7[["sessions", "with_score"]].values.tolist() == [[1, 1], [1, 0]]
    assert gad7.loc[1, "percent"] == pytest.approx(100.0)


def test_incomplete_questionnaire_does_not_count_as_a_score(clinic):
    """B's 17 Apr PHQ-9 (no total) before session 2 leaves session 2 of B unmeasured."""
    _, timeline = clinic
    missing = quality_views.sessions_without_score(timeline)
    b = missing.loc[missing["patient_id"] == "B", "session_number"].tolist()
    assert b == [2, 3]


def test_sessions_without_any_score(clinic):
    """7 of 12 sessions: A's 2-5, B's 2-3, C's 2 (A's booster has the 20 Jan PHQ-9 before it)."""
    _, timeline = clinic
    missing = quality_views.sessions_without_score(timeline)
    assert sorted(zip(missing["patient_id"], missing["session_number"])) == [
        ("A", 2),
        ("A", 3),
        ("A", 4),
        ("A", 5),
        ("B", 2),
        ("B", 3),
        ("C", 2),
    ]
    summary = quality_views.quality_summary(timeline)
    assert summary["sessions"] == 12 and summary["sessions_without_score"] == 7
    assert summary["sessions_without_score_percent"] == pytest.approx(700 / 12)


def test_courses_without_a_baseline(clinic):
    """Every course has a PHQ-9 baseline. A and B never filled in a GAD-7: their courses are counted apart
    (a clinic gives a questionnaire to some patients only, as the PCL-5 to those with PTSD), and C's one
    course has its GAD-7 baseline: 0 of 1, nothing to chase up."""
    _, timeline = clinic
    table = quality_views.courses_without_baseline(timeline).set_index("instrument")
    assert table.loc["PHQ-9", ["courses", "without_baseline", "never_filled_in"]].tolist() == [3, 0, 0]
    assert table.loc["GAD-7", ["courses", "without_baseline", "never_filled_in"]].tolist() == [1, 0, 2]
    assert table.loc["GAD-7", "percent"] == pytest.approx(0.0)
    assert quality_views.courses_missing_baseline_list(timeline).empty


def test_a_patient_who_fills_in_a_questionnaire_later_is_missing_its_baseline(clinic_path, tmp_path):
    """B fills in a GAD-7 after the clinic's first import: B's course now lacks a GAD-7 baseline, which the
    list names; A (still never asked) stays apart."""
    import shutil

    from analysis import ingest, store
    from analysis.engine.timeline import load_timeline

    path = tmp_path / "later.duckdb"
    shutil.copy(clinic_path, path)
    con = store.connect(path)
    later = "patient_id,assessment_date,instrument,total\nB,2026-04-30,GAD-7,9\n"
    result = ingest.import_bytes(con, [("later.csv", later.encode())], user="tester")
    assert result.ok, [p.sentence() for p in result.problems]
    timeline = load_timeline(con)
    table = quality_views.courses_without_baseline(timeline).set_index("instrument")
    assert table.loc["GAD-7", ["courses", "without_baseline", "never_filled_in"]].tolist() == [2, 1, 1]
    listed = quality_views.courses_missing_baseline_list(timeline)
    assert listed[["patient_id", "no_baseline_for"]].values.tolist() == [["B", "GAD-7"]]
    con.close()


def test_data_quality_honours_the_filters(clinic):
    """CLN-02 has only B: 3 sessions, 2 without a score."""
    _, timeline = clinic
    summary = quality_views.quality_summary(timeline, CohortFilter(clinicians=("CLN-02",)))
    assert (summary["courses"], summary["sessions"], summary["sessions_without_score"]) == (1, 3, 2)


def test_the_tile_caption_says_whose_courses_are_counted():
    assert (
        quality_views.baseline_caption("PCL-5", 66, 12.1, 364)
        == "12% of 66 courses of patients who fill in the PCL-5 (364 more courses: patients who never did)"
    )
    assert quality_views.baseline_caption("PHQ-9", 430, 3.2, 0) == "3% of 430 courses of patients who fill in the PHQ-9"
    assert quality_views.baseline_caption("GAD-7", 0, None, 3) == "No patient in this cohort fills in the GAD-7"
