"""Confidence intervals and the Kaplan-Meier estimator used by every report."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

# scipy.special rather than scipy.stats: the same quantiles, a much faster import for the CLI.
from scipy.special import ndtri, stdtrit


def _z(confidence: float) -> float:
    return float(ndtri(1 - (1 - confidence) / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion; (None, None) when n is 0."""
    if n <= 0:
        return (None, None)
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half_width), min(1.0, centre + half_width))


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Student-t interval for a mean; (None, None) with fewer than two values."""
    # Sorted first: the same values in any row order give the same last digit on every surface.
    data = np.sort(np.asarray(values, dtype=float))
    n = len(data)
    if n < 2:
        return (None, None)
    mean = float(data.mean())
    standard_error = float(data.std(ddof=1)) / math.sqrt(n)
    half_width = float(stdtrit(n - 1, 1 - (1 - confidence) / 2)) * standard_error
    return (mean - half_width, mean + half_width)


def kaplan_meier(durations: Sequence[float], events: Sequence[bool], confidence: float = 0.95) -> pd.DataFrame:
    """Product-limit survival with the exponential Greenwood (log(-log)) interval.

    One row per distinct time, after a row at time 0 with survival 1; the same estimate and
    interval as lifelines' KaplanMeierFitter defaults.
    """
    columns = ["time", "at_risk", "events", "censored", "survival", "ci_lower", "ci_upper"]
    times = np.asarray(durations, dtype=float)
    observed = np.asarray(events, dtype=bool)
    if len(times) == 0:
        return pd.DataFrame(columns=columns)
    table = (
        pd.DataFrame({"time": times, "event": observed.astype(int), "censor": (~observed).astype(int)})
        .groupby("time", sort=True)
        .agg(events=("event", "sum"), censored=("censor", "sum"))
        .reset_index()
    )
    leaving = table["events"] + table["censored"]
    table["at_risk"] = len(times) - leaving.cumsum().shift(fill_value=0)
    at_risk, deaths = table["at_risk"].to_numpy(float), table["events"].to_numpy(float)
    table["survival"] = np.cumprod(1 - deaths / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(np.where(deaths > 0, deaths / (at_risk * (at_risk - deaths)), 0.0))
        log_survival = np.log(table["survival"].to_numpy())
        z = _z(confidence)
        spread = z * np.sqrt(greenwood) / log_survival
        lower = np.exp(-np.exp(np.log(-log_survival) - spread))
        upper = np.exp(-np.exp(np.log(-log_survival) + spread))
    # Where survival is still 1 the interval is [1, 1]; where it reaches 0 it is [0, 0].
    survival = table["survival"].to_numpy()
    table["ci_lower"] = np.where(survival >= 1, 1.0, np.where(survival <= 0, 0.0, lower))
    table["ci_upper"] = np.where(survival >= 1, 1.0, np.where(survival <= 0, 0.0, upper))
    start = pd.DataFrame(
        [
            {
                "time": 0.0,
                "at_risk": len(times),
                "events": 0,
                "censored": 0,
                "survival": 1.0,
                "ci_lower": 1.0,
                "ci_upper": 1.0,
            }
        ]
    )
    if table["time"].iloc[0] == 0:
        return table[columns].reset_index(drop=True)
    return pd.concat([start, table[columns]], ignore_index=True)


def _first_time_at_or_below(km: pd.DataFrame, column: str, level: float = 0.5) -> float | None:
    reached = km.loc[km[column] <= level, "time"]
    return float(reached.iloc[0]) if len(reached) else None


def km_median(km: pd.DataFrame) -> float | None:
    """The first time survival falls to 0.5 or below; None while it never does."""
    return _first_time_at_or_below(km, "survival") if len(km) else None


def km_median_ci(km: pd.DataFrame) -> tuple[float | None, float | None]:
    """Interval for the median: where the lower and upper survival bands cross 0.5."""
    if not len(km):
        return (None, None)
    return (_first_time_at_or_below(km, "ci_lower"), _first_time_at_or_below(km, "ci_upper"))


def at_risk_at(km: pd.DataFrame, times: Sequence[float]) -> list[int]:
    """Numbers still at risk just before each time (what a table under a survival curve shows)."""
    if not len(km):
        return [0 for _ in times]
    durations = km.loc[km["time"] > 0]
    result = []
    for moment in times:
        later = durations.loc[durations["time"] >= moment, "at_risk"]
        result.append(int(later.iloc[0]) if len(later) else 0)
    return result
