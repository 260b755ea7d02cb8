"""Words follow the settings: with a clinic's own settings.toml, every phrase states its own numbers.

The defaults read as before ("at most half of baseline", "4 or lower", "<11"); a clinic that sets
response at 60%, remission at 5, eligibility at 12, loss of response at 11, suppression up to 5 and a
21-day baseline window
reads exactly those, in the exports, the report's HTML, the charts and the patient badges.
"""

from __future__ import annotations

import pytest

from analysis import charts, store, wording
from analysis.charts import patient as patient_charts
from analysis.engine.timeline import load_timeline
from analysis.reporting import export
from analysis.settings import Settings
from analysis.views import induction as induction_views
from analysis.views import patient as patient_views

CLINIC = Settings(
    response_fraction=0.6,
    remission_max=5,
    eligibility_min=12,
    suppression_max=5,
    baseline_window_days=21,
    loss_of_response_min=11,
)
LITERALS = ("half of baseline", "4 or lower", "4 or less", "10 or more", "<11", "1-10", "30 days")


def test_the_defaults_read_as_outcomes_md_words_them():
    defaults = Settings()
    assert wording.response_rule(defaults) == "at most half of baseline"
    assert wording.remission_rule(defaults) == "4 or lower"
    assert wording.eligibility_rule(defaults) == "10 or more"
    assert wording.suppressed_label(defaults) == "<11" and wording.small_counts(defaults) == "1-10"
    assert wording.baseline_window(defaults) == "in the 30 days before the first session"
    assert wording.response_example(defaults) == "PHQ-9 20 → 10 or lower"


def test_a_clinics_settings_are_its_words():
    assert wording.response_rule(CLINIC) == "at most 60% of baseline"
    assert wording.remission_rule(CLINIC) == "5 or lower"
    assert wording.eligibility_rule(CLINIC) == "12 or more"
    assert wording.suppressed_label(CLINIC) == "<6" and wording.small_counts(CLINIC) == "1-5"
    assert wording.baseline_window(CLINIC) == "in the 21 days before the first session"
    assert wording.response_example(CLINIC) == "PHQ-9 20 → 12 or lower"
    assert wording.loss_of_response_rule(CLINIC) == "11 or more and above 60% of baseline"
    # A report carries its settings as a dict: the same words from it.
    assert wording.response_rule(CLINIC.as_dict()) == "at most 60% of baseline"


@pytest.mark.parametrize(("fraction", "words"), [(0.5, "half"), (0.25, "a quarter"), (0.6, "60%"), (0.45, "45%")])
def test_shares_are_named_when_plain(fraction, words):
    assert wording.share(fraction) == words


@pytest.fixture(scope="module")
def clinic_timeline(demo_path):
    with store.opened(demo_path, read_only=True) as con:
        return load_timeline(con, CLINIC)


@pytest.fixture(scope="module")
def suppressed_report(clinic_timeline) -> dict:
    return export.quarterly_report(clinic_timeline, quarter="all", suppress=True)


def test_the_csv_export_states_the_clinics_suppression(suppressed_report):
    text = export.to_csv(suppressed_report)
    assert "Counts of 1-5 are shown as <6" in text
    assert "<11" not in text and "1-10" not in text


def test_the_internal_use_note_states_the_clinics_small_counts(clinic_timeline):
    report = export.quarterly_report(clinic_timeline, quarter="all", suppress=False)
    assert "counts of 1-5 are shown" in export.to_csv(report)


def test_the_html_report_states_the_clinics_rules(suppressed_report):
    page = export.to_html(suppressed_report)
    assert "at most 60% of baseline" in page and "score 5 or lower" in page and "baseline of 12 or more" in page
    for literal in ("half of baseline", "4 or less", "10 or more", "&lt;11"):
        assert literal not in page, literal


def test_the_response_by_session_chart_states_the_clinics_rules(clinic_timeline):
    frame = induction_views.response_by_session(clinic_timeline, "PHQ-9")
    figure = charts.response_by_session(frame, "PHQ-9", CLINIC)
    words = figure.to_json()
    assert "60% of baseline" in words and "≤ 5" in words and "12 or more" in words
    assert "half of baseline" not in words and "≤ 4" not in words and "10 or more" not in words


def test_the_patient_chart_and_badges_state_the_clinics_rules(demo_path, clinic_timeline):
    with store.opened(demo_path, read_only=True) as con:
        patients = clinic_timeline.course_outcomes["course_id"].str.split("#").str[0].unique()
        records = [patient_views.patient_record(con, clinic_timeline, p) for p in patients[:60]]
    texts = [badge.detail for record in records if record for badge in record.badges]
    assert any("in the 21 days before the first session" in text for text in texts)
    assert any("baseline of 12 or more" in text for text in texts)
    assert not [(literal, text) for text in set(texts) for literal in LITERALS if literal in text]
    record = next(r for r in records if r is not None and len(r.reference_lines))
    figure = patient_charts.patient_scores(
        record.assessments, record.sessions, record.reference_lines, "PHQ-9", settings=CLINIC
    )
    names = " ".join(str(trace.name) for trace in figure.data)
    assert "Response threshold (60% of baseline)" in names and "half of baseline" not in names
