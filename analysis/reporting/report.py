"""The quarterly cohort report (docs/DEFINITIONS.md) and the summaries every page shows."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.frames import is_in
from analysis.engine.long_term import long_term
from analysis.engine.stats import t_interval, wilson_interval
from analysis.engine.timeline import TRAJECTORY_TIMEPOINTS, Timeline
from analysis.engine.trajectory_classes import class_counts
from analysis.reporting.shapes import Group, InstrumentBlock, Report
from analysis.reporting.suppression import suppress_report

QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")
HALF_PATTERN = re.compile(r"^(\d{4})H([12])$")
YEAR_PATTERN = re.compile(r"^(\d{4})$")


class ReportError(ValueError):
    """A report request that cannot be answered; one sentence for the user."""


def parse_quarter(text: str) -> str:
    """A report period: '2026q1' -> '2026Q1', '2026h1' -> '2026H1', '2026', or 'all'; else a ReportError.

    Half-years and years exist for small clinics, whose quarters are mostly suppressed.
    """
    cleaned = str(text).strip().upper()
    if cleaned == "ALL":
        return "all"
    if not (QUARTER_PATTERN.match(cleaned) or HALF_PATTERN.match(cleaned) or YEAR_PATTERN.match(cleaned)):
        raise ReportError(
            f"{text!r} is not a period; write a quarter like 2026Q1 (Q1 = Jan-Mar), a half-year like 2026H1, "
            "a year like 2026, or all."
        )
    return cleaned


parse_period = parse_quarter


def period_quarters(period: str) -> list[str] | None:
    """The calendar quarters a period covers ('2026H2' -> ['2026Q3', '2026Q4']); None for 'all'."""
    if period == "all":
        return None
    year = period[:4]
    if HALF_PATTERN.match(period):
        first = 1 if period[-1] == "1" else 3
        return [f"{year}Q{first}", f"{year}Q{first + 1}"]
    if YEAR_PATTERN.match(period):
        return [f"{year}Q{n}" for n in range(1, 5)]
    return [period]


def period_kind(period: str) -> str:
    """'quarter', 'half-year', 'year' or 'all'."""
    if period == "all":
        return "all"
    if HALF_PATTERN.match(period):
        return "half-year"
    if YEAR_PATTERN.match(period):
        return "year"
    return "quarter"


def quarter_of(dates: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(dates)
    return stamps.dt.year.astype(str) + "Q" + stamps.dt.quarter.astype(str)


def previous_quarters(period: str, count: int) -> list[str]:
    """The `count` periods of the same kind before `period` (quarters, half-years or years), oldest first."""
    year = int(period[:4])
    if YEAR_PATTERN.match(period):
        return [str(year - k) for k in range(count, 0, -1)]
    per_year = 2 if HALF_PATTERN.match(period) else 4
    letter = "H" if per_year == 2 else "Q"
    number = int(period[-1])
    result = []
    for _ in range(count):
        number -= 1
        if number == 0:
            year, number = year - 1, per_year
        result.append(f"{year}{letter}{number}")
    return result[::-1]


previous_periods = previous_quarters


def quarter_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter, half-year or year."""
    quarters = period_quarters(period)
    first, last = quarters[0], quarters[-1]
    start = dt.date(int(first[:4]), 3 * int(first[-1]) - 2, 1)
    last_start = pd.Timestamp(dt.date(int(last[:4]), 3 * int(last[-1]) - 2, 1))
    end = (last_start + pd.offsets.QuarterEnd(0)).date()
    return start, end


def period_label(period: str) -> str:
    """'2026Q1 (Jan–Mar 2026)', '2026H1 (Jan–Jun 2026)', '2026 (Jan–Dec 2026)'; 'All quarters'."""
    if period == "all":
        return "All quarters"
    start, end = quarter_bounds(period)
    return f"{period} ({start:%b}–{end:%b %Y})"


def refuse_future(quarter: str, data_last_date: dt.date | None) -> None:
    """A quarter that starts after the data's last date has no courses yet: a report of zeros would mislead."""
    if quarter == "all" or data_last_date is None or pd.isna(data_last_date):
        return
    last = pd.Timestamp(data_last_date).date()
    if quarter_bounds(quarter)[0] > last:
        latest = f"{last.year}Q{(last.month - 1) // 3 + 1}"
        raise ReportError(
            f"{quarter} starts after the data's last date ({last:%d %b %Y}); pick {latest} or an earlier quarter, "
            "or import newer data first."
        )


def _number(value: float | None) -> float | None:
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
    """Mean total at each timepoint t = 0..8 over every course with an assessment at t (docs/DEFINITIONS.md).

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
    finished = is_in(rows["course_id"], sub.courses.loc[sub.courses["completed_induction"].astype(bool), "course_id"])
    return {
        "baseline_n": int(rows["has_baseline"].sum()),
        "eligible_n": int(eligible.sum()),
        "itt": _group_summary(itt, "itt_response", "itt_remission"),
        "completers": _group_summary(completers, "completer_response", "completer_remission"),
        # Why the completers are few: eligible courses that finished induction but have no score after it.
        "completed_without_end_score": int((eligible & finished & rows["end_of_induction"].isna()).sum()),
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
        "trajectory_classes": class_counts(sub, instrument),
    }


def boosters_in_period(timeline: Timeline, filters: CohortFilter | None = None, quarter: str = "all") -> pd.DataFrame:
    """Booster sessions (session number > L) delivered in the quarter, by booster date, any course."""
    sub = cohort(timeline, filters)
    boosters = sub.sessions.loc[sub.sessions["is_booster"].astype(bool)]
    if quarter != "all":
        boosters = boosters.loc[quarter_of(boosters["session_date"]).isin(period_quarters(quarter))]
    return boosters


def courses_in_quarter(timeline: Timeline, quarter: str, filters: CohortFilter | None = None) -> Timeline:
    """The cohort of courses whose first session falls in the period ('all': every course)."""
    sub = cohort(timeline, filters)
    if quarter == "all":
        return sub
    return sub.subset(sub.courses.loc[is_in(sub.courses["start_quarter"], period_quarters(quarter)), "course_id"])


def quarterly_report(
    timeline: Timeline, quarter: str = "all", filters: CohortFilter | None = None, suppress: bool = True
) -> Report:
    """The docs/DEFINITIONS.md report as the §7 JSON object (plus documented extra keys)."""
    quarter = parse_quarter(quarter)
    refuse_future(quarter, timeline.data_last_date)
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
        # Total-only baselines (or item 9 left blank) are unknown, never counted as "no thoughts of self-harm".
        "item9_unknown_baseline": int((phq9["has_baseline"].astype(bool) & phq9["baseline_item9"].isna()).sum()),
        "instruments": {code: instrument_summary(started, code) for code in timeline.instruments},
        "long_term": long_term(timeline, period_quarters(quarter), filters),
        "cohort": (filters or CohortFilter()).describe(),
        "data_last_date": None if timeline.data_last_date is None else str(timeline.data_last_date)[:10],
        "settings": timeline.settings.as_dict(),
    }
    return suppress_report(report, timeline.settings.suppression_max) if suppress else report
