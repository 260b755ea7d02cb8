"""Words follow the settings: with a clinic's own settings.toml, every phrase states its own numbers.

The defaults read as before ("<11", "1-10", "30 days"); a clinic that sets PHQ-9 response at 60%,
remission at 5, eligibility at 12, suppression up to 5 and a 21-day baseline window reads exactly
those, in the exports, the report's HTML, the induction chart and the patient badges.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from analysis import charts, store, wording
from analysis.engine.timeline import load_timeline
from analysis.reporting import export
from analysis.settings import Settings
from analysis.views import induction as induction_views
from analysis.views import patient as patient_views

_PHQ9 = replace(Settings().rules_for("PHQ-9"), response_value=0.6, remission_max=5, eligibility_min=12)
CLINIC = Settings(
    instrument_rules=tuple((code, _PHQ9 if code == "PHQ-9" else rules) for code, rules in Settings().instrument_rules),
    suppression_max=5,
    baseline_window_days=21,
)
LITERALS = ("<11", "1-10", "30 days")


def test_the_defaults_read_as_outcomes_md_words_them():
    defaults = Settings()
    assert wording.suppressed_label(defaults) == "<11" and wording.small_counts(defaults) == "1-10"
    assert wording.baseline_window(defaults) == "in the 30 days before the first session"


def test_a_clinics_settings_are_its_words():
    assert wording.suppressed_label(CLINIC) == "<6" and wording.small_counts(CLINIC) == "1-5"
    assert wording.baseline_window(CLINIC) == "in the 21 days before the first session"
    # A report carries its settings as a dict: the same words from it.
    assert wording.suppression_note(CLINIC.as_dict()) == wording.suppression_note(CLINIC)
    assert "Counts of 1-5 are shown as <6" in wording.suppression_note(CLINIC)


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


def test_the_html_report_states_the_clinics_suppression(suppressed_report):
    page = export.to_html(suppressed_report)
    assert "Counts of 1-5 are shown as &lt;6" in page and "&lt;11" not in page


def test_the_response_by_session_chart_states_the_clinics_rules(clinic_timeline):
    frame = induction_views.response_by_session(clinic_timeline, "PHQ-9")
    words = charts.response_by_session(frame, "PHQ-9", settings=CLINIC).to_json()
    assert "60% of baseline" in words and "≤ 5" in words and "baseline 12 or more" in words
    assert "half of baseline" not in words and "≤ 4" not in words and "baseline 10 or more" not in words


def test_the_patient_badges_state_the_clinics_baseline_window(demo_path, clinic_timeline):
    with store.opened(demo_path, read_only=True) as con:
        patients = clinic_timeline.course_outcomes["course_id"].str.split("#").str[0].unique()
        records = [patient_views.patient_record(con, clinic_timeline, p) for p in patients[:60]]
    texts = [badge.detail for record in records if record for badge in record.badges]
    assert any("in the 21 days before the first session" in text for text in texts)
    assert not [(literal, text) for text in set(texts) for literal in LITERALS if literal in text]
