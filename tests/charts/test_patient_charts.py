"""Patient and data-quality charts: traces, titles, axis labels, the item-9 flag, on the hand-worked clinic."""

from __future__ import annotations

import clinic_fixture
import pandas as pd
import pytest

from analysis import store
from analysis.charts import patient as patient_charts
from analysis.charts.theme import BAND_SHADES, MODALITY_COLOURS, SAFETY_COLOUR
from analysis.engine.timeline import load_timeline
from analysis.views import patient as patient_views
from analysis.views.data import quality as quality_views


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    path = clinic_fixture.build(tmp_path_factory.mktemp("charts") / "t.duckdb")
    con = store.connect(path, read_only=True)
    timeline = load_timeline(con)
    yield {p: patient_views.patient_record(con, timeline, p) for p in "ABC"}, timeline
    con.close()


def _scores(record, instrument="PHQ-9"):
    return patient_charts.patient_scores(record.assessments, record.sessions, record.reference_lines, instrument)


def _trace(figure, name):
    matches = [t for t in figure.data if t.name == name]
    assert matches, [t.name for t in figure.data]
    return matches[0]


def test_score_chart_is_titled_in_clinic_words_with_units(records):
    figure = _scores(records[0]["A"])
    assert figure.layout.title.text == "Depression (PHQ-9) score over time"
    assert figure.layout.xaxis.title.text == "Date"
    assert figure.layout.yaxis.title.text == "PHQ-9 total (points, 0–27)"
    assert (
        patient_charts.patient_scores(
            records[0]["C"].assessments, records[0]["C"].sessions, records[0]["C"].reference_lines, "GAD-7"
        ).layout.title.text
        == "Anxiety (GAD-7) score over time"
    )


def test_score_chart_plots_each_scored_questionnaire(records):
    """A's PHQ-9 totals 20, 12, 8, 15 in date order (the total-only one included, labelled as such)."""
    line = _trace(_scores(records[0]["A"]), "PHQ-9 total")
    assert list(line.y) == [20, 12, 8, 15]
    assert "total only" in line.text[-1] and "item 9 unknown" in line.text[-1]


def test_severity_bands_are_shaded_like_every_other_chart(records):
    figure = _scores(records[0]["A"])
    shades = [shape.fillcolor for shape in figure.layout.shapes]
    assert shades == BAND_SHADES


def test_sessions_are_marked_in_a_strip_under_the_scores(records):
    """A: six induction sessions (vertical ticks) and one booster (a diamond), in the ketamine IV colour."""
    figure = _scores(records[0]["A"])
    induction = _trace(figure, "Ketamine IV induction session")
    booster = _trace(figure, "Ketamine IV booster")
    assert len(induction.x) == 6 and len(booster.x) == 1
    assert pd.Timestamp(booster.x[0]).date().isoformat() == "2026-02-20"
    assert induction.marker.symbol == "line-ns-open" and booster.marker.symbol == "diamond"
    assert induction.marker.color == booster.marker.color == MODALITY_COLOURS["ketamine_iv"]
    assert set(induction.y) == {patient_charts.SESSION_ROW} and patient_charts.SESSION_ROW < 0
    assert "sessions" in figure.layout.yaxis.ticktext


def test_baseline_response_and_remission_lines(records):
    figure = _scores(records[0]["A"])
    assert set(_trace(figure, "Baseline").y) - {None} == {20}
    assert set(_trace(figure, "Response threshold (half of baseline)").y) - {None} == {10}
    assert set(_trace(figure, "Remission (4 or less)").y) == {4}


def test_no_response_line_when_the_baseline_is_below_threshold(records):
    names = [t.name for t in _scores(records[0]["C"]).data]
    assert "Baseline" in names and "Response threshold (half of baseline)" not in names


