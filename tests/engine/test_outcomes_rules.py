"""Every rule of OUTCOMES.md on a tiny clinic worked by hand.

Each test runs twice: against the engine (DuckDB store -> analysis.engine /
analysis.reporting) and against the plain-Python reference in reference_outcomes.py,
so the hand-worked numbers check both. Days are counted from ORIGIN (Monday
2026-01-05); a ketamine induction is sessions on days 0, 3, 7, 10, 14, 17 (L = 6,
session L on day 17) unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import reference_outcomes as reference

ORIGIN = dt.date(2026, 1, 5)
TODAY = dt.date(2026, 11, 26)
KETAMINE_DAYS = [0, 3, 7, 10, 14, 17]
ESKETAMINE_DAYS = [0, 3, 7, 10, 14, 17, 21, 24]
ITEM_COLUMNS = [f"item_{i}" for i in range(1, 21)]


# ---------------------------------------------------------------------------
# A tiny clinic, and two ways of reading it


@dataclass
class Clinic:
    origin: dt.date = ORIGIN
    session_rows: list[dict] = field(default_factory=list)
    assessment_rows: list[dict] = field(default_factory=list)

    def day(self, offset: int) -> dt.date:
        return self.origin + dt.timedelta(days=offset)

    def sessions(self, patient: str, days, modality: str = "ketamine_iv") -> None:
        for offset in days:
            self.session_rows.append({"patient_id": patient, "session_date": self.day(offset), "modality": modality})

    def score(self, patient: str, instrument: str, day: int, total: int | None = None, items=None) -> None:
        items = list(items or [])
        items += [None] * (20 - len(items))
        row = {"patient_id": patient, "assessment_date": self.day(day), "instrument": instrument, "total": total}
        row.update(zip(ITEM_COLUMNS, items))
        self.assessment_rows.append(row)

    def phq9(self, patient: str, day: int, total: int | None = None, items=None) -> None:
        self.score(patient, "PHQ-9", day, total, items)

    def gad7(self, patient: str, day: int, total: int | None = None, items=None) -> None:
        self.score(patient, "GAD-7", day, total, items)

    def completed_course(
        self,
        patient: str,
        baseline: int,
        end_of_induction: int,
        instrument: str = "PHQ-9",
        start: int = 0,
        eoi_day_after_l: int = 7,
    ) -> None:
        """A ketamine induction with a baseline on day `start` and a score 7 days after session L."""
        self.sessions(patient, [start + d for d in KETAMINE_DAYS])
        self.score(patient, instrument, start, baseline)
        self.score(patient, instrument, start + KETAMINE_DAYS[-1] + eoi_day_after_l, end_of_induction)


def cell(value):
    """Blank for missing, ISO for dates, digits for numbers: what a clinic's CSV holds."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def layout_a_frames(clinic: Clinic) -> list[tuple[str, pd.DataFrame]]:
    sessions = pd.DataFrame(
        [[cell(r[c]) for c in ("patient_id", "session_date", "modality")] for r in clinic.session_rows],
        columns=["patient_id", "session_date", "modality"],
        dtype=object,
    )
    assessment_columns = ["patient_id", "assessment_date", "instrument", *ITEM_COLUMNS, "total"]
    assessments = pd.DataFrame(
        [[cell(r.get(c)) for c in assessment_columns] for r in clinic.assessment_rows],
        columns=assessment_columns,
        dtype=object,
    )
    tables = [("sessions.csv", sessions)]
    if len(assessments):
        tables.append(("assessments.csv", assessments))
    return tables


def plain(value):
    """Engine frame cells as plain Python: dates, ints, bools, None for every kind of missing."""
    if isinstance(value, (list, tuple, dict)):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def records(frame) -> list[dict]:
    return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


class View:
    """The facts a test asks about, keyed by (patient, course number)."""

    data_last_date: dt.date
    course_rows: list[dict]
    session_rows: list[dict]
    assessment_rows: list[dict]
    outcome_rows: list[dict]
    booster_rows: list[dict]

    def _index(self):
        self.number_of = {row["course_id"]: (row["patient_id"], row["course_number"]) for row in self.course_rows}

    def courses(self, patient: str) -> list[dict]:
        return sorted((r for r in self.course_rows if r["patient_id"] == patient), key=lambda r: r["course_number"])

    def course(self, patient: str, number: int = 1) -> dict:
        matches = [r for r in self.courses(patient) if r["course_number"] == number]
        assert len(matches) == 1, f"{patient} course {number}: {matches}"
        return matches[0]

    def outcome(self, patient: str, instrument: str = "PHQ-9", number: int = 1) -> dict | None:
        course_id = self.course(patient, number)["course_id"]
        matches = [r for r in self.outcome_rows if r["course_id"] == course_id and r["instrument"] == instrument]
        assert len(matches) <= 1
        return matches[0] if matches else None

    def assessments(self, patient: str, instrument: str = "PHQ-9") -> list[dict]:
        rows = [
            dict(r, course_number=self.number_of[r["course_id"]][1])
            for r in self.assessment_rows
            if r["patient_id"] == patient and r["instrument"] == instrument
        ]
        return sorted(rows, key=lambda r: r["assessment_date"])

    def sessions(self, patient: str, number: int = 1) -> list[dict]:
        course_id = self.course(patient, number)["course_id"]
        return sorted((r for r in self.session_rows if r["course_id"] == course_id), key=lambda r: r["session_number"])

    def boosters(self, patient: str, instrument: str = "PHQ-9") -> list[dict]:
        return sorted(
            (r for r in self.booster_rows if r["patient_id"] == patient and r["instrument"] == instrument),
            key=lambda r: r["session_date"],
        )


