"""The Data page's mapping step and pseudonyms, driven as a clinic administrator would, with AppTest.

Each test starts from an empty store in tmp_path and a mappings folder of its own ($OUTCOMES_MAPPINGS),
so nothing is written into the repository.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from paths import EXTERNAL, REPO
from streamlit.testing.v1 import AppTest

from analysis import store
from analysis.ingest.mapping import load_mapping
from analysis.ingest.pseudonyms import key_path_for, load_key

VISITS = (
    b"Client ID,MRN,Date of Service,Service,Provider,Notes\n"
    b"C-2201,00784512,03/14/2026,Spravato 84mg,PRV-2,first dose\n"
    b"C-2201,00784512,03/17/2026,Spravato 84mg,PRV-2,\n"
    b"C-2202,00784519,03/16/2026,Ket Inf 40min,PRV-1,\n"
)
REDCAP = EXTERNAL / "redcap" / "redcapr-test-data"
MRN_ONLY = (
    b"MRN,Date of Service,Service\n00784512,03/14/2026,Spravato 84mg\n00784519,03/16/2026,Ketamine IM 0.5 mg/kg\n"
)


@pytest.fixture
def mappings(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    monkeypatch.setenv("OUTCOMES_MAPPINGS", str(folder))
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    return folder


def _upload(monkeypatch, db: Path, name: str, data: bytes) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="data_upload").set_value([(name, data, "text/csv")]).run()
    assert not app.exception, app.exception
    return app


def _picker(app: AppTest, label: str):
    found = [box for box in app.selectbox if box.label == label]
    assert len(found) == 1, [box.label for box in app.selectbox]
    return found[0]


def _ready(app: AppTest) -> str:
    return " ".join(m.value for m in app.success if m.value.startswith("Ready"))


def test_an_export_in_another_shape_opens_the_mapping_step_with_suggestions(monkeypatch, tmp_path, mappings):
    """An EHR visit export: each header gets the canonical column its name or values suggest, the MRN is left out."""
    app = _upload(monkeypatch, tmp_path / "c.duckdb", "visits.csv", VISITS)
    assert any("is not in layout A or B" in info.value for info in app.info)
    assert _picker(app, "Client ID").value == "patient_id"
    assert _picker(app, "MRN").value == "(leave out)"  # the client id is the key; an MRN never goes in
    assert _picker(app, "Date of Service").value == "session_date"
    assert _picker(app, "Service").value == "modality"
    assert _picker(app, "Provider").value == "clinician_id"
    assert _picker(app, "Notes").value == "(leave out)"
    assert _picker(app, "This file holds").value == "sessions"
    # 'Ket Inf 40min' says no route: its picker starts 'as written' and the preview names the row.
    assert _picker(app, "Ket Inf 40min").value == "(as written)"
    assert any("'Ket Inf 40min' is not a known modality" in w.value for w in app.warning)
    preview = next(frame.value for frame in app.dataframe if "recorded" in frame.value.columns)
    assert preview[["row", "patient_id", "recorded"]].values.tolist() == [
        [2, "C-2201", "esketamine_nasal"],
        [3, "C-2201", "esketamine_nasal"],
    ]
    assert app.button(key="data_confirm").disabled


def test_a_value_mapped_on_the_page_loads_and_the_mapping_is_saved_and_reused(monkeypatch, tmp_path, mappings):
    """The administrator maps 'Ket Inf 40min' to IV, saves the mapping by name, imports, and finds it offered again."""
    db = tmp_path / "c.duckdb"
    app = _upload(monkeypatch, db, "visits.csv", VISITS)
    _picker(app, "Ket Inf 40min").select("ketamine_iv").run()
    assert "Ready: 3 new rows" in _ready(app)
    app.text_input(key="data_mapping_name").input("clinic_ehr").run()
    app.button(key="data_mapping_save").click().run()
    assert not app.exception
    saved = load_mapping(mappings / "clinic_ehr.toml")
    table = saved.tables[0]
    assert table.columns == {
        "Client ID": "patient_id",
        "Date of Service": "session_date",
        "Service": "modality",
        "Provider": "clinician_id",
    }
    assert table.values == {"modality": {"Ket Inf 40min": "ketamine_iv"}}
    assert set(table.drop) == {"MRN", "Notes"}
    assert app.selectbox(key="data_mapping_choice").value == "clinic_ehr"
    assert any(b.label == "Download clinic_ehr.toml" for b in app.get("download_button"))

    app.button(key="data_confirm").click().run()
    assert not app.exception
    with store.opened(db, read_only=True) as con:
        rows = con.execute("SELECT patient_id, session_date, modality FROM sessions ORDER BY ALL").fetchall()
    assert rows == [
        ("C-2201", dt.date(2026, 3, 14), "esketamine_nasal"),
        ("C-2201", dt.date(2026, 3, 17), "esketamine_nasal"),
        ("C-2202", dt.date(2026, 3, 16), "ketamine_iv"),
    ]

    # The next export of the same system: the saved mapping is offered and reads it with no picking.
    later = VISITS.replace(b"03/16/2026", b"03/19/2026")
    again = _upload(monkeypatch, db, "visits_april.csv", later)
    again.selectbox(key="data_mapping_choice").select("clinic_ehr").run()
    assert "Ready: 1 new rows" in _ready(again)


def test_an_mrn_is_the_patient_key_only_with_pseudonyms(monkeypatch, tmp_path, mappings):
    """A file keyed by MRN: refused until pseudonyms are ticked; the key file is made on import, with a warning."""
    db = tmp_path / "c.duckdb"
    app = _upload(monkeypatch, db, "visits.csv", MRN_ONLY)
    assert app.button(key="data_confirm").disabled
    assert any("Replace patient IDs with keyed pseudonyms" in e.value for e in app.error)
    app.checkbox(key="data_pseudonymize").check().run()
    assert any("No pseudonym key yet" in c.value for c in app.caption)
    assert "Ready: 2 new rows" in _ready(app)
    assert not key_path_for(db).exists()  # a preview makes no key

    app.button(key="data_confirm").click().run()
    assert not app.exception
    key = load_key(db, create=False)
    assert any("A new pseudonym key was created" in w.value and key.fingerprint in w.value for w in app.warning)
    with store.opened(db, read_only=True) as con:
        ids = {row[0] for row in con.execute("SELECT patient_id FROM sessions").fetchall()}
    assert ids == {key.pseudonym("00784512"), key.pseudonym("00784519")}
    texts = " ".join(c.value for c in app.caption)
    assert f"Pseudonym key in use: fingerprint **{key.fingerprint}**" in texts
    assert key.secret.hex() not in texts


def test_a_redcap_export_loads_through_a_shipped_mapping_picked_on_the_page(monkeypatch, tmp_path, mappings):
    """REDCapR's longitudinal export (125 columns, names, phones) with PHQ-9 fields added: the shipped mapping reads it."""
    shutil.copy(REPO / "data" / "mappings" / "redcap_longitudinal.toml", mappings)
    frame = pd.read_csv(REDCAP / "longitudinal" / "data.csv", dtype=str, keep_default_na=False)
    visits = frame["redcap_event_name"].isin(["visit_1_arm_1", "visit_2_arm_1"])
    frame["phq9_date"] = ""
    frame.loc[visits, "phq9_date"] = ["2026-01-07", "2026-01-10", "2026-01-08", "2026-01-11"]
    frame["phq9_summary"] = ""
    frame.loc[visits, "phq9_summary"] = ["20", "14", "17", "9"]
    db = tmp_path / "c.duckdb"
    app = _upload(monkeypatch, db, "data.csv", frame.to_csv(index=False).encode())
    assert any("is not in layout A or B" in info.value for info in app.info)
    app.selectbox(key="data_mapping_choice").select("redcap_longitudinal").run()
    assert not app.exception
    assert "Ready: 4 new rows" in _ready(app)
    assert any("14 row(s) with no phq9_date left out" in c.value for c in app.caption)
    app.button(key="data_confirm").click().run()
    with store.opened(db, read_only=True) as con:
        totals = con.execute("SELECT patient_id, total FROM assessments ORDER BY ALL").fetchall()
    assert totals == [("100", 14), ("100", 20), ("220", 9), ("220", 17)]
