"""`import --pseudonymize`: source ids (patient_id or an MRN) become keyed pseudonyms before any check,
the same id gives the same pseudonym on every import, and no table in the store holds a source id."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
from test_import_cli import import_command
from test_importer import csv, run

from analysis import store
from analysis.ingest.pseudonyms import ClinicKey, key_path_for, load_key

SOURCE_IDS = ("004521", "004533", "MRN-77812")
VISITS = csv("""
    MRN,Date of Service,Service,Dose
    004521,03/14/2026,Spravato 84mg,84
    004521,03/17/2026,Spravato 84mg,84
    004533,03/16/2026,Ketamine IM 0.5 mg/kg,40
    MRN-77812,03/18/2026,IV infusion,35
""")
LATER_VISITS = csv("""
    MRN,Date of Service,Service,Dose
    004521,03/17/2026,Spravato 84mg,84
    004521,03/21/2026,Spravato 84mg,84
""")


def every_cell(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every value in every table of the store (cache tables included), as text."""
    tables = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    assert {"patients", "sessions", "assessments", "imports", "quarantine"} <= set(tables)
    cells = []
    for table in tables:
        for row in con.execute(f'SELECT * FROM "{table}"').fetchall():  # names from the catalogue
            cells.extend(str(value) for value in row)
    return cells


def test_the_cli_pseudonymizes_warns_once_to_back_up_the_key_and_merges_later_exports(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    db = tmp_path / "clinic.duckdb"
    (tmp_path / "visits.csv").write_bytes(VISITS)
    (tmp_path / "later.csv").write_bytes(LATER_VISITS)

    first = import_command("--db", db, tmp_path / "visits.csv", "--pseudonymize")
    assert first.returncode == 0, first.stderr
    key_file = key_path_for(db)
    key = load_key(db, create=False)
    assert "A new pseudonym key was created at" in first.stderr
    assert key.fingerprint in first.stderr and key.secret.hex() not in first.stderr + first.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "Imported 4 rows: 4 added" in first.stdout

    later = import_command("--db", db, tmp_path / "later.csv", "--pseudonymize")
    assert later.returncode == 0, later.stderr
    assert "A new pseudonym key" not in later.stderr  # the same key, found beside the store
    # 03/17 is already in the store under the same pseudonym: merged, not doubled.
    assert "Imported 2 rows: 1 added, 1 already in the store (merged)" in later.stdout

    with store.opened(db, read_only=True) as con:
        sessions = con.execute("SELECT patient_id, count(*) FROM sessions GROUP BY ALL ORDER BY ALL").fetchall()
        assert sorted(sessions) == sorted(
            [(key.pseudonym("004521"), 3), (key.pseudonym("004533"), 1), (key.pseudonym("MRN-77812"), 1)]
        )
        cells = every_cell(con)
        options = con.execute("SELECT options FROM imports").fetchall()
    for source_id in SOURCE_IDS:
        assert not [cell for cell in cells if source_id in cell], source_id
    assert key.secret.hex() not in " ".join(cells)
    assert all(f'"pseudonym_key": "{key.fingerprint}"' in row[0] for row in options)


def test_without_the_flag_the_mrn_file_exits_2_and_says_to_use_it(tmp_path: Path):
    db = tmp_path / "clinic.duckdb"
    (tmp_path / "visits.csv").write_bytes(VISITS)
    done = import_command("--db", db, tmp_path / "visits.csv")
    assert done.returncode == 2
    assert "Import with --pseudonymize to use MRN as the patient key" in done.stderr
    assert not key_path_for(db).exists()  # no key is made unless asked for


def test_patient_ids_are_replaced_too_and_quarantine_holds_only_pseudonyms():
    """A patient_id column is pseudonymized as well; a bad row set aside keeps the pseudonym, not the id."""
    key = ClinicKey(bytes.fromhex("22" * 32), "test key")
    rows = csv("""
        patient_id,session_date,modality
        Jane.Roe-1984,2026-01-05,IV
        Jane.Roe-1984,2026-01-09,ECT
    """)
    con = store.connect_memory()
    result = run(con, ("s.csv", rows), pseudonym_key=key, skip_invalid=True)
    assert result.ok and result.rejected == 1
    assert con.execute("SELECT patient_id FROM sessions").fetchall() == [(key.pseudonym("Jane.Roe-1984"),)]
    assert not [cell for cell in every_cell(con) if "Jane" in cell]


def test_the_issues_ehr_exports_get_in_from_the_command_line_as_a_new_user_tries(tmp_path: Path, monkeypatch):
    """Client ID, MRN, Date of Service, 'Spravato 84mg', 03/14/2026 and a PHQ9/GAD7 score log: the first try
    names the MRN and says what to do; dropping it loads both files and the summary names the date order."""
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    visits = tmp_path / "visits.csv"
    visits.write_bytes(
        csv("""
        Client ID,MRN,Date of Service,Service
        C-2201,00784512,03/14/2026,Spravato 84mg
        C-2201,00784512,03/17/2026,Spravato 84mg
        C-2202,00784519,03/16/2026,Ketamine IM 0.5 mg/kg
        C-2203,00790001,03/18/2026,IV infusion
        C-2203,00790001,03/21/2026,ketamine troche 200 mg
    """)
    )
    scores = tmp_path / "scores.csv"
    scores.write_bytes(csv("Client ID,Date,PHQ9 Score,GAD7 Score\nC-2201,03/13/2026,19,14\nC-2202,03/15/2026,22,\n"))
    db = tmp_path / "clinic.duckdb"

    first = import_command("--db", db, visits, scores)
    assert first.returncode == 2
    assert "identifying column(s) MRN" in first.stderr and "--drop-columns MRN" in first.stderr

    done = import_command("--db", db, visits, scores, "--drop-columns", "MRN")
    assert done.returncode == 0, done.stderr
    assert "Imported 7 rows: 7 added" in done.stdout
    assert "visits.csv: Date of Service read as MM/DD/YYYY (told by dates such as 03/14/2026)." in done.stdout
    with store.opened(db, read_only=True) as con:
        modalities = con.execute("SELECT modality, count(*) FROM sessions GROUP BY ALL ORDER BY ALL").fetchall()
        assert modalities == [("esketamine_nasal", 2), ("ketamine_im", 1), ("ketamine_iv", 1), ("ketamine_oral", 1)]
        assert store.counts(con)["assessments"] == 3
        assert not [cell for cell in every_cell(con) if "0078" in cell or "00790001" in cell]