class ReferenceView(View):
    def __init__(self, clinic: Clinic):
        self.timeline = reference.build_timeline([], clinic.session_rows, clinic.assessment_rows)
        self.data_last_date = self.timeline.data_last_date
        self.course_rows = self.timeline.courses
        self.session_rows = self.timeline.sessions
        self.assessment_rows = self.timeline.assessments
        self.outcome_rows = self.timeline.course_outcomes
        self.booster_rows = self.timeline.boosters
        self._index()

    def durability(self, instrument: str) -> dict:
        return {
            self.number_of[r["course_id"]]: (r["days"], r["lost_response"])
            for r in reference.durability(self.timeline, instrument)
        }

    def report(self, quarter: str = "all", suppress: bool = False) -> dict:
        return reference.quarterly_report(self.timeline, quarter, suppress)


class EngineView(View):
    def __init__(self, clinic: Clinic, db_path):
        from analysis import ingest, store
        from analysis.engine.timeline import load_timeline
        from analysis.settings import Settings

        con = store.connect(db_path)
        result = ingest.import_tables(con, layout_a_frames(clinic), today=TODAY)
        assert result.ok, result.problems
        self.timeline = load_timeline(con, Settings())
        self.data_last_date = plain(self.timeline.data_last_date)
        self.course_rows = records(self.timeline.courses)
        self.session_rows = records(self.timeline.sessions)
        self.assessment_rows = records(self.timeline.assessments)
        self.outcome_rows = records(self.timeline.course_outcomes)
        self.booster_rows = records(self.timeline.boosters)
        self._index()

    def durability(self, instrument: str) -> dict:
        from analysis.engine import cohort, durability

        frame = durability.durability(self.timeline, instrument, cohort.CohortFilter())
        return {self.number_of[r["course_id"]]: (int(r["days"]), bool(r["lost_response"])) for r in records(frame)}

    def report(self, quarter: str = "all", suppress: bool = False) -> dict:
        from analysis.engine.cohort import CohortFilter
        from analysis.reporting.report import quarterly_report

        return quarterly_report(self.timeline, quarter=quarter, filters=CohortFilter(), suppress=suppress)


@pytest.fixture(params=["engine", "reference"])
def load(request, tmp_path):
    counter = itertools.count()

    def load_clinic(clinic: Clinic) -> View:
        if request.param == "reference":
            return ReferenceView(clinic)
        return EngineView(clinic, tmp_path / f"store{next(counter)}.duckdb")

    return load_clinic


def timepoints(view: View, patient: str, instrument: str = "PHQ-9") -> list[tuple[int, int, int]]:
    """(days from ORIGIN, timepoint, course number) of each owned complete assessment."""
    return [
        ((r["assessment_date"] - ORIGIN).days, r["timepoint"], r["course_number"])
        for r in view.assessments(patient, instrument)
    ]


def trajectory(report: dict, instrument: str = "PHQ-9") -> dict[int, tuple]:
    return {point["t"]: (point["n"], point["mean"]) for point in report["instruments"][instrument]["trajectory"]}


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


# ---------------------------------------------------------------------------
# §1 Scoring


def test_prorated_totals_enter_outcomes(load):
    """A PHQ-9 with one or two items skipped is prorated, rounding half up: 8 answered items
    summing 12 -> 12 * 9/8 = 13.5 -> 14 (baseline); 7 answered summing 5 -> 45/7 = 6.43 -> 6
    (end of induction). 6 <= 0.5 * 14 = 7, so the course responds.
    A GAD-7 with one item skipped: 6 answered summing 9 -> 10.5 -> 11; summing 3 -> 3.5 -> 4."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS)
    clinic.phq9("p1", 0, items=[2, 2, 2, 2, 1, 1, 1, 1, None])
    clinic.phq9("p1", 24, items=[1, 1, 1, 1, 1, 0, 0, None, None])
    clinic.gad7("p1", 0, items=[3, 2, 1, 1, 1, 1, None])
    clinic.gad7("p1", 24, items=[1, 1, 1, 0, 0, 0, None])
    view = load(clinic)
    phq9 = view.outcome("p1", "PHQ-9")
    assert (phq9["baseline"], phq9["end_of_induction"], bool(phq9["completer_response"])) == (14, 6, True)
    gad7 = view.outcome("p1", "GAD-7")
    assert (gad7["baseline"], gad7["end_of_induction"]) == (11, 4)
    assert bool(gad7["completer_remission"]) is True


def test_incomplete_assessments_are_left_out(load):
    """A PHQ-9 with three items skipped and no total, and a GAD-7 with two skipped, are
    incomplete: the baseline falls back to the complete score three days earlier (16 / 12)."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS)
    clinic.phq9("p1", -3, 16)
    clinic.phq9("p1", 0, items=[3, 3, 3, 3, 3, 3, None, None, None])
    clinic.gad7("p1", -3, 12)
    clinic.gad7("p1", 0, items=[3, 3, 3, 3, 3, None, None])
    view = load(clinic)
    assert view.outcome("p1", "PHQ-9")["baseline"] == 16
    assert view.outcome("p1", "GAD-7")["baseline"] == 12
    assert timepoints(view, "p1", "PHQ-9") == [(-3, 0, 1)]
    assert timepoints(view, "p1", "GAD-7") == [(-3, 0, 1)]


