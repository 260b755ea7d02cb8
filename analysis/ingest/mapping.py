"""Column mappings (DATA_FORMAT.md "Any other table export"): a TOML file that turns an export into layout A/B."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.ingest.headers import (
    ALLOWED,
    KIND_NAMES,
    REQUIRED,
    is_identifying_header,
    is_record_number,
    normalise_header,
)
from analysis.ingest.problems import Problem, Refusal
from analysis.ingest.readers import RawTable
from analysis.instruments import INSTRUMENTS
from analysis.vocabulary import AGE_BANDS, CONDITIONS, MODALITIES, SEXES

KINDS = tuple(KIND_NAMES)
# Canonical columns whose values a mapping may translate, and the values each accepts.
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "modality": MODALITIES,
    "instrument": tuple(INSTRUMENTS),
    "sex": SEXES,
    "age_band": AGE_BANDS,
    "primary_condition": CONDITIONS,
}
CANONICAL_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(c for kind in KINDS for c in ALLOWED[kind]))
DATE_COLUMNS = ("session_date", "assessment_date")
_TABLE_KEYS = {"kind", "match", "date_format", "drop", "drop_others", "skip_rows_without", "columns", "values"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message is one sentence saying what to fix."""


@dataclass(frozen=True)
class TableMapping:
    """How one kind of table is read from an export: which header is which canonical column, and more."""

    kind: str
    columns: dict[str, str]  # export header -> canonical column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical column -> export value -> value
    match: str | None = None  # glob on the file or sheet name; else told by the header
    date_format: str | None = None  # strptime format of every date column
    drop: tuple[str, ...] = ()  # export headers (or globs) left out on purpose
    drop_others: bool = False  # leave out every column not mapped (a REDCap project holds many forms)
    skip_rows_without: tuple[str, ...] = ()  # rows blank in all of these export columns hold another form

    def key_headers(self) -> list[str]:
        """The export headers that must be present for this table to apply (its required columns)."""
        return [header for header, column in self.columns.items() if column in _required(self.kind)]


def _allowed(kind: str) -> tuple[str, ...]:
    # A score log may be dated by an assessment date: it then holds assessments alone.
    return ALLOWED[kind] + (("assessment_date",) if kind == "session_log" else ())


def _required(kind: str) -> tuple[str, ...]:
    return REQUIRED[kind] + (("assessment_date",) if kind == "session_log" else ())


@dataclass(frozen=True)
class Mapping:
    name: str
    tables: tuple[TableMapping, ...]


# ---------------------------------------------------------------------------
# Reading and writing the TOML file


