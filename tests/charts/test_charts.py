"""Each leadership chart is a pure function: small frames in, a titled Figure with labelled axes and n out."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import charts


def _texts(figure: go.Figure) -> str:
    """Every word a reader sees: titles, axis titles, tick labels, point labels, legend names, annotations."""
    layout = figure.layout
    parts = [
        layout.title.text or "",
        (layout.title.subtitle.text or "") if layout.title.subtitle else "",
        layout.xaxis.title.text or "",
        layout.yaxis.title.text or "",
    ]
    parts += [str(t) for t in (layout.xaxis.ticktext or ())] + [str(t) for t in (layout.yaxis.ticktext or ())]
    parts += [annotation.text or "" for annotation in layout.annotations]
    for trace in figure.data:
        parts.append(trace.name or "")
        text = getattr(trace, "text", None)
        if isinstance(text, str):
            parts.append(text)
        elif text is not None:
            parts += [str(t) for t in text]
    return "\n".join(parts)


def _trend() -> pd.DataFrame:
    rows = []
    for quarter, n, responders, remitters, finished, completed in (
        ("2026Q1", 40, 20, 10, 48, 36),
        ("2026Q2", 30, 18, 6, 35, 30),
    ):
        for measure, label, successes, total in (
            ("PHQ-9 response", "PHQ-9 response (ITT)", responders, n),
            ("PHQ-9 remission", "PHQ-9 remission (ITT)", remitters, n),
            ("completion", "Induction completed", completed, finished),
        ):
            rate = successes / total
            rows.append(
                {
                    "quarter": quarter,
                    "courses_started": 50,
                    "measure": measure,
                    "label": label,
                    "successes": successes,
                    "n": total,
                    "rate": rate,
                    "ci_lower": rate - 0.1,
                    "ci_upper": rate + 0.1,
                }
            )
    return pd.DataFrame(rows)


def test_rates_by_start_quarter_writes_the_shared_n_under_each_quarter():
    """A director sees response and remission per start quarter, with 'n=40' under 2026Q1."""
    figure = charts.rates_by_start_quarter(_trend(), ["PHQ-9 response", "PHQ-9 remission"], "PHQ-9 by start quarter")
    assert [trace.name for trace in figure.data] == ["PHQ-9 response (ITT)", "PHQ-9 remission (ITT)"]
    assert figure.layout.title.text == "PHQ-9 by start quarter"
    assert list(figure.layout.xaxis.ticktext) == ["2026Q1<br>n=40", "2026Q2<br>n=30"]
    assert figure.layout.xaxis.title.text.startswith("Quarter the course started")
    assert figure.layout.yaxis.title.text == "Courses (%)"
    assert list(figure.data[0].y) == [50.0, 60.0]
    # Response blue, remission green, as on every chart.
    assert (figure.data[0].line.color, figure.data[1].line.color) == (charts.PALETTE["blue"], charts.PALETTE["green"])


def test_rates_by_start_quarter_labels_each_point_when_the_n_differs():
    """Completion and response count different courses, so each point carries its own n."""
    figure = charts.rates_by_start_quarter(_trend(), ["completion", "PHQ-9 response"], "Mixed")
    assert list(figure.data[0].text) == ["n=48", "n=35"]
    assert list(figure.layout.xaxis.ticktext) == ["2026Q1", "2026Q2"]


def test_rates_by_start_quarter_with_no_courses_says_so():
    figure = charts.rates_by_start_quarter(_trend().iloc[:0], ["completion"], "Nothing")
    assert len(figure.data) == 0
    assert "No courses in this cohort" in _texts(figure)


def _comparison() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "source": "This clinic: ITT",
                "kind": "This clinic",
                "n": 359,
                "response_rate": 0.54,
                "response_ci_lower": 0.49,
                "response_ci_upper": 0.59,
                "remission_rate": 0.27,
                "remission_ci_lower": 0.23,
                "remission_ci_upper": 0.32,
            },
            {
                "source": "McInnes 2022, Ketamine IV",
                "kind": "Published",
                "n": 537,
                "response_rate": 0.536,
                "response_ci_lower": None,
                "response_ci_upper": None,
                "remission_rate": 0.289,
                "remission_ci_lower": None,
                "remission_ci_upper": None,
            },
            {
                "source": "Ahuja (Brendle) 2022, Ketamine IM",
                "kind": "Published",
                "n": 452,
                "response_rate": None,
                "response_ci_lower": None,
                "response_ci_upper": None,
                "remission_rate": None,
                "remission_ci_lower": None,
                "remission_ci_upper": None,
            },
        ]
    )


def test_literature_comparison_shows_the_clinic_with_its_n_beside_the_studies():
    """The clinic's row is bold with n=359; a study without rates (Ahuja) has no dot."""
    figure = charts.literature_comparison(_comparison())
    assert [trace.name for trace in figure.data] == ["Response", "Remission"]
    assert list(figure.data[0].y) == ["<b>This clinic: ITT</b> (n=359)", "McInnes 2022, Ketamine IV (n=537)"]
    assert list(figure.data[0].text) == ["54%", "54%"]
    assert figure.layout.title.text == "PHQ-9 response and remission: this clinic beside published real-world results"
    assert figure.layout.xaxis.title.text == "Patients or courses (%)"
    # The clinic has its 95% CI; the published dot none.
    assert list(figure.data[0].error_x.array) == pytest.approx([5.0, 0.0])