def test_supplied_total_is_used_when_items_are_incomplete(load):
    """A PHQ-9 with one item blank and a total of 12 written by the clinician scores 12
    (prorating the eight answered items, summing 8, would give 9).
    Reading of §1: "with items incomplete, a supplied total in range is used" applies to
    any row with a blank item, prorating only when no total is written."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS)
    clinic.phq9("p1", 0, total=12, items=[1, 1, 1, 1, 1, 1, 1, 1, None])
    view = load(clinic)
    assert view.outcome("p1")["baseline"] == 12


def test_total_only_phq9_has_item9_unknown(load):
    """Item 9 at baseline: total-only (unknown), answered 1 (positive), answered 0
    (negative), prorated with item 9 blank (unknown), and a course whose earlier t = 0
    score had item 9 = 2 but whose baseline (the latest t = 0) has item 9 = 0.
    Only the course whose baseline says item 9 >= 1 counts: item9_positive_baseline = 1; the
    total-only and the prorated-with-item-9-blank baselines are unknown: item9_unknown_baseline = 2
    (suppressed: "<11", never 0)."""
    clinic = Clinic()
    for patient in ("total_only", "positive", "negative", "prorated", "earlier_positive"):
        clinic.sessions(patient, KETAMINE_DAYS)
    clinic.phq9("total_only", 0, 20)
    clinic.phq9("positive", 0, items=[3, 3, 3, 2, 2, 2, 2, 2, 1])
    clinic.phq9("negative", 0, items=[3, 3, 3, 2, 2, 2, 2, 2, 0])
    clinic.phq9("prorated", 0, items=[3, 3, 3, 2, 2, 2, 2, 2, None])
    clinic.phq9("earlier_positive", -5, items=[3, 3, 3, 2, 2, 2, 2, 2, 2])
    clinic.phq9("earlier_positive", 0, items=[3, 3, 3, 2, 2, 2, 2, 2, 0])
    view = load(clinic)
    assert view.outcome("total_only")["baseline_item9"] is None
    assert view.outcome("positive")["baseline_item9"] == 1
    assert view.outcome("negative")["baseline_item9"] == 0
    assert view.outcome("prorated")["baseline"] == 21  # 8 items summing 19: 19 * 9/8 = 21.375 -> 21
    assert view.outcome("prorated")["baseline_item9"] is None
    assert view.outcome("earlier_positive")["baseline_item9"] == 0
    assert view.report()["item9_positive_baseline"] == 1
    assert view.report()["item9_unknown_baseline"] == 2
    assert view.report(suppress=True)["item9_unknown_baseline"] == "<11"


# ---------------------------------------------------------------------------
# §2 Courses and sessions


def test_gap_of_91_days_starts_a_new_course_and_90_does_not(load):
    """p91: session 6 on day 17, next session on day 108 (91 days later) -> a second course
    starting on day 108. p90: next session on day 107 (90 days) -> one course of 7 sessions,
    the 7th a booster 90 days after session 6."""
    clinic = Clinic()
    clinic.sessions("p91", KETAMINE_DAYS + [108])
    clinic.sessions("p90", KETAMINE_DAYS + [107])
    view = load(clinic)
    assert [c["n_sessions"] for c in view.courses("p91")] == [6, 1]
    assert view.course("p91", 2)["start_date"] == clinic.day(108)
    assert [c["n_sessions"] for c in view.courses("p90")] == [7]
    last = view.sessions("p90")[-1]
    assert (last["session_number"], bool(last["is_booster"]), last["interval_days"]) == (7, True, 90)


def test_esketamine_courses_have_eight_induction_sessions(load):
    """Spravato first: L = 8, so sessions 7 and 8 are induction and the 9th (day 40) a
    booster; a 7-session Spravato course has not completed induction. A course that starts
    on Spravato and goes on with IV ketamine keeps L = 8; an IM ketamine course has L = 6.
    (The data run to day 100, so no course is in progress.)"""
    clinic = Clinic()
    clinic.sessions("esk9", ESKETAMINE_DAYS + [40], "esketamine_nasal")
    clinic.sessions("esk7", ESKETAMINE_DAYS[:7], "esketamine_nasal")
    clinic.sessions("switch", ESKETAMINE_DAYS[:2], "esketamine_nasal")
    clinic.sessions("switch", ESKETAMINE_DAYS[2:], "ketamine_iv")
    clinic.sessions("im", KETAMINE_DAYS, "ketamine_im")
    clinic.sessions("anchor", [100], "ketamine_im")
    view = load(clinic)
    esk9 = view.course("esk9")
    assert (esk9["induction_length"], bool(esk9["completed_induction"]), esk9["session_l_date"]) == (
        8,
        True,
        clinic.day(24),
    )
    assert [bool(s["is_booster"]) for s in view.sessions("esk9")] == [False] * 8 + [True]
    assert (view.course("esk7")["induction_length"], bool(view.course("esk7")["completed_induction"])) == (8, False)
    assert bool(view.course("esk7")["in_progress"]) is False
    switch = view.course("switch")
    assert (switch["modality"], switch["induction_length"], bool(switch["completed_induction"])) == (
        "esketamine_nasal",
        8,
        True,
    )
    assert (view.course("im")["induction_length"], view.course("im")["session_l_date"]) == (6, clinic.day(17))


def test_in_progress_courses_leave_itt(load):
    """The data's last date is day 100 (the anchor's session 6). p28: 3 sessions, the last
    on day 72, 28 days before -> in progress, not in ITT. p29: last session on day 71,
    29 days before -> dropped out: in ITT with its baseline carried forward (20 -> 20).
    Report: in_progress 1, PHQ-9 eligible 2, ITT n 1."""
    clinic = Clinic()
    clinic.sessions("p28", [65, 68, 72])
    clinic.phq9("p28", 65, 20)
    clinic.sessions("p29", [64, 67, 71])
    clinic.phq9("p29", 64, 20)
    clinic.sessions("anchor", [83, 86, 90, 93, 97, 100])
    view = load(clinic)
    assert view.data_last_date == clinic.day(100)
    assert bool(view.course("p28")["in_progress"]) is True
    assert bool(view.outcome("p28")["in_itt"]) is False
    assert bool(view.course("p29")["in_progress"]) is False
    assert bool(view.outcome("p29")["in_itt"]) is True
    assert view.outcome("p29")["itt_endpoint"] == 20
    report = view.report()
    assert report["in_progress"] == 1
    assert (report["instruments"]["PHQ-9"]["eligible_n"], report["instruments"]["PHQ-9"]["itt"]["n"]) == (2, 1)


def test_data_last_date_can_be_an_assessment(load):
    """Nobody has a session after day 10, but p1 is scored on day 38: the data's last date
    is day 38, so p1's 3-session course (last session day 10, 28 days before) is in
    progress. With that follow-up on day 39 instead it is not."""
    for follow_up, expected in ((38, True), (39, False)):
        clinic = Clinic()
        clinic.sessions("p1", [0, 3, 10])
        clinic.phq9("p1", 0, 20)
        clinic.phq9("p1", follow_up, 15)
        view = load(clinic)
        assert view.data_last_date == clinic.day(follow_up)
        assert bool(view.course("p1")["in_progress"]) is expected


# ---------------------------------------------------------------------------
# §3 Assessments on the course timeline


def test_assessment_on_a_session_day_is_pre_session(load):
    """Scores on day 0 (session 1's day), day 3 (session 2's day) and day 4: they reflect
    0, 1 and 2 sessions, because only sessions strictly before the date count."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS)
    clinic.phq9("p1", 0, 20)
    clinic.phq9("p1", 3, 18)
    clinic.phq9("p1", 4, 16)
    view = load(clinic)
    assert timepoints(view, "p1") == [(0, 0, 1), (3, 1, 1), (4, 2, 1)]
    assert (view.outcome("p1")["baseline"], view.outcome("p1")["baseline_date"]) == (20, clinic.day(0))


