"""One patient's record and a clinician's caseload: scores, sessions, status badges and safety flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analysis import wording
from analysis.engine.durability import durability
from analysis.engine.timeline import Timeline
from analysis.instruments import INSTRUMENTS, PHQ9
from analysis.vocabulary import MODALITY_LABELS

# A course that finished induction and has had no session for this long is due a booster.
BOOSTER_DUE_DAYS = 35
ITEM_ANSWERS = {0: "not at all", 1: "several days", 2: "more than half the days", 3: "nearly every day"}
UNKNOWN_ITEM9 = "item 9 unknown"


@dataclass(frozen=True)
class Badge:
    """One status a clinician reads at a glance; tone is good, bad, warning or neutral."""

    label: str
    tone: str
    detail: str = ""


@dataclass(frozen=True)
class PatientRecord:
    """Everything the patient trend page shows about one patient."""

    patient_id: str
    attributes: dict
    courses: pd.DataFrame
    sessions: pd.DataFrame
    assessments: pd.DataFrame
    reference_lines: pd.DataFrame
    item9_alerts: pd.DataFrame
    badges: list[Badge] = field(default_factory=list)
    latest_course_id: str | None = None


# ---------------------------------------------------------------------------
# Item 9


def item9_status(instrument: str, item9: float | None) -> str:
    """'positive', 'negative' or 'unknown' for a PHQ-9 row ('' for other instruments).

    A PHQ-9 with no item 9 answer (a total-only row, or item 9 left blank) is unknown, never negative.
    """
    if instrument != PHQ9.code:
        return ""
    if item9 is None or pd.isna(item9):
        return "unknown"
    return "positive" if int(item9) >= 1 else "negative"


def item9_text(instrument: str, item9: float | None) -> str:
    status = item9_status(instrument, item9)
    if status == "positive":
        return f"item 9 = {int(item9)} ({ITEM_ANSWERS[int(item9)]})"
    if status == "negative":
        return "item 9 = 0"
    return UNKNOWN_ITEM9 if status == "unknown" else ""


# ---------------------------------------------------------------------------
# One patient


_ASSESSMENTS_SQL = """
SELECT assessment_date, instrument, total, total_method, items_answered,
       list_transform(items, lambda answer: coalesce(answer, -1)) AS items, item9