def _trajectory(groups: dict[str, list[tuple[int, int, float]]]) -> pd.DataFrame:
    rows = []
    for group, points in groups.items():
        by_t = {t: (n, mean) for t, n, mean in points}
        for t in range(9):
            n, mean = by_t.get(t, (0, None))
            rows.append(
                {
                    "group": group,
                    "group_label": charts.MODALITY_LABELS.get(group, group),
                    "t": t,
                    "n": n,
                    "mean": mean,
                    "ci_lower": None if mean is None else mean - 1,
                    "ci_upper": None if mean is None else mean + 1,
                }
            )
    return pd.DataFrame(rows)


def test_trajectory_by_group_single_cohort_puts_n_under_each_timepoint():
    """All courses together: one line on the shaded bands, 'Baseline<br>n=120' under the first point."""
    figure = charts.trajectory_by_group(_trajectory({"all": [(0, 120, 16.5), (1, 100, 13.0), (6, 80, 8.0)]}), "PHQ-9")
    lines = [trace for trace in figure.data]
    # t = 2..5 were not measured: the line breaks there instead of drawing a straight segment to t = 6.
    assert len(lines) == 1 and list(lines[0].y) == [16.5, 13.0, None, None, None, None, 8.0, None, None]
    assert figure.layout.title.text == "PHQ-9: mean score across the induction series"
    assert figure.layout.xaxis.ticktext[0] == "Baseline<br>n=120"
    assert figure.layout.xaxis.ticktext[6] == "After 6<br>n=80"
    assert figure.layout.yaxis.title.text == "PHQ-9 total (points)"
    assert len(figure.layout.shapes) == 5  # the five PHQ-9 severity bands


def test_trajectory_by_group_split_writes_a_row_of_n_per_group():
    """Split by modality: a line per modality in its colour, and each group's n under every timepoint."""
    frame = _trajectory(
        {"ketamine_iv": [(0, 93, 15.5), (1, 78, 13.0)], "esketamine_nasal": [(0, 140, 15.4), (8, 88, 7.9)]}
    )
    figure = charts.trajectory_by_group(frame, "GAD-7", "Modality")
    assert [trace.name for trace in figure.data] == ["Ketamine IV", "Esketamine (Spravato)"]
    assert figure.data[0].line.color == charts.MODALITY_COLOURS["ketamine_iv"]
    assert figure.layout.title.text == "GAD-7: mean score across the induction series, by modality"
    numbers = [a.text for a in figure.layout.annotations if a.yref == "paper" and a.xref == "x"]
    assert numbers.count("93") == 1 and numbers.count("88") == 1 and len(numbers) == 18
    assert len(figure.layout.shapes) == 4  # the four GAD-7 severity bands


