"""Data: load exports with a checked preview first, the import history, quarantine, data quality, templates."""

import streamlit as st

from analysis.ingest.pseudonyms import PseudonymKeyError, load_key
from ui import components, guard, state
from ui.data_sections.access_log import access_log_section
from ui.data_sections.demo import remove_demo_section
from ui.data_sections.history import history_section, quarantine_section
from ui.data_sections.import_files import import_section
from ui.data_sections.quality import quality_section
from ui.data_sections.templates import templates_section

state.run_inside_frame()
person = guard.page("data")  # role check: a typed URL opens nothing the role does not

READ_ONLY = "The Data page is read-only for your role: imports and removing the demo are the administrator's."


def _announce_last_action() -> None:
    """What the last rerun did (an import, a saved mapping, the demo removed), said once."""
    message = st.session_state.pop("data_last_action", None)
    if message:
        st.success(message, icon=":material/check_circle:")
    warning = st.session_state.pop("data_key_warning", None)
    if warning:
        st.warning(warning, icon=":material/key:")


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
try:
    clinic_key = load_key(path, create=False)
    st.caption(
        f"Pseudonym key: fingerprint **{clinic_key.fingerprint}** ({clinic_key.source}); the key is never shown."
    )
except PseudonymKeyError:
    pass  # no key yet: one is made on the first import with pseudonyms
if not state.has_data():
    st.info(
        "The store is empty. Import your clinic's exports below: start from a template on the **Templates and "
        "examples** tab, or try a filled-in example.",
        icon=":material/upload_file:",
    )
if state.is_demo() and person.may("remove_demo"):
    remove_demo_section(path, person)

tab_names = ["Import files", "Import history", "Quarantine", "Data quality", "Templates and examples"]
if person.may("read_access_log"):
    tab_names.append("Access log")
import_tab, history_tab, quarantine_tab, quality_tab, templates_tab, *log_tab = st.tabs(tab_names)
with import_tab:
    if person.may("import"):
        import_section(con, path, person)
    else:
        st.info(READ_ONLY, icon=":material/visibility:")
with history_tab:
    history_section(con)
with quarantine_tab:
    quarantine_section(con, person)
with quality_tab:
    quality_section(timeline, state.filters())
with templates_tab:
    templates_section()
if log_tab:
    with log_tab[0]:
        access_log_section(person)

components.definitions_expander(["courses", "induction", "timepoints"])
