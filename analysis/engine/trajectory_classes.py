"""Trajectory classes among completers (docs/DEFINITIONS.md §5a): how responses unfold over the induction series."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.stats import wilson_interval
from analysis.engine.timeline import Timeline
from analysis.settings import Settings

CLASSES = ("early", "late", "unsustained", "non_responder")
CLASS_LABELS = {
    "early": "Early responder (by session 2, still responding at the end)",
    "late": "Late responder (from session 3, responding at the end)",
    "unsustained": "Unsustained (responded, but not at the end)",
    "non_responder": "Non-responder (never met the response rule)",
}
SHORT_LABELS = {"early": "Early", "late": "Late", "unsustained": "Unsustained", "non_responder": "Non-responders"}
# "Early" means a first response after at most this many sessions (§5a).
EARLY_MAX_T = 2


def _responds(instrument: str, baseline: pd.Series, score: pd.Series, settings: Settings) -> np.ndarray:
    """The instrument's response rule in force (a fraction of baseline or a drop in points), on Series too."""
    return settings.rules_for(instrument).responds(baseline, score)


def completer_classes(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """One row per completer: first timepoint (1..L) whose score meets the response rule, and its class."""
    sub = cohort(timeline, filters)
    outcomes = sub.course_outcomes
    completers = outcomes.loc[
        (outcomes["instrument"] == instrument) & outcomes["completer"].astype(bool),
        ["course_id", "baseline", "end_of_induction", "completer_response"],
    ]
    scores = sub.induction_scores
    scores = scores.loc[(scores["instrument"] == instrument) & (scores["timepoint"] >= 1)].merge(
        completers[["course_id", "baseline"]], on="course_id"
    )
    # induction_scores already holds only t = 1..L, with t = L inside the end-of-induction window.
    responding = _responds(instrument, scores["baseline"].astype(float), scores["total"].astype(float), sub.settings)
    first = scores.loc[responding].groupby("course_id")["timepoint"].min().rename("first_response_t")
    frame = completers.merge(first, on="course_id", how="left")
    responding_at_end = frame["completer_response"].astype(bool)
    frame["trajectory_class"] = np.select(
        [frame["first_response_t"].isna(), ~responding_at_end, frame["first_response_t"] <= EARLY_MAX_T],
        ["non_responder", "unsustained", "early"],
        default="late",
    )
    return frame.sort_values("course_id").reset_index(drop=True)


def class_counts(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> dict:
    """The §5a counts (they add up to the completers' n) and the answer to "is it worth continuing?".

    no_response_by_t2_n: completers with no score meeting the response rule after 1 or 2 sessions;
    later_response_n: those of them responding at the end of induction (the late responders).
    """
    frame = completer_classes(timeline, instrument, filters)
    counts = {name: int((frame["trajectory_class"] == name).sum()) for name in CLASSES}
    not_yet = int((frame["first_response_t"].isna() | (frame["first_response_t"] > EARLY_MAX_T)).sum())
    later = counts["late"]
    low, high = wilson_interval(later, not_yet)
    return {
        "n": int(len(frame)),
        **counts,
        "no_response_by_t2_n": not_yet,
        "later_response_n": later,
        "later_response_rate": later / not_yet if not_yet else None,
        "later_response_ci": [low, high],
    }


def class_trajectories(timeline: Timeline, instrument: str, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Mean score at each timepoint (0..L) per class, with n: what each pattern looks like."""
    sub = cohort(timeline, filters)
    classes = completer_classes(sub, instrument)
    scores = sub.induction_scores.loc[sub.induction_scores["instrument"] == instrument].merge(
        classes[["course_id", "trajectory_class"]], on="course_id"
    )
    grouped = scores.groupby(["trajectory_class", "timepoint"])["total"].agg(["size", "mean"]).reset_index()
    grouped = grouped.rename(columns={"timepoint": "t", "size": "n"})
    grouped["n"] = grouped["n"].astype(int)
    return grouped.sort_values(["trajectory_class", "t"]).reset_index(drop=True)
