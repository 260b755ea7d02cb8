"""The DuckDB store: schema, the one place that opens connections, and snapshots for the app."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from analysis.settings import REPO_ROOT

# 2: the access log (who looked at what), added to older stores on their next read-write open.
SCHEMA_VERSION = 2
DEFAULT_DB_PATH = REPO_ROOT / "data" / "outcomes.duckdb"
DATA_TABLES = ("patients", "sessions", "assessments", "imports", "quarantine")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS import_id_seq START 1;
CREATE TABLE IF NOT EXISTS imports (
    import_id INTEGER PRIMARY KEY,
    imported_at TIMESTAMP NOT NULL,
    file_name VARCHAR NOT NULL,
    file_size BIGINT,
    sha256 VARCHAR,
    file_kind VARCHAR,
    rows_read INTEGER NOT NULL,
    rows_added INTEGER NOT NULL,
    rows_merged INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    user_name VARCHAR,
    options VARCHAR
);
CREATE TABLE IF NOT EXISTS patients (
    patient_id VARCHAR PRIMARY KEY,
    age_band VARCHAR,
    sex VARCHAR,
    primary_condition VARCHAR,
    site VARCHAR,
    clinician_id VARCHAR,
    import_id INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
    patient_id VARCHAR NOT NULL,
    session_date DATE NOT NULL,
    modality VARCHAR NOT NULL,
    dose_mg DOUBLE,
    site VARCHAR,
    clinician_id VARCHAR,
    import_id INTEGER,
    PRIMARY KEY (patient_id, session_date)
);
CREATE TABLE IF NOT EXISTS assessments (
    patient_id VARCHAR NOT NULL,
    assessment_date DATE NOT NULL,
    instrument VARCHAR NOT NULL,
    items TINYINT[],            -- answers in item order, NULL where unanswered
    total SMALLINT,             -- NULL when incomplete (left out of every outcome)
    total_method VARCHAR NOT NULL,  -- summed | prorated | supplied | incomplete
    items_answered TINYINT NOT NULL,
    item9 TINYINT,              -- the safety answer (PHQ-9 item 9); NULL = unknown or no safety item
    import_id INTEGER,
    PRIMARY KEY (patient_id, assessment_date, instrument)
);
CREATE TABLE IF NOT EXISTS quarantine (
    import_id INTEGER,
    file_name VARCHAR,
    row_number INTEGER,
    column_name VARCHAR,
    value VARCHAR,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS access_log (
    logged_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    action VARCHAR NOT NULL,   -- sign-in, viewed patient, downloaded report, imported files, ...
    target VARCHAR,            -- a patient pseudonym, a report name, file names: never data
    detail VARCHAR
);
"""
ACCESS_LOG_COLUMNS = ("logged_at", "user_name", "role", "action", "target", "detail")
# Added after the first release; ensure_schema and snapshot add them to older stores (additive only).
_QUARANTINE_UPGRADE = """
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS record_kind VARCHAR;     -- sessions | assessments | session_log | patients
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS patient_id VARCHAR;      -- the row's key, when it could be read
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS record_date DATE;
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS resolved_import_id INTEGER;  -- the import that brought the key in cleanly
"""


class StoreError(RuntimeError):
    """A store that cannot be opened; the message says what to do."""


def db_path_from_env() -> Path:
    """The store the CLI and dashboard use: $OUTCOMES_DB, else data/outcomes.duckdb."""
    named = os.environ.get("OUTCOMES_DB")
    return Path(named).expanduser() if named else DEFAULT_DB_PATH


def is_default_path(path: Path) -> bool:
    return Path(path).resolve() == DEFAULT_DB_PATH.resolve()


def _open(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting while another process (an import, the app) briefly holds it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            message = str(error)
            if "lock" not in message.lower() or time.monotonic() >= deadline:
                if "lock" in message.lower():
                    raise StoreError(
                        f"The store {path} is in use by another program (an import or a report); try again in a moment."
                    ) from None
                raise StoreError(f"The store {path} could not be opened: {message.splitlines()[0]}") from None
            time.sleep(0.1)
        except duckdb.Error as error:
            raise StoreError(
                f"{path} is not a DuckDB outcomes store ({str(error).splitlines()[0]}); name a new file or the right one."
            ) from None


def connect(
    path: str | os.PathLike | None = None, *, read_only: bool = False, wait_seconds: float = 15.0
) -> duckdb.DuckDBPyConnection:
    """Open (and if new, create) a store. Read-only connections never create anything."""
    store_path = Path(path) if path is not None else db_path_from_env()
    if read_only and not store_path.exists():
        raise StoreError(f"There is no store at {store_path}; import data first (python -m analysis import).")
    if not read_only:
        try:
            store_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"The folder for the store {store_path} cannot be created ({error.strerror}); "
                "name a path in a folder you can write to."
            ) from None
    con = _open(store_path, read_only, wait_seconds)
    if not read_only:
        ensure_schema(con)
    else:
        check_schema(con)
    return con


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An empty in-memory store (tests, previews)."""
    con = duckdb.connect(":memory:")
    ensure_schema(con)
    return con


@contextmanager
def opened(path: str | os.PathLike | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a store for one piece of work and close it straight after, so no lock lingers."""
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    check_schema(con)
    con.execute(_SCHEMA)
    con.execute(_QUARANTINE_UPGRADE)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?), ('demo', 'false'), ('data_version', '0') ON CONFLICT DO NOTHING",
        [str(SCHEMA_VERSION)],
    )
    # An older store has just gained the tables it lacked (CREATE ... IF NOT EXISTS): say so in its meta.
    if int(get_meta(con, "schema_version") or 0) < SCHEMA_VERSION:
        set_meta(con, "schema_version", str(SCHEMA_VERSION))


