"""Data: load exports with a checked preview first, the import history, quarantine, data quality, templates."""

import hashlib
import logging
import os
import secrets
from pathlib import Path

import streamlit as st

from analysis import ingest, spreadsheet, store
from analysis.charts import patient as patient_charts
from analysis.engine.timeline import save_report_cache
from analysis.ingest.headers import KIND_NAMES
from analysis.ingest.mapping import (
    CANONICAL_COLUMNS,
    VALUE_COLUMNS,
    Mapping,
    MappingError,
    load_mapping,
    parse_mapping,
    to_toml,
)
from analysis.ingest.pseudonyms import (
    KEY_ENV,
    ClinicKey,
    PseudonymKeyError,
    backup_warning,
    key_path_for,
    load_key,
)
from analysis.ingest.sources import needs_pseudonyms
from analysis.views import access_log as access_log_views
from analysis.views.data import mapping_step as mapping_views
from analysis.views.data import preview as preview_views
from analysis.views.data import quality as quality_views
from analysis.views.data import results as result_views
from analysis.views.data import templates as template_views
from ui import components, guard, state

state.run_inside_frame()
person = guard.page("data")  # role check: a typed URL opens nothing the role does not

log = logging.getLogger(__name__)
READ_ONLY = "The Data page is read-only for your role: imports and removing the demo are the administrator's."
UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "json", "ndjson"]


def _store_key() -> tuple:
    return state.version()[0]


@st.cache_data(show_spinner="Checking every row against the store…", max_entries=4)
def _preview(
    store_key: tuple,
    sources: tuple,
    skip_invalid: bool,
    drop_columns: tuple,
    mapping_toml: str | None,
    key_fingerprint: str | None,
    _con,
    _key,
):
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


def _mapping_choices(table, table_key: str) -> Mapping | None:
    """The pickers for one file: the canonical column of each header, what it holds, its values, its dates."""
    choices: dict[str, str | None] = {}
    options = [mapping_views.LEAVE_OUT, *CANONICAL_COLUMNS]
    st.markdown(f"**{table.label}**: the column each export header holds")
    grid = st.columns(3)
    suggestions = mapping_views.suggest_columns(table)
    for number, header in enumerate(table.frame.columns):
        suggested = suggestions[header]
        with grid[number % 3]:
            picked = st.selectbox(
                str(header),
                options,
                index=options.index(suggested) if suggested else 0,
                key=f"data_map_{table_key}_{number}",
                help=f"Values such as: {mapping_views.sample_values(header, table.frame[header])}",
            )
        choices[header] = None if picked == mapping_views.LEAVE_OUT else picked
    kinds = list(KIND_NAMES)
    suggested_kind = mapping_views.suggest_kind(list(choices.values()))
    left, right = st.columns(2)
    with left:
        kind = st.selectbox(
            "This file holds",
            kinds,
            index=kinds.index(suggested_kind),
            format_func=KIND_NAMES.get,
            key=f"data_map_{table_key}_kind",
        )
    with right:
        formats = list(mapping_views.DATE_FORMATS)
        date_words = st.selectbox("Dates are written", formats, key=f"data_map_{table_key}_dates")
    values: dict[str, dict[str, str]] = {}
    by_column = {column: header for header, column in choices.items() if column}
    for column, allowed in VALUE_COLUMNS.items():
        header = by_column.get(column)
        if header is None:
            continue
        read_as = mapping_views.value_choices(column, table.frame[header])
        with st.expander(f"Values of {header} (read as {column})", expanded=any(v is None for v in read_as.values())):
            for number, (value, known) in enumerate(read_as.items()):
                picks = [mapping_views.AS_WRITTEN, *allowed]
                picked = st.selectbox(
                    value,
                    picks,
                    index=picks.index(known) if known else 0,
                    key=f"data_map_{table_key}_{column}_{number}",
                )
                if picked != mapping_views.AS_WRITTEN and picked != known:
                    values.setdefault(column, {})[value] = picked
    try:
        return mapping_views.build_mapping(
            "page", kind, choices, values, date_format=mapping_views.DATE_FORMATS[date_words]
        )
    except MappingError as error:
        st.warning(str(error).replace("In page table 1, ", ""), icon=":material/rule:")
        return None