def test_assessment_at_start_minus_30_belongs_to_the_course_and_31_does_not(load):
    """Courses start on day 40. p30 was scored on day 10 (start - 30): that is its baseline
    (t = 0). p31 was scored on day 9 (start - 31): pre-treatment history, so no baseline."""
    clinic = Clinic()
    clinic.sessions("p30", [40 + d for d in KETAMINE_DAYS])
    clinic.phq9("p30", 10, 20)
    clinic.sessions("p31", [40 + d for d in KETAMINE_DAYS])
    clinic.phq9("p31", 9, 20)
    view = load(clinic)
    assert timepoints(view, "p30") == [(10, 0, 1)]
    assert view.outcome("p30")["baseline"] == 20
    assert timepoints(view, "p31") == []
    outcome = view.outcome("p31")
    assert outcome is None or outcome["baseline"] is None
    assert view.report()["instruments"]["PHQ-9"]["baseline_n"] == 1


def test_ownership_switches_to_the_next_course_at_its_start_minus_30(load):
    """Course 1 on days 0-17, course 2 from day 200. The day-169 score (start(2) - 31)
    belongs to course 1 after its 6 sessions (t = 6); the day-170 score (start(2) - 30)
    is course 2's baseline (t = 0)."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS + [200 + d for d in KETAMINE_DAYS])
    clinic.phq9("p1", 169, 14)
    clinic.phq9("p1", 170, 15)
    view = load(clinic)
    assert timepoints(view, "p1") == [(169, 6, 1), (170, 0, 2)]
    assert view.outcome("p1", number=2)["baseline"] == 15
    first = view.outcome("p1", number=1)
    assert first["baseline"] is None and first["end_of_induction"] is None  # day 169 is 152 days after session L


def test_latest_assessment_at_a_timepoint_wins(load):
    """Two t = 0 scores (day -10: 22, day 0: 20) -> baseline 20. Two t = 3 scores (day 8: 15,
    day 10 before session 4: 12) -> trajectory t = 3 is 12. Two end-of-induction scores
    (day 20: 10, day 30: 6) -> end of induction 6."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS)
    for day, total in ((-10, 22), (0, 20), (8, 15), (10, 12), (20, 10), (30, 6)):
        clinic.phq9("p1", day, total)
    view = load(clinic)
    outcome = view.outcome("p1")
    assert (outcome["baseline"], outcome["end_of_induction"], outcome["end_of_induction_date"]) == (
        20,
        6,
        clinic.day(30),
    )
    points = trajectory(view.report())
    assert points[0] == (1, 20.0) and points[3] == (1, 12.0) and points[6] == (1, 6.0)


def test_end_of_induction_window_is_28_days_after_session_l(load):
    """Session L (6) is on day 17. p28 is scored 28 days later (day 45: 8) -> end of induction 8,
    a completer. p29 is scored 29 days later (day 46: 8) -> no end-of-induction score, not
    a completer; its ITT endpoint is its t = 5 score (day 15: 14), not the late one.
    Trajectory: t = 5 n 1 mean 14; t = 6 n 1 mean 8."""
    clinic = Clinic()
    for patient, late_day in (("p28", 45), ("p29", 46)):
        clinic.sessions(patient, KETAMINE_DAYS)
        clinic.phq9(patient, 0, 20)
        clinic.phq9(patient, late_day, 8)
    clinic.phq9("p29", 15, 14)
    view = load(clinic)
    p28, p29 = view.outcome("p28"), view.outcome("p29")
    assert (p28["end_of_induction"], bool(p28["completer"]), p28["itt_endpoint"]) == (8, True, 8)
    assert (p29["end_of_induction"], bool(p29["completer"]), p29["itt_endpoint"]) == (None, False, 14)
    points = trajectory(view.report())
    assert points[5] == (1, 14.0) and points[6] == (1, 8.0)
    assert view.report()["instruments"]["PHQ-9"]["completers"]["n"] == 1


