"""Duplicates: identical rows merge, conflicting ones are problems, within the batch and against the store."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analysis.ingest.problems import empty_problems
from analysis.ingest.staging import Batch, register, unregister
from analysis.instruments import MAX_ITEMS

# ---------------------------------------------------------------------------
# Duplicates inside the batch and against the store


SESSION_VALUES = ["modality", "dose_mg", "site", "clinician_id"]
ASSESSMENT_VALUES = ["total"] + [f"item_{k}" for k in range(1, MAX_ITEMS + 1)]
PATIENT_VALUES = ["age_band", "sex", "primary_condition", "site", "clinician_id"]


def conflicts_in_batch(
    frame: pd.DataFrame, key: list[str], values: list[str], what: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows sharing a key into one row per key (the first of identical copies) and problems for
    conflicting ones, each naming the column that differs and where the other row is."""
    if frame.empty or not frame.duplicated(key).any():
        return frame, empty_problems()
    variants = frame.drop_duplicates(key + values)
    conflicting_keys = variants.loc[variants.duplicated(key, keep=False), key].drop_duplicates()
    if conflicting_keys.empty:
        return frame.drop_duplicates(key), empty_problems()
    conflicted = frame[key].merge(conflicting_keys.assign(_conflict=True), on=key, how="left")["_conflict"]
    conflicted = conflicted.notna().to_numpy(dtype=bool)
    rows = frame.loc[conflicted].reset_index(drop=True)
    group = rows.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    differs = rows.groupby(group)[values].nunique(dropna=False) > 1
    column = differs.idxmax(axis=1).to_numpy(dtype=object)[group]  # the first column the rows disagree on
    value = pd.Series("", index=rows.index, dtype=object)
    for name in pd.unique(column):
        at = column == name
        shown = rows.loc[at, name]
        value[at] = np.where(shown.isna() | (shown.astype(str) == "-1"), "", shown.astype(str))
    places = (rows["_file"].astype(str) + " row " + rows["_row"].astype(str)).to_numpy(dtype=object)
    listed = _rows_of_each_group(group, places)
    if "_total_column" in rows:  # a session log names its score columns phq9_total, gad7_item_3, ...
        column = _score_columns(rows["_total_column"].to_numpy(dtype=object), column)
    problem_frame = pd.DataFrame(
        {
            "file": rows["_file"].to_numpy(),
            "row": rows["_row"].to_numpy(),
            "column": column,
            "value": value.to_numpy(),
            "reason": (
                "rows with the same "
                + what
                + " disagree on "
                + pd.Series(column, dtype=object)
                + " ("
                + listed[group]
                + "); keep one correct row."
            ).to_numpy(),
        }
    )
    return frame.loc[~conflicted].drop_duplicates(key), problem_frame


def _rows_of_each_group(group: np.ndarray, places: np.ndarray, shown: int = 6) -> np.ndarray:
    """'s.csv row 2, t.csv row 9' for each group id 0..G-1 (ids in order of first appearance)."""
    order = np.argsort(group, kind="stable")
    ordered = places[order].tolist()
    bounds = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1], True]).tolist()
    return np.array(
        [
            ", ".join(ordered[start : min(end, start + shown)]) + (", …" if end - start > shown else "")
            for start, end in zip(bounds[:-1], bounds[1:])
        ],
        dtype=object,
    )


