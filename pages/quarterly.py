"""Quarterly report: the docs/DEFINITIONS.md report for one quarter beside the four before it, and its downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from analysis import charts, wording
from analysis.engine import long_term as long_term_measures
from analysis.reporting import export as report_export
from analysis.reporting import report
from analysis.reporting.summary import written_summary
from analysis.views import quarterly as quarterly_views
from ui import components, guard, state

if TYPE_CHECKING:
    from analysis.engine.cohort import CohortFilter
    from analysis.engine.timeline import Timeline
    from analysis.reporting.shapes import Report

state.run_inside_frame()
person = guard.page("quarterly")  # role check: a typed URL opens nothing the role does not

NO_DATA = (
    "No courses yet, so there is no quarterly report. Import your clinic's exports on the **Data** page "
    "and the report for each quarter appears here."
)
# The downloads, the board's format first: (format, button label, what the file is for, MIME type).
# Labels are short so that four buttons fit one row at 1400 px; the tooltip says what each file is.
FORMATS = (
    ("pdf", "PDF report", "For a board or a payer: the summary, tables and charts, ready to print.", "application/pdf"),
    (
        "xlsx",
        "Excel workbook",
        "One sheet per part of the report, ready to send as it is.",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("html", "Web page", "A self-contained page (HTML) with interactive charts; prints like the PDF.", "text/html"),
    ("csv", "CSV data", "One row per figure, for your own analysis.", "text/csv"),
)


def _full_report(timeline: Timeline, quarter: str, filters: CohortFilter) -> Report:
    """The report with every count shown, cached per store version, quarter and cohort."""
    return components.cached(report.quarterly_report, timeline, quarter, filters, False)


def _shown_report(timeline: Timeline, quarter: str, filters: CohortFilter, suppress: bool) -> Report:
    return quarterly_views.as_shown(_full_report(timeline, quarter, filters), timeline.settings, suppress)


def _download(
    timeline: Timeline, quarter: str, fmt: str, suppress: bool, filters: CohortFilter
) -> Callable[[], str | bytes]:
    """The same function the CLI calls; run only when the button is clicked."""
    return lambda: report_export.render(timeline, quarter, fmt, suppress=suppress, filters=filters)


st.title("Quarterly report")
timeline = state.timeline()
filters = state.filters()

if timeline is None or timeline.courses.empty:
    components.empty_state(NO_DATA)
else:
    kind_column, picked, switch = st.columns([2, 2, 3], vertical_alignment="bottom")
    with kind_column:
        kind = (
            st.segmented_control(
                "Period",
                list(quarterly_views.PERIOD_KINDS),
                format_func=quarterly_views.PERIOD_KINDS.get,
                default="quarter",
                key="quarterly_period_kind",
                help=quarterly_views.WAY_OUT,
            )
            or "quarter"
        )
    options = quarterly_views.quarter_options(timeline, kind)
    if st.session_state.get("quarterly_quarter") not in options:
        st.session_state["quarterly_quarter"] = quarterly_views.default_quarter(options, timeline.data_last_date)
    with picked:
        quarter = st.selectbox(
            f"{quarterly_views.PERIOD_KINDS[kind]} the courses started in",
            options,
            key="quarterly_quarter",
            format_func=lambda q: quarterly_views.quarter_label(q, timeline.data_last_date),
        )
    with switch:
        internal = st.toggle(
            "Internal use: show small counts (turns suppression off)",
            key="quarterly_internal",
            help=f"Off (the default): counts of {wording.small_counts(state.settings())} show as "
            f"{wording.suppressed_label(state.settings())} and rates or means built on them are withheld, as in "
            "every exported report.",
        )
    suppress = not internal
    if internal:
        st.warning(
            f"**{wording.internal_use_note(state.settings())}** The downloads say so too.", icon=":material/warning:"
        )
    else:
        st.caption(
            f"Small-cell suppression is on: {wording.suppression_note(state.settings())} {quarterly_views.WAY_OUT}"
        )
    st.caption(
        f"Cohort: {filters.describe()} · data up to {timeline.data_last_date:%d %b %Y}. Courses count in the "
        "period of their first session; boosters in the period they were given."
    )

    st.markdown("**Download this report**")
    buttons = st.columns(len(FORMATS))
    for column, (fmt, words, purpose, mime) in zip(buttons, FORMATS):
        with column:
            st.download_button(
                words,
                data=_download(timeline, quarter, fmt, suppress, filters),
                file_name=quarterly_views.download_name(quarter, suppress, fmt),
                mime=mime,
                key=f"quarterly_download_{fmt}",
                on_click=state.log_access,
                args=(
                    person,
                    "downloaded report",
                    quarterly_views.download_name(quarter, suppress, fmt),
                    "with suppression" if suppress else "without suppression (internal use)",
                ),
                icon=":material/download:",
                help=f"{purpose} The same numbers as `python -m analysis report` for this period, cohort and "
                "suppression setting.",
                width="stretch",
            )

    shown = _shown_report(timeline, quarter, filters, suppress)
    if shown["courses_started"] == 0:
        components.empty_state(
            f"No course started in {quarterly_views.quarter_label(quarter)} for this cohort. "
            "Pick another period or clear a sidebar filter."
        )
    else:
        if not quarterly_views.is_complete(quarter, timeline.data_last_date):
            st.info(
                "This period is not over yet in the data: many of its courses are still in induction, so its "
                "rates will change.",
                icon=":material/hourglass_top:",
            )
        history = (
            []
            if quarter == quarterly_views.ALL
            else [
                _shown_report(timeline, earlier, filters, suppress) for earlier in report.previous_quarters(quarter, 4)
            ]
        )
        st.subheader("Summary")
        with st.container(border=True):
            st.markdown("\n\n".join(written_summary(shown, history)))
            st.caption("Written from this report's own numbers; the PDF and the HTML open with the same sentences.")

        st.subheader("Courses")
        tiles = st.columns(4)
        course_rows = quarterly_views.course_table(shown)
        for index, row in enumerate(course_rows.itertuples()):
            with tiles[index % 4]:
                components.count_tile(row.Measure, row.Value)

        for code, summary in shown["instruments"].items():
            st.subheader(f"{code}: response and remission")
            tiles = st.columns(4)
            for column, (group, measure) in zip(
                tiles,
                (("itt", "response"), ("itt", "remission"), ("completers", "response"), ("completers", "remission")),
            ):
                numbers = summary[group]
                with column:
                    components.rate_tile(
                        f"{measure.capitalize()} ({report_export.GROUP_NAMES[group].lower()})",
                        numbers[f"{measure}_n"],
                        numbers["n"],
                        numbers[f"{measure}_rate"],
                        numbers[f"{measure}_ci"],
                        digits=1,  # as the summary, the tables and the PDF give it
                    )
            note = report_export.completers_note(summary, code, timeline.settings.end_of_induction_window_days)
            if note:
                st.caption(note)
        st.markdown("**Response and remission, every group**")
        st.dataframe(quarterly_views.outcome_table(shown), hide_index=True)
        st.markdown("**Baseline, who was left out, and mean scores (intention to treat)**")
        st.dataframe(quarterly_views.score_table(shown), hide_index=True)

        st.subheader("Response patterns among completers")
        st.dataframe(quarterly_views.pattern_table(shown), hide_index=True)
        st.caption(quarterly_views.pattern_note(shown))

        st.subheader("6- and 12-month outcomes (PHQ-9, CMS159-style)")
        st.caption(
            "Patients whose first PHQ-9 of 10 or more (their index) falls in this period; a window that has "
            "not closed yet in the data is counted as *not yet*. CMS159-style, not the certified measure."
        )
        st.dataframe(quarterly_views.long_term_table(shown["long_term"]), hide_index=True)
        with st.expander("By quarter of the index PHQ-9"):
            blocks = components.cached(long_term_measures.long_term_by_quarter, timeline, filters)
            st.dataframe(quarterly_views.long_term_quarters_table(blocks, timeline.settings, suppress), hide_index=True)

        st.subheader("Scores across the induction series")
        codes = list(shown["instruments"])
        for first in range(0, len(codes), 2):  # two a row: a third questionnaire (PCL-5) starts the next row
            for column, code in zip(st.columns(2), codes[first : first + 2]):
                with column:
                    st.plotly_chart(charts.report_trajectory(shown, code), key=f"quarterly_trajectory_{code}")

        words = quarterly_views.period_words(quarter)
        st.subheader(f"Beside the four {words}s before")
        if quarter == quarterly_views.ALL:
            st.caption("Pick a single period to compare it with the four before it.")
        else:
            st.dataframe(quarterly_views.history_table(history + [shown]), hide_index=True)
            for code in shown["instruments"]:
                st.plotly_chart(
                    charts.report_rates_by_quarter(history + [shown], code), key=f"quarterly_history_chart_{code}"
                )
            st.caption(
                f"A {words} whose rate is withheld for small numbers, or that has no courses, has no point on "
                "the chart and no line is drawn across it; the table above says which. A rate from fewer than "
                f"{timeline.settings.min_n_shown} courses is a hollow, faded point with its n."
            )

components.definitions_expander(
    [
        "courses",
        "induction",
        "in_progress",
        "timepoints",
        "eligibility",
        "itt",
        "completers",
        "response",
        "remission",
        "reliable_change",
        "intervals",
        "trajectory",
        "boosters",
        "item9",
        "trajectory_classes",
        "long_term",
    ]
)
