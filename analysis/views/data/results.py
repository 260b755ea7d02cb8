"""An import's outcome in words for the page: problems per file and per row, the history, the quarantine."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from analysis import ingest

_CLI_DROP = re.compile(r"(?:drop them|drop it)? ?(?:explicitly )?with --drop-columns ([^\s]+?)(?=[.;]?(?:\s|$))")


def file_problems(result: ingest.ImportResult) -> list[str]:
    """Problems with a whole file (unreadable, identifying columns, unknown header), as sentences.

    The importer words its advice for the command line; on the page the same step is the
    'Leave out these columns' box.
    """
    return [
        _CLI_DROP.sub(
            lambda m: f"choose {m.group(1).replace(',', ', ')} under 'Leave out these columns' above", p.sentence()
        ).replace("Import with --pseudonymize", "Tick 'Replace patient IDs with keyed pseudonyms' above")
        for p in result.problems
        if p.row is None
    ]


def row_problems(result: ingest.ImportResult) -> pd.DataFrame:
    """Every problem with a row: row (as the spreadsheet numbers it), column, value, reason, file."""
    frame = result.problems_frame()
    frame = frame.loc[frame["row"].notna()].copy()
    frame["row"] = frame["row"].astype("Int64")
    return frame[["row", "column", "value", "reason", "file"]].reset_index(drop=True)


PROBLEMS_IN_FULL = 30  # up to this many problems are listed with every sentence in full


def problems_to_read(problems: pd.DataFrame) -> pd.DataFrame:
    """row_problems as a short table to read: the reason in full, headed 'What to fix', indexed by row."""
    return problems.rename(
        columns={"row": "Row", "column": "Column", "value": "Value", "reason": "What to fix", "file": "File"}
    ).set_index("Row")


def quarantine_to_read(rows: pd.DataFrame) -> pd.DataFrame:
    """quarantine_rows as a short table to read: every reason in full, the import time to the minute."""
    shown = rows.assign(imported_at=pd.to_datetime(rows["imported_at"]).dt.strftime("%d %b %Y %H:%M"))
    return shown.rename(
        columns={
            "imported_at": "Imported",
            "file": "File",
            "row": "Row",
            "column": "Column",
            "value": "Value",
            "reason": "What to fix",
            "resolved_by": "Resolved by",
        }
    ).set_index("Imported")


def import_notes(result: ingest.ImportResult) -> list[str]:
    """How the importer read the files (date order, mapping used, rows of other forms left out), per file."""
    return [f"{f.name}: {note}" for f in result.files for note in f.notes]


def file_summary(result: ingest.ImportResult) -> pd.DataFrame:
    """Per uploaded file: what it holds and how many rows would be added, merged or rejected."""
    return pd.DataFrame(
        [
            {
                "file": f.name,
                "holds": ", ".join(f.kinds),
                "rows": f.rows_read,
                "new": f.rows_added,
                "already in the store": f.rows_merged,
                "rejected": f.rows_rejected,
            }
            for f in result.files
        ],
        columns=["file", "holds", "rows", "new", "already in the store", "rejected"],
    )


def import_history(con: duckdb.DuckDBPyConnection | None) -> pd.DataFrame:
    """The audit trail: every import, newest first."""
    columns = [
        "imported_at",
        "file_name",
        "file_kind",
        "rows_read",
        "rows_added",
        "rows_merged",
        "rows_rejected",
        "user_name",
        "file_size",
        "sha256",
        "options",
    ]
    if con is None:
        return pd.DataFrame(columns=columns)
    return con.execute(f"SELECT {', '.join(columns)} FROM imports ORDER BY imported_at DESC, import_id DESC").df()


def quarantine_rows(con: duckdb.DuckDBPyConnection | None, *, resolved: bool = False) -> pd.DataFrame:
    """Rows set aside by imports with skip-invalid, with the reason and when they came in.

    Open rows by default; `resolved=True` lists the rows a later import brought in cleanly (kept for the audit).
    """
    columns = ["imported_at", "file", "row", "column", "value", "reason"] + (["resolved_by"] if resolved else [])
    if con is None:
        return pd.DataFrame(columns=columns)
    rows = con.execute(
        """
        SELECT i.imported_at, q.file_name AS file, q.row_number AS row, q.column_name AS column, q.value, q.reason,
               r.file_name AS resolved_by
        FROM quarantine q LEFT JOIN imports i USING (import_id)
        LEFT JOIN imports r ON r.import_id = q.resolved_import_id
        WHERE (q.resolved_import_id IS NOT NULL) = ?
        ORDER BY i.imported_at DESC, q.file_name, q.row_number
        """,
        [resolved],
    ).df()
    return rows[columns]


def quarantine_counts(con: duckdb.DuckDBPyConnection | None) -> dict[str, int]:
    """Quarantined rows still to fix, and those a later import resolved (counted apart)."""
    if con is None:
        return {"open": 0, "resolved": 0}
    open_rows, resolved = con.execute(
        "SELECT count(*) FILTER (resolved_import_id IS NULL), count(*) FILTER (resolved_import_id IS NOT NULL) "
        "FROM quarantine"
    ).fetchone()
    return {"open": int(open_rows), "resolved": int(resolved)}
