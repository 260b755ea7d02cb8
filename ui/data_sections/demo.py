"""The Data page's offer to remove the demo clinic, so a clinic starts on its own data."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis import store
from analysis.access import Person
from ui import state


def remove_demo_section(path: Path, person: Person) -> None:
    """Delete every demo row from the store file, once the administrator ticked that they mean it."""
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
