"""The importer against DATA_FORMAT.md: each rule with a small synthetic export, including the case it refuses.

Stores are in memory; xlsx files are written here with openpyxl (real Excel date cells). Row
numbers are as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import textwrap

import openpyxl
import pytest
from paths import REPO, external

from analysis import ingest, store
from analysis.ingest import readers

TODAY = dt.date(2026, 6, 30)
EXAMPLES = REPO / "data" / "examples"


# ---------------------------------------------------------------------------
# Helpers (also used by the CLI and property tests)


def csv(text: str, encoding: str = "utf-8") -> bytes:
    """A CSV file from an indented literal."""
    return textwrap.dedent(text).lstrip("\n").encode(encoding)


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    """A workbook with one sheet per entry; datetime/date values become real Excel date cells."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for column in sheet.iter_cols():
            for cell in column:
                if isinstance(cell.value, (dt.date, dt.datetime)):
                    cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(con, *files: tuple[str, bytes], **options) -> ingest.ImportResult:
    return ingest.import_bytes(con, list(files), today=TODAY, user="tester", **options)


def dump(con) -> dict[str, list]:
    """Every row of every table (meta, data, imports, quarantine): equal dumps mean an unchanged store."""
    return {
        table: sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall()))
        for table in ("meta",) + store.DATA_TABLES
    }


@functools.cache
def empty_store_dump() -> dict[str, list]:
    """The dump of a store nothing was ever imported into (read-only: compare, never change)."""
    connection = store.connect_memory()
    try:
        return dump(connection)
    finally:
        connection.close()


def held(con) -> dict[str, list]:
    """What the store holds clinically (no import ids): to compare stores filled from different files."""
    return {
        "sessions": con.execute(
            "SELECT patient_id, session_date, modality, dose_mg, site, clinician_id FROM sessions ORDER BY ALL"
        ).fetchall(),
        "assessments": con.execute(
            "SELECT patient_id, assessment_date, instrument, items, total, total_method, "
            "items_answered, item9 FROM assessments ORDER BY ALL"
        ).fetchall(),
    }


def assessment(con, patient_id: str, day: str, instrument: str) -> dict:
    rows = con.execute(
        "SELECT items, total, total_method, items_answered, item9 FROM assessments "
        "WHERE patient_id = ? AND assessment_date = ? AND instrument = ?",
        [patient_id, day, instrument],
    ).fetchall()
    assert len(rows) == 1, (patient_id, day, instrument)
    return dict(zip(("items", "total", "method", "answered", "item9"), rows[0]))


def only_problem(result: ingest.ImportResult) -> ingest.Problem:
    assert result.refused
    assert len(result.problems) == 1, [p.sentence() for p in result.problems]
    return result.problems[0]


@pytest.fixture
def con():
    connection = store.connect_memory()
    yield connection
    connection.close()


SESSIONS = csv("""
    patient_id,session_date,modality,dose_mg,site,clinician_id
    K-001,2026-01-05,ketamine_iv,35,NORTH,CLN-1
    K-001,2026-01-07,ketamine_iv,35,NORTH,CLN-1
    K-002,2026-02-02,esketamine_nasal,56,SOUTH,CLN-2
""")
ASSESSMENTS = csv("""
    patient_id,assessment_date,instrument,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9,total
    K-001,2026-01-05,PHQ-9,3,0,1,2,0,0,1,0,3,
    K-001,2026-01-05,GAD-7,3,0,1,2,0,0,1,,,
    K-002,2026-02-02,PHQ-9,,,,,,,,,,19
""")
PATIENTS = csv("""
    patient_id,age_band,sex,primary_condition,site,clinician_id
    K-001,25-34,F,TRD,NORTH,CLN-1
    K-002,45-54,M,MDD,SOUTH,CLN-2
""")


# ---------------------------------------------------------------------------
# Layout A


def test_layout_a_csv_files_load_every_table(con):
    """Three CSV exports become three tables, scored by OUTCOMES.md §1."""
    result = run(con, ("patients.csv", PATIENTS), ("sessions.csv", SESSIONS), ("assessments.csv", ASSESSMENTS))
    assert result.ok, [p.sentence() for p in result.problems]
    assert (result.added, result.merged, result.rejected) == (8, 0, 0)
    assert con.execute("SELECT * EXCLUDE (import_id) FROM patients ORDER BY patient_id").fetchall() == [
        ("K-001", "25-34", "F", "TRD", "NORTH", "CLN-1"),
        ("K-002", "45-54", "M", "MDD", "SOUTH", "CLN-2"),
    ]
    assert held(con)["sessions"] == [
        ("K-001", dt.date(2026, 1, 5), "ketamine_iv", 35.0, "NORTH", "CLN-1"),
        ("K-001", dt.date(2026, 1, 7), "ketamine_iv", 35.0, "NORTH", "CLN-1"),
        ("K-002", dt.date(2026, 2, 2), "esketamine_nasal", 56.0, "SOUTH", "CLN-2"),
    ]
    assert assessment(con, "K-001", "2026-01-05", "PHQ-9") == {
        "items": [3, 0, 1, 2, 0, 0, 1, 0, 3],
        "total": 10,
        "method": "summed",
        "answered": 9,
        "item9": 3,
    }
    assert assessment(con, "K-001", "2026-01-05", "GAD-7") == {
        "items": [3, 0, 1, 2, 0, 0, 1],
        "total": 7,
        "method": "summed",
        "answered": 7,
        "item9": None,
    }


def test_patients_table_is_optional_and_every_patient_gets_a_row(con):
    assert run(con, ("sessions.csv", SESSIONS)).ok
    assert con.execute("SELECT patient_id, age_band FROM patients ORDER BY 1").fetchall() == [
        ("K-001", None),
        ("K-002", None),
    ]


def test_kind_is_told_by_the_header_not_the_file_name(con):
    """Assessments saved as 'sessions.csv' and sessions saved as 'export (2).csv' load as what they hold."""
    result = run(con, ("sessions.csv", ASSESSMENTS), ("export (2).csv", SESSIONS), ("assessments.csv", PATIENTS))
    assert result.ok
    assert [f.kinds for f in result.files] == [["assessments table"], ["sessions table"], ["patients table"]]
    assert store.counts(con)["assessments"] == 3 and store.counts(con)["sessions"] == 3


def _layout_a_workbook(extra_sheets: dict | None = None) -> bytes:
    return xlsx(
        {
            "Patients": [
                ["patient_id", "age_band", "sex", "primary_condition", "site", "clinician_id"],
                ["K-001", "25-34", "F", "TRD", "NORTH", "CLN-1"],
                ["K-002", "45-54", "M", "MDD", "SOUTH", "CLN-2"],
            ],
            "Treatments": [
                ["patient_id", "session_date", "modality", "dose_mg", "site", "clinician_id"],
                ["K-001", dt.datetime(2026, 1, 5, 9, 30), "ketamine_iv", 35, "NORTH", "CLN-1"],
                ["K-001", dt.date(2026, 1, 7), "ketamine_iv", 35.0, "NORTH", "CLN-1"],
                ["K-002", dt.date(2026, 2, 2), "esketamine_nasal", 56, "SOUTH", "CLN-2"],
            ],
            "Scores": [
                ["patient_id", "assessment_date", "instrument", *[f"item_{k}" for k in range(1, 10)], "total"],
                ["K-001", dt.date(2026, 1, 5), "PHQ-9", 3, 0, 1, 2, 0, 0, 1, 0, 3, None],
                ["K-001", dt.date(2026, 1, 5), "GAD-7", 3, 0, 1, 2, 0, 0, 1, None, None, None],
                ["K-002", dt.date(2026, 2, 2), "PHQ-9", *[None] * 9, 19],
            ],
            **(extra_sheets or {}),
        }
    )


def test_layout_a_as_sheets_of_one_xlsx_with_excel_date_cells(con):
    """The same clinic as sheets of one workbook (dates as Excel date cells, one with a time of day, an
    empty sheet left over) holds exactly what the CSV files hold."""
    from_csv = store.connect_memory()
    assert run(from_csv, ("p.csv", PATIENTS), ("s.csv", SESSIONS), ("a.csv", ASSESSMENTS)).ok
    result = run(con, ("clinic.xlsx", _layout_a_workbook({"Sheet2": []})))
    assert result.ok, [p.sentence() for p in result.problems]
    assert result.files[0].kinds == ["patients table", "sessions table", "assessments table"]
    assert held(con) == held(from_csv)


