"""Synthea CSV exports: observations.csv scores (by LOINC) and patients.csv reduced to pseudonym and sex."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import pandas as pd

from analysis.ingest.headers import is_identifying_header, normalise_header
from analysis.ingest.readers import RawTable
from analysis.ingest.sources.codes import OTHER_INSTRUMENT_CODES
from analysis.ingest.sources.fhir import instrument_names, instruments_read

# Current Synthea writes DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE; before
# about 2020 it wrote no CATEGORY and TYPE, and a date without a time.
_OBSERVATION_HEADER = {"date", "patient", "encounter", "code", "description", "value", "units"}
_PATIENT_HEADER = {"id", "birthdate", "gender", "race", "ethnicity"}


def is_header(columns: Iterable[str]) -> bool:
    """A Synthea observations.csv or patients.csv header."""
    names = {normalise_header(c) for c in columns}
    return _OBSERVATION_HEADER <= names or _PATIENT_HEADER <= names


def is_observations(table: RawTable) -> bool:
    return _OBSERVATION_HEADER <= {normalise_header(c) for c in table.frame.columns}


def is_patients(table: RawTable) -> bool:
    return _PATIENT_HEADER <= {normalise_header(c) for c in table.frame.columns}


def _column(table: RawTable, name: str) -> pd.Series:
    return table.frame[next(c for c in table.frame.columns if normalise_header(c) == name)]


def observations(table: RawTable, pseudonym: Callable[[str], str]) -> tuple[RawTable, Counter]:
    """PHQ-9 / GAD-7 (/ PCL-5) totals as an assessments table, rows keeping their CSV row numbers."""
    total_codes = {code: instrument for instrument, codes in instruments_read().items() for code in codes.total}
    code = _column(table, "code")
    wanted = code.isin(list(total_codes))
    skipped: Counter = Counter()
    for label, count in code[~wanted].map(OTHER_INSTRUMENT_CODES).value_counts().items():
        skipped[f"{label} (Synthea observation)"] += int(count)
    others = int((~wanted).sum()) - sum(skipped.values())
    if others:
        skipped[f"other Synthea observations (not {instrument_names()} total)"] += others
    rows = table.frame.loc[wanted]
    patients = _column(table, "patient")[wanted]
    # Synthea writes DATE in UTC ('2023-08-21T21:44:04Z'); its date is taken as written.
    frame = pd.DataFrame(
        {
            "patient_id": [pseudonym(p) if p else "" for p in patients],
            "assessment_date": _column(table, "date")[wanted].str.slice(0, 10),
            "instrument": code[wanted].map(total_codes),
            "total": _column(table, "value")[wanted].str.replace(r"^(\d+)\.0+$", r"\1", regex=True),
        },
        index=rows.index,
    )
    return RawTable(table.label, frame), skipped


def patients(table: RawTable, pseudonym: Callable[[str], str]) -> tuple[RawTable, Counter]:
    """Id pseudonymised and GENDER as sex; the identifying columns stay, so they are refused as in any
    table unless dropped explicitly; Synthea's other columns (race, income, …) are not outcome data."""
    frame = pd.DataFrame(
        {
            "patient_id": [pseudonym(p) if p else "" for p in _column(table, "id")],
            "sex": _column(table, "gender"),
        },
        index=table.frame.index,
    )
    identifying = [c for c in table.frame.columns if is_identifying_header(c)]
    left_out = [c for c in table.frame.columns if c not in identifying and normalise_header(c) not in ("id", "gender")]
    frame = pd.concat([frame, table.frame[identifying]], axis=1)
    skipped = Counter({f"Synthea patient columns not read ({', '.join(left_out)})": len(left_out)} if left_out else {})
    return RawTable(table.label, frame), skipped
