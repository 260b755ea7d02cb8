"""What the boosters and durability page shows: intervals, pre-booster scores, wear-off, durability, cadence."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.durability import durability
from analysis.engine.stats import at_risk_at, kaplan_meier, km_median, km_median_ci, t_interval
from analysis.engine.timeline import Timeline
from analysis.reporting.report import boosters_in_period
from analysis.views.common import proportion
from analysis.views.overview import WEAR_OFF_BINS

DAYS_PER_MONTH = 365.25 / 12
# Days since the previous session, grouped for the "does it wear off" chart.


# ---------------------------------------------------------------------------
# Boosters and durability


def booster_summary(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """Boosters delivered (any date), the courses and patients who had them, and the interval between sessions.

    `median_interval_days` is the quarterly report's median_booster_interval_days for 'all'.
    `with_booster` is the share of courses that completed induction and went on to at least one booster.
    """
    boosters = boosters_in_period(timeline, filters, "all")
    intervals = boosters["interval_days"].dropna().astype(float)
    courses = cohort(timeline, filters).courses
    completed = courses.loc[courses["completed_induction"].astype(bool), "course_id"]
    with_booster = proportion(int(completed.isin(set(boosters["course_id"])).sum()), len(completed))
    return {
        "boosters": int(len(boosters)),
        "courses": int(boosters["course_id"].nunique()),
        "patients": int(boosters["patient_id"].nunique()),
        "median_interval_days": float(intervals.median()) if len(intervals) else None,
        "interval_q1_days": float(intervals.quantile(0.25)) if len(intervals) else None,
        "interval_q3_days": float(intervals.quantile(0.75)) if len(intervals) else None,
        "with_booster": with_booster,
    }


def booster_intervals(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Every booster with the days since the previous session (report.boosters_in_period, all dates)."""
    boosters = boosters_in_period(timeline, filters, "all")
    return boosters[["course_id", "patient_id", "session_date", "session_number", "interval_days", "modality"]]


