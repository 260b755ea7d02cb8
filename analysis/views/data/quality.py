"""Data quality: questionnaires missing before sessions, courses without a baseline.

A questionnaire is looked for only in the courses of patients who fill it in (one score of it at any
time): a clinic gives the PCL-5 to its patients with PTSD, and a depression patient's course without
one is not a gap. Courses of patients who never filled it in are counted apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.frames import is_in
from analysis.engine.timeline import Timeline


def _pre_session_scores(timeline: Timeline) -> pd.DataFrame:
    """(course, session number, instrument) for every session with a questionnaire that belongs to it.

    The questionnaire for session k is one dated after session k-1 and no later than session k's
    day (for session 1: the baseline window), i.e. at timepoint k-1 of the same course.
    """
    points = timeline.assessments[["course_id", "instrument", "timepoint"]].drop_duplicates()
    return points.assign(session_number=points["timepoint"].astype(int) + 1)[
        ["course_id", "session_number", "instrument"]
    ]


def _asked(timeline: Timeline, sub: Timeline, instrument: str) -> np.ndarray:
    """Per course of `sub`: does its patient fill in `instrument` (a score of it at any time, in any course)?"""
    assessments = timeline.assessments
    patients = assessments.loc[assessments["instrument"] == instrument, "patient_id"].unique()
    return is_in(sub.courses["patient_id"], patients)


def assessment_completion(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Per induction session number and instrument: sessions, sessions with a pre-session score, percent."""
    sub = cohort(timeline, filters)
    sessions = sub.sessions[["course_id", "session_number"]].copy()
    lengths = sub.courses.set_index("course_id")["induction_length"]
    sessions = sessions.loc[sessions["session_number"] <= sessions["course_id"].map(lengths)]
    scored = _pre_session_scores(sub).assign(with_score=True)
    rows = []
    for instrument in timeline.instruments:
        asked = sub.courses.loc[_asked(timeline, sub, instrument), "course_id"]
        flags = sessions.loc[is_in(sessions["course_id"], asked)].merge(
            scored.loc[scored["instrument"] == instrument, ["course_id", "session_number", "with_score"]],
            on=["course_id", "session_number"],
            how="left",
        )
        flags["with_score"] = flags["with_score"].fillna(False).astype(bool)
        counted = flags.groupby("session_number").agg(sessions=("with_score", "size"), with_score=("with_score", "sum"))
        for number, row in counted.iterrows():
            rows.append(
                {
                    "session_number": int(number),
                    "instrument": instrument,
                    "sessions": int(row["sessions"]),
                    "with_score": int(row["with_score"]),
                    "percent": 100.0 * int(row["with_score"]) / int(row["sessions"]),
                }
            )
    return pd.DataFrame(rows, columns=["session_number", "instrument", "sessions", "with_score", "percent"])


def sessions_without_score(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Every session (boosters included) with no questionnaire of any kind belonging to it."""
    sub = cohort(timeline, filters)
    scored = _pre_session_scores(sub)[["course_id", "session_number"]].drop_duplicates().assign(scored=True)
    sessions = sub.sessions.merge(scored, on=["course_id", "session_number"], how="left")
    missing = sessions["scored"].isna().to_numpy()
    columns = ["patient_id", "session_date", "session_number", "is_booster", "modality", "clinician_id"]
    return sessions.loc[missing, columns].sort_values(["session_date", "patient_id"]).reset_index(drop=True)


def courses_without_baseline(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Per instrument, among the courses of patients who fill it in: courses, those with no baseline score,
    the percent; and apart, the courses of patients who never filled it in."""
    sub = cohort(timeline, filters)
    rows = []
    for instrument in timeline.instruments:
        asked = sub.courses.loc[_asked(timeline, sub, instrument), "course_id"]
        outcomes = sub.course_outcomes.loc[sub.course_outcomes["instrument"] == instrument]
        outcomes = outcomes.loc[is_in(outcomes["course_id"], asked)]
        n = int(len(outcomes))
        missing = int((~outcomes["has_baseline"].astype(bool)).sum())
        rows.append(
            {
                "instrument": instrument,
                "courses": n,
                "without_baseline": missing,
                "percent": 100.0 * missing / n if n else None,
                "never_filled_in": int(len(sub.courses)) - n,
            }
        )
    return pd.DataFrame(rows, columns=["instrument", "courses", "without_baseline", "percent", "never_filled_in"])


def baseline_caption(instrument: str, courses: int, percent: float | None, never_filled_in: int) -> str:
    """Under a 'courses without a baseline' tile: '12% of 66 courses of patients who fill in the PCL-5 (364 more
    courses: patients who never did)'."""
    if not courses:
        return f"No patient in this cohort fills in the {instrument}"
    shown = f"{percent:.0f}% of {courses:,} courses of patients who fill in the {instrument}"
    if never_filled_in:
        shown += f" ({never_filled_in:,} more courses: patients who never did)"
    return shown


def courses_missing_baseline_list(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """The courses with no baseline for a questionnaire their patient fills in, to chase up."""
    sub = cohort(timeline, filters)
    outcomes = sub.course_outcomes
    asked = np.zeros(len(outcomes), dtype=bool)
    for instrument in timeline.instruments:
        courses = sub.courses.loc[_asked(timeline, sub, instrument), "course_id"]
        asked |= (outcomes["instrument"] == instrument).to_numpy() & is_in(outcomes["course_id"], courses)
    missing = outcomes.loc[asked & ~outcomes["has_baseline"].astype(bool).to_numpy(), ["course_id", "instrument"]]
    listed = (
        missing.groupby("course_id")["instrument"].agg(lambda codes: ", ".join(sorted(codes))).rename("no_baseline_for")
    )
    courses = sub.courses.set_index("course_id").loc[
        listed.index, ["patient_id", "course_number", "start_date", "modality", "clinician_id"]
    ]
    return courses.join(listed).sort_values("start_date").reset_index(drop=True)


def quality_summary(timeline: Timeline, filters: CohortFilter | None = None) -> dict[str, int | float | None]:
    """The headline data-quality numbers."""
    sub = cohort(timeline, filters)
    missing = sessions_without_score(sub)
    n_sessions = int(len(sub.sessions))
    return {
        "courses": int(len(sub.courses)),
        "sessions": n_sessions,
        "sessions_without_score": int(len(missing)),
        "sessions_without_score_percent": 100.0 * len(missing) / n_sessions if n_sessions else None,
    }
