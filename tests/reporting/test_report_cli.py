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

    xlsx = tmp_path / "r.xlsx"
    assert (
        _report(clinic_db, "--quarter", "2026Q1", "--no-suppress", "--format", "xlsx", "--out", str(xlsx)).returncode
        == 0
    )
    outcomes = pd.read_excel(xlsx, sheet_name="Outcomes")
    rate = outcomes.loc[
        (outcomes["section"] == "Intention to treat")
        & (outcomes["instrument"] == "PHQ-9")
        & (outcomes["measure"] == "Response rate"),
        "value",
    ]
    assert float(rate.iloc[0]) == pytest.approx(report["instruments"]["PHQ-9"]["itt"]["response_rate"], rel=1e-12)
    assert "Settings" in pd.ExcelFile(xlsx).sheet_names

    html_path = tmp_path / "r.html"
    assert _report(clinic_db, "--quarter", "2026Q1", "--format", "html", "--out", str(html_path)).returncode == 0
    page = html_path.read_text(encoding="utf-8")
    assert "<!DOCTYPE html>" in page and "plotly" in page.lower()
    assert "http://" not in page.split("<script")[0]  # no external stylesheet or font
    assert "Counts of 1-10 are shown as &lt;11" in page


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
