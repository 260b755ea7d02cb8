"""Overview: how many people the clinic treats, how courses turn out, the trend by quarter, and published yardsticks."""

import streamlit as st

from analysis import charts
from analysis.engine import long_term as long_term_measures
from analysis.reporting.report import instrument_summary
from analysis.views import overview as overview_views
from ui import components, guard, state

state.run_inside_frame()
person = guard.page("overview")  # role check: a typed URL opens nothing the role does not

st.title("Overview")
timeline = state.timeline()
filters = state.filters()
st.caption(
    f"Cohort: {filters.describe()}"
    + (f" · data up to {str(timeline.data_last_date)[:10]}" if timeline is not None and timeline.data_last_date else "")
)

if components.require_courses(timeline, filters):
    active = components.cached(overview_views.active_patients, timeline, filters)
    started = components.cached(overview_views.courses_started, timeline, filters)
    completion = components.cached(overview_views.induction_completion, timeline, filters)

    st.subheader("Activity")
    tiles = st.columns(4)
    with tiles[0]:
        components.count_tile(
            "Active patients",
            active["n"],
            help=f"At least one session from {active['window_start']} to {active['window_end']}.",
            caption=f"a session in the last {active['window_days']} days of the data",
        )
    with tiles[1]:
        components.count_tile("Courses started", started["courses"], caption=f"by {started['patients']:,} patients")
    with tiles[2]:
        components.rate_tile(
            "Induction completed",
            completion["successes"],
            completion["n"],
            completion["rate"],
            completion["ci"],
            help="Share of finished courses that reached the full induction series.",
        )
    with tiles[3]:
        components.count_tile(
            "Courses in progress", started["in_progress"], caption="still in induction; not yet in the rates"
        )

    for instrument in timeline.instruments:
        summary = components.cached(instrument_summary, timeline, instrument, filters)
        itt = summary["itt"]
        st.subheader(f"{instrument} outcomes (intention to treat)")
        tiles = st.columns(4)
        with tiles[0]:
            components.rate_tile(
                "Response",
                itt["response_n"],
                itt["n"],
                itt["response_rate"],
                itt["response_ci"],
                help=f"Response: {state.settings().rules_for(instrument).response_words()}.",
            )
        with tiles[1]:
            components.rate_tile(
                "Remission",
                itt["remission_n"],
                itt["n"],
                itt["remission_rate"],
                itt["remission_ci"],
                help=f"Remission: {state.settings().rules_for(instrument).remission_words()}.",
            )
        with tiles[2]:
            components.rate_tile(
                "Reliable improvement",
                summary["reliable_improvement_n"],
                itt["n"],
                summary["reliable_improvement_rate"],
                summary["reliable_improvement_ci"],
                help="Score fell by at least the reliable-change points.",
            )
        with tiles[3]:
            components.mean_tile(
                "Mean change",
                summary["mean_change"],
                itt["n"],
                summary["mean_change_ci"],
                signed=True,
                help="Endpoint minus baseline; negative is better.",
            )
        left_out = summary["left_out"]
        st.caption(
            f"{itt['n']} eligible courses counted. Left out: {left_out['no_baseline']} without a baseline "
            f"{instrument}, {left_out['baseline_below_threshold']} with a baseline below "
            f"{timeline.settings.rules_for(instrument).eligibility_min}, {left_out['in_progress']} still in progress."
        )

    st.subheader("6- and 12-month outcomes (PHQ-9, CMS159-style)")
    long_term = components.cached(long_term_measures.long_term, timeline, None, filters)
    tiles = st.columns(4)
    with tiles[0]:
        components.count_tile(
            "Patients with an index PHQ-9",
            long_term["index_n"],
            help="Each patient's first PHQ-9 of 10 or more starts their 6- and 12-month windows.",
        )
    for column, key in zip(tiles[1:], long_term_measures.MEASURE_WORDS):
        numbers = long_term[key]
        with column:
            components.rate_tile(
                long_term_measures.MEASURE_WORDS[key],
                numbers[long_term_measures.met_key(numbers)],
                numbers["n"],
                numbers["rate"],
                numbers["ci"],
                help="Latest PHQ-9 in the window; no PHQ-9 there counts as not met. "
                f"{numbers['not_yet']} patients' windows have not closed yet in the data.",
            )
    st.caption(
        "CMS159-style, not the certified eCQM: the quality programmes' yardstick for depression care. "
        "Patients whose window has not closed yet are counted apart as 'not yet'."
    )

    st.subheader("Safety: PHQ-9 item 9 (thoughts of self-harm)")
    item9 = components.cached(overview_views.item9_at_baseline, timeline, filters)
    resolved = components.cached(overview_views.item9_resolution, timeline, filters)
    tiles = st.columns(4)
    with tiles[0]:
        components.rate_tile(
            "Item 9 positive at baseline",
            item9["successes"],
            item9["n"],
            item9["rate"],
            item9["ci"],
            help="Baseline PHQ-9 item 9 answered 1 or more.",
        )
    with tiles[1]:
        components.rate_tile(
            "Item 9 back to 0 at endpoint",
            resolved["successes"],
            resolved["n"],
            resolved["rate"],
            resolved["ci"],
            help="Among finished courses positive at baseline.",
        )
    with tiles[2]:
        notes = [
            f"Rates over courses whose baseline PHQ-9 item 9 is known ({item9['unknown']} total-only "
            "baselines leave it unknown)."
        ]
        if resolved["no_follow_up"]:
            notes.append(f"{resolved['no_follow_up']} positive courses had no PHQ-9 after a session: not resolved.")
        if resolved["unknown"]:
            notes.append(f"{resolved['unknown']} had an endpoint with item 9 unknown: not resolved.")
        st.caption(" ".join(notes))

    st.subheader("By the quarter the course started")
    view = st.segmented_control(
        "Show",
        list(overview_views.TREND_VIEWS),
        default=list(overview_views.TREND_VIEWS)[0],
        key="overview_trend",
        label_visibility="collapsed",
    )
    view = view or list(overview_views.TREND_VIEWS)[0]
    trend = components.cached(overview_views.quarterly_trend, timeline, filters)
    st.plotly_chart(
        components.figure(
            charts.rates_by_start_quarter,
            trend,
            overview_views.TREND_VIEWS[view],
            f"{view} by start quarter",
            timeline.settings.min_n_shown,
        ),
        key="overview_trend_chart",
    )
    st.caption("The latest quarter holds courses that are still in induction: its rates settle as they finish.")
    with st.expander("Every rate by start quarter, as a table"):
        st.dataframe(overview_views.quarterly_table(trend), hide_index=True)

    st.subheader("Beside published real-world results")
    comparison = components.cached(overview_views.literature_comparison, timeline, filters)
    st.plotly_chart(components.figure(charts.literature_comparison, comparison), key="overview_literature_chart")
    medians = components.cached(overview_views.median_scores, timeline, "PHQ-9", filters)
    if medians["n"]:
        st.markdown(
            f"**Median PHQ-9, this clinic (ITT, n={medians['n']}):** {medians['median_baseline']:.0f} at "
            f"baseline → {medians['median_endpoint']:.0f} at the endpoint. **Ahuja (Brendle) 2022, IM "
            f"ketamine (n=452):** 16 → 10 at the last treatment."
        )
    st.caption(
        "Published rates count their patients differently from this clinic (most count only those who "
        "finished treatment and were measured, closer to the completers row): read them as a yardstick. "
        "To compare like with like, pick a modality in the sidebar (e.g. Ketamine IV beside McInnes and "
        "Oliver)."
    )
    published = overview_views.published_results()
    for study in published.itertuples():
        st.markdown(
            f"- **{study.study}** ({study.modality}, n={study.n:,}; {study.basis}). {study.citation} "
            f"[doi:{study.doi}](https://doi.org/{study.doi})"
        )

components.definitions_expander(
    [
        "active_patients",
        "courses",
        "induction",
        "in_progress",
        "eligibility",
        "itt",
        "response",
        "remission",
        "reliable_change",
        "item9",
        "intervals",
        "literature",
    ]
)