def test_item9_flag_marker_on_the_chart(records):
    """B: red flags on 17 Apr (incomplete questionnaire, drawn at the top) and 30 Apr (at its total, 14)."""
    flags = _trace(_scores(records[0]["B"]), "Item 9 (thoughts of self-harm) answered 1 or more")
    assert flags.marker.color == SAFETY_COLOUR
    assert [pd.Timestamp(x).date().isoformat() for x in flags.x] == ["2026-04-17", "2026-04-30"]
    assert list(flags.y) == [27, 14]
    assert list(flags.customdata) == ["⚑ item 9 = 1 (several days)", "⚑ item 9 = 2 (more than half the days)"]


def test_no_item9_flag_when_item9_is_unknown_or_zero(records):
    names = [t.name for t in _scores(records[0]["C"]).data]
    assert not any(name.startswith("Item 9") for name in names)


def test_heatmap_rows_are_items_and_columns_dates(records):
    record = records[0]["B"]
    grid = patient_views.item_grid(record.assessments, "PHQ-9")
    figure = patient_charts.item_heatmap(grid, "PHQ-9", patient_views.item_labels("PHQ-9"))
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["10 Apr 2026", "17 Apr 2026", "30 Apr 2026"]
    assert heatmap.y[0] == "1. Little interest or pleasure"
    assert (heatmap.zmin, heatmap.zmax) == (0, 3)
    assert figure.layout.title.text == "Depression (PHQ-9) answers question by question"
    assert figure.layout.xaxis.title.text == "Questionnaire date"


def test_heatmap_highlights_item9(records):
    """Item 9's label is flagged in red and its row outlined; each answer of 1 or more gets its own red box."""
    record = records[0]["B"]
    grid = patient_views.item_grid(record.assessments, "PHQ-9")
    figure = patient_charts.item_heatmap(grid, "PHQ-9", patient_views.item_labels("PHQ-9"))
    assert "⚑ 9. Thoughts of self-harm" in figure.data[0].y[8] and SAFETY_COLOUR in figure.data[0].y[8]
    red = [s for s in figure.layout.shapes if s.line.color == SAFETY_COLOUR]
    assert len(red) == 3  # the row, and the 17 Apr and 30 Apr cells


def test_heatmap_shows_item9_unknown_for_a_total_only_row(records):
    record = records[0]["C"]
    grid = patient_views.item_grid(record.assessments, "PHQ-9")
    figure = patient_charts.item_heatmap(grid, "PHQ-9", patient_views.item_labels("PHQ-9"))
    assert figure.data[0].text[8][0] == "?"
    assert figure.data[0].customdata[8][0] == "item 9 unknown (not recorded)"


def test_completion_chart_shows_percent_and_n(records):
    completion = quality_views.assessment_completion(records[1])
    figure = patient_charts.completion_by_session(completion)
    phq9 = _trace(figure, "PHQ-9")
    assert list(phq9.y) == [100, 0, 0, 0, 0, 100]
    assert phq9.text[0] == "100%"
    # PHQ-9 is looked for in every course's sessions (3, 3, 2, 1, 1, 1); the GAD-7 only in C's two (A and B never
    # filled one in): one n per questionnaire, in the legend's order.
    assert list(figure.layout.xaxis.ticktext) == [
        "1<br>n 3 · 1",
        "2<br>n 3 · 1",
        "3<br>n 2 · –",
        "4<br>n 1 · –",
        "5<br>n 1 · –",
        "6<br>n 1 · –",
    ]
    assert figure.layout.yaxis.title.text == "Sessions with a questionnaire (%)"
    assert (
        figure.layout.xaxis.title.text == "Session number in the course (n = sessions given, for PHQ-9 · GAD-7 in turn)"
    )
    # With one questionnaire, or the same sessions for all, one n under each session number.
    alone = patient_charts.completion_by_session(completion.loc[completion["instrument"] == "PHQ-9"])
    assert list(alone.layout.xaxis.ticktext) == ["1<br>n=3", "2<br>n=3", "3<br>n=2", "4<br>n=1", "5<br>n=1", "6<br>n=1"]
    assert alone.layout.xaxis.title.text == "Session number in the course (n = sessions given)"
