"""The patient trend's numbers on the hand-worked three-patient clinic (tests/clinic_fixture.py)."""

from __future__ import annotations

import datetime as dt

import clinic_fixture
import pandas as pd
import pytest

from analysis import store
from analysis.engine.cohort import CohortFilter
from analysis.engine.timeline import load_timeline
from analysis.views import caseload as caseload_views
from analysis.views import patient as patient_views


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    path = clinic_fixture.build(tmp_path_factory.mktemp("patients") / "t.duckdb")
    con = store.connect(path, read_only=True)
    yield con, load_timeline(con)
    con.close()


@pytest.fixture(scope="module")
def caseload(clinic):
    con, timeline = clinic
    return caseload_views.caseload(con, timeline).set_index("patient_id")


def test_caseload_counts_days_to_the_last_date_in_the_data(clinic, caseload):
    """Days since run to 30 Apr 2026: A's booster 20 Feb is 69 days back, C's 5 Nov 2025 176; B's PHQ-9 is that day."""
    assert clinic[1].data_last_date == clinic_fixture.DATA_END
    assert caseload.loc["A", "days_since_session"] == 69
    assert caseload.loc["A", "days_since_assessment"] == 51
    assert caseload.loc["B", "days_since_session"] == 9
    assert caseload.loc["B", "days_since_assessment"] == 0
    assert caseload.loc["C", "days_since_session"] == 176
    assert caseload.loc["C", "days_since_assessment"] == 180


def test_caseload_status_of_each_latest_course(caseload):
    """A is on boosters, B is three sessions into an 8-session esketamine induction, C stopped after two."""
    assert caseload.loc["A", "status"] == "Receiving boosters"
    assert caseload.loc["B", "status"] == "Induction in progress"
    assert caseload.loc["C", "status"] == "Stopped before completing induction"
    assert caseload["sessions_in_course"].to_dict() == {"B": 3, "A": 7, "C": 2}


def test_caseload_outcome_words_come_from_the_engine(caseload):
    """A responded (20 -> 8) then lost response (15 on 10 Mar); B is still in induction; C's baseline 8 is below 10."""
    assert caseload.loc["A", "phq9_outcome"] == "Lost response"
    assert caseload.loc["B", "phq9_outcome"] == "Pending"
    assert caseload.loc["C", "phq9_outcome"] == "Baseline below threshold"


def test_caseload_last_scores_are_the_latest_scored_questionnaires(caseload):
    """A's last PHQ-9 is the total-only 15; B's the 14 of 30 Apr (the incomplete one of 17 Apr has no total)."""
    assert caseload.loc["A", "last_phq9"] == 15
    assert caseload.loc["B", "last_phq9"] == 14
    assert caseload.loc["C", "last_phq9"] == 8
    assert caseload.loc["C", "last_gad7"] == 12
    assert pd.isna(caseload.loc["A", "last_gad7"])


def test_caseload_item9_at_the_last_phq9_is_positive_or_unknown_never_negative_when_missing(caseload):
    """B answered item 9 = 2 on 30 Apr; A's and C's last PHQ-9 were totals only: item 9 unknown, not negative."""
    assert caseload.loc["B", "item9_last"] == "item 9 = 2 (more than half the days)"
    assert bool(caseload.loc["B", "item9_positive"])
    for patient in ("A", "C"):
        assert caseload.loc[patient, "item9_last"] == "item 9 unknown"
        assert not bool(caseload.loc[patient, "item9_positive"])


def test_caseload_flags_and_order(caseload):
    """B's item-9 flag sorts first; A (finished induction, 69 days since the last session) is due a booster.

    C, with no session for 176 days, comes after every current patient."""
    assert list(caseload.index) == ["B", "A", "C"]
    assert caseload.loc["B", "flags"] == "⚑ item 9 positive · in induction"
    assert caseload.loc["A", "flags"] == "loss of response · booster due"
    assert caseload.loc["C", "flags"] == ""
    assert caseload["booster_due"].to_dict() == {"B": False, "A": True, "C": False}


def test_caseload_grid_words_are_short_and_say_nothing_twice(caseload):
    """The grid's narrow columns: B is in induction with item 9 = 2; A is on boosters, due one, its last PHQ-9 a
    total only (item 9 unknown); C stopped after two sessions. Loss of response stays in the outcome column."""
    assert caseload["course"].to_dict() == {"B": "In induction", "A": "Boosters", "C": "Stopped early"}
    assert caseload["alerts"].to_dict() == {"B": "⚑ item 9", "A": "booster due", "C": ""}
    assert caseload["item9"].to_dict() == {"B": "2", "A": "unknown", "C": "unknown"}


