"""The clinician's caseload: every current patient with their latest scores, outcome and flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.durability import durability
from analysis.engine.timeline import Timeline
from analysis.instruments import INSTRUMENTS, PHQ9
from analysis.views.patient import BOOSTER_DUE_DAYS, course_status, item9_text

# A course that finished induction and has had no session for this long is due a booster.

_LATEST_SCORES_SQL = """
SELECT patient_id, instrument, total FROM assessments
WHERE total IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY patient_id, instrument ORDER BY assessment_date DESC) = 1
"""
_LAST_DATES_SQL = """
WITH last_phq9 AS (   -- the last PHQ-9 filled in, complete or not: its item 9 is the safety answer
    SELECT patient_id, assessment_date AS last_phq9_any_date, item9 AS last_item9 FROM assessments
    WHERE instrument = 'PHQ-9'
    QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY assessment_date DESC) = 1
), last_any AS (
    SELECT patient_id, max(assessment_date) AS last_assessment_date FROM assessments GROUP BY patient_id
)
SELECT l.patient_id, l.last_assessment_date, q.last_phq9_any_date, q.last_item9
FROM last_any l LEFT JOIN last_phq9 q ON q.patient_id = l.patient_id
"""


def score_column(instrument: str) -> str:
    """The caseload's column for an instrument's latest total: 'PHQ-9' -> 'last_phq9', 'PCL-5' -> 'last_pcl5'."""
    return "last_" + "".join(ch for ch in instrument.lower() if ch.isalnum())


# One latest-total column per instrument of the catalog, whether or not the store records it (a fixed shape).
SCORE_COLUMNS: tuple[str, ...] = tuple(score_column(code) for code in INSTRUMENTS)

CASELOAD_COLUMNS = [
    "patient_id",
    "clinician_id",
    "site",
    "modality",
    "course_number",
    "status",
    "phq9_outcome",
    "flags",
    *SCORE_COLUMNS,
    "item9_last",
    "days_since_session",
    "days_since_assessment",
    "last_session_date",
    "last_assessment_date",
    "sessions_in_course",
    "course",
    "alerts",
    "item9",
    "item9_positive",
    "item9_unknown",
    "booster_due",
    "in_progress",
    "loss_of_response",
    "active",
]


def latest_scores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per patient: the latest total of each instrument, the last assessment date, item 9 of the last PHQ-9."""
    dates = con.execute(_LAST_DATES_SQL).df()
    totals = con.execute(_LATEST_SCORES_SQL).df()
    wide = totals.pivot(index="patient_id", columns="instrument", values="total")
    wide = wide.rename(columns=score_column).reindex(columns=list(SCORE_COLUMNS))
    return dates.merge(wide.reset_index(), on="patient_id", how="left")


def outcome_labels(outcomes: pd.DataFrame) -> pd.Series:
    """The engine's induction outcome per course row, in words: at the end of induction for completers,
    at the last induction score for other finished courses, 'Pending' while induction runs."""
    flag = lambda column: outcomes[column].fillna(False).astype(bool).to_numpy()  # noqa: E731
    completer, itt = flag("completer"), flag("in_itt")
    remitted = np.where(completer, flag("completer_remission"), flag("itt_remission"))
    responded = np.where(completer, flag("completer_response"), flag("itt_response"))
    labels = np.select(
        [~flag("has_baseline"), ~flag("eligible"), ~(completer | itt), remitted, responded],
        ["No baseline", "Baseline below threshold", "Pending", "Remitted", "Responding"],
        default="Not responding",
    )
    return pd.Series(labels, index=outcomes.index)


