"""The leadership views (analysis/cohort_views.py) on a five-patient clinic worked by hand.

The data's last date is Mon 2 Nov 2026 (D's last PHQ-9). Ketamine inductions are 6 sessions,
esketamine 8; "t" is the number of sessions before a questionnaire.

A  ketamine IV, NORTH, CLN-01, 35-44 F. Sessions 5, 8, 12, 15, 19, 22 Jan 2026 (induction; session 6 on
   22 Jan), boosters 21 Feb (30 days after) and 23 Mar (30 days after). PHQ-9: 5 Jan baseline 20 with
   item 9 = 1; 29 Jan 8 (t=6, end of induction, item 9 = 0: response, no remission, reliable improvement
   12); 21 Feb 12 (t=6 outside the 28-day window: pre-booster score, and loss of response, 30 days after
   session 6); 20 Mar 6 (t=7, pre-booster for 23 Mar).
B  esketamine, SOUTH, CLN-02, 25-34 M. Sessions 6, 9, 13, 16, 20, 23, 27, 30 Apr 2026 (induction of 8),
   booster 1 Jun (32 days after). PHQ-9: 1 Apr baseline 16, item 9 = 2; 14 Apr 10 (t=3); 7 May 4 (t=8,
   end of induction; item 9 = 1, so not resolved); 1 Jun 6 (pre-booster, still responding: censored at
   32 days). GAD-7: 1 Apr 12, 7 May 3.
C  ketamine IV, NORTH, CLN-01, 55-64 F. Sessions 6 and 9 Jul 2026, then stopped. PHQ-9: 6 Jul 14 as a
   total only (item 9 unknown); 9 Jul 13 (t=1, item 9 = 0).
D  ketamine IM, SOUTH, CLN-02, 25-34 F. Sessions 19, 22, 26 Oct 2026: in progress (last session 7 days
   before the data's end). PHQ-9: 19 Oct 8 (below 10: not eligible), item 9 = 1; 2 Nov 5 (t=3).
E  ketamine oral, NORTH, CLN-01, 35-44 M. One session on 4 Aug 2026 (exactly 90 days before the data's
   end), no questionnaires.
"""

from __future__ import annotations

import datetime as dt
import math

import clinic_fixture
import pandas as pd
import pytest
from clinic_fixture import score

from analysis import store
from analysis.engine.cohort import CohortFilter
from analysis.engine.timeline import load_timeline
from analysis.reporting.report import courses_in_quarter, instrument_summary, quarterly_report
from analysis.views import boosters as boosters_views
from analysis.views import induction as induction_views
from analysis.views import overview as overview_views

KETAMINE_IV_A = [
    "2026-01-05",
    "2026-01-08",
    "2026-01-12",
    "2026-01-15",
    "2026-01-19",
    "2026-01-22",
    "2026-02-21",
    "2026-03-23",
]
ESKETAMINE_B = [
    "2026-04-06",
    "2026-04-09",
    "2026-04-13",
    "2026-04-16",
    "2026-04-20",
    "2026-04-23",
    "2026-04-27",
    "2026-04-30",
    "2026-06-01",
]


