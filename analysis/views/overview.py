"""What the leadership pages show: overview counts, quarter trends, induction and booster views, published yardsticks.

Every function takes the Timeline and a CohortFilter and returns plain numbers or a frame; the
rates the CLI report also shows (response, remission, reliable improvement) come from
analysis.reporting.report.instrument_summary, never from here.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.timeline import Timeline
from analysis.instruments import INSTRUMENTS
from analysis.reporting.published import PUBLISHED_RESULTS
from analysis.reporting.report import instrument_summary
from analysis.views.common import as_date, proportion

# A patient is "active" with a session in the last 90 days of the data.
ACTIVE_WINDOW_DAYS = 90
# Individual lines stay readable up to about this many courses.
WEAR_OFF_BINS: tuple[tuple[int, int], ...] = ((1, 14), (15, 21), (22, 28), (29, 42), (43, 56), (57, 90))

# Published real-world results: defined in reporting/published.py (the PDF and the written summary cite them).


# ---------------------------------------------------------------------------
# Overview


def active_patients(
    timeline: Timeline, filters: CohortFilter | None = None, window_days: int = ACTIVE_WINDOW_DAYS
) -> dict:
    """Patients with a session in the last `window_days` days of the data (its latest date included).

    A medical director sees how many people the clinic is treating now; the filters narrow it to
    the patients whose course is in the cohort.
    """
    sub = cohort(timeline, filters)
    last = as_date(timeline.data_last_date)
    if last is None:
        return {"n": 0, "window_start": None, "window_end": None, "window_days": window_days}
    since = last - dt.timedelta(days=window_days)
    recent = sub.sessions.loc[pd.to_datetime(sub.sessions["session_date"]) >= pd.Timestamp(since)]
    return {
        "n": int(recent["patient_id"].nunique()),
        "window_start": since,
        "window_end": last,
        "window_days": window_days,
    }


def courses_started(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """How many courses started in the cohort, by how many distinct patients, and how many are in progress."""
    courses = cohort(timeline, filters).courses
    return {
        "courses": int(len(courses)),
        "patients": int(courses["patient_id"].nunique()),
        "in_progress": int(courses["in_progress"].astype(bool).sum()),
    }


def induction_completion(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """Share of finished courses (not in progress) that reached their full induction series."""
    courses = cohort(timeline, filters).courses
    finished = courses.loc[~courses["in_progress"].astype(bool)]
    result = proportion(int(finished["completed_induction"].astype(bool).sum()), len(finished))
    result["in_progress"] = int(courses["in_progress"].astype(bool).sum())
    return result


def item9_at_baseline(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """Courses whose baseline PHQ-9 had item 9 (thoughts of self-harm) at 1 or more.

    `successes` is the same count as the quarterly report's item9_positive_baseline; the rate is over
    courses whose baseline PHQ-9 item 9 is known (total-only questionnaires leave it unknown).
    """
    rows = cohort(timeline, filters).course_outcomes
    phq9 = rows.loc[(rows["instrument"] == "PHQ-9") & rows["has_baseline"].astype(bool)]
    known = phq9["baseline_item9"].notna()
    positive = int((phq9["baseline_item9"].astype("Float64").fillna(0) >= 1).sum())
    result = proportion(positive, int(known.sum()))
    result["baseline_n"] = int(len(phq9))
    result["unknown"] = int((~known).sum())
    return result


def _item9_resolution_rows(sub: Timeline) -> pd.DataFrame:
    """Per course positive on item 9 at baseline and not in progress: resolved, unknown, followed up."""
    rows = sub.course_outcomes
    positive = rows.loc[
        (rows["instrument"] == "PHQ-9") & (rows["baseline_item9"].astype("Float64").fillna(0) >= 1), ["course_id"]
    ]
    finished = sub.courses.loc[~sub.courses["in_progress"].astype(bool), ["course_id", "start_quarter"]]
    denominator = positive.merge(finished, on="course_id")
    assessments = sub.assessments
    endpoints = (
        assessments.loc[
            (assessments["instrument"] == "PHQ-9")
            & assessments["in_induction_window"]
            & (assessments["timepoint"] >= 1)
            & assessments["course_id"].isin(denominator["course_id"]),
            ["course_id", "assessment_date", "item9"],
        ]
        .sort_values("assessment_date")
        .groupby("course_id", as_index=False)
        .last()
    )
    merged = denominator.merge(endpoints, on="course_id", how="left")
    item9 = merged["item9"].astype("Float64")
    merged["followed_up"] = merged["assessment_date"].notna()
    merged["resolved"] = (item9 == 0).fillna(False).astype(bool)
    merged["unknown"] = merged["followed_up"] & item9.isna().to_numpy()
    return merged[["course_id", "start_quarter", "followed_up", "resolved", "unknown"]]


def item9_resolution(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """Among courses positive on item 9 at baseline and not in progress: item 9 back to 0 at the endpoint.

    The endpoint is the ITT endpoint questionnaire: the latest PHQ-9 after at least one session and
    inside the induction window. With none, the baseline is carried forward (not resolved); an
    endpoint recorded as a total only leaves item 9 unknown (not resolved, counted in `unknown`).
    """
    sub = cohort(timeline, filters)
    rows = _item9_resolution_rows(sub)
    positive = item9_at_baseline(sub)["successes"]
    result = proportion(int(rows["resolved"].sum()), len(rows))
    result["unknown"] = int(rows["unknown"].sum())
    result["no_follow_up"] = int((~rows["followed_up"]).sum())
    result["in_progress_left_out"] = int(positive - len(rows))
    return result


def median_scores(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> dict:
    """Median baseline and median ITT endpoint over the ITT courses (the yardstick Ahuja 2022 reports)."""
    rows = cohort(timeline, filters).course_outcomes
    itt = rows.loc[(rows["instrument"] == instrument) & rows["in_itt"].astype(bool)]
    if itt.empty:
        return {"n": 0, "median_baseline": None, "median_endpoint": None}
    return {
        "n": int(len(itt)),
        "median_baseline": float(itt["baseline"].astype(float).median()),
        "median_endpoint": float(itt["itt_endpoint"].astype(float).median()),
    }


TREND_MEASURES: dict[str, str] = {
    "completion": "Induction completed",
    "PHQ-9 response": "PHQ-9 response (ITT)",
    "PHQ-9 remission": "PHQ-9 remission (ITT)",
    "PHQ-9 reliable improvement": "PHQ-9 reliable improvement (ITT)",
    "GAD-7 response": "GAD-7 response (ITT)",
    "GAD-7 remission": "GAD-7 remission (ITT)",
    "GAD-7 reliable improvement": "GAD-7 reliable improvement (ITT)",
    "item9 resolved": "PHQ-9 item 9 resolved",
}


# The trend chart's choices: words on the button -> the measures drawn together.
TREND_VIEWS: dict[str, list[str]] = {
    "PHQ-9 response & remission": ["PHQ-9 response", "PHQ-9 remission"],
    "GAD-7 response & remission": ["GAD-7 response", "GAD-7 remission"],
    "Reliable improvement": ["PHQ-9 reliable improvement", "GAD-7 reliable improvement"],
    "Induction completion": ["completion"],
    "Item 9 resolved": ["item9 resolved"],
}


def quarterly_trend(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Every overview rate for the courses that started in each quarter, oldest first.

    One row per quarter and measure: quarter, courses_started, measure, label, successes, n, rate,
    ci_lower, ci_upper. The rates count the engine's per-course flags (in_itt, itt_response,
    itt_remission, reliable_improvement, completed_induction) by start quarter in one pass, so they
    equal report.instrument_summary and induction_completion run on each quarter (a test pins this).
    """
    columns = ["quarter", "courses_started", "measure", "label", "successes", "n", "rate", "ci_lower", "ci_upper"]
    sub = cohort(timeline, filters)
    courses = sub.courses
    if courses.empty:
        return pd.DataFrame(columns=columns)
    quarters = sorted(courses["start_quarter"].dropna().unique())
    started = courses.groupby("start_quarter").size()
    counts: dict[str, tuple[pd.Series, pd.Series]] = {}
    finished = courses.loc[~courses["in_progress"].astype(bool)]
    counts["completion"] = (
        finished.groupby("start_quarter")["completed_induction"].sum(),
        finished.groupby("start_quarter").size(),
    )
    outcomes = sub.course_outcomes.merge(courses[["course_id", "start_quarter"]], on="course_id")
    itt = outcomes.loc[outcomes["in_itt"].astype(bool)]
    for code in INSTRUMENTS:
        rows = itt.loc[itt["instrument"] == code].groupby("start_quarter")
        for measure, flag in (
            ("response", "itt_response"),
            ("remission", "itt_remission"),
            ("reliable improvement", "reliable_improvement"),
        ):
            counts[f"{code} {measure}"] = (rows[flag].sum(), rows.size())
    item9 = _item9_resolution_rows(sub).groupby("start_quarter")
    counts["item9 resolved"] = (item9["resolved"].sum(), item9.size())
    result = []
    for quarter in quarters:
        for measure, label in TREND_MEASURES.items():
            successes, totals = counts[measure]
            value = proportion(int(successes.get(quarter, 0)), int(totals.get(quarter, 0)))
            result.append(
                {
                    "quarter": quarter,
                    "courses_started": int(started.get(quarter, 0)),
                    "measure": measure,
                    "label": label,
                    "successes": value["successes"],
                    "n": value["n"],
                    "rate": value["rate"],
                    "ci_lower": value["ci"][0],
                    "ci_upper": value["ci"][1],
                }
            )
    return pd.DataFrame(result, columns=columns)