def test_response_by_session_n_under_each_session():
    frame = pd.DataFrame(
        [
            {
                "t": t,
                "n": n,
                "responding_n": r,
                "responding_rate": r / n if n else None,
                "responding_ci_lower": None,
                "responding_ci_upper": None,
                "remitting_n": m,
                "remitting_rate": m / n if n else None,
                "remitting_ci_lower": None,
                "remitting_ci_upper": None,
            }
            for t, n, r, m in ((1, 315, 13, 3), (2, 0, 0, 0), (3, 280, 129, 31))
        ]
    )
    figure = charts.response_by_session(frame, "PHQ-9")
    assert [trace.name for trace in figure.data] == ["Responding (score ≤ half of baseline)", "Remitting (score ≤ 4)"]
    assert list(figure.layout.xaxis.ticktext) == ["After 1<br>n=315", "After 3<br>n=280"]
    assert figure.layout.yaxis.title.text == "Eligible courses (%)"
    assert "responding and remitting" in figure.layout.title.text


def test_severity_mix_stacks_the_bands_in_their_shades():
    """Five stacked bands, mildest first, each in the same shade as the band shading elsewhere."""
    bands = ["minimal", "mild", "moderate", "moderately severe", "severe"]
    rows = [
        {"when": when, "band": band, "band_order": order, "courses": count, "n": 10, "share": count / 10}
        for when, counts in (("Baseline", [0, 1, 3, 4, 2]), ("End of induction", [4, 4, 1, 1, 0]))
        for order, (band, count) in enumerate(zip(bands, counts))
    ]
    figure = charts.severity_mix(pd.DataFrame(rows), "PHQ-9")
    assert [trace.name for trace in figure.data] == ["Minimal", "Mild", "Moderate", "Moderately severe", "Severe"]
    assert [trace.marker.color for trace in figure.data] == charts.band_colours("PHQ-9")
    assert figure.layout.barmode == "stack"
    assert "The same 10 courses" in figure.layout.title.subtitle.text
    assert list(figure.data[3].text) == ["10%", "40%"]  # End of induction, Baseline
    assert figure.layout.xaxis.title.text == "Courses (%)"


def test_band_colours_match_the_background_shading():
    """GAD-7 has four bands: its 'severe' takes the deepest shade, as in shade_severity_bands."""
    assert charts.band_colours("GAD-7") == charts.BAND_SHADES[1:]
    figure = charts.shade_severity_bands(go.Figure(), "GAD-7")
    assert [shape.fillcolor for shape in figure.layout.shapes] == charts.BAND_SHADES[1:]


def test_sessions_reached_one_set_of_bars_per_induction_length():
    rows = [
        {
            "induction_length": 6,
            "label": "6-session induction: Ketamine IV",
            "session_number": k,
            "courses": 10,
            "reached": r,
            "share": r / 10,
        }
        for k, r in zip(range(1, 7), [10, 8, 8, 7, 7, 6])
    ]
    rows += [
        {
            "induction_length": 8,
            "label": "8-session induction: Esketamine (Spravato)",
            "session_number": k,
            "courses": 5,
            "reached": 5,
            "share": 1.0,
        }
        for k in range(1, 9)
    ]
    figure = charts.sessions_reached(pd.DataFrame(rows))
    assert [trace.name for trace in figure.data] == [
        "6-session induction: Ketamine IV, n=10",
        "8-session induction: Esketamine (Spravato), n=5",
    ]
    assert list(figure.data[0].text) == ["10", "8", "8", "7", "7", "6"]
    assert figure.layout.title.text == "How many courses reach each session of the induction series"
    assert list(figure.layout.xaxis.ticktext)[-1] == "Session 8"
    assert figure.layout.yaxis.title.text == "Courses that started (%)"