def test_xlsx_problems_name_the_sheet_and_its_row(con):
    workbook = xlsx(
        {
            "Sessions": [
                ["patient_id", "session_date", "modality"],
                ["K-1", dt.date(2026, 1, 5), "IV"],
                [],
                ["K-1", dt.date(2099, 1, 5), "IV"],
            ]
        }
    )
    problem = only_problem(run(con, ("clinic.xlsx", workbook)))
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "clinic.xlsx [Sessions]",
        4,
        "session_date",
        "2099-01-05",
    )


MODALITY_CELLS = {
    "IM": "ketamine_im",
    "im": "ketamine_im",
    "Intramuscular": "ketamine_im",
    "IM ketamine": "ketamine_im",
    "IV": "ketamine_iv",
    " iv ": "ketamine_iv",
    "Ketamine IV": "ketamine_iv",
    "infusion": "ketamine_iv",
    "Spravato": "esketamine_nasal",
    "SPRAVATO": "esketamine_nasal",
    "esketamine": "esketamine_nasal",
    "Esketamine nasal": "esketamine_nasal",
    "esketamine_nasal": "esketamine_nasal",
    "SL": "ketamine_oral",
    "sl": "ketamine_oral",
    "troche": "ketamine_oral",
    "Troches": "ketamine_oral",
    "oral": "ketamine_oral",
    "ketamine_oral": "ketamine_oral",
}


def _one_per_day(cells, header: str, suffix: str = "") -> bytes:
    """One row per cell, each on its own day, so no two rows share a key."""
    lines = [header] + [
        f"K-1,{dt.date(2026, 1, 1) + dt.timedelta(days=k)},{cell}{suffix}" for k, cell in enumerate(cells)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_modality_aliases_are_mapped_case_insensitively(con):
    result = run(con, ("s.csv", _one_per_day(MODALITY_CELLS, "patient_id,session_date,modality")))
    assert result.ok, [p.sentence() for p in result.problems]
    assert [s[2] for s in held(con)["sessions"]] == list(MODALITY_CELLS.values())


def test_a_dose_written_beside_the_route_is_read_past(con):
    """DATA_FORMAT.md's own examples: 'Spravato 84mg' and 'Ketamine IM 0.5 mg/kg' (found by the fuzzer)."""
    cells = {
        "Spravato 84mg": "esketamine_nasal",
        "Spravato 56 mg": "esketamine_nasal",
        "Ketamine IM 0.5 mg/kg": "ketamine_im",
        "IV 35mg": "ketamine_iv",
    }
    result = run(con, ("s.csv", _one_per_day(cells, "patient_id,session_date,modality")))
    assert result.ok, [p.sentence() for p in result.problems]
    assert [s[2] for s in held(con)["sessions"]] == list(cells.values())
    # A dose alone names no route.
    assert only_problem(run(con, ("t.csv", _one_per_day(["84mg"], "patient_id,session_date,modality")))).value == "84mg"


def test_unknown_or_ambiguous_modality_is_refused(con):
    cells = ["ketamine", "ECT", "esketamine IV", "ketamine nasal", "TMS"]
    result = run(con, ("s.csv", _one_per_day(cells, "patient_id,session_date,modality")))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (row, "modality", cell) for row, cell in enumerate(cells, start=2)
    ]
    assert all("not a known modality" in p.reason for p in result.problems)


INSTRUMENT_CELLS = {
    "PHQ-9": "PHQ-9",
    "PHQ9": "PHQ-9",
    "phq_9": "PHQ-9",
    "phq 9": "PHQ-9",
    "GAD-7": "GAD-7",
    "GAD7": "GAD-7",
    "gad_7": "GAD-7",
    "gad7": "GAD-7",
}


def test_instrument_aliases_are_mapped(con):
    result = run(con, ("a.csv", _one_per_day(INSTRUMENT_CELLS, "patient_id,assessment_date,instrument,total", ",5")))
    assert result.ok, [p.sentence() for p in result.problems]
    assert [(a[2], a[4]) for a in held(con)["assessments"]] == [(code, 5) for code in INSTRUMENT_CELLS.values()]


def test_unknown_instrument_is_refused(con):
    cells = ["PHQ-2", "BDI", "phq", "GAD-2"]
    result = run(con, ("a.csv", _one_per_day(cells, "patient_id,assessment_date,instrument,total", ",5")))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (row, "instrument", cell) for row, cell in enumerate(cells, start=2)
    ]


def test_header_aliases_are_mapped(con):
    """Headers as clinics write them: 'Patient ID', 'Treatment Date', 'Route', 'Dose (mg)', 'Measure', 'Q1', 'Total Score'."""
    sessions = csv("""
        Patient ID ,Treatment Date,Route,Dose (mg),Location,Provider
        K-1,2026-01-05,IV,35,NORTH,CLN-1
    """)
    assessments = csv("""
        Client ID,Score Date,Measure,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Total Score
        K-1,2026-01-05,GAD7,1,1,1,1,1,1,1,7
    """)
    result = run(con, ("s.csv", sessions), ("a.csv", assessments))
    assert result.ok, [p.sentence() for p in result.problems]
    assert held(con)["sessions"] == [("K-1", dt.date(2026, 1, 5), "ketamine_iv", 35.0, "NORTH", "CLN-1")]
    assert assessment(con, "K-1", "2026-01-05", "GAD-7")["total"] == 7


def test_patient_attribute_values_and_their_aliases(con):
    patients = csv("""
        patient_id,age_band,sex,primary_condition
        A,65+,female,Major depressive disorder
        B,18-24,M,bipolar
        C,,,
    """)
    assert run(con, ("p.csv", patients)).ok
    assert con.execute("SELECT patient_id, age_band, sex, primary_condition FROM patients ORDER BY 1").fetchall() == [
        ("A", "65+", "F", "MDD"),
        ("B", "18-24", "M", "bipolar depression"),
        ("C", None, None, None),
    ]


def test_bad_patient_attributes_are_each_named(con):
    patients = csv("""
        patient_id,age_band,sex,primary_condition,site
        A,17-20,Q,flu,NORTH SITE
    """)
    result = run(con, ("p.csv", patients))
    assert result.refused
    assert {(p.row, p.column, p.value) for p in result.problems} == {
        (2, "age_band", "17-20"),
        (2, "sex", "Q"),
        (2, "primary_condition", "flu"),
        (2, "site", "NORTH SITE"),
    }


def test_pseudonym_rule_is_1_to_64_safe_characters(con):
    longest = "P" * 64
    rows = f"patient_id,session_date,modality\n{longest},2026-01-05,IV\n{'P' * 65},2026-01-05,IV\nP 1,2026-01-05,IV\n,2026-01-05,IV\n"
    result = run(con, ("s.csv", rows.encode()))
    assert {(p.row, p.column) for p in result.problems} == {(3, "patient_id"), (4, "patient_id"), (5, "patient_id")}
    assert "is blank" in next(p.reason for p in result.problems if p.row == 5)


# ---------------------------------------------------------------------------
# Dates


def test_iso_dates_with_or_without_a_time_are_the_day(con):
    cells = [
        "2026-01-05",
        "2026-01-06T09:30:00",
        "2026-01-07 09:30",
        "2026-01-08T09:30:00Z",
        "2026-01-09T23:30:00-04:00",
    ]
    rows = "patient_id,session_date,modality\n" + "".join(f"K-1,{cell},IV\n" for cell in cells)
    assert run(con, ("s.csv", rows.encode())).ok
    assert [s[1] for s in held(con)["sessions"]] == [dt.date(2026, 1, day) for day in range(5, 10)]


DATE_PROBLEMS = {
    "02/30/2026": "not a real calendar date when read as MM/DD/YYYY",
    "5 Jan 2026": "not a date written YYYY-MM-DD",
    "45662": "not a date written YYYY-MM-DD",
    "2026-02-30": "not a real calendar date",
    "2026-13-01": "not a real calendar date",
    "2026-07-01": "in the future",
    "1899-12-31": "before 1990",
}


def test_impossible_foreign_or_future_dates_are_refused(con):
    rows = "patient_id,session_date,modality\n" + "".join(
        f'K-{k},"{cell}",IV\n' for k, cell in enumerate(DATE_PROBLEMS)
    )
    result = run(con, ("s.csv", rows.encode()))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (row, "session_date", cell) for row, cell in enumerate(DATE_PROBLEMS, start=2)
    ]
    for problem in result.problems:
        assert DATE_PROBLEMS[problem.value] in problem.reason


