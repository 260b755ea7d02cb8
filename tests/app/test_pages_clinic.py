"""The clinician and reporting pages (patient trend, quarterly report, data) driven as a user would, with AppTest.

Run on a 120-patient demo clinic and on an empty store. Streamlit's AppTest runs a switched-to page
on its own (without the entrypoint's sidebar), so sidebar filters are set through session state,
under the same keys the sidebar widgets use.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paths import REPO
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from analysis import store

SESSION_LOG = (
    b"patient_id,session_date,modality,phq9_total,gad7_total\n"
    b"NEW-1,2026-10-01,IM,18,12\nNEW-1,2026-10-03,IM,15,\nNEW-2,2026-10-02,Spravato,21,\n"
)


@pytest.fixture
def writable_demo(demo_path, tmp_path) -> Path:
    """A copy of the demo clinic that a test may write to."""
    copy = tmp_path / "demo_copy.duckdb"
    shutil.copy(demo_path, copy)
    return copy


def _page(monkeypatch, db: Path, page: str, **session) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
    for key, value in session.items():
        app.session_state[key] = value
    app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, app.exception
    return app


def _texts(app: AppTest) -> str:
    """Everything the page says in words, tables and tiles (for 'does it say X anywhere')."""
    parts = [
        element.value
        for kind in ("markdown", "caption", "info", "warning", "error", "success")
        for element in getattr(app, kind)
    ]
    parts += [f"{metric.label} {metric.value}" for metric in app.metric]
    parts += [frame.value.to_csv() for frame in app.dataframe]
    return "\n".join(str(p) for p in parts)


# ---------------------------------------------------------------------------
# Patient trend


def test_patient_page_shows_the_current_caseload(monkeypatch, demo_path):
    """A clinician opens the patient page and sees the current patients; a switch adds the ones not seen for 90 days."""
    app = _page(monkeypatch, demo_path, "patient")
    current = app.dataframe[0].value
    assert 0 < len(current) < 120
    assert (current["days_since_session"] <= 90).all()
    assert app.selectbox(key="patient_id").value is None
    assert len(app.selectbox(key="patient_id").options) == 120  # every patient can be searched for
    app.toggle(key="patient_show_inactive").set_value(True).run()
    assert len(app.dataframe[0].value) == 120


def test_the_caseload_offers_the_latest_pcl5_of_patients_with_ptsd(monkeypatch, demo_path, demo_timeline):
    """The demo's patients with PTSD fill in the PCL-5: 'Latest PCL-5' is in the caseload's column menu and holds
    their latest totals (the caseload read the PHQ-9 and GAD-7 only)."""
    app = _page(monkeypatch, demo_path, "patient")
    menu = app.multiselect(key="patient_caseload_extra")
    assert "last_pcl5" in menu.options or "Latest PCL-5" in menu.options
    table = app.dataframe[0].value
    ptsd = set(demo_timeline.assessments.loc[demo_timeline.assessments["instrument"] == "PCL-5", "patient_id"])
    with_pcl5 = table.loc[table["last_pcl5"].notna(), "patient_id"]
    assert len(with_pcl5) > 0 and set(with_pcl5) <= ptsd
    assert table.loc[~table["patient_id"].isin(ptsd), "last_pcl5"].isna().all()


def test_clinician_picks_a_patient_and_sees_the_item9_flag(monkeypatch, demo_path, demo_timeline):
    """A clinician picks a patient whose baseline PHQ-9 had item 9 >= 1 and sees the red safety banner."""
    outcomes = demo_timeline.course_outcomes
    flagged = outcomes.loc[(outcomes["instrument"] == "PHQ-9") & (outcomes["baseline_item9"].fillna(0) >= 1)]
    patient = flagged["course_id"].iloc[0].split("#")[0]
    app = _page(monkeypatch, demo_path, "patient")
    app.selectbox(key="patient_id").select(patient).run()
    assert not app.exception
    assert any("Safety flag: PHQ-9 item 9" in banner.value for banner in app.error)
    assert f"Patient {patient}" in [header.value for header in app.subheader]
    assert len(app.get("plotly_chart")) == 3  # PHQ-9 and GAD-7 trends, the answers heatmap


def test_sidebar_clinician_filter_narrows_the_caseload(monkeypatch, demo_path):
    """Choosing clinician CLN-01 in the sidebar leaves only that clinician's patients in the caseload."""
    app = _page(monkeypatch, demo_path, "patient", filter_clinicians=["CLN-01"])
    caseload = app.dataframe[0].value
    assert 0 < len(caseload) < 120
    assert set(caseload["clinician_id"]) == {"CLN-01"}


