"""Data quality: questionnaires missing before sessions, courses without a baseline."""

from __future__ import annotations

import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
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


def assessment_completion(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Per induction session number and instrument: sessions, sessions with a pre-session score, percent."""
    sub = cohort(timeline, filters)
    sessions = sub.sessions[["course_id", "session_number"]].copy()
    lengths = sub.courses.set_index("course_id")["induction_length"]
    sessions = sessions.loc[sessions["session_number"] <= sessions["course_id"].map(lengths)]
    scored = _pre_session_scores(sub).assign(with_score=True)
    rows = []
    for instrument in timeline.instruments:
        flags = sessions.merge(
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
    """Per instrument: courses, courses with no baseline score, and the percent."""
    sub = cohort(timeline, filters)
    rows = []
    for instrument in timeline.instruments:
        outcomes = sub.course_outcomes.loc[sub.course_outcomes["instrument"] == instrument]
        n = int(len(outcomes))
        missing = int((~outcomes["has_baseline"].astype(bool)).sum())
        rows.append(
            {
                "instrument": instrument,
                "courses": n,
                "without_baseline": missing,
                "percent": 100.0 * missing / n if n else None,
            }
        )
    return pd.DataFrame(rows, columns=["instrument", "courses", "without_baseline", "percent"])


def courses_missing_baseline_list(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """The courses with no PHQ-9 or no GAD-7 baseline, to chase up."""
    sub = cohort(timeline, filters)
    recorded = sub.course_outcomes["instrument"].isin(timeline.instruments)
    missing = sub.course_outcomes.loc[
        recorded & ~sub.course_outcomes["has_baseline"].astype(bool), ["course_id", "instrument"]
    ]
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
