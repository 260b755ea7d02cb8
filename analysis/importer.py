"""Import clinic exports (layout A tables or the layout B session log) into the store, all or nothing."""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import duckdb
import numpy as np
import pandas as pd

from analysis import store
from analysis.columns import (
    ALLOWED,
    IDENTIFYING_VALUES,
    ITEM_COLUMNS,
    KIND_NAMES,
    REQUIRED,
    canonical_column,
    is_identifying_header,
    normalise_header,
    table_kind,
)
from analysis.instruments import INSTRUMENTS, MAX_ITEMS, score_items
from analysis.readers import RawTable, ReadError, read_table_bytes
from analysis.settings import MODALITIES

EARLIEST_DATE = pd.Timestamp("1990-01-01")
MAX_DOSE_MG = 1500
PSEUDONYM = r"[A-Za-z0-9_.\-]{1,64}"
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
SEXES = {"f": "F", "female": "F", "woman": "F", "m": "M", "male": "M", "man": "M",
         "x": "X", "nonbinary": "X", "non_binary": "X", "other": "X", "u": "U", "unknown": "U"}
CONDITIONS = {
    "mdd": "MDD", "major_depressive_disorder": "MDD", "major_depression": "MDD", "depression": "MDD",
    "trd": "TRD", "treatment_resistant_depression": "TRD",
    "ptsd": "PTSD", "post_traumatic_stress_disorder": "PTSD", "posttraumatic_stress_disorder": "PTSD",
    "gad": "GAD", "generalized_anxiety_disorder": "GAD", "generalised_anxiety_disorder": "GAD", "anxiety": "GAD",
    "bipolar_depression": "bipolar depression", "bipolar": "bipolar depression", "bipolar_disorder": "bipolar depression",
    "ocd": "OCD", "obsessive_compulsive_disorder": "OCD",
    "other": "other",
}
MODALITY_ALIASES = {
    "ketamine_im": "ketamine_im", "im": "ketamine_im", "intramuscular": "ketamine_im", "ketamine_intramuscular": "ketamine_im", "im_ketamine": "ketamine_im",
    "ketamine_iv": "ketamine_iv", "iv": "ketamine_iv", "intravenous": "ketamine_iv", "infusion": "ketamine_iv",
    "ketamine_infusion": "ketamine_iv", "iv_ketamine": "ketamine_iv", "ketamine_intravenous": "ketamine_iv",
    "ketamine_oral": "ketamine_oral", "oral": "ketamine_oral", "po": "ketamine_oral", "sublingual": "ketamine_oral", "sl": "ketamine_oral",
    "troche": "ketamine_oral", "troches": "ketamine_oral", "lozenge": "ketamine_oral", "rdt": "ketamine_oral", "odt": "ketamine_oral",
    "ketamine_sublingual": "ketamine_oral", "ketamine_sl": "ketamine_oral", "ketamine_troche": "ketamine_oral", "oral_ketamine": "ketamine_oral",
    "esketamine_nasal": "esketamine_nasal", "esketamine": "esketamine_nasal", "spravato": "esketamine_nasal",
    "nasal": "esketamine_nasal", "intranasal": "esketamine_nasal", "esketamine_intranasal": "esketamine_nasal",
    "esketamine_spravato": "esketamine_nasal", "spravato_esketamine": "esketamine_nasal", "esk": "esketamine_nasal",
}
INSTRUMENT_ALIASES = {
    alias: code
    for code in INSTRUMENTS
    for stem in (code.lower().replace("-", ""), code.lower().replace("-", "_"))
    for alias in (stem, f"{stem}_total", f"{stem}_score")
}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import, precise enough to find and fix in the spreadsheet."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def sentence(self) -> str:
        if self.row is None and self.column is None and self.reason.startswith(self.file):
            return self.reason
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        shown = f" {self.value!r}" if self.value not in (None, "") else ""
        return f"{where}:{shown} {self.reason}"


@dataclass
class FileSummary:
    name: str
    kinds: list[str]
    size: int
    sha256: str
    rows_read: int = 0
    rows_added: int = 0
    rows_merged: int = 0
    rows_rejected: int = 0


