"""Long-term measures (OUTCOMES.md §5b, CMS159-style) on a tiny clinic worked by hand, engine and reference alike.

Days count from 2025-01-06 (day 0). Index = a patient's first PHQ-9 of 10 or more. The 12-month window
is days 305-425 after it, the 6-month window 152-212, both ends included. The data end on day 500 (a
score of the patient who never reaches 10), so a window is measurable when it closes by day 500.
"""

from __future__ import annotations

import datetime as dt

import pytest
import test_outcomes_rules as rules
from statsmodels.stats.proportion import proportion_confint

load = rules.load  # the fixture that runs each test on the engine and on the reference
ORIGIN = dt.date(2025, 1, 6)

SCORES = {
    # patient: {day: PHQ-9 total}
    "edge_305": {0: 20, 305: 4},  # 12 m: first day of the window, remitted; 6 m: no score
    "edge_425": {0: 20, 152: 4, 425: 3},  # 12 m: last day of the window; 6 m: first day, remitted
    "edge_212": {0: 18, 212: 2, 213: 15, 304: 2, 426: 1},  # 6 m: last day counts, 213 not; 12 m: none inside
    "edge_151": {0: 16, 151: 3, 400: 8},  # 6 m: day 151 is outside; 12 m: 8 = half of 16, a response
    "latest_wins": {0: 20, 310: 3, 420: 12},  # 12 m: the latest in the window (12) counts
    "pre_index": {-40: 8, 0: 14, 365: 7},  # 8 is no index; index 14 on day 0; 12 m: 7 = half, a response
    "open": {200: 22},  # 12-month window closes on day 625: not yet; 6 m closes on day 412
    "open_edge": {75: 18, 480: 2},  # 12-month window closes on day 500, the data's last day: measurable
    "open_by_one": {76: 18},  # closes on day 501: not yet
    "never_indexed": {0: 9, 500: 3},  # never 10 or more: no index; the day-500 score ends the data
}


def _clinic() -> rules.Clinic:
    clinic = rules.Clinic(origin=ORIGIN)
    clinic.sessions("edge_305", rules.KETAMINE_DAYS)
    for patient, scores in SCORES.items():
        for day, total in scores.items():
            clinic.phq9(patient, day, total)
    return clinic


def test_long_term_measures_over_every_index(load):
    """all: 9 indexed patients. 12 m: 7 measurable (open and open_by_one not yet); remission in edge_305,
    edge_425, open_edge = 3 (edge_212 has no score in the window: in the denominator only); response also
    in edge_151 and pre_index = 5. 6 m: all 9 measurable; remission in edge_425 and edge_212 = 2."""
    long_term = load(_clinic()).report()["long_term"]
    assert long_term["index_n"] == 9
    assert long_term["remission_12m"] | {"ci": None} == {
        "n": 7,
        "remission_n": 3,
        "rate": 3 / 7,
        "ci": None,
        "not_yet": 2,
        "no_score_n": 1,
    }
    assert (long_term["response_12m"]["n"], long_term["response_12m"]["response_n"]) == (7, 5)
    assert long_term["response_12m"]["not_yet"] == 2
    six = long_term["remission_6m"]
    assert (six["n"], six["remission_n"], six["not_yet"], six["no_score_n"]) == (9, 2, 0, 7)
    low, high = proportion_confint(3, 7, alpha=0.05, method="wilson")
    assert long_term["remission_12m"]["ci"] == [pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9)]


def test_long_term_by_period_of_the_index(load):
    """Index quarters: day 0, 75 and 76 are 2025Q1 (8 patients); day 200 (25 Jul) is 2025Q3 (open only).
    2025Q3: the 12-month window is still open (not yet 1, n 0, no rate); 6 m: n 1, no score in it."""
    view = load(_clinic())
    q3 = view.report("2025Q3")["long_term"]
    assert q3["index_n"] == 1
    assert (q3["remission_12m"]["n"], q3["remission_12m"]["not_yet"], q3["remission_12m"]["rate"]) == (0, 1, None)
    assert (q3["remission_6m"]["n"], q3["remission_6m"]["remission_n"], q3["remission_6m"]["no_score_n"]) == (1, 0, 1)
    assert view.report("2025Q1")["long_term"]["index_n"] == 8
    assert view.report("2025H1")["long_term"]["index_n"] == 8
    assert view.report("2025H2")["long_term"]["index_n"] == 1
    assert view.report("2025")["long_term"]["index_n"] == 9
    assert view.report("2026")["long_term"]["index_n"] == 0


def test_long_term_counts_are_suppressed(load):
    """Suppressed: 9 indexed -> "<11", 3 of 7 -> "<11" of "<11" with the rate withheld; 0 stays 0."""
    long_term = load(_clinic()).report(suppress=True)["long_term"]
    assert long_term["index_n"] == "<11"
    twelve = long_term["remission_12m"]
    assert (twelve["n"], twelve["remission_n"], twelve["rate"], twelve["ci"]) == ("<11", "<11", None, [None, None])
    assert long_term["remission_6m"]["not_yet"] == 0