def test_filters_that_match_nobody_say_so(monkeypatch, demo_path, demo_timeline):
    """A start-date range with no course start in it gives a sentence, not an error or an empty table."""
    starts = set(demo_timeline.courses["start_date"].dt.date)
    day = next(
        dt.date(2025, 1, 1) + dt.timedelta(days=k)
        for k in range(365)
        if dt.date(2025, 1, 1) + dt.timedelta(days=k) not in starts
    )
    app = _page(monkeypatch, demo_path, "patient", filter_start_dates=(day, day))
    assert any("matches the sidebar filters" in info.value for info in app.info)
    assert not app.dataframe


def test_patient_page_on_an_empty_store(monkeypatch, tmp_path):
    """A new clinic with no data is told to import its exports on the Data page."""
    app = _page(monkeypatch, tmp_path / "new.duckdb", "patient")
    assert any("Import your clinic's exports" in info.value for info in app.info)


# ---------------------------------------------------------------------------
# Quarterly report


def test_quarterly_report_opens_on_the_latest_complete_quarter(monkeypatch, demo_path):
    """The data end on 31 Oct 2026, so the report opens on 2026Q3 (July to September)."""
    app = _page(monkeypatch, demo_path, "quarterly")
    assert app.selectbox(key="quarterly_quarter").value == "2026Q3"
    assert app.toggle(key="quarterly_internal").value is False


def test_quarterly_page_draws_the_trajectory_of_every_questionnaire(monkeypatch, demo_path, demo_timeline):
    """The demo records PHQ-9, GAD-7 and PCL-5: three trajectory charts (two a row), so PCL-5 is not dropped
    (the page zipped the questionnaires with two columns and drew only the first two)."""
    assert demo_timeline.instruments == ("PHQ-9", "GAD-7", "PCL-5")
    app = _page(monkeypatch, demo_path, "quarterly")
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in app.get("plotly_chart")]
    trajectories = [title for title in titles if "mean score across the induction series" in title]
    assert [title.split(":")[0] for title in trajectories] == ["PHQ-9", "GAD-7", "PCL-5"]


