"""The import preview: each uploaded table as read, and the real importer run on a copy of the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analysis import ingest, store
from analysis.ingest.headers import (
    KIND_NAMES,
    canonical_column,
    is_identifying_header,
    is_record_number,
    prepare_table,
    table_kind,
)
from analysis.ingest.mapping import Mapping, apply_mapping
from analysis.ingest.problems import Refusal
from analysis.ingest.pseudonyms import ClinicKey
from analysis.ingest.readers import RawTable, ReadError, read_table_bytes
from analysis.ingest.sources import needs_pseudonyms, read_sources

PREVIEW_ROWS = 20
HIDDEN = "(hidden: identifying)"


@dataclass(frozen=True)
class TablePreview:
    """One table of an uploaded file as read: what kind it looks like, its first rows, or why it can't be read."""

    label: str
    kind: str | None
    rows: int
    head: pd.DataFrame
    identifying_columns: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class ImportPreview:
    """The importer's verdict on the uploaded files, checked against a copy of the store (nothing written)."""

    tables: list[TablePreview]
    result: ingest.ImportResult
    columns: list[str] = field(default_factory=list)

    @property
    def would_add(self) -> int:
        return 0 if self.result.refused else self.result.added

    @property
    def can_import(self) -> bool:
        return not self.result.refused and self.result.added > 0


def _source_tables(name: str, data: bytes, pseudonym_key: ClinicKey | None) -> list[RawTable] | None:
    """A FHIR or Synthea upload as the canonical tables the importer reads (already pseudonymised);
    None for any other file."""
    if pseudonym_key is None or not needs_pseudonyms(data):
        return None
    read, problems = read_sources([(name, data)], pseudonym_key)
    if problems:
        raise ReadError(problems[0].sentence())
    return [table for source in read for table in source.tables]


def read_previews(
    sources: Sequence[tuple[str, bytes]], rows: int = PREVIEW_ROWS, pseudonym_key: ClinicKey | None = None
) -> list[TablePreview]:
    """Each table in the uploads (a CSV has one, a workbook one per sheet), as the importer will read it."""
    previews = []
    for name, data in sources:
        try:
            tables = _source_tables(name, data, pseudonym_key) or read_table_bytes(name, data)
        except ReadError as error:
            previews.append(TablePreview(name, None, 0, pd.DataFrame(), error=str(error)))
            continue
        for table in tables:
            kind = told_kind(table)
            identifying = tuple(c for c in table.frame.columns if is_identifying_header(c))
            # The preview never puts a name or a date of birth on the screen.
            head = table.frame.head(rows).copy()
            for column in identifying:
                head[column] = HIDDEN
            previews.append(
                TablePreview(table.label, KIND_NAMES.get(kind) if kind else None, len(table.frame), head, identifying)
            )
    return previews


def told_kind(table: RawTable) -> str | None:
    """The kind the importer reads the table as (a bare 'Date' beside scores included), or None."""
    try:
        return prepare_table(table, set(), pseudonymize=True)[0]
    except Refusal:
        return table_kind({canonical_column(c) for c in table.frame.columns})


def uploaded_patient_ids(
    sources: Sequence[tuple[str, bytes]], mapping: Mapping | None = None, pseudonym_key: ClinicKey | None = None
) -> set[str]:
    """Every value the importer would read as patient_id, in every table of the uploads (as it would store it)."""
    ids: set[str] = set()
    pseudonyms: set[str] = set()  # FHIR and Synthea ids, already pseudonymised by their reader
    for name, data in sources:
        try:
            source_tables = _source_tables(name, data, pseudonym_key)
            tables = [] if source_tables is not None else read_table_bytes(name, data)
        except ReadError:
            continue
        for table in source_tables or []:
            pseudonyms |= set(table.frame["patient_id"]) if "patient_id" in table.frame else set()
        for table in tables:
            try:
                units = [u.table for u in apply_mapping(mapping, table, pseudonymize=True)] if mapping else []
            except Refusal:
                units = []
            for unit in units or [table]:
                for column in unit.frame.columns:
                    if canonical_column(column) == "patient_id" or (pseudonym_key and is_record_number(column)):
                        ids |= set(unit.frame[column].astype(str).str.strip())
    ids.discard("")
    pseudonyms.discard("")
    return ({pseudonym_key.pseudonym(i) for i in ids} if pseudonym_key else ids) | pseudonyms


def store_copy(con: duckdb.DuckDBPyConnection | None, patient_ids: set[str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory store holding the same patients, sessions and assessments (or an empty one).

    The import preview runs here, so conflicts with rows already in the real store show up
    without writing anything. Every conflict the importer looks for is keyed on the patient, so
    copying only the uploaded patients' rows (patient_ids) finds the same ones, fast on a large store.
    """
    copy = store.connect_memory()
    if con is None:
        return copy
    wanted = pd.DataFrame({"patient_id": sorted(patient_ids or ())}, dtype=str)
    con.register("preview_patient_ids", wanted)
    try:
        for table in ("patients", "sessions", "assessments"):  # constant names
            if patient_ids is None:
                rows = con.sql(f"SELECT * FROM {table}").to_arrow_table()
            else:
                rows = con.sql(
                    f"SELECT * FROM {table} WHERE patient_id IN (SELECT patient_id FROM preview_patient_ids)"
                ).to_arrow_table()
            copy.register("store_rows", rows)
            copy.execute(f"INSERT INTO {table} SELECT * FROM store_rows")
            copy.unregister("store_rows")
    finally:
        con.unregister("preview_patient_ids")
    return copy


def preview_import(
    con: duckdb.DuckDBPyConnection | None,
    sources: Sequence[tuple[str, bytes]],
    *,
    skip_invalid: bool = False,
    drop_columns: Sequence[str] = (),
    today: dt.date | None = None,
    mapping: Mapping | None = None,
    pseudonym_key: ClinicKey | None = None,
) -> ImportPreview:
    """Run the real importer on a copy of the store: every problem, and what would be added, merged or set aside."""
    previews = read_previews(sources, pseudonym_key=pseudonym_key)
    copy = store_copy(con, uploaded_patient_ids(sources, mapping, pseudonym_key))
    try:
        result = ingest.import_bytes(
            copy,
            sources,
            skip_invalid=skip_invalid,
            drop_columns=drop_columns,
            user="preview",
            today=today,
            mapping=mapping,
            pseudonym_key=pseudonym_key,
        )
    finally:
        copy.close()
    columns = sorted({str(c) for p in previews for c in p.head.columns})
    return ImportPreview(tables=previews, result=result, columns=columns)
