"""Honest charts on thin data (issue 12): lines break at withheld or missing points, and points built on
fewer than min_n_shown courses are hollow, faded, labelled with their n and never joined to a line."""

from __future__ import annotations

import pandas as pd
import pytest
from clinic40 import QUARTER, build

from analysis import charts, store
from analysis.engine.timeline import load_timeline
from analysis.reporting.report import quarterly_report


def _itt(n, response_rate, remission_rate):
    def ci(rate):
        return [None, None] if rate is None else [rate - 0.1, rate + 0.1]

    return {
        "n": n,
        "response_rate": response_rate,
        "response_ci": ci(response_rate),
        "remission_rate": remission_rate,
        "remission_ci": ci(remission_rate),
    }


def _report(quarter, itt):
    return {"quarter": quarter, "instruments": {"PHQ-9": {"itt": itt}}, "settings": {"min_n_shown": 5}}


def _lines(figure):
    """The traces that draw lines (the hollow thin points are markers only)."""
    return [trace for trace in figure.data if "lines" in (trace.mode or "")]


def _thin(figure):
    return [trace for trace in figure.data if trace.marker.symbol == "circle-open"]


def test_the_quarterly_rates_line_breaks_at_a_withheld_quarter():
    """2025Q4's rates are withheld (<11 courses): no segment from 2025Q3's 30% to 2026Q1's 34% runs across it."""
    reports = [
        _report("2025Q3", _itt(40, 0.50, 0.30)),
        _report("2025Q4", _itt("<11", None, None)),
        _report("2026Q1", _itt(50, 0.60, 0.34)),
    ]
    figure = charts.report_rates_by_quarter(reports, "PHQ-9")
    remission = next(t for t in _lines(figure) if t.name == "Remission (ITT)")
    assert list(remission.x) == ["2025Q3", "2025Q4", "2026Q1"]
    assert list(remission.y) == [pytest.approx(30.0), None, pytest.approx(34.0)]
    assert not remission.connectgaps
    assert "no line is drawn across it" in figure.layout.annotations[0].text


def test_a_quarter_from_three_courses_is_hollow_and_off_the_line():
    """2025Q4 has 3 ITT courses shown unsuppressed: its point is hollow with 'n=3' and the line skips it."""
    reports = [_report("2025Q3", _itt(40, 0.5, 0.3)), _report("2025Q4", _itt(3, 1.0, 0.0))]
    figure = charts.report_rates_by_quarter(reports, "PHQ-9")
    assert [list(t.y) for t in _lines(figure)] == [[50.0, None], [30.0, None]]
    thin = _thin(figure)
    assert [list(t.x) for t in thin] == [["2025Q4"], ["2025Q4"]]
    assert [list(t.text) for t in thin] == [["n=3"], ["n=3"]]
    assert all(t.opacity == 0.5 and "lines" not in t.mode for t in thin)
    # The remission point at 0% is drawn (a hollow marker at 0), not dropped.
    assert list(thin[1].y) == [0.0]


def test_overview_rates_break_at_a_quarter_with_no_courses():
    """2025Q4 has no courses in the cohort: the overview trend keeps its place, empty, with the line broken."""
    rows = []
    for quarter, n, rate in (("2025Q3", 40, 0.5), ("2025Q4", 0, None), ("2026Q1", 30, 0.6), ("2026Q2", 2, 1.0)):
        rows.append(
            {
                "quarter": quarter,
                "measure": "PHQ-9 response",
                "label": "PHQ-9 response (ITT)",
                "successes": 0 if rate is None else round(rate * n),
                "n": n,
                "rate": rate,
                "ci_lower": None if rate is None else rate - 0.1,
                "ci_upper": None if rate is None else min(rate + 0.1, 1),
            }
        )
    figure = charts.rates_by_start_quarter(pd.DataFrame(rows), ["PHQ-9 response"], "Response")
    (line,) = _lines(figure)
    assert list(line.y) == [50.0, None, 60.0, None]
    (thin,) = _thin(figure)
    assert list(thin.y) == [100.0] and list(thin.text) == ["n=2"]
    assert "Hollow, faded points: fewer than 5 courses" in figure.layout.title.subtitle.text