def test_changing_the_quarter_changes_the_report(monkeypatch, demo_path, demo_timeline):
    """Picking 2025Q2 shows its 19 courses and compares it with 2024Q2 to 2025Q1."""
    app = _page(monkeypatch, demo_path, "quarterly")
    app.selectbox(key="quarterly_quarter").select("2025Q2").run()
    assert not app.exception
    started = next(m for m in app.metric if m.label == "Courses started")
    assert started.value == str((demo_timeline.courses["start_quarter"] == "2025Q2").sum()) == "19"
    history = next(
        frame.value for frame in app.dataframe if "Measure" in frame.value.columns and "2025Q2" in frame.value.columns
    )
    assert list(history.columns) == ["Measure", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"]


def test_suppression_is_on_by_default_and_the_switch_turns_it_off(monkeypatch, demo_path):
    """Small counts show as <11 until the internal-use switch is turned on, which puts up a warning banner."""
    app = _page(monkeypatch, demo_path, "quarterly")
    assert "<11" in _texts(app)
    assert not app.warning
    app.toggle(key="quarterly_internal").set_value(True).run()
    assert not app.exception
    assert "<11" not in _texts(app)
    assert any("INTERNAL USE ONLY" in banner.value for banner in app.warning)
    app.toggle(key="quarterly_internal").set_value(False).run()
    assert "<11" in _texts(app)


def test_quarterly_csv_download_is_the_cli_report(monkeypatch, demo_path):
    """The page's CSV download for 2026Q2 is byte for byte `python -m analysis report --format csv`."""
    downloads = {}
    original = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        downloads[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    app = _page(monkeypatch, demo_path, "quarterly")
    app.selectbox(key="quarterly_quarter").select("2026Q2").run()
    page_csv = downloads["outcomes_report_2026Q2.csv"]()
    cli = subprocess.run(
        [sys.executable, "-m", "analysis", "report", "--db", str(demo_path), "--quarter", "2026Q2", "--format", "csv"],
        cwd=REPO,
        capture_output=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert page_csv.encode() == cli.stdout
    assert {"outcomes_report_2026Q2.xlsx", "outcomes_report_2026Q2.html", "outcomes_report_2026Q2.pdf"} <= set(
        downloads
    )


def test_a_half_year_gathers_two_quarters_and_the_page_opens_with_a_summary(monkeypatch, demo_path, demo_timeline):
    """A small clinic switches to half-years: 2026H1 counts the courses of 2026Q1 and 2026Q2, the page says a
    longer period is the way out of suppression, and opens with the written summary and the 6/12-month table."""
    app = _page(monkeypatch, demo_path, "quarterly")
    app.segmented_control(key="quarterly_period_kind").set_value("half-year").run()
    assert not app.exception
    assert "2026H1 (Jan–Jun 2026)" in app.selectbox(key="quarterly_quarter").options
    app.selectbox(key="quarterly_quarter").select("2026H1").run()
    assert not app.exception
    started = next(m for m in app.metric if m.label == "Courses started")
    expected = int(demo_timeline.courses["start_quarter"].isin(["2026Q1", "2026Q2"]).sum())
    assert started.value == str(expected)
    texts = _texts(app)
    assert "a longer period — a half-year or a year — gathers enough courses" in texts
    assert f"{expected} courses started in 2026H1" in texts
    headings = [heading.value for heading in app.subheader]
    assert "6- and 12-month outcomes (PHQ-9, CMS159-style)" in headings
    assert "Beside the four half-years before" in headings
    assert headings.index("Summary") < headings.index("Courses")


def test_quarterly_page_on_an_empty_store(monkeypatch, tmp_path):
    app = _page(monkeypatch, tmp_path / "new.duckdb", "quarterly")
    assert any("Import your clinic's exports" in info.value for info in app.info)


# ---------------------------------------------------------------------------
# Data


def test_uploading_a_session_log_previews_then_imports_on_confirm(monkeypatch, writable_demo):
    """An administrator uploads a session log, sees it checked (3 new rows), confirms, and the store grows."""
    with store.opened(writable_demo, read_only=True) as con:
        before = store.counts(con)["sessions"]
    app = _page(monkeypatch, writable_demo, "data")
    app.file_uploader(key="data_upload").set_value([("log.csv", SESSION_LOG, "text/csv")]).run()
    assert not app.exception
    assert any("Ready: 3 new rows" in message.value for message in app.success)
    with store.opened(writable_demo, read_only=True) as con:
        assert store.counts(con)["sessions"] == before  # the preview wrote nothing
    app.button(key="data_confirm").click().run()
    assert not app.exception
    assert any("Imported 3 rows: 3 added" in message.value for message in app.success)
    with store.opened(writable_demo, read_only=True) as con:
        assert store.counts(con)["sessions"] == before + 3


def test_uploading_a_fhir_bundle_pseudonymises_previews_and_imports(monkeypatch, tmp_path):
    """An administrator uploads a FHIR Bundle: the page makes the clinic key (and says to back it up), shows
    its fingerprint, previews the PHQ-9/GAD-7 rows, and imports them under pseudonyms on confirm."""
    import json

    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    subject = {"reference": "Patient/MRN-4521"}
    resources = [{"resourceType": "Patient", "id": "MRN-4521", "name": [{"family": "Doe"}]}] + [
        {
            "resourceType": "Observation",
            "id": f"o{k}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": subject,
            "effectiveDateTime": "2026-03-04T17:30:00-07:00",
            "valueInteger": value,
        }
        for k, (code, value) in enumerate([("44261-6", 14), ("70274-6", 9), ("55758-7", 2)])
    ]
    bundle = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]})
    db = tmp_path / "clinic.duckdb"
    app = _page(monkeypatch, db, "data")
    app.file_uploader(key="data_upload").set_value([("export.json", bundle.encode(), "application/json")]).run()
    assert not app.exception
    # The preview never writes a key file (a stand-in key previews); the clinic key is made on import.
    assert any("Ready: 2 new rows" in message.value for message in app.success)
    assert not (tmp_path / "clinic.duckdb.key").exists()
    app.button(key="data_confirm").click().run()
    assert not app.exception
    assert (tmp_path / "clinic.duckdb.key").exists()
    shown = [w.value for w in app.warning] + [m.value for m in app.info] + [m.value for m in app.success]
    assert any("new pseudonym key was created" in text for text in shown), shown
    with store.opened(db, read_only=True) as con:
        stored = con.execute("SELECT DISTINCT patient_id FROM assessments").fetchall()
        assert len(stored) == 1 and stored[0][0].startswith("P-") and "4521" not in stored[0][0]