def pre_booster_scores(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Each booster that has a pre-booster score, with the days since the session before it.

    Columns: course_id, patient_id, session_date, session_number, days_since_previous, pre_booster_score, modality.
    """
    boosters = cohort(timeline, filters).boosters
    rows = boosters.loc[(boosters["instrument"] == instrument) & boosters["pre_booster_score"].notna()]
    rows = rows.rename(columns={"interval_days": "days_since_previous"})
    rows = rows.assign(
        pre_booster_score=rows["pre_booster_score"].astype(float),
        days_since_previous=rows["days_since_previous"].astype(float),
    )
    return rows[
        [
            "course_id",
            "patient_id",
            "session_date",
            "session_number",
            "days_since_previous",
            "pre_booster_score",
            "modality",
        ]
    ].reset_index(drop=True)


def wear_off_by_interval(
    timeline: Timeline,
    instrument: str,
    filters: CohortFilter | None = None,
    bins: tuple[tuple[int, int], ...] = WEAR_OFF_BINS,
) -> pd.DataFrame:
    """Mean pre-booster score (95% t interval, n) by days since the previous session: does the effect wear off?

    Columns: bin, low_days, high_days, mean_days (the mean gap of the boosters in the bin, where the
    chart draws the point), n, mean, ci_lower, ci_upper.
    """
    points = pre_booster_scores(timeline, instrument, filters)
    rows = []
    for low, high in bins:
        in_bin = points.loc[(points["days_since_previous"] >= low) & (points["days_since_previous"] <= high)]
        scores = in_bin["pre_booster_score"]
        ci_lower, ci_upper = t_interval(scores)
        rows.append(
            {
                "bin": f"{low}–{high} days",
                "low_days": low,
                "high_days": high,
                "mean_days": float(in_bin["days_since_previous"].mean()) if len(in_bin) else (low + high) / 2,
                "n": int(len(scores)),
                "mean": float(scores.mean()) if len(scores) else None,
                "ci_lower": ci_lower,
                "ci_upper": ci_upper,
            }
        )
    return pd.DataFrame(rows)


def durability_view(
    timeline: Timeline, instrument: str = "PHQ-9", filters: CohortFilter | None = None, step_days: int = 30
) -> dict:
    """Kaplan-Meier durability of response (outcomes.durability + stats.kaplan_meier) with its median and 95% CI.

    Returns responders, lost (events), censored, the curve frame (time, at_risk, events, censored,
    survival, ci_lower, ci_upper), median_days, median_ci, and at_risk: a frame of day and courses
    still at risk every `step_days` days (the row printed under the chart).
    """
    courses = durability(timeline, instrument, filters)
    curve = kaplan_meier(courses["days"].astype(float), courses["lost_response"].astype(bool))
    horizon = float(courses["days"].max()) if len(courses) else 0.0
    ticks = list(range(0, int(horizon) + 1, step_days)) if len(courses) else []
    return {
        "responders": int(len(courses)),
        "lost": int(courses["lost_response"].astype(bool).sum()) if len(courses) else 0,
        "censored": int((~courses["lost_response"].astype(bool)).sum()) if len(courses) else 0,
        "curve": curve,
        "median_days": km_median(curve),
        "median_ci": list(km_median_ci(curve)),
        "at_risk": pd.DataFrame({"day": ticks, "at_risk": at_risk_at(curve, ticks)}),
        "courses": courses,
    }


def _poisson_interval(events: int, exposure: float, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Exact (Garwood) interval for a rate of events per unit of exposure."""
    if exposure <= 0:
        return (None, None)
    alpha = 1 - confidence
    low = scipy_stats.chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
    high = scipy_stats.chi2.ppf(1 - alpha / 2, 2 * (events + 1)) / 2
    return (float(low) / exposure, float(high) / exposure)


def booster_rate(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """Boosters per patient-month of maintenance, with an exact 95% CI.

    A course that completed induction is open for boosters from its last induction session until
    `course_gap_days` after its last session (a later session would start a new course) or the end of
    the data, whichever comes first. Returns boosters, courses, months, rate (per month), ci.
    """
    sub = cohort(timeline, filters)
    completed = sub.courses.loc[sub.courses["completed_induction"].astype(bool)]
    last = pd.Timestamp(timeline.data_last_date) if timeline.data_last_date is not None else None
    if completed.empty or last is None:
        return {"boosters": 0, "courses": 0, "months": 0.0, "rate": None, "ci": [None, None]}
    open_until = (
        pd.to_datetime(completed["last_session_date"]) + pd.Timedelta(days=timeline.settings.course_gap_days)
    ).clip(upper=last)
    days = (open_until - pd.to_datetime(completed["session_l_date"])).dt.days.clip(lower=0)
    months = float(days.sum()) / DAYS_PER_MONTH
    boosters = int(sub.sessions["is_booster"].astype(bool).sum())
    low, high = _poisson_interval(boosters, months)
    return {
        "boosters": boosters,
        "courses": int(len(completed)),
        "months": months,
        "rate": boosters / months if months > 0 else None,
        "ci": [low, high],
    }


def booster_cadence(timeline: Timeline, filters: CohortFilter | None = None, top: int = 15) -> pd.DataFrame:
    """Every session of the `top` patients with the most boosters, for a timeline strip.

    Columns: patient_id, patient_label ('P00012 · 9 boosters'), course_id, session_date, session_number,
    kind ('Induction' / 'Booster'), interval_days, boosters (the patient's total), rank (1 = most).
    """
    columns = [
        "patient_id",
        "patient_label",
        "course_id",
        "session_date",
        "session_number",
        "kind",
        "interval_days",
        "boosters",
        "rank",
    ]
    sessions = cohort(timeline, filters).sessions
    counts = sessions.loc[sessions["is_booster"].astype(bool)].groupby("patient_id").size()
    if counts.empty:
        return pd.DataFrame(columns=columns)
    leaders = (
        counts.rename("boosters")
        .reset_index()
        .sort_values(["boosters", "patient_id"], ascending=[False, True])
        .head(top)
    )
    leaders["rank"] = np.arange(1, len(leaders) + 1)
    leaders["patient_label"] = leaders["patient_id"] + " · " + leaders["boosters"].astype(str) + " boosters"
    strip = sessions.merge(leaders, on="patient_id")
    strip["kind"] = np.where(strip["is_booster"].astype(bool), "Booster", "Induction")
    return strip[columns].sort_values(["rank", "session_date"]).reset_index(drop=True)