@dataclass
class ImportResult:
    refused: bool
    problems: list[Problem] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def added(self) -> int:
        return sum(f.rows_added for f in self.files)

    @property
    def merged(self) -> int:
        return sum(f.rows_merged for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def summary_line(self) -> str:
        if self.refused:
            rows = len({(p.file, p.row) for p in self.problems if p.row is not None})
            return (
                f"Import refused: {len(self.problems)} problem(s)"
                + (f" in {rows} row(s)" if rows else "")
                + "; nothing was changed in the store."
            )
        return (
            f"Imported {sum(f.rows_read for f in self.files)} rows: "
            f"{self.added} added, {self.merged} already in the store (merged), {self.rejected} rejected"
            + (" and kept in quarantine." if self.rejected else ".")
        )

    def problems_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(p.file, p.row, p.column, p.value, p.reason) for p in self.problems],
            columns=["file", "row", "column", "value", "reason"],
        )


class _Refusal(Exception):
    """A problem with a whole file (not one row): the import cannot go on."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].sentence())
        self.problems = problems


# ---------------------------------------------------------------------------
# Header checks


def _prepare_table(table: RawTable, drop_columns: set[str]) -> tuple[str, pd.DataFrame]:
    """Drop named columns, refuse identifying ones, map aliases, tell the kind of table."""
    frame = table.frame
    kept = [c for c in frame.columns if normalise_header(c) not in drop_columns and c not in drop_columns]
    frame = frame[kept]
    identifying = [c for c in frame.columns if is_identifying_header(c)]
    if identifying:
        names = ", ".join(identifying)
        raise _Refusal([Problem(
            table.label, None, None, None,
            f"identifying column(s) {names}: the store holds pseudonyms only. Remove them from the export, "
            f"or drop them explicitly with --drop-columns {','.join(identifying)}.",
        )])
    canonical = [canonical_column(c) for c in frame.columns]
    duplicates = sorted({c for c in canonical if canonical.count(c) > 1 and c})
    if duplicates:
        raise _Refusal([Problem(table.label, None, duplicates[0], None,
                                f"more than one column means {duplicates[0]}; keep one of them.")])
    frame = frame.set_axis(canonical, axis=1)
    kind = table_kind(set(canonical))
    if kind is None:
        shown = ", ".join(map(str, table.frame.columns[:8]))
        raise _Refusal([Problem(
            table.label, None, None, None,
            f"could not tell what this table holds from its header ({shown}); it needs patient_id and "
            "session_date (sessions or a session log), assessment_date and instrument (assessments), "
            "or only patient attributes (patients). See the templates in data/templates.",
        )])
    missing = [c for c in REQUIRED[kind] if c not in canonical]
    if missing:
        raise _Refusal([Problem(table.label, None, ", ".join(missing), None,
                                f"this {KIND_NAMES[kind]} is missing the required column(s) {', '.join(missing)}.")])
    unknown = [original for original, name in zip(table.frame[kept].columns, canonical) if name not in ALLOWED[kind]]
    if unknown:
        raise _Refusal([Problem(
            table.label, None, ", ".join(unknown), None,
            f"column(s) {', '.join(unknown)} are not part of a {KIND_NAMES[kind]}; rename them to "
            f"{', '.join(ALLOWED[kind][:6])}… or drop them with --drop-columns {','.join(unknown)}.",
        )])
    frame = frame.loc[(frame != "").any(axis=1)]  # rows blank in every cell are spacing, not data
    return kind, frame


# ---------------------------------------------------------------------------
# Row checks: each takes whole columns and records every failing cell.


class _Checker:
    def __init__(self, label: str, frame: pd.DataFrame, today: dt.date):
        self.label = label
        self.frame = frame
        self.rows = frame.index.to_numpy() + 2  # spreadsheet row: header is row 1
        self.today = pd.Timestamp(today)
        self.found: list[pd.DataFrame] = []

    def column(self, name: str) -> pd.Series:
        if name in self.frame.columns:
            return self.frame[name]
        return pd.Series("", index=self.frame.index, dtype=str)

    def flag(self, mask, column: str, values, reason) -> None:
        """Record a problem for every row where mask is true; values and reason may be per row."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        values = np.asarray(values, dtype=object)
        reasons = reason[mask] if isinstance(reason, np.ndarray) else reason
        self.found.append(pd.DataFrame({
            "file": self.label, "row": self.rows[mask], "column": column,
            "value": values[mask] if values.ndim else values, "reason": reasons,
        }))

    def required(self, name: str) -> pd.Series:
        values = self.column(name)
        self.flag(values == "", name, values, f"is blank; {name} is required on every row.")
        return values

    def pseudonym(self, name: str, required: bool) -> pd.Series:
        values = self.required(name) if required else self.column(name)
        bad = (values != "") & ~values.str.fullmatch(PSEUDONYM)
        self.flag(bad, name, values.str.slice(0, 80),
                  "is not a valid pseudonym: use 1-64 letters, digits, '_', '.' or '-' (no spaces, names or symbols).")
        return values.where(values != "", None)

    def dates(self, name: str) -> pd.Series:
        values = self.required(name)
        match = values.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")[0]
        parsed = pd.to_datetime(match, format="%Y-%m-%d", errors="coerce")
        not_iso = (values != "") & match.isna()
        self.flag(not_iso, name, values, "is not a date written YYYY-MM-DD (for example 2026-03-15).")
        impossible = match.notna() & parsed.isna()
        self.flag(impossible, name, values, "is not a real calendar date.")
        self.flag(parsed > self.today, name, values, f"is in the future (today is {self.today.date()}).")
        self.flag(parsed < EARLIEST_DATE, name, values, "is before 1990; check the year.")
        return parsed.dt.date

    def mapped(self, name: str, mapping: dict[str, str], reason: str, *, required: bool) -> pd.Series:
        values = self.required(name) if required else self.column(name)
        keys = values.str.lower().str.replace(r"[^0-9a-z]+", "_", regex=True).str.strip("_")
        result = keys.map(mapping)
        self.flag((values != "") & result.isna(), name, values, reason)
        return result.where(values != "", None)

    def integers(self, name: str, low: int, high: int, what: str) -> np.ndarray:
        """Whole numbers in [low, high]; -1 marks a blank cell."""
        values = self.column(name)
        numbers = pd.to_numeric(values.where(values != "", None), errors="coerce")
        not_number = (values != "") & numbers.isna()
        self.flag(not_number, name, values, f"is not a valid {what} (a whole number from {low} to {high}).")
        not_whole = numbers.notna() & (numbers != numbers.round())
        out_of_range = numbers.notna() & ~not_whole & ((numbers < low) | (numbers > high))
        self.flag(not_whole | out_of_range, name, values, f"is not a valid {what} (a whole number from {low} to {high}).")
        ok = numbers.notna() & ~not_whole & ~out_of_range
        return np.where(ok, numbers.fillna(-1).to_numpy(dtype=float), -1).astype(np.int64)

    def dose(self, name: str) -> pd.Series:
        values = self.column(name)
        numbers = pd.to_numeric(values.where(values != "", None), errors="coerce")
        self.flag((values != "") & numbers.isna(), name, values, "is not a number of milligrams.")
        self.flag(numbers <= 0, name, values, "is not a valid dose: it must be more than 0 mg.")
        self.flag(numbers > MAX_DOSE_MG, name, values, f"is above {MAX_DOSE_MG} mg; check the units (milligrams).")
        return numbers

    def identifying_values(self) -> None:
        for column in self.frame.columns:
            values = self.frame[column]
            for what, pattern in IDENTIFYING_VALUES:
                hits = values.str.contains(pattern, regex=True)
                if hits.any():
                    # The value itself is not repeated: it may be a real identifier.
                    self.flag(hits, column, "(hidden)", f"looks like {what}; the store holds pseudonyms only, remove it.")

    def problems(self) -> pd.DataFrame:
        if not self.found:
            return pd.DataFrame(columns=["file", "row", "column", "value", "reason"])
        return pd.concat(self.found, ignore_index=True)


