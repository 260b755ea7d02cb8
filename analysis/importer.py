"""Import clinic exports (layout A tables or the layout B session log) into the store, all or nothing."""
from __future__ import annotations

import datetime as dt
import functools
import getpass
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis import store
from analysis.columns import (
    ALLOWED,
    IDENTIFYING_VALUES,
    ITEM_COLUMNS,
    KIND_NAMES,
    LOG_SCORE_COLUMNS,
    REQUIRED,
    canonical_column,
    is_identifying_header,
    modality_for,
    normalise_header,
    table_kind,
)
from analysis.instruments import INSTRUMENTS, MAX_ITEMS, score_items
from analysis.readers import RawTable, ReadError, read_table_bytes

log = logging.getLogger(__name__)

EARLIEST_DATE = pd.Timestamp("1990-01-01")
MAX_DOSE_MG = 1500
MAX_VALUE_SHOWN = 80  # a problem quotes at most this much of a cell
PSEUDONYM = r"[A-Za-z0-9_.\-]{1,64}"
PSEUDONYM_COLUMNS = ("patient_id", "site", "clinician_id")
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
INSTRUMENT_ALIASES = {
    alias: code
    for code in INSTRUMENTS
    for stem in (code.lower().replace("-", ""), code.lower().replace("-", "_"))
    for alias in (stem, f"{stem}_total", f"{stem}_score")
}
AGE_BAND_ALIASES = {normalise_header(band): band for band in AGE_BANDS} | {"65_plus": "65+", "65plus": "65+"}
# Cell patterns, matched on whole (stripped) cells.
_ISO_DATE = r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
# 12,5 from a European export; never 1,500, which may be a US thousands separator.
_DECIMAL_COMMA = r"^(-?\d+),(\d{1,2}|\d{4,})$"
_BARE_PHONE_OR_SSN = r"^\+?\d{9,11}$"
_DATE_LIKE = r"^\d{4}-\d{2}-\d{2}$"
UNEXPECTED_REASON = "the importer failed unexpectedly"

Progress = Callable[[float, str], None]
PROBLEM_COLUMNS = ["file", "row", "column", "value", "reason"]


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
        if self.column and not (self.row is None and self.column in self.reason):
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
            columns=PROBLEM_COLUMNS,
        )


