"""What the Data page shows: import previews on a copy of the store, import history, quarantine, data quality."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from analysis import ingest, spreadsheet, store
from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.timeline import Timeline
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
from analysis.ingest.sources import needs_pseudonyms, read_sources
from analysis.settings import REPO_ROOT

PREVIEW_ROWS = 20
HIDDEN = "(hidden: identifying)"
HIDDEN_ID = "hidden-until-pseudonymized"
REFERENCE_FOLDERS = {"templates": "Blank templates", "examples": "Filled-in examples"}


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


def as_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A download: rejected values are quoted verbatim, so none may become a live formula in Excel."""
    return spreadsheet.csv_bytes(frame)


# ---------------------------------------------------------------------------
# Data quality


def _pre_session_scores(timeline: Timeline) -> pd.DataFrame:
    """(course, session number, instrument) for every session with a questionnaire that belongs to it.

    The questionnaire for session k is one dated after session k-1 and no later than session k's
    day (for session 1: the baseline window), i.e. at timepoint k-1 of the same course.
    """
    points = timeline.assessments[["course_id", "instrument", "timepoint"]].drop_duplicates()
    return points.assign(session_number=points["timepoint"].astype(int) + 1)[
        ["course_id", "session_number", "instrument"]
    ]


def assessment_completion(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Per induction session number and instrument: sessions, sessions with a pre-session score, percent."""
    sub = cohort(timeline, filters)
    sessions = sub.sessions[["course_id", "session_number"]].copy()
    lengths = sub.courses.set_index("course_id")["induction_length"]
    sessions = sessions.loc[sessions["session_number"] <= sessions["course_id"].map(lengths)]
    scored = _pre_session_scores(sub).assign(with_score=True)
    rows = []
    for instrument in timeline.instruments:
        flags = sessions.merge(
            scored.loc[scored["instrument"] == instrument, ["course_id", "session_number", "with_score"]],
            on=["course_id", "session_number"],
            how="left",
        )
        flags["with_score"] = flags["with_score"].fillna(False).astype(bool)
        counted = flags.groupby("session_number").agg(sessions=("with_score", "size"), with_score=("with_score", "sum"))
        for number, row in counted.iterrows():
            rows.append(
                {
                    "session_number": int(number),
                    "instrument": instrument,
                    "sessions": int(row["sessions"]),
                    "with_score": int(row["with_score"]),
                    "percent": 100.0 * int(row["with_score"]) / int(row["sessions"]),
                }
            )
    return pd.DataFrame(rows, columns=["session_number", "instrument", "sessions", "with_score", "percent"])


def sessions_without_score(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Every session (boosters included) with no questionnaire of any kind belonging to it."""
    sub = cohort(timeline, filters)
    scored = _pre_session_scores(sub)[["course_id", "session_number"]].drop_duplicates().assign(scored=True)
    sessions = sub.sessions.merge(scored, on=["course_id", "session_number"], how="left")
    missing = sessions["scored"].isna().to_numpy()
    columns = ["patient_id", "session_date", "session_number", "is_booster", "modality", "clinician_id"]
    return sessions.loc[missing, columns].sort_values(["session_date", "patient_id"]).reset_index(drop=True)


def courses_without_baseline(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Per instrument: courses, courses with no baseline score, and the percent."""
    sub = cohort(timeline, filters)
    rows = []
    for instrument in timeline.instruments:
        outcomes = sub.course_outcomes.loc[sub.course_outcomes["instrument"] == instrument]
        n = int(len(outcomes))
        missing = int((~outcomes["has_baseline"].astype(bool)).sum())
        rows.append(
            {
                "instrument": instrument,
                "courses": n,
                "without_baseline": missing,
                "percent": 100.0 * missing / n if n else None,
            }
        )
    return pd.DataFrame(rows, columns=["instrument", "courses", "without_baseline", "percent"])


def courses_missing_baseline_list(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """The courses with no PHQ-9 or no GAD-7 baseline, to chase up."""
    sub = cohort(timeline, filters)
    recorded = sub.course_outcomes["instrument"].isin(timeline.instruments)
    missing = sub.course_outcomes.loc[
        recorded & ~sub.course_outcomes["has_baseline"].astype(bool), ["course_id", "instrument"]
    ]
    listed = (
        missing.groupby("course_id")["instrument"].agg(lambda codes: ", ".join(sorted(codes))).rename("no_baseline_for")
    )
    courses = sub.courses.set_index("course_id").loc[
        listed.index, ["patient_id", "course_number", "start_date", "modality", "clinician_id"]
    ]
    return courses.join(listed).sort_values("start_date").reset_index(drop=True)


def quality_summary(timeline: Timeline, filters: CohortFilter | None = None) -> dict:
    """The headline data-quality numbers."""
    sub = cohort(timeline, filters)
    missing = sessions_without_score(sub)
    n_sessions = int(len(sub.sessions))
    return {
        "courses": int(len(sub.courses)),
        "sessions": n_sessions,
        "sessions_without_score": int(len(missing)),
        "sessions_without_score_percent": 100.0 * len(missing) / n_sessions if n_sessions else None,
    }


# ---------------------------------------------------------------------------
# Templates and examples


def reference_files(root: Path | None = None) -> pd.DataFrame:
    """The template and example files shipped in data/templates and data/examples, whatever is there now."""
    root = Path(root) if root is not None else REPO_ROOT / "data"
    rows = []
    for folder, words in REFERENCE_FOLDERS.items():
        directory = root / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if (
                path.is_file()
                and not path.name.startswith(".")
                and path.suffix.lower() in (".csv", ".xlsx", ".md", ".txt")
            ):
                size = path.stat().st_size
                rows.append(
                    {
                        "group": words,
                        "name": path.name,
                        "size_bytes": size,
                        "path": str(path),
                        "label": f"{path.name} ({size / 1024:.0f} KB)"
                        if size >= 1024
                        else f"{path.name} ({size} bytes)",
                    }
                )
    return pd.DataFrame(rows, columns=["group", "name", "size_bytes", "path", "label"])


MIME_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".md": "text/markdown",
    ".txt": "text/plain",
}


def mime_type(name: str) -> str:
    return MIME_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


# ---------------------------------------------------------------------------
# The mapping step: an export in another shape, mapped once on the page and saved for next time

MAPPINGS_ENV = "OUTCOMES_MAPPINGS"
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
