"""`python -m analysis import`: exit 0 when imported, 2 when refused, one sentence per problem, never a traceback.

A few runs go through a real subprocess (what a clinic administrator sees); the catalogue of bad
files runs through cli.main in this process, which returns the same exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from paths import EXTERNAL, REPO, external
from test_importer import ASSESSMENTS, BAD_FILES, MIXED_WITH_A_WRONG_GAD7_TOTAL, PATIENTS, SESSIONS, dump

from analysis import cli, store


def import_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "import", "--quiet", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(folder: Path, files: list[tuple[str, bytes]]) -> list[Path]:
    paths = []
    for name, data in files:
        path = folder / name.replace("/", "_")
        path.write_bytes(data)
        paths.append(path)
    return paths


def store_dump(path: Path) -> dict:
    with store.opened(path, read_only=True) as con:
        return dump(con)


@pytest.fixture
def clinic_files(tmp_path) -> list[Path]:
    return write(tmp_path, [("patients.csv", PATIENTS), ("sessions.csv", SESSIONS), ("assessments.csv", ASSESSMENTS)])


def test_a_good_import_exits_0_and_says_what_it_did(tmp_path, clinic_files):
    db = tmp_path / "clinic.duckdb"
    done = import_command("--db", db, *clinic_files)
    assert done.returncode == 0, done.stderr
    assert "Imported 8 rows: 8 added, 0 already in the store (merged), 0 rejected." in done.stdout
    assert "Traceback" not in done.stderr
    with store.opened(db, read_only=True) as con:
        assert store.counts(con) == {"patients": 2, "sessions": 3, "assessments": 3, "imports": 3, "quarantine": 0}


def test_a_bad_row_exits_2_naming_file_row_column_value_and_the_store_is_unchanged(capsys, tmp_path, clinic_files):
    db = tmp_path / "clinic.duckdb"
    assert run_main(capsys, "--db", db, *clinic_files)[0] == 0
    before = store_dump(db)
    [bad] = write(tmp_path, [("later.csv", SESSIONS + b"K-003,2026-03-02,ECT,50,NORTH,CLN-1\n")])
    done = import_command("--db", db, bad)
    assert done.returncode == 2
    assert "later.csv, row 5, column modality: 'ECT' is not a known modality" in done.stderr
    assert "nothing was changed in the store" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert store_dump(db) == before


def test_real_synthea_patients_export_exits_2_naming_the_identifying_columns(tmp_path):
    path = external("synthea", "dverma11-populationhealthworkbench", "patients.csv")
    done = import_command("--db", tmp_path / "s.duckdb", path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    for column in ("BIRTHDATE", "SSN", "FIRST", "LAST", "ADDRESS", "ZIP"):
        assert column in done.stderr
    assert not (tmp_path / "s.duckdb").exists() or store_dump(tmp_path / "s.duckdb")["imports"] == []


def run_main(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["import", "--quiet", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_each_kind_of_bad_file_exits_2_and_changes_nothing(capsys, tmp_path):
    """Every bad file of test_importer's catalogue, one at a time, through the command line, against
    a store holding a small clinic: exit 2, where and why in words, and not one byte of data changed."""
    db = tmp_path / "clinic.duckdb"
    clinic = write(tmp_path, [("patients.csv", PATIENTS), ("sessions.csv", SESSIONS), ("assessments.csv", ASSESSMENTS)])
    assert run_main(capsys, "--db", db, *clinic)[0] == 0
    before = store_dump(db)
    for case, (files, where, words) in BAD_FILES.items():
        folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        code, out, err = run_main(capsys, "--db", db, *write(folder, files))
        assert code == 2, (case, out + err)
        assert "Traceback" not in err and "nothing was changed in the store" in err, case
        if where is not None:
            row, column, value = where
            location = (f", row {row}" if row else "") + f", column {column}"
            assert location in err or (row is None and column in err), (case, err)
            if value is not None:
                assert repr(value) in err, (case, err)
        if words:
            assert words in err, (case, err)
    assert store_dump(db) == before


EXTERNAL_FILES = [
    ("synthea", "jijones12-synthea", "patients.csv"),
    ("synthea", "ohdsi-dbt-synthea", "patients.csv"),
    ("synthea", "jijones12-synthea", "run_metadata.json"),
    ("nhanes", "DPQ_J.csv"),
    ("redcap", "redcapr-test-data", "repeating-instruments", "data.csv"),
    ("redcap", "redcapr-test-data", "longitudinal", "event.csv"),
    ("fhir", "us-core", "Questionnaire-phq-9-example.json"),  # a form, no answers
]


def test_real_external_files_exit_2_with_one_sentence_each(capsys, tmp_path):
    """Synthea patients, NHANES, REDCap and a FHIR Questionnaire as downloaded: each refused on its own, in one
    sentence. (The FHIR and Synthea files holding scores load: tests/ingest/test_sources_*.py.)"""
    present = [EXTERNAL.joinpath(*parts) for parts in EXTERNAL_FILES if EXTERNAL.joinpath(*parts).exists()]
    if not present:
        pytest.skip(f"{EXTERNAL} is not here (CI keeps shared/ beside the repo)")
    for path in present:
        code, out, err = run_main(capsys, "--db", tmp_path / "x.duckdb", path)
        assert code == 2, path
        problem_lines = [line for line in err.splitlines() if line.startswith("  ")]
        assert len(problem_lines) == 1 and problem_lines[0].strip().startswith(path.name), err
        assert "Traceback" not in err


def test_a_fhir_bundle_loads_and_says_what_it_skipped(capsys, tmp_path, monkeypatch):
    """A new user imports a Synthea FHIR Bundle: its PHQ-9 and GAD-7 load, its PHQ-2 is counted as skipped,
    and the pseudonym key made for it is announced with a reminder to back it up."""
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    path = external("fhir", "synthea-r4", "Barney639_Cormier289_9808a1c3-5354-de5f-bfe5-7fdbd39bb426.json")
    code, out, err = run_main(capsys, "--db", tmp_path / "f.duckdb", path)
    assert code == 0, err
    assert "Imported 4 rows: 4 added" in out and "4 PHQ-2 (Observation)" in out
    assert f"A new pseudonym key was created at {tmp_path / 'f.duckdb.key'}" in err
    assert run_main(capsys, "--db", tmp_path / "f.duckdb", path)[1].startswith("Imported 4 rows: 0 added, 4 already")


def test_skip_invalid_exits_0_and_keeps_the_bad_row_in_quarantine(capsys, tmp_path):
    db = tmp_path / "clinic.duckdb"
    [log] = write(
        tmp_path,
        [("log.csv", b"patient_id,session_date,modality,phq9_total\nK-1,2026-01-05,IV,14\nK-1,2026-01-07,IV,31\n")],
    )
    code, out, err = run_main(capsys, "--db", db, log, "--skip-invalid")
    assert code == 0, err
    assert "1 added, 0 already in the store (merged), 1 rejected and kept in quarantine" in out
    assert "log.csv, row 3, column phq9_total: '31'" in err
    with store.opened(db, read_only=True) as con:
        assert con.execute("SELECT row_number, column_name, value FROM quarantine").fetchall() == [
            (3, "phq9_total", "31")
        ]


def test_drop_columns_from_the_command_line(capsys, tmp_path):
    [export] = write(
        tmp_path, [("s.csv", b"patient_id,session_date,modality,Patient Name,DOB\nK-1,2026-01-05,IV,Ann,1980-01-01\n")]
    )
    code, _, err = run_main(capsys, "--db", tmp_path / "d.duckdb", export)
    assert code == 2 and "Patient Name, DOB" in err and "Ann" not in err
    code, _, err = run_main(capsys, "--db", tmp_path / "d.duckdb", export, "--drop-columns", "Patient Name,dob")
    assert code == 0, err


def test_reimporting_through_the_cli_changes_no_data(capsys, tmp_path, clinic_files):
    db = tmp_path / "again.duckdb"
    assert run_main(capsys, "--db", db, *clinic_files)[0] == 0
    before = store_dump(db)
    code, out, _ = run_main(capsys, "--db", db, *clinic_files)
    assert code == 0 and "0 added, 8 already in the store (merged)" in out
    after = store_dump(db)
    assert {t: after[t] for t in ("patients", "sessions", "assessments", "quarantine")} == {
        t: before[t] for t in ("patients", "sessions", "assessments", "quarantine")
    }
    assert len(after["imports"]) == len(before["imports"]) + 3  # the audit trail records the re-import


def test_missing_file_and_folder_exit_2(capsys, tmp_path):
    code, _, err = run_main(capsys, "--db", tmp_path / "m.duckdb", tmp_path / "nowhere.csv")
    assert code == 2 and "no such file" in err
    code, _, err = run_main(capsys, "--db", tmp_path / "m.duckdb", tmp_path)
    assert code == 2 and "is a folder" in err


def test_a_store_that_is_not_a_store_exits_2(capsys, tmp_path, clinic_files):
    not_a_store = tmp_path / "notes.duckdb"
    not_a_store.write_text("these are my notes")
    code, _, err = run_main(capsys, "--db", not_a_store, *clinic_files)
    assert code == 2 and "Traceback" not in err and "Error:" in err


def test_every_external_file_as_a_new_user_exits_0_or_2_in_sentences(capsys, tmp_path, monkeypatch):
    """Each file of ../shared/external on its own into a fresh store, as a new user would try it: it loads
    (exit 0) or is refused (exit 2) in sentences; never a traceback, and a refusal leaves no data."""
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    files = sorted(p for p in EXTERNAL.rglob("*") if p.is_file() and p.name not in ("LICENSE", "LICENSE.md"))
    if not files:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            f"{EXTERNAL} is not here (CI keeps shared/ beside the repo)"
        )
    loaded = set()
    for number, path in enumerate(files):
        db = tmp_path / f"s{number}.duckdb"
        code, out, err = run_main(capsys, "--db", db, path)
        assert code in (0, 2), (path, err)
        assert "Traceback" not in out + err and "Error:" not in err, (path, err)
        problems = [line.strip() for line in err.splitlines() if line.startswith("  ")]
        if code == 2:
            assert problems and all(line.endswith((".", ")")) for line in problems), (path, err)
            assert not db.exists() or store_dump(db)["assessments"] == []
        else:
            loaded.add(path.relative_to(EXTERNAL).parts[0])
            assert "Imported" in out
    assert loaded >= {"fhir", "synthea"}


def test_the_issue_8_file_exits_2_naming_row_column_and_sum(capsys, tmp_path):
    """A GAD-7 total that disagrees with its items, below a PHQ-9 row: one sentence, not a traceback."""
    db = tmp_path / "clinic.duckdb"
    code, out, err = run_main(capsys, "--db", db, *write(tmp_path, [("a.csv", MIXED_WITH_A_WRONG_GAD7_TOTAL)]))
    assert code == 2
    assert "a.csv, row 3, column total: '9' does not equal the sum of the item answers (7)" in err
    assert "Traceback" not in out + err and "unexpectedly" not in err


def test_an_unexpected_error_is_one_sentence_and_its_traceback_goes_to_a_file(capsys, tmp_path, monkeypatch):
    """Should a bug remain, the administrator reads a sentence; the traceback waits in a file beside the store."""
    from analysis.ingest import pipeline

    def broken(*args, **kwargs):
        raise IndexError("a bug")

    monkeypatch.setattr(pipeline, "validate_table", broken)
    db = tmp_path / "clinic.duckdb"
    code, out, err = run_main(capsys, "--db", db, *write(tmp_path, [("sessions.csv", SESSIONS)]))
    assert code == 2
    assert "Traceback" not in out + err
    assert f"The details for a bug report are in {db}.errors.log." in err
    logged = (tmp_path / "clinic.duckdb.errors.log").read_text()
    assert "Traceback" in logged and "IndexError: a bug" in logged


def test_the_problems_file_numbers_rows_as_whole_numbers_beside_file_problems(capsys, tmp_path):
    """Found by the fuzzer: a file problem (no row) beside row problems made every row 4.0 in --problems."""
    files = write(tmp_path, [("a.csv", MIXED_WITH_A_WRONG_GAD7_TOTAL), ("s.csv", b"patient_id,notes\nK-1,x\n")])
    written = tmp_path / "problems.csv"
    code, _, _ = run_main(capsys, "--db", tmp_path / "db.duckdb", "--problems", written, *files)
    assert code == 2
    lines = written.read_text().splitlines()
    assert any(line.startswith("a.csv,3,total,") for line in lines), lines
    assert any(line.startswith("s.csv,,") for line in lines), lines
