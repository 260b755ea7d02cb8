"""Import clinic exports (layout A tables or the layout B session log) into the store, all or nothing.

Why this stays one module of some 410 lines: it is the orchestration (read -> mapping -> headers ->
pseudonyms -> rows -> duplicates -> write), and _import reads as those steps in order. What is left
beside it are the small helpers of those steps (the quarantine keys, columns named as written, the
row filters), used only here; moved out, each step would send the reader to another file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis import store
from analysis.ingest.duplicates import (
    ASSESSMENT_VALUES,
    PATIENT_VALUES,
    SESSION_VALUES,
    conflicting_patients,
    conflicts_in_batch,
    conflicts_with_store,
)
from analysis.ingest.headers import ITEM_COLUMNS, KIND_NAMES, column_as_written, normalise_header, prepare_table
from analysis.ingest.mapping import MappedTable, Mapping, apply_mapping
from analysis.ingest.problems import (
    UNEXPECTED_REASON,
    FileSummary,
    ImportResult,
    Problem,
    Progress,
    Refusal,
    empty_problems,
    problems_from,
)
from analysis.ingest.pseudonyms import ClinicKey
from analysis.ingest.rows import validate_table
from analysis.ingest.sources import name_resources, read_sources
from analysis.ingest.staging import Batch
from analysis.ingest.writer import _current_user, write_batch
from analysis.settings import SettingsError, load_settings

# ---------------------------------------------------------------------------
# The import

log = logging.getLogger(__name__)


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


def import_tables(
    con: duckdb.DuckDBPyConnection, tables: Sequence[tuple[str, pd.DataFrame]], **options
) -> ImportResult:
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
    date_order: str | None = None,
    pseudonym_key: ClinicKey | None = None,
    mapping: Mapping | None = None,
) -> ImportResult:
    """Check every row of every source, then load them in one transaction, or change nothing.

    FHIR and Synthea sources (told by content) need `pseudonym_key`: their patient ids are always
    replaced by pseudonyms (docs/FHIR.md).

    date_order ("month" or "day" first) reads MM/DD vs DD/MM dates a column cannot tell by itself
    (default: the clinic's setting). A mapping renames the columns of the exports it fits first
    (DATA_FORMAT.md "Any other table export"). With a pseudonym_key, every patient_id (or the MRN standing
    in for it) is replaced by key.pseudonym(id) before any check, so no source id reaches the store.
    """
    drop_columns = [c for c in drop_columns if c.strip()]
    if date_order is None:
        try:
            date_order = load_settings().date_order
        except SettingsError as error:
            return ImportResult(refused=True, problems=[Problem("settings", None, None, None, str(error))])
    try:
        return _import(
            con,
            _distinct_names(sources),
            skip_invalid=skip_invalid,
            drop_columns=drop_columns,
            user=user,
            today=today or dt.date.today(),
            report=progress or (lambda fraction, message: None),
            date_order=date_order,
            pseudonym_key=pseudonym_key,
            mapping=mapping,
        )
    except store.StoreError:
        raise
    except Exception as error:  # a bug, or the disk: the store is unchanged; the traceback goes to the log
        log.exception("import failed")
        names = ", ".join(name for name, _ in sources) or "the import"
        return ImportResult(
            refused=True,
            problems=[
                Problem(
                    names,
                    None,
                    None,
                    None,
                    f"{names}: {UNEXPECTED_REASON} ({type(error).__name__}); nothing was changed in the store. "
                    "Please report this together with the file.",
                )
            ],
        )


def _import(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[tuple[str, bytes]],
    *,
    skip_invalid: bool,
    drop_columns: list[str],
    user: str | None,
    today: dt.date,
    report: Progress,
    date_order: str,
    pseudonym_key: ClinicKey | None,
    mapping: Mapping | None,
) -> ImportResult:
    drop = {normalise_header(c) for c in drop_columns} | {c.strip() for c in drop_columns}

    report(0.05, "Reading files")
    read, problems = read_sources(sources, pseudonym_key)
    if problems:
        return ImportResult(refused=True, problems=problems)

    parts: dict[str, list[pd.DataFrame]] = {"patients": [], "sessions": [], "assessments": [], "problems": []}
    summaries: dict[str, FileSummary] = {}
    labels_of: dict[str, str] = {}
    file_problems: list[Problem] = []
    seen_columns: set[str] = set()
    headers_of: dict[str, dict[str, str]] = {}  # per table label: canonical column -> header as the file has it
    kind_of: dict[str, str] = {}  # per table label: the kind of table
    resources: dict[str, dict[int, str]] = {}  # FHIR rows: table label -> row -> the resource they came from
    for index, source in enumerate(read):
        name = source.name
        summary = FileSummary(
            name=name,
            kinds=[],
            size=len(source.data),
            sha256=hashlib.sha256(source.data).hexdigest(),
            skipped=dict(source.skipped),
        )
        summaries[name] = summary
        resources |= source.resources
        seen_columns |= {normalise_header(c) for c in source.columns} | source.columns
        # FHIR and Synthea tables arrive canonical and already pseudonymised: no mapping, no second hash.
        table_mapping = None if source.pseudonymised else mapping
        pseudonymize = pseudonym_key is not None and not source.pseudonymised
        for table in source.tables:
            labels_of[table.label] = name
            seen_columns |= {normalise_header(c) for c in table.frame.columns} | set(table.frame.columns)
            report(0.1 + 0.5 * index / max(len(read), 1), f"Checking {table.label}")
            try:
                # A mapping may read one export as several tables (a REDCap project's forms).
                mapped = apply_mapping(table_mapping, table, pseudonymize=pseudonymize) if table_mapping else []
            except Refusal as refusal:
                file_problems.extend(refusal.problems)
                continue
            for unit in mapped or [MappedTable(table, None, [])]:
                entry = unit.mapping
                try:
                    kind, frame = prepare_table(
                        unit.table, drop, pseudonymize=pseudonymize, kind=entry.kind if entry else None
                    )
                    headers_of.setdefault(table.label, {}).update(frame.attrs.get("headers", {}))
                    kind_of[table.label] = kind
                    if pseudonymize:
                        frame = pseudonymized(frame, pseudonym_key)
                    summary.kinds.append(KIND_NAMES[kind])
                    summary.rows_read += len(frame)
                    validated = validate_table(
                        kind,
                        table.label,
                        frame,
                        today,
                        date_order=date_order,
                        date_format=entry.date_format if entry else None,
                    )
                except Refusal as refusal:
                    file_problems.extend(refusal.problems)
                    if table_mapping is not None and entry is None:
                        file_problems.append(_no_table_fits(mapping, table.label))
                    continue
                summary.notes.extend(unit.notes)
                summary.notes.extend(validated.pop("notes")["note"])
                for key, value in validated.items():
                    parts[key].append(value)
    unknown_drops = sorted(
        c
        for c in {c.strip() for c in drop_columns}
        if c not in seen_columns and normalise_header(c) not in seen_columns
    )
    if unknown_drops:
        file_problems.append(
            Problem(
                ", ".join(summaries),
                None,
                ", ".join(unknown_drops),
                None,
                f"--drop-columns names {', '.join(unknown_drops)}, which no file has; check the spelling.",
            )
        )
    row_problems = _as_written(
        pd.concat([p for p in parts["problems"] if len(p)] or [empty_problems()], ignore_index=True), headers_of
    )
    row_problems = name_resources(row_problems, resources)
    if file_problems:
        # Whole tables that cannot be read; list the row problems found in the others too.
        listed = file_problems + problems_from(row_problems.sort_values(["file", "row"], kind="stable"))
        return ImportResult(refused=True, problems=listed, files=list(summaries.values()))

    report(0.65, "Checking for duplicates")
    patients = _concat(parts["patients"], ["patient_id", *PATIENT_VALUES, "_file", "_row"])
    sessions = _concat(parts["sessions"], ["patient_id", "session_date", *SESSION_VALUES, "_file", "_row"])
    assessments = _concat(
        parts["assessments"],
        [
            "patient_id",
            "assessment_date",
            "instrument",
            "total",
            "method",
            "items_answered",
            *ITEM_COLUMNS,
            "_total_column",
            "_file",
            "_row",
        ],
    )

    every_row = (patients, sessions, assessments)
    # Rows with a problem are set aside before looking for duplicates among the good ones.
    bad_rows = _row_keys(row_problems["file"], row_problems["row"])
    sessions, session_conflicts = conflicts_in_batch(
        _without(sessions, bad_rows), ["patient_id", "session_date"], SESSION_VALUES, "patient and session_date"
    )
    assessments, assessment_conflicts = conflicts_in_batch(
        _without(assessments, bad_rows),
        ["patient_id", "assessment_date", "instrument"],
        ASSESSMENT_VALUES,
        "patient, date and instrument",
    )
    patients, patient_conflicts = conflicting_patients(_without(patients, bad_rows))
    store_conflicts = conflicts_with_store(con, Batch(patients=patients, sessions=sessions, assessments=assessments))
    conflicts = [
        name_resources(_as_written(f, headers_of), resources)
        for f in (session_conflicts, assessment_conflicts, patient_conflicts, store_conflicts)
        if len(f)
    ]
    found = [f for f in (row_problems, *conflicts) if len(f)]
    # A session log's site is checked for the session and for the patient: one problem, said once.
    all_problems = (
        (pd.concat(found, ignore_index=True) if found else empty_problems())
        .drop_duplicates(["file", "row", "column", "value", "reason"])
        .sort_values(["file", "row"], kind="stable")
    )
    problems = problems_from(all_problems)

    if problems and not skip_invalid:
        return ImportResult(refused=True, problems=problems, files=list(summaries.values()))

    # A row with any problem is set aside whole: its session and its scores together.
    bad_rows = _row_keys(all_problems["file"], all_problems["row"])
    batch = Batch(_without(patients, bad_rows), _without(sessions, bad_rows), _without(assessments, bad_rows))
    report(0.8, "Writing to the store")
    write_batch(
        con,
        batch,
        summaries,
        labels_of,
        _with_keys(all_problems, every_row, kind_of),
        user=user or _current_user(),
        options={
            "skip_invalid": skip_invalid,
            "drop_columns": sorted(drop_columns),
            "date_order": date_order,
            # The key's public fingerprint, never the key: which key made this import's pseudonyms.
            **({"pseudonym_key": pseudonym_key.fingerprint} if pseudonym_key is not None else {}),
            **({"mapping": mapping.name} if mapping is not None else {}),
        },
    )
    report(1.0, "Done")
    return ImportResult(refused=False, problems=problems, files=list(summaries.values()))


def _with_keys(
    problems: pd.DataFrame, every_row: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], kind_of: dict[str, str]
) -> pd.DataFrame:
    """Each problem row with its key (patient, date) where the row gave one that could be read.

    The quarantine keeps it so that a later import bringing in the same key cleanly marks the row resolved.
    """
    if problems.empty:
        return problems.assign(record_kind=None, patient_id=None, record_date=None)
    patients, sessions, assessments = every_row
    keys = pd.concat(
        [
            sessions[["_file", "_row", "patient_id", "session_date"]].rename(columns={"session_date": "record_date"}),
            assessments[["_file", "_row", "patient_id", "assessment_date"]].rename(
                columns={"assessment_date": "record_date"}
            ),
            patients[["_file", "_row", "patient_id"]].assign(record_date=pd.NaT),
        ],
        ignore_index=True,
    ).drop_duplicates(["_file", "_row"])
    keys["_row"] = keys["_row"].astype(np.int64)
    keyed = problems.assign(_row=problems["row"].astype("Int64")).merge(
        keys.rename(columns={"_file": "file"}), on=["file", "_row"], how="left"
    )
    keyed["record_kind"] = keyed["file"].map(kind_of)
    keyed["record_date"] = pd.to_datetime(keyed["record_date"]).dt.date
    return keyed.drop(columns="_row").set_axis(problems.index)


def _as_written(problems: pd.DataFrame, headers_of: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The problems with each column named as its file has it, the canonical name in brackets when they differ."""
    if problems.empty:
        return problems
    named = [column_as_written(c, headers_of.get(f, {})) for f, c in zip(problems["file"], problems["column"])]
    return problems.assign(column=named)


def _no_table_fits(mapping: Mapping, label: str) -> Problem:
    """Why a mapping did not read a file it was given for: the headers each of its tables looks for."""
    wanted = "; ".join(
        f"{KIND_NAMES[t.kind]}: {', '.join(t.key_headers())}" if t.match is None else f"files named {t.match}"
        for t in mapping.tables
    )
    return Problem(
        label,
        None,
        None,
        None,
        f"the mapping {mapping.name} does not fit this file, so it was read as layout A/B; each of its tables "
        f"looks for these columns ({wanted}).",
    )


def pseudonymized(frame: pd.DataFrame, key: ClinicKey) -> pd.DataFrame:
    """The frame with every patient_id replaced by its keyed pseudonym (blank stays blank, for the checks)."""
    if "patient_id" not in frame.columns:
        return frame
    ids = frame["patient_id"].astype(str)
    pseudonyms = {source: key.pseudonym(source) if source.strip() else "" for source in ids.unique()}
    return frame.assign(patient_id=ids.map(pseudonyms))


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _row_keys(files: pd.Series, rows: pd.Series) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([files.astype(object).to_numpy(), rows.astype(np.int64).to_numpy()]).unique()


def _without(frame: pd.DataFrame, bad_rows: pd.MultiIndex) -> pd.DataFrame:
    """The rows of frame not listed in bad_rows (file label, spreadsheet row)."""
    if not len(bad_rows) or frame.empty:
        return frame
    keys = pd.MultiIndex.from_arrays(
        [frame["_file"].astype(object).to_numpy(), frame["_row"].astype(np.int64).to_numpy()]
    )
    return frame.loc[~keys.isin(bad_rows)]
