"""Data: load exports with a checked preview first, the import history, quarantine, data quality, templates."""

import logging
from pathlib import Path

import streamlit as st

from analysis import ingest, store
from analysis.charts import patient as patient_charts
from analysis.engine.timeline import save_report_cache
from analysis.views import data as data_views
from ui import components, state

state.run_inside_frame()

log = logging.getLogger(__name__)
UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "xls"]


def _store_key() -> tuple:
    return state.version()[0]


@st.cache_data(show_spinner="Checking every row against the store…", max_entries=4)
def _preview(store_key: tuple, sources: tuple, skip_invalid: bool, drop_columns: tuple, _con):
    return data_views.preview_import(_con, list(sources), skip_invalid=skip_invalid, drop_columns=drop_columns)


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
            st.session_state["data_last_action"] = (
                "The demo clinic was removed. The store is empty: import your clinic's exports below."
            )
            state.data_changed()
            st.rerun()


def _import_section(con, path: Path) -> None:
    st.markdown(
        "Upload CSV or Excel (.xlsx) exports: the three tables of layout A (patients, sessions, "
        "assessments) or a layout B session log. Every row is checked against the store first; nothing is "
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
    tables = data_views.read_previews(sources)
    identifying = sorted({c for t in tables for c in t.identifying_columns})
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

    preview = _preview(_store_key(), sources, skip_invalid, tuple(drop), con)
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
        summary = data_views.file_summary(result)
        st.dataframe(summary, hide_index=True)
        if preview.can_import:
            st.success(
                f"Ready: {result.added:,} new rows will be added, {result.merged:,} are already in the store"
                + (f", {result.rejected:,} will go to the quarantine." if result.rejected else "."),
                icon=":material/task_alt:",
            )
        else:
            st.info("Nothing new to import: every row is already in the store.", icon=":material/info:")
    for sentence in data_views.file_problems(result):
        st.error(sentence, icon=":material/description:")
    problems = data_views.row_problems(result)
    if len(problems):
        st.markdown(f"**Every problem, row by row** ({len(problems):,})")
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
            data_views.as_csv_bytes(problems),
            file_name="import_problems.csv",
            mime="text/csv",
            key="data_problems_download",
        )

    if st.button("Import into the store", type="primary", disabled=not preview.can_import, key="data_confirm"):
        bar = st.progress(0.0, text="Starting the import")
        try:
            with store.opened(path) as writer:
                done = ingest.import_bytes(
                    writer,
                    list(sources),
                    skip_invalid=skip_invalid,
                    drop_columns=list(drop),
                    user=_user_name(),
                    progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
                )
                if not done.refused:
                    bar.progress(1.0, text="Computing outcomes")
                    save_report_cache(writer, state.settings())
        except store.StoreError as error:
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
        state.data_changed()
        st.rerun()


def _history_section(con) -> None:
    history = data_views.import_history(con)
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
    rows = data_views.quarantine_rows(con)
    if rows.empty:
        components.empty_state(
            "The quarantine is empty. Rows set aside by an import with *Skip invalid rows* are "
            "kept here with the reason, to fix and import again."
        )
        return
    st.caption(f"{len(rows):,} rows set aside, each with the reason. Fix them in the source file and import it again.")
    st.dataframe(rows, hide_index=True)
    st.download_button(
        "Download the quarantine (CSV)",
        data_views.as_csv_bytes(rows),
        file_name="quarantine.csv",
        mime="text/csv",
        key="data_quarantine_download",
    )


def _quality_section(timeline, filters) -> None:
    if timeline is None or timeline.courses.empty:
        components.empty_state("Data quality appears once sessions are imported.")
        return
    if components.cached(data_views.quality_summary, timeline, filters)["courses"] == 0:
        components.empty_state(components.NO_MATCH)
        return
    st.caption(f"For the cohort in the sidebar: {filters.describe()}.")
    summary = components.cached(data_views.quality_summary, timeline, filters)
    baselines = components.cached(data_views.courses_without_baseline, timeline, filters)
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
    completion = components.cached(data_views.assessment_completion, timeline, filters)
    st.plotly_chart(patient_charts.completion_by_session(completion), key="data_completion_chart")
    st.caption(
        "A session counts as measured when a questionnaire was filled in after the previous session and no "
        "later than the session's own day (for session 1: "
        f"in the {state.settings().baseline_window_days} days before it, the baseline window). "
        "Only sessions 1 to the induction length of each course are counted here."
    )
    with st.expander("Courses without a baseline, to chase up"):
        st.dataframe(components.cached(data_views.courses_missing_baseline_list, timeline, filters), hide_index=True)
    with st.expander("Sessions without any questionnaire (boosters included)"):
        st.dataframe(components.cached(data_views.sessions_without_score, timeline, filters), hide_index=True)


def _templates_section() -> None:
    files = data_views.reference_files()
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
                mime=data_views.mime_type(row.name),
                key=f"data_file_{path.parent.name}_{row.name}",
                icon=":material/download:",
            )
    st.caption(
        "Layout A: up to three tables (patients, sessions, assessments) as CSV files or sheets of one "
        "workbook. Layout B: one row per session with the scores taken before it. Dates as YYYY-MM-DD."
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
if not state.has_data():
    st.info(
        "The store is empty. Import your clinic's exports below: start from a template on the **Templates and "
        "examples** tab, or try a filled-in example.",
        icon=":material/upload_file:",
    )
if state.is_demo():
    _remove_demo_section(path)

import_tab, history_tab, quarantine_tab, quality_tab, templates_tab = st.tabs(
    ["Import files", "Import history", "Quarantine", "Data quality", "Templates and examples"]
)
with import_tab:
    _import_section(con, path)
with history_tab:
    _history_section(con)
with quarantine_tab:
    _quarantine_section(con)
with quality_tab:
    _quality_section(timeline, state.filters())
with templates_tab:
    _templates_section()

components.definitions_expander(["courses", "induction", "timepoints"])
