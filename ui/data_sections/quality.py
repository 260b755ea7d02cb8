"""The Data page's data-quality tab: questionnaires missing before sessions and courses without a baseline."""

from __future__ import annotations

import streamlit as st

from analysis.charts import patient as patient_charts
from analysis.engine.cohort import CohortFilter
from analysis.engine.timeline import Timeline
from analysis.views.data import quality as quality_views
from ui import components, state


def quality_section(timeline: Timeline | None, filters: CohortFilter) -> None:
    """For the sidebar's cohort: the headline gaps as tiles, completion by session, the lists to chase up."""
    if timeline is None or timeline.courses.empty:
        components.empty_state("Data quality appears once sessions are imported.")
        return
    if components.cached(quality_views.quality_summary, timeline, filters)["courses"] == 0:
        components.empty_state(components.NO_MATCH)
        return
    st.caption(f"For the cohort in the sidebar: {filters.describe()}.")
    summary = components.cached(quality_views.quality_summary, timeline, filters)
    baselines = components.cached(quality_views.courses_without_baseline, timeline, filters)
    # One tile per questionnaire and one for sessions (a third questionnaire stacked two tiles in one column).
    tiles = st.columns(len(baselines) + 1)
    for column, row in zip(tiles, baselines.itertuples()):
        with column:
            components.count_tile(
                f"No {row.instrument} baseline",  # four tiles a row: the longer label was cut short
                row.without_baseline,
                caption=quality_views.baseline_caption(row.instrument, row.courses, row.percent, row.never_filled_in),
            )
    with tiles[-1]:
        components.count_tile(
            "Unmeasured sessions",
            summary["sessions_without_score"],
            caption=f"no questionnaire of any kind: {summary['sessions_without_score_percent']:.0f}% of "
            f"{summary['sessions']:,} sessions",
        )
    completion = components.cached(quality_views.assessment_completion, timeline, filters)
    st.plotly_chart(patient_charts.completion_by_session(completion), key="data_completion_chart")
    st.caption(
        "A session counts as measured when a questionnaire was filled in after the previous session and no "
        "later than the session's own day (for session 1: "
        f"in the {state.settings().baseline_window_days} days before it, the baseline window). "
        "Only sessions 1 to the induction length of each course are counted here, and a questionnaire only in "
        "the courses of patients who fill it in (a score of it at any time)."
    )
    with st.expander("Courses without a baseline, to chase up"):
        st.dataframe(components.cached(quality_views.courses_missing_baseline_list, timeline, filters), hide_index=True)
    with st.expander("Sessions without any questionnaire (boosters included)"):
        st.dataframe(components.cached(quality_views.sessions_without_score, timeline, filters), hide_index=True)
