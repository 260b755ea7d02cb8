"""What the induction response page shows: trajectories by group, response by session, severity mix."""

from __future__ import annotations

import dataclasses

import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.timeline import Timeline
from analysis.instruments import INSTRUMENTS
from analysis.reporting.report import trajectory
from analysis.views.common import SPLITS, proportion
from analysis.vocabulary import MODALITY_LABELS

SPAGHETTI_MAX_COURSES = 60


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


def partition(sub: Timeline, column: str) -> dict[str, Timeline]:
    """One timeline per value of a course column, every per-course frame split in a single pass."""
    group_of_course = sub.courses.set_index("course_id")[column]
    pieces: dict[str, dict[str, pd.DataFrame]] = {}
    frames = {item.name: getattr(sub, item.name) for item in dataclasses.fields(sub)}
    frames = {
        name: frame
        for name, frame in frames.items()
        if isinstance(frame, pd.DataFrame) and "course_id" in frame.columns
    }
    for name, frame in frames.items():
        groups = frame["course_id"].map(group_of_course)
        for value, piece in frame.groupby(groups.to_numpy(), sort=False):
            pieces.setdefault(str(value), {})[name] = piece
    return {
        value: dataclasses.replace(sub, **{name: parts.get(name, frame.iloc[:0]) for name, frame in frames.items()})
        for value, parts in pieces.items()
    }


def trajectory_by_group(
    timeline: Timeline, instrument: str, filters: CohortFilter | None = None, split: str | None = None
) -> pd.DataFrame:
    """Mean score with 95% CI and n at each timepoint 0..8 (report.trajectory), one series per group.

    Columns: group, group_label, t, n, mean, ci_lower, ci_upper. Without a split there is one group,
    'All courses'. Courses with the split's value not recorded are in no group.
    """
    sub = cohort(timeline, filters)
    columns = ["group", "group_label", "t", "n", "mean", "ci_lower", "ci_upper"]
    groups = split_groups(sub, split)
    if not groups:
        return trajectory(sub, instrument).assign(group="all", group_label="All courses")[columns]
    parts = partition(sub, SPLITS[split][0])
    frames = [trajectory(parts[value], instrument).assign(group=value, group_label=label) for value, label in groups]
    return pd.concat(frames, ignore_index=True)[columns]


def _scores_by_timepoint(sub: Timeline, instrument: str) -> pd.DataFrame:
    """The latest score at each timepoint of each course's induction window."""
    points = sub.assessments.loc[(sub.assessments["instrument"] == instrument) & sub.assessments["in_induction_window"]]
    return (
        points.sort_values("assessment_date")
        .groupby(["course_id", "timepoint"], as_index=False)
        .last()[["course_id", "timepoint", "total", "assessment_date"]]
    )


def response_by_session(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """% responding and % remitting after each session number, among eligible courses with a score then.

    Responding: score at t <= response fraction x baseline; remitting: score at t <= remission maximum.
    Columns: t, n, responding_n, responding_rate, responding_ci_lower, responding_ci_upper, and the
    same for remitting; t = 1..8, n = 0 where nobody was measured.
    """
    settings = timeline.settings
    sub = cohort(timeline, filters)
    outcomes = sub.course_outcomes
    eligible = outcomes.loc[
        (outcomes["instrument"] == instrument) & outcomes["eligible"].astype(bool), ["course_id", "baseline"]
    ]
    scores = _scores_by_timepoint(sub, instrument).merge(eligible, on="course_id")
    rows = []
    for t in range(1, 9):
        at_t = scores.loc[scores["timepoint"] == t]
        total, baseline = at_t["total"].astype(float), at_t["baseline"].astype(float)
        rules = settings.rules_for(instrument)
        responding = proportion(int(rules.responds(baseline.to_numpy(), total.to_numpy()).sum()), len(at_t))
        remitting = proportion(int(rules.remits(total.to_numpy()).sum()), len(at_t))
        rows.append(
            {
                "t": t,
                "n": int(len(at_t)),
                "responding_n": responding["successes"],
                "responding_rate": responding["rate"],
                "responding_ci_lower": responding["ci"][0],
                "responding_ci_upper": responding["ci"][1],
                "remitting_n": remitting["successes"],
                "remitting_rate": remitting["rate"],
                "remitting_ci_lower": remitting["ci"][0],
                "remitting_ci_upper": remitting["ci"][1],
            }
        )
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
            result.append(
                {
                    "when": when,
                    "band": band.label,
                    "band_order": order,
                    "courses": count,
                    "n": n,
                    "share": count / n if n else None,
                }
            )
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
            rows.append(
                {
                    "induction_length": int(length),
                    "label": label,
                    "session_number": k,
                    "courses": int(len(group)),
                    "reached": reached,
                    "share": reached / len(group),
                }
            )
    return pd.DataFrame(rows, columns=["induction_length", "label", "session_number", "courses", "reached", "share"])


def individual_trajectories(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Each course's score at each timepoint of its induction window (for the individual-lines chart).

    Columns: course_id, patient_id, modality, t, total. Only worth drawing for small cohorts
    (SPAGHETTI_MAX_COURSES).
    """
    sub = cohort(timeline, filters)
    scores = _scores_by_timepoint(sub, instrument).merge(
        sub.courses[["course_id", "patient_id", "modality"]], on="course_id"
    )
    scores = scores.rename(columns={"timepoint": "t"})
    return (
        scores[["course_id", "patient_id", "modality", "t", "total"]]
        .sort_values(["course_id", "t"])
        .reset_index(drop=True)
    )