def test_a_conflict_with_the_store_is_shown_before_anything_is_written(monkeypatch, writable_demo, demo_timeline):
    """A row that contradicts a session already in the store is listed with its row, and confirm stays off."""
    first = demo_timeline.sessions.iloc[0]
    other = "IV" if first["modality"] != "ketamine_iv" else "IM"
    text = f"patient_id,session_date,modality\n{first['patient_id']},{first['session_date']:%Y-%m-%d},{other}\n"
    app = _page(monkeypatch, writable_demo, "data")
    app.file_uploader(key="data_upload").set_value([("sessions.csv", text.encode(), "text/csv")]).run()
    assert any("Import refused" in message.value for message in app.error)
    problems = next(table.value for table in app.table if "What to fix" in table.value.columns)
    assert problems.reset_index()[["Row", "Column"]].values.tolist() == [[2, "modality"]]
    assert app.button(key="data_confirm").disabled


def test_identifying_column_is_named_and_can_be_left_out(monkeypatch, writable_demo):
    """A file with a date-of-birth column is refused until the column is chosen under 'Leave out these columns'."""
    text = b"patient_id,dob,session_date,modality\nNEW-9,1970-01-01,2026-10-01,IV\n"
    app = _page(monkeypatch, writable_demo, "data")
    app.file_uploader(key="data_upload").set_value([("s.csv", text, "text/csv")]).run()
    assert any("dob" in warning.value for warning in app.warning)
    assert app.button(key="data_confirm").disabled
    app.multiselect(key="data_drop_columns").select("dob").run()
    assert not app.exception
    assert not app.button(key="data_confirm").disabled


def test_skipping_invalid_rows_puts_them_in_the_quarantine(monkeypatch, writable_demo):
    """With 'Skip invalid rows', the good row loads and the bad one is listed in the quarantine, downloadable."""
    text = b"patient_id,session_date,modality\nNEW-7,2026-10-01,IV\nNEW-7,2026-10-03,banana\n"
    app = _page(monkeypatch, writable_demo, "data")
    app.file_uploader(key="data_upload").set_value([("s.csv", text, "text/csv")]).run()
    assert app.button(key="data_confirm").disabled
    app.checkbox(key="data_skip_invalid").check().run()
    assert any("1 new rows will be added" in m.value and "1 will go to the quarantine" in m.value for m in app.success)
    app.button(key="data_confirm").click().run()
    assert not app.exception
    quarantine = next(table.value for table in app.table if table.value.index.name == "Imported")
    assert quarantine[["Row", "Column", "Value"]].values.tolist() == [[3, "modality", "banana"]]
    assert app.get("download_button") and any(
        b.label == "Download the quarantine (CSV)" for b in app.get("download_button")
    )


def test_removing_the_demo_clinic_needs_a_confirmation(monkeypatch, writable_demo):
    """The demo can be removed only after ticking the confirmation; afterwards the store is empty and not a demo."""
    app = _page(monkeypatch, writable_demo, "data")
    assert app.button(key="data_remove_demo").disabled
    app.checkbox(key="data_remove_demo_confirm").check().run()
    app.button(key="data_remove_demo").click().run()
    assert not app.exception
    with store.opened(writable_demo, read_only=True) as con:
        assert store.counts(con)["sessions"] == 0 and not store.is_demo(con)
    assert any("demo clinic was removed" in message.value for message in app.success)


def test_data_page_on_an_empty_store_offers_import_and_templates(monkeypatch, tmp_path):
    """A new clinic sees an empty store, the uploader and the templates; there is no demo to remove."""
    app = _page(monkeypatch, tmp_path / "new.duckdb", "data")
    assert any("The store is empty" in info.value for info in app.info)
    assert app.file_uploader(key="data_upload") is not None
    with pytest.raises(KeyError):
        app.button(key="data_remove_demo")
    templates = [button.label for button in app.get("download_button")]
    assert any(label.startswith("layout_a_sessions.csv") for label in templates)


def test_first_import_into_an_empty_store(monkeypatch, tmp_path):
    """Uploading into a store that does not exist yet creates it and loads the rows."""
    db = tmp_path / "new.duckdb"
    app = _page(monkeypatch, db, "data")
    app.file_uploader(key="data_upload").set_value([("log.csv", SESSION_LOG, "text/csv")]).run()
    app.button(key="data_confirm").click().run()
    assert not app.exception
    with store.opened(db, read_only=True) as con:
        assert store.counts(con)["sessions"] == 3


def test_data_quality_tab_shows_completion(monkeypatch, demo_path):
    app = _page(monkeypatch, demo_path, "data")
    labels = [metric.label for metric in app.metric]
    assert "No PHQ-9 baseline" in labels and "Unmeasured sessions" in labels
    # One tile per questionnaire the demo records, and one for sessions, side by side in one row.
    assert {"No GAD-7 baseline", "No PCL-5 baseline"} <= set(labels)
    captions = "\n".join(caption.value for caption in app.caption)
    assert "courses of patients who fill in the PCL-5" in captions