def test_today_is_not_the_future(con):
    assert run(con, ("s.csv", csv(f"patient_id,session_date,modality\nK-1,{TODAY.isoformat()},IV\n"))).ok


# ---------------------------------------------------------------------------
# Doses, items and totals


def test_bad_doses_are_refused(con):
    doses = {"0": "more than 0 mg", "-50": "more than 0 mg", "fifty": "not a number", "5000": "above 1500 mg"}
    rows = "patient_id,session_date,modality,dose_mg\n" + "".join(
        f"K-{k},2026-01-05,IV,{d}\n" for k, d in enumerate(doses)
    )
    result = run(con, ("s.csv", rows.encode()))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (row, "dose_mg", dose) for row, dose in enumerate(doses, start=2)
    ]
    for problem in result.problems:
        assert doses[problem.value] in problem.reason


def test_dose_is_optional_and_decimal(con):
    rows = csv("""
        patient_id,session_date,modality,dose_mg
        K-1,2026-01-05,IV,
        K-1,2026-01-06,IV,0.5
    """)
    assert run(con, ("s.csv", rows)).ok
    assert [r[3] for r in held(con)["sessions"]] == [None, 0.5]


def _phq9_row(items: list, total="") -> bytes:
    header = "patient_id,assessment_date,instrument," + ",".join(f"item_{k}" for k in range(1, 10)) + ",total\n"
    cells = ["" if a is None else str(a) for a in items] + [""] * (9 - len(items))
    return (header + f"K-1,2026-01-05,PHQ-9,{','.join(cells)},{total}\n").encode()


def test_items_written_as_2_point_0_count_as_2(con):
    assert run(con, ("a.csv", _phq9_row(["2.0", "1.0", 0, 0, 0, 0, 0, 0, "0.0"]))).ok
    assert assessment(con, "K-1", "2026-01-05", "PHQ-9")["total"] == 3


def test_item_out_of_range_is_refused_by_the_importer(con):
    cells = ["4", "-1", "2.5", "x", "1e3"]
    rows = "patient_id,assessment_date,instrument,item_1,item_2\n" + "".join(
        f"K-{k},2026-01-05,GAD-7,{cell},0\n" for k, cell in enumerate(cells)
    )
    result = run(con, ("a.csv", rows.encode()))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (row, "item_1", cell) for row, cell in enumerate(cells, start=2)
    ]
    assert all("0 to 3" in p.reason for p in result.problems)


def test_total_out_of_the_instruments_range_is_refused(con):
    rows = csv("""
        patient_id,assessment_date,instrument,total
        K-1,2026-01-05,PHQ-9,28
        K-1,2026-01-05,GAD-7,22
        K-1,2026-01-06,GAD-7,21
    """)
    result = run(con, ("a.csv", rows))
    assert [(p.row, p.column, p.value) for p in result.problems] == [(2, "total", "28"), (3, "total", "22")]


def test_total_that_disagrees_with_items_is_refused_with_their_sum(con):
    problem = only_problem(run(con, ("a.csv", _phq9_row([3, 0, 1, 2, 0, 0, 1, 0, 3], total=12))))
    assert (problem.row, problem.column, problem.value) == (2, "total", "12")
    assert "sum of the item answers (10)" in problem.reason


MIXED_WITH_A_WRONG_GAD7_TOTAL = csv("""
    patient_id,assessment_date,instrument,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9,total
    Z-001,2025-03-06,PHQ-9,1,1,1,1,1,1,1,1,1,9
    Z-002,2025-03-06,GAD-7,1,1,1,1,1,1,1,,,9
""")


def test_a_wrong_total_among_other_instruments_rows_is_one_problem_not_a_crash(con):
    """Issue 8: the reasons for wrong totals were one per wrong row, the mask one per table row."""
    problem = only_problem(run(con, ("a.csv", MIXED_WITH_A_WRONG_GAD7_TOTAL)))
    assert (problem.file, problem.row, problem.column, problem.value) == ("a.csv", 3, "total", "9")
    assert "sum of the item answers (7)" in problem.reason
    assert dump(con) == empty_store_dump()


def test_wrong_totals_of_two_instruments_interleaved_each_get_their_own_sum(con):
    rows = csv("""
        patient_id,assessment_date,instrument,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9,total
        Z-001,2025-03-06,GAD-7,1,1,1,1,1,1,0,,,9
        Z-001,2025-03-06,PHQ-9,2,2,2,2,2,2,2,2,2,18
        Z-002,2025-03-06,PHQ-9,1,1,1,1,1,1,1,1,0,9
        Z-002,2025-03-06,GAD-7,3,3,3,3,3,3,3,,,21
        Z-003,2025-03-06,GAD-7,0,0,0,0,0,0,1,,,0
    """)
    result = run(con, ("a.csv", rows))
    assert [(p.row, p.reason.split("(")[1].split(")")[0]) for p in result.problems] == [(2, "6"), (4, "8"), (6, "1")]


def test_total_only_phq9_is_supplied_with_item9_unknown(con):
    assert run(con, ("a.csv", _phq9_row([], total=14))).ok
    assert assessment(con, "K-1", "2026-01-05", "PHQ-9") == {
        "items": [None] * 9,
        "total": 14,
        "method": "supplied",
        "answered": 0,
        "item9": None,
    }


def test_missing_items_are_prorated_or_marked_incomplete(con):
    rows = csv("""
        patient_id,assessment_date,instrument,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9,total
        K-1,2026-01-05,PHQ-9,2,2,2,2,2,2,2,2,,
        K-1,2026-01-06,PHQ-9,1,1,1,1,0,0,0,0,,
        K-1,2026-01-07,PHQ-9,1,1,1,1,1,1,,,,
        K-1,2026-01-05,GAD-7,1,2,3,1,2,,,,,
        K-1,2026-01-06,GAD-7,1,2,3,1,2,,,,,9
    """)
    assert run(con, ("a.csv", rows)).ok
    assert assessment(con, "K-1", "2026-01-05", "PHQ-9") == {
        "items": [2, 2, 2, 2, 2, 2, 2, 2, None],
        "total": 18,
        "method": "prorated",
        "answered": 8,
        "item9": None,
    }
    assert assessment(con, "K-1", "2026-01-06", "PHQ-9")["total"] == 5  # 4 / 8 x 9 = 4.5, half up
    assert assessment(con, "K-1", "2026-01-07", "PHQ-9")["method"] == "incomplete"
    assert assessment(con, "K-1", "2026-01-07", "PHQ-9")["total"] is None
    assert assessment(con, "K-1", "2026-01-05", "GAD-7") == {
        "items": [1, 2, 3, 1, 2, None, None],
        "total": None,
        "method": "incomplete",
        "answered": 5,
        "item9": None,
    }
    assert assessment(con, "K-1", "2026-01-06", "GAD-7")["total"] == 9


def test_gad7_rows_leave_items_8_and_9_blank(con):
    rows = csv("""
        patient_id,assessment_date,instrument,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9,total
        K-1,2026-01-05,GAD-7,1,1,1,1,1,1,1,1,,
    """)
    problem = only_problem(run(con, ("a.csv", rows)))
    assert (problem.row, problem.column, problem.value) == (2, "item_8", "1")


def test_a_row_needs_items_or_a_total(con):
    problem = only_problem(run(con, ("a.csv", _phq9_row([]))))
    assert problem.row == 2 and "neither item answers nor a total" in problem.reason


# ---------------------------------------------------------------------------
# Layout B


SESSION_LOG_HEADER = (
    "patient_id,session_date,modality,dose_mg,phq9_total,gad7_total,"
    + ",".join(f"phq9_item_{k}" for k in range(1, 10))
    + ","
    + ",".join(f"gad7_item_{k}" for k in range(1, 8))
)


def test_session_log_row_is_a_session_and_a_same_day_assessment_per_instrument(con):
    log = csv(f"""
        {SESSION_LOG_HEADER}
        K-1,2026-01-05,IV,35,,12,3,0,1,2,0,0,1,0,3,,,,,,,
        K-1,2026-01-07,IV,35,,,,,,,,,,,,,,,,,,
        K-1,2026-01-20,,,9,,,,,,,,,,,,,,,,,
    """)
    result = run(con, ("log.csv", log))
    assert result.ok, [p.sentence() for p in result.problems]
    assert result.files[0].kinds == ["session log (layout B)"]
    assert [s[:3] for s in held(con)["sessions"]] == [
        ("K-1", dt.date(2026, 1, 5), "ketamine_iv"),
        ("K-1", dt.date(2026, 1, 7), "ketamine_iv"),
    ]
    assert assessment(con, "K-1", "2026-01-05", "PHQ-9")["total"] == 10
    assert assessment(con, "K-1", "2026-01-05", "PHQ-9")["item9"] == 3
    assert assessment(con, "K-1", "2026-01-05", "GAD-7")["method"] == "supplied"
    # a score with no modality is an assessment alone (a follow-up call)
    assert assessment(con, "K-1", "2026-01-20", "PHQ-9") == {
        "items": [None] * 9,
        "total": 9,
        "method": "supplied",
        "answered": 0,
        "item9": None,
    }
    assert store.counts(con)["assessments"] == 3