def test_caseload_grid_shows_the_default_columns_then_the_extra_ones_asked_for(caseload):
    """Extra columns come after the default ones in the menu's order, whatever order they were picked in."""
    two = ("PHQ-9", "GAD-7")
    assert caseload_views.grid_columns(two) == [
        "patient_id",
        "alerts",
        "course",
        "phq9_outcome",
        "last_phq9",
        "item9",
        "last_gad7",
        "days_since_session",
        "days_since_assessment",
    ]
    assert caseload_views.grid_columns(two, ["site", "modality"])[-2:] == ["modality", "site"]
    every_extra = list(caseload_views.grid_extra_columns(two))
    assert set(caseload_views.grid_columns(two, every_extra)) <= set(caseload.reset_index())


def test_a_third_questionnaire_is_a_column_to_add_not_a_default_one(caseload):
    """With PCL-5 recorded too, the grid still shows the PHQ-9 and GAD-7 totals; 'Latest PCL-5' is in the menu."""
    three = ("PHQ-9", "GAD-7", "PCL-5")
    extras = caseload_views.grid_extra_columns(three)
    assert list(extras)[0] == "last_pcl5" and extras["last_pcl5"] == "Latest PCL-5"
    assert "last_pcl5" not in caseload_views.grid_columns(three)
    assert caseload_views.grid_columns(three, ["last_pcl5"])[-1] == "last_pcl5"
    assert "last_pcl5" in caseload.columns  # every catalog instrument has its column, recorded or not
    assert caseload["last_pcl5"].isna().all()


def test_course_status_short_words_match_the_long_ones():
    """Every course state has a short word for the grid, position for position."""
    courses = pd.DataFrame(
        {
            "last_session_date": pd.to_datetime(["2026-04-01", "2026-04-01", "2025-01-01", "2026-04-01", "2026-04-01"]),
            "n_sessions": [3, 2, 9, 6, 9],
            "induction_length": [6, 6, 6, 6, 6],
            "in_progress": [True, False, False, False, False],
        }
    )
    long = patient_views.course_status(courses, dt.date(2026, 4, 30), 90).tolist()
    short = patient_views.course_status(courses, dt.date(2026, 4, 30), 90, short=True).tolist()
    assert long == [
        "Induction in progress",
        "Stopped before completing induction",
        "No session for over 90 days",
        "Induction complete",
        "Receiving boosters",
    ]
    assert short == ["In induction", "Stopped early", "Inactive 90+ d", "Induction done", "Boosters"]


def test_current_patients_had_a_session_within_90_days(caseload):
    """A (69 days) and B (9) are current; C (176 days, so a next session would start a new course) is not."""
    assert caseload["active"].to_dict() == {"B": True, "A": True, "C": False}
    current = caseload_views.current_patients(caseload.reset_index())
    assert current["patient_id"].tolist() == ["B", "A"]
    assert len(caseload_views.current_patients(caseload.reset_index(), include_inactive=True)) == 3


def test_booster_due_needs_more_than_the_threshold(clinic):
    """Counted to 26 Mar 2026, A's last session (20 Feb) is 34 days back: not yet due; to 27 Mar, 35: still not."""
    con, timeline = clinic
    for day, due in ((26, False), (27, False), (28, True)):
        table = caseload_views.caseload(con, timeline, as_of=dt.date(2026, 3, day)).set_index("patient_id")
        assert bool(table.loc["A", "booster_due"]) is due, day


def test_caseload_honours_the_clinician_filter(clinic):
    """Filtering on CLN-01 keeps A and C; a clinician with no patients gives an empty table, not an error."""
    con, timeline = clinic
    mine = caseload_views.caseload(con, timeline, CohortFilter(clinicians=("CLN-01",)))
    assert sorted(mine["patient_id"]) == ["A", "C"]
    nobody = caseload_views.caseload(con, timeline, CohortFilter(clinicians=("CLN-99",)))
    assert nobody.empty and list(nobody.columns) == caseload_views.CASELOAD_COLUMNS


def test_caseload_summary_counts(caseload):
    summary = caseload_views.caseload_summary(caseload.reset_index())
    # A's and C's last PHQ-9 are totals only (item 9 unknown); B's last has item 9 = 2.
    assert summary == {
        "patients": 3,
        "item9_positive": 1,
        "item9_unknown": 2,
        "booster_due": 1,
        "in_progress": 1,
        "loss_of_response": 1,
    }


def test_item9_status_of_every_phq9(clinic):
    """Item 9 read row by row: positive (1 or more), negative (0), unknown (total only); GAD-7 rows have none."""
    con, _ = clinic
    a = patient_views.patient_assessments(con, "A")
    assert a["item9_status"].tolist() == ["positive", "negative", "negative", "unknown"]
    assert a["item9_text"].tolist()[-1] == "item 9 unknown"
    c = patient_views.patient_assessments(con, "C").set_index("instrument")
    assert c.loc["PHQ-9", "item9_status"] == "unknown"
    assert c.loc["GAD-7", "item9_status"] == ""