def parse_mapping(text: str, name: str = "mapping") -> Mapping:
    """A Mapping from the TOML text, or MappingError naming the first thing to fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"The mapping {name} is not valid TOML ({error}).") from None
    unknown = set(data) - {"table", "name", "description"}
    if unknown:
        raise MappingError(f"The mapping {name} has an unknown key {sorted(unknown)[0]!r}; it holds [[table]] entries.")
    tables = data.get("table")
    if not isinstance(tables, list) or not tables:
        raise MappingError(f"The mapping {name} has no [[table]] entry; see DATA_FORMAT.md for an example.")
    return Mapping(
        name=str(data.get("name") or name),
        tables=tuple(_table(t, f"{name} table {k}") for k, t in enumerate(tables, 1)),
    )


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"In {where}, {key} must be a list of column names.")
    return tuple(value)


def _table(entry: dict, where: str) -> TableMapping:
    if not isinstance(entry, dict):
        raise MappingError(f"{where} is not a table of settings.")
    unknown = set(entry) - _TABLE_KEYS
    if unknown:
        raise MappingError(
            f"In {where}, {sorted(unknown)[0]!r} is not a mapping setting; use {', '.join(sorted(_TABLE_KEYS))}."
        )
    kind = entry.get("kind")
    if kind not in KINDS:
        raise MappingError(f"In {where}, kind must be one of {', '.join(KINDS)} (found {kind!r}).")
    columns = entry.get("columns", {})
    if not isinstance(columns, dict) or not columns:
        raise MappingError(f"In {where}, [table.columns] must map export headers to canonical columns.")
    targets: dict[str, str] = {}
    for header, column in columns.items():
        if column not in _allowed(kind):
            raise MappingError(
                f"In {where}, {header!r} maps to {column!r}, which is not a column of a {KIND_NAMES[kind]}; "
                f"use one of {', '.join(_allowed(kind))}."
            )
        if column in targets:
            raise MappingError(f"In {where}, both {targets[column]!r} and {header!r} map to {column}; keep one.")
        targets[column] = header
        if is_identifying_header(header) and not (column == "patient_id" and is_record_number(header)):
            raise MappingError(
                f"In {where}, {header!r} identifies a person and cannot be imported; put it under drop instead."
            )
    dates = [c for c in DATE_COLUMNS if c in targets]
    missing = [c for c in REQUIRED[kind] if c not in targets and not (c == "session_date" and dates)]
    if missing:
        raise MappingError(
            f"In {where}, no export header maps to {', '.join(missing)}, which a {KIND_NAMES[kind]} needs."
        )
    values = entry.get("values", {})
    if not isinstance(values, dict):
        raise MappingError(f"In {where}, [table.values.<column>] must map export values to canonical values.")
    for column, pairs in values.items():
        if column not in VALUE_COLUMNS:
            raise MappingError(f"In {where}, values can be mapped for {', '.join(VALUE_COLUMNS)} only, not {column!r}.")
        if not isinstance(pairs, dict):
            raise MappingError(f"In {where}, [table.values.{column}] must map export values to {column} values.")
        for export_value, value in pairs.items():
            if value not in VALUE_COLUMNS[column]:
                raise MappingError(
                    f"In {where}, {export_value!r} maps to {value!r}, which is not a {column}; use one of "
                    f"{', '.join(VALUE_COLUMNS[column])}."
                )
    date_format = entry.get("date_format")
    if date_format is not None:
        try:
            sample = dt.date(2026, 3, 14)
            readable = dt.datetime.strptime(sample.strftime(date_format), date_format).date() == sample
        except (TypeError, ValueError):
            readable = False
        if not readable:
            raise MappingError(
                f"In {where}, date_format {date_format!r} is not a strptime date format such as %m/%d/%Y."
            )
    drop_others = entry.get("drop_others", False)
    if not isinstance(drop_others, bool):
        raise MappingError(f"In {where}, drop_others must be true or false.")
    match = entry.get("match")
    if match is not None and not isinstance(match, str):
        raise MappingError(f'In {where}, match must be a file-name pattern such as "*visits*".')
    return TableMapping(
        kind=kind,
        columns={str(h): str(c) for h, c in columns.items()},
        values={column: {str(k): str(v) for k, v in pairs.items()} for column, pairs in values.items()},
        match=match,
        date_format=date_format,
        drop=_strings(entry.get("drop", []), where, "drop"),
        drop_others=drop_others,
        skip_rows_without=_strings(entry.get("skip_rows_without", []), where, "skip_rows_without"),
    )


def load_mapping(path: str | os.PathLike) -> Mapping:
    """The mapping in a .toml file, named after the file; MappingError when missing or invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"The mapping file {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"The mapping file {path} cannot be read ({error}).") from None
    return parse_mapping(text, path.stem)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def to_toml(mapping: Mapping) -> str:
    """The mapping as the TOML file DATA_FORMAT.md describes (parse_mapping reads it back unchanged)."""
    lines = [f"name = {_quoted(mapping.name)}"]
    for table in mapping.tables:
        lines += ["", "[[table]]", f"kind = {_quoted(table.kind)}"]
        if table.match:
            lines.append(f"match = {_quoted(table.match)}")
        if table.date_format:
            lines.append(f"date_format = {_quoted(table.date_format)}")
        if table.drop:
            lines.append(f"drop = [{', '.join(map(_quoted, table.drop))}]")
        if table.drop_others:
            lines.append("drop_others = true")
        if table.skip_rows_without:
            lines.append(f"skip_rows_without = [{', '.join(map(_quoted, table.skip_rows_without))}]")
        lines.append("[table.columns]")
        lines += [f"{_quoted(header)} = {_quoted(column)}" for header, column in table.columns.items()]
        for column, pairs in table.values.items():
            lines.append(f"[table.values.{column}]")
            lines += [f"{_quoted(value)} = {_quoted(canonical)}" for value, canonical in pairs.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Applying a mapping to a table as read


@dataclass
class MappedTable:
    """A table renamed to canonical columns by one [[table]] of a mapping, ready for the header checks."""

    table: RawTable
    mapping: TableMapping | None  # None: the table as it stands (layout A/B)
    notes: list[str]


def _present(header: str, columns: list[str]) -> str | None:
    """The export column a mapping's header names: exactly, else by its normalised form."""
    if header in columns:
        return header
    wanted = normalise_header(header)
    return next((c for c in columns if normalise_header(c) == wanted), None)


def _matches_name(pattern: str, label: str) -> bool:
    # A workbook sheet is "book.xlsx [Visits]": the pattern may name the file or the sheet.
    names = [label, *re.findall(r"^(.*) \[(.*)\]$", label)[0]] if label.endswith("]") else [label]
    return any(fnmatch.fnmatch(n.lower(), pattern.lower()) for n in names)


def tables_for(mapping: Mapping, table: RawTable) -> list[TableMapping]:
    """The [[table]] entries that read this table: by file-name pattern, else by its headers.

    By header, an entry fits when the export has the headers of its required columns; of those, the
    ones that account for every column (mapped or dropped) read the table (a REDCap export may feed
    several), else the one that maps the most of them (its leftover columns are then refused by name).
    """
    columns = [str(c) for c in table.frame.columns]
    named = [e for e in mapping.tables if e.match is not None and _matches_name(e.match, table.label)]
    fitting = [e for e in mapping.tables if e.match is None and all(_present(h, columns) for h in e.key_headers())]
    whole = [e for e in fitting if _accounts_for(e, columns)]
    if whole or not fitting:
        return named + whole
    best = max(fitting, key=lambda e: sum(_present(h, columns) is not None for h in e.columns))
    return [*named, best]


def _accounts_for(entry: TableMapping, columns: list[str]) -> bool:
    """Every export column is mapped or dropped by the entry (or it drops all others)."""
    if entry.drop_others:
        return True
    mapped = {_present(h, columns) for h in entry.columns}
    return all(c in mapped or _dropped(c, entry.drop) for c in columns)


def _dropped(column: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(column, p) or normalise_header(column) == normalise_header(p) for p in patterns)


def apply_mapping(mapping: Mapping, table: RawTable, *, pseudonymize: bool = False) -> list[MappedTable]:
    """The table as each matching [[table]] reads it (none: the table is layout A/B as it stands).

    Rows keep their index, so every problem still names the row as the spreadsheet numbers it.
    """
    return [_apply(entry, table, mapping.name, pseudonymize) for entry in tables_for(mapping, table)]


def _apply(entry: TableMapping, table: RawTable, name: str, pseudonymize: bool) -> MappedTable:
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    problems = []
    renames: dict[str, str] = {}
    for header, column in entry.columns.items():
        found = _present(header, columns)
        if found is None:
            if column in _required(entry.kind):
                problems.append(
                    Problem(
                        table.label,
                        None,
                        header,
                        None,
                        f"the mapping {name} reads {column} from the column "
                        f"{header!r}, which this file does not have; check the export or the mapping.",
                    )
                )
            continue
        if column == "patient_id" and is_record_number(found) and not pseudonymize:
            problems.append(
                Problem(
                    table.label,
                    None,
                    found,
                    None,
                    f"the mapping {name} takes the patient key from {found}, "
                    "which identifies a person: import with --pseudonymize (on the Data page: 'Replace patient "
                    "IDs with keyed pseudonyms') so each value is replaced before anything is stored.",
                )
            )
        renames[found] = column
    if problems:
        raise Refusal(problems)
    notes = [f"read with the mapping {name} ({KIND_NAMES[entry.kind]})."]
    if entry.skip_rows_without:
        present = [c for h in entry.skip_rows_without if (c := _present(h, columns))]
        keep = (frame[present] != "").to_numpy().any(axis=1) if present else pd.Series(False, index=frame.index)
        skipped = int(len(frame) - keep.sum())
        frame = frame.loc[keep]
        if skipped:
            notes.append(
                f"{skipped} row(s) with no {' or '.join(entry.skip_rows_without)} left out (they hold other forms)."
            )
    dropped = {c for c in columns if _dropped(c, entry.drop)}
    kept = [c for c in columns if c in renames or (c not in dropped and not entry.drop_others)]
    frame = frame[kept].rename(columns=renames)
    frame.attrs["headers"] = {column: header for header, column in renames.items()}
    for column, pairs in entry.values.items():
        if column in frame.columns:
            frame[column] = _translated(frame[column], pairs)
    return MappedTable(RawTable(table.label, frame), entry, notes)


def _translated(cells: pd.Series, pairs: dict[str, str]) -> pd.Series:
    """Export values replaced by canonical ones: exactly as written, else ignoring case and spacing."""
    by_key = {normalise_header(k): v for k, v in pairs.items()}
    distinct = pd.Series(cells.unique())
    translated = {v: pairs.get(v.strip(), by_key.get(normalise_header(v), v)) for v in distinct}
    return cells.map(translated)
