"""Adding an instrument is adding one record: a made-up fourth questionnaire, registered as a record
and nothing else, is imported (layout A and the session log), scored, reported and offered on a page.

It runs in a fresh Python process because the catalogue is read once, when the analysis package is
imported: the record is added to records.CATALOG before anything else imports it, exactly as a new
entry written into analysis/instruments/records.py would be.
"""

from __future__ import annotations

import json
import subprocess
import sys

from paths import REPO

SCRIPT = r"""
import importlib.util, json, sys, datetime as dt
from pathlib import Path

repo, store_path = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(repo))
spec = importlib.util.spec_from_file_location(
    "analysis.instruments.records", repo / "analysis" / "instruments" / "records.py")
records = importlib.util.module_from_spec(spec)
sys.modules["analysis.instruments.records"] = records
spec.loader.exec_module(records)

# The one record: 4 items answered 0-2, total 0-8, eligible from 4, response a fall of 3 points.
QOL4 = records.Instrument(
    code="QOL-4", name="Made-up quality of life scale", condition="Wellbeing", n_items=4, item_min=0, item_max=2,
    max_missing_for_prorating=1, bands=(records.Band(0, 3, "low"), records.Band(4, 8, "high")),
    rules=records.OutcomeRules(eligibility_min=4, response_kind="drop", response_value=3.0, remission_max=1,
                               reliable_change=3),
    item_labels=("Sleep", "Mood", "Energy", "Social"), answer_labels=("no", "some", "a lot"),
    log_prefix="qol4", aliases=("qol4", "qol_4"),
)
records.CATALOG = records.CATALOG + (QOL4,)

import pandas as pd
from analysis import ingest, store
from analysis.engine.timeline import load_timeline
from analysis.reporting.report import quarterly_report
from analysis.settings import Settings

days = [0, 3, 7, 10, 14, 17]
start = dt.date(2026, 3, 2)
sessions = pd.DataFrame({"patient_id": "P1", "session_date": [start + dt.timedelta(d) for d in days],
                         "modality": "IV"})
# Layout A: baseline items 2,2,1,1 = 6; end of induction (day 24) items 1,1,0,1 = 3 -> a fall of 3: response.
assessments = pd.DataFrame({
    "patient_id": ["P1", "P1"], "assessment_date": [start, start + dt.timedelta(24)], "instrument": ["qol4", "QOL-4"],
    "item_1": [2, 1], "item_2": [2, 1], "item_3": [1, 0], "item_4": [1, 1], "total": [None, None]})
# Layout B for a second patient: a session log with qol4_* columns, one item missing (prorated).
log = pd.DataFrame({"patient_id": "P2", "session_date": [start + dt.timedelta(d) for d in days],
                    "modality": "IM", "qol4_item_1": [2] + [None] * 5, "qol4_item_2": [2] + [None] * 5,
                    "qol4_item_3": [None] * 6, "qol4_item_4": [1] + [None] * 5})
# An answer of 3 is out of this instrument's range.
bad = assessments.assign(item_1=[3, 1])

con = store.connect(store_path)
refused = ingest.import_tables(con, [("bad.csv", bad)], today=dt.date(2026, 11, 1))
loaded = ingest.import_tables(con, [("sessions.csv", sessions), ("assessments.csv", assessments),
                                    ("log.csv", log)], today=dt.date(2026, 11, 1))
report = quarterly_report(load_timeline(con, Settings()), "2026Q1", suppress=False)
stored = con.execute("SELECT patient_id, total, total_method FROM assessments ORDER BY patient_id, assessment_date").fetchall()
con.close()

from streamlit.testing.v1 import AppTest
from streamlit import config
import os
config.set_option("server.address", "127.0.0.1")  # served on this computer: sign-in off, the user is admin
os.environ["OUTCOMES_DB"] = str(store_path)
app = AppTest.from_file(str(repo / "dashboard.py"), default_timeout=120).run()
app.switch_page("pages/induction.py").run()
options = [list(w.options) for w in app.get("button_group")] if app.get("button_group") else []
picker = [w for w in app.get("button_group") if getattr(w, "key", None) == "induction_instrument"]
print(json.dumps({
    "refused": [p.sentence() for p in refused.problems], "loaded": loaded.ok,
    "stored": [list(map(str, row)) for row in stored],
    "block": report["instruments"].get("QOL-4"),
    "instruments": list(report["instruments"]),
    "picker": [str(o) for o in picker[0].options] if picker else None,
    "exception": [str(e.value) for e in app.exception],
}, default=str))
"""


def test_a_fourth_instrument_is_one_record(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(REPO), str(tmp_path / "store.duckdb")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    # Imported with the record's own ranges: 3 is refused, naming the instrument and its 0-2 range.
    assert any("not a valid QOL-4 item answer (a whole number from 0 to 2)" in p for p in seen["refused"])
    assert seen["loaded"] is True
    # Scored: P1 summed 6 and 3; P2 prorated round_half_up(5 / 3 * 4) = round_half_up(6.67) = 7.
    assert seen["stored"] == [["P1", "6", "summed"], ["P1", "3", "summed"], ["P2", "7", "prorated"]]
    # Reported with its own rules: both eligible (>= 4); P1 fell 3 points (a response), P2 has no later score.
    block = seen["block"]
    assert seen["instruments"] == ["QOL-4"]
    assert block["eligible_n"] == 2 and block["completers"]["n"] == 1 and block["completers"]["response_n"] == 1
    assert block["itt"]["n"] == 2 and block["itt"]["response_n"] == 1
    # Offered on a page, and the page runs.
    assert seen["exception"] == []
    assert seen["picker"] is not None and any("QOL-4" in option for option in seen["picker"])
