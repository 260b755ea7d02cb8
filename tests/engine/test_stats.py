"""The engine's intervals and Kaplan-Meier against values computed elsewhere, at full precision.

Sources: statsmodels `proportion_confint(method="wilson")` for Wilson intervals,
scipy `stats.t.interval` for t intervals, lifelines `KaplanMeierFitter` (its
default exponential Greenwood, log(-log), interval) for survival curves and medians,
and one curve worked by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from statsmodels.stats.proportion import proportion_confint

from analysis.engine import stats

FULL_PRECISION = dict(rel_tol=1e-12, abs_tol=1e-15)


def same_number(engine_value, reference_value, **tolerance) -> bool:
    """None and NaN mean "no value"; infinite reference medians are "no value" too."""
    tolerance = tolerance or FULL_PRECISION
    engine_missing = engine_value is None or (isinstance(engine_value, float) and math.isnan(engine_value))
    reference_missing = reference_value is None or not math.isfinite(float(reference_value))
    if engine_missing or reference_missing:
        return engine_missing and reference_missing
    return math.isclose(float(engine_value), float(reference_value), **tolerance)


# ---------------------------------------------------------------------------
# Wilson score interval — source: statsmodels.stats.proportion.proportion_confint(method="wilson")

WILSON_CASES = [
    (0, 1),
    (1, 1),
    (0, 5),
    (5, 5),
    (1, 10),
    (5, 10),
    (3, 11),
    (11, 11),
    (0, 11),
    (17, 40),
    (39, 40),
    (250, 1000),
    (1, 20000),
    (19999, 20000),
]


@pytest.mark.parametrize("successes, n", WILSON_CASES)
def test_wilson_interval_matches_statsmodels(successes, n):
    """A response rate's 95% interval is the Wilson score interval statsmodels gives."""
    expected_low, expected_high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    low, high = stats.wilson_interval(successes, n)
    assert same_number(low, expected_low), (low, expected_low)
    assert same_number(high, expected_high), (high, expected_high)


@pytest.mark.parametrize("successes, n", [(0, 7), (3, 7), (7, 7), (42, 99)])
def test_wilson_interval_other_confidence_matches_statsmodels(successes, n):
    """A clinic asking for 90% intervals gets statsmodels' Wilson interval at alpha 0.10."""
    expected_low, expected_high = proportion_confint(successes, n, alpha=0.10, method="wilson")
    low, high = stats.wilson_interval(successes, n, confidence=0.90)
    assert same_number(low, expected_low)
    assert same_number(high, expected_high)


def test_wilson_interval_worked_by_hand():
    """5 responders of 10: p = 0.5, z = 1.959964, z^2/n = 0.3841459, centre 0.5,
    half-width = z*sqrt(0.025 + 0.0096036)/1.3841459 = 0.3645933/1.3841459 = 0.2634070
    -> (0.2365930, 0.7634070)."""
    low, high = stats.wilson_interval(5, 10)
    assert math.isclose(low, 0.2365930, abs_tol=5e-7)
    assert math.isclose(high, 0.7634070, abs_tol=5e-7)


def test_wilson_interval_without_courses_is_empty():
    """No eligible courses: there is no rate and no interval."""
    assert tuple(stats.wilson_interval(0, 0)) == (None, None)


# ---------------------------------------------------------------------------
# t interval for a mean — source: scipy.stats.t.interval(confidence, n-1, loc=mean, scale=sem)

T_CASES = [
    [-11.0, -4.0],
    [-11.0, -4.0, 0.0, -7.0, -13.0],
    [3.0, 3.0, 3.0],
    list(np.random.default_rng(7).integers(-20, 8, size=60).astype(float)),
]


@pytest.mark.parametrize("values", T_CASES)
def test_t_interval_matches_scipy(values):
    """The mean change's 95% interval is the t interval scipy gives."""
    values = [float(v) for v in values]
    sem = scipy.stats.sem(values)
    if sem == 0:
        expected = (float(np.mean(values)), float(np.mean(values)))
    else:
        expected = scipy.stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sem)
    low, high = stats.t_interval(values)
    assert same_number(low, expected[0], rel_tol=1e-12, abs_tol=1e-12)
    assert same_number(high, expected[1], rel_tol=1e-12, abs_tol=1e-12)