def _score_columns(total_columns: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The columns as the file names them: 'item_3' of a row whose total is in gad7_total is gad7_item_3."""
    prefixes = np.array([t.removesuffix("total") for t in total_columns], dtype=object)
    named = np.where(columns == "total", total_columns, prefixes + columns)
    return np.where(prefixes == "", columns, named)


def conflicting_patients(patients: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per patient, each attribute taken from whichever row gives it; two different values conflict."""
    if patients.empty:
        return patients, empty_problems()
    grouped = patients.groupby("patient_id", sort=False)
    conflicting = (grouped[PATIENT_VALUES].nunique(dropna=True) > 1).any(axis=1)
    clash = patients["patient_id"].isin(conflicting.index[conflicting]).to_numpy()
    rows = patients.loc[clash]
    problem_frame = (
        pd.DataFrame(
            {
                "file": rows["_file"].to_numpy(),
                "row": rows["_row"].to_numpy(),
                "column": "patient_id",
                "value": rows["patient_id"].to_numpy(),
                "reason": "another row gives this patient a different age band, sex, condition, site or clinician; keep one.",
            }
        )
        if clash.any()
        else empty_problems()
    )
    kept = patients.loc[~clash]
    merged = kept.groupby("patient_id", sort=False, as_index=False).first()
    return merged[patients.columns], problem_frame


def conflicts_with_store(con: duckdb.DuckDBPyConnection, batch: Batch) -> pd.DataFrame:
    """Rows that clash with what the store already holds, as problems naming the column that differs."""
    stored = con.execute(
        "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM assessments), (SELECT count(*) FROM patients)"
    ).fetchall()[0]
    compare = {
        name: bool(held) and len(frame) > 0
        for name, held, frame in zip(
            ("sessions", "assessments", "patients"), stored, (batch.sessions, batch.assessments, batch.patients)
        )
    }
    frames = []
    if compare["sessions"]:
        frames.append(_session_conflicts(con, batch.sessions))
    if compare["assessments"]:
        frames.append(_assessment_conflicts(con, batch.assessments))
    if compare["patients"]:
        frames.append(_stored_patient_conflicts(con, batch.patients))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_problems()


def _session_conflicts(con: duckdb.DuckDBPyConnection, sessions: pd.DataFrame) -> pd.DataFrame:
    register(con, "incoming_sessions", "sessions", sessions)
    found = con.execute("""
        SELECT i._file AS file, i._row AS row,
               CASE WHEN s.modality IS DISTINCT FROM i.modality THEN 'modality'
                    WHEN s.dose_mg IS DISTINCT FROM i.dose_mg THEN 'dose_mg'
                    WHEN s.site IS DISTINCT FROM i.site THEN 'site' ELSE 'clinician_id' END AS column,
               CASE WHEN s.modality IS DISTINCT FROM i.modality THEN i.modality
                    WHEN s.dose_mg IS DISTINCT FROM i.dose_mg THEN coalesce(CAST(i.dose_mg AS VARCHAR), '')
                    WHEN s.site IS DISTINCT FROM i.site THEN coalesce(i.site, '')
                    ELSE coalesce(i.clinician_id, '') END AS value,
               'conflicts with the session already in the store for this patient and date ('
               || s.modality || coalesce(', ' || s.dose_mg || ' mg', '') || coalesce(', site ' || s.site, '')
               || coalesce(', clinician ' || s.clinician_id, '') || '); correct the row or leave it out.' AS reason
        FROM incoming_sessions i JOIN sessions s USING (patient_id, session_date)
        WHERE s.modality IS DISTINCT FROM i.modality OR s.dose_mg IS DISTINCT FROM i.dose_mg
           OR s.site IS DISTINCT FROM i.site OR s.clinician_id IS DISTINCT FROM i.clinician_id
    """).df()
    unregister(con, "incoming_sessions")
    return found


def _assessment_conflicts(con: duckdb.DuckDBPyConnection, assessments: pd.DataFrame) -> pd.DataFrame:
    register(con, "incoming_assessments", "assessments", assessments)
    found = con.execute("""
        SELECT i._file AS file, i._row AS row, i._total_column AS column, coalesce(CAST(i.total AS VARCHAR), '') AS value,
               'conflicts with the ' || a.instrument || ' already in the store for this patient and date (total '
               || coalesce(CAST(a.total AS VARCHAR), 'incomplete')
               || CASE WHEN a.total IS NOT DISTINCT FROM i.total THEN ', other item answers' ELSE '' END
               || '); correct the row or leave it out.' AS reason
        FROM incoming_assessments i JOIN assessments a USING (patient_id, assessment_date, instrument)
        WHERE a.items IS DISTINCT FROM i.items OR a.total IS DISTINCT FROM i.total
    """).df()
    unregister(con, "incoming_assessments")
    return found


def _stored_patient_conflicts(con: duckdb.DuckDBPyConnection, patients: pd.DataFrame) -> pd.DataFrame:
    register(con, "incoming_patients", "patients", patients)
    found = con.execute("""
        SELECT i._file AS file, i._row AS row, 'patient_id' AS column, i.patient_id AS value,
               'conflicts with the patient already in the store (different age band, sex, condition, site or clinician).' AS reason
        FROM incoming_patients i JOIN patients p USING (patient_id)
        WHERE (i.age_band IS NOT NULL AND p.age_band IS NOT NULL AND i.age_band <> p.age_band)
           OR (i.sex IS NOT NULL AND p.sex IS NOT NULL AND i.sex <> p.sex)
           OR (i.primary_condition IS NOT NULL AND p.primary_condition IS NOT NULL AND i.primary_condition <> p.primary_condition)
           OR (i.site IS NOT NULL AND p.site IS NOT NULL AND i.site <> p.site)
           OR (i.clinician_id IS NOT NULL AND p.clinician_id IS NOT NULL AND i.clinician_id <> p.clinician_id)
    """).df()
    unregister(con, "incoming_patients")
    return found