def _mapping_step(tables, key: ClinicKey | None) -> Mapping | None:
    """An upload not in layout A or B: pick a saved mapping, or make one, preview it, save it by name."""
    st.markdown("**Column mapping**")
    names = ", ".join(t.label for t in tables)
    st.info(
        f"{names} is not in layout A or B. Map its columns once: the mapping is saved by name and reused "
        "for every later export of the same system.",
        icon=":material/alt_route:",
    )
    saved = mapping_views.saved_mappings()
    pending = st.session_state.pop("data_mapping_saved", None)
    if pending:
        st.session_state["data_mapping_choice"] = pending
    new = "Make a new mapping"
    choice = st.selectbox("Mapping", [new, *saved["name"]], key="data_mapping_choice")
    if choice != new:
        row = saved.loc[saved["name"] == choice].iloc[0]
        try:
            mapping = load_mapping(row["path"])
        except MappingError as error:
            st.error(str(error))
            return None
        st.caption(f"Reads: {row['reads']}. Saved in `{row['path']}`.")
        st.download_button(
            f"Download {choice}.toml",
            to_toml(mapping),
            file_name=f"{choice}.toml",
            mime="application/toml",
            key="data_mapping_download",
            icon=":material/download:",
        )
        return mapping
    parts = []
    for table in tables:
        table_key = hashlib.sha256(f"{table.label}|{list(table.frame.columns)}".encode()).hexdigest()[:10]
        with st.container(border=True):
            part = _mapping_choices(table, table_key)
        if part is None:
            return None
        parts.append(part)
        preview, problems = mapping_views.mapped_preview(
            part, table, date_order=state.settings().date_order, pseudonym_key=key
        )
        st.markdown(f"**The first rows of {table.label} as they would load**")
        if len(preview):
            st.dataframe(preview, hide_index=True, key=f"data_map_preview_{table_key}")
        for sentence in problems[:5]:
            st.warning(sentence, icon=":material/rule:")
    stem = Path(tables[0].label.split(" [")[0]).stem
    name = st.text_input("Save this mapping as", value=f"{stem}_mapping", key="data_mapping_name")
    mapping = mapping_views.combined_mapping(name or "page", parts)
    if st.button("Save mapping", key="data_mapping_save", icon=":material/save:"):
        try:
            saved_at = mapping_views.save_mapping(mapping)
        except MappingError as error:
            st.error(str(error))
            return mapping
        st.session_state["data_mapping_saved"] = mapping.name
        state.log_access(person, "changed mapping", mapping.name, detail=str(saved_at))
        st.session_state["data_last_action"] = (
            f"Mapping {mapping.name} saved to {saved_at}; it is offered for every later upload."
        )
        st.rerun()
    return mapping


def _user_name() -> str | None:
    """The signed-in user, when the app has one (otherwise the importer records the login name)."""
    try:
        user = st.user.to_dict()
    except Exception:  # no authentication configured
        return None
    return user.get("email") or user.get("name") or None


def _announce_last_action() -> None:
    message = st.session_state.pop("data_last_action", None)
    if message:
        st.success(message, icon=":material/check_circle:")
    warning = st.session_state.pop("data_key_warning", None)
    if warning:
        st.warning(warning, icon=":material/key:")


def _remove_demo_section(path: Path) -> None:
    with st.container(border=True):
        st.markdown(
            "**Start on your own data.** This store holds the synthetic demo clinic. Removing it deletes every "
            f"demo patient, session, questionnaire and import record from `{path}`; your settings stay."
        )
        confirmed = st.checkbox("Yes, delete the demo clinic from this store", key="data_remove_demo_confirm")
        if st.button("Remove the demo clinic", key="data_remove_demo", disabled=not confirmed, type="primary"):
            try:
                with store.opened(path) as con:
                    if store.is_demo(con):  # checked on the store itself, not the app's copy
                        store.clear(con)
            except store.StoreError as error:
                st.error(str(error))
                return
            state.log_access(person, "removed demo")
            st.session_state["data_last_action"] = (
                "The demo clinic was removed. The store is empty: import your clinic's exports below."
            )
            state.data_changed()
            st.rerun()


def _import_section(con, path: Path) -> None:
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
    mapping = _mapping_step(unmapped, key) if unmapped else None
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
        st.download_button(
            "Download these problems (CSV)",
            spreadsheet.csv_bytes(problems),
            file_name="import_problems.csv",
            mime="text/csv",
            key="data_problems_download",
        )

    if st.button("Import into the store", type="primary", disabled=not preview.can_import, key="data_confirm"):
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


def _history_section(con) -> None:
    history = result_views.import_history(con)
    if history.empty:
        components.empty_state(
            "No imports yet. Files you import on the first tab are listed here with when, who, "
            "and how many rows were added, merged or rejected."
        )
        return
    st.dataframe(
        history,
        hide_index=True,
        column_config={
            "imported_at": st.column_config.DatetimeColumn("When", format="DD MMM YYYY HH:mm"),
            "file_name": "File",
            "file_kind": "Held",
            "rows_read": "Rows",
            "rows_added": "Added",
            "rows_merged": "Already in store",
            "rows_rejected": "Rejected",
            "user_name": "By",
            "file_size": st.column_config.NumberColumn("Bytes"),
            "sha256": "SHA-256",
            "options": "Options",
        },
    )