def test_itt_vs_completers_writes_rate_and_counts_on_the_bars():
    group = {
        "n": 0,
        "response_n": 0,
        "response_rate": None,
        "response_ci": [None, None],
        "remission_n": 0,
        "remission_rate": None,
        "remission_ci": [None, None],
    }
    summary = {
        "itt": {
            **group,
            "n": 20,
            "response_n": 10,
            "response_rate": 0.5,
            "response_ci": [0.3, 0.7],
            "remission_n": 5,
            "remission_rate": 0.25,
            "remission_ci": [0.1, 0.47],
        },
        "completers": {
            **group,
            "n": 12,
            "response_n": 8,
            "response_rate": 8 / 12,
            "response_ci": [0.39, 0.86],
            "remission_n": 4,
            "remission_rate": 1 / 3,
            "remission_ci": [0.14, 0.61],
        },
    }
    figure = charts.itt_vs_completers(summary, "PHQ-9")
    assert [trace.name for trace in figure.data] == ["Response", "Remission"]
    assert list(figure.data[0].x) == ["Intention to treat<br>n=20", "Completers<br>n=12"]
    assert list(figure.data[0].text) == ["50%<br>10/20", "67%<br>8/12"]
    assert figure.layout.title.text == "PHQ-9: intention to treat beside completers"
    assert figure.layout.yaxis.title.text == "Eligible courses (%)"


def test_individual_trajectories_a_line_per_course_and_the_mean():
    lines = pd.DataFrame(
        {
            "course_id": ["A#1", "A#1", "B#1"],
            "patient_id": ["A", "A", "B"],
            "modality": ["ketamine_iv"] * 3,
            "t": [0, 6, 0],
            "total": [20, 8, 16],
        }
    )
    mean = pd.DataFrame(
        {"t": [0, 6], "n": [2, 1], "mean": [18.0, 8.0], "ci_lower": [None, None], "ci_upper": [None, None]}
    )
    figure = charts.individual_trajectories(lines, "PHQ-9", mean, min_n=1)  # every point solid here
    assert len(figure.data) == 3
    assert figure.data[-1].name == "Mean of all courses" and list(figure.data[-1].text) == ["n=2", "n=1"]
    assert figure.layout.title.text == "PHQ-9 of each course across the induction series (2 courses)"
    assert figure.layout.xaxis.title.text == "Sessions received before the questionnaire"


def test_booster_interval_histogram_weekly_bins_and_median():
    boosters = pd.DataFrame({"interval_days": [20, 30, 30, 45]})
    figure = charts.booster_interval_histogram(boosters, 30.0)
    assert figure.data[0].type == "histogram" and figure.data[0].xbins.size == 7
    assert figure.layout.title.text == "Days between a booster and the session before it (n=4 boosters)"
    assert figure.layout.xaxis.title.text == "Days since the previous session (weekly bins)"
    assert figure.layout.yaxis.title.text == "Boosters"
    assert any(a.text == "median 30 days" for a in figure.layout.annotations)