class _Refusal(Exception):
    """A problem with a whole table (not one row): the import cannot go on."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].sentence())
        self.problems = problems


def _shown(value: str) -> str:
    return value if len(value) <= MAX_VALUE_SHOWN else value[: MAX_VALUE_SHOWN - 1] + "…"


# Checks run on a column's distinct values. For a few short values Python's re is quicker than setting
# up a pandas/Arrow string kernel (a small export is mostly set-up); otherwise Arrow's RE2 kernels run,
# vectorised and in linear time (Python's backtracking re is quadratic on a 100,000-character cell).
_FEW_VALUES = 512
_SHORT_VALUE = 256


def _python_is_quicker(values: pd.Series) -> bool:
    return len(values) <= _FEW_VALUES and max(map(len, values.to_numpy(dtype=object)), default=0) <= _SHORT_VALUE


@functools.cache
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.ASCII)  # ASCII: the same \d and \w as Arrow's RE2


def _matches(values: pd.Series, pattern: str, *, whole: bool = False) -> np.ndarray:
    """Per distinct value: does the pattern match the whole value (whole) or any part of it?"""
    if not _python_is_quicker(values):
        found = values.str.fullmatch(pattern) if whole else values.str.contains(pattern, regex=True)
        return found.to_numpy(dtype=bool, na_value=False)
    test = _regex(pattern).fullmatch if whole else _regex(pattern).search
    return np.array([test(v) is not None for v in values.to_numpy(dtype=object)], dtype=bool)


def _first_group(values: pd.Series, pattern: str) -> pd.Series:
    """Per distinct value: the first group of a match at the start, or NaN."""
    if not _python_is_quicker(values):
        return values.str.extract(pattern)[0]
    match = _regex(pattern).match
    found = [match(v) for v in values.to_numpy(dtype=object)]
    return pd.Series([m.group(1) if m else None for m in found], dtype="str")


def _replaced(values: pd.Series, pattern: str, replacement: str) -> pd.Series:
    if not _python_is_quicker(values):
        return values.str.replace(pattern, replacement, regex=True)
    substitute = _regex(pattern).sub
    return pd.Series([substitute(replacement, v) for v in values.to_numpy(dtype=object)], dtype="str")


def _keys(values: pd.Series) -> pd.Series:
    """'Ketamine IV ' -> 'ketamine_iv': the form aliases are looked up in (as normalise_header)."""
    if not _python_is_quicker(values):
        return values.str.lower().str.replace(r"[^0-9a-z]+", "_", regex=True).str.strip("_")
    return pd.Series([normalise_header(v) for v in values.to_numpy(dtype=object)], dtype="str")


# ---------------------------------------------------------------------------
# Header checks


def _prepare_table(table: RawTable, drop_columns: set[str]) -> tuple[str, pd.DataFrame]:
    """Drop named columns, refuse identifying ones, map aliases, tell the kind of table.

    Every header problem of the table is reported together.
    """
    kept = [c for c in table.frame.columns if normalise_header(c) not in drop_columns and c not in drop_columns]
    frame = table.frame[kept]
    problems = []

    def refuse(column: str | None, reason: str) -> None:
        problems.append(Problem(table.label, None, column, None, reason))

    identifying = [c for c in kept if is_identifying_header(c)]
    others = [c for c in kept if c not in identifying]
    canonical = {c: canonical_column(c) for c in others}
    names = set(canonical.values())
    if "date" in names and not names & {"session_date", "assessment_date"}:
        # A bare "Date" column means the date of what the table records, when the rest says what that is.
        meaning = ("assessment_date" if "instrument" in names
                   else "session_date" if "modality" in names or names & set(LOG_SCORE_COLUMNS) else "date")
        canonical = {c: meaning if name == "date" else name for c, name in canonical.items()}
    by_meaning: dict[str, list[str]] = {}
    for original, name in canonical.items():
        by_meaning.setdefault(name, []).append(original)
    for name, originals in by_meaning.items():
        if len(originals) > 1:
            refuse(name, f"the columns {', '.join(originals)} all mean {name}; keep one of them.")
    kind = table_kind(set(canonical.values()))
    shown = ", ".join(map(str, others[:8])) + (", …" if len(others) > 8 else "")
    needs = ("it needs patient_id and session_date (sessions or a session log), assessment_date and instrument "
             "(assessments), or only patient attributes (patients). See the templates in data/templates.")
    names = ", ".join(identifying)
    if kind is None and identifying:
        # Not a clinic export at all (an EHR demographics file, say): one sentence says both things.
        refuse(names, f"identifying column(s) {names}: the store holds pseudonyms only; and the rest of the header "
                      f"({shown or 'nothing else'}) is not a table this importer reads: {needs}")
    elif kind is None:
        refuse(None, f"could not tell what this table holds from its header ({shown or 'no usable columns'}); {needs}")
    elif identifying:
        refuse(names, f"identifying column(s) {names}: the store holds pseudonyms only. Remove them from the export, "
                      f"or drop them explicitly with --drop-columns {','.join(identifying)}.")
    if kind is not None:
        missing = [c for c in REQUIRED[kind] if c not in canonical.values()]
        if missing:
            refuse(", ".join(missing),
                   f"this {KIND_NAMES[kind]} is missing the required column(s) {', '.join(missing)}.")
        unknown = [original for original, name in canonical.items() if name not in ALLOWED[kind]]
        if unknown:
            refuse(", ".join(unknown),
                   f"column(s) {', '.join(unknown)} are not part of a {KIND_NAMES[kind]}; rename them to "
                   f"{', '.join(ALLOWED[kind][:6])}… or drop them with --drop-columns {','.join(unknown)}.")
    if problems:
        raise _Refusal(problems)
    frame = frame.set_axis([canonical[c] for c in frame.columns], axis=1)
    frame = frame.loc[(frame != "").to_numpy().any(axis=1)]  # rows blank in every cell are spacing, not data
    return kind, frame


# ---------------------------------------------------------------------------
# Row checks: each takes whole columns and records every failing cell.


class _Checker:
    """Checks the columns of one table and collects a problem for every failing cell.

    Each check runs once per distinct value of a column and is spread back to the rows by
    code: an export has hundreds of thousands of rows but few distinct dates, answers,
    modalities or patients, so validation stays vectorised and cheap.
    """

    def __init__(self, label: str, frame: pd.DataFrame, today: dt.date):
        self.label = label
        self.frame = frame
        self.n = len(frame)
        self.rows = frame.index.to_numpy() + 2  # spreadsheet row: header is row 1
        self.today = pd.Timestamp(today)
        self.found: list[pd.DataFrame] = []
        self._distinct: dict[str, tuple[np.ndarray, pd.Series]] = {}

    def distinct(self, name: str) -> tuple[np.ndarray, pd.Series]:
        """(code of each row, distinct values) of a column; an absent column is blank everywhere."""
        if name not in self._distinct:
            if name in self.frame.columns:
                codes, uniques = pd.factorize(self.frame[name], use_na_sentinel=False)
                values = pd.Series(np.asarray(uniques, dtype=object), dtype="str").fillna("")
            else:
                codes, values = np.zeros(self.n, dtype=np.intp), pd.Series([""], dtype="str")
            self._distinct[name] = (codes, values)
        return self._distinct[name]

    def given(self, name: str) -> np.ndarray:
        """Per row: the cell is not blank."""
        codes, values = self.distinct(name)
        return (values != "").to_numpy(dtype=bool)[codes]

    def _record(self, mask: np.ndarray, column: str, values, reasons) -> None:
        self.found.append(pd.DataFrame({
            "file": self.label, "row": self.rows[mask], "column": column, "value": values, "reason": reasons,
        }))

    def flag(self, mask, column: str, values, reason) -> None:
        """A problem for every row where mask is true; values: one per row, or one for all; reason likewise."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if not isinstance(values, str):
            values = [_shown(str(v)) for v in np.asarray(values, dtype=object)[mask]]
        if isinstance(reason, np.ndarray):
            reason = reason[mask]
        self._record(mask, column, values, reason)

    def flag_distinct(self, name: str, bad, reason, *, hide_value: bool = False) -> None:
        """A problem for every row whose value is bad; bad (and reason, if an array) run over distinct values."""
        codes, values = self.distinct(name)
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return
        mask = bad[codes]
        picked = codes[mask]
        shown = "(hidden)" if hide_value else [_shown(v) for v in values.to_numpy(dtype=object)[picked]]
        self._record(mask, name, shown, reason[picked] if isinstance(reason, np.ndarray) else reason)

    def required(self, name: str) -> None:
        codes, values = self.distinct(name)
        self.flag_distinct(name, (values == "").to_numpy(dtype=bool), f"is blank; {name} is required on every row.")

    def spread(self, name: str, per_value) -> pd.Series:
        """Text per distinct value (NaN for none) spread to the rows, kept in Arrow (no Python objects)."""
        codes, _ = self.distinct(name)
        per_value = pd.Series(per_value, dtype="str")
        return pd.Series(per_value.array.take(codes), dtype="str")

    def pseudonym(self, name: str, required: bool) -> pd.Series:
        if required:
            self.required(name)
        codes, values = self.distinct(name)
        blank = (values == "").to_numpy(dtype=bool)
        bad = ~blank & ~_matches(values, PSEUDONYM, whole=True)
        self.flag_distinct(name, bad, "is not a valid pseudonym: use 1-64 letters, digits, '_', '.' or '-' "
                                      "(no spaces, names or symbols).")
        return self.spread(name, values.where(~(blank | bad)))

    def dates(self, name: str) -> np.ndarray:
        """datetime64 per row; NaT where blank or invalid."""
        self.required(name)
        codes, values = self.distinct(name)
        day = _first_group(values, _ISO_DATE)
        parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
        not_iso = (values != "").to_numpy(dtype=bool) & day.isna().to_numpy(dtype=bool)
        self.flag_distinct(name, not_iso, "is not a date written YYYY-MM-DD (for example 2026-03-15); "
                                          "in Excel, format the column as Date.")
        impossible = day.notna().to_numpy(dtype=bool) & parsed.isna().to_numpy(dtype=bool)
        self.flag_distinct(name, impossible, "is not a real calendar date.")
        future = (parsed > self.today).to_numpy(dtype=bool)
        self.flag_distinct(name, future, f"is in the future (today is {self.today.date()}).")
        early = (parsed < EARLIEST_DATE).to_numpy(dtype=bool)
        self.flag_distinct(name, early, "is before 1990; check the year.")
        parsed = parsed.where(~(future | early))
        return parsed.to_numpy(dtype="datetime64[us]")[codes]

    def mapped(self, name: str, mapping: Callable[[str], str | None] | dict[str, str], reason: str, *,
               required: bool) -> pd.Series:
        """The canonical value per row (NaN when blank or unknown)."""
        if required:
            self.required(name)
        codes, values = self.distinct(name)
        if isinstance(mapping, dict):
            result = _keys(values).map(mapping).to_numpy(dtype=object)
        else:
            result = np.array([mapping(v) for v in values.to_numpy(dtype=object)], dtype=object)
        blank = (values == "").to_numpy(dtype=bool)
        unknown = ~blank & pd.isna(result)
        self.flag_distinct(name, unknown, reason)
        return self.spread(name, np.where(blank | unknown, None, result))

    def _numbers(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(codes, number per distinct value (NaN when not a number), given per distinct value)."""
        codes, values = self.distinct(name)
        text = _replaced(values, _DECIMAL_COMMA, r"\1.\2")
        given = (values != "").to_numpy(dtype=bool)
        numbers = pd.to_numeric(text.where(given), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return codes, numbers, given

    def integers(self, name: str, low: int, high: int, what: str) -> np.ndarray:
        """Whole numbers in [low, high] per row; -1 marks a blank or invalid cell."""
        if name not in self.frame.columns:
            return np.full(self.n, -1, dtype=np.int64)
        codes, numbers, given = self._numbers(name)
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers >= low) & (numbers <= high)
        self.flag_distinct(name, given & ~valid, f"is not a valid {what} (a whole number from {low} to {high}).")
        return np.where(valid, np.nan_to_num(numbers), -1).astype(np.int64)[codes]

    def dose(self, name: str) -> np.ndarray:
        codes, numbers, given = self._numbers(name)
        not_number = given & np.isnan(numbers)
        self.flag_distinct(name, not_number, "is not a number of milligrams.")
        with np.errstate(invalid="ignore"):
            not_positive = numbers <= 0
            too_high = numbers > MAX_DOSE_MG
        self.flag_distinct(name, not_positive, "is not a valid dose: it must be more than 0 mg.")
        self.flag_distinct(name, too_high, f"is above {MAX_DOSE_MG} mg; check the units (milligrams).")
        return np.where(given & ~not_number & ~not_positive & ~too_high, numbers, np.nan)[codes]

    def identifying_values(self) -> None:
        """Values that look like emails, phone numbers or SSNs, in any column (never repeated back)."""
        for column in self.frame.columns:
            codes, values = self.distinct(column)
            for what, pattern in IDENTIFYING_VALUES:
                hits = _matches(values, pattern.pattern)
                self.flag_distinct(column, hits, f"looks like {what}; the store holds pseudonyms only, remove it.",
                                   hide_value=True)
            if column in PSEUDONYM_COLUMNS:
                digits = _matches(values, _BARE_PHONE_OR_SSN, whole=True)
                self.flag_distinct(column, digits, "looks like a phone number or Social Security number written "
                                                   "without separators; use the clinic's pseudonym instead.",
                                   hide_value=True)
                date_like = _matches(values, _DATE_LIKE, whole=True)
                self.flag_distinct(column, date_like, "looks like a date (a date of birth?); use the clinic's "
                                                      "pseudonym instead.", hide_value=True)

    def problems(self) -> pd.DataFrame:
        if not self.found:
            return _empty_problems()
        return pd.concat(self.found, ignore_index=True)


MODALITY_REASON = ("is not a known modality; use ketamine_im, ketamine_iv, ketamine_oral or esketamine_nasal "
                   "(IM, IV, oral/SL/troche, Spravato).")


def _score_block(check: _Checker, instrument_code: np.ndarray, item_columns: Sequence[str], total_column: str) -> pd.DataFrame:
    """Validate and score item and total columns for rows whose instrument is given."""
    n = check.n
    instrument_code = pd.Series(instrument_code, dtype="str").reset_index(drop=True)
    items = np.full((n, MAX_ITEMS), -1, dtype=np.int64)
    for k, column in enumerate(item_columns):
        if column:
            items[:, k] = check.integers(column, 0, 3, "item answer")
    totals = check.integers(total_column, 0, max(i.total_max for i in INSTRUMENTS.values()), "total")
    total = np.full(n, -1, dtype=np.int64)
    method = np.full(n, "incomplete", dtype=object)
    answered = np.zeros(n, dtype=np.int64)
    for code, instrument in INSTRUMENTS.items():
        rows = (instrument_code == code).to_numpy(dtype=bool, na_value=False)
        if not rows.any():
            continue
        for k in range(instrument.n_items, MAX_ITEMS):
            column = item_columns[k]
            if column:
                check.flag(rows & (items[:, k] >= 0), column, check.frame[column] if column in check.frame else "",
                           f"is in {column}, but {code} has only {instrument.n_items} items; leave {column} blank.")
        over = rows & (totals > instrument.total_max)
        check.flag(over, total_column, check.frame[total_column] if total_column in check.frame else "",
                   f"is not a valid {code} total (0-{instrument.total_max}).")
        scored = score_items(instrument, items[rows, : instrument.n_items], np.where(over[rows], -1, totals[rows]))
        total[rows] = scored["total"]
        method[rows] = scored["method"]
        answered[rows] = scored["n_answered"]
        where = np.flatnonzero(rows)
        sums = scored["item_sum"]
        wrong = scored["mismatch"]
        if wrong.any():
            mask = np.zeros(n, dtype=bool)
            mask[where[wrong]] = True
            reasons = np.array([f"does not equal the sum of the item answers ({s}); correct the total or the items."
                                for s in sums[wrong]], dtype=object)  # only the wrong rows
            check.flag(mask, total_column, check.frame[total_column], reasons)
    written = check.given(total_column)
    for column in item_columns:
        if column:
            written |= check.given(column)
    empty = instrument_code.notna().to_numpy(dtype=bool) & ~written
    check.flag(empty, total_column, "", "this assessment has neither item answers nor a total.")
    result = pd.DataFrame({"instrument": instrument_code, "total": total, "method": method, "items_answered": answered})
    for k in range(MAX_ITEMS):
        result[f"item_{k + 1}"] = items[:, k]
    return result


def _validate(kind: str, label: str, frame: pd.DataFrame, today: dt.date) -> dict[str, pd.DataFrame]:
    check = _Checker(label, frame, today)
    check.identifying_values()
    identifying = check.problems()
    if len(identifying):
        raise _Refusal(_problems_from(identifying.assign(value=None)))
    out: dict[str, pd.DataFrame] = {}
    origin = {"_file": label, "_row": check.rows}
    patient_id = check.pseudonym("patient_id", required=True)

    if kind in ("patients", "session_log"):
        attributes = pd.DataFrame({
            "patient_id": patient_id,
            "age_band": check.mapped("age_band", AGE_BAND_ALIASES,
                                     f"is not an age band; use one of {', '.join(AGE_BANDS)}.", required=False),
            "sex": check.mapped("sex", SEXES, "is not a recorded sex; use F, M, X or U.", required=False),
            "primary_condition": check.mapped(
                "primary_condition", CONDITIONS,
                "is not on the list of conditions; use MDD, TRD, PTSD, GAD, bipolar depression, OCD or other.",
                required=False),
            "site": check.pseudonym("site", required=False),
            "clinician_id": check.pseudonym("clinician_id", required=False),
            **origin,
        })
        if kind == "session_log":
            # Site and clinician belong to each session there, not to the patient.
            has_attributes = attributes[["age_band", "sex", "primary_condition"]].notna().any(axis=1)
            attributes = attributes.loc[has_attributes].assign(site=None, clinician_id=None)
        out["patients"] = attributes

    if kind in ("sessions", "session_log"):
        session_date = check.dates("session_date")
        modality = check.mapped("modality", modality_for, MODALITY_REASON, required=(kind == "sessions"))
        sessions = pd.DataFrame({
            "patient_id": patient_id, "session_date": session_date, "modality": modality,
            "dose_mg": check.dose("dose_mg"),
            "site": check.pseudonym("site", required=False),
            "clinician_id": check.pseudonym("clinician_id", required=False),
            **origin,
        })
        if kind == "session_log":
            has_modality = check.given("modality")
            check.flag(~has_modality & check.given("dose_mg"), "dose_mg", check.frame["dose_mg"] if "dose_mg" in frame else "",
                       "a dose needs a modality on the same row.")
            sessions = sessions.loc[has_modality]
        out["sessions"] = sessions

    if kind == "assessments":
        instrument = check.mapped("instrument", INSTRUMENT_ALIASES, "is not a known instrument; use PHQ-9 or GAD-7.",
                                  required=True)
        scored = _score_block(check, instrument, ITEM_COLUMNS, "total")
        out["assessments"] = scored.assign(patient_id=patient_id, assessment_date=check.dates("assessment_date"),
                                           _total_column="total", **origin)

    if kind == "session_log":
        blocks = []
        any_score = np.zeros(check.n, dtype=bool)
        for code, instrument in INSTRUMENTS.items():
            prefix = instrument.log_prefix
            item_columns = [f"{prefix}_item_{k}" if k <= instrument.n_items else "" for k in range(1, MAX_ITEMS + 1)]
            has_score = np.zeros(check.n, dtype=bool)
            for column in [c for c in item_columns if c] + [f"{prefix}_total"]:
                has_score |= check.given(column)
            any_score |= has_score
            scored = _score_block(check, np.where(has_score, code, None), item_columns, f"{prefix}_total")
            # Each score is a pre-session measure, dated the day of the session.
            scored = scored.assign(patient_id=patient_id, assessment_date=session_date,
                                   _total_column=f"{prefix}_total", **origin)
            blocks.append(scored.loc[has_score])
        out["assessments"] = pd.concat(blocks, ignore_index=True)
        nothing = ~check.given("modality") & ~any_score
        check.flag(nothing, "modality", "", "this row has neither a modality (a session) nor any score (an assessment).")

    out["problems"] = check.problems()
    return out


# ---------------------------------------------------------------------------
# Duplicates inside the batch and against the store


_SESSION_VALUES = ["modality", "dose_mg", "site", "clinician_id"]
_ASSESSMENT_VALUES = ["total"] + [f"item_{k}" for k in range(1, MAX_ITEMS + 1)]
_PATIENT_VALUES = ["age_band", "sex", "primary_condition", "site", "clinician_id"]


_NO_PROBLEMS = pd.DataFrame({column: pd.Series(dtype=object) for column in PROBLEM_COLUMNS})


def _empty_problems() -> pd.DataFrame:
    """No problems (one shared, never-modified frame: building a DataFrame is slow next to a small import)."""
    return _NO_PROBLEMS


def _conflicts_in_batch(frame: pd.DataFrame, key: list[str], values: list[str], what: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows sharing a key into one row per key (the first of identical copies) and problems for
    conflicting ones, each naming the column that differs and where the other row is."""
    if frame.empty or not frame.duplicated(key).any():
        return frame, _empty_problems()
    variants = frame.drop_duplicates(key + values)
    conflicting_keys = variants.loc[variants.duplicated(key, keep=False), key].drop_duplicates()
    if conflicting_keys.empty:
        return frame.drop_duplicates(key), _empty_problems()
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
    problem_frame = pd.DataFrame({
        "file": rows["_file"].to_numpy(), "row": rows["_row"].to_numpy(), "column": column, "value": value.to_numpy(),
        "reason": ("rows with the same " + what + " disagree on " + pd.Series(column, dtype=object) + " ("
                   + listed[group] + "); keep one correct row.").to_numpy(),
    })
    return frame.loc[~conflicted].drop_duplicates(key), problem_frame


def _rows_of_each_group(group: np.ndarray, places: np.ndarray, shown: int = 6) -> np.ndarray:
    """'s.csv row 2, t.csv row 9' for each group id 0..G-1 (ids in order of first appearance)."""
    order = np.argsort(group, kind="stable")
    ordered = places[order].tolist()
    bounds = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1], True]).tolist()
    return np.array([", ".join(ordered[start:min(end, start + shown)]) + (", …" if end - start > shown else "")
                     for start, end in zip(bounds[:-1], bounds[1:])], dtype=object)