def _quarantine_section(con) -> None:
    counts = result_views.quarantine_counts(con)
    if counts["open"] + counts["resolved"] == 0:
        components.empty_state(
            "The quarantine is empty. Rows set aside by an import with *Skip invalid rows* are "
            "kept here with the reason, to fix and import again."
        )
        return
    resolved_note = (
        f" {counts['resolved']:,} earlier rows were resolved: a later import brought them in cleanly."
        if counts["resolved"]
        else ""
    )
    if counts["open"]:
        st.caption(
            f"{counts['open']:,} rows set aside, each with the reason. Fix them in the source file and import it "
            "again." + resolved_note
        )
    else:
        st.success("Nothing left to fix in the quarantine." + resolved_note, icon=":material/check_circle:")
    show_resolved = bool(counts["resolved"]) and st.toggle(
        f"Show the {counts['resolved']:,} resolved rows instead (kept for the audit)", key="data_quarantine_resolved"
    )
    rows = result_views.quarantine_rows(con, resolved=show_resolved)
    if rows.empty:
        return
    if len(rows) <= result_views.PROBLEMS_IN_FULL:
        # A table wraps each sentence (a grid cuts the reason off mid-sentence).
        st.table(result_views.quarantine_to_read(rows))
    else:
        st.dataframe(
            rows,
            hide_index=True,
            column_config={
                "imported_at": st.column_config.DatetimeColumn("Imported", format="DD MMM YYYY HH:mm", width="small"),
                "file": st.column_config.TextColumn("File", width="small"),
                "row": st.column_config.NumberColumn("Row", width="small"),
                "column": st.column_config.TextColumn("Column", width="small"),
                "value": st.column_config.TextColumn("Value", width="small"),
                "reason": st.column_config.TextColumn("What to fix", width="large"),
                "resolved_by": st.column_config.TextColumn("Resolved by", width="small"),
            },
        )
    st.download_button(
        "Download the quarantine (CSV)",
        spreadsheet.csv_bytes(rows),
        file_name="quarantine.csv",
        mime="text/csv",
        key="data_quarantine_download",
        on_click=lambda: state.log_access(person, "downloaded quarantine", "quarantine.csv"),
    )


def _quality_section(timeline, filters) -> None:
    if timeline is None or timeline.courses.empty:
        components.empty_state("Data quality appears once sessions are imported.")
        return
    if components.cached(quality_views.quality_summary, timeline, filters)["courses"] == 0:
        components.empty_state(components.NO_MATCH)
        return
    st.caption(f"For the cohort in the sidebar: {filters.describe()}.")
    summary = components.cached(quality_views.quality_summary, timeline, filters)
    baselines = components.cached(quality_views.courses_without_baseline, timeline, filters)
    tiles = st.columns(3)
    for column, row in zip(tiles, baselines.itertuples()):
        with column:
            components.count_tile(
                f"Courses without a {row.instrument} baseline",
                row.without_baseline,
                caption=f"{row.percent:.0f}% of {row.courses:,} courses",
            )
    with tiles[2]:
        components.count_tile(
            "Sessions without any questionnaire",
            summary["sessions_without_score"],
            caption=f"{summary['sessions_without_score_percent']:.0f}% of {summary['sessions']:,} sessions",
        )
    completion = components.cached(quality_views.assessment_completion, timeline, filters)
    st.plotly_chart(patient_charts.completion_by_session(completion), key="data_completion_chart")
    st.caption(
        "A session counts as measured when a questionnaire was filled in after the previous session and no "
        "later than the session's own day (for session 1: "
        f"in the {state.settings().baseline_window_days} days before it, the baseline window). "
        "Only sessions 1 to the induction length of each course are counted here."
    )
    with st.expander("Courses without a baseline, to chase up"):
        st.dataframe(components.cached(quality_views.courses_missing_baseline_list, timeline, filters), hide_index=True)
    with st.expander("Sessions without any questionnaire (boosters included)"):
        st.dataframe(components.cached(quality_views.sessions_without_score, timeline, filters), hide_index=True)


