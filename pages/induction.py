"""Induction response: how scores fall across the induction series, who responds when, and who gets to the end."""

import streamlit as st

from analysis import charts
from analysis.reporting.report import instrument_summary, trajectory
from analysis.views import common as common_views
from analysis.views import induction as induction_views
from analysis.views import overview as overview_views
from ui import components, state

state.run_inside_frame()

SPLIT_CHOICES = [None, *common_views.SPLITS]

st.title("Induction response")
timeline = state.timeline()
filters = state.filters()
st.caption(f"Cohort: {filters.describe()}")

if components.require_courses(timeline, filters):
    left, right = st.columns([1, 2])
    with left:
        instrument = components.instrument_picker(timeline.instruments, key="induction_instrument")
    with right:
        split = st.selectbox(
            "Split the mean score by",
            SPLIT_CHOICES,
            key="induction_split",
            format_func=lambda s: "No split (all courses together)" if s is None else common_views.SPLITS[s][2],
        )
    split_words = common_views.SPLITS[split][2] if split else None

    scores = components.cached(induction_views.trajectory_by_group, timeline, instrument, filters, split)
    st.plotly_chart(
        components.figure(charts.trajectory_by_group, scores, instrument, split_words), key="induction_trajectory_chart"
    )
    st.caption(
        "A course counts at a point only while it is still in its induction series, so the last points "
        "come only from courses with a longer series (esketamine) — read their n."
    )

    by_session = components.cached(induction_views.response_by_session, timeline, instrument, filters)
    st.plotly_chart(
        components.figure(charts.response_by_session, by_session, instrument, state.settings()),
        key="induction_by_session_chart",
    )

    summary = components.cached(instrument_summary, timeline, instrument, filters)
    mix = components.cached(induction_views.severity_mix, timeline, instrument, filters)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(components.figure(charts.itt_vs_completers, summary, instrument), key="induction_itt_chart")
        left_out = summary["left_out"]
        st.caption(
            f"Intention to treat counts {summary['itt']['n']} eligible courses, "
            f"{summary['baseline_carried_forward_n']} of them with no score after baseline (counted as no "
            f"change); completers are the {summary['completers']['n']} that finished induction with an "
            f"end-of-induction score. Left out: {left_out['no_baseline']} without a baseline, "
            f"{left_out['baseline_below_threshold']} with a baseline below "
            f"{timeline.settings.rules_for(instrument).eligibility_min}, {left_out['in_progress']} in progress."
        )
    with right:
        st.plotly_chart(components.figure(charts.severity_mix, mix, instrument), key="induction_severity_chart")

    reached = components.cached(induction_views.sessions_reached, timeline, filters)
    st.plotly_chart(components.figure(charts.sessions_reached, reached), key="induction_reached_chart")

    st.subheader("Individual courses")
    n_courses = components.cached(overview_views.courses_started, timeline, filters)["courses"]
    if n_courses <= induction_views.SPAGHETTI_MAX_COURSES:
        lines = components.cached(induction_views.individual_trajectories, timeline, instrument, filters)
        mean = components.cached(trajectory, timeline, instrument, filters)
        st.plotly_chart(
            components.figure(charts.individual_trajectories, lines, instrument, mean), key="induction_individual_chart"
        )
    else:
        components.empty_state(
            f"Individual lines appear when the filters narrow the cohort to "
            f"{induction_views.SPAGHETTI_MAX_COURSES} courses or fewer (now {n_courses})."
        )

components.definitions_expander(
    [
        "timepoints",
        "trajectory",
        "eligibility",
        "session_rates",
        "itt",
        "completers",
        "response",
        "remission",
        "severity",
        "induction",
        "in_progress",
        "intervals",
    ]
)