MODALITY_REASON = "is not a known modality; use ketamine_im, ketamine_iv, ketamine_oral or esketamine_nasal (IM, IV, oral/SL/troche, Spravato)."


def _score_block(check: _Checker, instrument_code: np.ndarray, item_columns: Sequence[str], total_column: str) -> pd.DataFrame:
    """Validate and score item and total columns for rows whose instrument is given."""
    n = len(check.frame)
    items = np.full((n, MAX_ITEMS), -1, dtype=np.int64)
    for k, column in enumerate(item_columns):
        if column:
            items[:, k] = check.integers(column, 0, 3, "item answer")
    totals = check.integers(total_column, 0, 27, "total")
    result = pd.DataFrame({"instrument": instrument_code, "total": -1, "method": "incomplete",
                           "items_answered": 0}, index=check.frame.index)
    for code, instrument in INSTRUMENTS.items():
        rows = instrument_code == code
        if not rows.any():
            continue
        extra = (items[:, instrument.n_items:] >= 0).any(axis=1) & rows
        for k in range(instrument.n_items, MAX_ITEMS):
            column = item_columns[k]
            if column:
                check.flag(extra & (items[:, k] >= 0), column, check.column(column),
                           f"is in {column}, but {code} has only {instrument.n_items} items; leave {column} blank.")
        over = rows & (totals > instrument.total_max)
        check.flag(over, total_column, check.column(total_column), f"is not a valid {code} total (0-{instrument.total_max}).")
        scored = score_items(instrument, items[rows, : instrument.n_items], np.where(over[rows], -1, totals[rows]))
        result.loc[rows, "total"] = scored["total"]
        result.loc[rows, "method"] = scored["method"]
        result.loc[rows, "items_answered"] = scored["n_answered"]
        mismatch = np.zeros(n, dtype=bool)
        mismatch[np.flatnonzero(rows)[scored["mismatch"]]] = True
        sums = np.where(items >= 0, items, 0).sum(axis=1)
        check.flag(mismatch, total_column, check.column(total_column), np.array(
            [f"does not equal the sum of the item answers ({s}); correct the total or the items." for s in sums],
            dtype=object))
    empty = (instrument_code != None) & (items < 0).all(axis=1) & (totals < 0)  # noqa: E711
    check.flag(empty, total_column, "", "this assessment has neither item answers nor a total.")
    for k in range(MAX_ITEMS):
        result[f"item_{k + 1}"] = items[:, k]
    return result