def test_a_session_log_without_a_modality_column_is_a_file_of_assessments(con):
    """DATA_FORMAT.md, layout B: 'a log with no modality column at all is a file of assessments'."""
    log = csv("""
        patient_id,session_date,phq9_total,gad7_total
        K-1,2026-01-05,14,9
        K-1,2026-02-05,6,
    """)
    result = run(con, ("log.csv", log))
    assert result.ok, [p.sentence() for p in result.problems]
    assert held(con)["sessions"] == []
    assert [(a[1], a[2], a[4]) for a in held(con)["assessments"]] == [
        (dt.date(2026, 1, 5), "GAD-7", 9),
        (dt.date(2026, 1, 5), "PHQ-9", 14),
        (dt.date(2026, 2, 5), "PHQ-9", 6),
    ]


def test_pcl5_comes_in_through_layout_a_and_the_session_log(con):
    """A PTSD clinic's PCL-5: layout A item_1..item_20 (answers 0-4) and layout B pcl5_* columns.
    Layout A: 20 answers of 2 = 40 (summed). Layout B: pcl5_total 52 alone (total only), and 16
    answers of 3 with 4 blank: prorated 48 * 20 / 16 = 60."""
    items = ",".join(["2"] * 20)
    layout_a = csv(f"""
        patient_id,assessment_date,instrument,{",".join(f"item_{k}" for k in range(1, 21))},total
        T-1,2026-02-02,PCL5,{items},
    """)
    header = "patient_id,session_date,modality,pcl5_total," + ",".join(f"pcl5_item_{k}" for k in range(1, 21))
    layout_b = csv(f"""
        {header}
        T-2,2026-02-02,IV,52,{"," * 19}
        T-2,2026-02-05,IV,,{",".join(["3"] * 16 + [""] * 4)}
    """)
    result = run(con, ("a.csv", layout_a), ("log.csv", layout_b))
    assert result.ok, [p.sentence() for p in result.problems]
    assert assessment(con, "T-1", "2026-02-02", "PCL-5")["total"] == 40
    assert assessment(con, "T-2", "2026-02-02", "PCL-5")["method"] == "supplied"
    prorated = assessment(con, "T-2", "2026-02-05", "PCL-5")
    assert (prorated["total"], prorated["method"], prorated["answered"]) == (60, "prorated", 16)
    assert prorated["item9"] is None  # the PCL-5 has no safety item


def test_a_pcl5_answer_of_5_names_the_pcl5_range(con):
    row = ",".join(["1", "5"] + ["0"] * 18)
    bad = csv(f"""
        patient_id,assessment_date,instrument,{",".join(f"item_{k}" for k in range(1, 21))}
        T-1,2026-02-02,PCL-5,{row}
    """)
    result = run(con, ("a.csv", bad))
    assert result.refused
    assert [p.sentence() for p in result.problems] == [
        "a.csv, row 2, column item_2: '5' is not a valid PCL-5 item answer (a whole number from 0 to 4)."
    ]


def test_session_log_rows_that_say_nothing_or_dose_without_modality_are_refused(con):
    log = csv("""
        patient_id,session_date,modality,dose_mg,phq9_total
        K-1,2026-01-05,,35,10
        K-1,2026-01-06,,,
    """)
    result = run(con, ("log.csv", log))
    assert {(p.row, p.column) for p in result.problems} == {(2, "dose_mg"), (3, "modality")}


def test_session_log_as_xlsx_with_date_cells(con):
    header = SESSION_LOG_HEADER.split(",")
    blank = [None] * (len(header) - 6)
    workbook = xlsx(
        {
            "Log": [
                header,
                ["K-1", dt.date(2026, 1, 5), "Spravato", 56, 14, 9, *blank],
                ["K-1", dt.datetime(2026, 1, 8, 14, 0), "spravato", 84, None, None, *blank],
            ]
        }
    )
    assert run(con, ("log.xlsx", workbook)).ok
    assert [s[:4] for s in held(con)["sessions"]] == [
        ("K-1", dt.date(2026, 1, 5), "esketamine_nasal", 56.0),
        ("K-1", dt.date(2026, 1, 8), "esketamine_nasal", 84.0),
    ]
    assert [(a[2], a[4]) for a in held(con)["assessments"]] == [("GAD-7", 9), ("PHQ-9", 14)]


# ---------------------------------------------------------------------------
# "Done means": both layouts of one clinic, every documented quirk, hold the same sessions and assessments

CLINIC_LAYOUT_A = {
    # header aliases, modality aliases, whitespace, a date with a time of day
    "treatments.csv": csv("""
        Patient ID,Treatment Date,Route,Dose (mg),Site
        K-001,2026-01-05,IV,35,NORTH
        K-001,2026-01-07, iv ,35,NORTH
        K-001,2026-01-09,Ketamine IV,40,NORTH
        K-002,2026-02-02,Spravato,56,SOUTH
        K-002,2026-02-05,esketamine,84,SOUTH
        K-003,2026-03-02,IM,50,NORTH
        K-003,2026-03-04T10:30:00,im,50,NORTH
    """),
    # instrument aliases, item/total header aliases, total-only, prorated, incomplete, "2.0", follow-ups
    "scores.csv": csv("""
        patient_id,Score Date,Measure,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8,Q9,Total Score
        K-001,2026-01-05,PHQ9,3,3,2,2,2,2,2,1,1,18
        K-001,2026-01-05,gad_7,2,2,2,2,2,1,1,,,
        K-001,2026-01-09,phq_9,1,1,1,1,1,1,1,1,0,
        K-001,2026-01-20,PHQ-9,0,1,0,1,0,1,0,1,0,
        K-002,2026-02-02,PHQ-9,,,,,,,,,,19
        K-002,2026-02-02,GAD7,3,3,2,2,2,,2,,,
        K-002,2026-02-05,PHQ-9,2.0,2,2,2,2,2,2,2,,
        K-003,2026-03-02,PHQ-9,1,1,1,1,1,1,,,,
        K-003,2026-03-10,GAD-7,,,,,,,,,,5
    """),
}
_LOG_HEADER_B = (
    "Patient,Date,Modality,Dose,Site,"
    + ",".join(f"PHQ-9 Q{k}" for k in range(1, 10))
    + ",PHQ-9 Total,"
    + ",".join(f"GAD7 Q{k}" for k in range(1, 8))
    + ",GAD7 score"
)
CLINIC_LAYOUT_B_ROWS = [
    # patient, date, modality, dose, site, PHQ-9 items (9), PHQ-9 total, GAD-7 items (7), GAD-7 total
    ["K-001", "2026-01-05", "IV", 35, "NORTH", 3, 3, 2, 2, 2, 2, 2, 1, 1, 18, 2, 2, 2, 2, 2, 1, 1, None],
    ["K-001", "2026-01-07", "IV", 35, "NORTH", *[None] * 9, None, *[None] * 7, None],
    ["K-001", "2026-01-09", "ketamine_iv", 40, "NORTH", 1, 1, 1, 1, 1, 1, 1, 1, 0, None, *[None] * 7, None],
    ["K-001", "2026-01-20", None, None, None, 0, 1, 0, 1, 0, 1, 0, 1, 0, None, *[None] * 7, None],
    ["K-002", "2026-02-02", "SPRAVATO", 56, "SOUTH", *[None] * 9, 19, 3, 3, 2, 2, 2, None, 2, None],
    ["K-002", "2026-02-05", "Esketamine", 84, "SOUTH", 2, 2, 2, 2, 2, 2, 2, 2, None, None, *[None] * 7, None],
    ["K-003", "2026-03-02", "IM", 50, "NORTH", 1, 1, 1, 1, 1, 1, None, None, None, None, *[None] * 7, None],
    ["K-003", "2026-03-04", "im", 50, "NORTH", *[None] * 9, None, *[None] * 7, None],
    ["K-003", "2026-03-10", None, None, None, *[None] * 9, None, *[None] * 7, 5],
]
CLINIC_EXPECTED_ASSESSMENTS = [
    # worked by hand: (patient, day, instrument, total, method, items answered, item 9)
    ("K-001", dt.date(2026, 1, 5), "GAD-7", 12, "summed", 7, None),
    ("K-001", dt.date(2026, 1, 5), "PHQ-9", 18, "summed", 9, 1),
    ("K-001", dt.date(2026, 1, 9), "PHQ-9", 8, "summed", 9, 0),
    ("K-001", dt.date(2026, 1, 20), "PHQ-9", 4, "summed", 9, 0),
    ("K-002", dt.date(2026, 2, 2), "GAD-7", 16, "prorated", 6, None),  # 14 / 6 x 7 = 16.3
    ("K-002", dt.date(2026, 2, 2), "PHQ-9", 19, "supplied", 0, None),  # total only: item 9 unknown
    ("K-002", dt.date(2026, 2, 5), "PHQ-9", 18, "prorated", 8, None),  # 16 / 8 x 9 = 18
    ("K-003", dt.date(2026, 3, 2), "PHQ-9", None, "incomplete", 6, None),
    ("K-003", dt.date(2026, 3, 10), "GAD-7", 5, "supplied", 0, None),
]


