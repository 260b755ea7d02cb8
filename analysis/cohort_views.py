"""What the leadership pages show: overview counts, quarter trends, induction and booster views, published yardsticks.

Every function takes the Timeline and a CohortFilter and returns plain numbers or a frame; the
rates the CLI report also shows (response, remission, reliable improvement) come from
analysis.report.instrument_summary, never from here.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from analysis.charts import MODALITY_LABELS
from analysis.instruments import INSTRUMENTS
from analysis.outcomes import CohortFilter, Timeline, cohort, durability
from analysis.report import boosters_in_period, instrument_summary, trajectory
from analysis.stats import at_risk_at, kaplan_meier, km_median, km_median_ci, t_interval, wilson_interval

# A patient is "active" with a session in the last 90 days of the data.
ACTIVE_WINDOW_DAYS = 90
# Individual lines stay readable up to about this many courses.
SPAGHETTI_MAX_COURSES = 60
DAYS_PER_MONTH = 365.25 / 12

# The filter dimensions a chart can be split by: (course column, CohortFilter field, words).
SPLITS: dict[str, tuple[str, str, str]] = {
    "modality": ("modality", "modalities", "Modality"),
    "site": ("site", "sites", "Site"),
    "clinician": ("clinician_id", "clinicians", "Clinician"),
    "condition": ("primary_condition", "conditions", "Primary condition"),
    "age_band": ("age_band", "age_bands", "Age band"),
    "sex": ("sex", "sexes", "Sex"),
}
# Days since the previous session, grouped for the "does it wear off" chart.
WEAR_OFF_BINS: tuple[tuple[int, int], ...] = ((1, 14), (15, 21), (22, 28), (29, 42), (43, 56), (57, 90))

# Published real-world results a clinic's rates can be read beside (PHQ-9 unless stated).
# Numbers are from each paper's abstract; the `basis` says whom the rate counts.
PUBLISHED_RESULTS: tuple[dict, ...] = (
    {
        "study": "McInnes 2022",
        "modality": "Ketamine IV",
        "setting": "178 US community practices, 2016-2020 (retrospective)",
        "n": 537,
        "basis": "patients who completed a 4-8 infusion induction with sufficient data; PHQ-9 14-31 days after induction",
        "response_rate": 0.536,
        "remission_rate": 0.289,
        "median_baseline": None,
        "median_endpoint": None,
        "citation": ("McInnes LA, Qian JJ, Gargeya RS, DeBattista C, Heifets BD. A retrospective analysis of ketamine "
                     "intravenous therapy for depression in real-world care settings. J Affect Disord. "
                     "2022;301:486-495."),
        "doi": "10.1016/j.jad.2021.12.097",
    },
    {
        "study": "Oliver 2022",
        "modality": "Ketamine IV",
        "setting": "multisite private infusion clinic, treatment-resistant depression, 2017-2021 (chart review)",
        "n": 424,
        "basis": "within 6 weeks of the first of 6 infusions (longitudinal model); 72% / 38% after 10 infusions",
        "response_rate": 0.50,
        "remission_rate": 0.20,
        "median_baseline": None,
        "median_endpoint": None,
        "citation": ("Oliver PA, Snyder AD, Feinn R, Malov S, McDiarmid G, Arias AJ. Clinical effectiveness of "
                     "intravenous racemic ketamine infusions in a large community sample of patients with "
                     "treatment-resistant depression, suicidal ideation, and generalized anxiety symptoms: a "
                     "retrospective chart review. J Clin Psychiatry. 2022;83(6):21m14336."),
        "doi": "10.4088/JCP.21m14336",
    },
    {
        "study": "Hull 2022",
        "modality": "Ketamine sublingual (at home)",
        "setting": "telehealth provider, 4 sessions over 4 weeks (prospective, open label)",
        "n": 1247,
        "basis": "patients who completed treatment with sufficient data",
        "response_rate": 0.628,
        "remission_rate": 0.326,
        "median_baseline": None,
        "median_endpoint": None,
        "citation": ("Hull TD, Malgaroli M, Gazzaley A, et al. At-home, sublingual ketamine telehealth is a safe and "
                     "effective treatment for moderate to severe anxiety and depression: findings from a large, "
                     "prospective, open-label effectiveness trial. J Affect Disord. 2022;314:59-67."),
        "doi": "10.1016/j.jad.2022.07.004",
    },
    {
        "study": "Ahuja (Brendle) 2022",
        "modality": "Ketamine IM",
        "setting": "US outpatient psychiatric clinic network, 2018-2021 (retrospective cohort)",
        "n": 452,
        "basis": "median PHQ-9 at baseline and at the last treatment (median 4 treatments); no response rate reported",
        "response_rate": None,
        "remission_rate": None,
        "median_baseline": 16.0,
        "median_endpoint": 10.0,
        "citation": ("Ahuja S, Brendle M, Smart L, Moore C, Thielking P, Robison R. Real-world depression, anxiety "
                     "and safety outcomes of intramuscular ketamine treatment: a retrospective descriptive cohort "
                     "study. BMC Psychiatry. 2022;22:634."),
        "doi": "10.1186/s12888-022-04268-5",
    },
)


def _proportion(successes: int, n: int) -> dict:
    low, high = wilson_interval(successes, n)
    return {"successes": int(successes), "n": int(n), "rate": successes / n if n else None,
            "ci": [low, high]}


def _date(value) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


# ---------------------------------------------------------------------------
# Overview


def active_patients(timeline: Timeline, filters: CohortFilter | None = None,
                    window_days: int = ACTIVE_WINDOW_DAYS) -> dict:
    """Patients with a session in the last `window_days` days of the data (its latest date included).

    A medical director sees how many people the clinic is treating now; the filters narrow it to
    the patients whose course is in the cohort.
    """
    sub = cohort(timeline, filters)
    last = _date(timeline.data_last_date)
    if last is None:
        return {"n": 0, "window_start": None, "window_end": None, "window_days": window_days}
    since = last - dt.timedelta(days=window_days)
    recent = sub.sessions.loc[pd.to_datetime(sub.sessions["session_date"]) >= pd.Timestamp(since)]
    return {"n": int(recent["patient_id"].nunique()), "window_start": since, "window_end": last,
            "window_days": window_days}


def courses_started(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """How many courses started in the cohort, by how many distinct patients, and how many are in progress."""
    courses = cohort(timeline, filters).courses
    return {"courses": int(len(courses)), "patients": int(courses["patient_id"].nunique()),
            "in_progress": int(courses["in_progress"].astype(bool).sum())}


def induction_completion(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """Share of finished courses (not in progress) that reached their full induction series."""
    courses = cohort(timeline, filters).courses
    finished = courses.loc[~courses["in_progress"].astype(bool)]
    result = _proportion(int(finished["completed_induction"].astype(bool).sum()), len(finished))
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
    result = _proportion(positive, int(known.sum()))
    result["baseline_n"] = int(len(phq9))
    result["unknown"] = int((~known).sum())
    return result


def _item9_resolution_rows(sub: Timeline) -> pd.DataFrame:
    """Per course positive on item 9 at baseline and not in progress: resolved, unknown, followed up."""
    rows = sub.course_outcomes
    positive = rows.loc[(rows["instrument"] == "PHQ-9")
                        & (rows["baseline_item9"].astype("Float64").fillna(0) >= 1), ["course_id"]]
    finished = sub.courses.loc[~sub.courses["in_progress"].astype(bool), ["course_id", "start_quarter"]]
    denominator = positive.merge(finished, on="course_id")
    assessments = sub.assessments
    endpoints = (assessments.loc[(assessments["instrument"] == "PHQ-9") & assessments["in_induction_window"]
                                 & (assessments["timepoint"] >= 1)
                                 & assessments["course_id"].isin(denominator["course_id"]),
                                 ["course_id", "assessment_date", "item9"]]
                 .sort_values("assessment_date").groupby("course_id", as_index=False).last())
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
    result = _proportion(int(rows["resolved"].sum()), len(rows))
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
    return {"n": int(len(itt)), "median_baseline": float(itt["baseline"].astype(float).median()),
            "median_endpoint": float(itt["itt_endpoint"].astype(float).median())}


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
    counts["completion"] = (finished.groupby("start_quarter")["completed_induction"].sum(),
                            finished.groupby("start_quarter").size())
    outcomes = sub.course_outcomes.merge(courses[["course_id", "start_quarter"]], on="course_id")
    itt = outcomes.loc[outcomes["in_itt"].astype(bool)]
    for code in INSTRUMENTS:
        rows = itt.loc[itt["instrument"] == code].groupby("start_quarter")
        for measure, flag in (("response", "itt_response"), ("remission", "itt_remission"),
                              ("reliable improvement", "reliable_improvement")):
            counts[f"{code} {measure}"] = (rows[flag].sum(), rows.size())
    item9 = _item9_resolution_rows(sub).groupby("start_quarter")
    counts["item9 resolved"] = (item9["resolved"].sum(), item9.size())
    result = []
    for quarter in quarters:
        for measure, label in TREND_MEASURES.items():
            successes, totals = counts[measure]
            value = _proportion(int(successes.get(quarter, 0)), int(totals.get(quarter, 0)))
            result.append({"quarter": quarter, "courses_started": int(started.get(quarter, 0)), "measure": measure,
                           "label": label, "successes": value["successes"], "n": value["n"], "rate": value["rate"],
                           "ci_lower": value["ci"][0], "ci_upper": value["ci"][1]})
    return pd.DataFrame(result, columns=columns)


def quarterly_table(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend as a table a director can read: one row per start quarter, 'rate (successes/n)' cells."""
    if trend.empty:
        return pd.DataFrame(columns=["Start quarter", "Courses started", *TREND_MEASURES.values()])

    def cell(row) -> str:
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
        ("itt", "This clinic: ITT", "eligible courses (baseline PHQ-9 10+) not in progress; latest induction score, "
                                   "baseline carried forward if none"),
        ("completers", "This clinic: completers", "eligible courses that finished induction, end-of-induction score"),
    ):
        numbers = summary[group]
        rows.append({
            "source": words, "kind": "This clinic", "n": numbers["n"],
            "response_rate": numbers["response_rate"], "response_ci_lower": numbers["response_ci"][0],
            "response_ci_upper": numbers["response_ci"][1],
            "remission_rate": numbers["remission_rate"], "remission_ci_lower": numbers["remission_ci"][0],
            "remission_ci_upper": numbers["remission_ci"][1],
            "median_baseline": medians["median_baseline"] if group == "itt" else None,
            "median_endpoint": medians["median_endpoint"] if group == "itt" else None,
            "basis": basis, "citation": "", "doi": "",
        })
    for study in PUBLISHED_RESULTS:
        rows.append({
            "source": f"{study['study']}, {study['modality']}", "kind": "Published", "n": study["n"],
            "response_rate": study["response_rate"], "response_ci_lower": None, "response_ci_upper": None,
            "remission_rate": study["remission_rate"], "remission_ci_lower": None, "remission_ci_upper": None,
            "median_baseline": study["median_baseline"], "median_endpoint": study["median_endpoint"],
            "basis": study["basis"], "citation": study["citation"], "doi": study["doi"],
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Induction response


def split_groups(timeline: Timeline, split: str | None, filters: CohortFilter | None = None) -> list[tuple[str, str]]:
    """(value, label) for each group of a split among the cohort's courses; [] when no split."""
    if not split or split not in SPLITS:
        return []
    column = SPLITS[split][0]
    values = cohort(timeline, filters).courses[column].dropna().unique()
    if split == "modality":
        ordered = [m for m in MODALITY_LABELS if m in set(values)]
        return [(m, MODALITY_LABELS[m]) for m in ordered]
    return [(str(v), str(v)) for v in sorted(values)]


def _partition(sub: Timeline, column: str) -> dict[str, Timeline]:
    """One timeline per value of a course column, every per-course frame split in a single pass."""
    group_of_course = sub.courses.set_index("course_id")[column]
    pieces: dict[str, dict[str, pd.DataFrame]] = {}
    frames = {item.name: getattr(sub, item.name) for item in dataclasses.fields(sub)}
    frames = {name: frame for name, frame in frames.items()
              if isinstance(frame, pd.DataFrame) and "course_id" in frame.columns}
    for name, frame in frames.items():
        groups = frame["course_id"].map(group_of_course)
        for value, piece in frame.groupby(groups.to_numpy(), sort=False):
            pieces.setdefault(str(value), {})[name] = piece
    return {value: dataclasses.replace(sub, **{name: parts.get(name, frame.iloc[:0]) for name, frame in frames.items()})
            for value, parts in pieces.items()}


def trajectory_by_group(timeline: Timeline, instrument: str, filters: CohortFilter | None = None,
                        split: str | None = None) -> pd.DataFrame:
    """Mean score with 95% CI and n at each timepoint 0..8 (report.trajectory), one series per group.

    Columns: group, group_label, t, n, mean, ci_lower, ci_upper. Without a split there is one group,
    'All courses'. Courses with the split's value not recorded are in no group.
    """
    sub = cohort(timeline, filters)
    columns = ["group", "group_label", "t", "n", "mean", "ci_lower", "ci_upper"]
    groups = split_groups(sub, split)
    if not groups:
        return trajectory(sub, instrument).assign(group="all", group_label="All courses")[columns]
    parts = _partition(sub, SPLITS[split][0])
    frames = [trajectory(parts[value], instrument).assign(group=value, group_label=label) for value, label in groups]
    return pd.concat(frames, ignore_index=True)[columns]


def _scores_by_timepoint(sub: Timeline, instrument: str) -> pd.DataFrame:
    """The latest score at each timepoint of each course's induction window."""
    points = sub.assessments.loc[(sub.assessments["instrument"] == instrument) & sub.assessments["in_induction_window"]]
    return (points.sort_values("assessment_date")
            .groupby(["course_id", "timepoint"], as_index=False).last()[["course_id", "timepoint", "total",
                                                                            "assessment_date"]])


def response_by_session(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """% responding and % remitting after each session number, among eligible courses with a score then.

    Responding: score at t <= response fraction x baseline; remitting: score at t <= remission maximum.
    Columns: t, n, responding_n, responding_rate, responding_ci_lower, responding_ci_upper, and the
    same for remitting; t = 1..8, n = 0 where nobody was measured.
    """
    settings = timeline.settings
    sub = cohort(timeline, filters)
    outcomes = sub.course_outcomes
    eligible = outcomes.loc[(outcomes["instrument"] == instrument) & outcomes["eligible"].astype(bool),
                            ["course_id", "baseline"]]
    scores = _scores_by_timepoint(sub, instrument).merge(eligible, on="course_id")
    rows = []
    for t in range(1, 9):
        at_t = scores.loc[scores["timepoint"] == t]
        total, baseline = at_t["total"].astype(float), at_t["baseline"].astype(float)
        responding = _proportion(int((total <= settings.response_fraction * baseline).sum()), len(at_t))
        remitting = _proportion(int((total <= settings.remission_max).sum()), len(at_t))
        rows.append({"t": t, "n": int(len(at_t)),
                     "responding_n": responding["successes"], "responding_rate": responding["rate"],
                     "responding_ci_lower": responding["ci"][0], "responding_ci_upper": responding["ci"][1],
                     "remitting_n": remitting["successes"], "remitting_rate": remitting["rate"],
                     "remitting_ci_lower": remitting["ci"][0], "remitting_ci_upper": remitting["ci"][1]})
    return pd.DataFrame(rows)


def severity_mix(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Severity bands at baseline and at the end of induction, for the same courses (those with both scores).

    Columns: when ('Baseline' / 'End of induction'), band, band_order (0 = mildest), courses, n, share.
    """
    spec = INSTRUMENTS[instrument]
    rows = cohort(timeline, filters).course_outcomes
    paired = rows.loc[(rows["instrument"] == instrument) & rows["baseline"].notna() & rows["end_of_induction"].notna()]
    n = int(len(paired))
    result = []
    for when, column in (("Baseline", "baseline"), ("End of induction", "end_of_induction")):
        scores = paired[column].astype(float)
        for order, band in enumerate(spec.bands):
            count = int(((scores >= band.low) & (scores <= band.high)).sum())
            result.append({"when": when, "band": band.label, "band_order": order, "courses": count, "n": n,
                           "share": count / n if n else None})
    return pd.DataFrame(result)


def sessions_reached(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """How many finished courses (not in progress) reached each session of their induction series.

    One row per induction length (6 for ketamine, 8 for esketamine by default) and session number:
    induction_length, label, session_number, courses (that started), reached, share.
    """
    courses = cohort(timeline, filters).courses
    finished = courses.loc[~courses["in_progress"].astype(bool)]
    rows = []
    for length in sorted(finished["induction_length"].unique()):
        group = finished.loc[finished["induction_length"] == length]
        modalities = [MODALITY_LABELS.get(m, m) for m in MODALITY_LABELS if m in set(group["modality"])]
        label = f"{int(length)}-session induction: {', '.join(modalities)}"
        for k in range(1, int(length) + 1):
            reached = int((group["n_sessions"] >= k).sum())
            rows.append({"induction_length": int(length), "label": label, "session_number": k,
                         "courses": int(len(group)), "reached": reached, "share": reached / len(group)})
    return pd.DataFrame(rows, columns=["induction_length", "label", "session_number", "courses", "reached", "share"])


def individual_trajectories(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Each course's score at each timepoint of its induction window (for the individual-lines chart).

    Columns: course_id, patient_id, modality, t, total. Only worth drawing for small cohorts
    (SPAGHETTI_MAX_COURSES).
    """
    sub = cohort(timeline, filters)
    scores = _scores_by_timepoint(sub, instrument).merge(
        sub.courses[["course_id", "patient_id", "modality"]], on="course_id")
    scores = scores.rename(columns={"timepoint": "t"})
    return scores[["course_id", "patient_id", "modality", "t", "total"]].sort_values(["course_id", "t"]).reset_index(
        drop=True)


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
    with_booster = _proportion(int(completed.isin(set(boosters["course_id"])).sum()), len(completed))
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
    rows = rows.assign(pre_booster_score=rows["pre_booster_score"].astype(float),
                       days_since_previous=rows["days_since_previous"].astype(float))
    return rows[["course_id", "patient_id", "session_date", "session_number", "days_since_previous",
                 "pre_booster_score", "modality"]].reset_index(drop=True)


def wear_off_by_interval(timeline: Timeline, instrument: str, filters: CohortFilter | None = None,
                         bins: tuple[tuple[int, int], ...] = WEAR_OFF_BINS) -> pd.DataFrame:
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
        rows.append({"bin": f"{low}–{high} days", "low_days": low, "high_days": high,
                     "mean_days": float(in_bin["days_since_previous"].mean()) if len(in_bin) else (low + high) / 2,
                     "n": int(len(scores)),
                     "mean": float(scores.mean()) if len(scores) else None,
                     "ci_lower": ci_lower, "ci_upper": ci_upper})
    return pd.DataFrame(rows)


def durability_view(timeline: Timeline, instrument: str = "PHQ-9", filters: CohortFilter | None = None,
                    step_days: int = 30) -> dict:
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
    open_until = (pd.to_datetime(completed["last_session_date"])
                  + pd.Timedelta(days=timeline.settings.course_gap_days)).clip(upper=last)
    days = (open_until - pd.to_datetime(completed["session_l_date"])).dt.days.clip(lower=0)
    months = float(days.sum()) / DAYS_PER_MONTH
    boosters = int(sub.sessions["is_booster"].astype(bool).sum())
    low, high = _poisson_interval(boosters, months)
    return {"boosters": boosters, "courses": int(len(completed)), "months": months,
            "rate": boosters / months if months > 0 else None, "ci": [low, high]}


def booster_cadence(timeline: Timeline, filters: CohortFilter | None = None, top: int = 15) -> pd.DataFrame:
    """Every session of the `top` patients with the most boosters, for a timeline strip.

    Columns: patient_id, patient_label ('P00012 · 9 boosters'), course_id, session_date, session_number,
    kind ('Induction' / 'Booster'), interval_days, boosters (the patient's total), rank (1 = most).
    """
    columns = ["patient_id", "patient_label", "course_id", "session_date", "session_number", "kind",
               "interval_days", "boosters", "rank"]
    sessions = cohort(timeline, filters).sessions
    counts = sessions.loc[sessions["is_booster"].astype(bool)].groupby("patient_id").size()
    if counts.empty:
        return pd.DataFrame(columns=columns)
    leaders = (counts.rename("boosters").reset_index()
               .sort_values(["boosters", "patient_id"], ascending=[False, True]).head(top))
    leaders["rank"] = np.arange(1, len(leaders) + 1)
    leaders["patient_label"] = leaders["patient_id"] + " · " + leaders["boosters"].astype(str) + " boosters"
    strip = sessions.merge(leaders, on="patient_id")
    strip["kind"] = np.where(strip["is_booster"].astype(bool), "Booster", "Induction")
    return strip[columns].sort_values(["rank", "session_date"]).reset_index(drop=True)