def _validate(kind: str, label: str, frame: pd.DataFrame, today: dt.date) -> dict[str, pd.DataFrame]:
    check = _Checker(label, frame, today)
    check.identifying_values()
    identifying = check.problems()
    if len(identifying):
        raise _Refusal([Problem(r.file, int(r.row), r.column, None, r.reason) for r in identifying.itertuples()])
    out: dict[str, pd.DataFrame] = {}
    origin = {"_file": label, "_row": check.rows}
    patient_id = check.pseudonym("patient_id", required=True)

    if kind in ("patients", "session_log"):
        attributes = pd.DataFrame({
            "patient_id": patient_id,
            "age_band": check.mapped("age_band", {normalise_header(b) or b: b for b in AGE_BANDS} | {"65": "65+", "65_plus": "65+", "65plus": "65+"},
                                     f"is not an age band; use one of {', '.join(AGE_BANDS)}.", required=False),
            "sex": check.mapped("sex", SEXES, "is not a recorded sex; use F, M, X or U.", required=False),
            "primary_condition": check.mapped(
                "primary_condition", CONDITIONS,
                "is not on the list of conditions; use MDD, TRD, PTSD, GAD, bipolar depression, OCD or other.", required=False),
            "site": check.pseudonym("site", required=False),
            "clinician_id": check.pseudonym("clinician_id", required=False),
            **origin,
        })
        if kind == "session_log":
            has_attributes = attributes[["age_band", "sex", "primary_condition"]].notna().any(axis=1)
            attributes = attributes.loc[has_attributes].assign(site=None, clinician_id=None)
        out["patients"] = attributes

    if kind in ("sessions", "session_log"):
        session_date = check.dates("session_date")
        modality = check.mapped("modality", MODALITY_ALIASES, MODALITY_REASON, required=(kind == "sessions"))
        sessions = pd.DataFrame({
            "patient_id": patient_id, "session_date": session_date, "modality": modality,
            "dose_mg": check.dose("dose_mg"),
            "site": check.pseudonym("site", required=False),
            "clinician_id": check.pseudonym("clinician_id", required=False),
            **origin,
        })
        if kind == "session_log":
            raw_modality = check.column("modality")
            dose_only = (raw_modality == "") & (check.column("dose_mg") != "")
            check.flag(dose_only, "dose_mg", check.column("dose_mg"), "a dose needs a modality on the same row.")
            sessions = sessions.loc[raw_modality != ""]
        out["sessions"] = sessions

    if kind == "assessments":
        instrument = check.mapped("instrument", INSTRUMENT_ALIASES, "is not a known instrument; use PHQ-9 or GAD-7.", required=True)
        scored = _score_block(check, instrument.to_numpy(dtype=object), ITEM_COLUMNS, "total")
        out["assessments"] = scored.assign(patient_id=patient_id, assessment_date=check.dates("assessment_date"), **origin)

    if kind == "session_log":
        blocks = []
        any_score = np.zeros(len(frame), dtype=bool)
        for code, instrument in INSTRUMENTS.items():
            prefix = instrument.log_prefix
            item_columns = [f"{prefix}_item_{k}" if k <= instrument.n_items else "" for k in range(1, MAX_ITEMS + 1)]
            present = [c for c in item_columns if c] + [f"{prefix}_total"]
            has_score = (check.frame.reindex(columns=present, fill_value="") != "").any(axis=1).to_numpy()
            any_score |= has_score
            scored = _score_block(check, np.where(has_score, code, None), item_columns, f"{prefix}_total")
            scored = scored.assign(patient_id=patient_id, assessment_date=session_date, **origin)
            blocks.append(scored.loc[has_score])
        out["assessments"] = pd.concat(blocks)
        nothing = (check.column("modality") == "") & ~any_score
        check.flag(nothing, "modality", "", "this row has neither a modality (a session) nor any score (an assessment).")

    out["problems"] = check.problems()
    return out