def test_induction_mean_from_two_courses_is_not_drawn_as_a_collapse():
    """'After 3 sessions, n=2' at 4.5 between means of 14.6: hollow, n=2, the line broken on both sides of it."""
    frame = pd.DataFrame(
        [
            {"group": "all", "group_label": "all", "t": t, "n": n, "mean": m, "ci_lower": None, "ci_upper": None}
            for t, n, m in [(0, 40, 17.0), (1, 38, 15.1), (2, 30, 14.6), (3, 2, 4.5), (4, 25, 14.6)]
            + [(t, 0, None) for t in range(5, 9)]
        ]
    )
    figure = charts.trajectory_by_group(frame, "PHQ-9")
    (line,) = _lines(figure)
    assert list(line.y)[:5] == [17.0, 15.1, 14.6, None, 14.6]
    (thin,) = _thin(figure)
    assert list(thin.x) == [3] and list(thin.y) == [4.5] and list(thin.text) == ["n=2"]
    assert "Hollow, faded points: fewer than 5 courses" in figure.layout.title.subtitle.text
    # A clinic that sets min_n_shown = 2 sees the point joined.
    assert list(_lines(charts.trajectory_by_group(frame, "PHQ-9", min_n=2))[0].y)[:5] == [17.0, 15.1, 14.6, 4.5, 14.6]


def test_the_small_clinics_report_trajectory_marks_its_four_esketamine_courses(tmp_path):
    """clinic40: t = 7 is measured only in ES-01..ES-04 (n = 4): hollow in the unsuppressed report chart;
    with suppression on every mean from 1-10 courses is withheld, and the line stops at a gap, not through it."""
    with store.opened(build(tmp_path / "clinic40.duckdb"), read_only=True) as con:
        timeline = load_timeline(con)
    internal = quarterly_report(timeline, QUARTER, suppress=False)
    figure = charts.report_trajectory(internal, "PHQ-9")
    (line,) = _lines(figure)
    assert [p["n"] for p in internal["instruments"]["PHQ-9"]["trajectory"]][6:8] == [9, 4]
    assert list(line.y)[7] is None and line.y[6] is not None
    (thin,) = _thin(figure)
    assert list(thin.x) == ["After 7<br>n=4"] and list(thin.text) == ["n=4"]
    shown = quarterly_report(timeline, QUARTER, suppress=True)
    (line,) = _lines(charts.report_trajectory(shown, "PHQ-9"))
    counts = [p["n"] for p in shown["instruments"]["PHQ-9"]["trajectory"]]
    assert counts[6:8] == ["<11", "<11"]
    assert all(isinstance(n, int) and n >= 11 for y, n in zip(line.y, counts) if y is not None)
    assert len(line.y) <= 6  # the line ends at the last mean shown; nothing is drawn towards t = 6 or 7
    assert not _thin(charts.report_trajectory(shown, "PHQ-9"))


def test_a_zero_percent_bar_keeps_its_label_whole():
    """Completers remitting 0 of 5: the '0%' label sits above the empty bar (inside it was clipped to '%')."""
    group = {"n": 5, "response_n": 2, "response_rate": 0.4, "response_ci": [0.1, 0.8]}
    summary = {
        "itt": {**group, "remission_n": 1, "remission_rate": 0.2, "remission_ci": [0.04, 0.6]},
        "completers": {**group, "remission_n": 0, "remission_rate": 0.0, "remission_ci": [0.0, 0.43]},
    }
    figure = charts.itt_vs_completers(summary, "PHQ-9")
    remission = next(trace for trace in figure.data if trace.name == "Remission")
    assert list(remission.text) == ["20%<br>1/5", "0%<br>0/5"]
    assert list(remission.textposition) == ["inside", "outside"]
    assert remission.cliponaxis is False
