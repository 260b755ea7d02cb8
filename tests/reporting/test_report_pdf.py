"""The PDF report: read back as text, it holds every figure of the CSV, honours suppression, and draws or
names its charts (python -m analysis report --format pdf)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from paths import REPO
from pypdf import PdfReader
from test_report_cli import _clinic

from analysis import ingest, store
from analysis.reporting.pdf import NO_BROWSER

TODAY = pd.Timestamp("2026-11-26").date()


def _run(db: Path, *arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "report", "--db", str(db), *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def _text(path: Path) -> str:
    """The PDF's text with runs of white space made one space (table cells, wrapped lines)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


@pytest.fixture(scope="module")
def demo_pdf(demo_path, tmp_path_factory) -> tuple[Path, pd.DataFrame, dict]:
    """The demo clinic's 2026 report (suppressed) as PDF, with charts drawn by Chromium, and its CSV and JSON."""
    folder = tmp_path_factory.mktemp("pdf")
    settings = folder / "settings.toml"
    settings.write_text('[reporting]\nclinic_name = "Harbour Ketamine Clinic"\n', encoding="utf-8")
    out = folder / "report.pdf"
    run = _run(demo_path, "--period", "2026", "--format", "pdf", "--settings", str(settings), "--out", str(out))
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(io.StringIO(_run(demo_path, "--period", "2026", "--format", "csv").stdout))
    report = json.loads(_run(demo_path, "--period", "2026").stdout)
    return out, table, report


def _shown(kind: str, value: str) -> str:
    """How the document prints a CSV figure: rates as percent with one decimal, means and days with one."""
    number = float(value)
    if kind == "rate":
        return f"{number * 100:.1f}%"
    if kind in ("mean", "days"):
        return f"{number:.1f}"
    return str(int(number))


def test_every_figure_of_the_csv_is_in_the_pdf(demo_pdf):
    """Each value of the CSV (and each end of its interval) is in the PDF, formatted as the document prints it."""
    path, table, _ = demo_pdf
    text = _text(path)
    missing = []
    for row in table.itertuples():
        if pd.isna(row.value):
            continue  # withheld or not computable: the PDF says '-' or 'withheld'
        value = row.value if str(row.value).startswith("<") else _shown(row.kind, row.value)
        bounds = [] if pd.isna(row.ci_lower) else [row.ci_lower, row.ci_upper]
        wanted = [value] + [f"{b * 100:.1f}" if row.kind == "rate" else f"{float(b):.1f}" for b in bounds]
        missing += [f"{row.section} / {row.instrument} / {row.measure}: {w}" for w in wanted if w not in text]
    assert not missing, missing[:20]
    assert len(table) > 80  # the demo year has every section: a real check, not an empty one


def test_title_page_names_the_clinic_period_cohort_and_suppression(demo_pdf):
    path, _, report = demo_pdf
    reader = PdfReader(path)
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Harbour Ketamine Clinic" in first
    assert "Period: 2026 (Jan-Dec 2026)" in first
    assert "Cohort: all courses" in first
    assert "Counts of 1-10 are shown as <11" in first
    assert f"Page 1 of {len(reader.pages)}" in first and "generated" in first
    started = report["courses_started"]
    assert first.index("Summary") < first.index(f"{started} courses started in 2026")
    text = _text(path)
    assert "Appendix: how the numbers are defined" in text and "CMS159" in text
    assert "McInnes LA" in text and "doi:10.1016/j.jad.2021.12.097" in text  # published results, cited


def test_charts_are_drawn_as_images_by_chromium(demo_pdf):
    """Chromium is installed (.ci/run installs it): every chart is an image and none is replaced by a sentence."""
    path, _, report = demo_pdf
    answered = [c for c, s in report["instruments"].items() if s["baseline_n"] != 0 or s["itt"]["n"] != 0]
    assert answered == ["PHQ-9", "GAD-7", "PCL-5"]  # the demo clinic records all three
    images = sum(len(page.images) for page in PdfReader(path).pages)
    assert images == 7  # a trajectory and a rates-by-year chart per instrument, and PHQ-9 durability
    assert "Chart not available" not in _text(path)


def test_a_page_renders_to_png(demo_pdf, tmp_path):
    """pdftoppm (poppler) turns the charts page into a PNG; the picture is checked by eye when it changes."""
    path, _, _ = demo_pdf
    reader = PdfReader(path)
    charts_page = next(i for i, page in enumerate(reader.pages, start=1) if page.images)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            str(charts_page),
            "-l",
            str(charts_page),
            str(path),
            str(tmp_path / "p"),
        ],
        check=True,
        timeout=120,
    )
    pngs = list(tmp_path.glob("p*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 20_000
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_clinic(tmp_path_factory) -> Path:
    """12 courses in 2026Q1, 8 of them PHQ-9 responders (a small cell)."""
    path = tmp_path_factory.mktemp("small") / "clinic.duckdb"
    sessions, assessments = _clinic()
    with store.opened(path) as con:
        assert ingest.import_tables(con, [("s.csv", sessions), ("a.csv", assessments)], today=TODAY).ok
    return path


def test_suppression_is_honoured_and_charts_say_when_no_browser(small_clinic, tmp_path):
    """No browser (BROWSER_PATH names none): each chart is the sentence. 8 responders of 12: the PDF shows
    '<11' and 'withheld', never 8 or 66.7%; the internal-use PDF shows them and says INTERNAL USE."""
    shared, internal = tmp_path / "shared.pdf", tmp_path / "internal.pdf"
    no_browser = {"BROWSER_PATH": str(tmp_path / "no-chromium-here")}
    assert (
        _run(small_clinic, "--period", "2026Q1", "--format", "pdf", "--out", str(shared), env=no_browser).returncode
        == 0
    )
    run = _run(
        small_clinic, "--period", "2026Q1", "--format", "pdf", "--no-suppress", "--out", str(internal), env=no_browser
    )
    assert run.returncode == 0, run.stderr
    text = _text(shared)
    assert "Intention to treat 12 <11 withheld (small numbers)" in text
    assert "66.7%" not in text and "INTERNAL USE" not in text
    assert text.count(NO_BROWSER) == 2  # the PHQ-9 trajectory and the rates by quarter
    assert sum(len(page.images) for page in PdfReader(shared).pages) == 0
    open_text = _text(internal)
    assert "INTERNAL USE ONLY" in open_text
    assert "Intention to treat 12 8 66.7% (39.1-86.2%)" in open_text


def test_pdf_to_the_terminal_is_refused(small_clinic):
    run = _run(small_clinic, "--format", "pdf")
    assert run.returncode == 2 and "--out" in run.stderr and "Traceback" not in run.stderr