# ---------------------------------------------------------------------------
# Duplicates inside the batch and against the store


_SESSION_VALUES = ["modality", "dose_mg", "site", "clinician_id"]
_ASSESSMENT_VALUES = ["total"] + [f"item_{k}" for k in range(1, MAX_ITEMS + 1)]
_PATIENT_VALUES = ["age_band", "sex", "primary_condition", "site", "clinician_id"]


def _conflicts_in_batch(frame: pd.DataFrame, key: list[str], values: list[str], what: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows sharing a key into the first of identical copies and problems for conflicting ones."""
    if frame.empty:
        return frame, pd.DataFrame(columns=["file", "row", "column", "value", "reason"])
    comparable = frame[key + values].astype(str)
    variants = comparable.drop_duplicates().groupby(key, dropna=False).size()
    conflicting_keys = variants[variants > 1].index
    conflicted = frame.set_index(key).index.isin(conflicting_keys)
    problems = frame.loc[conflicted]
    problem_frame = pd.DataFrame({
        "file": problems["_file"], "row": problems["_row"], "column": key[-1],
        "value": problems[key[-1]].astype(str),
        "reason": f"another row has the same {what} with different values; keep one correct row.",
    })
    return frame.loc[~conflicted], problem_frame


def _first_of_identical(frame: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    duplicate = frame.duplicated(key, keep="first")
    return frame.loc[~duplicate], duplicate


@dataclass
class _Batch:
    patients: pd.DataFrame
    sessions: pd.DataFrame
    assessments: pd.DataFrame


def _store_conflicts(con: duckdb.DuckDBPyConnection, batch: _Batch) -> pd.DataFrame:
    """Rows that clash with what the store already holds, as problems."""
    frames = []
    con.register("incoming_sessions", batch.sessions[["patient_id", "session_date", "modality", "dose_mg", "site", "clinician_id", "_file", "_row"]])
    frames.append(con.execute("""
        SELECT i._file AS file, i._row AS row, 'modality' AS column, i.modality AS value,
               'conflicts with the session already in the store for this patient and date ('
               || s.modality || coalesce(', ' || s.dose_mg || ' mg', '') || '); correct the row or leave it out.' AS reason
        FROM incoming_sessions i JOIN sessions s USING (patient_id, session_date)
        WHERE s.modality IS DISTINCT FROM i.modality OR s.dose_mg IS DISTINCT FROM i.dose_mg
           OR s.site IS DISTINCT FROM i.site OR s.clinician_id IS DISTINCT FROM i.clinician_id
    """).df())
    con.unregister("incoming_sessions")
    _register_assessments(con, "incoming_assessments", batch.assessments)
    frames.append(con.execute("""
        SELECT i._file AS file, i._row AS row, 'total' AS column, CAST(i.total AS VARCHAR) AS value,
               'conflicts with the ' || a.instrument || ' already in the store for this patient and date (total '
               || coalesce(CAST(a.total AS VARCHAR), 'incomplete') || '); correct the row or leave it out.' AS reason
        FROM incoming_assessments i JOIN assessments a USING (patient_id, assessment_date, instrument)
        WHERE a.items IS DISTINCT FROM i.items OR a.total IS DISTINCT FROM i.total
    """).df())
    con.execute("DROP VIEW incoming_assessments")
    con.unregister("incoming_assessments_raw")
    con.register("incoming_patients", batch.patients)
    frames.append(con.execute("""
        SELECT i._file AS file, i._row AS row, 'patient_id' AS column, i.patient_id AS value,
               'conflicts with the patient already in the store (different age band, sex, condition, site or clinician).' AS reason
        FROM incoming_patients i JOIN patients p USING (patient_id)
        WHERE (i.age_band IS NOT NULL AND p.age_band IS NOT NULL AND i.age_band <> p.age_band)
           OR (i.sex IS NOT NULL AND p.sex IS NOT NULL AND i.sex <> p.sex)
           OR (i.primary_condition IS NOT NULL AND p.primary_condition IS NOT NULL AND i.primary_condition <> p.primary_condition)
           OR (i.site IS NOT NULL AND p.site IS NOT NULL AND i.site <> p.site)
           OR (i.clinician_id IS NOT NULL AND p.clinician_id IS NOT NULL AND i.clinician_id <> p.clinician_id)
    """).df())
    con.unregister("incoming_patients")
    return pd.concat(frames, ignore_index=True)


_N_ITEMS_SQL = "CASE instrument " + " ".join(
    f"WHEN '{code}' THEN {instrument.n_items}" for code, instrument in INSTRUMENTS.items()) + " END"
_ITEMS_SQL = "list_slice([" + ", ".join(
    f"CAST(nullif(item_{k}, -1) AS TINYINT)" for k in range(1, MAX_ITEMS + 1)) + f"], 1, {_N_ITEMS_SQL})"


def _register_assessments(con: duckdb.DuckDBPyConnection, name: str, assessments: pd.DataFrame) -> None:
    """Expose validated assessments to SQL shaped like the store (items as a list, NULL = blank)."""
    columns = ["patient_id", "assessment_date", "instrument", "total", "method", "items_answered",
               *ITEM_COLUMNS, "_file", "_row"]
    con.register(f"{name}_raw", assessments[columns])
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {name} AS
        SELECT patient_id, assessment_date, instrument, {_ITEMS_SQL} AS items,
               CAST(nullif(total, -1) AS SMALLINT) AS total, method AS total_method,
               CAST(items_answered AS TINYINT) AS items_answered,
               CAST(CASE WHEN instrument = 'PHQ-9' THEN nullif(item_9, -1) END AS TINYINT) AS item9,
               _file, _row
        FROM {name}_raw
    """)


