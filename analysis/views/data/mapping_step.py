"""The mapping step: an export in another shape, mapped once on the page and saved for next time."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis.ingest.checks import AGE_BAND_ALIASES, CONDITION_ALIASES, INSTRUMENT_ALIASES, SEX_ALIASES
from analysis.ingest.headers import (
    ALLOWED,
    KIND_NAMES,
    canonical_column,
    is_identifying_header,
    is_record_number,
    modality_for,
    normalise_header,
    prepare_table,
    table_kind,
)
from analysis.ingest.mapping import (
    CANONICAL_COLUMNS,
    Mapping,
    MappingError,
    TableMapping,
    apply_mapping,
    load_mapping,
    parse_mapping,
    to_toml,
)
from analysis.ingest.pipeline import pseudonymized
from analysis.ingest.problems import Refusal, problems_from
from analysis.ingest.pseudonyms import ClinicKey
from analysis.ingest.readers import RawTable, ReadError, read_table_bytes
from analysis.ingest.rows import validate_table
from analysis.settings import REPO_ROOT
from analysis.views.data.preview import HIDDEN

MAPPINGS_ENV = "OUTCOMES_MAPPINGS"
HIDDEN_ID = "hidden-until-pseudonymized"  # stands in for an MRN until it is pseudonymised
LEAVE_OUT = "(leave out)"
AS_WRITTEN = "(as written)"
DATE_FORMATS = {
    "Told by the dates themselves": None,
    "MM/DD/YYYY (03/14/2026)": "%m/%d/%Y",
    "DD/MM/YYYY (14/03/2026)": "%d/%m/%Y",
    "YYYY-MM-DD (2026-03-14)": "%Y-%m-%d",
    "MM/DD/YY (03/14/26)": "%m/%d/%y",
    "DD.MM.YYYY (14.03.2026)": "%d.%m.%Y",
}
_MAPPING_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
_CELL_WORDS = {  # what a column's values look like -> the canonical column they suggest
    "modality": lambda v: modality_for(v) is not None,
    "instrument": lambda v: normalise_header(v) in INSTRUMENT_ALIASES,
    "sex": lambda v: normalise_header(v) in SEX_ALIASES,
    "age_band": lambda v: normalise_header(v) in AGE_BAND_ALIASES,
    "primary_condition": lambda v: normalise_header(v) in CONDITION_ALIASES,
}
_DATE_CELL = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-](\d{2}|\d{4}))([T ].*)?$")


def mappings_folder() -> Path:
    """Where saved mappings live: $OUTCOMES_MAPPINGS, else data/mappings (the shipped examples sit there too)."""
    named = os.environ.get(MAPPINGS_ENV)
    return Path(named) if named else REPO_ROOT / "data" / "mappings"


def saved_mappings(folder: Path | None = None) -> pd.DataFrame:
    """The mappings saved so far (name, path, what each reads), shipped examples included."""
    folder = folder or mappings_folder()
    rows = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            kinds = ", ".join(KIND_NAMES[t.kind] for t in load_mapping(path).tables)
        except MappingError as error:
            kinds = f"cannot be used: {error}"
        rows.append({"name": path.stem, "path": str(path), "reads": kinds})
    return pd.DataFrame(rows, columns=["name", "path", "reads"])


def needs_mapping(table: RawTable) -> bool:
    """True when the importer cannot read the table as layout A or B by its header alone.

    Identifying columns are left aside first: dropping them is the identifier guard's business, not a mapping's.
    """
    identifying = {c for c in table.frame.columns if is_identifying_header(c) and not is_record_number(c)}
    try:
        prepare_table(table, identifying, pseudonymize=True)
    except Refusal:
        return True
    return False


def suggest_column(header: str, cells: pd.Series, kind: str | None = None) -> str | None:
    """The canonical column an export header most likely means: by its name, else by the values it holds."""
    allowed = set(ALLOWED[kind]) if kind else set(CANONICAL_COLUMNS)
    if is_identifying_header(header) and not is_record_number(header):
        return None
    if is_record_number(header):
        return "patient_id"
    by_name = canonical_column(header)
    if by_name in allowed:
        return by_name
    close = difflib.get_close_matches(normalise_header(header), sorted(allowed), n=1, cutoff=0.75)
    if close:
        return close[0]
    values = [v for v in cells.astype(str).str.strip().unique()[:200] if v]
    if not values:
        return None
    for column, looks_like in _CELL_WORDS.items():
        if column in allowed and sum(map(looks_like, values)) >= 0.8 * len(values):
            return column
    if sum(bool(_DATE_CELL.match(v)) for v in values) >= 0.8 * len(values):
        return next((c for c in ("session_date", "assessment_date") if c in allowed), None)
    return None


def suggest_columns(table: RawTable) -> dict[str, str | None]:
    """A suggestion per export header, each canonical column at most once (an MRN yields to a client id)."""
    suggested = {header: suggest_column(header, table.frame[header]) for header in table.frame.columns}
    ordered = sorted(suggested, key=lambda header: is_record_number(header))  # record numbers last
    taken: set[str] = set()
    for header in ordered:
        column = suggested[header]
        if column in taken:
            suggested[header] = None
        elif column:
            taken.add(column)
    return suggested


def suggest_kind(columns: Sequence[str | None]) -> str:
    """The kind of table the chosen canonical columns tell (sessions when they tell nothing)."""
    return table_kind({c for c in columns if c}) or "sessions"


def value_choices(column: str, cells: pd.Series) -> dict[str, str | None]:
    """Each distinct export value of a modality/instrument/sex/age/condition column and what it is read as now."""
    known = {
        "modality": modality_for,
        "instrument": lambda v: INSTRUMENT_ALIASES.get(normalise_header(v)),
        "sex": lambda v: SEX_ALIASES.get(normalise_header(v)),
        "age_band": lambda v: AGE_BAND_ALIASES.get(normalise_header(v)),
        "primary_condition": lambda v: CONDITION_ALIASES.get(normalise_header(v)),
    }[column]
    distinct = sorted({v for v in cells.astype(str).str.strip() if v})
    return {value: known(value) for value in distinct[:MAX_VALUE_PICKERS]}


MAX_VALUE_PICKERS = 40


def build_mapping(
    name: str,
    kind: str,
    choices: dict[str, str | None],
    values: dict[str, dict[str, str]] | None = None,
    date_format: str | None = None,
    match: str | None = None,
) -> Mapping:
    """A one-table mapping from the page's pickers: header -> canonical column (None: left out)."""
    table = TableMapping(
        kind=kind,
        columns={header: column for header, column in choices.items() if column},
        values={column: pairs for column, pairs in (values or {}).items() if pairs},
        match=match,
        date_format=date_format,
        drop=tuple(header for header, column in choices.items() if not column),
    )
    # Through the parser: the page's mapping obeys exactly the rules of a hand-written file.
    return parse_mapping(to_toml(Mapping(name, (table,))), name)


