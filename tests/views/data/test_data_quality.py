"""The Data page's data quality: questionnaires missing before sessions, courses without a baseline.

Hand-worked in tests/clinic_fixture.py.
"""

from __future__ import annotations

import pytest

from analysis.engine.cohort import CohortFilter
from analysis.views.data import quality as quality_views


def test_completion_by_session_number(clinic):
    """PHQ-9 before session 1 for all 3 courses; before sessions 2-5 for none; before session 6 for A's only.

    A's session 7 is a booster and not counted. GAD-7: only C had one before session 1 (1 of 3).
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
    assert gad7.loc[1, "percent"] == pytest.approx(100 / 3)
    assert gad7["with_score"].sum() == 1


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
    """Every course has a PHQ-9 baseline; A and B have no GAD-7 at all: 2 of 3."""
    _, timeline = clinic
    table = quality_views.courses_without_baseline(timeline).set_index("instrument")
    assert table.loc["PHQ-9", ["courses", "without_baseline"]].tolist() == [3, 0]
    assert table.loc["GAD-7", "without_baseline"] == 2
    assert table.loc["GAD-7", "percent"] == pytest.approx(200 / 3)
    listed = quality_views.courses_missing_baseline_list(timeline)
    assert listed[["patient_id", "no_baseline_for"]].values.tolist() == [["A", "GAD-7"], ["B", "GAD-7"]]


def test_data_quality_honours_the_filters(clinic):
    """CLN-02 has only B: 3 sessions, 2 without a score."""
    _, timeline = clinic
    summary = quality_views.quality_summary(timeline, CohortFilter(clinicians=("CLN-02",)))
    assert (summary["courses"], summary["sessions"], summary["sessions_without_score"]) == (1, 3, 2)
