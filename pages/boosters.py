"""Boosters and durability: how often boosters come, whether scores creep back before them, how long response lasts."""

import streamlit as st

from analysis import charts
from analysis.views import boosters as boosters_views
from ui import components, guard, state

state.run_inside_frame()
person = guard.page("boosters")  # role check: a typed URL opens nothing the role does not

st.title("Boosters and durability")
timeline = state.timeline()
filters = state.filters()
st.caption(f"Cohort: {filters.describe()}")

if components.require_courses(timeline, filters):
    instrument = components.instrument_picker(timeline.instruments, key="boosters_instrument")
    summary = components.cached(boosters_views.booster_summary, timeline, filters)
    rate = components.cached(boosters_views.booster_rate, timeline, filters)
    durability = components.cached(boosters_views.durability_view, timeline, instrument, filters)

    tiles = st.columns(4)
    with tiles[0]:
        components.count_tile(
            "Boosters delivered",
            summary["boosters"],
            caption=f"to {summary['patients']:,} patients in {summary['courses']:,} courses",
        )
    with tiles[1]:
        median = summary["median_interval_days"]
        components.count_tile(
            "Median days between sessions",
            "—" if median is None else f"{median:.0f} days",
            caption=None
            if median is None
            else f"half of the {summary['boosters']:,} boosters came {summary['interval_q1_days']:.0f}–"
            f"{summary['interval_q3_days']:.0f} days after the previous session",
        )
    with tiles[2]:
        went_on = summary["with_booster"]
        components.rate_tile(
            "Completers with a booster",
            went_on["successes"],
            went_on["n"],
            went_on["rate"],
            went_on["ci"],
            help="Courses that finished induction and had at least one booster.",
        )
    with tiles[3]:
        low, high = rate["ci"]
        components.count_tile(
            "Boosters per patient-month",
            "—" if rate["rate"] is None else f"{rate['rate']:.2f}",
            help="Boosters divided by the months completed courses were open for boosters.",
            caption=None
            if rate["rate"] is None
            else f"{rate['boosters']:,} boosters over {rate['months']:,.0f} months · 95% CI {low:.2f}–{high:.2f}",
        )

    if summary["boosters"] == 0:
        components.empty_state("No boosters in this cohort yet: boosters are sessions after the induction series.")
    else:
        boosters = components.cached(boosters_views.booster_intervals, timeline, filters)
        st.plotly_chart(
            components.figure(charts.booster_interval_histogram, boosters, summary["median_interval_days"]),
            key="boosters_interval_chart",
        )
        points = components.cached(boosters_views.pre_booster_scores, timeline, instrument, filters)
        bins = components.cached(boosters_views.wear_off_by_interval, timeline, instrument, filters)
        st.plotly_chart(
            components.figure(charts.wear_off, points, bins, instrument, timeline.settings.min_n_shown),
            key="boosters_wear_off_chart",
        )

    st.subheader("Durability of response")
    if durability["responders"] == 0:
        components.empty_state(
            f"No completers responded on the {instrument} in this cohort, so there is no response to follow yet."
        )
    else:
        median, (low, high) = durability["median_days"], durability["median_ci"]
        if median is None:
            st.markdown(
                f"More than half of the {durability['responders']} responders were still responding at their "
                "last questionnaire, so the median time to loss of response is not reached yet."
            )
        else:
            interval = (
                f"95% CI {low:.0f}–{high:.0f} days"
                if low is not None and high is not None
                else "upper 95% limit not reached yet"
            )
            st.markdown(
                f"Half of the {durability['responders']} responders lost their response by "
                f"**{median:.0f} days** after the last induction session ({interval})."
            )
        st.plotly_chart(
            components.figure(charts.durability_curve, durability, instrument), key="boosters_durability_chart"
        )

    if summary["boosters"]:
        st.subheader("Booster cadence")
        top = st.slider("Patients shown", 5, 40, 15, step=5, key="boosters_top")
        strip = components.cached(boosters_views.booster_cadence, timeline, filters, top=top)
        st.plotly_chart(components.figure(charts.booster_cadence, strip), key="boosters_cadence_chart")

components.definitions_expander(
    ["boosters", "booster_rate", "pre_booster", "durability", "induction", "completers", "response", "intervals"]
)