def _score_columns(total_columns: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The columns as the file names them: 'item_3' of a row whose total is in gad7_total is gad7_item_3."""
    prefixes = np.array([t.removesuffix("total") for t in total_columns], dtype=object)
    named = np.where(columns == "total", total_columns, prefixes + columns)
    return np.where(prefixes == "", columns, named)


def _patient_conflicts(patients: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per patient, each attribute taken from whichever row gives it; two different values conflict."""
    if patients.empty:
        return patients, _empty_problems()
    grouped = patients.groupby("patient_id", sort=False)
    conflicting = (grouped[_PATIENT_VALUES].nunique(dropna=True) > 1).any(axis=1)
    clash = patients["patient_id"].isin(conflicting.index[conflicting]).to_numpy()
    rows = patients.loc[clash]
    problem_frame = pd.DataFrame({
        "file": rows["_file"].to_numpy(), "row": rows["_row"].to_numpy(), "column": "patient_id",
        "value": rows["patient_id"].to_numpy(),
        "reason": "another row gives this patient a different age band, sex, condition, site or clinician; keep one.",
    }) if clash.any() else _empty_problems()
    kept = patients.loc[~clash]
    merged = kept.groupby("patient_id", sort=False, as_index=False).first()
    return merged[patients.columns], problem_frame


@dataclass
class _Batch:
    patients: pd.DataFrame
    sessions: pd.DataFrame
    assessments: pd.DataFrame


_N_ITEMS_SQL = "CASE instrument " + " ".join(
    f"WHEN '{code}' THEN {instrument.n_items}" for code, instrument in INSTRUMENTS.items()) + " END"
_ITEMS_SQL = "list_slice([" + ", ".join(
    f"CAST(nullif(item_{k}, -1) AS TINYINT)" for k in range(1, MAX_ITEMS + 1)) + f"], 1, {_N_ITEMS_SQL})"
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
               CAST(CASE WHEN instrument = 'PHQ-9' THEN nullif(item_9, -1) END AS TINYINT) AS item9,
               CAST(_total_column AS VARCHAR) AS _total_column, CAST(_file AS VARCHAR) AS _file, CAST(_row AS INTEGER) AS _row
        FROM {{raw}}""",
    "patients": """
        SELECT CAST(patient_id AS VARCHAR) AS patient_id, CAST(age_band AS VARCHAR) AS age_band,
               CAST(sex AS VARCHAR) AS sex, CAST(primary_condition AS VARCHAR) AS primary_condition,
               CAST(site AS VARCHAR) AS site, CAST(clinician_id AS VARCHAR) AS clinician_id,
               CAST(_file AS VARCHAR) AS _file, CAST(_row AS INTEGER) AS _row
        FROM {raw}""",
}


def _register(con: duckdb.DuckDBPyConnection, name: str, kind: str, frame: pd.DataFrame, *,
              materialise: bool = False) -> None:
    """Expose validated rows to SQL as `name`, shaped and typed like the store's table: a view, or a
    temporary table when the rows are read more than once."""
    # Handed over as Arrow: DuckDB then reads the columns directly instead of Python objects.
    con.register(f"{name}_raw", pa.Table.from_pandas(frame, preserve_index=False))
    what = "TEMP TABLE" if materialise else "TEMP VIEW"
    con.execute(f"CREATE OR REPLACE {what} {name} AS {_VIEW_SQL[kind].format(raw=name + '_raw')}")  # constant names
    if materialise:
        con.unregister(f"{name}_raw")


def _unregister(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        con.execute(f"DROP VIEW IF EXISTS {name}")  # constant names
        con.unregister(f"{name}_raw")


def _store_conflicts(con: duckdb.DuckDBPyConnection, batch: _Batch) -> pd.DataFrame:
    """Rows that clash with what the store already holds, as problems naming the column that differs."""
    stored = con.execute("SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM assessments), "
                         "(SELECT count(*) FROM patients)").fetchall()[0]
    compare = {name: bool(held) and len(frame) > 0 for name, held, frame in zip(
        ("sessions", "assessments", "patients"), stored, (batch.sessions, batch.assessments, batch.patients))}
    frames = []
    if compare["sessions"]:
        frames.append(_session_conflicts(con, batch.sessions))
    if compare["assessments"]:
        frames.append(_assessment_conflicts(con, batch.assessments))
    if compare["patients"]:
        frames.append(_stored_patient_conflicts(con, batch.patients))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else _empty_problems()


def _session_conflicts(con: duckdb.DuckDBPyConnection, sessions: pd.DataFrame) -> pd.DataFrame:
    _register(con, "incoming_sessions", "sessions", sessions)
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
    _unregister(con, "incoming_sessions")
    return found


def _assessment_conflicts(con: duckdb.DuckDBPyConnection, assessments: pd.DataFrame) -> pd.DataFrame:
    _register(con, "incoming_assessments", "assessments", assessments)
    found = con.execute("""
        SELECT i._file AS file, i._row AS row, i._total_column AS column, coalesce(CAST(i.total AS VARCHAR), '') AS value,
               'conflicts with the ' || a.instrument || ' already in the store for this patient and date (total '
               || coalesce(CAST(a.total AS VARCHAR), 'incomplete')
               || CASE WHEN a.total IS NOT DISTINCT FROM i.total THEN ', other item answers' ELSE '' END
               || '); correct the row or leave it out.' AS reason
        FROM incoming_assessments i JOIN assessments a USING (patient_id, assessment_date, instrument)
        WHERE a.items IS DISTINCT FROM i.items OR a.total IS DISTINCT FROM i.total
    """).df()
    _unregister(con, "incoming_assessments")
    return found


def _stored_patient_conflicts(con: duckdb.DuckDBPyConnection, patients: pd.DataFrame) -> pd.DataFrame:
    _register(con, "incoming_patients", "patients", patients)
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
    _unregister(con, "incoming_patients")
    return found


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


def _distinct_names(sources: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Two uploads called sessions.csv become 'sessions.csv' and 'sessions.csv (2)', so every problem says which."""
    seen: dict[str, int] = {}
    named = []
    for name, data in sources:
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name} ({seen[name]})", data))
    return named


