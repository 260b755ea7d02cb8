"""The quarterly report as an Excel workbook a director can send as it is: title sheet, words, formatted numbers."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analysis.reporting.shapes import Count, Report
from analysis.spreadsheet import neutralised

HEADERS = ("Section", "Instrument", "Measure", "Value", "95% CI", "Out of (n)")
HEADER_FILL = PatternFill("solid", fgColor="F1F3F6")
INTERNAL_FILL = PatternFill("solid", fgColor="FFF1E6")
NOTE_FILL = PatternFill("solid", fgColor="EEF4FB")
FORMATS = {"rate": "0.0%", "mean": "0.0", "days": "0.0", "count": "0"}


def interval_text(kind: str, low: float | None, high: float | None) -> str:
    """'38.0–66.2%' for a rate, '10.1 to 14.9' for a mean; blank when there is none (or it is withheld)."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    if kind == "rate":
        return f"{low * 100:.1f}–{high * 100:.1f}%"
    return f"{low:.1f} to {high:.1f}"


def _cell_value(value: Count | float | None) -> int | float | str | None:
    """Numbers stay numbers (Excel formats them); '<11' stays text; missing is blank."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value
    return float(value) if isinstance(value, float) else int(value)


def _fit(sheet: Worksheet, minimum: int = 8, maximum: int = 80) -> None:
    for column in sheet.columns:
        longest = max((len(str(cell.value)) for cell in column if cell.value is not None), default=0)
        sheet.column_dimensions[get_column_letter(column[0].column)].width = min(max(minimum, longest + 2), maximum)


def _figures_sheet(workbook: Workbook, title: str, table: pd.DataFrame) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for row in table.itertuples(index=False):
        value = _cell_value(row.value)
        denominator = _cell_value(row.denominator)
        sheet.append(
            [
                row.section,
                row.instrument,
                row.measure,
                value,
                interval_text(row.kind, row.ci_lower, row.ci_upper),
                denominator,
            ]
        )
        cell = sheet.cell(row=sheet.max_row, column=4)
        if isinstance(value, (int, float)):
            cell.number_format = FORMATS.get(row.kind, "General")
        cell.alignment = Alignment(horizontal="right")
        sheet.cell(row=sheet.max_row, column=6).alignment = Alignment(horizontal="right")
    sheet.freeze_panes = "A2"
    _fit(sheet)


def to_xlsx(report: Report, figures: pd.DataFrame, parts: dict) -> bytes:
    """Title sheet (clinic, period, cohort, suppression, summary), Outcomes, Trajectory and Settings sheets."""
    workbook = Workbook()
    title = workbook.active
    title.title = "Report"
    name = parts["clinic_name"] or "Clinic name not set (settings.toml [reporting] clinic_name)"
    title.append([name])
    title["A1"].font = Font(bold=True, size=16)
    title.append([f"Ketamine and esketamine outcomes: {parts['period_label']}"])
    title["A2"].font = Font(bold=True, size=13)
    notes = parts["notes"]
    title.append([notes[1]])
    title.append([notes[2]])
    title.append([notes[0]])
    title["A5"].font = Font(bold=True, color="D55E00" if not report["suppressed"] else "1F2933")
    title["A5"].fill = INTERNAL_FILL if not report["suppressed"] else NOTE_FILL
    title.append([])
    title.append(["Summary"])
    title.cell(row=title.max_row, column=1).font = Font(bold=True, size=13)
    for sentence in parts["summary"]:
        title.append([sentence])
    title.append([])
    title.append(
        [
            "Sheets: Outcomes (every figure, rates as percentages with their 95% interval), Trajectory (mean "
            "score by session), Settings (how the numbers were made)."
        ]
    )
    for row in title.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    title.column_dimensions["A"].width = 110

    trajectory = figures["section"] == "Trajectory"
    _figures_sheet(workbook, "Outcomes", figures.loc[~trajectory])
    _figures_sheet(workbook, "Trajectory", figures.loc[trajectory])

    settings = workbook.create_sheet("Settings")
    settings.append(["Setting", "Value"])
    for cell in settings[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for words, value in parts["settings_rows"]:
        settings.append([words, value])
    _fit(settings)

    # openpyxl stores text starting with '=' as a live formula: no cell may start one (OWASP).
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = neutralised(cell.value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