def test_incomplete_phq9_still_raises_the_item9_alert(clinic):
    """B's 17 Apr PHQ-9 has no total (five items blank) but item 9 = 1: it is listed with the 30 Apr answer of 2."""
    con, timeline = clinic
    record = patient_views.patient_record(con, timeline, "B")
    alerts = record.item9_alerts
    assert [d.date() for d in alerts["assessment_date"]] == [dt.date(2026, 4, 30), dt.date(2026, 4, 17)]
    assert alerts["item9"].tolist() == [2, 1]


def test_badges_for_a_responder_who_lost_response(clinic):
    """A: responding at the end of induction (8 <= 10), reliable improvement of 12, loss of response on 10 Mar."""
    con, timeline = clinic
    labels = [badge.label for badge in patient_views.patient_record(con, timeline, "A").badges]
    assert labels == [
        "GAD-7: no baseline score",
        "PHQ-9: responding at end of induction",
        "PHQ-9: reliable improvement (-12 points)",
        "PHQ-9: loss of response on 2026-03-10",
    ]


def test_badges_for_a_course_in_progress_and_one_below_threshold(clinic):
    con, timeline = clinic
    b = [badge.label for badge in patient_views.patient_record(con, timeline, "B").badges]
    assert b[0] == "Induction in progress: session 3 of 8"
    assert not any("respon" in label for label in b)  # no outcome while induction runs
    c = [badge.label for badge in patient_views.patient_record(con, timeline, "C").badges]
    assert "PHQ-9: baseline 8 below 10" in c
    assert "GAD-7: no response at last induction score" in c  # baseline 12 carried forward: no change


def test_reference_lines_are_baseline_half_of_it_and_four(clinic):
    """A's PHQ-9 lines: baseline 20, response threshold 10, remission 4, from the baseline date to the last score."""
    _, timeline = clinic
    lines = patient_views.reference_lines(timeline, "A").set_index("instrument")
    row = lines.loc["PHQ-9"]
    assert (row["baseline"], row["response_threshold"], row["remission_max"]) == (20.0, 10.0, 4.0)
    assert row["from_date"].date() == dt.date(2026, 1, 5) and row["to_date"].date() == dt.date(2026, 3, 10)
    c = patient_views.reference_lines(timeline, "C").set_index("instrument")
    assert pd.isna(c.loc["PHQ-9", "response_threshold"])  # baseline 8: response is not judged


def test_item_grid_keeps_blanks_as_not_recorded(clinic):
    """B's PHQ-9 answers by date: the 17 Apr column has items 1-5 blank and item 9 = 1."""
    con, _ = clinic
    grid = patient_views.item_grid(patient_views.patient_assessments(con, "B"), "PHQ-9")
    assert grid.shape == (9, 3)
    column = grid[pd.Timestamp("2026-04-17")]
    assert column.iloc[:5].isna().all() and column.loc[9] == 1.0
    assert grid[pd.Timestamp("2026-04-30")].tolist() == [2, 2, 1, 2, 1, 2, 1, 1, 2]


def test_unknown_patient_has_no_record(clinic):
    con, timeline = clinic
    assert patient_views.patient_record(con, timeline, "NOBODY") is None


def test_latest_course_sentence(clinic):
    con, timeline = clinic
    record = patient_views.patient_record(con, timeline, "A")
    assert patient_views.latest_course_sentence(record.courses) == (
        "Latest course (course 1 of 1): Ketamine IV, started 05 Jan 2026, 7 sessions (6 of 6 induction, 1 booster)"
    )


def test_safety_banner_names_the_latest_answer_and_how_often(clinic):
    """B: item 9 = 2 on 30 Apr, and 1 or more on 2 questionnaires since 17 Apr."""
    con, timeline = clinic
    record = patient_views.patient_record(con, timeline, "B")
    assert patient_views.item9_alert_text(record.item9_alerts) == (
        "**Safety flag: PHQ-9 item 9 (thoughts of self-harm).** On 30 Apr 2026 the answer was 2 (more than half the "
        "days). Item 9 was 1 or more on 2 questionnaires in all, the first on 17 Apr 2026."
    )
    assert patient_views.item9_unknown_text(record.assessments) is None


def test_unknown_item9_at_the_latest_phq9_is_said_out_loud(clinic):
    """A's latest PHQ-9 (10 Mar, total only) has item 9 unknown; the page says so rather than staying silent."""
    con, timeline = clinic
    record = patient_views.patient_record(con, timeline, "A")
    assert "10 Mar 2026" in patient_views.item9_unknown_text(record.assessments)
    assert "item 9 unknown" in patient_views.item9_unknown_text(record.assessments)
    assert patient_views.patient_description(record.attributes) == "35-44 · F · TRD · site NORTH · clinician CLN-01"