def import_files(con: duckdb.DuckDBPyConnection, paths: Sequence[str | os.PathLike], **options) -> ImportResult:
    """Import files named on the command line. A missing or unreadable path is a problem, not a crash."""
    sources, missing = [], []
    paths = [Path(p) for p in paths]
    names = [p.name for p in paths]
    for path in paths:
        # Files from two folders with the same name are told apart by the path as given.
        label = path.name if names.count(path.name) == 1 else str(path)
        try:
            sources.append((label, path.read_bytes()))
        except FileNotFoundError:
            missing.append(Problem(str(path), None, None, None, "no such file; check the path."))
        except IsADirectoryError:
            missing.append(Problem(str(path), None, None, None, "is a folder; name the CSV or .xlsx files inside it."))
        except OSError as error:
            missing.append(Problem(str(path), None, None, None, f"could not be read ({error.strerror or error})."))
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
    drop_columns = [c for c in drop_columns if c.strip()]
    try:
        return _import(con, _distinct_names(sources), skip_invalid=skip_invalid, drop_columns=drop_columns,
                       user=user, today=today or dt.date.today(), report=progress or (lambda fraction, message: None))
    except store.StoreError:
        raise
    except Exception as error:  # a bug, or the disk: the store is unchanged; the traceback goes to the log
        log.exception("import failed")
        names = ", ".join(name for name, _ in sources) or "the import"
        return ImportResult(refused=True, problems=[Problem(
            names, None, None, None,
            f"{names}: {UNEXPECTED_REASON} ({type(error).__name__}); nothing was changed in the store. "
            "Please report this together with the file.")])


