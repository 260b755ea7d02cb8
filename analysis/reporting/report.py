"""The quarterly cohort report (OUTCOMES.md §6-7) and the summaries every page shows."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.stats import t_interval, wilson_interval
from analysis.engine.timeline import TRAJECTORY_TIMEPOINTS, Timeline
from analysis.reporting.shapes import Group, InstrumentBlock, Report
from analysis.reporting.suppression import suppress_report

QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")


class ReportError(ValueError):
    """A report request that cannot be answered; one sentence for the user."""


def parse_quarter(text: str) -> str:
    """'2026q1' -> '2026Q1'; 'all' stays; anything else is a ReportError."""
    cleaned = str(text).strip().upper()
    if cleaned == "ALL":
        return "all"
    if not QUARTER_PATTERN.match(cleaned):
        raise ReportError(f"{text!r} is not a quarter; write it like 2026Q1 (Q1 = Jan-Mar), or all.")
    return cleaned


def quarter_of(dates: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(dates)
    return stamps.dt.year.astype(str) + "Q" + stamps.dt.quarter.astype(str)


def previous_quarters(quarter: str, count: int) -> list[str]:
    """The `count` quarters before `quarter`, oldest first."""
    year, number = int(quarter[:4]), int(quarter[-1])
    result = []
    for _ in range(count):
        number -= 1
        if number == 0:
            year, number = year - 1, 4
        result.append(f"{year}Q{number}")
    return result[::-1]


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    year, number = int(quarter[:4]), int(quarter[-1])
    start = dt.date(year, 3 * number - 2, 1)
    end = (pd.Timestamp(start) + pd.offsets.QuarterEnd(0)).date()
    return start, end


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value)


def _mean(values: pd.Series) -> float | None:
    """The mean, summed in sorted order so that row order never changes a digit."""
    values = np.sort(values.dropna().astype(float).to_numpy())
    return float(values.mean()) if len(values) else None


def _proportion(successes: int, n: int) -> dict:
    low, high = wilson_interval(successes, n)
    return {"n": successes, "rate": successes / n if n else None, "ci": [low, high]}


def _group_summary(rows: pd.DataFrame, response: str, remission: str) -> Group:
    n = int(len(rows))
    responders = int(rows[response].sum())
    remitters = int(rows[remission].sum())
    response_stats, remission_stats = _proportion(responders, n), _proportion(remitters, n)
    return {
        "n": n,
        "response_n": responders,
        "response_rate": response_stats["rate"],
        "response_ci": response_stats["ci"],
        "remission_n": remitters,
        "remission_rate": remission_stats["rate"],
        "remission_ci": remission_stats["ci"],
    }


def trajectory(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Mean total at each timepoint t = 0..8 over every course with an assessment at t (OUTCOMES.md §4).

    Includes eligible or not, in progress or not; a course counts at t only while t <= its induction
    length, the latest assessment at t, and at t = L only inside the 28-day window.
    """
    sub = cohort(timeline, filters)
    latest = sub.induction_scores.loc[sub.induction_scores["instrument"] == instrument]
    rows = []
    for t in TRAJECTORY_TIMEPOINTS:
        totals = latest.loc[latest["timepoint"] == t, "total"].astype(float)
        low, high = t_interval(totals)
        rows.append({"t": t, "n": int(len(totals)), "mean": _mean(totals), "ci_lower": low, "ci_upper": high})
    return pd.DataFrame(rows)