def test_wear_off_scatter_with_binned_means_and_their_n():
    points = pd.DataFrame({"days_since_previous": [20.0, 30.0, 35.0], "pre_booster_score": [6.0, 9.0, 12.0]})
    bins = pd.DataFrame(
        [
            {
                "bin": "15–21 days",
                "low_days": 15,
                "high_days": 21,
                "mean_days": 20.0,
                "n": 1,
                "mean": 6.0,
                "ci_lower": None,
                "ci_upper": None,
            },
            {
                "bin": "29–42 days",
                "low_days": 29,
                "high_days": 42,
                "mean_days": 32.5,
                "n": 2,
                "mean": 10.5,
                "ci_lower": 0.0,
                "ci_upper": 29.6,
            },
        ]
    )
    figure = charts.wear_off(points, bins, "PHQ-9", min_n=1)  # every mean solid here
    assert [trace.name for trace in figure.data] == ["One booster (n=3)", "Mean for each gap (95% CI)"]
    assert list(figure.data[1].x) == [20.0, 32.5]
    assert {"<b>n=1</b>", "<b>n=2</b>"} <= {a.text for a in figure.layout.annotations}
    assert figure.layout.title.text.startswith("Does the effect wear off?")
    assert figure.layout.xaxis.title.text == "Days since the previous session"
    assert figure.layout.yaxis.title.text == "PHQ-9 before the booster (points)"
    # Dots are nudged by less than half a day and a third of a point.
    assert max(abs(x - d) for x, d in zip(figure.data[0].x, points["days_since_previous"])) < 0.34
    assert max(abs(y - s) for y, s in zip(figure.data[0].y, points["pre_booster_score"])) < 0.26


def _durability() -> dict:
    curve = pd.DataFrame(
        {
            "time": [0.0, 30.0, 32.0],
            "at_risk": [2, 2, 1],
            "events": [0, 1, 0],
            "censored": [0, 0, 1],
            "survival": [1.0, 0.5, 0.5],
            "ci_lower": [1.0, 0.006, 0.006],
            "ci_upper": [1.0, 0.91, 0.91],
        }
    )
    courses = pd.DataFrame(
        {
            "course_id": ["A#1", "B#1"],
            "patient_id": ["A", "B"],
            "days": [30, 32],
            "lost_response": [True, False],
            "event_date": [dt.date(2026, 2, 21), dt.date(2026, 6, 1)],
        }
    )
    return {
        "responders": 2,
        "lost": 1,
        "censored": 1,
        "curve": curve,
        "median_days": 30.0,
        "median_ci": [30.0, None],
        "at_risk": pd.DataFrame({"day": [0, 30], "at_risk": [2, 2]}),
        "courses": courses,
    }


def test_durability_curve_with_ci_band_median_and_numbers_at_risk():
    """A director sees the share still responding, the median with its CI, and an 'At risk' row under the axis."""
    figure = charts.durability_curve(_durability(), "PHQ-9")
    names = [trace.name for trace in figure.data if trace.showlegend is not False]
    assert names == ["95% CI", "Still responding (n=2 responders)", "Still responding at last questionnaire (censored)"]
    assert figure.layout.title.text == "How long does the PHQ-9 response last after induction?"
    assert "2 completers who responded: 1 lost response, 1 still responding" in figure.layout.title.subtitle.text
    annotations = [a.text for a in figure.layout.annotations]
    assert "<b>At risk</b>" in annotations and annotations.count("2") == 2
    assert "Median 30 days (95% CI from 30)" in annotations
    assert figure.layout.xaxis.title.text == "Days since the last induction session"
    assert figure.layout.yaxis.title.text == "Responders still responding (%)"
    censored = figure.data[-1]
    assert list(censored.x) == [32.0] and list(censored.y) == [50.0]


def test_durability_curve_without_responders_says_so():
    empty = {
        **_durability(),
        "responders": 0,
        "lost": 0,
        "censored": 0,
        "curve": _durability()["curve"].iloc[:0],
        "median_days": None,
        "median_ci": [None, None],
        "at_risk": pd.DataFrame({"day": [], "at_risk": []}),
        "courses": _durability()["courses"].iloc[:0],
    }
    figure = charts.durability_curve(empty, "GAD-7")
    assert len(figure.data) == 0
    assert "No completers who responded in this cohort" in _texts(figure)