def test_end_of_induction_is_the_latest_score_inside_the_window(load):
    """Reading of §3: the 28-day window filters first, then the latest wins. Session L on
    day 17; t = 6 scores on day 20 (12) and day 50 (18, outside) -> end of induction 12."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS)
    clinic.phq9("p1", 0, 20)
    clinic.phq9("p1", 20, 12)
    clinic.phq9("p1", 50, 18)
    view = load(clinic)
    assert view.outcome("p1")["end_of_induction"] == 12
    assert view.outcome("p1")["itt_endpoint"] == 12


# ---------------------------------------------------------------------------
# §4 Induction outcome


def test_baseline_9_is_ineligible_and_10_eligible(load):
    """PHQ-9 baselines 9 and 10, GAD-7 baselines 9 and 10: only the 10s are eligible.
    Report per instrument: baseline n 2, eligible n 1, ITT n 1."""
    clinic = Clinic()
    for patient, baseline in (("b9", 9), ("b10", 10)):
        clinic.sessions(patient, KETAMINE_DAYS)
        clinic.phq9(patient, 0, baseline)
        clinic.gad7(patient, 0, baseline)
    view = load(clinic)
    for instrument in ("PHQ-9", "GAD-7"):
        assert bool(view.outcome("b9", instrument)["eligible"]) is False
        assert bool(view.outcome("b9", instrument)["in_itt"]) is False
        assert bool(view.outcome("b10", instrument)["eligible"]) is True
        block = view.report()["instruments"][instrument]
        assert (block["baseline_n"], block["eligible_n"], block["itt"]["n"]) == (2, 1, 1)


def test_itt_without_post_baseline_score_carries_the_baseline(load):
    """p1 stopped after 2 sessions with only a baseline of 18 (the data run to day 100):
    ITT endpoint 18, no response, no remission, no reliable change; mean change 0.0 with
    no interval (one course)."""
    clinic = Clinic()
    clinic.sessions("p1", [0, 3])
    clinic.phq9("p1", 0, 18)
    clinic.sessions("anchor", [100])
    view = load(clinic)
    outcome = view.outcome("p1")
    assert (bool(outcome["in_itt"]), outcome["itt_endpoint"]) == (True, 18)
    assert not outcome["itt_response"] and not outcome["itt_remission"] and not outcome["reliable_improvement"]
    block = view.report()["instruments"]["PHQ-9"]
    assert (block["itt"]["n"], block["itt"]["response_n"], block["mean_change"]) == (1, 0, 0.0)
    assert list(block["mean_change_ci"]) == [None, None]


def test_itt_endpoint_ignores_scores_after_boosters(load):
    """A score after session 7 (t = 7 > L = 6) is not an induction endpoint: ITT endpoint is
    the end-of-induction 9, not the 2 on day 60."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS + [45])
    clinic.phq9("p1", 0, 20)
    clinic.phq9("p1", 24, 9)
    clinic.phq9("p1", 60, 2)
    view = load(clinic)
    assert view.outcome("p1")["itt_endpoint"] == 9
    assert [t for _, t, _ in timepoints(view, "p1")] == [0, 6, 7]


def test_response_at_exactly_half_of_baseline_counts(load):
    """Baseline 20 -> 10 responds, 20 -> 11 does not; baseline 21 -> 10 responds (10 <= 10.5),
    21 -> 11 does not. Response n 2 of 4 completers (also ITT)."""
    clinic = Clinic()
    for patient, baseline, endpoint in (("a", 20, 10), ("b", 20, 11), ("c", 21, 10), ("d", 21, 11)):
        clinic.completed_course(patient, baseline, endpoint)
    view = load(clinic)
    assert [bool(view.outcome(p)["completer_response"]) for p in "abcd"] == [True, False, True, False]
    assert [bool(view.outcome(p)["itt_response"]) for p in "abcd"] == [True, False, True, False]
    block = view.report()["instruments"]["PHQ-9"]
    assert (block["completers"]["response_n"], block["completers"]["response_rate"]) == (2, 0.5)


def test_remission_at_4_and_not_5(load):
    """End-of-induction 4 is remission, 5 is not (baselines 20)."""
    clinic = Clinic()
    clinic.completed_course("r4", 20, 4)
    clinic.completed_course("r5", 20, 5)
    view = load(clinic)
    assert bool(view.outcome("r4")["completer_remission"]) is True
    assert bool(view.outcome("r5")["completer_remission"]) is False
    assert view.report()["instruments"]["PHQ-9"]["itt"]["remission_n"] == 1


def test_reliable_improvement_at_6_and_not_5(load):
    """PHQ-9: 20 -> 14 (6 points) is reliable improvement, 20 -> 15 (5) is not; 12 -> 18 is
    reliable deterioration, 12 -> 17 is not. GAD-7: 15 -> 11 (4) is, 15 -> 12 (3) is not.
    Report: PHQ-9 reliable improvement n 1 of ITT 4, GAD-7 1 of 2."""
    clinic = Clinic()
    clinic.completed_course("i6", 20, 14)
    clinic.completed_course("i5", 20, 15)
    clinic.completed_course("d6", 12, 18)
    clinic.completed_course("d5", 12, 17)
    clinic.completed_course("g4", 15, 11, instrument="GAD-7", start=200)
    clinic.completed_course("g3", 15, 12, instrument="GAD-7", start=200)
    view = load(clinic)
    assert [bool(view.outcome(p)["reliable_improvement"]) for p in ("i6", "i5", "d6", "d5")] == [
        True,
        False,
        False,
        False,
    ]
    assert [bool(view.outcome(p)["reliable_deterioration"]) for p in ("i6", "i5", "d6", "d5")] == [
        False,
        False,
        True,
        False,
    ]
    assert [bool(view.outcome(p, "GAD-7")["reliable_improvement"]) for p in ("g4", "g3")] == [True, False]
    report = view.report()
    assert report["instruments"]["PHQ-9"]["reliable_improvement_n"] == 1
    assert report["instruments"]["GAD-7"]["reliable_improvement_n"] == 1