def test_t_interval_worked_by_hand():
    """Changes -11 and -4: mean -7.5, sd 4.9497475, sem 3.5, t(0.975, 1) = 12.7062047
    -> -7.5 +/- 44.4717165 = (-51.9717165, 36.9717165)."""
    low, high = stats.t_interval([-11.0, -4.0])
    assert math.isclose(low, -51.9717165, abs_tol=5e-7)
    assert math.isclose(high, 36.9717165, abs_tol=5e-7)


def test_t_interval_at_90_percent_matches_scipy():
    """A 90% interval uses t(0.95, n-1); source: scipy.stats.t.interval(0.90, ...)."""
    values = [-11.0, -4.0, 0.0, -7.0, -13.0]
    expected = scipy.stats.t.interval(0.90, 4, loc=np.mean(values), scale=scipy.stats.sem(values))
    low, high = stats.t_interval(values, confidence=0.90)
    assert same_number(low, expected[0])
    assert same_number(high, expected[1])


@pytest.mark.parametrize("values", [[], [-6.0]])
def test_t_interval_needs_two_values(values):
    """One ITT course has a mean change but no interval."""
    assert tuple(stats.t_interval(values)) == (None, None)


# ---------------------------------------------------------------------------
# Kaplan-Meier — source: lifelines.KaplanMeierFitter (defaults), and a hand-worked curve

KM_COLUMNS = ["time", "at_risk", "events", "censored", "survival", "ci_lower", "ci_upper"]


def lifelines_fit(durations, events) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(np.asarray(durations, dtype=float), np.asarray(events, dtype=bool))


def assert_frame_matches_lifelines(frame, durations, events):
    fitter = lifelines_fit(durations, events)
    table = fitter.event_table
    survival = fitter.survival_function_["KM_estimate"]
    ci = fitter.confidence_interval_
    lower = ci.iloc[:, 0]
    upper = ci.iloc[:, 1]
    assert list(frame.columns[: len(KM_COLUMNS)]) == KM_COLUMNS or set(KM_COLUMNS) <= set(frame.columns)
    rows = frame.sort_values("time").reset_index(drop=True)
    assert [float(t) for t in rows["time"]] == [float(t) for t in table.index], "one row per distinct time, plus 0"
    for i, time in enumerate(table.index):
        row = rows.iloc[i]
        assert int(row["at_risk"]) == int(table.loc[time, "at_risk"]), (time, "at_risk")
        assert int(row["events"]) == int(table.loc[time, "observed"]), (time, "events")
        assert int(row["censored"]) == int(table.loc[time, "censored"]), (time, "censored")
        assert same_number(row["survival"], survival.loc[time]), (time, row["survival"], survival.loc[time])
        # lifelines reports NaN where the interval is undefined; so must the engine (None/NaN).
        for column, expected in (("ci_lower", lower.loc[time]), ("ci_upper", upper.loc[time])):
            engine_value = row[column]
            if isinstance(expected, float) and math.isnan(expected):
                assert engine_value is None or math.isnan(float(engine_value)), (time, column)
            else:
                assert same_number(engine_value, expected, rel_tol=1e-9, abs_tol=1e-12), (
                    time,
                    column,
                    engine_value,
                    expected,
                )


def random_durations(seed: int, n: int):
    rng = np.random.default_rng(seed)
    durations = rng.integers(1, 120, size=n)  # whole days after session L, with ties
    events = rng.random(n) < 0.6
    return durations.tolist(), events.tolist()


KM_CASES = {
    "hand": ([2, 3, 3, 5, 8], [True, True, False, True, True]),
    "ties_and_censoring_at_event_times": (
        [10, 10, 10, 20, 20, 30, 40, 40],
        [True, False, True, True, False, False, True, False],
    ),
    "all_censored": ([5, 9, 14], [False, False, False]),
    "all_events": ([7, 7, 21, 35], [True, True, True, True]),
    "one_course": ([28], [True]),
    "random_30": random_durations(1, 30),
    "random_200": random_durations(2, 200),
}


@pytest.mark.parametrize("case", sorted(KM_CASES))
def test_kaplan_meier_matches_lifelines(case):
    """The durability curve, its numbers at risk and its 95% band are lifelines' to full precision."""
    durations, events = KM_CASES[case]
    frame = stats.kaplan_meier(durations, events)
    assert_frame_matches_lifelines(frame, durations, events)


