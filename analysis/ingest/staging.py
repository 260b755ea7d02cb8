"""Validated rows handed to DuckDB shaped like the store's tables (views or temporary tables)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from analysis.instruments import INSTRUMENTS, MAX_ITEMS


@dataclass
class Batch:
    patients: pd.DataFrame
    sessions: pd.DataFrame
    assessments: pd.DataFrame


_N_ITEMS_SQL = (
    "CASE instrument "
    + " ".join(f"WHEN '{code}' THEN {instrument.n_items}" for code, instrument in INSTRUMENTS.items())
    + " END"
)
# The safety answer stored as item9 (PHQ-9 item 9: thoughts of self-harm): the highest answer to the
# instrument's safety items, NULL when unanswered or when the instrument has none.
_SAFETY_SQL = (
    "CASE instrument "
    + " ".join(
        f"WHEN '{code}' THEN greatest({', '.join(f'nullif(item_{k}, -1)' for k in instrument.safety_items)})"
        for code, instrument in INSTRUMENTS.items()
        if instrument.safety_items
    )
    + " END"
)
_ITEMS_SQL = (
    "list_slice(["
    + ", ".join(f"CAST(nullif(item_{k}, -1) AS TINYINT)" for k in range(1, MAX_ITEMS + 1))
    + f"], 1, {_N_ITEMS_SQL})"
)
_VIEW_SQL = {
    "sessions": """
        SELECT CAST(patient_id AS VARCHAR) AS patient_id, CAST(session_date AS DATE) AS session_date,
               CAST(modality AS VARCHAR) AS modality, CAST(dose_mg AS DOUBLE) AS dose_mg,
               CAST(site AS VARCHAR) AS site, CAST(clinician_id AS VARCHAR) AS clinician_id,
               CAST(_file AS VARCHAR) AS _file, CAST(_row AS INTEGER) AS _row
        FROM {raw}""",
    "assessments": f"""
        SELECT CAST(patient_id AS VARCHAR) AS patient_id, CAST(assessment_date AS DATE) AS assessment_date,
               CAST(instrument AS VARCHAR) AS instrument, {_ITEMS_SQL} AS items,
               CAST(nullif(total, -1) AS SMALLINT) AS total, CAST(method AS VARCHAR) AS total_method,
               CAST(items_answered AS TINYINT) AS items_answered,
               CAST({_SAFETY_SQL} AS TINYINT) AS item9,
               CAST(_total_column AS VARCHAR) AS _total_column, CAST(_file AS VARCHAR) AS _file, CAST(_row AS INTEGER) AS _row
        FROM {{raw}}""",
    "patients": """
        SELECT CAST(patient_id AS VARCHAR) AS patient_id, CAST(age_band AS VARCHAR) AS age_band,
               CAST(sex AS VARCHAR) AS sex, CAST(primary_condition AS VARCHAR) AS primary_condition,
               CAST(site AS VARCHAR) AS site, CAST(clinician_id AS VARCHAR) AS clinician_id,
               CAST(_file AS VARCHAR) AS _file, CAST(_row AS INTEGER) AS _row
        FROM {raw}""",
}


def register(
    con: duckdb.DuckDBPyConnection, name: str, kind: str, frame: pd.DataFrame, *, materialise: bool = False
) -> None:
    """Expose validated rows to SQL as `name`, shaped and typed like the store's table: a view, or a
    temporary table when the rows are read more than once."""
    # Handed over as Arrow: DuckDB then reads the columns directly instead of Python objects.
    con.register(f"{name}_raw", pa.Table.from_pandas(frame, preserve_index=False))
    what = "TEMP TABLE" if materialise else "TEMP VIEW"
    con.execute(f"CREATE OR REPLACE {what} {name} AS {_VIEW_SQL[kind].format(raw=name + '_raw')}")  # constant names
    if materialise:
        con.unregister(f"{name}_raw")


def unregister(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        con.execute(f"DROP VIEW IF EXISTS {name}")  # constant names
        con.unregister(f"{name}_raw")
