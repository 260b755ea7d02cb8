"""The report's shape (docs/DEFINITIONS.md) as typed structures: what every key holds, for readers and type checkers.

Counts are `int`, or the string "<11" when small-cell suppression withholds them; rates are fractions
in [0, 1] or None; intervals are [low, high] pairs of floats or None.
"""

from __future__ import annotations

from typing import TypedDict

Count = int | str  # a withheld count is "<11"
Rate = float | None
Interval = list[float | None]


class Group(TypedDict):
    """Intention to treat or completers: n, responders and remitters with their rates and Wilson intervals."""

    n: Count
    response_n: Count
    response_rate: Rate
    response_ci: Interval
    remission_n: Count
    remission_rate: Rate
    remission_ci: Interval


class TrajectoryPoint(TypedDict):
    t: int
    n: Count
    mean: float | None
    ci: Interval


class LeftOut(TypedDict):
    no_baseline: Count
    baseline_below_threshold: Count
    in_progress: Count


class InstrumentBlock(TypedDict):
    """One questionnaire's outcomes for the report's courses (docs/DEFINITIONS.md)."""

    baseline_n: Count
    eligible_n: Count
    itt: Group
    completers: Group
    reliable_improvement_n: Count
    reliable_improvement_rate: Rate
    reliable_improvement_ci: Interval
    reliable_deterioration_n: Count
    mean_baseline: float | None
    mean_baseline_ci: Interval
    mean_endpoint: float | None
    mean_endpoint_ci: Interval
    mean_change: float | None
    mean_change_ci: Interval
    baseline_carried_forward_n: Count
    completed_without_end_score: Count  # eligible, finished induction, no end-of-induction score
    left_out: LeftOut
    trajectory: list[TrajectoryPoint]
    # §5a: n, early, late, unsustained, non_responder, no_response_by_t2_n, later_response_n (Counts),
    # later_response_rate and later_response_ci
    trajectory_classes: dict


class Report(TypedDict):
    """The quarterly report (docs/DEFINITIONS.md), with the documented extra keys."""

    quarter: str
    suppressed: bool
    courses_started: Count
    patients_started: Count
    induction_completed: Count
    in_progress: Count
    boosters_delivered: Count
    median_booster_interval_days: float | None
    item9_positive_baseline: Count
    item9_unknown_baseline: Count  # baseline PHQ-9 with item 9 unknown (total only or blank), never shown as 0
    instruments: dict[str, InstrumentBlock]  # one block per instrument the store records
    cohort: str
    data_last_date: str | None
    settings: dict
    # §5b: index_n and, per measure (remission_12m, response_12m, remission_6m), n, the numerator,
    # rate, ci, not_yet and no_score_n
    long_term: dict