def _layout_b_csv() -> bytes:
    lines = [_LOG_HEADER_B] + [",".join("" if v is None else str(v) for v in row) for row in CLINIC_LAYOUT_B_ROWS]
    return ("\n".join(lines) + "\n").encode()


def _layout_b_xlsx() -> bytes:
    rows = [[dt.date.fromisoformat(v) if k == 1 else v for k, v in enumerate(row)] for row in CLINIC_LAYOUT_B_ROWS]
    return xlsx({"Session log": [_LOG_HEADER_B.split(","), *rows]})


def test_both_layouts_of_one_clinic_hold_the_same_sessions_and_assessments():
    stores = {}
    for name, files in {
        "A csv": list(CLINIC_LAYOUT_A.items()),
        "B csv": [("session_log.csv", _layout_b_csv())],
        "B xlsx": [("session_log.xlsx", _layout_b_xlsx())],
    }.items():
        stores[name] = store.connect_memory()
        result = run(stores[name], *files)
        assert result.ok, (name, [p.sentence() for p in result.problems])
    reference = held(stores["A csv"])
    assert len(reference["sessions"]) == 7
    assert [(a[0], a[1], a[2], a[4], a[5], a[6], a[7]) for a in reference["assessments"]] == CLINIC_EXPECTED_ASSESSMENTS
    for name in ("B csv", "B xlsx"):
        assert held(stores[name]) == reference, name


def test_example_exports_of_both_layouts_hold_the_same_clinic():
    """data/examples: layout A (CSV and .xlsx) and layout B (CSV and .xlsx) of one synthetic clinic."""
    if not (EXAMPLES / "layout_b_session_log.csv").exists():
        pytest.skip("data/examples is not there yet")
    sets = {
        "A csv": [EXAMPLES / f"layout_a_{kind}.csv" for kind in ("patients", "sessions", "assessments")],
        "A xlsx": [EXAMPLES / "layout_a_clinic.xlsx"],
        "B csv": [EXAMPLES / "layout_b_session_log.csv"],
        "B xlsx": [EXAMPLES / "layout_b_session_log.xlsx"],
    }
    contents = {}
    for name, paths in sets.items():
        con = store.connect_memory()
        result = ingest.import_files(con, paths)
        assert result.ok, (name, [p.sentence() for p in result.problems[:5]])
        contents[name] = held(con)
    assert contents["A csv"]["sessions"] and contents["A csv"]["assessments"]
    for name in ("A xlsx", "B csv", "B xlsx"):
        assert contents[name] == contents["A csv"], name


# ---------------------------------------------------------------------------
# All or nothing, every problem, --skip-invalid


def _many_sessions(n: int, bad_at: int | None = None) -> bytes:
    lines = ["patient_id,session_date,modality,dose_mg"]
    for k in range(n):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=k % 300)
        dose = "-35" if k == bad_at else "35"
        lines.append(f"P{k // 300:03d}-{k:04d},{day.isoformat()},IV,{dose}")
    return ("\n".join(lines) + "\n").encode()


def test_one_bad_row_among_hundreds_changes_nothing(con):
    assert run(con, ("first.csv", SESSIONS)).ok
    before = dump(con)
    problem = only_problem(run(con, ("big.csv", _many_sessions(400, bad_at=249))))
    assert (problem.file, problem.row, problem.column, problem.value) == ("big.csv", 251, "dose_mg", "-35")
    assert dump(con) == before


def test_every_problem_is_reported_with_file_row_column_value_and_reason(con):
    sessions = csv("""
        patient_id,session_date,modality,dose_mg
        K-1,2026-01-05,IV,35
        K-1,2026-02-30,IV,35
        K-2,2026-01-05,ECT,35
        K 3,2026-01-05,IV,-1
    """)
    assessments = csv("""
        patient_id,assessment_date,instrument,total
        K-1,2026-01-05,PHQ-9,30
        K-1,2026-01-06,PHQ-2,3
    """)
    result = run(con, ("s.csv", sessions), ("a.csv", assessments))
    assert result.refused
    assert [(p.file, p.row, p.column, p.value) for p in result.problems] == [
        ("a.csv", 2, "total", "30"),
        ("a.csv", 3, "instrument", "PHQ-2"),
        ("s.csv", 3, "session_date", "2026-02-30"),
        ("s.csv", 4, "modality", "ECT"),
        ("s.csv", 5, "patient_id", "K 3"),
        ("s.csv", 5, "dose_mg", "-1"),
    ]
    assert all(p.reason for p in result.problems)
    assert (
        result.problems[0].sentence()
        == "a.csv, row 2, column total: '30' is not a valid PHQ-9 total (a whole number from 0 to 27)."
    )
    assert store.counts(con) == {"patients": 0, "sessions": 0, "assessments": 0, "imports": 0, "quarantine": 0}


def test_row_numbers_match_the_spreadsheet_despite_blank_lines(con):
    rows = b"\n\npatient_id,session_date,modality\n\nK-1,2026-01-05,IV\n\n\nK-1,2026-01-06,XX\n"
    problem = only_problem(run(con, ("s.csv", rows)))
    assert problem.row == 8  # header on line 3, bad row on line 8


def test_skip_invalid_loads_the_valid_rows_and_quarantines_the_rest(con):
    sessions = csv("""
        patient_id,session_date,modality
        K-1,2026-01-05,IV
        K-1,2026-01-06,ECT
        K-2,2099-01-01,IM
        K-2,2026-01-07,IM
    """)
    result = run(con, ("s.csv", sessions), skip_invalid=True)
    assert result.ok
    assert (result.added, result.merged, result.rejected) == (2, 0, 2)
    assert [s[:2] for s in held(con)["sessions"]] == [("K-1", dt.date(2026, 1, 5)), ("K-2", dt.date(2026, 1, 7))]
    quarantine = con.execute(
        "SELECT file_name, row_number, column_name, value, reason FROM quarantine ORDER BY 2"
    ).fetchall()
    assert [q[:4] for q in quarantine] == [("s.csv", 3, "modality", "ECT"), ("s.csv", 4, "session_date", "2099-01-01")]
    assert all(q[4] for q in quarantine)
    assert con.execute("SELECT rows_added, rows_merged, rows_rejected FROM imports").fetchall() == [(2, 0, 2)]


def test_skip_invalid_sets_a_session_log_row_aside_whole(con):
    """A bad score on a session-log row keeps its session out too: the row is quarantined as one."""
    log = csv("""
        patient_id,session_date,modality,phq9_total
        K-1,2026-01-05,IV,30
        K-1,2026-01-06,IV,12
    """)
    assert run(con, ("log.csv", log), skip_invalid=True).ok
    assert [s[1] for s in held(con)["sessions"]] == [dt.date(2026, 1, 6)]
    assert con.execute("SELECT row_number, column_name FROM quarantine").fetchall() == [(2, "phq9_total")]


def test_skip_invalid_still_refuses_identifying_files(con):
    rows = csv("""
        patient_id,session_date,modality,email
        K-1,2026-01-05,IV,k1@example.org
    """)
    result = run(con, ("s.csv", rows), skip_invalid=True)
    assert result.refused and dump(con) == empty_store_dump()


