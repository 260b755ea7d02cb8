"""Patient trend: one patient's PHQ-9 and GAD-7 over time with sessions, status and safety flags; the caseload."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from analysis import access
from analysis.charts import patient as patient_charts
from analysis.instruments import INSTRUMENTS
from analysis.views import caseload as caseload_views
from analysis.views import patient as patient_views
from ui import components, guard, state

if TYPE_CHECKING:
    import datetime as dt

    import duckdb
    import pandas as pd
    import plotly.graph_objects as go

    from analysis.engine.cohort import CohortFilter
    from analysis.engine.timeline import Timeline
    from analysis.views.patient import PatientRecord

state.run_inside_frame()
person = guard.page("patient")  # role check: a typed URL opens nothing the role does not

BADGE_COLOURS = {"good": "green", "bad": "red", "warning": "orange", "neutral": "gray"}
NO_DATA = (
    "No patients yet: the store holds no sessions. Import your clinic's exports on the **Data** page, "
    "then pick a patient here."
)
NO_MATCH = (
    "No patient's latest course matches the sidebar filters. Clear a filter (clinician, site, modality, "
    "dates) in the sidebar to see more patients."
)


def _store_key() -> tuple:
    return (*state.version()[0], state.scope_key(state.timeline()))


@st.cache_data(show_spinner=False, max_entries=16)
def _caseload(
    store_key: tuple, filters_key: str, _con: duckdb.DuckDBPyConnection, _timeline: Timeline, _filters: CohortFilter
) -> pd.DataFrame:
    return caseload_views.caseload(_con, _timeline, _filters)


@st.cache_data(show_spinner=False, max_entries=64)
def _record(
    store_key: tuple, patient_id: str, _con: duckdb.DuckDBPyConnection, _timeline: Timeline
) -> PatientRecord | None:
    return patient_views.patient_record(_con, _timeline, patient_id)


@st.cache_resource(show_spinner=False, max_entries=128)
def _figure(store_key: tuple, patient_id: str, kind: str, instrument: str, _record: PatientRecord) -> go.Figure:
    """A patient's chart, built once per store version (read-only: never changed after it is made)."""
    if kind == "scores":
        span = patient_charts.date_span(_record.sessions, _record.assessments)
        return patient_charts.patient_scores(
            _record.assessments, _record.sessions, _record.reference_lines, instrument, span
        )
    grid = patient_views.item_grid(_record.assessments, instrument)
    return patient_charts.item_heatmap(grid, instrument, patient_views.item_labels(instrument))


def _open_selected_row() -> None:
    """A click on a caseload row opens that patient in the picker above."""
    rows = st.session_state["patient_caseload"].selection.rows
    if rows:
        st.session_state["patient_id"] = st.session_state["patient_caseload_ids"][rows[0]]


NOT_YOURS = "{patient_id} is not one of your patients here; pick a patient from the list."
NO_LOG = "This patient cannot be shown because the access log could not be written (the store is busy); try again."


def _may_view(patient_id: str) -> bool:
    """The role's scope decides, checked on the store's sessions, whatever put the pseudonym in the picker.

    The view is logged once per patient opened; a view that cannot be logged is not shown.
    """
    if not access.may_see_patient(timeline, person.scope, patient_id):
        state.log_access(person, "refused patient (outside scope)", patient_id)
        return False
    if st.session_state.get("patient_logged") != patient_id:
        if not state.log_access(person, "viewed patient", patient_id):
            st.warning(NO_LOG, icon=":material/lock:")
            return False
        st.session_state["patient_logged"] = patient_id
    return True


def _open_from_link(ids: list[str]) -> None:
    """?patient=P in the URL opens P, if P is this person's and in the cohort; otherwise says so."""
    linked = st.query_params.get("patient")
    if not linked or st.session_state.get("patient_linked") == linked:
        return
    st.session_state["patient_linked"] = linked  # once per link, so the picker stays the user's after
    if not access.may_see_patient(timeline, person.scope, linked):
        state.log_access(person, "refused patient (outside scope)", linked, detail="from a link")
        st.warning(NOT_YOURS.format(patient_id=linked), icon=":material/lock:")
    elif linked in ids:
        st.session_state["patient_id"] = linked
    else:
        st.info(f"{linked} is not in the cohort the sidebar filters select; clear a filter to open them.")