def _import(con, sources, *, skip_invalid: bool, drop_columns: list[str], user: str | None, today: dt.date,
            report: Progress) -> ImportResult:
    drop = {normalise_header(c) for c in drop_columns} | {c.strip() for c in drop_columns}

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
    unknown_drops = sorted(c for c in {c.strip() for c in drop_columns}
                           if c not in seen_columns and normalise_header(c) not in seen_columns)
    if unknown_drops:
        file_problems.append(Problem(", ".join(summaries), None, ", ".join(unknown_drops), None,
                                     f"--drop-columns names {', '.join(unknown_drops)}, which no file has; check the spelling."))
    row_problems = pd.concat([p for p in parts["problems"] if len(p)] or [_empty_problems()], ignore_index=True)
    if file_problems:
        # Whole tables that cannot be read; list the row problems found in the others too.
        listed = file_problems + _problems_from(row_problems.sort_values(["file", "row"], kind="stable"))
        return ImportResult(refused=True, problems=listed, files=list(summaries.values()))

    report(0.65, "Checking for duplicates")
    patients = _concat(parts["patients"], ["patient_id", *_PATIENT_VALUES, "_file", "_row"])
    sessions = _concat(parts["sessions"], ["patient_id", "session_date", *_SESSION_VALUES, "_file", "_row"])
    assessments = _concat(parts["assessments"], ["patient_id", "assessment_date", "instrument", "total", "method",
                                                 "items_answered", *ITEM_COLUMNS, "_total_column", "_file", "_row"])

    # Rows with a problem are set aside before looking for duplicates among the good ones.
    bad_rows = _row_keys(row_problems["file"], row_problems["row"])
    sessions, session_conflicts = _conflicts_in_batch(
        _without(sessions, bad_rows), ["patient_id", "session_date"], _SESSION_VALUES, "patient and session_date")
    assessments, assessment_conflicts = _conflicts_in_batch(
        _without(assessments, bad_rows), ["patient_id", "assessment_date", "instrument"], _ASSESSMENT_VALUES,
        "patient, date and instrument")
    patients, patient_conflicts = _patient_conflicts(_without(patients, bad_rows))
    store_conflicts = _store_conflicts(con, _Batch(patients=patients, sessions=sessions, assessments=assessments))
    found = [f for f in (row_problems, session_conflicts, assessment_conflicts, patient_conflicts, store_conflicts) if len(f)]
    all_problems = (pd.concat(found, ignore_index=True) if found else _empty_problems()).sort_values(
        ["file", "row"], kind="stable")
    problems = _problems_from(all_problems)

    if problems and not skip_invalid:
        return ImportResult(refused=True, problems=problems, files=list(summaries.values()))

    # A row with any problem is set aside whole: its session and its scores together.
    bad_rows = _row_keys(all_problems["file"], all_problems["row"])
    batch = _Batch(_without(patients, bad_rows), _without(sessions, bad_rows), _without(assessments, bad_rows))
    report(0.8, "Writing to the store")
    _write(con, batch, summaries, labels_of, all_problems, user=user or _current_user(),
           options={"skip_invalid": skip_invalid, "drop_columns": sorted(drop_columns)})
    report(1.0, "Done")
    return ImportResult(refused=False, problems=problems, files=list(summaries.values()))