def quarterly_table(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend as a table a director can read: one row per start quarter, 'rate (successes/n)' cells."""
    if trend.empty:
        return pd.DataFrame(columns=["Start quarter", "Courses started", *TREND_MEASURES.values()])

    def cell(row: pd.Series) -> str:
        if not row["n"]:
            return "—"
        return f"{row['rate'] * 100:.0f}% ({row['successes']}/{row['n']})"

    cells = trend.assign(cell=trend.apply(cell, axis=1))
    table = cells.pivot(index="quarter", columns="label", values="cell")[list(TREND_MEASURES.values())]
    started = trend.groupby("quarter")["courses_started"].first()
    table.insert(0, "Courses started", started)
    return table.rename_axis("Start quarter").reset_index().rename_axis(None, axis=1)


def published_results() -> pd.DataFrame:
    """The published real-world results as a frame (see PUBLISHED_RESULTS for sources)."""
    return pd.DataFrame(list(PUBLISHED_RESULTS))


def literature_comparison(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """The clinic's PHQ-9 response and remission (ITT and completers, with n and 95% CI) beside published ones.

    One row per source: source, kind ('This clinic' or 'Published'), n, response_rate, response_ci_lower,
    response_ci_upper, remission_rate, remission_ci_lower, remission_ci_upper, median_baseline,
    median_endpoint, basis, citation, doi. Published rows carry no interval (the papers' own are not
    uniformly reported).
    """
    summary = instrument_summary(timeline, "PHQ-9", filters)
    medians = median_scores(timeline, "PHQ-9", filters)
    rows = []
    for group, words, basis in (
        (
            "itt",
            "This clinic: ITT",
            "eligible courses (baseline PHQ-9 10+) not in progress; latest induction score, "
            "baseline carried forward if none",
        ),
        ("completers", "This clinic: completers", "eligible courses that finished induction, end-of-induction score"),
    ):
        numbers = summary[group]
        rows.append(
            {
                "source": words,
                "kind": "This clinic",
                "n": numbers["n"],
                "response_rate": numbers["response_rate"],
                "response_ci_lower": numbers["response_ci"][0],
                "response_ci_upper": numbers["response_ci"][1],
                "remission_rate": numbers["remission_rate"],
                "remission_ci_lower": numbers["remission_ci"][0],
                "remission_ci_upper": numbers["remission_ci"][1],
                "median_baseline": medians["median_baseline"] if group == "itt" else None,
                "median_endpoint": medians["median_endpoint"] if group == "itt" else None,
                "basis": basis,
                "citation": "",
                "doi": "",
            }
        )
    for study in PUBLISHED_RESULTS:
        rows.append(
            {
                "source": f"{study['study']}, {study['modality']}",
                "kind": "Published",
                "n": study["n"],
                "response_rate": study["response_rate"],
                "response_ci_lower": None,
                "response_ci_upper": None,
                "remission_rate": study["remission_rate"],
                "remission_ci_lower": None,
                "remission_ci_upper": None,
                "median_baseline": study["median_baseline"],
                "median_endpoint": study["median_endpoint"],
                "basis": study["basis"],
                "citation": study["citation"],
                "doi": study["doi"],
            }
        )
    return pd.DataFrame(rows)
