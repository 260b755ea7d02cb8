"""The quarterly page's quarter choices and tables, built from report.quarterly_report (hand-worked clinic)."""

from __future__ import annotations

import datetime as dt

import clinic_fixture
import pytest

from analysis import store
from analysis.engine.timeline import load_timeline
from analysis.reporting import report
from analysis.views import quarterly as quarterly_views


@pytest.fixture(scope="module")
def timeline(tmp_path_factory):
    path = clinic_fixture.build(tmp_path_factory.mktemp("quarterly") / "t.duckdb")
    with store.opened(path, read_only=True) as con:
        return load_timeline(con)


def test_quarters_are_those_with_a_course_start_newest_first_then_all(timeline):
    """C started in Nov 2025, A in Jan 2026, B in Apr 2026."""
    assert quarterly_views.quarter_options(timeline) == ["2026Q2", "2026Q1", "2025Q4", "all"]
    assert quarterly_views.quarter_options(None) == ["all"]


def test_default_is_the_newest_quarter_the_data_cover(timeline):
    """The data end on 30 Apr 2026: 2026Q2 is still under way, so 2026Q1 is shown first."""
    options = quarterly_views.quarter_options(timeline)
    assert quarterly_views.default_quarter(options, timeline.data_last_date) == "2026Q1"
    assert quarterly_views.quarter_label("2026Q2", timeline.data_last_date) == "2026Q2 (Apr–Jun 2026), data to 30 Apr"
    assert quarterly_views.quarter_label("2026Q1", timeline.data_last_date) == "2026Q1 (Jan–Mar 2026)"
    assert quarterly_views.quarter_label("all") == "All quarters"
    assert quarterly_views.is_complete("2026Q1", dt.date(2026, 3, 31))


def test_the_page_suppresses_exactly_as_the_report_does(timeline):
    """The page keeps the full report and suppresses it for display: identical to quarterly_report(suppress=True)."""
    full = report.quarterly_report(timeline, "all", None, suppress=False)
    shown = quarterly_views.as_shown(full, timeline.settings, suppress=True)
    assert shown == report.quarterly_report(timeline, "all", None, suppress=True)
    assert quarterly_views.as_shown(full, timeline.settings, suppress=False) is full


def test_small_counts_show_as_under_11_and_their_rates_are_withheld(timeline):
    """All three courses: PHQ-9 ITT has 1 course (A; B in progress, C below 10), so every cell is <11."""
    shown = report.quarterly_report(timeline, "all", None, suppress=True)
    table = quarterly_views.outcome_table(shown).set_index(["Instrument", "Group"])
    itt = table.loc[("PHQ-9", "Intention to treat")]
    assert itt["Courses (n)"] == "<11" and itt["Responders"] == "<11"
    assert itt["Response rate"] == "withheld (small numbers)"
    assert quarterly_views.contains_suppressed(shown)
    internal = quarterly_views.outcome_table(report.quarterly_report(timeline, "all", None, suppress=False))
    itt = internal.set_index(["Instrument", "Group"]).loc[("PHQ-9", "Intention to treat")]
    assert (itt["Courses (n)"], itt["Responders"], itt["Response rate"]) == ("1", "1", "100.0% (95% CI 20.7–100.0%)")
    assert not quarterly_views.contains_suppressed(report.quarterly_report(timeline, "all", None, suppress=False))


def test_no_courses_means_no_rate_not_withheld(timeline):
    """A quarter with no courses shows '—', not 'withheld'."""
    empty = report.quarterly_report(timeline, "2024Q1", None, suppress=True)
    row = quarterly_views.outcome_table(empty).iloc[0]
    assert (row["Courses (n)"], row["Response rate"]) == ("0", "—")


def test_history_table_puts_quarters_side_by_side(timeline):
    reports = [report.quarterly_report(timeline, q, None, suppress=False) for q in ("2025Q4", "2026Q1")]
    table = quarterly_views.history_table(reports).set_index("Measure")
    assert list(table.columns) == ["2025Q4", "2026Q1"]
    assert table.loc["Courses started"].tolist() == ["1", "1"]
    assert table.loc["PHQ-9 mean change (ITT)", "2026Q1"] == "-12.0"
    assert table.loc["PHQ-9 response rate (ITT, 95% CI)", "2026Q1"] == "100.0% (20.7–100.0)"
    assert table.loc["PHQ-9 response rate (ITT, 95% CI)", "2025Q4"] == "—"  # C's baseline 8: no eligible course


def test_score_table_has_a_column_per_instrument(timeline):
    """All courses, internal use: PHQ-9 baselines 20, 18, 8 (3 with a baseline, 2 eligible, C left out below 10)."""
    table = quarterly_views.score_table(report.quarterly_report(timeline, "all", None, suppress=False))
    table = table.set_index("Measure")
    assert list(table.columns) == ["PHQ-9", "GAD-7"]
    assert table.loc["Courses with a baseline score", "PHQ-9"] == "3"
    assert table.loc["Eligible (baseline at or above the threshold)", "PHQ-9"] == "2"
    assert table.loc["Left out: baseline below the threshold", "PHQ-9"] == "1"
    assert table.loc["Left out: still in induction", "PHQ-9"] == "1"
    assert table.loc["Mean change (endpoint − baseline)", "PHQ-9"] == "-12.0"


def test_course_table_and_download_names(timeline):
    shown = report.quarterly_report(timeline, "2026Q1", None, suppress=False)
    table = quarterly_views.course_table(shown).set_index("Measure")["Value"]
    assert table["Courses started"] == "1" and table["Boosters delivered in the period"] == "1"
    assert table["Median booster interval"] == "35 days"  # 16 Jan to 20 Feb
    assert quarterly_views.download_name("2026Q1", True, "csv") == "outcomes_report_2026Q1.csv"
    assert quarterly_views.download_name("2026Q1", False, "xlsx") == "outcomes_report_2026Q1_INTERNAL.xlsx"


def test_half_years_and_years_are_offered_beside_quarters(timeline):
    """Courses start in 2025Q4, 2026Q1 and 2026Q2: half-years 2026H1 and 2025H2, years 2026 and 2025;
    a half-year's label names its months and its report counts the courses of both quarters."""
    assert quarterly_views.quarter_options(timeline, "half-year") == ["2026H1", "2025H2", "all"]
    assert quarterly_views.quarter_options(timeline, "year") == ["2026", "2025", "all"]
    assert quarterly_views.quarter_label("2026H1") == "2026H1 (Jan–Jun 2026)"
    assert quarterly_views.quarter_label("2025") == "2025 (Jan–Dec 2025)"
    quarters = [report.quarterly_report(timeline, q, None, suppress=False) for q in ("2026Q1", "2026Q2")]
    half = report.quarterly_report(timeline, "2026H1", None, suppress=False)
    assert half["courses_started"] == sum(q["courses_started"] for q in quarters) == 2
    assert report.previous_quarters("2026H1", 4) == ["2024H1", "2024H2", "2025H1", "2025H2"]
    assert report.previous_quarters("2026", 2) == ["2024", "2025"]
    assert report.previous_quarters("2026Q1", 2) == ["2025Q3", "2025Q4"]
