"""`python -m analysis report`: every format carries the same numbers; bad requests get one sentence."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from paths import REPO

from analysis import ingest, store

TODAY = dt.date(2026, 11, 26)


def _clinic() -> tuple[pd.DataFrame, pd.DataFrame]:
    """12 ketamine courses starting in 2026Q1: six sessions two days apart, PHQ-9 before each.

    Patients P01-P08 fall from 20 to 8 (responders, not remitted); P09-P12 go from 16 to 14.
    """
    sessions, assessments = [], []
    for number in range(1, 13):
        patient = f"P{number:02d}"
        start = dt.date(2026, 1, 5) + dt.timedelta(days=number)
        responder = number <= 8
        scores = [20, 18, 15, 12, 10, 9, 8] if responder else [16, 16, 15, 15, 14, 14, 14]
        for k in range(6):
            sessions.append((patient, start + dt.timedelta(days=2 * k), "IV"))
        for k, score in enumerate(scores):
            day = start + dt.timedelta(days=2 * k) if k < 6 else start + dt.timedelta(days=14)
            assessments.append((patient, day, "PHQ-9", score))
    return (
        pd.DataFrame(sessions, columns=["patient_id", "session_date", "modality"]),
        pd.DataFrame(assessments, columns=["patient_id", "assessment_date", "instrument", "total"]),
    )


@pytest.fixture(scope="module")
def clinic_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "clinic.duckdb"
    sessions, assessments = _clinic()
    with store.opened(path) as con:
        result = ingest.import_tables(con, [("s.csv", sessions), ("a.csv", assessments)], today=TODAY)
    assert result.ok, [p.sentence() for p in result.problems]
    return path


def _report(db: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "report", "--db", str(db), *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_report_holds_the_hand_worked_numbers(clinic_db):
    """12 eligible finished courses: 8 respond (20 -> 8), none remit; mean change (8*-12 + 4*-2)/12."""
    run = _report(clinic_db, "--quarter", "2026Q1", "--no-suppress")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["quarter"] == "2026Q1" and report["suppressed"] is False
    assert report["courses_started"] == 12 and report["patients_started"] == 12
    assert report["induction_completed"] == 12 and report["in_progress"] == 0
    phq9 = report["instruments"]["PHQ-9"]
    assert phq9["eligible_n"] == 12
    assert phq9["itt"]["n"] == 12 and phq9["itt"]["response_n"] == 8
    assert phq9["itt"]["response_rate"] == pytest.approx(8 / 12, rel=1e-12)
    assert phq9["itt"]["remission_n"] == 0
    assert phq9["completers"]["n"] == 12
    assert phq9["mean_change"] == pytest.approx((8 * -12 + 4 * -2) / 12, rel=1e-12)
    assert phq9["trajectory"][0] == {
        "t": 0,
        "n": 12,
        "mean": pytest.approx((8 * 20 + 4 * 16) / 12),
        "ci": phq9["trajectory"][0]["ci"],
    }
    assert report["settings"]["course_gap_days"] == 90


def test_suppressed_report_hides_counts_of_one_to_ten(clinic_db):
    """8 responders is a small cell: shown as <11 with its rate withheld; 12 courses stay visible."""
    report = json.loads(_report(clinic_db, "--quarter", "2026Q1").stdout)
    assert report["suppressed"] is True
    itt = report["instruments"]["PHQ-9"]["itt"]
    assert itt["n"] == 12
    assert itt["response_n"] == "<11" and itt["response_rate"] is None and itt["response_ci"] == [None, None]
    assert itt["remission_n"] == 0 and itt["remission_rate"] == 0.0


def test_a_quarter_without_courses_is_an_empty_report_not_an_error(clinic_db):
    run = _report(clinic_db, "--quarter", "2025Q3", "--no-suppress")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["courses_started"] == 0
    assert report["instruments"]["PHQ-9"]["itt"]["response_rate"] is None
    # This clinic records no GAD-7: an instrument with no assessment in the store has no block (OUTCOMES.md §7).
    assert list(report["instruments"]) == ["PHQ-9"]


@pytest.mark.parametrize("quarter", ["2026Q5", "Q1 2026", "2026-Q1x", "spring"])
def test_a_malformed_quarter_is_one_line_and_exit_2(clinic_db, quarter):
    run = _report(clinic_db, "--quarter", quarter)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "2026Q1" in run.stderr


def test_a_store_that_does_not_exist_is_one_sentence(tmp_path):
    run = _report(tmp_path / "nothing.duckdb")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "no store" in run.stderr.lower()


def test_csv_xlsx_and_html_carry_the_json_numbers(clinic_db, tmp_path):
    """A quality lead gets the same response count in every format."""
    report = json.loads(_report(clinic_db, "--quarter", "2026Q1", "--no-suppress").stdout)
    csv_run = _report(clinic_db, "--quarter", "2026Q1", "--no-suppress", "--format", "csv")
    table = pd.read_csv(io.StringIO(csv_run.stdout))
    responders = table.loc[
        (table["section"] == "Intention to treat")
        & (table["instrument"] == "PHQ-9")
        & (table["measure"] == "Responders"),
        "value",
    ]
    assert [float(v) for v in responders] == [report["instruments"]["PHQ-9"]["itt"]["response_n"]]
    assert table["suppression"].str.contains("INTERNAL USE").all()
    # The clinic records totals only: item 9 is unknown for all 12 baselines, never "0 positive".
    assert report["item9_unknown_baseline"] == 12
    unknown = table.loc[table["measure"].str.startswith("Courses with PHQ-9 item 9 unknown at baseline"), "value"]
    assert [float(v) for v in unknown] == [12]

    xlsx = tmp_path / "r.xlsx"
    assert (
        _report(clinic_db, "--quarter", "2026Q1", "--no-suppress", "--format", "xlsx", "--out", str(xlsx)).returncode
        == 0
    )
    outcomes = pd.read_excel(xlsx, sheet_name="Outcomes")
    rate = outcomes.loc[
        (outcomes["Section"] == "Intention to treat")
        & (outcomes["Instrument"] == "PHQ-9")
        & (outcomes["Measure"] == "Response rate"),
        "Value",
    ]
    assert float(rate.iloc[0]) == pytest.approx(report["instruments"]["PHQ-9"]["itt"]["response_rate"], rel=1e-12)
    assert pd.ExcelFile(xlsx).sheet_names == ["Report", "Outcomes", "Trajectory", "Settings"]

    html_path = tmp_path / "r.html"
    assert _report(clinic_db, "--quarter", "2026Q1", "--format", "html", "--out", str(html_path)).returncode == 0
    page = html_path.read_text(encoding="utf-8")
    assert "<!DOCTYPE html>" in page and "plotly" in page.lower()
    assert "http://" not in page.split("<script")[0]  # no external stylesheet or font
    assert "Counts of 1-10 are shown as &lt;11" in page
    assert "Item 9 unknown at baseline (total only)<b>12</b>" in page


def test_xlsx_to_the_terminal_is_refused(clinic_db):
    run = _report(clinic_db, "--format", "xlsx")
    assert run.returncode == 2 and "--out" in run.stderr


def test_the_cli_takes_the_dashboards_cohort_filters(clinic_db):
    """Filtering on a modality nobody received leaves an empty cohort; the one they did keeps all 12."""
    none = json.loads(_report(clinic_db, "--no-suppress", "--modality", "esketamine_nasal").stdout)
    assert none["courses_started"] == 0
    assert "esketamine_nasal" in none["cohort"]
    every = json.loads(
        _report(
            clinic_db,
            "--no-suppress",
            "--modality",
            "ketamine_iv",
            "--start-from",
            "2026-01-01",
            "--start-to",
            "2026-03-31",
        ).stdout
    )
    assert every["courses_started"] == 12


def test_xlsx_is_a_workbook_a_director_sends_as_it_is(clinic_db, tmp_path):
    """Title sheet (period, cohort, suppression, summary), headers in words, the rate 8/12 stored as a
    number shown as 66.7%, its Wilson interval in one readable cell, means with one decimal, widths that fit."""
    from openpyxl import load_workbook

    shared, internal = tmp_path / "director.xlsx", tmp_path / "internal.xlsx"
    assert _report(clinic_db, "--period", "2026Q1", "--format", "xlsx", "--out", str(shared)).returncode == 0
    assert (
        _report(clinic_db, "--period", "2026Q1", "--format", "xlsx", "--no-suppress", "--out", str(internal)).returncode
        == 0
    )
    title = [row[0] for row in load_workbook(shared)["Report"].iter_rows(values_only=True) if row[0]]
    assert title[1] == "Ketamine and esketamine outcomes: 2026Q1 (Jan–Mar 2026)"
    assert any("Counts of 1-10 are shown as <11" in line for line in title)
    assert "Summary" in title and any(line.startswith("12 courses started in 2026Q1") for line in title)
    shared_rows = {(r[0], r[1], r[2]): r for r in load_workbook(shared)["Outcomes"].iter_rows(values_only=True)}
    assert shared_rows[("Intention to treat", "PHQ-9", "Responders")][3] == "<11"  # suppressed, as text
    book = load_workbook(internal)
    sheet = book["Outcomes"]
    assert [cell.value for cell in sheet[1]] == ["Section", "Instrument", "Measure", "Value", "95% CI", "Out of (n)"]
    rows = {(r[0].value, r[1].value, r[2].value): r for r in sheet.iter_rows(min_row=2)}
    response = rows[("Completers", "PHQ-9", "Response rate")]
    assert response[3].value == pytest.approx(8 / 12) and response[3].number_format == "0.0%"
    assert response[4].value == "39.1–86.2%"  # Wilson 8/12: 0.3906 to 0.8619
    assert response[5].value == 12
    mean = rows[("Intention to treat", "PHQ-9", "Mean change (endpoint - baseline)")]
    assert mean[3].number_format == "0.0" and mean[4].value.count(" to ") == 1
    for column in sheet.columns:
        longest = max(len(str(c.value)) for c in column if c.value is not None)
        assert sheet.column_dimensions[column[0].column_letter].width >= min(longest, 78)
    settings = {r[0]: r[1] for r in book["Settings"].iter_rows(min_row=2, values_only=True)}
    assert "response: score at endpoint at most half of baseline" in settings["PHQ-9 outcome rules"]
    assert "response: a fall of at least 10 points from baseline" in settings["PCL-5 outcome rules"]


def test_html_settings_are_plain_words_never_a_local_path(clinic_db, tmp_path):
    """A settings file in a private folder: the HTML names the rule in words and the file by its name only."""
    folder = tmp_path / "private-folder"
    folder.mkdir()
    settings = folder / "clinic-settings.toml"
    settings.write_text('[reporting]\nclinic_name = "Harbour Clinic"\n', encoding="utf-8")
    html_path = tmp_path / "r.html"
    run = _report(
        clinic_db, "--period", "2026Q1", "--format", "html", "--settings", str(settings), "--out", str(html_path)
    )
    assert run.returncode == 0, run.stderr
    page = html_path.read_text(encoding="utf-8")
    assert "private-folder" not in page and str(tmp_path) not in page
    assert "the clinic&#x27;s settings file (clinic-settings.toml)" in page
    assert "A new course starts after a gap of more than" in page and "90 days without a session" in page
    assert "course_gap_days" not in page
    assert "Harbour Clinic: ketamine and esketamine outcomes" in page
    assert page.index("<h2>Summary</h2>") < page.index("<h2>Courses</h2>")