def _problems_from(frame: pd.DataFrame) -> list[Problem]:
    """Problem objects from a frame of problems (file, row, column, value, reason)."""
    rows = [None if pd.isna(r) else int(r) for r in frame["row"].tolist()]
    values = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame["value"].tolist()]
    return [Problem(*fields) for fields in zip(frame["file"].tolist(), rows, frame["column"].tolist(), values,
                                                frame["reason"].tolist())]


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _row_keys(files: pd.Series, rows: pd.Series) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([files.astype(object).to_numpy(), rows.astype(np.int64).to_numpy()]).unique()


def _without(frame: pd.DataFrame, bad_rows: pd.MultiIndex) -> pd.DataFrame:
    """The rows of frame not listed in bad_rows (file label, spreadsheet row)."""
    if not len(bad_rows) or frame.empty:
        return frame
    keys = pd.MultiIndex.from_arrays([frame["_file"].astype(object).to_numpy(), frame["_row"].astype(np.int64).to_numpy()])
    return frame.loc[~keys.isin(bad_rows)]


def _current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return None


def _write(con, batch: _Batch, summaries: dict[str, FileSummary], labels_of: dict[str, str],
           problems: pd.DataFrame, *, user: str | None, options: dict) -> None:
    """Load the batch in one transaction: new rows are added, identical ones merge, the audit row is written."""
    incoming = {name: frame for name, frame in (("sessions", batch.sessions), ("assessments", batch.assessments),
                                                 ("patients", batch.patients)) if len(frame)}
    added_sql = {
        "sessions": "SELECT _file, _row FROM new_sessions ANTI JOIN sessions USING (patient_id, session_date)",
        "assessments": "SELECT _file, _row FROM new_assessments "
                       "ANTI JOIN assessments USING (patient_id, assessment_date, instrument)",
        "patients": """SELECT n._file, n._row FROM new_patients n LEFT JOIN patients p USING (patient_id)
            WHERE p.patient_id IS NULL
               OR (p.age_band IS NULL AND n.age_band IS NOT NULL) OR (p.sex IS NULL AND n.sex IS NOT NULL)
               OR (p.primary_condition IS NULL AND n.primary_condition IS NOT NULL)
               OR (p.site IS NULL AND n.site IS NOT NULL) OR (p.clinician_id IS NULL AND n.clinician_id IS NOT NULL)""",
    }
    con.execute("BEGIN TRANSACTION")
    try:
        numbers = con.execute("SELECT nextval('import_id_seq') FROM range(?)", [len(summaries)]).fetchall()
        import_ids = {name: number for name, (number,) in zip(summaries, numbers)}
        origin = pd.DataFrame({"_file": list(labels_of), "import_id": [import_ids[labels_of[label]] for label in labels_of]})
        con.register("origin", origin)
        for name, frame in incoming.items():
            # Read each batch once into a temporary table: it is used three times below.
            _register(con, f"new_{name}", name, frame, materialise=True)
        added_per_label = {}
        if incoming:
            added_per_label = dict(con.execute(
                "SELECT _file, count(*) FROM (" + " UNION ".join(added_sql[name] for name in incoming) + ") GROUP BY _file"
            ).fetchall())
        if "sessions" in incoming:
            con.execute("""
                INSERT INTO sessions
                SELECT n.patient_id, n.session_date, n.modality, n.dose_mg, n.site, n.clinician_id, o.import_id
                FROM new_sessions n JOIN origin o USING (_file)
                ANTI JOIN sessions s USING (patient_id, session_date)
            """)
        if "assessments" in incoming:
            con.execute("""
                INSERT INTO assessments
                SELECT n.patient_id, n.assessment_date, n.instrument, n.items, n.total, n.total_method,
                       n.items_answered, n.item9, o.import_id
                FROM new_assessments n JOIN origin o USING (_file)
                ANTI JOIN assessments a USING (patient_id, assessment_date, instrument)
            """)
        if "patients" in incoming:
            con.execute("""
                UPDATE patients p SET age_band = coalesce(p.age_band, n.age_band), sex = coalesce(p.sex, n.sex),
                    primary_condition = coalesce(p.primary_condition, n.primary_condition),
                    site = coalesce(p.site, n.site), clinician_id = coalesce(p.clinician_id, n.clinician_id)
                FROM new_patients n WHERE p.patient_id = n.patient_id
                  AND ((p.age_band IS NULL AND n.age_band IS NOT NULL) OR (p.sex IS NULL AND n.sex IS NOT NULL)
                    OR (p.primary_condition IS NULL AND n.primary_condition IS NOT NULL)
                    OR (p.site IS NULL AND n.site IS NOT NULL) OR (p.clinician_id IS NULL AND n.clinician_id IS NOT NULL))
            """)
            con.execute("""
                INSERT INTO patients
                SELECT n.patient_id, n.age_band, n.sex, n.primary_condition, n.site, n.clinician_id, o.import_id
                FROM new_patients n JOIN origin o USING (_file)
                ANTI JOIN patients p USING (patient_id)
            """)
        seen = [f"SELECT patient_id, _file FROM new_{name}" for name in ("sessions", "assessments") if name in incoming]
        if seen:
            # Every patient seen in a session or an assessment gets a (pseudonymous) patient row.
            con.execute(f"""
                INSERT INTO patients (patient_id, import_id)
                SELECT patient_id, min(o.import_id) FROM ({" UNION ALL ".join(seen)}) JOIN origin o USING (_file)
                WHERE patient_id NOT IN (SELECT patient_id FROM patients)
                GROUP BY patient_id
            """)
        rejected_per_label = problems.drop_duplicates(["file", "row"])["file"].value_counts().to_dict()
        for name, summary in summaries.items():
            labels = [label for label, owner in labels_of.items() if owner == name]
            summary.rows_added = int(sum(added_per_label.get(label, 0) for label in labels))
            summary.rows_rejected = int(sum(rejected_per_label.get(label, 0) for label in labels))
            summary.rows_merged = summary.rows_read - summary.rows_added - summary.rows_rejected
            con.execute(
                "INSERT INTO imports VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [import_ids[name], name, summary.size, summary.sha256, ", ".join(summary.kinds), summary.rows_read,
                 summary.rows_added, summary.rows_merged, summary.rows_rejected, user, json.dumps(options)],
            )
        if len(problems):
            quarantined = problems.assign(import_id=problems["file"].map({label: import_ids[owner]
                                                                          for label, owner in labels_of.items()}))
            con.register("quarantined", quarantined)
            con.execute("""
                INSERT INTO quarantine
                SELECT import_id, "file", CAST("row" AS INTEGER), "column", CAST("value" AS VARCHAR), reason FROM quarantined
            """)
            con.unregister("quarantined")
        if added_per_label:
            store.bump_data_version(con)
        for name in incoming:
            con.execute(f"DROP TABLE new_{name}")  # constant names
        con.unregister("origin")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