def instrument_summary(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> InstrumentBlock:
    """Baseline, eligibility, ITT and completer outcomes and mean change for one instrument."""
    sub = cohort(timeline, filters)
    rows = sub.course_outcomes.loc[sub.course_outcomes["instrument"] == instrument]
    itt = rows.loc[rows["in_itt"].astype(bool)]
    completers = rows.loc[rows["completer"].astype(bool)]
    change = itt["itt_endpoint"].astype(float) - itt["baseline"].astype(float)
    change_low, change_high = t_interval(change)
    baseline_low, baseline_high = t_interval(itt["baseline"].astype(float))
    endpoint_low, endpoint_high = t_interval(itt["itt_endpoint"].astype(float))
    improvement = _proportion(int(itt["reliable_improvement"].sum()), len(itt))
    eligible = rows["eligible"].astype(bool)
    return {
        "baseline_n": int(rows["has_baseline"].sum()),
        "eligible_n": int(eligible.sum()),
        "itt": _group_summary(itt, "itt_response", "itt_remission"),
        "completers": _group_summary(completers, "completer_response", "completer_remission"),
        "reliable_improvement_n": improvement["n"],
        "reliable_improvement_rate": improvement["rate"],
        "reliable_improvement_ci": improvement["ci"],
        "reliable_deterioration_n": int(itt["reliable_deterioration"].sum()),
        "mean_baseline": _mean(itt["baseline"]),
        "mean_baseline_ci": [baseline_low, baseline_high],
        "mean_endpoint": _mean(itt["itt_endpoint"]),
        "mean_endpoint_ci": [endpoint_low, endpoint_high],
        "mean_change": _mean(change),
        "mean_change_ci": [change_low, change_high],
        "baseline_carried_forward_n": int((itt["baseline_carried_forward"].astype(bool)).sum()),
        "left_out": {
            "no_baseline": int((~rows["has_baseline"].astype(bool)).sum()),
            "baseline_below_threshold": int((rows["has_baseline"].astype(bool) & ~eligible).sum()),
            "in_progress": int((eligible & ~rows["in_itt"].astype(bool)).sum()),
        },
        "trajectory": [
            {"t": int(r.t), "n": int(r.n), "mean": _number(r.mean), "ci": [_number(r.ci_lower), _number(r.ci_upper)]}
            for r in trajectory(sub, instrument).itertuples()
        ],
    }


def boosters_in_period(timeline: Timeline, filters: CohortFilter | None = None, quarter: str = "all") -> pd.DataFrame:
    """Booster sessions (session number > L) delivered in the quarter, by booster date, any course."""
    sub = cohort(timeline, filters)
    boosters = sub.sessions.loc[sub.sessions["is_booster"].astype(bool)]
    if quarter != "all":
        boosters = boosters.loc[quarter_of(boosters["session_date"]) == quarter]
    return boosters


def courses_in_quarter(timeline: Timeline, quarter: str, filters: CohortFilter | None = None) -> Timeline:
    """The cohort of courses whose first session falls in the quarter ('all': every course)."""
    sub = cohort(timeline, filters)
    if quarter == "all":
        return sub
    return sub.subset(sub.courses.loc[sub.courses["start_quarter"] == quarter, "course_id"])


def quarterly_report(
    timeline: Timeline, quarter: str = "all", filters: CohortFilter | None = None, suppress: bool = True
) -> Report:
    """The OUTCOMES.md §6 report as the §7 JSON object (plus documented extra keys)."""
    quarter = parse_quarter(quarter)
    started = courses_in_quarter(timeline, quarter, filters)
    courses = started.courses
    boosters = boosters_in_period(timeline, filters, quarter)
    intervals = boosters["interval_days"].dropna().astype(float)
    phq9 = started.course_outcomes.loc[started.course_outcomes["instrument"] == "PHQ-9"]
    report: Report = {
        "quarter": quarter,
        "suppressed": False,
        "courses_started": int(len(courses)),
        "patients_started": int(courses["patient_id"].nunique()),
        "induction_completed": int(courses["completed_induction"].astype(bool).sum()),
        "in_progress": int(courses["in_progress"].astype(bool).sum()),
        "boosters_delivered": int(len(boosters)),
        "median_booster_interval_days": float(intervals.median()) if len(intervals) else None,
        "item9_positive_baseline": int((phq9["baseline_item9"].fillna(0).astype(float) >= 1).sum()),
        "instruments": {code: instrument_summary(started, code) for code in timeline.instruments},
        "cohort": (filters or CohortFilter()).describe(),
        "data_last_date": None if timeline.data_last_date is None else str(timeline.data_last_date)[:10],
        "settings": timeline.settings.as_dict(),
    }
    return suppress_report(report, timeline.settings.suppression_max) if suppress else report