# ---------------------------------------------------------------------------
# The import


def _read_sources(sources: Iterable[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes, list[RawTable]]], list[Problem]]:
    read, problems = [], []
    for name, data in sources:
        try:
            read.append((name, data, read_table_bytes(name, data)))
        except ReadError as error:
            problems.append(Problem(name, None, None, None, str(error)))
    return read, problems


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame(columns=["file", "row", "column", "value", "reason"])


def import_files(con: duckdb.DuckDBPyConnection, paths: Sequence[str | os.PathLike], **options) -> ImportResult:
    """Import files named on the command line. A missing or unreadable path is a problem, not a crash."""
    sources, missing = [], []
    for path in paths:
        path = Path(path)
        try:
            sources.append((path.name, path.read_bytes()))
        except FileNotFoundError:
            missing.append(Problem(str(path), None, None, None, "no such file; check the path."))
        except IsADirectoryError:
            missing.append(Problem(str(path), None, None, None, "is a folder; name the CSV or .xlsx files inside it."))
        except OSError as error:
            missing.append(Problem(str(path), None, None, None, f"could not be read ({error.strerror})."))
    if missing:
        return ImportResult(refused=True, problems=missing)
    return import_bytes(con, sources, **options)


def import_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[tuple[str, pd.DataFrame]], **options) -> ImportResult:
    """Import in-memory tables (the demo generator, tests): the same checks, as if read from CSV."""
    sources = []
    for name, frame in tables:
        text = frame.to_csv(index=False, date_format="%Y-%m-%d")
        sources.append((name, text.encode("utf-8")))
    return import_bytes(con, sources, **options)