def _clinic_tables() -> list[tuple[str, pd.DataFrame]]:
    patients = pd.DataFrame(
        [
            *clinic_fixture.PATIENTS,
            {
                "patient_id": "D",
                "age_band": "25-34",
                "sex": "F",
                "primary_condition": "PTSD",
                "site": "SOUTH",
                "clinician_id": "CLN-02",
            },
            {
                "patient_id": "E",
                "age_band": "35-44",
                "sex": "M",
                "primary_condition": "TRD",
                "site": "NORTH",
                "clinician_id": "CLN-01",
            },
        ]
    )
    sessions = [("A", d, "ketamine_iv") for d in KETAMINE_IV_A]
    sessions += [("B", d, "esketamine_nasal") for d in ESKETAMINE_B]
    sessions += [("C", d, "ketamine_iv") for d in ("2026-07-06", "2026-07-09")]
    sessions += [("D", d, "ketamine_im") for d in ("2026-10-19", "2026-10-22", "2026-10-26")]
    sessions += [("E", "2026-08-04", "ketamine_oral")]
    sessions = pd.DataFrame(sessions, columns=["patient_id", "session_date", "modality"])
    assessments = pd.DataFrame(
        [
            score("A", "2026-01-05", "PHQ-9", [3, 3, 2, 3, 2, 2, 2, 2, 1]),  # 20, item 9 = 1
            score("A", "2026-01-29", "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 0]),  # 8
            score("A", "2026-02-21", "PHQ-9", total=12),
            score("A", "2026-03-20", "PHQ-9", total=6),
            score("B", "2026-04-01", "PHQ-9", [2, 2, 2, 2, 2, 2, 1, 1, 2]),  # 16, item 9 = 2
            score("B", "2026-04-14", "PHQ-9", total=10),
            score("B", "2026-05-07", "PHQ-9", [1, 1, 1, 0, 0, 0, 0, 0, 1]),  # 4, item 9 = 1
            score("B", "2026-06-01", "PHQ-9", total=6),
            score("B", "2026-04-01", "GAD-7", [2, 2, 2, 2, 2, 1, 1]),  # 12
            score("B", "2026-05-07", "GAD-7", [1, 1, 1, 0, 0, 0, 0]),  # 3
            score("C", "2026-07-06", "PHQ-9", total=14),
            score("C", "2026-07-09", "PHQ-9", [2, 2, 2, 2, 2, 1, 1, 1, 0]),  # 13
            score("D", "2026-10-19", "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 0, 1]),  # 8, item 9 = 1
            score("D", "2026-11-02", "PHQ-9", [1, 1, 1, 1, 1, 0, 0, 0, 0]),  # 5
        ]
    )
    return clinic_fixture.store_tables(patients, sessions, assessments)


@pytest.fixture(scope="module")
def timeline(tmp_path_factory):
    path = clinic_fixture.build(tmp_path_factory.mktemp("cohort_views") / "t.duckdb", _clinic_tables())
    with store.opened(path, read_only=True) as con:
        return load_timeline(con)


def _row(frame: pd.DataFrame, **match) -> pd.Series:
    rows = frame
    for column, value in match.items():
        rows = rows.loc[rows[column] == value]
    assert len(rows) == 1, (match, rows)
    return rows.iloc[0]


# ---------------------------------------------------------------------------
# Overview


def test_the_clinic_is_read_as_worked_by_hand(timeline):
    """The fixture itself: five courses, the data ending on 2 Nov 2026, only D in progress."""
    assert str(timeline.data_last_date)[:10] == "2026-11-02"
    courses = timeline.courses.set_index("patient_id")
    assert courses["n_sessions"].to_dict() == {"A": 8, "B": 9, "C": 2, "D": 3, "E": 1}
    assert courses.loc[courses["in_progress"].astype(bool)].index.tolist() == ["D"]


def test_active_patients_counts_a_session_exactly_90_days_before_the_data_end(timeline):
    """A director sees 2 active patients: D (October) and E, whose one session was 90 days before 2 Nov."""
    active = overview_views.active_patients(timeline)
    assert active["n"] == 2
    assert active["window_start"] == dt.date(2026, 8, 4)
    assert active["window_end"] == dt.date(2026, 11, 2)
    assert overview_views.active_patients(timeline, CohortFilter(sites=("NORTH",)))["n"] == 1


def test_courses_started_and_induction_completion_over_finished_courses(timeline):
    """5 courses by 5 patients, 1 in progress; of the 4 finished, A and B completed induction: 2 of 4."""
    assert overview_views.courses_started(timeline) == {"courses": 5, "patients": 5, "in_progress": 1}
    completion = overview_views.induction_completion(timeline)
    assert (completion["successes"], completion["n"], completion["rate"], completion["in_progress"]) == (2, 4, 0.5, 1)
    # Wilson interval for 2/4 (z = 1.959964): centre 0.5, half-width 0.3994.
    assert completion["ci"] == pytest.approx([0.150036, 0.849964], abs=1e-5)


def test_item9_at_baseline_matches_the_quarterly_report_count(timeline):
    """A, B and D are positive at baseline; C's total-only baseline leaves item 9 unknown: 3 of 3 known."""
    item9 = overview_views.item9_at_baseline(timeline)
    assert (item9["successes"], item9["n"], item9["baseline_n"], item9["unknown"]) == (3, 3, 4, 1)
    assert item9["successes"] == quarterly_report(timeline, suppress=False)["item9_positive_baseline"]


def test_item9_resolution_counts_finished_positive_courses_only(timeline):
    """A's endpoint has item 9 back to 0, B's is still 1; D is in progress and left out: 1 of 2."""
    resolved = overview_views.item9_resolution(timeline)
    assert (resolved["successes"], resolved["n"], resolved["rate"]) == (1, 2, 0.5)
    assert (resolved["unknown"], resolved["no_follow_up"], resolved["in_progress_left_out"]) == (0, 0, 1)


def test_median_scores_over_itt_courses(timeline):
    """ITT courses A, B, C: baselines 20, 16, 14 (median 16); endpoints 8, 4, 13 (median 8)."""
    assert overview_views.median_scores(timeline, "PHQ-9") == {"n": 3, "median_baseline": 16.0, "median_endpoint": 8.0}
    assert overview_views.median_scores(timeline, "GAD-7") == {"n": 1, "median_baseline": 12.0, "median_endpoint": 3.0}


def test_quarterly_trend_by_start_quarter(timeline):
    """A starts in 2026Q1, B in Q2, C and E in Q3, D in Q4; each rate counts its own quarter's courses."""
    trend = overview_views.quarterly_trend(timeline)
    assert sorted(trend["quarter"].unique()) == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    expected = {
        ("2026Q1", "completion"): (1, 1),
        ("2026Q2", "completion"): (1, 1),
        ("2026Q3", "completion"): (0, 2),
        ("2026Q4", "completion"): (0, 0),
        ("2026Q1", "PHQ-9 response"): (1, 1),
        ("2026Q2", "PHQ-9 response"): (1, 1),
        ("2026Q3", "PHQ-9 response"): (0, 1),
        ("2026Q4", "PHQ-9 response"): (0, 0),
        ("2026Q2", "PHQ-9 remission"): (1, 1),
        ("2026Q1", "PHQ-9 remission"): (0, 1),
        ("2026Q2", "GAD-7 response"): (1, 1),
        ("2026Q1", "GAD-7 response"): (0, 0),
        ("2026Q1", "item9 resolved"): (1, 1),
        ("2026Q2", "item9 resolved"): (0, 1),
        ("2026Q3", "item9 resolved"): (0, 0),
    }
    for (quarter, measure), (successes, n) in expected.items():
        row = _row(trend, quarter=quarter, measure=measure)
        assert (row["successes"], row["n"]) == (successes, n), (quarter, measure)
    assert pd.isna(_row(trend, quarter="2026Q4", measure="completion")["rate"])
    assert _row(trend, quarter="2026Q3", measure="completion")["courses_started"] == 2


def test_quarterly_trend_equals_the_report_quarter_by_quarter(timeline):
    """The trend's ITT counts are the ones report.instrument_summary gives for each quarter's courses."""
    trend = overview_views.quarterly_trend(timeline)
    for quarter in trend["quarter"].unique():
        started = courses_in_quarter(timeline, quarter)
        for code in ("PHQ-9", "GAD-7"):
            summary = instrument_summary(started, code)
            for measure, count in (
                ("response", summary["itt"]["response_n"]),
                ("remission", summary["itt"]["remission_n"]),
                ("reliable improvement", summary["reliable_improvement_n"]),
            ):
                row = _row(trend, quarter=quarter, measure=f"{code} {measure}")
                assert (row["successes"], row["n"]) == (count, summary["itt"]["n"])
        completion = overview_views.induction_completion(started)
        row = _row(trend, quarter=quarter, measure="completion")
        assert (row["successes"], row["n"]) == (completion["successes"], completion["n"])


def test_quarterly_table_reads_rate_and_counts(timeline):
    """One row per start quarter: '100% (1/1)' cells, '—' where nothing could be counted."""
    table = overview_views.quarterly_table(overview_views.quarterly_trend(timeline)).set_index("Start quarter")
    assert table.loc["2026Q3", "Induction completed"] == "0% (0/2)"
    assert table.loc["2026Q4", "Induction completed"] == "—"
    assert table.loc["2026Q1", "PHQ-9 response (ITT)"] == "100% (1/1)"
    assert table.loc["2026Q3", "Courses started"] == 2


def test_literature_comparison_puts_the_clinic_beside_the_papers(timeline):
    """ITT 2 of 3 respond and 1 of 3 remits; completers 2 of 2 and 1 of 2; then the four studies as published."""
    comparison = overview_views.literature_comparison(timeline).set_index("source")
    itt = comparison.loc["This clinic: ITT"]
    assert (itt["n"], itt["response_rate"], itt["remission_rate"]) == (3, pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert (itt["median_baseline"], itt["median_endpoint"]) == (16.0, 8.0)
    completers = comparison.loc["This clinic: completers"]
    assert (completers["n"], completers["response_rate"], completers["remission_rate"]) == (2, 1.0, 0.5)
    mcinnes = comparison.loc["McInnes 2022, Ketamine IV"]
    assert (mcinnes["n"], mcinnes["response_rate"], mcinnes["remission_rate"]) == (537, 0.536, 0.289)
    assert mcinnes["doi"] == "10.1016/j.jad.2021.12.097"
    hull = comparison.loc["Hull 2022, Ketamine sublingual (at home)"]
    assert (hull["n"], hull["response_rate"], hull["remission_rate"]) == (1247, 0.628, 0.326)
    oliver = comparison.loc["Oliver 2022, Ketamine IV"]
    assert (oliver["n"], oliver["response_rate"], oliver["remission_rate"]) == (424, 0.50, 0.20)
    ahuja = comparison.loc["Ahuja (Brendle) 2022, Ketamine IM"]
    assert (ahuja["n"], ahuja["median_baseline"], ahuja["median_endpoint"]) == (452, 16.0, 10.0)
    assert pd.isna(ahuja["response_rate"])


def test_literature_comparison_follows_the_filters(timeline):
    """Filtered to esketamine, the clinic rows hold B alone: 1 of 1 responding."""
    comparison = overview_views.literature_comparison(timeline, CohortFilter(modalities=("esketamine_nasal",)))
    itt = comparison.set_index("source").loc["This clinic: ITT"]
    assert (itt["n"], itt["response_rate"]) == (1, 1.0)


# ---------------------------------------------------------------------------
# Induction response


def test_trajectory_by_modality(timeline):
    """Ketamine IV holds A and C: baseline mean (20 + 14) / 2 = 17, then C alone after 1, A alone after 6."""
    frame = induction_views.trajectory_by_group(timeline, "PHQ-9", split="modality")
    assert list(dict.fromkeys(frame["group"])) == ["ketamine_im", "ketamine_iv", "ketamine_oral", "esketamine_nasal"]
    iv = frame.loc[frame["group"] == "ketamine_iv"].set_index("t")
    assert iv["n"].tolist() == [2, 1, 0, 0, 0, 0, 1, 0, 0]
    assert iv.loc[0, "mean"] == 17.0 and iv.loc[1, "mean"] == 13.0 and iv.loc[6, "mean"] == 8.0
    # t interval of (20, 14): 17 +/- t(0.975, 1) * 3 = 17 +/- 38.1186.
    assert (iv.loc[0, "ci_lower"], iv.loc[0, "ci_upper"]) == pytest.approx((-21.1186, 55.1186), abs=1e-3)
    esketamine = frame.loc[frame["group"] == "esketamine_nasal"].set_index("t")
    assert esketamine.loc[[0, 3, 8], "mean"].tolist() == [16.0, 10.0, 4.0]
    assert frame.loc[frame["group"] == "ketamine_oral", "n"].sum() == 0
    assert frame.loc[frame["group"] == "ketamine_iv", "group_label"].iloc[0] == "Ketamine IV"


def test_trajectory_without_a_split_is_the_report_trajectory(timeline):
    """No split: one group, 'All courses', baseline n = 4 (A, B, C, D) and mean (20 + 16 + 14 + 8) / 4 = 14.5."""
    frame = induction_views.trajectory_by_group(timeline, "PHQ-9")
    assert set(frame["group_label"]) == {"All courses"}
    baseline = _row(frame, t=0)
    assert (baseline["n"], baseline["mean"]) == (4, 14.5)


def test_trajectory_split_respects_the_filters(timeline):
    """Split by site within CLN-02 only: SOUTH alone (B and D)."""
    frame = induction_views.trajectory_by_group(timeline, "PHQ-9", CohortFilter(clinicians=("CLN-02",)), split="site")
    assert set(frame["group"]) == {"SOUTH"}
    assert _row(frame, t=0)["n"] == 2


def test_response_by_session_among_eligible_courses(timeline):
    """After 1: C (13 of 14) neither; after 3: B (10 of 16) neither; after 6: A (8 of 20) responds; after 8: B (4) both.

    D's score after 3 sessions is not counted: D's baseline 8 is below 10.
    """
    frame = induction_views.response_by_session(timeline, "PHQ-9").set_index("t")
    assert frame["n"].tolist() == [1, 0, 1, 0, 0, 1, 0, 1]
    assert frame["responding_n"].tolist() == [0, 0, 0, 0, 0, 1, 0, 1]
    assert frame["remitting_n"].tolist() == [0, 0, 0, 0, 0, 0, 0, 1]
    assert frame.loc[6, "responding_rate"] == 1.0 and frame.loc[6, "remitting_rate"] == 0.0
    assert pd.isna(frame.loc[2, "responding_rate"])


def test_severity_mix_pairs_baseline_and_end_of_induction(timeline):
    """A (20 severe -> 8 mild) and B (16 moderately severe -> 4 minimal): the same 2 courses before and after."""
    mix = induction_views.severity_mix(timeline, "PHQ-9")
    assert set(mix["n"]) == {2}
    baseline = mix.loc[mix["when"] == "Baseline"].set_index("band")["courses"].to_dict()
    assert baseline == {"minimal": 0, "mild": 0, "moderate": 0, "moderately severe": 1, "severe": 1}
    after = mix.loc[mix["when"] == "End of induction"].set_index("band")["courses"].to_dict()
    assert after == {"minimal": 1, "mild": 1, "moderate": 0, "moderately severe": 0, "severe": 0}
    assert _row(mix, when="Baseline", band="severe")["share"] == 0.5


def test_sessions_reached_by_induction_length(timeline):
    """6-session inductions A, C, E (D in progress is left out): 3 reach session 1, 2 session 2, 1 the rest."""
    reached = induction_views.sessions_reached(timeline)
    six = reached.loc[reached["induction_length"] == 6]
    assert six["reached"].tolist() == [3, 2, 1, 1, 1, 1]
    assert set(six["courses"]) == {3}
    assert six["label"].iloc[0] == "6-session induction: Ketamine IV, Ketamine oral/SL"
    eight = reached.loc[reached["induction_length"] == 8]
    assert eight["reached"].tolist() == [1] * 8


def test_individual_trajectories_one_row_per_course_and_timepoint(timeline):
    """A's PHQ-9 line is baseline 20 then 8 after 6 sessions; the 21 Feb score is outside the induction window."""
    lines = induction_views.individual_trajectories(timeline, "PHQ-9")
    a = lines.loc[lines["course_id"] == "A#1"]
    assert a[["t", "total"]].values.tolist() == [[0, 20], [6, 8]]
    assert lines["course_id"].nunique() == 4


# ---------------------------------------------------------------------------
# Boosters and durability


def test_booster_summary(timeline):
    """Three boosters (A: 30 and 30 days, B: 32 days) in 2 courses; both completers went on to a booster."""
    summary = boosters_views.booster_summary(timeline)
    assert (summary["boosters"], summary["courses"], summary["patients"]) == (3, 2, 2)
    assert (summary["median_interval_days"], summary["interval_q1_days"], summary["interval_q3_days"]) == (30, 30, 31)
    assert (summary["with_booster"]["successes"], summary["with_booster"]["n"]) == (2, 2)
    assert summary["median_interval_days"] == quarterly_report(timeline, suppress=False)["median_booster_interval_days"]


def test_booster_intervals_and_pre_booster_scores(timeline):
    """Pre-booster PHQ-9: 12 on A's first booster day, 6 three days before A's second, 6 on B's booster day."""
    intervals = boosters_views.booster_intervals(timeline)
    assert intervals["interval_days"].tolist() == [30, 30, 32]
    points = boosters_views.pre_booster_scores(timeline, "PHQ-9")
    assert points[["course_id", "days_since_previous", "pre_booster_score"]].values.tolist() == [
        ["A#1", 30.0, 12.0],
        ["A#1", 30.0, 6.0],
        ["B#1", 32.0, 6.0],
    ]


def test_wear_off_by_interval(timeline):
    """All three pre-booster scores fall in the 29-42 day bin: mean 8, sd sqrt(12), 95% t interval 8 +/- 8.6053."""
    bins = boosters_views.wear_off_by_interval(timeline, "PHQ-9").set_index("bin")
    row = bins.loc["29–42 days"]
    assert row["n"] == 3 and row["mean"] == 8.0
    assert row["mean_days"] == pytest.approx(92 / 3)
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((8 - 8.60531, 8 + 8.60531), abs=1e-4)
    assert bins["n"].sum() == 3
    assert pd.isna(bins.loc["1–14 days", "mean"])


def test_durability_view(timeline):
    """A loses response 30 days after session 6; B is still responding when last seen 32 days after session 8.

    Kaplan-Meier: survival 1/2 from day 30, so the median is 30 days; Greenwood variance 1/(2*1) gives the
    log(-log) interval [0.00598, 0.91040] at day 30, so the median's lower limit is 30 and its upper limit
    is not reached. 2 at risk at day 0 and just before day 30.
    """
    view = boosters_views.durability_view(timeline, "PHQ-9")
    assert (view["responders"], view["lost"], view["censored"]) == (2, 1, 1)
    assert view["median_days"] == 30.0
    assert view["median_ci"] == [30.0, None]
    at_30 = _row(view["curve"], time=30.0)
    assert at_30["survival"] == 0.5
    assert (at_30["ci_lower"], at_30["ci_upper"]) == pytest.approx((0.005982, 0.910404), abs=1e-5)
    assert view["at_risk"].values.tolist() == [[0, 2], [30, 2]]


def test_durability_view_with_no_responders(timeline):
    """Filtered to C alone there is nobody to follow: zero responders, no median, no curve."""
    view = boosters_views.durability_view(timeline, "PHQ-9", CohortFilter(age_bands=("55-64",)))
    assert (view["responders"], view["median_days"], len(view["curve"]), len(view["at_risk"])) == (0, None, 0, 0)


def test_booster_rate_per_patient_month(timeline):
    """A is open for boosters 22 Jan to 21 Jun (150 days), B 30 Apr to 30 Aug (122): 3 boosters in 272 days.

    272 days = 8.9363 months; 3 / 8.9363 = 0.3357 per month. Exact 95% limits from chi-square tables:
    chi2(0.025, 6) / 2 = 0.61867 and chi2(0.975, 8) / 2 = 8.76727 boosters, over 8.9363 months.
    """
    rate = boosters_views.booster_rate(timeline)
    assert (rate["boosters"], rate["courses"]) == (3, 2)
    assert rate["months"] == pytest.approx(272 / (365.25 / 12))
    assert rate["rate"] == pytest.approx(0.335708, rel=1e-5)
    assert rate["ci"] == pytest.approx([0.61867 / 8.93634, 8.76727 / 8.93634], rel=1e-4)


def test_booster_cadence_ranks_patients_by_boosters(timeline):
    """A (2 boosters) comes first with all 8 of its sessions, then B (1 booster) with its 9."""
    strip = boosters_views.booster_cadence(timeline, top=5)
    assert list(dict.fromkeys(strip["patient_label"])) == ["A · 2 boosters", "B · 1 boosters"]
    assert strip.groupby("patient_id")["kind"].apply(lambda kinds: (kinds == "Booster").sum()).to_dict() == {
        "A": 2,
        "B": 1,
    }
    assert len(strip) == 17
    assert boosters_views.booster_cadence(timeline, top=1)["patient_id"].unique().tolist() == ["A"]


def test_every_view_answers_a_cohort_that_matches_nothing(timeline):
    """Filters that match no course give zeros and empty frames, never an error."""
    nobody = CohortFilter(sites=("NOWHERE",))
    assert overview_views.courses_started(timeline, nobody) == {"courses": 0, "patients": 0, "in_progress": 0}
    assert overview_views.induction_completion(timeline, nobody)["rate"] is None
    assert overview_views.item9_resolution(timeline, nobody)["n"] == 0
    assert overview_views.quarterly_trend(timeline, nobody).empty
    assert induction_views.sessions_reached(timeline, nobody).empty
    assert boosters_views.booster_cadence(timeline, nobody).empty
    assert boosters_views.booster_rate(timeline, nobody)["rate"] is None
    assert induction_views.response_by_session(timeline, "PHQ-9", nobody)["n"].sum() == 0
    assert math.isclose(induction_views.severity_mix(timeline, "PHQ-9", nobody)["courses"].sum(), 0)
