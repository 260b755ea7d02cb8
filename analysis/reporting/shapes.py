"""The report's shape (OUTCOMES.md §7) as typed structures: what every key holds, for readers and type checkers.

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
    """One questionnaire's outcomes for the report's courses (OUTCOMES.md §6)."""

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
    left_out: LeftOut
    trajectory: list[TrajectoryPoint]


class Report(TypedDict):
    """The quarterly report (OUTCOMES.md §7), with the documented extra keys."""

    quarter: str
    suppressed: bool
    courses_started: Count
    patients_started: Count
    induction_completed: Count
    in_progress: Count
    boosters_delivered: Count
    median_booster_interval_days: float | None
    item9_positive_baseline: Count
    instruments: dict[str, InstrumentBlock]  # one block per instrument the store records
    cohort: str
    data_last_date: str | None
    settings: dict