# ---------------------------------------------------------------------------
# Nothing lost, nothing doubled


def test_reimporting_the_same_files_changes_nothing_but_the_audit_trail(con):
    files = [("p.csv", PATIENTS), ("s.csv", SESSIONS), ("a.csv", ASSESSMENTS)]
    assert run(con, *files).ok
    before = dump(con)
    again = run(con, *files)
    assert again.ok and (again.added, again.merged, again.rejected) == (0, 8, 0)
    after = dump(con)
    for table in ("meta", "patients", "sessions", "assessments", "quarantine"):
        assert after[table] == before[table], table
    # the audit trail records the second import too: one row per file, every row merged
    assert con.execute(
        "SELECT file_name, rows_added, rows_merged FROM imports WHERE import_id > 3 ORDER BY 1"
    ).fetchall() == [("a.csv", 0, 3), ("p.csv", 0, 2), ("s.csv", 0, 3)]


def test_an_overlapping_export_adds_only_the_new_rows(con):
    assert run(con, ("s.csv", SESSIONS)).ok
    later_export = SESSIONS + b"K-002,2026-02-05,esketamine_nasal,84,SOUTH,CLN-2\n"
    result = run(con, ("s_later.csv", later_export))
    assert (result.added, result.merged) == (1, 3)
    assert store.counts(con)["sessions"] == 4
    assert held(con)["sessions"][-1][:3] == ("K-002", dt.date(2026, 2, 5), "esketamine_nasal")


def test_identical_rows_in_one_file_merge(con):
    rows = csv("""
        patient_id,session_date,modality
        K-1,2026-01-05,IV
        K-1,2026-01-05,iv
    """)
    result = run(con, ("s.csv", rows))
    assert (result.added, result.merged) == (1, 1)


def test_a_session_conflicting_within_one_file_is_refused_naming_both_rows(con):
    rows = csv("""
        patient_id,session_date,modality
        K-1,2026-01-05,IV
        K-1,2026-01-06,IV
        K-1,2026-01-05,IM
    """)
    result = run(con, ("s.csv", rows))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (2, "modality", "ketamine_iv"),
        (4, "modality", "ketamine_im"),
    ]
    assert "s.csv row 4" in result.problems[0].reason and "s.csv row 2" in result.problems[1].reason


def test_an_assessment_conflicting_across_files_of_one_import_is_refused(con):
    one = csv("""
        patient_id,assessment_date,instrument,total
        K-1,2026-01-05,PHQ-9,12
    """)
    other = csv("""
        patient_id,assessment_date,instrument,total
        K-1,2026-01-05,PHQ9,13
    """)
    result = run(con, ("one.csv", one), ("other.csv", other))
    assert [(p.file, p.row, p.column, p.value) for p in result.problems] == [
        ("one.csv", 2, "total", "12"),
        ("other.csv", 2, "total", "13"),
    ]
    assert store.counts(con)["assessments"] == 0


def test_conflicts_with_the_store_are_refused_and_change_nothing(con):
    assert run(con, ("s.csv", SESSIONS), ("a.csv", ASSESSMENTS)).ok
    before = dump(con)
    session = csv("""
        patient_id,session_date,modality,dose_mg,site,clinician_id
        K-001,2026-01-05,IM,35,NORTH,CLN-1
    """)
    problem = only_problem(run(con, ("s2.csv", session)))
    assert (problem.row, problem.column, problem.value) == (2, "modality", "ketamine_im")
    assert "ketamine_iv" in problem.reason
    scores = csv("""
        patient_id,assessment_date,instrument,total
        K-002,2026-02-02,PHQ-9,20
    """)
    problem = only_problem(run(con, ("a2.csv", scores)))
    assert (problem.row, problem.column, problem.value) == (2, "total", "20")
    assert "total 19" in problem.reason
    assert dump(con) == before


def test_patient_attributes_fill_blanks_but_never_overwrite(con):
    assert run(con, ("p.csv", b"patient_id,age_band,sex\nK-1,25-34,\n")).ok
    assert run(con, ("p2.csv", b"patient_id,age_band,sex\nK-1,,F\n")).ok
    assert con.execute("SELECT age_band, sex FROM patients").fetchall() == [("25-34", "F")]
    problem = only_problem(run(con, ("p3.csv", b"patient_id,sex\nK-1,M\n")))
    assert (problem.row, problem.column, problem.value) == (2, "patient_id", "K-1")


# ---------------------------------------------------------------------------
# No identifiers


def test_identifying_columns_are_refused_by_name(con):
    rows = csv("""
        patient_id,session_date,modality,First Name,DOB,Phone,Home Address,ZIP,MRN,email
        K-1,2026-01-05,IV,Ann,1980-01-01,555,1 Main St,02155,123,a@b.org
    """)
    problem = only_problem(run(con, ("s.csv", rows)))
    assert problem.column == "First Name, DOB, Phone, Home Address, ZIP, MRN, email"
    assert "pseudonyms only" in problem.reason and "--drop-columns" in problem.reason
    assert "Ann" not in problem.sentence()


def test_drop_columns_drops_named_columns_explicitly(con):
    rows = csv("""
        patient_id,session_date,modality,First Name,DOB
        K-1,2026-01-05,IV,Ann,1980-01-01
    """)
    result = run(con, ("s.csv", rows), drop_columns=["first_name", "DOB"])
    assert result.ok
    assert store.counts(con)["sessions"] == 1


def test_drop_columns_naming_a_column_no_file_has_is_refused(con):
    problem = only_problem(run(con, ("s.csv", SESSIONS), drop_columns=["dob"]))
    assert problem.column == "dob" and "no file has" in problem.reason


IDENTIFYING_CELLS = [
    ("site", "ann@example.org", "an email address"),
    ("clinician_id", "555-867-5309", "a phone number"),
    ("patient_id", "078-05-1120", "Social Security number"),
    ("patient_id", "(555) 867-5309", "a phone number"),
    ("patient_id", "5558675309", "phone number or Social Security number written without separators"),
    ("patient_id", "078051120", "phone number or Social Security number written without separators"),
    ("patient_id", "1980-02-03", "a date"),
]


def test_identifying_values_are_refused_without_repeating_them(con):
    """Even with --skip-invalid: the whole file is refused, every such cell is named, none is repeated."""
    lines = ["patient_id,session_date,modality,site,clinician_id", "K-0,2026-01-05,IV,NORTH,C1"]
    for k, (column, cell, _) in enumerate(IDENTIFYING_CELLS, start=1):
        values = {
            "patient_id": f"K-{k}",
            "session_date": "2026-01-05",
            "modality": "IV",
            "site": "NORTH",
            "clinician_id": "C1",
            column: cell,
        }
        lines.append(",".join(f'"{v}"' for v in values.values()))
    result = run(con, ("s.csv", ("\n".join(lines) + "\n").encode()), skip_invalid=True)
    assert result.refused
    found = {(p.row, p.column): p for p in result.problems}
    assert sorted(found) == sorted((row, column) for row, (column, _, _) in enumerate(IDENTIFYING_CELLS, start=3))
    for row, (column, cell, what) in enumerate(IDENTIFYING_CELLS, start=3):
        assert what in found[row, column].reason and cell not in found[row, column].sentence()
    assert store.counts(con)["sessions"] == 0


def test_identifying_values_are_found_in_any_kept_column(con):
    rows = csv("""
        patient_id,assessment_date,instrument,total
        K-1,2026-01-05,call 555-867-5309,3
    """)
    problem = only_problem(run(con, ("a.csv", rows)))
    assert (problem.row, problem.column) == (2, "instrument") and "phone number" in problem.reason


@pytest.mark.parametrize("folder", ["dverma11-populationhealthworkbench", "jijones12-synthea", "ohdsi-dbt-synthea"])
def test_real_synthea_patient_exports_are_refused_naming_their_identifying_columns(con, folder):
    """Synthea's patients.csv carries names, birth dates, SSNs and addresses."""
    problem = only_problem(ingest.import_files(con, [external("synthea", folder, "patients.csv")], today=TODAY))
    named = set(problem.column.split(", "))
    assert {"BIRTHDATE", "SSN", "FIRST", "LAST", "ADDRESS", "CITY", "ZIP", "PASSPORT", "DRIVERS", "MAIDEN"} <= named
    assert "pseudonyms only" in problem.reason
    assert problem.sentence().startswith("patients.csv: identifying column(s) BIRTHDATE, DEATHDATE, SSN")
    assert dump(con) == empty_store_dump()