def import_bytes(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[tuple[str, bytes]],
    *,
    skip_invalid: bool = False,
    drop_columns: Iterable[str] = (),
    user: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Check every row of every source, then load them in one transaction, or change nothing."""
    today = today or dt.date.today()
    report = progress or (lambda fraction, message: None)
    drop = {normalise_header(c) for c in drop_columns if c.strip()} | {c.strip() for c in drop_columns if c.strip()}

    report(0.05, "Reading files")
    read, problems = _read_sources(sources)
    if problems:
        return ImportResult(refused=True, problems=problems)

    parts: dict[str, list[pd.DataFrame]] = {"patients": [], "sessions": [], "assessments": [], "problems": []}
    summaries: dict[str, FileSummary] = {}
    labels_of: dict[str, str] = {}
    file_problems: list[Problem] = []
    seen_columns: set[str] = set()
    for index, (name, data, tables) in enumerate(read):
        summary = FileSummary(name=name, kinds=[], size=len(data), sha256=hashlib.sha256(data).hexdigest())
        summaries[name] = summary
        for table in tables:
            labels_of[table.label] = name
            seen_columns |= {normalise_header(c) for c in table.frame.columns} | set(table.frame.columns)
            report(0.1 + 0.5 * index / max(len(read), 1), f"Checking {table.label}")
            try:
                kind, frame = _prepare_table(table, drop)
                summary.kinds.append(KIND_NAMES[kind])
                summary.rows_read += len(frame)
                validated = _validate(kind, table.label, frame, today)
            except _Refusal as refusal:
                file_problems.extend(refusal.problems)
                continue
            for key, value in validated.items():
                parts[key].append(value)
    unknown_drops = sorted(c for c in {c.strip() for c in drop_columns if c.strip()} if c not in seen_columns and normalise_header(c) not in seen_columns)
    if unknown_drops:
        file_problems.append(Problem(", ".join(summaries), None, ", ".join(unknown_drops), None,
                                     f"--drop-columns names {', '.join(unknown_drops)}, which no file has; check the spelling."))
    if file_problems:
        return ImportResult(refused=True, problems=file_problems, files=list(summaries.values()))

    report(0.65, "Checking for duplicates")
    patients = pd.concat(parts["patients"]) if parts["patients"] else pd.DataFrame(columns=["patient_id", *_PATIENT_VALUES, "_file", "_row"])
    sessions = pd.concat(parts["sessions"]) if parts["sessions"] else pd.DataFrame(columns=["patient_id", "session_date", *_SESSION_VALUES, "_file", "_row"])
    assessments = pd.concat(parts["assessments"]) if parts["assessments"] else pd.DataFrame(
        columns=["patient_id", "assessment_date", "instrument", "total", "method", "items_answered", *ITEM_COLUMNS, "_file", "_row"])
    row_problems = pd.concat([p for p in parts["problems"] if len(p)] or [_empty_problems()], ignore_index=True)

    # Rows with a problem are set aside before looking for duplicates among the good ones.
    bad_rows = set(zip(row_problems["file"], row_problems["row"]))

    def good(frame: pd.DataFrame) -> pd.DataFrame:
        if not bad_rows or frame.empty:
            return frame
        keys = pd.MultiIndex.from_arrays([frame["_file"], frame["_row"]])
        return frame.loc[~keys.isin(list(bad_rows))]

    sessions, session_conflicts = _conflicts_in_batch(good(sessions), ["patient_id", "session_date"], _SESSION_VALUES, "patient and session_date")
    assessments, assessment_conflicts = _conflicts_in_batch(
        good(assessments), ["patient_id", "assessment_date", "instrument"], _ASSESSMENT_VALUES, "patient, date and instrument")
    patients, patient_conflicts = _conflicts_in_batch(good(patients), ["patient_id"], _PATIENT_VALUES, "patient_id")
    batch = _Batch(patients=patients, sessions=sessions, assessments=assessments)
    store_conflicts = _store_conflicts(con, batch)
    all_problems = pd.concat(
        [f for f in (row_problems, session_conflicts, assessment_conflicts, patient_conflicts, store_conflicts) if len(f)]
        or [_empty_problems()], ignore_index=True,
    ).sort_values(["file", "row"], kind="stable")
    problems = [Problem(r.file, int(r.row), r.column, None if pd.isna(r.value) else str(r.value), r.reason)
                for r in all_problems.itertuples()]

    if problems and not skip_invalid:
        return ImportResult(refused=True, problems=problems, files=list(summaries.values()))

    bad_rows = set(zip(all_problems["file"], all_problems["row"]))
    batch = _Batch(good(patients), good(sessions), good(assessments))
    report(0.8, "Writing to the store")
    _write(con, batch, summaries, labels_of, all_problems, user=user or _current_user(),
           options={"skip_invalid": skip_invalid, "drop_columns": sorted(drop_columns)})
    report(1.0, "Done")
    return ImportResult(refused=False, problems=problems, files=list(summaries.values()))


def _current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return None


def _write(con, batch: _Batch, summaries: dict[str, FileSummary], labels_of: dict[str, str],
           problems: pd.DataFrame, *, user: str | None, options: dict) -> None:
    sessions_unique, _ = _first_of_identical(batch.sessions, ["patient_id", "session_date"])
    assessments_unique, _ = _first_of_identical(batch.assessments, ["patient_id", "assessment_date", "instrument"])
    patients_unique, _ = _first_of_identical(batch.patients, ["patient_id"])
    con.execute("BEGIN TRANSACTION")
    try:
        import_ids = {}
        for name, summary in summaries.items():
            import_ids[name] = con.execute("SELECT nextval('import_id_seq')").fetchall()[0][0]
        origin = pd.DataFrame({"_file": list(labels_of), "import_id": [import_ids[labels_of[l]] for l in labels_of]})
        con.register("origin", origin)

        con.register("new_sessions", sessions_unique)
        added_sessions = con.execute("""
            SELECT n._file, n._row FROM new_sessions n
            ANTI JOIN sessions s USING (patient_id, session_date)
        """).df()
        con.execute("""
            INSERT INTO sessions
            SELECT n.patient_id, n.session_date, n.modality, n.dose_mg, n.site, n.clinician_id, o.import_id
            FROM new_sessions n JOIN origin o USING (_file)
            ANTI JOIN sessions s USING (patient_id, session_date)
        """)
        _register_assessments(con, "new_assessments", assessments_unique)
        added_assessments = con.execute("""
            SELECT n._file, n._row FROM new_assessments n
            ANTI JOIN assessments a USING (patient_id, assessment_date, instrument)
        """).df()
        con.execute("""
            INSERT INTO assessments
            SELECT n.patient_id, n.assessment_date, n.instrument, n.items, n.total, n.total_method,
                   n.items_answered, n.item9, o.import_id
            FROM new_assessments n JOIN origin o USING (_file)
            ANTI JOIN assessments a USING (patient_id, assessment_date, instrument)
        """)
        con.register("new_patients", patients_unique)
        filled_patients = con.execute("""
            SELECT n._file, n._row FROM new_patients n LEFT JOIN patients p USING (patient_id)
            WHERE p.patient_id IS NULL
               OR (p.age_band IS NULL AND n.age_band IS NOT NULL) OR (p.sex IS NULL AND n.sex IS NOT NULL)
               OR (p.primary_condition IS NULL AND n.primary_condition IS NOT NULL)
               OR (p.site IS NULL AND n.site IS NOT NULL) OR (p.clinician_id IS NULL AND n.clinician_id IS NOT NULL)
        """).df()
        con.execute("""
            UPDATE patients p SET age_band = coalesce(p.age_band, n.age_band), sex = coalesce(p.sex, n.sex),
                primary_condition = coalesce(p.primary_condition, n.primary_condition),
                site = coalesce(p.site, n.site), clinician_id = coalesce(p.clinician_id, n.clinician_id)
            FROM new_patients n WHERE p.patient_id = n.patient_id
        """)
        con.execute("""
            INSERT INTO patients
            SELECT n.patient_id, n.age_band, n.sex, n.primary_condition, n.site, n.clinician_id, o.import_id
            FROM new_patients n JOIN origin o USING (_file)
            ANTI JOIN patients p USING (patient_id)
        """)
        # Every patient seen in a session or an assessment gets a (pseudonymous) patient row.
        con.execute("""
            INSERT INTO patients (patient_id, import_id)
            SELECT patient_id, min(o.import_id) FROM (
                SELECT patient_id, _file FROM new_sessions UNION ALL SELECT patient_id, _file FROM new_assessments
            ) JOIN origin o USING (_file)
            WHERE patient_id NOT IN (SELECT patient_id FROM patients)
            GROUP BY patient_id
        """)

        added_rows = pd.concat([added_sessions, added_assessments, filled_patients]).drop_duplicates()
        rejected = problems.drop_duplicates(["file", "row"])
        for name, summary in summaries.items():
            labels = [label for label, owner in labels_of.items() if owner == name]
            summary.rows_added = int(added_rows["_file"].isin(labels).sum())
            summary.rows_rejected = int(rejected["file"].isin(labels).sum())
            summary.rows_merged = summary.rows_read - summary.rows_added - summary.rows_rejected
            con.execute(
                "INSERT INTO imports VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [import_ids[name], name, summary.size, summary.sha256, ", ".join(summary.kinds), summary.rows_read,
                 summary.rows_added, summary.rows_merged, summary.rows_rejected, user, json.dumps(options)],
            )
        if len(problems):
            quarantined = problems.assign(import_id=problems["file"].map(lambda label: import_ids[labels_of[label]]))
            con.register("quarantined", quarantined)
            con.execute("""
                INSERT INTO quarantine SELECT import_id, file, CAST(row AS INTEGER), column, value, reason FROM quarantined
            """)
            con.unregister("quarantined")
        if len(added_rows):
            store.bump_data_version(con)
        con.execute("DROP VIEW new_assessments")
        for view in ("origin", "new_sessions", "new_assessments_raw", "new_patients"):
            con.unregister(view)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
