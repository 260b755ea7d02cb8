"""The DuckDB store: created on first use, refused with a sentence when it is not ours, copied for the app."""

from __future__ import annotations

import duckdb
import pytest

from analysis import ingest, store

SESSIONS = b"patient_id,session_date,modality\nK-1,2026-01-05,IV\nK-1,2026-01-07,IV\n"


def test_a_new_store_has_every_table_and_the_schema_version(tmp_path):
    path = tmp_path / "new" / "clinic.duckdb"
    with store.opened(path) as con:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {"meta", *store.DATA_TABLES} <= tables
        assert store.get_meta(con, "schema_version") == str(store.SCHEMA_VERSION)
        assert store.counts(con) == dict.fromkeys(store.DATA_TABLES, 0)
        assert not store.is_demo(con)


def test_reopening_keeps_the_data(tmp_path):
    path = tmp_path / "clinic.duckdb"
    with store.opened(path) as con:
        assert ingest.import_bytes(con, [("s.csv", SESSIONS)]).ok
    with store.opened(path, read_only=True) as con:
        assert store.counts(con)["sessions"] == 2
        assert store.counts(con)["imports"] == 1


def test_read_only_never_creates_a_store(tmp_path):
    with pytest.raises(store.StoreError, match="There is no store"):
        store.connect(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_a_file_that_is_not_duckdb_is_refused_in_words(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database")
    with pytest.raises(store.StoreError, match="not a DuckDB outcomes store|could not be opened"):
        store.connect(path)


def test_another_duckdb_database_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    other = duckdb.connect(str(path))
    other.execute("CREATE TABLE invoices (id INTEGER)")
    other.close()
    with pytest.raises(store.StoreError, match="not an outcomes store"):
        store.connect(path)


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.duckdb"
    with store.opened(path) as con:
        store.set_meta(con, "schema_version", str(store.SCHEMA_VERSION + 1))
    with pytest.raises(store.StoreError, match="newer version"):
        store.connect(path)


def test_clear_empties_every_data_table_and_bumps_the_version():
    con = store.connect_memory()
    assert ingest.import_bytes(con, [("s.csv", SESSIONS)]).ok
    store.set_meta(con, "demo", "true")
    version = int(store.get_meta(con, "data_version"))
    store.clear(con)
    assert store.counts(con) == dict.fromkeys(store.DATA_TABLES, 0)
    assert not store.is_demo(con)
    assert int(store.get_meta(con, "data_version")) == version + 1


def test_an_import_that_adds_rows_bumps_the_data_version_and_one_that_merges_does_not():
    con = store.connect_memory()
    assert store.get_meta(con, "data_version") == "0"
    assert ingest.import_bytes(con, [("s.csv", SESSIONS)]).ok
    assert store.get_meta(con, "data_version") == "1"
    assert ingest.import_bytes(con, [("s.csv", SESSIONS)]).ok
    assert store.get_meta(con, "data_version") == "1"


def test_snapshot_is_a_copy_that_lets_go_of_the_file(tmp_path):
    path = tmp_path / "clinic.duckdb"
    with store.opened(path) as con:
        assert ingest.import_bytes(con, [("s.csv", SESSIONS)]).ok
    before = store.fingerprint(path)
    copy = store.snapshot(path)
    with store.opened(path) as con:  # the file is free for an import while the copy is open
        assert ingest.import_bytes(con, [("s2.csv", b"patient_id,session_date,modality\nK-2,2026-01-05,IM\n")]).ok
    assert copy.execute("SELECT count(*) FROM sessions").fetchall() == [(2,)]
    assert store.fingerprint(path) != before
    copy.close()


def test_default_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(tmp_path / "env.duckdb"))
    assert store.db_path_from_env() == tmp_path / "env.duckdb"
    monkeypatch.delenv("OUTCOMES_DB")
    assert store.db_path_from_env() == store.DEFAULT_DB_PATH


def test_a_store_path_that_cannot_be_created_is_refused_in_words(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(store.StoreError):
        store.connect(blocker / "inside" / "clinic.duckdb")
