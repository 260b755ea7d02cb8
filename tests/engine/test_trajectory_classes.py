"""Trajectory classes (OUTCOMES.md §5a) on a tiny clinic worked by hand, engine and reference alike.

Every course is a ketamine induction on days 0, 3, 7, 10, 14, 17 (L = 6) with a PHQ-9 baseline of 20
on day 0, so a score of 10 or less meets the response rule. A score on day 3 is t = 1, days 4-7 are
t = 2, day 10 is t = 3, and day 24 (session L + 7) is the end-of-induction score (t = 6).
"""

from __future__ import annotations

import pytest
import test_outcomes_rules as rules
from statsmodels.stats.proportion import proportion_confint

Clinic = rules.Clinic
load = rules.load  # the fixture that runs each test on the engine and on the reference

SCORES = {
    # patient: {day: PHQ-9 total} after the day-0 baseline of 20
    "early": {3: 16, 7: 10, 24: 8},  # first response at t = 2 (exactly half), still at the end
    "early_t1": {3: 9, 24: 9},  # first response after one session
    "late": {7: 14, 10: 10, 24: 6},  # first response at t = 3
    "late_at_end": {24: 10},  # no score in between: the endpoint is the first response (t = 6)
    "latest_wins": {4: 8, 7: 14, 10: 10, 24: 7},  # t = 2 holds 8 (day 4) and 14 (day 7): the latest, 14
    "relapse": {7: 9, 24: 15},  # responder at t = 2 who no longer responds at the endpoint
    "non": {7: 12, 24: 11},  # never at or below 10
}


def _clinic() -> Clinic:
    clinic = Clinic()
    for patient, scores in SCORES.items():
        clinic.sessions(patient, [0, 3, 7, 10, 14, 17])
        clinic.phq9(patient, 0, 20)
        for day, total in scores.items():
            clinic.phq9(patient, day, total)
    clinic.sessions("mild", [0, 3, 7, 10, 14, 17])  # baseline 8: not eligible, so not a completer
    clinic.phq9("mild", 0, 8)
    clinic.phq9("mild", 24, 2)
    clinic.sessions("stopped", [0, 3, 7, 10])  # four sessions: not a completer
    clinic.phq9("stopped", 0, 20)
    clinic.phq9("stopped", 7, 5)
    return clinic


def test_each_completer_falls_in_one_class_and_the_classes_add_up(load):
    """7 completers: early 2 (early, early_t1), late 3 (late, late_at_end, latest_wins), unsustained 1
    (relapse), non-responder 1 (non). mild and stopped are not completers."""
    report = load(_clinic()).report()
    classes = report["instruments"]["PHQ-9"]["trajectory_classes"]
    assert report["instruments"]["PHQ-9"]["completers"]["n"] == 7
    assert {k: classes[k] for k in ("n", "early", "late", "unsustained", "non_responder")} == {
        "n": 7,
        "early": 2,
        "late": 3,
        "unsustained": 1,
        "non_responder": 1,
    }
    assert classes["early"] + classes["late"] + classes["unsustained"] + classes["non_responder"] == classes["n"]


def test_share_of_patients_without_response_after_two_sessions_who_respond_by_the_end(load):
    """Not responding by t = 2: late, late_at_end, latest_wins (first at 3, 6, 3) and non: 4.
    Of them 3 respond at the end: 3/4 = 0.75, Wilson interval from statsmodels."""
    classes = load(_clinic()).report()["instruments"]["PHQ-9"]["trajectory_classes"]
    assert (classes["no_response_by_t2_n"], classes["later_response_n"]) == (4, 3)
    assert classes["later_response_rate"] == 0.75
    low, high = proportion_confint(3, 4, alpha=0.05, method="wilson")
    assert classes["later_response_ci"] == [pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9)]


def test_classes_are_suppressed_like_every_count(load):
    """Suppressed: every count of 1-10 is "<11" and the share is withheld; the clinic records no GAD-7,
    so the report has no GAD-7 block to hold classes."""
    report = load(_clinic()).report(suppress=True)
    classes = report["instruments"]["PHQ-9"]["trajectory_classes"]
    assert classes["n"] == "<11" and classes["early"] == "<11" and classes["non_responder"] == "<11"
    assert classes["later_response_rate"] is None and classes["later_response_ci"] == [None, None]
    assert "GAD-7" not in report["instruments"]


def test_mean_trajectory_of_each_class(tmp_path):
    """Engine view for the induction page: early responders (early, early_t1) average 20 at baseline,
    (16 + 9) / 2 = 12.5 after one session, 10 (one course) after two and (8 + 9) / 2 = 8.5 at the end; the one unsustained
    course reads 9 at t = 2 and 15 at the end."""
    from test_outcomes_rules import EngineView

    from analysis.engine.trajectory_classes import class_trajectories

    view = EngineView(_clinic(), tmp_path / "s.duckdb")
    frame = class_trajectories(view.timeline, "PHQ-9")
    early = {int(r.t): (int(r.n), float(r.mean)) for r in frame.loc[frame["trajectory_class"] == "early"].itertuples()}
    assert early == {0: (2, 20.0), 1: (2, 12.5), 2: (1, 10.0), 6: (2, 8.5)}
    unsustained = frame.loc[frame["trajectory_class"] == "unsustained"].set_index("t")["mean"].to_dict()
    assert unsustained == {0: 20.0, 2: 9.0, 6: 15.0}
