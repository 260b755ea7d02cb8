"""The demo clinic, run through the real importer and engine, looks like published real-world results.

Ranges from the issue, drawn from Brendle/Ahuja 2022 (IM), McInnes 2022 ORKA-1 (IV),
Oliver 2022 and Hull 2022 (at-home sublingual).
"""

import datetime as dt

import pytest

from analysis import store
from analysis.demo import build as demo_store
from analysis.engine.timeline import load_timeline
from analysis.reporting.report import quarterly_report


@pytest.fixture(scope="module", params=[7, 3])
def demo_report(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    demo_store.build(path, n_patients=400, seed=request.param, end_date=dt.date(2026, 10, 31))
    with store.opened(path, read_only=True) as con:
        assert store.is_demo(con)
        timeline = load_timeline(con)
    return quarterly_report(timeline, "all", suppress=False)


def test_phq9_itt_response_and_remission_are_in_the_published_range(demo_report):
    itt = demo_report["instruments"]["PHQ-9"]["itt"]
    assert 0.40 <= itt["response_rate"] <= 0.65
    assert 0.15 <= itt["remission_rate"] <= 0.35


def test_completer_response_is_in_the_published_range(demo_report):
    assert 0.45 <= demo_report["instruments"]["PHQ-9"]["completers"]["response_rate"] <= 0.70


def test_gad7_itt_response_is_in_the_published_range(demo_report):
    assert 0.40 <= demo_report["instruments"]["GAD-7"]["itt"]["response_rate"] <= 0.68


def test_mean_baselines_match_real_clinics(demo_report):
    assert 14 <= demo_report["instruments"]["PHQ-9"]["mean_baseline"] <= 19.5
    assert 11 <= demo_report["instruments"]["GAD-7"]["mean_baseline"] <= 16


def test_induction_completion_among_finished_courses(demo_report):
    finished = demo_report["courses_started"] - demo_report["in_progress"]
    assert 0.50 <= demo_report["induction_completed"] / finished <= 0.90


def test_boosters_come_about_monthly(demo_report):
    assert 21 <= demo_report["median_booster_interval_days"] <= 45


def test_phq9_falls_four_to_twelve_points_by_session_six(demo_report):
    trajectory = {p["t"]: p for p in demo_report["instruments"]["PHQ-9"]["trajectory"]}
    assert 4 <= trajectory[0]["mean"] - trajectory[6]["mean"] <= 12


def test_a_realistic_minority_has_item_9_at_baseline(demo_report):
    with_baseline = demo_report["instruments"]["PHQ-9"]["baseline_n"]
    assert 0.05 <= demo_report["item9_positive_baseline"] / with_baseline <= 0.35
