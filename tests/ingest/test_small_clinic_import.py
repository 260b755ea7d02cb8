"""A small clinic's first imports (tests/clinic40.py): problems name the file's own columns, the quarantine
clears when the fixed rows come in, and the problems file numbers its rows as whole numbers."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pandas as pd
from clinic40 import TODAY, session_log, write_exports
from paths import REPO

from analysis import ingest, store
from analysis.ingest.problems import ImportResult, Problem
from analysis.views.data import results as result_views


def _first_import(con):
    return ingest.import_bytes(con, [("session_log_2026Q1.csv", session_log())], skip_invalid=True, today=TODAY)


def test_problems_name_the_column_as_the_file_has_it():
    """'Location' is read as site and 'PHQ-9 Total' as phq9_total: the problems say 'Location [site]' and
    'PHQ-9 Total [phq9_total]', once each (the session log's site is checked twice, said once)."""
    con = store.connect_memory()
    result = _first_import(con)
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (75, "PHQ-9 Total [phq9_total]", "31"),
        (122, "Location [site]", "North site"),
    ]
    assert result.problems[1].sentence().startswith("session_log_2026Q1.csv, row 122, column Location [site]: ")


def test_a_column_the_file_names_canonically_is_not_bracketed():
    con = store.connect_memory()
    frame = pd.DataFrame({"patient_id": ["P1"], "session_date": ["2026-01-05"], "modality": ["IV"], "site": ["a b"]})
    result = ingest.import_tables(con, [("sessions.csv", frame)], today=TODAY)
    assert [p.column for p in result.problems] == ["site"]


def test_quarantine_clears_when_the_fixed_rows_are_imported():
    """Two rows set aside; the corrected export brings both keys in cleanly: both are marked resolved,
    kept for the audit, hidden from the open list and counted apart."""
    con = store.connect_memory()
    assert _first_import(con).rejected == 2
    assert result_views.quarantine_counts(con) == {"open": 2, "resolved": 0}
    assert len(result_views.quarantine_rows(con)) == 2
    # Importing the same bad file again resolves nothing: its two rows are still bad.
    _first_import(con)
    assert result_views.quarantine_counts(con) == {"open": 4, "resolved": 0}
    fixed = ingest.import_bytes(con, [("fixed.csv", session_log(corrected=True))], today=TODAY)
    assert fixed.ok and fixed.added == 2
    assert result_views.quarantine_counts(con) == {"open": 0, "resolved": 4}
    assert result_views.quarantine_rows(con).empty
    resolved = result_views.quarantine_rows(con, resolved=True)
    assert sorted(resolved["row"].tolist()) == [75, 75, 122, 122]
    assert set(resolved["resolved_by"]) == {"fixed.csv"}
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 4  # nothing deleted


def test_a_row_from_another_patient_or_day_resolves_nothing():
    con = store.connect_memory()
    _first_import(con)
    other = pd.DataFrame({"patient_id": ["IV-12"], "session_date": ["2026-02-03"], "modality": ["IV"]})
    ingest.import_tables(con, [("sessions.csv", other)], today=TODAY)
    assert result_views.quarantine_counts(con) == {"open": 2, "resolved": 0}


def test_an_older_store_gains_the_quarantine_columns(tmp_path):
    """A store written before this change (six quarantine columns) opens, upgrades, and reads in the app's snapshot."""
    path = tmp_path / "old.duckdb"
    with store.opened(path) as con:
        _first_import(con)
        for column in ("resolved_import_id", "record_date", "patient_id", "record_kind"):
            con.execute(f"ALTER TABLE quarantine DROP COLUMN {column}")
    snapshot = store.snapshot(path)
    assert result_views.quarantine_counts(snapshot) == {"open": 2, "resolved": 0}
    with store.opened(path) as con:
        columns = [row[0] for row in con.execute("DESCRIBE quarantine").fetchall()]
        assert "resolved_import_id" in columns
        # Rows from before the upgrade have no key: a later import leaves them open, never wrongly resolved.
        ingest.import_bytes(con, [("fixed.csv", session_log(corrected=True))], today=TODAY)
        assert result_views.quarantine_counts(con) == {"open": 2, "resolved": 0}
    assert isinstance(snapshot, duckdb.DuckDBPyConnection)


def test_problem_rows_are_whole_numbers_in_the_problems_file(tmp_path):
    """A file-level problem (no row) beside row problems must not turn row 75 into 75.0."""
    result = ImportResult(
        refused=True,
        problems=[Problem("a.csv", None, None, None, "a.csv: no rows."), Problem("b.csv", 75, "site", "x", "bad")],
    )
    text = result.problems_frame().to_csv(index=False)
    assert "b.csv,75,site" in text and "75.0" not in text
    first, _ = write_exports(tmp_path)
    problems = tmp_path / "problems.csv"
    run = subprocess.run(
        [sys.executable, "-m", "analysis", "import", "--db", str(tmp_path / "s.duckdb"), str(first)]
        + ["--problems", str(problems)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    rows = problems.read_text().splitlines()[1:]
    assert [line.split(",")[1] for line in rows] == ["75", "122"]


def test_an_assessments_file_alone_resolves_a_quarantined_score():
    """A scores-only file (no sessions in the batch) resolves the quarantined row with the same patient and date."""
    con = store.connect_memory()
    bad = pd.DataFrame(
        {"patient_id": ["P1"], "assessment_date": ["2026-01-05"], "instrument": ["PHQ-9"], "total": [31]}
    )
    assert ingest.import_tables(con, [("scores.csv", bad)], skip_invalid=True, today=TODAY).rejected == 1
    fixed = bad.assign(total=[21])
    assert ingest.import_tables(con, [("scores.csv", fixed)], today=TODAY).ok
    assert result_views.quarantine_counts(con) == {"open": 0, "resolved": 1}
