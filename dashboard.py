"""The frame of the app: page config, navigation, the shared cohort filters, the demo banner."""

import streamlit as st

from analysis.engine.cohort import filter_options
from analysis.vocabulary import modality_short_label
from ui import guard, state

st.set_page_config(page_title="Ketamine clinic outcomes", layout="wide")  # default icon: served locally

person = guard.frame()  # signed in with a role (or this computer, sign-in off), or one sentence and a stop
state.ensure_store()
timeline = state.timeline()

pages = {
    "Leadership": [
        st.Page("pages/overview.py", title="Overview", default=True),
        st.Page("pages/induction.py", title="Induction response"),
        st.Page("pages/boosters.py", title="Boosters and durability"),
    ],
    "Clinicians": [st.Page("pages/patient.py", title="Patient trend")],
    "Reporting": [
        st.Page("pages/quarterly.py", title="Quarterly report"),
        st.Page("pages/data.py", title="Data"),
    ],
}
navigation = st.navigation(guard.pages_for(person, pages))

with st.sidebar:
    st.header("Cohort")
    if timeline is not None and len(timeline.courses):
        options = filter_options(timeline)
        st.date_input(
            "Course start between",
            value=(options["first_start"], options["last_start"]),
            min_value=options["first_start"],
            max_value=options["last_start"],
            key=state.DATE_RANGE_KEY,
            help="Courses are counted by the date of their first session.",
        )
        st.multiselect("Site", options["sites"], key=state.FILTER_KEYS["sites"], placeholder="All sites")
        st.multiselect(
            "Clinician", options["clinicians"], key=state.FILTER_KEYS["clinicians"], placeholder="All clinicians"
        )
        st.multiselect(
            "Modality",
            options["modalities"],
            key=state.FILTER_KEYS["modalities"],
            format_func=modality_short_label,
            placeholder="All modalities",
        )
        st.multiselect(
            "Primary condition",
            options["conditions"],
            key=state.FILTER_KEYS["conditions"],
            placeholder="All conditions",
        )
        st.multiselect("Age band", options["age_bands"], key=state.FILTER_KEYS["age_bands"], placeholder="All ages")
        st.multiselect("Sex", options["sexes"], key=state.FILTER_KEYS["sexes"], placeholder="All")
    else:
        st.caption("Filters appear once the store holds sessions.")
    # The file name only: a full path wraps mid-word in the narrow sidebar (the Data page shows it whole).
    st.caption(f"Store: `{state.db_path().name}`", help=f"Full path: {state.db_path()}")

if state.is_demo():
    st.info(
        "**Demo data.** You are looking at a synthetic clinic, not real patients. "
        "Load your own exports on the **Data** page (which can also remove the demo)."
    )

guard.run(navigation)