@pytest.mark.parametrize("case", sorted(KM_CASES))
def test_kaplan_meier_median_matches_lifelines(case):
    """The median durability and its 95% CI are lifelines' median_survival_time_ and
    median_survival_times(confidence_interval_); "not reached" (inf there) is None."""
    durations, events = KM_CASES[case]
    fitter = lifelines_fit(durations, events)
    frame = stats.kaplan_meier(durations, events)
    assert same_number(stats.km_median(frame), fitter.median_survival_time_)
    expected_ci = median_survival_times(fitter.confidence_interval_)
    low, high = stats.km_median_ci(frame)
    assert same_number(low, expected_ci.iloc[0, 0]), (low, expected_ci)
    assert same_number(high, expected_ci.iloc[0, 1]), (high, expected_ci)


def test_kaplan_meier_worked_by_hand():
    """Five responders lose response on days 2, 3, 5 and 8; one more is censored on day 3.

    time  at risk  events  censored  survival
      0      5       0        0      1
      2      5       1        0      4/5          = 0.8
      3      4       1        1      0.8 * 3/4    = 0.6   (the death before the censoring)
      5      2       1        0      0.6 * 1/2    = 0.3
      8      1       1        0      0.3 * 0/1    = 0
    Greenwood sums d/(n(n-d)): 0.05, 0.05 + 1/12 = 0.1333333, + 1/2 = 0.6333333.
    log(-log) band, S^exp(+/- z*sqrt(sum)/|log S|), z = 1.959964:
      t=2: |log 0.8| = 0.2231436, z*sqrt(0.05)/0.2231436 = 1.964033
           -> (0.8^7.128418, 0.8^0.140284) = (0.203809, 0.969180)
      t=3: |log 0.6| = 0.5108256, z*sqrt(0.1333333)/0.5108256 = 1.401023
           -> (0.6^4.059474, 0.6^0.246338) = (0.125730, 0.881756)
      t=5: |log 0.3| = 1.2039728, z*sqrt(0.6333333)/1.2039728 = 1.295539
           -> (0.3^3.653116, 0.3^0.273739) = (0.012302, 0.719218)
    Median: first time survival <= 0.5 is day 5. Its CI: the lower band first drops to
    0.5 or below at day 2, the upper band at day 8 (where it is 0) -> (2, 8).
    """
    frame = stats.kaplan_meier([2, 3, 3, 5, 8], [True, True, False, True, True]).sort_values("time")
    assert [float(t) for t in frame["time"]] == [0.0, 2.0, 3.0, 5.0, 8.0]
    assert [int(n) for n in frame["at_risk"]] == [5, 5, 4, 2, 1]
    assert [int(n) for n in frame["events"]] == [0, 1, 1, 1, 1]
    assert [int(n) for n in frame["censored"]] == [0, 0, 1, 0, 0]
    for got, hand in zip(frame["survival"], [1.0, 0.8, 0.6, 0.3, 0.0]):
        assert math.isclose(float(got), hand, abs_tol=1e-12)
    for got, hand in zip(frame["ci_lower"].iloc[1:4], [0.203809, 0.125730, 0.012302]):
        assert math.isclose(float(got), hand, abs_tol=5e-6)
    for got, hand in zip(frame["ci_upper"].iloc[1:4], [0.969180, 0.881756, 0.719218]):
        assert math.isclose(float(got), hand, abs_tol=5e-6)
    assert stats.km_median(frame) == 5
    assert tuple(float(v) for v in stats.km_median_ci(frame)) == (2.0, 8.0)


def test_kaplan_meier_median_not_reached():
    """Of four responders, one (of three still at risk) loses response on day 3 and the
    others are censored: survival 2/3 never reaches 0.5, so there is no median (None).
    Its CI: the lower band at day 3 is (2/3)^exp(z*sqrt(1/6)/|log 2/3|) = (2/3)^7.1946
    = 0.0541, so the lower end is day 3; the upper band (0.9452) never gets to 0.5, so the
    upper end is not reached (lifelines: inf) -> None."""
    frame = stats.kaplan_meier([2, 3, 5, 8], [False, True, False, False])
    assert stats.km_median(frame) is None
    low, high = stats.km_median_ci(frame)
    assert float(low) == 3.0
    assert high is None