def test_means_and_mean_change_interval_over_itt(load):
    """Three ITT courses, baselines 20, 16, 12 and endpoints 10, 10, 12: mean baseline 16,
    mean endpoint 32/3 = 10.6667, changes -10, -6, 0 -> mean -16/3 = -5.3333,
    sd = sqrt(((-4.6667)^2 + (-0.6667)^2 + 5.3333^2)/2) = sqrt(25.3333) = 5.0332,
    half-width t(0.975, 2) * sd / sqrt(3) = 4.302653 * 2.905933 = 12.503219
    -> CI (-17.836552, 7.169886). Response: 10 <= 10 yes, 10 <= 8 no, 12 <= 6 no -> 1 of 3,
    Wilson: p = 1/3, z^2/n = 1.280486, centre (0.333333 + 0.640243)/2.280486 = 0.426916,
    half-width 1.959964 * sqrt(0.074074 + 0.106707)/2.280486 = 0.365424 -> (0.061492, 0.792340)."""
    clinic = Clinic()
    for patient, baseline, endpoint in (("a", 20, 10), ("b", 16, 10), ("c", 12, 12)):
        clinic.completed_course(patient, baseline, endpoint)
    block = load(clinic).report()["instruments"]["PHQ-9"]
    assert close(block["mean_baseline"], 16.0) and close(block["mean_endpoint"], 32 / 3)
    assert close(block["mean_change"], -16 / 3)
    low, high = block["mean_change_ci"]
    assert math.isclose(low, -17.836552, abs_tol=5e-6) and math.isclose(high, 7.169886, abs_tol=5e-6)
    assert (block["itt"]["response_n"], block["itt"]["n"]) == (1, 3)
    assert close(block["itt"]["response_rate"], 1 / 3)
    low, high = block["itt"]["response_ci"]
    assert math.isclose(low, 0.061492, abs_tol=5e-6) and math.isclose(high, 0.792340, abs_tol=5e-6)


# ---------------------------------------------------------------------------
# §5 Boosters and durability