def test_synthea_patients_with_identifying_columns_dropped_are_still_not_a_clinic_table(con):
    path = external("synthea", "ohdsi-dbt-synthea", "patients.csv")
    header = path.read_text().splitlines()[0].split(",")
    identifying = [
        h
        for h in header
        if h
        in {
            "BIRTHDATE",
            "DEATHDATE",
            "SSN",
            "DRIVERS",
            "PASSPORT",
            "PREFIX",
            "FIRST",
            "LAST",
            "SUFFIX",
            "MAIDEN",
            "BIRTHPLACE",
            "ADDRESS",
            "CITY",
            "COUNTY",
            "ZIP",
            "LAT",
            "LON",
        }
    ]
    problem = only_problem(ingest.import_files(con, [path], drop_columns=identifying, today=TODAY))
    assert "could not tell what this table holds" in problem.reason


@pytest.mark.parametrize(
    "parts",
    [
        ("synthea", "dverma11-populationhealthworkbench", "observations.csv"),
        ("synthea", "ohdsi-dbt-synthea", "observations.csv"),
        ("nhanes", "DPQ_J.csv"),
        ("redcap", "redcapr-test-data", "repeating-instruments", "data.csv"),
        ("redcap", "redcapr-test-data", "longitudinal", "data.csv"),
        ("redcap", "redcapr-test-data", "longitudinal", "dictionary.csv"),
        ("fhir", "us-core", "QuestionnaireResponse-phq-9-example.json"),
        ("fhir", "smart-on-fhir-ahrq-depression", "ahrq-depression-patient-phq9.stu3.json"),
        ("fhir", "synthea-r4", "Barney639_Cormier289_9808a1c3-5354-de5f-bfe5-7fdbd39bb426.json"),
    ],
)
def test_other_real_exports_are_refused_with_one_sentence(con, parts):
    problem = only_problem(ingest.import_files(con, [external(*parts)], today=TODAY))
    sentence = problem.sentence()
    assert sentence.startswith(parts[-1]) and sentence.endswith(".")
    assert "Traceback" not in sentence and "Error tokenizing" not in sentence
    assert dump(con) == empty_store_dump()


# ---------------------------------------------------------------------------
# Audit trail


def test_each_import_writes_an_audit_row_per_file(con):
    before = dt.datetime.now()
    result = run(
        con, ("s.csv", SESSIONS), ("a.csv", ASSESSMENTS + b"K-002,2026-02-03,GAD-7,,,,,,,,,,99\n"), skip_invalid=True
    )
    assert result.ok
    rows = con.execute(
        "SELECT file_name, file_size, sha256, file_kind, rows_read, rows_added, rows_merged, "
        "rows_rejected, user_name, imported_at, options FROM imports ORDER BY import_id"
    ).fetchall()
    bad_assessments = ASSESSMENTS + b"K-002,2026-02-03,GAD-7,,,,,,,,,,99\n"
    assert [r[:9] for r in rows] == [
        ("s.csv", len(SESSIONS), hashlib.sha256(SESSIONS).hexdigest(), "sessions table", 3, 3, 0, 0, "tester"),
        (
            "a.csv",
            len(bad_assessments),
            hashlib.sha256(bad_assessments).hexdigest(),
            "assessments table",
            4,
            3,
            0,
            1,
            "tester",
        ),
    ]
    assert all(before - dt.timedelta(minutes=1) <= r[9] <= dt.datetime.now() + dt.timedelta(minutes=1) for r in rows)
    assert '"skip_invalid": true' in rows[0][10]


def test_a_refused_import_leaves_no_audit_row(con):
    assert run(con, ("s.csv", b"patient_id,session_date,modality\nK-1,2026-01-05,ECT\n")).refused
    assert store.counts(con)["imports"] == 0


def test_files_from_two_folders_with_one_name_are_told_apart(con, tmp_path):
    for folder, day in (("north", "2026-01-05"), ("south", "2026-01-06")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "sessions.csv").write_text(f"patient_id,session_date,modality\nK-1,{day},XX\n")
    result = ingest.import_files(
        con, [tmp_path / "north" / "sessions.csv", tmp_path / "south" / "sessions.csv"], today=TODAY
    )
    assert [p.file for p in result.problems] == [
        str(tmp_path / "north" / "sessions.csv"),
        str(tmp_path / "south" / "sessions.csv"),
    ]


# ---------------------------------------------------------------------------
# Each kind of bad file: refused, the problem says where, the store is unchanged


