"""What the Data page shows: import previews on a copy of the store, import history, quarantine, data quality."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from analysis import ingest, spreadsheet, store
from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.timeline import Timeline
from analysis.ingest.headers import KIND_NAMES, canonical_column, is_identifying_header, table_kind
from analysis.ingest.readers import ReadError, read_table_bytes
from analysis.instruments import INSTRUMENTS
from analysis.settings import REPO_ROOT

PREVIEW_ROWS = 20
HIDDEN = "(hidden: identifying)"
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


def read_previews(sources: Sequence[tuple[str, bytes]], rows: int = PREVIEW_ROWS) -> list[TablePreview]:
    """Each table in the uploads (a CSV has one, a workbook one per sheet), as the importer will read it."""
    previews = []
    for name, data in sources:
        try:
            tables = read_table_bytes(name, data)
        except ReadError as error:
            previews.append(TablePreview(name, None, 0, pd.DataFrame(), error=str(error)))
            continue
        for table in tables:
            kind = table_kind({canonical_column(c) for c in table.frame.columns})
            identifying = tuple(c for c in table.frame.columns if is_identifying_header(c))
            # The preview never puts a name or a date of birth on the screen.
            head = table.frame.head(rows).copy()
            for column in identifying:
                head[column] = HIDDEN
            previews.append(
                TablePreview(table.label, KIND_NAMES.get(kind) if kind else None, len(table.frame), head, identifying)
            )
    return previews


def uploaded_patient_ids(sources: Sequence[tuple[str, bytes]]) -> set[str]:
    """Every value in a column the importer would read as patient_id, in every table of the uploads."""
    ids: set[str] = set()
    for name, data in sources:
        try:
            tables = read_table_bytes(name, data)
        except ReadError:
            continue
        for table in tables:
            for column in table.frame.columns:
                if canonical_column(column) == "patient_id":
                    ids |= set(table.frame[column].astype(str).str.strip())
    ids.discard("")
    return ids


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
) -> ImportPreview:
    """Run the real importer on a copy of the store: every problem, and what would be added, merged or set aside."""
    previews = read_previews(sources)
    copy = store_copy(con, uploaded_patient_ids(sources))
    try:
        result = ingest.import_bytes(
            copy, sources, skip_invalid=skip_invalid, drop_columns=drop_columns, user="preview", today=today
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
        )
        for p in result.problems
        if p.row is None
    ]


def row_problems(result: ingest.ImportResult) -> pd.DataFrame:
    """Every problem with a row: row (as the spreadsheet numbers it), column, value, reason, file."""
    frame = result.problems_frame()
    frame = frame.loc[frame["row"].notna()].copy()
    frame["row"] = frame["row"].astype("Int64")
    return frame[["row", "column", "value", "reason", "file"]].reset_index(drop=True)


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


def quarantine_rows(con: duckdb.DuckDBPyConnection | None) -> pd.DataFrame:
    """Rows set aside by imports with skip-invalid, with the reason and when they came in."""
    columns = ["imported_at", "file", "row", "column", "value", "reason"]
    if con is None:
        return pd.DataFrame(columns=columns)
    return con.execute("""
        SELECT i.imported_at, q.file_name AS file, q.row_number AS row, q.column_name AS column, q.value, q.reason
        FROM quarantine q LEFT JOIN imports i USING (import_id)
        ORDER BY i.imported_at DESC, q.file_name, q.row_number
    """).df()


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
    for instrument in INSTRUMENTS:
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
    for instrument in INSTRUMENTS:
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
    missing = sub.course_outcomes.loc[~sub.course_outcomes["has_baseline"].astype(bool), ["course_id", "instrument"]]
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