def test_pre_booster_score_window_is_seven_days_booster_day_included(load):
    """Boosters (sessions 7, 8, 9) on days 47, 82 and 107 after session 6 on day 17.
    Session 7: scored on day 40 (7 days before) -> pre-booster 9.
    Session 8: scored only on day 74 (8 days before) -> no pre-booster score.
    Session 9: scored on day 100 (13) and on its own day 107 (7, pre-session) -> 7."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS + [47, 82, 107])
    clinic.phq9("p1", 0, 20)
    for day, total in ((40, 9), (74, 11), (100, 13), (107, 7)):
        clinic.phq9("p1", day, total)
    view = load(clinic)
    boosters = view.boosters("p1", "PHQ-9")
    assert [(b["session_number"], b["pre_booster_score"]) for b in boosters] == [(7, 9), (8, None), (9, 7)]


def test_booster_interval_and_boosters_counted_by_their_own_quarter(load):
    """A course starting 2025-12-01 (2025Q4) completes induction on 2025-12-18 and has
    boosters on 2026-01-17 (30 days later), 2026-02-21 (35) and 2026-03-18 (25).
    2026Q1 report: 0 courses started, 3 boosters delivered, median interval 30 days.
    2025Q4 report: 1 course started, 0 boosters, median interval null."""
    clinic = Clinic(origin=dt.date(2025, 12, 1))
    clinic.sessions("p1", KETAMINE_DAYS + [47, 82, 107])
    view = load(clinic)
    assert [b["interval_days"] for b in view.boosters("p1", "PHQ-9")] == [30, 35, 25]
    assert [s["interval_days"] for s in view.sessions("p1")] == [None, 3, 4, 3, 4, 3, 30, 35, 25]
    q1 = view.report("2026Q1")
    assert (q1["courses_started"], q1["boosters_delivered"], q1["median_booster_interval_days"]) == (0, 3, 30)
    q4 = view.report("2025Q4")
    assert (q4["courses_started"], q4["boosters_delivered"], q4["median_booster_interval_days"]) == (1, 0, None)
    assert view.course("p1")["start_quarter"] == "2025Q4"


def test_loss_of_response_and_censoring(load):
    """Completers who responded, days counted from session L (day 17):
    a: baseline 20, end of induction 8; later 9 (day 57, not >= 10), 12 (day 87: >= 10 and
       > 10) -> lost at 87 - 17 = 70 days.
    b: baseline 20, EOI 6; later 10 (day 47: >= 10 but not > 10), 8 (day 77)
       -> censored at its last score, 77 - 17 = 60 days.
    c: baseline 24, EOI 10 (<= 12); later 12 (day 37: not > 12), 13 (day 62) -> lost at 45.
    d: baseline 20, EOI 9 on day 31, nothing after -> censored at 14.
    e: baseline 20, EOI 14 (no response) and f: dropped out after 3 sessions -> not followed.
    Kaplan-Meier: day 14, 4 at risk, censored: S = 1; day 45, 3 at risk, 1 lost: S = 2/3;
    day 60 censored: 2/3; day 70, 1 at risk, 1 lost: S = 0. Median 70 days."""
    clinic = Clinic()
    clinic.completed_course("a", 20, 8)
    for day, total in ((57, 9), (87, 12)):
        clinic.phq9("a", day, total)
    clinic.completed_course("b", 20, 6)
    for day, total in ((47, 10), (77, 8)):
        clinic.phq9("b", day, total)
    clinic.completed_course("c", 24, 10)
    for day, total in ((37, 12), (62, 13)):
        clinic.phq9("c", day, total)
    clinic.completed_course("d", 20, 9, eoi_day_after_l=14)
    clinic.completed_course("e", 20, 14)
    clinic.sessions("f", [0, 3, 7])
    clinic.phq9("f", 0, 20)
    clinic.phq9("f", 9, 5)
    view = load(clinic)
    durability = view.durability("PHQ-9")
    assert durability == {("a", 1): (70, True), ("b", 1): (60, False), ("c", 1): (45, True), ("d", 1): (14, False)}

    durations = [days for days, _ in sorted(durability.values())]
    lost = [lost for _, lost in sorted(durability.values())]
    if isinstance(view, EngineView):
        from analysis.engine import stats

        frame = stats.kaplan_meier(durations, lost).sort_values("time")
        times, at_risk, survival = list(frame["time"]), list(frame["at_risk"]), list(frame["survival"])
        median = stats.km_median(frame)
    else:  # the hand-worked curve checked against lifelines
        from lifelines import KaplanMeierFitter

        fitter = KaplanMeierFitter().fit(durations, lost)
        times, at_risk = list(fitter.event_table.index), list(fitter.event_table["at_risk"])
        survival, median = list(fitter.survival_function_["KM_estimate"]), fitter.median_survival_time_
    assert [float(t) for t in times] == [0.0, 14.0, 45.0, 60.0, 70.0]
    assert [int(n) for n in at_risk] == [4, 4, 3, 2, 1]
    for got, hand in zip(survival, [1.0, 1.0, 2 / 3, 2 / 3, 0.0]):
        assert math.isclose(float(got), hand, abs_tol=1e-12)
    assert median == 70


# ---------------------------------------------------------------------------
# §6 The quarterly report and small-cell suppression


def test_courses_and_patients_started_by_quarter(load):
    """p1 starts courses on 2026-01-05 (Q1) and 2026-07-23 (day 199, Q3); p2 on 2026-01-05.
    all: 3 courses, 2 patients, 3 completed induction; 2026Q1: 2 courses, 2 patients;
    2026Q3: 1 course, 1 patient."""
    clinic = Clinic()
    clinic.sessions("p1", KETAMINE_DAYS + [199 + d for d in KETAMINE_DAYS])
    clinic.sessions("p2", KETAMINE_DAYS)
    view = load(clinic)
    assert view.course("p1", 2)["start_quarter"] == "2026Q3"
    counts = {
        q: (r["courses_started"], r["patients_started"], r["induction_completed"])
        for q in ("all", "2026Q1", "2026Q3")
        for r in [view.report(q)]
    }
    assert counts == {"all": (3, 2, 3), "2026Q1": (2, 2, 2), "2026Q3": (1, 1, 1)}


def test_small_cells_are_suppressed_but_not_0_or_11(load):
    """Eleven completers, PHQ-9 baseline 20: ten end induction at 10 (responders), one at 12.
    Unsuppressed: ITT n 11, response 10/11 = 0.909091 (Wilson 0.622642-0.983768), remission
    0/11 = 0 (Wilson 0-0.258833), reliable improvement 11. One of them has a GAD-7 (15 -> 14).
    Suppressed: 11 stays 11 and 0 stays 0; response n 10 -> "<11" and its rate and interval are
    withheld; remission 0 of 11 is shown with its interval; GAD-7 baseline n 1 -> "<11" and
    its rates are withheld because the denominator is 1, even where the numerator is 0."""
    clinic = Clinic()
    for index in range(11):
        clinic.completed_course(f"p{index:02d}", 20, 10 if index < 10 else 12)
    clinic.gad7("p00", 0, 15)
    clinic.gad7("p00", 24, 14)
    view = load(clinic)

    open_report = view.report(suppress=False)
    assert open_report["suppressed"] is False
    itt = open_report["instruments"]["PHQ-9"]["itt"]
    assert (itt["n"], itt["response_n"], itt["remission_n"]) == (11, 10, 0)
    assert close(itt["response_rate"], 10 / 11) and itt["remission_rate"] == 0
    assert math.isclose(itt["response_ci"][0], 0.6226415635484044, rel_tol=1e-9)
    assert math.isclose(itt["remission_ci"][1], 0.2588329669680318, rel_tol=1e-9)

    report = view.report(suppress=True)
    assert report["suppressed"] is True
    assert (report["courses_started"], report["patients_started"], report["in_progress"]) == (11, 11, 0)
    assert (report["boosters_delivered"], report["item9_positive_baseline"]) == (0, 0)
    phq9 = report["instruments"]["PHQ-9"]
    assert (phq9["baseline_n"], phq9["eligible_n"], phq9["reliable_improvement_n"]) == (11, 11, 11)
    itt = phq9["itt"]
    assert (itt["n"], itt["response_n"], itt["response_rate"], list(itt["response_ci"])) == (
        11,
        "<11",
        None,
        [None, None],
    )
    assert (itt["remission_n"], itt["remission_rate"]) == (0, 0)
    assert math.isclose(itt["remission_ci"][1], 0.2588329669680318, rel_tol=1e-9)
    assert trajectory(report)[0][0] == 11 and trajectory(report)[6][0] == 11 and trajectory(report)[1][0] == 0
    gad7 = report["instruments"]["GAD-7"]
    assert (gad7["baseline_n"], gad7["itt"]["n"], gad7["itt"]["response_n"], gad7["itt"]["response_rate"]) == (
        "<11",
        "<11",
        0,
        None,
    )
    assert list(gad7["itt"]["response_ci"]) == [None, None]
    assert trajectory(report, "GAD-7")[0][0] == "<11"


# ---------------------------------------------------------------------------
# PCL-5 (OUTCOMES.md §1 and §4): 20 items 0-4, eligible from 33, response a fall of 10 points,
# remission 32 or lower, reliable change 10, prorated with up to 4 items missing.


def pcl5_items(total: int, answered: int = 20) -> list[int | None]:
    """`answered` items summing to `total` (each 0-4), the rest blank."""
    items = [min(4, max(0, total - 4 * k)) for k in range(answered)]
    return items + [None] * (20 - answered)


def test_pcl5_response_is_a_fall_of_10_points_and_remission_32_or_lower(load):
    """Completers, baseline -> end of induction:
    a 45 -> 35: fall 10, response; 35 > 32, no remission.
    b 45 -> 36: fall 9, no response.
    c 40 -> 32: fall 8, no response, but 32 is remission (below the cut-off).
    d 33 -> 23: eligible at exactly 33, fall 10: response and remission.
    e 32 -> 10: baseline 32 is below 33: not eligible, left out.
    Report: eligible 4, completers 4, response 2 (a, d), remission 2 (c, d);
    reliable improvement (fall >= 10) a and d."""
    clinic = Clinic()
    for patient, baseline, endpoint in (("a", 45, 35), ("b", 45, 36), ("c", 40, 32), ("d", 33, 23), ("e", 32, 10)):
        clinic.completed_course(patient, baseline, endpoint, instrument="PCL-5")
    view = load(clinic)
    assert [bool(view.outcome(p, "PCL-5")["eligible"]) for p in "abcde"] == [True, True, True, True, False]
    assert [bool(view.outcome(p, "PCL-5")["completer_response"]) for p in "abcd"] == [True, False, False, True]
    assert [bool(view.outcome(p, "PCL-5")["completer_remission"]) for p in "abcd"] == [False, False, True, True]
    assert [bool(view.outcome(p, "PCL-5")["reliable_improvement"]) for p in "abcd"] == [True, False, False, True]
    report = view.report()
    assert list(report["instruments"]) == ["PCL-5"]  # no PHQ-9 or GAD-7 recorded: no blocks for them
    block = report["instruments"]["PCL-5"]
    assert (block["eligible_n"], block["baseline_n"]) == (4, 5)
    assert (block["completers"]["n"], block["completers"]["response_n"], block["completers"]["remission_n"]) == (
        4,
        2,
        2,
    )
    assert block["completers"]["response_rate"] == 0.5
    assert block["reliable_improvement_n"] == 2


def test_pcl5_prorating_with_4_items_missing_and_incomplete_with_5(load):
    """Items 0-4. 16 answered summing to 40: prorated round_half_up(40 / 16 * 20) = 50.
    15 answered summing to 30: incomplete, left out. 17 answered summing to 37: 37 / 17 * 20 =
    43.53 -> 44. So the course's baseline (day 0) is 50 prorated and the day 2 score is 44
    (the day 1 incomplete form is not a score)."""
    clinic = Clinic()
    clinic.sessions("p", [3, 6, 10, 13, 17, 20])
    clinic.score("p", "PCL-5", 0, items=pcl5_items(40, answered=16))
    clinic.score("p", "PCL-5", 1, items=pcl5_items(30, answered=15))
    clinic.score("p", "PCL-5", 2, items=pcl5_items(37, answered=17))
    view = load(clinic)
    scored = [(r["assessment_date"], r["total"]) for r in view.assessments("p", "PCL-5")]
    assert scored == [(clinic.day(0), 50), (clinic.day(2), 44)]
    assert view.outcome("p", "PCL-5")["baseline"] == 44  # the latest t = 0 score wins


def test_pcl5_loss_of_response_is_33_or_more_and_less_than_10_below_baseline(load):
    """Completers who responded on the PCL-5 (baseline 50, end of induction 30 on day 24):
    a: later 38 (day 40: fall 12, still responding), then 41 (day 60: fall 9 and >= 33) -> lost at 60 - 17 = 43.
    b: later 39 (day 45: fall 11, still responding), 45 (day 70: fall 5 and >= 33) -> lost at 53.
    c: baseline 40, later 32 (fall 8 but below 33: not lost), censored at its last score, day 80 -> 63."""
    clinic = Clinic()
    clinic.completed_course("a", 50, 30, instrument="PCL-5")
    clinic.score("a", "PCL-5", 40, 38)
    clinic.score("a", "PCL-5", 60, 41)
    clinic.completed_course("b", 50, 30, instrument="PCL-5")
    clinic.score("b", "PCL-5", 45, 39)
    clinic.score("b", "PCL-5", 70, 45)
    clinic.completed_course("c", 40, 20, instrument="PCL-5")
    clinic.score("c", "PCL-5", 80, 32)
    view = load(clinic)
    assert view.durability("PCL-5") == {("a", 1): (43, True), ("b", 1): (53, True), ("c", 1): (63, False)}


def test_a_clinic_setting_changes_the_pcl5_rule_without_code(tmp_path):
    """[instruments."PCL-5"] response_drop = 15 in settings.toml: a fall of 10 is no longer a response."""
    from analysis.settings import load_settings

    path = tmp_path / "clinic.toml"
    path.write_text('[instruments."PCL-5"]\nresponse_drop = 15\neligibility_min = 38\n')
    rules = load_settings(path).rules_for("PCL-5")
    assert (rules.response_kind, rules.response_value, rules.eligibility_min) == ("drop", 15.0, 38)
    assert rules.responds(45, 35) is False and rules.responds(45, 30) is True
    assert rules.response_words() == "a fall of at least 15 points from baseline"
    assert load_settings(path).rules_for("PHQ-9").response_value == 0.5  # the other instruments keep theirs