FROM assessments WHERE patient_id = ? ORDER BY assessment_date, instrument
"""


def patient_assessments(con: duckdb.DuckDBPyConnection, patient_id: str) -> pd.DataFrame:
    """Every assessment of the patient in the store, incomplete ones included (they may carry item 9)."""
    frame = con.execute(_ASSESSMENTS_SQL, [patient_id]).df()
    frame["assessment_date"] = pd.to_datetime(frame["assessment_date"])
    frame["items"] = [_item_list(items) for items in frame["items"]]
    frame["item9_status"] = [item9_status(i, v) for i, v in zip(frame["instrument"], frame["item9"])]
    frame["item9_text"] = [item9_text(i, v) for i, v in zip(frame["instrument"], frame["item9"])]
    return frame


def _item_list(items: list[int] | np.ndarray | None) -> list[int | None]:
    """Answers in item order, None where unanswered (the SQL marks those -1)."""
    if items is None or (not isinstance(items, (list, np.ndarray)) and pd.isna(items)):
        return []
    return [None if int(value) < 0 else int(value) for value in items]


def item9_alerts(assessments: pd.DataFrame) -> pd.DataFrame:
    """PHQ-9 rows whose item 9 (thoughts of self-harm) is 1 or more, newest first."""
    rows = assessments.loc[
        assessments["item9_status"] == "positive", ["assessment_date", "item9", "total", "total_method", "item9_text"]
    ]
    return rows.sort_values("assessment_date", ascending=False).reset_index(drop=True)


def item9_alert_text(alerts: pd.DataFrame) -> str | None:
    """The safety banner: the latest item-9 answer of 1 or more, and how often it was so."""
    if alerts.empty:
        return None
    latest = alerts.iloc[0]
    text = (
        f"**Safety flag: PHQ-9 item 9 (thoughts of self-harm).** On {pd.Timestamp(latest['assessment_date']):%d %b %Y} "
        f"the answer was {int(latest['item9'])} ({ITEM_ANSWERS[int(latest['item9'])]})."
    )
    if len(alerts) > 1:
        text += (
            f" Item 9 was 1 or more on {len(alerts)} questionnaires in all, the first on "
            f"{pd.Timestamp(alerts['assessment_date'].min()):%d %b %Y}."
        )
    return text


def item9_unknown_text(assessments: pd.DataFrame) -> str | None:
    """A warning when the latest PHQ-9 has no item 9 answer: unknown is not the same as 'no'."""
    phq9 = assessments.loc[assessments["instrument"] == PHQ9.code]
    if phq9.empty or phq9.iloc[-1]["item9_status"] != "unknown":
        return None
    return (
        f"The latest PHQ-9 ({pd.Timestamp(phq9.iloc[-1]['assessment_date']):%d %b %Y}) has no answer to item 9 "
        f"(thoughts of self-harm) on record: **{UNKNOWN_ITEM9}**, not negative."
    )


def patient_description(attributes: dict) -> str:
    """'25-34 · F · PTSD · site NORTH · clinician CLN-01' from whatever is recorded."""
    parts = [str(attributes[k]) for k in ("age_band", "sex", "primary_condition") if attributes.get(k)]
    parts += [
        f"{label} {attributes[k]}"
        for label, k in (("site", "site"), ("clinician", "clinician_id"))
        if attributes.get(k)
    ]
    return " · ".join(parts) or "No patient details recorded."


def item_grid(assessments: pd.DataFrame, instrument: str) -> pd.DataFrame:
    """Item answers (rows: item 1..n; columns: assessment dates; cells 0-3, NaN when not recorded)."""
    spec = INSTRUMENTS[instrument]
    rows = assessments.loc[assessments["instrument"] == instrument].sort_values("assessment_date")
    columns = {}
    for date, items in zip(rows["assessment_date"], rows["items"]):
        answers = list(items) + [None] * (spec.n_items - len(items))
        columns[pd.Timestamp(date)] = [np.nan if a is None else float(a) for a in answers[: spec.n_items]]
    grid = pd.DataFrame(columns, index=pd.RangeIndex(1, spec.n_items + 1, name="item"))
    grid.columns.name = "assessment_date"
    return grid


def item_labels(instrument: str) -> list[str]:
    """'9. Thoughts of self-harm' and so on, in item order."""
    return [f"{k}. {label}" for k, label in enumerate(INSTRUMENTS[instrument].item_labels, start=1)]


def patient_sessions(timeline: Timeline, patient_id: str) -> pd.DataFrame:
    sessions = timeline.sessions.loc[timeline.sessions["patient_id"] == patient_id].copy()
    courses = timeline.courses.loc[timeline.courses["patient_id"] == patient_id].set_index("course_id")
    sessions["course_number"] = sessions["course_id"].map(courses["course_number"])
    sessions["induction_length"] = sessions["course_id"].map(courses["induction_length"])
    sessions["phase"] = np.where(sessions["is_booster"].astype(bool), "booster", "induction")
    return sessions.sort_values("session_date").reset_index(drop=True)


def course_status(
    courses: pd.DataFrame, as_of: dt.date | None, course_gap_days: int, *, short: bool = False
) -> pd.Series:
    """Where each course stands, in a clinician's words (`short`: the caseload grid's narrow column)."""
    as_of_stamp = pd.Timestamp(as_of) if as_of is not None else pd.NaT
    since = (as_of_stamp - pd.to_datetime(courses["last_session_date"])).dt.days
    n, length = courses["n_sessions"].astype(int), courses["induction_length"].astype(int)
    in_progress = courses["in_progress"].astype(bool)
    labels = np.select(
        [in_progress, n < length, since > course_gap_days, n == length],
        [
            "In induction",
            "Stopped early",
            f"Inactive {course_gap_days}+ d",
            "Induction done",
        ]
        if short
        else [
            "Induction in progress",
            "Stopped before completing induction",
            f"No session for over {course_gap_days} days",
            "Induction complete",
        ],
        default="Boosters" if short else "Receiving boosters",
    )
    return pd.Series(labels, index=courses.index)


def patient_courses(timeline: Timeline, patient_id: str) -> pd.DataFrame:
    courses = timeline.courses.loc[timeline.courses["patient_id"] == patient_id].copy()
    courses["status"] = course_status(courses, timeline.data_last_date, timeline.settings.course_gap_days)
    courses["boosters"] = (courses["n_sessions"] - courses["induction_length"]).clip(lower=0)
    courses["induction_sessions"] = courses[["n_sessions", "induction_length"]].min(axis=1)
    return courses.sort_values("course_number").reset_index(drop=True)


def latest_course_sentence(courses: pd.DataFrame) -> str:
    """'Latest course (course 2 of 2): Ketamine IV, started 03 Mar 2026, 9 sessions (6 of 6 induction, 3 boosters)'."""
    if courses.empty:
        return ""

    latest = courses.iloc[-1]
    boosters = int(latest["boosters"])
    return (
        f"Latest course (course {int(latest['course_number'])} of {len(courses)}): "
        f"{MODALITY_LABELS.get(latest['modality'], latest['modality'])}, started "
        f"{pd.Timestamp(latest['start_date']):%d %b %Y}, {int(latest['n_sessions'])} sessions "
        f"({int(latest['induction_sessions'])} of {int(latest['induction_length'])} induction"
        + (f", {boosters} booster{'s' if boosters != 1 else ''}" if boosters else "")
        + ")"
    )


def reference_lines(timeline: Timeline, patient_id: str) -> pd.DataFrame:
    """Per course and instrument: the baseline, the response threshold and remission line, with the dates they span.

    Response is judged only for eligible courses (baseline at or above the threshold), so the
    response threshold is empty otherwise.
    """
    settings = timeline.settings
    courses = timeline.courses.loc[timeline.courses["patient_id"] == patient_id].set_index("course_id")
    lines = timeline.course_outcomes.loc[
        timeline.course_outcomes["course_id"].isin(courses.index)
        & timeline.course_outcomes["has_baseline"].astype(bool),
        ["course_id", "instrument", "baseline", "baseline_date", "eligible"],
    ].copy()
    owned = timeline.assessments.loc[timeline.assessments["patient_id"] == patient_id]
    last_assessed = pd.to_datetime(lines["course_id"].map(owned.groupby("course_id")["assessment_date"].max()))
    last_session = pd.to_datetime(lines["course_id"].map(courses["last_session_date"]))
    lines["course_number"] = lines["course_id"].map(courses["course_number"])
    lines["from_date"] = pd.to_datetime(lines["baseline_date"])
    lines["to_date"] = last_session.where(last_session >= last_assessed, last_assessed).fillna(last_session)
    lines["baseline"] = lines["baseline"].astype(float)
    lines["eligible"] = lines["eligible"].astype(bool)
    threshold = np.full(len(lines), np.nan)
    remission = np.full(len(lines), np.nan)
    rule = np.full(len(lines), None, dtype=object)
    for code, rules in settings.instrument_rules:
        rows = (lines["instrument"] == code).to_numpy()
        threshold[rows] = rules.response_threshold(lines["baseline"].to_numpy(float)[rows])
        remission[rows] = rules.remission_max
        rule[rows] = rules.threshold_words()
    lines["response_threshold"] = np.where(lines["eligible"], threshold, np.nan)
    lines["response_rule"] = rule
    lines["remission_max"] = remission
    columns = [
        "course_id",
        "course_number",
        "instrument",
        "from_date",
        "to_date",
        "baseline",
        "response_threshold",
        "response_rule",
        "remission_max",
        "eligible",
    ]
    return lines[columns].sort_values(["instrument", "course_number"]).reset_index(drop=True)


def status_badges(timeline: Timeline, course_id: str, lost: dict[str, pd.Series] | None = None) -> list[Badge]:
    """Responding, remitted, reliable change and loss of response for one course, from the engine's outcomes."""
    settings = timeline.settings
    course = timeline.courses.loc[timeline.courses["course_id"] == course_id].iloc[0]
    badges = []
    if bool(course["in_progress"]):
        badges.append(
            Badge(
                f"Induction in progress: session {int(course['n_sessions'])} of {int(course['induction_length'])}",
                "neutral",
                "Response and remission are judged when induction ends.",
            )
        )
    outcomes = timeline.course_outcomes.loc[timeline.course_outcomes["course_id"] == course_id]
    for row in outcomes.itertuples():
        code = row.instrument
        if not row.has_baseline:
            badges.append(
                Badge(
                    f"{code}: no baseline score",
                    "warning",
                    f"Without a {code} {wording.baseline_window(settings)}, change cannot be judged.",
                )
            )
            continue
        baseline = int(row.baseline)
        if not row.eligible:
            badges.append(
                Badge(
                    f"{code}: baseline {baseline} below {settings.rules_for(code).eligibility_min}",
                    "neutral",
                    f"Response and remission are judged only from a {settings.rules_for(code).eligibility_words()}.",
                )
            )
            continue
        if bool(row.completer):
            responded, remitted, endpoint, when = (
                bool(row.completer_response),
                bool(row.completer_remission),
                int(row.end_of_induction),
                "at end of induction",
            )
        elif bool(row.in_itt):
            responded, remitted, endpoint, when = (
                bool(row.itt_response),
                bool(row.itt_remission),
                int(row.itt_endpoint),
                "at last induction score",
            )
        else:
            continue
        detail = f"{code} {baseline} at baseline, {endpoint} {when}."
        if remitted:
            badges.append(Badge(f"{code}: remitted {when}", "good", detail))
        elif responded:
            badges.append(Badge(f"{code}: responding {when}", "good", detail))
        else:
            badges.append(Badge(f"{code}: no response {when}", "bad", detail))
        change = endpoint - baseline
        if bool(row.reliable_improvement):
            badges.append(
                Badge(
                    f"{code}: reliable improvement ({change:+d} points)",
                    "good",
                    f"A fall of {int(row.reliable_change)} points or more.",
                )
            )
        elif bool(row.reliable_deterioration):
            badges.append(
                Badge(
                    f"{code}: reliable deterioration ({change:+d} points)",
                    "bad",
                    f"A rise of {int(row.reliable_change)} points or more.",
                )
            )
        if bool(row.completer_response):
            durable = (lost or {}).get(code)
            if durable is None:
                durable = durability(timeline, code)
            mine = durable.loc[durable["course_id"] == course_id]
            if len(mine) and bool(mine["lost_response"].iloc[0]):
                date = pd.Timestamp(mine["event_date"].iloc[0]).date()
                badges.append(
                    Badge(
                        f"{code}: loss of response on {date}",
                        "bad",
                        f"{int(mine['days'].iloc[0])} days after the last induction session, the score was "
                        f"{settings.rules_for(code).eligibility_min} or more and no longer met the response rule "
                        f"({settings.rules_for(code).response_words()}).",
                    )
                )
            elif len(mine):
                badges.append(
                    Badge(
                        f"{code}: response held",
                        "good",
                        f"No loss of response up to {int(mine['days'].iloc[0])} days after induction.",
                    )
                )
    return badges


def patient_record(con: duckdb.DuckDBPyConnection, timeline: Timeline, patient_id: str) -> PatientRecord | None:
    """The patient's scores, sessions, reference lines, item-9 alerts and status (None if unknown)."""
    attributes = con.execute(
        "SELECT age_band, sex, primary_condition, site, clinician_id FROM patients WHERE patient_id = ?", [patient_id]
    ).fetchall()
    assessments = patient_assessments(con, patient_id)
    courses = patient_courses(timeline, patient_id)
    if not attributes and assessments.empty and courses.empty:
        return None
    names = ("age_band", "sex", "primary_condition", "site", "clinician_id")
    latest = courses["course_id"].iloc[-1] if len(courses) else None
    return PatientRecord(
        patient_id=patient_id,
        attributes=dict(zip(names, attributes[0])) if attributes else {},
        courses=courses,
        sessions=patient_sessions(timeline, patient_id),
        assessments=assessments,
        reference_lines=reference_lines(timeline, patient_id),
        item9_alerts=item9_alerts(assessments),
        badges=status_badges(timeline, latest) if latest else [],
        latest_course_id=latest,
    )


# ---------------------------------------------------------------------------
# The caseload