def mapped_preview(
    mapping: Mapping,
    table: RawTable,
    *,
    rows: int = 10,
    today: dt.date | None = None,
    date_order: str = "month",
    pseudonym_key: ClinicKey | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The first rows of the table as they would load under the mapping, and the problems they have.

    Patient ids show as their pseudonyms when a key is given; an MRN without one is hidden.
    """
    head = RawTable(table.label, table.frame.head(rows))
    shown: list[pd.DataFrame] = []
    problems: list[str] = []
    try:
        units = apply_mapping(mapping, head, pseudonymize=True)
        if not units:
            return pd.DataFrame(), ["The mapping does not fit this file: its patient and date columns are not chosen."]
        for unit in units:
            kind, frame = prepare_table(unit.table, set(), pseudonymize=True, kind=unit.mapping.kind)
            from_record_number = any(is_record_number(h) for h, c in unit.mapping.columns.items() if c == "patient_id")
            if pseudonym_key is not None:
                frame = pseudonymized(frame, pseudonym_key)
            elif from_record_number:
                frame = frame.assign(patient_id=HIDDEN_ID)  # a valid pseudonym: the checks still run
            checked = validate_table(
                kind,
                table.label,
                frame,
                today or dt.date.today(),
                date_order=date_order,
                date_format=unit.mapping.date_format,
            )
            found = problems_from(checked["problems"])
            problems += [p.sentence() for p in found]
            bad_rows = {p.row for p in found}
            for part in ("sessions", "assessments"):
                rows_of = checked.get(part)
                if rows_of is not None:
                    rows_of = rows_of.loc[~rows_of["_row"].isin(bad_rows)]  # a row with a problem would not load
                if rows_of is not None and len(rows_of):
                    shown.append(_loaded_rows(part, rows_of))
    except Refusal as refusal:
        return pd.DataFrame(), [p.sentence() for p in refusal.problems]
    frame = pd.concat(shown, ignore_index=True) if shown else pd.DataFrame()
    return frame, problems


def _loaded_rows(part: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Store-shaped rows for the preview: row, patient, date, what was recorded."""
    if part == "sessions":
        what = rows["modality"].map(lambda m: m if isinstance(m, str) else "")
        day = rows["session_date"]
        detail = rows["dose_mg"].map(lambda d: "" if pd.isna(d) else f"{d:g} mg")
    else:
        what = rows["instrument"]
        day = rows["assessment_date"]
        detail = rows["total"].map(lambda t: "" if t < 0 else f"total {t}")
    return pd.DataFrame(
        {
            "row": rows["_row"].to_numpy(),
            "patient_id": rows["patient_id"].to_numpy(),
            "date": pd.to_datetime(day).dt.date.to_numpy(),
            "recorded": what.to_numpy(),
            "detail": detail.to_numpy(),
        }
    )


def save_mapping(mapping: Mapping, folder: Path | None = None) -> Path:
    """Write the mapping as <name>.toml in the mappings folder; MappingError for a name that is not a file name."""
    if not _MAPPING_NAME.match(mapping.name):
        raise MappingError(
            f"{mapping.name!r} cannot be a mapping's name: use letters, digits, '_' or '-' (for example ehr_visits)."
        )
    folder = folder or mappings_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mapping.name}.toml"
    path.write_text(to_toml(mapping), encoding="utf-8")
    return path


def raw_tables(sources: Sequence[tuple[str, bytes]]) -> list[RawTable]:
    """Every readable table of the uploads (the unreadable ones are named by the import preview)."""
    tables = []
    for name, data in sources:
        try:
            tables.extend(read_table_bytes(name, data))
        except ReadError:
            continue
    return tables


def combined_mapping(name: str, parts: Sequence[Mapping]) -> Mapping:
    """One mapping holding the [[table]] of each file mapped on the page."""
    return Mapping(name, tuple(table for part in parts for table in part.tables))


def sample_values(header: str, cells: pd.Series, n: int = 3) -> str:
    """A few distinct values of a column, for the picker's help text (never those of an identifying column)."""
    if is_identifying_header(header):
        return HIDDEN
    values = [v for v in cells.astype(str).str.strip().unique()[: n * 3] if v][:n]
    return ", ".join(values) if values else "blank"
