"""The access log in the store: lines only added, kept when the demo is removed, and older stores upgraded."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from analysis import store

# The schema as version 1 wrote it (meta and the two tables check_schema looks for are enough).
VERSION_1 = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO meta VALUES ('schema_version', '1'), ('demo', 'false'), ('data_version', '3');
CREATE TABLE sessions (patient_id VARCHAR, session_date DATE, modality VARCHAR, dose_mg DOUBLE, site VARCHAR,
                       clinician_id VARCHAR, import_id INTEGER, PRIMARY KEY (patient_id, session_date));
CREATE TABLE assessments (patient_id VARCHAR, assessment_date DATE, instrument VARCHAR);
INSERT INTO sessions VALUES ('P1', DATE '2026-01-05', 'ketamine_iv', 35, 'North', 'CLN-01', 1);
"""


def test_lines_come_back_newest_first_with_exactly_what_was_written(tmp_path):
    with store.opened(tmp_path / "s.duckdb") as con:
        store.append_access(con, "ops@clinic.example", "admin", "sign-in", at=dt.datetime(2026, 11, 2, 9, 0))
        store.append_access(
            con, "dr@clinic.example", "clinician", "viewed patient", "P00012", at=dt.datetime(2026, 11, 2, 9, 5)
        )
        log = store.access_log(con)
    assert list(log.columns) == list(store.ACCESS_LOG_COLUMNS)
    assert log[["user_name", "role", "action"]].values.tolist() == [
        ["dr@clinic.example", "clinician", "viewed patient"],
        ["ops@clinic.example", "admin", "sign-in"],
    ]
    assert log["target"].tolist()[0] == "P00012"
    assert log["logged_at"].tolist()[0] == dt.datetime(2026, 11, 2, 9, 5)


def test_removing_the_demo_keeps_the_log_of_who_removed_it(tmp_path):
    with store.opened(tmp_path / "s.duckdb") as con:
        store.append_access(con, "ops@clinic.example", "admin", "removed demo")
        store.clear(con)
        assert store.access_log(con)["action"].tolist() == ["removed demo"]


def test_the_snapshot_for_the_app_leaves_the_log_out(tmp_path):
    path = tmp_path / "s.duckdb"
    with store.opened(path) as con:
        store.append_access(con, "ops@clinic.example", "admin", "sign-in")
    snapshot = store.snapshot(path)
    tables = {r[0] for r in snapshot.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "access_log" not in tables


def test_a_version_1_store_gains_the_log_on_its_next_read_write_open(tmp_path):
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute(VERSION_1)
    old.close()
    with store.opened(path, read_only=True) as con:  # reading an old store changes nothing
        assert store.get_meta(con, "schema_version") == "1"
    with store.opened(path) as con:
        assert store.get_meta(con, "schema_version") == str(store.SCHEMA_VERSION) == "2"
        assert store.access_log(con).empty
        assert store.get_meta(con, "data_version") == "3"  # the data is untouched
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
        store.append_access(con, "ops@clinic.example", "admin", "sign-in")
        assert len(store.access_log(con)) == 1


def test_a_store_from_a_newer_version_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "new.duckdb"
    with store.opened(path) as con:
        store.set_meta(con, "schema_version", "3")
    with pytest.raises(store.StoreError, match="newer version"):
        store.connect(path)
