"""Induction response: how scores fall across the induction series, who responds when, and who gets to the end."""

import streamlit as st

from analysis import charts
from analysis.engine import trajectory_classes
from analysis.reporting import export as report_export
from analysis.reporting.report import instrument_summary, trajectory
from analysis.views import common as common_views
from analysis.views import induction as induction_views
from analysis.views import overview as overview_views
from ui import components, guard, state

state.run_inside_frame()
person = guard.page("induction")  # role check: a typed URL opens nothing the role does not

SPLIT_CHOICES = [None, *common_views.SPLITS]

st.title("Induction response")
timeline = state.timeline()
filters = state.filters()
st.caption(f"Cohort: {filters.describe()}")

if components.require_courses(timeline, filters):
    left, right = st.columns([3, 4])  # room for every questionnaire the clinic records
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
        components.figure(charts.trajectory_by_group, scores, instrument, split_words, timeline.settings.min_n_shown),
        key="induction_trajectory_chart",
    )
    st.caption(
        "A course counts at a point only while it is still in its induction series, so the last points "
        "come only from courses with a longer series (esketamine) — read their n. A mean from fewer than "
        f"{timeline.settings.min_n_shown} courses is drawn hollow and faded, with its n, and is not joined to "
        "the line; a gap means no course was measured there."
    )

    by_session = components.cached(induction_views.response_by_session, timeline, instrument, filters)
    st.plotly_chart(
        components.figure(
            charts.response_by_session, by_session, instrument, timeline.settings.min_n_shown, state.settings()
        ),
        key="induction_by_session_chart",
    )

    st.subheader("Response patterns")
    classes = components.cached(trajectory_classes.class_counts, timeline, instrument, filters)
    class_means = components.cached(trajectory_classes.class_trajectories, timeline, instrument, filters)
    chart, answer = st.columns([2, 1])
    with chart:
        st.plotly_chart(
            components.figure(
                charts.response_patterns, class_means, classes, instrument, trajectory_classes.SHORT_LABELS
            ),
            key="induction_patterns_chart",
        )
    with answer:
        components.rate_tile(
            "Responded later (none by session 2)",
            classes["later_response_n"],
            classes["no_response_by_t2_n"],
            classes["later_response_rate"],
            classes["later_response_ci"],
        )
        st.caption(
            f"Responding at the end of induction after no response by session 2. Of {classes['n']} completers, "
            f"{classes['no_response_by_t2_n']} had no score meeting the response "
            f"rule after one or two sessions; {classes['later_response_n']} of them were responding at the end "
            "of induction (the late responders). Early responders met it by session 2 and kept it; unsustained "
            "courses met it at some point but not at the end."
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
            "change). "
            + report_export.completers_note(summary, instrument, timeline.settings.end_of_induction_window_days)
            + f" Left out: {left_out['no_baseline']} without a baseline, "
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
            components.figure(charts.individual_trajectories, lines, instrument, mean, timeline.settings.min_n_shown),
            key="induction_individual_chart",
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
        "trajectory_classes",
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