def _patient_section(record: PatientRecord, instruments: tuple[str, ...]) -> None:
    st.subheader(f"Patient {record.patient_id}")
    st.caption(patient_views.patient_description(record.attributes))
    alert = patient_views.item9_alert_text(record.item9_alerts)
    if alert:
        st.error(alert, icon=":material/flag:")
    unknown = patient_views.item9_unknown_text(record.assessments)
    if unknown:
        st.warning(unknown, icon=":material/help:")

    if len(record.courses):
        st.markdown(
            f"**{patient_views.latest_course_sentence(record.courses)}** — {record.courses.iloc[-1]['status']}."
        )
        badges = st.container(horizontal=True)
        with badges:
            for badge in record.badges:
                st.badge(badge.label, color=BADGE_COLOURS[badge.tone], help=badge.detail or None)
    else:
        st.info("This patient has questionnaires but no sessions in the store, so there is no course to judge.")

    for instrument in instruments:
        if (record.assessments["instrument"] == instrument).any():
            st.plotly_chart(
                _figure(_store_key(), record.patient_id, "scores", instrument, record),
                key=f"patient_chart_{instrument}",
            )
        else:
            st.caption(f"No {instrument} recorded for this patient.")
    st.caption(
        "Sessions are marked under the scores: a tick for each induction session, a diamond for each booster, "
        "coloured by modality. Dashed grey: the course's baseline; dash-dot blue: the response threshold; "
        "dotted green: the remission threshold (each instrument's own rule, in the definitions below). "
        "Red triangles: PHQ-9 item 9 answered 1 or more. Shading: severity."
    )

    recorded = [code for code in instruments if (record.assessments["instrument"] == code).any()]
    instrument = components.instrument_picker(
        recorded or instruments, key="patient_items_instrument", label="Answers question by question"
    )
    if (record.assessments["instrument"] == instrument).any():
        st.plotly_chart(_figure(_store_key(), record.patient_id, "items", instrument, record), key="patient_heatmap")
        st.caption(
            "Blank cells: not recorded (a total-only questionnaire or a skipped question); "
            "'?' on item 9: item 9 unknown."
        )
    else:
        st.caption(f"No {instrument} recorded for this patient.")

    with st.expander("Every questionnaire and session of this patient"):
        questionnaires = record.assessments.assign(
            items=[", ".join("–" if a is None else str(a) for a in items) for items in record.assessments["items"]]
        )
        st.dataframe(
            questionnaires[["assessment_date", "instrument", "total", "total_method", "item9_text", "items"]],
            hide_index=True,
            column_config={
                "assessment_date": st.column_config.DateColumn("Date", format="DD MMM YYYY"),
                "instrument": "Questionnaire",
                "total": "Total",
                "total_method": "How the total was obtained",
                "item9_text": "PHQ-9 item 9",
                "items": "Answers (item 1 first)",
            },
        )
        st.dataframe(
            record.sessions[
                ["session_date", "course_number", "session_number", "phase", "modality", "dose_mg", "clinician_id"]
            ],
            hide_index=True,
            column_config={
                "session_date": st.column_config.DateColumn("Date", format="DD MMM YYYY"),
                "course_number": "Course",
                "session_number": "Session",
                "phase": "Induction or booster",
                "modality": "Modality",
                "dose_mg": st.column_config.NumberColumn("Dose (mg)"),
                "clinician_id": "Clinician",
            },
        )