def check_schema(con: duckdb.DuckDBPyConnection) -> None:
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not tables:
        return
    if "meta" not in tables or not {"sessions", "assessments"} <= tables:
        raise StoreError("This DuckDB file is not an outcomes store; name a new file for the store.")
    version = int(get_meta(con, "schema_version") or 0)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"This store was written by a newer version (schema {version}); update the dashboard to open it."
        )


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    return get_meta(con, "demo") == "true"


def bump_data_version(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS VARCHAR) WHERE key = 'data_version'")


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table: what a page shows to say whether the store is empty."""
    return {
        table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # table names are constants
        for table in ("patients", "sessions", "assessments", "imports", "quarantine")
    }


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """Remove every patient, session, assessment, import record and quarantined row (e.g. the demo).

    The access log stays: it is the record of who removed them.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        for table in DATA_TABLES:
            con.execute(f"DELETE FROM {table}")  # constant names
        # Computed copies (the report cache) go too: nothing of the removed data may stay behind.
        for (table,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE starts_with(table_name, 'cache_')"
        ).fetchall():
            con.execute(f'DROP TABLE "{table}"')
        set_meta(con, "demo", "false")
        bump_data_version(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def append_access(
    con: duckdb.DuckDBPyConnection,
    user_name: str,
    role: str,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Add one line to the access log. Lines are only ever added: nothing here updates or deletes them."""
    con.execute(
        "INSERT INTO access_log VALUES (?, ?, ?, ?, ?, ?)",
        [at or dt.datetime.now().replace(microsecond=0), user_name, role, action, target, detail],
    )


def access_log(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every line of the access log, newest first."""
    columns = ", ".join(ACCESS_LOG_COLUMNS)
    return con.execute(f"SELECT {columns} FROM access_log ORDER BY logged_at DESC, rowid DESC").df()


def fingerprint(path: str | os.PathLike) -> tuple:
    """Changes whenever the store file changes: lets the app notice new imports without a restart."""
    parts = []
    for candidate in (Path(path), Path(f"{path}.wal")):
        try:
            stat = candidate.stat()
            parts.append((stat.st_mtime_ns, stat.st_size))
        except FileNotFoundError:
            parts.append(None)
    return tuple(parts)


def snapshot(path: str | os.PathLike, wait_seconds: float = 15.0) -> duckdb.DuckDBPyConnection:
    """Copy the store into memory and let go of the file at once.

    DuckDB lets one process write a file; the dashboard reads from this copy so that
    `python -m analysis import` can write while the app stays open. The copy is DuckDB's own
    (ATTACH read-only, CREATE TABLE AS), about twice as fast as going through Arrow.
    """
    store_path = Path(path)
    if not store_path.exists():
        raise StoreError(f"There is no store at {store_path}; import data first (python -m analysis import).")
    memory = duckdb.connect(":memory:")
    literal = str(store_path).replace("'", "''")  # ATTACH takes no parameters; the path is the user's own setting
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            memory.execute(f"ATTACH '{literal}' AS source (READ_ONLY)")
            break
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                memory.close()
                raise StoreError(f"The store {store_path} could not be read: {str(error).splitlines()[0]}") from None
            time.sleep(0.1)
        except duckdb.Error as error:
            memory.close()
            raise StoreError(
                f"{store_path} is not a DuckDB outcomes store ({str(error).splitlines()[0]}); name the right file."
            ) from None
    try:
        tables = [
            row[0]
            for row in memory.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'source'"
            ).fetchall()
        ]
        if tables and not {"meta", "sessions", "assessments"} <= set(tables):
            raise StoreError(f"{store_path} is a DuckDB file but not an outcomes store; name the right file.")
        for table in tables:
            if table in ("meta",) + DATA_TABLES or table.startswith("cache_"):
                memory.execute(f'CREATE TABLE "{table}" AS SELECT * FROM source."{table}"')
    finally:
        memory.execute("DETACH source")
    if tables:
        check_schema(memory)
        if "quarantine" in tables:
            memory.execute(_QUARANTINE_UPGRADE)  # the copy of an older store reads like a new one
    else:
        ensure_schema(memory)  # an empty DuckDB file reads as an empty store
    return memory
