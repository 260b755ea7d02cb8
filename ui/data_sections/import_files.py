"""The Data page's import tab: upload, pseudonyms, the mapping step, a dry run against the store, then the import."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

import duckdb
import streamlit as st

from analysis import ingest, store
from analysis.access import Person
from analysis.engine.timeline import save_report_cache
from analysis.ingest.mapping import Mapping, parse_mapping, to_toml
from analysis.ingest.pseudonyms import KEY_ENV, ClinicKey, PseudonymKeyError, backup_warning, key_path_for, load_key
from analysis.ingest.sources import needs_pseudonyms
from analysis.views.data import mapping_step as mapping_views
from analysis.views.data import preview as preview_views
from analysis.views.data import results as result_views
from ui import downloads, state
from ui.data_sections.mapping_step import mapping_step

log = logging.getLogger(__name__)
UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "json", "ndjson"]


def _store_key() -> tuple:
    """The store version the preview is cached under: a new import makes every cached preview stale."""
    return state.version()[0]


@st.cache_data(show_spinner="Checking every row against the store…", max_entries=4)
def _preview(
    store_key: tuple,
    sources: tuple[tuple[str, bytes], ...],
    skip_invalid: bool,
    drop_columns: tuple[str, ...],
    mapping_toml: str | None,
    key_fingerprint: str | None,
    _con: duckdb.DuckDBPyConnection | None,
    _key: ClinicKey | None,
) -> preview_views.ImportPreview:
    """The dry run, once per store version, files, options, mapping and key (the key by its fingerprint)."""
    mapping = parse_mapping(mapping_toml) if mapping_toml else None
    return preview_views.preview_import(
        _con, list(sources), skip_invalid=skip_invalid, drop_columns=drop_columns, mapping=mapping, pseudonym_key=_key
    )


def _preview_key(path: Path) -> ClinicKey:
    """The clinic's key when it exists; before the first pseudonymized import, a stand-in for the preview only.

    The key file is created on import, not on preview: nobody gets a key to back up for a file never imported.
    """
    try:
        return load_key(path, create=False)
    except PseudonymKeyError:
        if "data_preview_key" not in st.session_state:
            st.session_state["data_preview_key"] = ClinicKey(secrets.token_bytes(32), "preview only")
        return st.session_state["data_preview_key"]


def _pseudonym_section(path: Path) -> ClinicKey | None:
    """The pseudonyms box: the key the upload is read under, or None when patient IDs are kept as written."""
    pseudonymize = st.checkbox(
        "Replace patient IDs with keyed pseudonyms",
        key="data_pseudonymize",
        help="Each patient ID (or an MRN column used as the patient key) is replaced by a keyed hash before "
        "anything is checked or stored; the same ID gives the same pseudonym on every import.",
    )
    if not pseudonymize:
        return None
    try:
        key = load_key(path, create=False)
    except PseudonymKeyError as error:
        if os.environ.get(KEY_ENV):  # a key named by the environment that cannot be used
            st.error(str(error))
            return None
        st.caption(
            f"No pseudonym key yet: one is created at `{key_path_for(path)}` on import. Back it up with the store."
        )
        return _preview_key(path)
    st.caption(
        f"Pseudonym key in use: fingerprint **{key.fingerprint}** ({key.source}). The key itself is never shown."
    )
    return key


def _user_name() -> str | None:
    """The signed-in user, when the app has one (otherwise the importer records the login name)."""
    try:
        user = st.user.to_dict()
    except Exception:  # no authentication configured
        return None
    return user.get("email") or user.get("name") or None


def import_section(con: duckdb.DuckDBPyConnection | None, path: Path, person: Person) -> None:
    """Upload, check every row against the store (nothing written), then import on confirmation."""
    st.markdown(
        "Upload CSV or Excel (.xlsx) exports: the three tables of layout A (patients, sessions, "
        "assessments) or a layout B session log; or FHIR files (.json Bundle or resource, .ndjson Bulk Data) "
        "and Synthea CSV exports. Every row is checked against the store first; nothing is "
        "written until you confirm."
    )
    uploads = st.file_uploader(
        "Files to import",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="data_upload",
        help="The kind of each table is told by its header. Templates are on the last tab.",
    )
    if not uploads:
        st.caption(
            "No files chosen yet. Blank templates and filled-in examples are on the **Templates and examples** tab."
        )
        return
    sources = tuple((upload.name, upload.getvalue()) for upload in uploads)
    key = _pseudonym_section(path)
    always = [name for name, data in sources if needs_pseudonyms(data)]
    if always and key is None:
        if len(always) < len(sources):
            st.error(
                f"{', '.join(always)}: FHIR and Synthea files are always imported under pseudonyms; upload the "
                "other files separately, or tick *Replace patient IDs with keyed pseudonyms* if their patient IDs "
                "are source IDs too.",
                icon=":material/key:",
            )
            return
        key = _preview_key(path)
        st.caption(
            f"Patient IDs in {', '.join(always)} are always replaced by keyed pseudonyms"
            + (
                f" (key fingerprint **{key.fingerprint}**)."
                if key.source != "preview only"
                else f"; the key is created at `{key_path_for(path)}` on import. Back it up with the store."
            )
        )
    plain = [(name, data) for name, data in sources if name not in always]
    unmapped = [t for t in mapping_views.raw_tables(plain) if mapping_views.needs_mapping(t)]
    mapping = mapping_step(unmapped, key, person) if unmapped else None
    tables = preview_views.read_previews(sources, pseudonym_key=key)
    mapped_labels = {t.label for t in unmapped}  # their identifying columns are the mapping step's business
    identifying = sorted({c for t in tables if t.label not in mapped_labels for c in t.identifying_columns})
    columns = sorted({str(c) for t in tables for c in t.head.columns})
    if identifying:
        st.warning(
            f"These columns look like they identify a person: **{', '.join(identifying)}**. The store holds "
            "pseudonyms only, so the import is refused unless you leave them out below.",
            icon=":material/lock:",
        )
    left, right = st.columns(2)
    with left:
        drop = st.multiselect(
            "Leave out these columns",
            columns,
            key="data_drop_columns",
            help="The columns are dropped before any check and never stored.",
        )
    with right:
        skip_invalid = st.checkbox(
            "Skip invalid rows",
            key="data_skip_invalid",
            help="Load the valid rows and keep the invalid ones, with their reasons, in the "
            "quarantine. Off: any invalid row stops the whole import.",
        )

    preview = _preview(
        _store_key(),
        sources,
        skip_invalid,
        tuple(drop),
        to_toml(mapping) if mapping else None,
        key.fingerprint if key else None,
        con,
        key,
    )
    _show_preview(preview, skip_invalid)
    if st.button("Import into the store", type="primary", disabled=not preview.can_import, key="data_confirm"):
        _import_into_store(path, sources, key, skip_invalid, drop, mapping, person)


def _show_preview(preview: preview_views.ImportPreview, skip_invalid: bool) -> None:
    """What the files hold, the verdict against the store, and every problem, row by row."""
    st.markdown("**What the files hold**")
    for table in preview.tables:
        if table.error:
            st.error(table.error)
            continue
        kind = table.kind or "a table whose kind cannot be told from its header"
        with st.expander(f"{table.label}: {kind}, {table.rows:,} rows", expanded=len(preview.tables) == 1):
            st.dataframe(table.head, hide_index=True)
            if table.rows > len(table.head):
                st.caption(f"The first {len(table.head)} of {table.rows:,} rows.")

    result = preview.result
    st.markdown("**Check against the store**")
    if result.refused:
        st.error(result.summary_line(), icon=":material/block:")
        if any(p.row is not None for p in result.problems) and not skip_invalid:
            st.caption(
                "Fix these rows in the file and upload it again, or tick *Skip invalid rows* to load the valid "
                "rows and keep these in the quarantine."
            )
    else:
        summary = result_views.file_summary(result)
        st.dataframe(summary, hide_index=True)
        for note in result_views.import_notes(result):
            st.caption(note)
        if preview.can_import:
            st.success(
                f"Ready: {result.added:,} new rows will be added, {result.merged:,} are already in the store"
                + (f", {result.rejected:,} will go to the quarantine." if result.rejected else "."),
                icon=":material/task_alt:",
            )
        else:
            st.info("Nothing new to import: every row is already in the store.", icon=":material/info:")
    for sentence in result_views.file_problems(result):
        st.error(sentence, icon=":material/description:")
    problems = result_views.row_problems(result)
    if len(problems):
        st.markdown(f"**Every problem, row by row** ({len(problems):,})")
        if len(problems) <= result_views.PROBLEMS_IN_FULL:
            # A table wraps each sentence: in a grid the 'What to fix' column is cut off mid-sentence.
            st.table(result_views.problems_to_read(problems))
        else:
            st.caption("Long sentences are cut in the grid: the download below has every one in full.")
            st.dataframe(
                problems,
                hide_index=True,
                column_config={
                    "row": st.column_config.NumberColumn(
                        "Row", help="as your spreadsheet numbers it (the header is row 1)"
                    ),
                    "column": "Column",
                    "value": "Value",
                    "reason": st.column_config.TextColumn("What to fix", width="large"),
                    "file": "File",
                },
            )
        downloads.csv_download(
            "Download these problems (CSV)", problems, file_name="import_problems.csv", key="data_problems_download"
        )


def _import_into_store(
    path: Path,
    sources: Sequence[tuple[str, bytes]],
    key: ClinicKey | None,
    skip_invalid: bool,
    drop: Sequence[str],
    mapping: Mapping | None,
    person: Person,
) -> None:
    """The one transaction into the store file, with a progress bar; the page reruns on the new store."""
    bar = st.progress(0.0, text="Starting the import")
    warning = None
    try:
        if key is not None:
            key = load_key(path)  # the real key: created now, on the first pseudonymized import
            warning = backup_warning(key) if key.created else None
        with store.opened(path) as writer:
            done = ingest.import_bytes(
                writer,
                list(sources),
                skip_invalid=skip_invalid,
                drop_columns=list(drop),
                user=_user_name(),
                progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
                mapping=mapping,
                pseudonym_key=key,
                date_order=state.settings().date_order,
            )
            if not done.refused:
                bar.progress(1.0, text="Computing outcomes")
                save_report_cache(writer, state.settings())
    except (store.StoreError, PseudonymKeyError) as error:
        st.error(str(error))
        return
    except Exception as error:  # a fault in the importer: nothing was written (one transaction)
        log.exception("import failed")
        st.error(
            f"The import stopped unexpectedly ({type(error).__name__}); nothing was changed in the store. "
            "Please report this with the file to the dashboard's maintainers."
        )
        return
    if done.refused:
        st.error(done.summary_line())
        st.dataframe(done.problems_frame(), hide_index=True)
        return
    st.session_state["data_last_action"] = done.summary_line()
    state.log_access(person, "imported files", ", ".join(name for name, _ in sources), detail=done.summary_line())
    if warning:
        st.session_state["data_key_warning"] = warning
    state.data_changed()
    st.rerun()
