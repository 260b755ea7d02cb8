"""A 40-patient clinic with total-only PHQ-9s (tests/clinic40.py): its report and downloads do not mislead."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from clinic40 import QUARTER, build
from paths import REPO

from analysis import store
from analysis.engine.timeline import load_timeline
from analysis.reporting import export
from analysis.reporting.report import ReportError, quarterly_report


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    path = build(tmp_path_factory.mktemp("clinic40") / "clinic40.duckdb")
    with store.opened(path, read_only=True) as con:
        return path, load_timeline(con)


def test_the_fixture_is_the_clinic_worked_by_hand(clinic):
    """40 courses in 2026Q1, 31 finished induction, 5 in progress, ITT 34, completers 5."""
    report = quarterly_report(clinic[1], QUARTER, suppress=False)
    assert (report["courses_started"], report["induction_completed"], report["in_progress"]) == (40, 31, 5)
    phq9 = report["instruments"]["PHQ-9"]
    assert (phq9["itt"]["n"], phq9["completers"]["n"], phq9["eligible_n"]) == (34, 5, 39)


def test_item9_unknown_is_counted_beside_item9_positive(clinic):
    """Every baseline is a total only: 0 positive, 40 unknown, in the report and in each download."""
    report = quarterly_report(clinic[1], QUARTER, suppress=True)
    assert report["item9_positive_baseline"] == 0
    assert report["item9_unknown_baseline"] == 40
    table = pd.read_csv(io.StringIO(export.render(clinic[1], QUARTER, "csv")))
    unknown = table.loc[table["measure"].str.contains("item 9 unknown at baseline"), "value"]
    assert unknown.tolist() == ["40"]  # the value column also holds "<11" when suppressed
    page = export.render(clinic[1], QUARTER, "html")
    assert "Item 9 unknown at baseline (total only)<b>40</b>" in page
    sheet = openpyxl.load_workbook(io.BytesIO(export.render(clinic[1], QUARTER, "xlsx")))["Outcomes"]
    # The workbook's Outcomes sheet: Section, Instrument, Measure, Value, 95% CI, Out of (n).
    assert [row[3] for row in sheet.iter_rows(values_only=True) if "item 9 unknown" in str(row[2])] == [40]


def test_completers_are_explained_where_their_n_is_shown(clinic):
    """31 finished inductions, 5 completers: 25 eligible courses finished without an end-of-induction score
    (IV-27, baseline 8, is the 26th and not eligible)."""
    summary = quarterly_report(clinic[1], QUARTER, suppress=False)["instruments"]["PHQ-9"]
    assert summary["completed_without_end_score"] == 25
    note = export.completers_note(summary, "PHQ-9", 28)
    assert note == (
        "Completers (n=5) are eligible courses that finished induction and have an end-of-induction score. "
        "25 more finished induction without one: a PHQ-9 dated within 28 days after the last induction "
        "session would count them."
    )
    assert "within 28 days after the last induction session" in export.render(clinic[1], QUARTER, "html")
    table = pd.read_csv(io.StringIO(export.render(clinic[1], QUARTER, "csv", suppress=False)))
    row = table.loc[(table["instrument"] == "PHQ-9") & table["measure"].str.startswith("Finished induction without")]
    assert row["value"].astype(int).tolist() == [25]


def test_a_quarter_after_the_data_is_refused_in_one_sentence(clinic):
    """The data end on 31 Mar 2026: 2026Q2 and 2027Q1 have no courses yet, and are refused, not reported as zeros."""
    with pytest.raises(ReportError, match=r"2027Q1 starts after the data's last date \(31 Mar 2026\); pick 2026Q1"):
        quarterly_report(clinic[1], "2027Q1")
    with pytest.raises(ReportError):
        quarterly_report(clinic[1], "2026Q2")
    assert quarterly_report(clinic[1], "2025Q4", suppress=False)["courses_started"] == 0  # the past is fine
    run = subprocess.run(
        [sys.executable, "-m", "analysis", "report", "--db", str(clinic[0]), "--quarter", "2027Q1"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip().startswith("Error: 2027Q1 starts after the data's last date")
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("suppress", [True, False])
def test_counts_are_whole_numbers_in_every_format(clinic, suppress):
    """No count is ever written as 40.0 or 0.0: CSV text, the workbook's cells and the JSON."""
    text = export.render(clinic[1], QUARTER, "csv", suppress=suppress)
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    counts = table.loc[
        table["measure"].str.startswith(("Courses", "Induction", "Patients", "Boosters", "Responders", "Remitters"))
    ]
    assert len(counts) > 8
    assert not counts["value"].str.endswith(".0").any(), counts["value"].tolist()
    assert not table["denominator"].str.endswith(".0").any()
    assert "Courses started,40," in text
    sheet = openpyxl.load_workbook(io.BytesIO(export.render(clinic[1], QUARTER, "xlsx", suppress=suppress)))["Outcomes"]
    values = {row[2]: row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Courses started"] == 40 and isinstance(values["Courses started"], int)
    data = json.loads(export.render(clinic[1], QUARTER, "json", suppress=suppress))
    assert data["courses_started"] == 40 and isinstance(data["courses_started"], int)


def test_the_html_report_carries_plotly_once_compressed_and_draws_its_charts(clinic, tmp_path):
    """The HTML report was ~4.8 MB (plotly.js inlined). It now holds one gzipped copy (~2 MB), still opens
    offline, and a browser draws its charts from it."""
    page = export.render(clinic[1], QUARTER, "html")
    assert len(page.encode()) < 2_300_000
    assert page.count('id="plotly-gzip"') == 1 and "https://cdn" not in page
    assert "Completers (&lt;11 courses) are eligible courses" in page  # a suppressed n, in words (escaped)
    chromium = "/usr/bin/chromium"
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not Path(chromium).exists():
        pytest.skip("Debian's chromium is not installed")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page()
        requests = []
        tab.on("request", lambda request: requests.append(request.url))
        tab.goto(path.as_uri())
        # Per instrument recorded (PHQ-9 only here): its trajectory and its rates by quarter.
        charts = 2 * len(quarterly_report(clinic[1], QUARTER)["instruments"])
        tab.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=60_000)
        assert tab.locator(".js-plotly-plot .main-svg").count() >= charts
        browser.close()
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests)