def _truncated_workbook() -> bytes:
    whole = _layout_a_workbook()
    return whole[: len(whole) // 2]


BAD_FILES = {
    # name: (files, (row, column, value) of the problem, or None for a whole-file problem; words in the reason)
    "empty": ([("s.csv", b"")], None, "empty"),
    "blank lines only": ([("s.csv", b"\n \n\n")], None, "empty"),
    "binary": ([("s.csv", bytes(range(256)) * 4)], None, "binary"),
    "old xls": ([("s.xls", b"\xd0\xcf\x11\xe0" + bytes(100))], None, ".xls"),
    "truncated xlsx": ([("clinic.xlsx", _truncated_workbook())], None, "truncated or damaged"),
    "not a table (JSON)": ([("fhir.csv", b'{"resourceType": "Bundle"}')], None, "JSON"),
    "unknown headers": ([("s.csv", b"foo,bar\n1,2\n")], None, "could not tell what this table holds"),
    "unknown extra column": (
        [("s.csv", b"patient_id,session_date,modality,notes\nK-1,2026-01-05,IV,x\n")],
        (None, "notes", None),
        "not part of a sessions table",
    ),
    "missing required column": (
        [("s.csv", b"patient_id,session_date,dose_mg\nK-1,2026-01-05,35\n")],
        (None, "modality", None),
        "missing the required column",
    ),
    "item out of range": ([("a.csv", _phq9_row([1, 1, 7, 1, 1, 1, 1, 1, 1]))], (2, "item_3", "7"), "0 to 3"),
    "total out of range": (
        [("a.csv", b"patient_id,assessment_date,instrument,total\nK-1,2026-01-05,GAD-7,25\n")],
        (2, "total", "25"),
        "GAD-7 total (a whole number from 0 to 21)",
    ),
    "total disagrees with items": ([("a.csv", _phq9_row([1] * 9, total=10))], (2, "total", "10"), "sum of the item"),
    "impossible date": (
        [("s.csv", b"patient_id,session_date,modality\nK-1,2026-02-29,IV\n")],
        (2, "session_date", "2026-02-29"),
        "real calendar date",
    ),
    "future date": (
        [("s.csv", b"patient_id,session_date,modality\nK-1,2027-01-01,IV\n")],
        (2, "session_date", "2027-01-01"),
        "future",
    ),
    "id carrying SQL": (
        [("s.csv", b'patient_id,session_date,modality\n"K-1\'); DROP TABLE sessions; --",2026-01-05,IV\n')],
        (2, "patient_id", "K-1'); DROP TABLE sessions; --"),
        "pseudonym",
    ),
    "id carrying HTML": (
        [("s.csv", b"patient_id,session_date,modality\n<img src=x onerror=alert(1)>,2026-01-05,IV\n")],
        (2, "patient_id", "<img src=x onerror=alert(1)>"),
        "pseudonym",
    ),
    "identifying column": (
        [("s.csv", b"patient_id,session_date,modality,SSN\nK-1,2026-01-05,IV,x\n")],
        (None, "SSN", None),
        "identifying",
    ),
    "identifying value": (
        [("s.csv", b"patient_id,session_date,modality,site\nK-1,2026-01-05,IV,me@example.org\n")],
        (2, "site", None),
        "email address",
    ),
    "unknown modality": (
        [("s.csv", b"patient_id,session_date,modality\nK-1,2026-01-05,ECT\n")],
        (2, "modality", "ECT"),
        "modality",
    ),
    "unknown instrument": (
        [("a.csv", b"patient_id,assessment_date,instrument,total\nK-1,2026-01-05,MADRS,20\n")],
        (2, "instrument", "MADRS"),
        "instrument",
    ),
    "conflicting duplicate session": (
        [("s.csv", b"patient_id,session_date,modality\nK-1,2026-01-05,IV\nK-1,2026-01-05,IM\n")],
        (2, "modality", "ketamine_iv"),
        "disagree on modality",
    ),
    "conflicting duplicate assessment": (
        [("a.csv", b"patient_id,assessment_date,instrument,total\nK-1,2026-01-05,PHQ-9,10\nK-1,2026-01-05,PHQ-9,11\n")],
        (2, "total", "10"),
        "disagree on total",
    ),
    "conflict with the store": (
        [
            (
                "s.csv",
                b"patient_id,session_date,modality,dose_mg,site,clinician_id\nK-001,2026-01-05,IM,35,NORTH,CLN-1\n",
            )
        ],
        (2, "modality", "ketamine_im"),
        "already in the store",
    ),
    "negative dose": (
        [("s.csv", b"patient_id,session_date,modality,dose_mg\nK-1,2026-01-05,IV,-35\n")],
        (2, "dose_mg", "-35"),
        "more than 0 mg",
    ),
    "one bad row among hundreds": ([("big.csv", _many_sessions(500, bad_at=377))], (379, "dose_mg", "-35"), "0 mg"),
    "a value with no header": (
        [("s.csv", b"patient_id,session_date,modality\nK-1,2026-01-05,IV,extra\n")],
        None,
        "no header",
    ),
    "duplicate headers": (
        [("s.csv", b"patient_id,session_date,modality,modality\nK-1,2026-01-05,IV,IV\n")],
        None,
        "appears twice",
    ),
    "unterminated quote": ([("s.csv", b'patient_id,session_date,modality\n"K-1,2026-01-05,IV\n')], None, None),
}


@pytest.fixture(scope="module")
def filled():
    """A store that already holds a small clinic, so 'unchanged' means something (shared: no case may change it)."""
    connection = store.connect_memory()
    assert run(connection, ("p.csv", PATIENTS), ("s.csv", SESSIONS), ("a.csv", ASSESSMENTS)).ok
    yield connection
    connection.close()


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_each_kind_of_bad_file_is_refused_and_changes_nothing(filled, case):
    files, where, words = BAD_FILES[case]
    before = dump(filled)
    result = run(filled, *files)
    assert result.refused
    assert result.problems and all(p.reason for p in result.problems)
    first = result.problems[0]
    if where is not None:
        row, column, value = where
        assert (first.row, first.column) == (row, column), first.sentence()
        if value is not None:
            assert first.value == value
            assert repr(value) in first.sentence()
    else:
        assert first.row is None
    if words:
        assert words in first.reason, first.sentence()
    assert dump(filled) == before


# ---------------------------------------------------------------------------
# Reader quirks seen in real exports


def test_cp1252_excel_csv_is_read(con):
    """Excel on Windows saves 'CSV' in cp1252: é is byte 0xE9, invalid as UTF-8."""
    rows = "patient_id,session_date,modality,notes\nK-1,2026-01-05,IV,café visit\n".encode("cp1252")
    assert run(con, ("s.csv", rows), drop_columns=["notes"]).ok
    problem = only_problem(run(con, ("p.csv", "patient_id,primary_condition\nK-1,Dépression\n".encode("cp1252"))))
    assert problem.value == "Dépression"  # decoded, not mojibake


def test_utf8_with_bom_crlf_and_whitespace(con):
    rows = b"\xef\xbb\xbfpatient_id , session_date ,modality\r\n  K-1 ,\t2026-01-05 , IV \r\n"
    assert run(con, ("s.csv", rows)).ok
    assert held(con)["sessions"][0][:3] == ("K-1", dt.date(2026, 1, 5), "ketamine_iv")


def test_utf16_unicode_text_export_is_read(con):
    rows = "patient_id\tsession_date\tmodality\nK-1\t2026-01-05\tIV\n".encode("utf-16")
    assert run(con, ("s.txt", rows)).ok


def test_semicolon_csv_with_decimal_commas(con):
    rows = b"patient_id;session_date;modality;dose_mg\nK-1;2026-01-05;IV;37,5\n"
    assert run(con, ("s.csv", rows)).ok
    assert held(con)["sessions"][0][3] == 37.5
    # 1,500 may be a US thousands separator: refused rather than read as 1.5 mg
    problem = only_problem(run(con, ("s2.csv", b"patient_id;session_date;modality;dose_mg\nK-1;2026-01-06;IV;1,500\n")))
    assert (problem.column, problem.value) == ("dose_mg", "1,500")


def test_excel_separator_hint_line(con):
    """Excel may write 'sep=;' above the header; Excel does not show it as a row, so neither do we."""
    rows = b"sep=;\npatient_id;session_date;modality\nK-1;2026-01-05;IV\nK-1;2026-01-06;ECT\n"
    problem = only_problem(run(con, ("s.csv", rows)))
    assert (problem.row, problem.value) == (3, "ECT")


def test_trailing_empty_column_and_trailing_commas(con):
    """A header ending in a comma, and data rows with one more (empty) cell than the header: nothing shifts."""
    with_empty_column = b"patient_id,session_date,modality,\nK-1,2026-01-05,IV,\n"
    assert run(con, ("s.csv", with_empty_column)).ok
    rows_only = b"patient_id,session_date,modality\nK-1,2026-01-06,IM,\nK-1,2026-01-07,IM,\n"
    assert run(con, ("s2.csv", rows_only)).ok
    assert [s[:3] for s in held(con)["sessions"]] == [
        ("K-1", dt.date(2026, 1, 5), "ketamine_iv"),
        ("K-1", dt.date(2026, 1, 6), "ketamine_im"),
        ("K-1", dt.date(2026, 1, 7), "ketamine_im"),
    ]


def test_two_headers_meaning_one_column_are_refused(con):
    problem = only_problem(run(con, ("s.csv", b"patient_id,Patient ID,session_date,modality\nK-1,K-1,2026-01-05,IV\n")))
    assert problem.column == "patient_id" and "keep one" in problem.reason


def test_quoted_cells_with_commas_and_newlines(con):
    rows = b'patient_id,session_date,modality\n"K-1","2026-01-05","IV"\n"K-2","2026-01-05","IV,\nthen IM"\nK-3,2026-01-05,XX\n'
    result = run(con, ("s.csv", rows))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (3, "modality", "IV,\nthen IM"),
        (4, "modality", "XX"),
    ]


def test_very_long_cells_are_cut_in_messages(con):
    long_id = "A" * 100_000
    problem = only_problem(run(con, ("s.csv", f"patient_id,session_date,modality\n{long_id},2026-01-05,IV\n".encode())))
    assert problem.column == "patient_id" and len(problem.value) <= ingest.MAX_VALUE_SHOWN


def test_leading_zeros_in_ids_are_kept(con):
    assert run(con, ("s.csv", b"patient_id,session_date,modality\n007,2026-01-05,IV\n")).ok
    assert held(con)["sessions"][0][0] == "007"


def test_xlsx_with_title_rows_above_the_header_numbers_rows_as_excel(con):
    workbook = xlsx(
        {
            "Export": [
                [],
                [],
                ["patient_id", "session_date", "modality"],
                ["K-1", dt.date(2026, 1, 5), "IV"],
                ["K-1", dt.date(2026, 1, 6), "ECT"],
            ]
        }
    )
    problem = only_problem(run(con, ("clinic.xlsx", workbook)))
    assert (problem.row, problem.value) == (5, "ECT")


def test_xlsx_numbers_and_text_cells_read_as_a_csv_would(con):
    workbook = xlsx(
        {
            "Scores": [
                ["patient_id", "assessment_date", "instrument", "total"],
                ["K-1", dt.date(2026, 1, 5), "PHQ-9", 12.0],
                [101, "2026-01-06", "GAD-7", 3],
            ]
        }
    )
    assert run(con, ("scores.xlsx", workbook)).ok
    assert [(a[0], a[2], a[4]) for a in held(con)["assessments"]] == [("101", "GAD-7", 3), ("K-1", "PHQ-9", 12)]


def test_reader_returns_text_cells_indexed_by_spreadsheet_row():
    [table] = readers.read_table_bytes("s.csv", b"\na,b\n1, 2 \n\n3,4\n")
    assert list(table.frame.columns) == ["a", "b"]
    assert table.frame.to_dict("index") == {1: {"a": "1", "b": "2"}, 2: {"a": "", "b": ""}, 3: {"a": "3", "b": "4"}}
    assert (table.frame.index + 2).tolist() == [3, 4, 5]


def test_import_tables_runs_the_same_checks(con):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "patient_id": ["K-1", "K-2"],
            "session_date": [dt.date(2026, 1, 5), dt.date(2099, 1, 1)],
            "modality": ["IV", "IV"],
        }
    )
    problem = only_problem(ingest.import_tables(con, [("frame", frame)], today=TODAY))
    assert (problem.row, problem.column) == (3, "session_date")