def _caseload_section(everyone: pd.DataFrame, as_of: dt.date, instruments: tuple[str, ...]) -> None:
    st.subheader("Caseload")
    gap = state.settings().course_gap_days
    include_inactive = st.toggle(f"Include patients with no session for over {gap} days", key="patient_show_inactive")
    table = caseload_views.current_patients(everyone, include_inactive)
    summary = caseload_views.caseload_summary(table)
    st.caption(
        "Patients whose latest course matches the sidebar filters"
        + ("" if include_inactive else f" and who had a session in the last {gap} days")
        + f". Days are counted to {as_of:%d %b %Y}, the latest date in the data. Click a row to open the "
        "patient; click a column header to sort."
    )
    tiles = st.columns(4)
    with tiles[0]:
        components.count_tile("Patients", summary["patients"])
    with tiles[1]:
        components.count_tile(
            "Item 9 positive at last PHQ-9",
            summary["item9_positive"],
            caption=caseload_views.item9_unknown_caption(summary),
        )
    with tiles[2]:
        components.count_tile(
            "Booster due",
            summary["booster_due"],
            caption=f"induction done, {patient_views.BOOSTER_DUE_DAYS}+ days since the last session",
        )
    with tiles[3]:
        components.count_tile("Loss of response", summary["loss_of_response"])
    if table.empty:
        components.empty_state(
            f"No patient in this cohort had a session in the last {gap} days; turn on the switch "
            "above to list earlier patients."
        )
        return
    st.session_state["patient_caseload_ids"] = table["patient_id"].tolist()
    extras = caseload_views.grid_extra_columns(instruments)
    extra = st.multiselect(
        "More columns",
        list(extras),
        format_func=extras.get,
        key="patient_caseload_extra",
        placeholder="Add " + ", ".join(words[0].lower() + words[1:] for words in extras.values()),
    )
    scores = {
        caseload_views.score_column(code): st.column_config.NumberColumn(
            code,
            help=f"Latest scored {code} total ({INSTRUMENTS[code].total_min}–{INSTRUMENTS[code].total_max})",
            width=60,
        )
        for code in instruments
    }
    st.dataframe(
        table,
        key="patient_caseload",
        on_select=_open_selected_row,
        selection_mode="single-row",
        hide_index=True,
        # As tall as its rows (a header and ~35 px a row), up to 420 px: two patients draw no empty grid.
        height=min(420, 38 + 35 * len(table)),
        column_order=caseload_views.grid_columns(instruments, extra),
        # Pixel widths: the default columns fit the page at 1400 px beside the sidebar (they scrolled sideways
        # with thirteen columns); with extra columns the grid scrolls and the patient stays pinned on the left.
        column_config=scores
        | {
            "patient_id": st.column_config.TextColumn("Patient", width=76, pinned=True),
            "alerts": st.column_config.TextColumn(
                "Alerts",
                width=150,
                help="⚑ item 9: the last PHQ-9 had item 9 at 1 or more. Booster due: see the note below the grid.",
            ),
            "course": st.column_config.TextColumn(
                "Latest course",
                width=116,
                help=f"In induction, induction done, on boosters, stopped before the induction's last session, "
                f"or inactive (no session for over {gap} days: a next session starts a new course)",
            ),
            "phq9_outcome": st.column_config.TextColumn("PHQ-9 outcome", width=168),
            "item9": st.column_config.TextColumn(
                "Item 9",
                width=74,
                help="Item 9 (thoughts of self-harm) at the last PHQ-9, 0–3; unknown when that PHQ-9 was a total only",
            ),
            "days_since_session": st.column_config.NumberColumn(
                "Last session", help="Days since the last session", format="%d d ago", width=92
            ),
            "days_since_assessment": st.column_config.NumberColumn(
                "Last score", help="Days since the last questionnaire", format="%d d ago", width=92
            ),
            "modality": st.column_config.TextColumn("Modality", width=150),
            "sessions_in_course": st.column_config.NumberColumn(
                "Sessions", help="Sessions in the latest course", width=76
            ),
            "clinician_id": st.column_config.TextColumn("Clinician", width=86),
            "site": st.column_config.TextColumn("Site", width=110),
        },
    )
    st.caption(
        f"**Alerts.** *⚑ item 9*: the last PHQ-9 had item 9 (thoughts of self-harm) at 1 or more. *Booster due*: "
        f"the course finished induction and the last session was more than {patient_views.BOOSTER_DUE_DAYS} days ago "
        f"(and not more than {gap}, after which a new session starts a new course). **PHQ-9 outcome** is the "
        "engine's: responding or remitted at the end of induction (completers) or at the last induction score "
        "(others); *pending* while induction runs; *lost response*: after responding at the end of induction, a "
        f"later PHQ-9 was {state.settings().rules_for('PHQ-9').eligibility_min} or more and no longer met the "
        f"response rule ({state.settings().rules_for('PHQ-9').response_words()})."
    )


st.title("Patient trend")
timeline = state.timeline()
con = state.connection()
filters = state.filters()

if timeline is None or con is None or timeline.courses.empty:
    components.empty_state(NO_DATA)
else:
    table = _caseload(_store_key(), repr(filters), con, timeline, filters)
    if table.empty:
        components.empty_state(NO_MATCH)
    else:
        ids = table["patient_id"].tolist()
        _open_from_link(ids)
        if st.session_state.get("patient_id") not in ids:
            st.session_state["patient_id"] = None
        labels = dict(zip(table["patient_id"], table["flags"]))
        patient_id = st.selectbox(
            "Patient (type a pseudonym to search)",
            ids,
            key="patient_id",
            index=None,
            placeholder=f"Choose one of {len(ids)} patients, or click a row of the caseload below",
            format_func=lambda pid: f"{pid}  ({labels[pid]})" if labels.get(pid) else pid,
        )
        hidden = caseload_views.hidden_by_filters(timeline, len(ids))
        if hidden:
            st.caption(
                f"Searching {len(ids)} of {len(ids) + hidden} patients: {hidden} are hidden by the sidebar filters "
                f"({filters.describe()}). A patient you cannot find may be one of them; clear a filter to search all."
            )
        if patient_id and not _may_view(patient_id):
            components.empty_state(NOT_YOURS.format(patient_id=patient_id))
        elif patient_id:
            record = _record(_store_key(), patient_id, con, timeline)
            if record is None:
                components.empty_state(f"{patient_id} is not in the store any more; pick another patient.")
            else:
                _patient_section(record, timeline.instruments)
        _caseload_section(table, timeline.data_last_date, timeline.instruments)

components.definitions_expander(
    [
        "courses",
        "induction",
        "in_progress",
        "timepoints",
        "eligibility",
        "response",
        "remission",
        "reliable_change",
        "durability",
        "item9",
        "severity",
    ]
)