def _access_log_section() -> None:
    """Who looked at what: every sign-in, patient view, download, import and removal, never the data."""
    try:
        lines = state.access_log()
    except store.StoreError as error:
        st.error(f"{error} The access log is read from the store file itself.")
        return
    if lines.empty:
        components.empty_state("The access log is empty: sign-ins, patient views and downloads are listed here.")
        return
    left, middle, right = st.columns(3)
    with left:
        users = st.multiselect("Who", sorted(lines["user_name"].unique()), key="data_log_users", placeholder="Everyone")
    with middle:
        actions = st.multiselect(
            "Did what", sorted(lines["action"].unique()), key="data_log_actions", placeholder="All"
        )
    with right:
        target = st.text_input("Patient, report or file contains", key="data_log_target")
    first, last = lines["logged_at"].min().date(), lines["logged_at"].max().date()
    days = st.date_input("Between", value=(first, last), key="data_log_days")
    start, end = (list(days) + [None, None])[:2] if isinstance(days, (tuple, list)) else (days, days)
    shown = access_log_views.filter_log(lines, tuple(users), tuple(actions), start, end, target)
    st.caption(f"{len(shown):,} of {len(lines):,} lines, newest first. Lines are only ever added, never changed.")
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "logged_at": st.column_config.DatetimeColumn("When", format="DD MMM YYYY HH:mm:ss"),
            "user_name": "Who",
            "role": "Role",
            "action": "Did what",
            "target": "Patient, report or files",
            "detail": "Detail",
        },
    )
    st.download_button(
        "Download these lines (CSV)",
        access_log_views.as_safe_csv_bytes(shown),
        file_name="access_log.csv",
        mime="text/csv",
        key="data_log_download",
        on_click=lambda: state.log_access(person, "downloaded access log", "access_log.csv"),
    )


def _templates_section() -> None:
    files = template_views.reference_files()
    if files.empty:
        components.empty_state("No templates or examples are installed in data/templates or data/examples.")
        return
    for group, rows in files.groupby("group", sort=False):
        st.markdown(f"**{group}**")
        for row in rows.itertuples():
            path = Path(row.path)
            st.download_button(
                row.label,
                data=path.read_bytes(),
                file_name=row.name,
                mime=template_views.mime_type(row.name),
                key=f"data_file_{path.parent.name}_{row.name}",
                icon=":material/download:",
            )
    st.caption(
        "Layout A: up to three tables (patients, sessions, assessments) as CSV files or sheets of one "
        "workbook. Layout B: one row per session with the scores taken before it. Dates as YYYY-MM-DD, "
        "MM/DD/YYYY or DD/MM/YYYY."
    )
    mappings = mapping_views.saved_mappings()
    if len(mappings):
        st.markdown("**Column mappings** (for exports in another shape; `--mapping FILE` on the command line)")
        for row in mappings.itertuples():
            path = Path(row.path)
            st.download_button(
                f"{path.name}: {row.reads}",
                data=path.read_bytes(),
                file_name=path.name,
                mime="application/toml",
                key=f"data_mapping_file_{path.stem}",
                icon=":material/download:",
            )


st.title("Data")
path = state.db_path()
con = state.connection()
timeline = state.timeline()
counts = state.store_counts()
_announce_last_action()

tiles = st.columns(4)
for column, (label, key) in zip(
    tiles,
    (("Patients", "patients"), ("Sessions", "sessions"), ("Questionnaires", "assessments"), ("Imports", "imports")),
):
    with column:
        components.count_tile(label, counts[key])
st.caption(f"Store: `{path}`")
try:
    clinic_key = load_key(path, create=False)
    st.caption(
        f"Pseudonym key: fingerprint **{clinic_key.fingerprint}** ({clinic_key.source}); the key is never shown."
    )
except PseudonymKeyError:
    pass  # no key yet: one is made on the first import with pseudonyms
if not state.has_data():
    st.info(
        "The store is empty. Import your clinic's exports below: start from a template on the **Templates and "
        "examples** tab, or try a filled-in example.",
        icon=":material/upload_file:",
    )
if state.is_demo() and person.may("remove_demo"):
    _remove_demo_section(path)

tab_names = ["Import files", "Import history", "Quarantine", "Data quality", "Templates and examples"]
if person.may("read_access_log"):
    tab_names.append("Access log")
import_tab, history_tab, quarantine_tab, quality_tab, templates_tab, *log_tab = st.tabs(tab_names)
with import_tab:
    if person.may("import"):
        _import_section(con, path)
    else:
        st.info(READ_ONLY, icon=":material/visibility:")
with history_tab:
    _history_section(con)
with quarantine_tab:
    _quarantine_section(con)
with quality_tab:
    _quality_section(timeline, state.filters())
with templates_tab:
    _templates_section()
if log_tab:
    with log_tab[0]:
        _access_log_section()

components.definitions_expander(["courses", "induction", "timepoints"])