def caseload(
    con: duckdb.DuckDBPyConnection,
    timeline: Timeline,
    filters: CohortFilter | None = None,
    *,
    as_of: dt.date | None = None,
    booster_due_days: int = BOOSTER_DUE_DAYS,
) -> pd.DataFrame:
    """One row per patient whose latest course matches the filters: status, last scores, days since, flags.

    Days are counted to `as_of`, by default the data's last date (the latest session or assessment).
    Current patients (a session within course_gap_days) come first; among them an item-9 flag comes
    first, then loss of response, then a booster due.
    """
    settings = timeline.settings
    as_of = as_of or timeline.data_last_date
    latest = timeline.courses.sort_values(["patient_id", "course_number"]).groupby("patient_id").tail(1)
    chosen = set(cohort(timeline, filters).courses["course_id"])
    latest = latest.loc[latest["course_id"].isin(chosen)].copy()
    if latest.empty:
        return pd.DataFrame(columns=CASELOAD_COLUMNS)
    latest["status"] = course_status(latest, as_of, settings.course_gap_days)
    latest["course"] = course_status(latest, as_of, settings.course_gap_days, short=True)
    phq9 = timeline.course_outcomes.loc[timeline.course_outcomes["instrument"] == PHQ9.code]
    labels = pd.Series(outcome_labels(phq9).to_numpy(), index=phq9["course_id"].to_numpy())
    latest["phq9_outcome"] = latest["course_id"].map(labels).fillna("No baseline")
    lost = durability(timeline, PHQ9.code)
    lost_courses = set(lost.loc[lost["lost_response"].astype(bool), "course_id"])
    latest["loss_of_response"] = latest["course_id"].isin(lost_courses)
    latest.loc[latest["loss_of_response"], "phq9_outcome"] = "Lost response"

    frame = latest.merge(latest_scores(con), on="patient_id", how="left")
    as_of_stamp = pd.Timestamp(as_of)
    frame["days_since_session"] = (as_of_stamp - pd.to_datetime(frame["last_session_date"])).dt.days
    frame["days_since_assessment"] = (as_of_stamp - pd.to_datetime(frame["last_assessment_date"])).dt.days.astype(
        "Int64"
    )
    has_phq9 = frame["last_phq9_any_date"].notna()
    frame["item9_last"] = [
        item9_text(PHQ9.code, value) if seen else "no PHQ-9" for seen, value in zip(has_phq9, frame["last_item9"])
    ]
    # The grid's narrow column: the answer (0-3), "unknown" for a total-only PHQ-9, a dash with no PHQ-9.
    frame["item9"] = [
        ("unknown" if pd.isna(value) else str(int(value))) if seen else "—"
        for seen, value in zip(has_phq9, frame["last_item9"])
    ]
    frame["item9_positive"] = frame["last_item9"].fillna(0).astype(int) >= 1
    # A PHQ-9 recorded as a total only never answered item 9: unknown, which is not "negative".
    frame["item9_unknown"] = has_phq9.to_numpy() & frame["last_item9"].isna().to_numpy()
    frame["in_progress"] = frame["in_progress"].astype(bool)
    frame["booster_due"] = (
        frame["completed_induction"].astype(bool)
        & (frame["days_since_session"] > booster_due_days)
        & (frame["days_since_session"] <= settings.course_gap_days)
    )
    frame["sessions_in_course"] = frame["n_sessions"].astype(int)
    # After course_gap_days without a session the next one starts a new course: no longer a current patient.
    frame["active"] = frame["days_since_session"] <= settings.course_gap_days
    frame["flags"] = [
        " · ".join(
            name
            for name, on in (
                ("⚑ item 9 positive", item9),
                ("loss of response", lost_flag),
                ("booster due", due),
                ("in induction", progress),
            )
            if on
        )
        for item9, lost_flag, due, progress in zip(
            frame["item9_positive"], frame["loss_of_response"], frame["booster_due"], frame["in_progress"]
        )
    ]
    # The grid's alerts hold only what no other grid column says (loss of response is in the outcome
    # column, an induction under way in the course column): kept short so the grid fits a laptop screen.
    frame["alerts"] = [
        " · ".join(name for name, on in (("⚑ item 9", item9), ("booster due", due)) if on)
        for item9, due in zip(frame["item9_positive"], frame["booster_due"])
    ]
    for column in SCORE_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    frame = frame.sort_values(
        ["active", "item9_positive", "loss_of_response", "booster_due", "patient_id"],
        ascending=[False, False, False, False, True],
        kind="stable",
    )
    return frame[CASELOAD_COLUMNS].reset_index(drop=True)


# The caseload grid: the columns it shows first (they fit a 1400 px screen beside the sidebar) and the ones
# a user can add (then the grid scrolls sideways, with the patient column pinned). The latest totals of the
# first two questionnaires the store records are shown; a third (the PCL-5) is one of the columns to add.
GRID_OTHER_COLUMNS: dict[str, str] = {
    "modality": "Modality",
    "sessions_in_course": "Sessions in course",
    "clinician_id": "Clinician",
    "site": "Site",
}


def grid_extra_columns(instruments: Sequence[str]) -> dict[str, str]:
    """The columns a user can add to the grid, with their menu words."""
    return {score_column(code): f"Latest {code}" for code in instruments[2:]} | GRID_OTHER_COLUMNS


def grid_columns(instruments: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """The grid's column order: the default columns, then the extra ones asked for, in their menu order."""
    scores = []
    for code in instruments[:2]:
        scores.append(score_column(code))
        if code == PHQ9.code:
            scores.append("item9")  # the safety answer beside the PHQ-9 total
    return [
        "patient_id",
        "alerts",
        "course",
        "phq9_outcome",
        *scores,
        "days_since_session",
        "days_since_assessment",
    ] + [column for column in grid_extra_columns(instruments) if column in extra]


def current_patients(table: pd.DataFrame, include_inactive: bool = False) -> pd.DataFrame:
    """The caseload a clinician works from: patients with a session within the course gap, unless asked for all."""
    return table if include_inactive else table.loc[table["active"].astype(bool)].reset_index(drop=True)


def caseload_summary(table: pd.DataFrame) -> dict[str, int]:
    """Counts above the caseload table."""
    return {
        "patients": int(len(table)),
        "item9_positive": int(table["item9_positive"].sum()) if len(table) else 0,
        "item9_unknown": int(table["item9_unknown"].sum()) if len(table) else 0,
        "booster_due": int(table["booster_due"].sum()) if len(table) else 0,
        "in_progress": int(table["in_progress"].sum()) if len(table) else 0,
        "loss_of_response": int(table["loss_of_response"].sum()) if len(table) else 0,
    }


def item9_unknown_caption(summary: dict[str, int]) -> str | None:
    """Under the item-9 tile: how many patients' last PHQ-9 never answered item 9 (so the count cannot include them)."""
    unknown = summary.get("item9_unknown", 0)
    if not unknown:
        return None
    return f"item 9 unknown for {unknown:,} (last PHQ-9 a total only)"


def hidden_by_filters(timeline: Timeline, shown: int) -> int:
    """Patients in the store that the picker does not list because of the sidebar filters."""
    return max(int(timeline.courses["patient_id"].nunique()) - shown, 0)
