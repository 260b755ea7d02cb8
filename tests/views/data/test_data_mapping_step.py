"""What the Data page's mapping step offers: suggestions by name and by values, the mapping it builds,
the preview of the first rows as they would load, and saving by name."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from paths import REPO

from analysis.ingest.mapping import MappingError, load_mapping, parse_mapping, to_toml
from analysis.ingest.pseudonyms import ClinicKey
from analysis.ingest.readers import RawTable, read_table_bytes
from analysis.views.data import mapping_step as mapping_views

EXAMPLES = REPO / "data" / "examples"


def table(text: str, label: str = "export.csv") -> RawTable:
    return read_table_bytes(label, text.encode())[0]


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        ("Client ID", ["C-1"], "patient_id"),  # a known alias
        ("Sesion Date", ["2026-01-05"], "session_date"),  # a close spelling
        ("Tx", ["Spravato 84mg", "Ketamine IM 0.5 mg/kg", "IV infusion"], "modality"),  # by its values
        ("Form", ["PHQ9", "GAD-7"], "instrument"),
        ("Gender identity", ["female", "male"], "sex"),  # by its values, as 'gender_identity' is no alias
        ("When", ["03/14/2026", "03/20/2026"], "session_date"),  # dates
        ("Chart Number", ["004521"], "patient_id"),  # a record number, usable through pseudonyms
        ("Patient Name", ["Jane Roe"], None),  # identifying: never suggested
        ("Room", ["4", "5"], None),
    ],
)
def test_a_header_is_suggested_its_canonical_column_by_name_or_by_values(header, cells, expected):
    assert mapping_views.suggest_column(header, pd.Series(cells)) == expected


def test_each_canonical_column_is_suggested_once_and_an_mrn_yields_to_a_client_id():
    export = table("MRN,Client ID,Date of Service,Service\n004521,C-1,03/14/2026,Spravato 84mg\n")
    assert mapping_views.suggest_columns(export) == {
        "MRN": None,
        "Client ID": "patient_id",
        "Date of Service": "session_date",
        "Service": "modality",
    }


def test_layout_a_and_b_need_no_mapping_and_an_ehr_export_does():
    assert not mapping_views.needs_mapping(table("patient_id,session_date,modality\nK-1,2026-01-05,IV\n"))
    assert not mapping_views.needs_mapping(table("Client ID,Date,PHQ9 Score\nC-1,06/20/2025,14\n"))
    # Identifying columns alone are the identifier guard's business (drop them), not a mapping's.
    assert not mapping_views.needs_mapping(
        table("patient_id,dob,session_date,modality\nK-1,1970-01-01,2026-01-05,IV\n")
    )
    visits = read_table_bytes("ehr_visits.csv", (EXAMPLES / "ehr_visits.csv").read_bytes())[0]
    assert mapping_views.needs_mapping(visits)


def test_value_pickers_start_from_what_the_importer_reads_now():
    cells = pd.Series(["Spravato 84mg", "Ket Inf 40min", "Spravato 84mg", ""])
    assert mapping_views.value_choices("modality", cells) == {
        "Ket Inf 40min": None,
        "Spravato 84mg": "esketamine_nasal",
    }


def test_the_page_builds_the_same_mapping_a_hand_written_file_gives():
    built = mapping_views.build_mapping(
        "clinic",
        "sessions",
        {"Client ID": "patient_id", "Date of Service": "session_date", "Service": "modality", "Notes": None},
        {"modality": {"Ket Inf 40min": "ketamine_iv"}},
        date_format="%m/%d/%Y",
    )
    hand_written = parse_mapping(
        """
        name = "clinic"
        [[table]]
        kind = "sessions"
        date_format = "%m/%d/%Y"
        drop = ["Notes"]
        [table.columns]
        "Client ID" = "patient_id"
        "Date of Service" = "session_date"
        "Service" = "modality"
        [table.values.modality]
        "Ket Inf 40min" = "ketamine_iv"
        """
    )
    assert built == hand_written


def test_the_preview_shows_the_first_rows_as_they_would_load_and_hides_an_mrn():
    export = table("MRN,Date of Service,Service\n004521,03/04/2026,Ket Inf 40min\n004521,03/06/2026,Spravato 84mg\n")
    mapping = mapping_views.build_mapping(
        "m", "sessions", {"MRN": "patient_id", "Date of Service": "session_date", "Service": "modality"}
    )
    frame, problems = mapping_views.mapped_preview(mapping, export, today=dt.date(2026, 7, 1), date_order="day")
    # Day first by the setting (no value tells): 03/06/2026 is 3 June.
    assert frame[["row", "patient_id", "date", "recorded"]].values.tolist() == [
        [3, mapping_views.HIDDEN_ID, dt.date(2026, 6, 3), "esketamine_nasal"]
    ]
    assert [p for p in problems if "'Ket Inf 40min' is not a known modality" in p]
    key = ClinicKey(bytes.fromhex("44" * 32), "test")
    frame, _ = mapping_views.mapped_preview(mapping, export, today=dt.date(2026, 7, 1), pseudonym_key=key)
    assert frame["patient_id"].tolist() == [key.pseudonym("004521")]


def test_a_saved_mapping_is_listed_and_reads_back_unchanged(tmp_path):
    mapping = mapping_views.build_mapping(
        "clinic_ehr", "sessions", {"A": "patient_id", "B": "session_date", "C": "modality"}
    )
    path = mapping_views.save_mapping(mapping, tmp_path)
    assert path == tmp_path / "clinic_ehr.toml"
    assert load_mapping(path) == mapping
    (tmp_path / "broken.toml").write_text("[[table]\n")
    listed = mapping_views.saved_mappings(tmp_path)
    assert listed["name"].tolist() == ["broken", "clinic_ehr"]
    assert listed["reads"].tolist()[1] == "sessions table"
    assert listed["reads"].tolist()[0].startswith("cannot be used: The mapping broken is not valid TOML")
    assert to_toml(load_mapping(path)) == path.read_text()


def test_a_name_that_is_not_a_file_name_is_refused_in_one_sentence(tmp_path):
    mapping = mapping_views.build_mapping(
        "../../etc/x", "sessions", {"A": "patient_id", "B": "session_date", "C": "modality"}
    )
    with pytest.raises(MappingError, match="cannot be a mapping's name"):
        mapping_views.save_mapping(mapping, tmp_path)
    assert not list(tmp_path.iterdir())