def test_booster_cadence_patients_ordered_by_boosters():
    strip = pd.DataFrame(
        {
            "patient_id": ["A", "A", "A", "B", "B"],
            "patient_label": ["A · 2 boosters"] * 3 + ["B · 1 boosters"] * 2,
            "course_id": ["A#1"] * 3 + ["B#1"] * 2,
            "session_date": pd.to_datetime(["2026-01-05", "2026-02-21", "2026-03-23", "2026-04-06", "2026-06-01"]),
            "session_number": [1, 7, 8, 1, 9],
            "kind": ["Induction", "Booster", "Booster", "Induction", "Booster"],
            "interval_days": pd.array([None, 30, 30, None, 32], dtype="Int64"),
            "boosters": [2, 2, 2, 1, 1],
            "rank": [1, 1, 1, 2, 2],
        }
    )
    figure = charts.booster_cadence(strip)
    assert [trace.name for trace in figure.data] == ["Induction session", "Booster session"]
    assert len(figure.data[1].x) == 3
    assert list(figure.layout.yaxis.categoryarray) == ["B · 1 boosters", "A · 2 boosters"]  # most boosters on top
    assert figure.layout.title.text == "Booster dates for the 2 patients with the most boosters"
    assert figure.layout.xaxis.title.text == "Session date"


def test_existing_report_charts_keep_their_signatures():
    """report_export.py draws report_trajectory and report_rates_by_quarter from report dicts; they still do."""
    point = {"t": 0, "n": 12, "mean": 16.0, "ci": [14.0, 18.0]}
    group = {
        "n": 12,
        "response_n": 6,
        "response_rate": 0.5,
        "response_ci": [0.25, 0.75],
        "remission_n": 3,
        "remission_rate": 0.25,
        "remission_ci": [0.09, 0.53],
    }
    report = {"quarter": "2026Q1", "instruments": {"PHQ-9": {"trajectory": [point], "itt": group}}}
    assert "Baseline<br>n=12" in list(charts.report_trajectory(report, "PHQ-9").data[0].x)  # n under the timepoint
    assert len(charts.report_rates_by_quarter([report], "PHQ-9").data) == 2


def test_trajectory_split_to_one_group_still_names_it():
    """Split by modality when the filters leave only IV courses: the one line keeps its name in the legend."""
    figure = charts.trajectory_by_group(_trajectory({"ketamine_iv": [(0, 7, 18.0), (1, 5, 14.4)]}), "PHQ-9", "Modality")
    assert figure.data[0].name == "Ketamine IV" and figure.data[0].showlegend is True
    assert figure.layout.xaxis.ticktext[0] == "Baseline<br>n=7"


def test_a_report_chart_whose_every_point_is_withheld_says_so():
    """A small clinic's quarter: every trajectory point and every rate is withheld ("<11"), so the charts show
    the way out of suppression instead of empty axes; a period with no courses says that instead."""
    from analysis.charts.report import ALL_WITHHELD, NOTHING_YET

    withheld = {"n": "<11", "response_n": "<11", "response_rate": None, "response_ci": [None, None]}
    withheld |= {"remission_n": 0, "remission_rate": None, "remission_ci": [None, None]}
    points = [{"t": t, "n": "<11" if t < 3 else 0, "mean": None, "ci": [None, None]} for t in range(9)]
    report = {"quarter": "2026Q1", "instruments": {"PHQ-9": {"trajectory": points, "itt": withheld}}}
    for figure in (charts.report_trajectory(report, "PHQ-9"), charts.report_rates_by_quarter([report], "PHQ-9")):
        assert [note.text for note in figure.layout.annotations] == [ALL_WITHHELD]
        assert figure.layout.xaxis.visible is False and not figure.layout.shapes
    empty_points = [{"t": t, "n": 0, "mean": None, "ci": [None, None]} for t in range(9)]
    empty = {"quarter": "2026Q2", "instruments": {"PHQ-9": {"trajectory": empty_points, "itt": withheld | {"n": 0}}}}
    assert [note.text for note in charts.report_trajectory(empty, "PHQ-9").layout.annotations] == [NOTHING_YET]
