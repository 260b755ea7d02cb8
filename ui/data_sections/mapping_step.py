"""The Data page's mapping step: an upload not in layout A or B is mapped once, previewed, and saved by name."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from analysis.access import Person
from analysis.ingest.headers import KIND_NAMES
from analysis.ingest.mapping import CANONICAL_COLUMNS, VALUE_COLUMNS, Mapping, MappingError, load_mapping, to_toml
from analysis.ingest.pseudonyms import ClinicKey
from analysis.ingest.readers import RawTable
from analysis.views.data import mapping_step as mapping_views
from ui import state


def _mapping_choices(table: RawTable, table_key: str) -> Mapping | None:
    """The pickers for one file: the canonical column of each header, what it holds, its values, its dates."""
    choices: dict[str, str | None] = {}
    options = [mapping_views.LEAVE_OUT, *CANONICAL_COLUMNS]
    st.markdown(f"**{table.label}**: the column each export header holds")
    grid = st.columns(3)
    suggestions = mapping_views.suggest_columns(table)
    for number, header in enumerate(table.frame.columns):
        suggested = suggestions[header]
        with grid[number % 3]:
            picked = st.selectbox(
                str(header),
                options,
                index=options.index(suggested) if suggested else 0,
                key=f"data_map_{table_key}_{number}",
                help=f"Values such as: {mapping_views.sample_values(header, table.frame[header])}",
            )
        choices[header] = None if picked == mapping_views.LEAVE_OUT else picked
    kinds = list(KIND_NAMES)
    suggested_kind = mapping_views.suggest_kind(list(choices.values()))
    left, right = st.columns(2)
    with left:
        kind = st.selectbox(
            "This file holds",
            kinds,
            index=kinds.index(suggested_kind),
            format_func=KIND_NAMES.get,
            key=f"data_map_{table_key}_kind",
        )
    with right:
        formats = list(mapping_views.DATE_FORMATS)
        date_words = st.selectbox("Dates are written", formats, key=f"data_map_{table_key}_dates")
    values: dict[str, dict[str, str]] = {}
    by_column = {column: header for header, column in choices.items() if column}
    for column, allowed in VALUE_COLUMNS.items():
        header = by_column.get(column)
        if header is None:
            continue
        read_as = mapping_views.value_choices(column, table.frame[header])
        with st.expander(f"Values of {header} (read as {column})", expanded=any(v is None for v in read_as.values())):
            for number, (value, known) in enumerate(read_as.items()):
                picks = [mapping_views.AS_WRITTEN, *allowed]
                picked = st.selectbox(
                    value,
                    picks,
                    index=picks.index(known) if known else 0,
                    key=f"data_map_{table_key}_{column}_{number}",
                )
                if picked != mapping_views.AS_WRITTEN and picked != known:
                    values.setdefault(column, {})[value] = picked
    try:
        return mapping_views.build_mapping(
            "page", kind, choices, values, date_format=mapping_views.DATE_FORMATS[date_words]
        )
    except MappingError as error:
        st.warning(str(error).replace("In page table 1, ", ""), icon=":material/rule:")
        return None


def mapping_step(tables: Sequence[RawTable], key: ClinicKey | None, person: Person) -> Mapping | None:
    """An upload not in layout A or B: pick a saved mapping, or make one, preview it, save it by name."""
    st.markdown("**Column mapping**")
    names = ", ".join(t.label for t in tables)
    st.info(
        f"{names} is not in layout A or B. Map its columns once: the mapping is saved by name and reused "
        "for every later export of the same system.",
        icon=":material/alt_route:",
    )
    saved = mapping_views.saved_mappings()
    pending = st.session_state.pop("data_mapping_saved", None)
    if pending:
        st.session_state["data_mapping_choice"] = pending
    new = "Make a new mapping"
    choice = st.selectbox("Mapping", [new, *saved["name"]], key="data_mapping_choice")
    if choice != new:
        row = saved.loc[saved["name"] == choice].iloc[0]
        try:
            mapping = load_mapping(row["path"])
        except MappingError as error:
            st.error(str(error))
            return None
        st.caption(f"Reads: {row['reads']}. Saved in `{row['path']}`.")
        st.download_button(
            f"Download {choice}.toml",
            to_toml(mapping),
            file_name=f"{choice}.toml",
            mime="application/toml",
            key="data_mapping_download",
            icon=":material/download:",
        )
        return mapping
    parts = []
    for table in tables:
        table_key = hashlib.sha256(f"{table.label}|{list(table.frame.columns)}".encode()).hexdigest()[:10]
        with st.container(border=True):
            part = _mapping_choices(table, table_key)
        if part is None:
            return None
        parts.append(part)
        preview, problems = mapping_views.mapped_preview(
            part, table, date_order=state.settings().date_order, pseudonym_key=key
        )
        st.markdown(f"**The first rows of {table.label} as they would load**")
        if len(preview):
            st.dataframe(preview, hide_index=True, key=f"data_map_preview_{table_key}")
        for sentence in problems[:5]:
            st.warning(sentence, icon=":material/rule:")
    stem = Path(tables[0].label.split(" [")[0]).stem
    name = st.text_input("Save this mapping as", value=f"{stem}_mapping", key="data_mapping_name")
    mapping = mapping_views.combined_mapping(name or "page", parts)
    if st.button("Save mapping", key="data_mapping_save", icon=":material/save:"):
        try:
            saved_at = mapping_views.save_mapping(mapping)
        except MappingError as error:
            st.error(str(error))
            return mapping
        st.session_state["data_mapping_saved"] = mapping.name
        state.log_access(person, "changed mapping", mapping.name, detail=str(saved_at))
        st.session_state["data_last_action"] = (
            f"Mapping {mapping.name} saved to {saved_at}; it is offered for every later upload."
        )
        st.rerun()
    return mapping
