"""The store is shared: an import from the command line works while the dashboard is open, and the
open dashboard shows the new data on its next rerun without a restart."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pandas as pd
from paths import REPO
from streamlit.testing.v1 import AppTest

from analysis import store
from analysis.demo import build as demo_store


def test_import_while_the_dashboard_is_open_then_the_next_rerun_shows_it(tmp_path, monkeypatch):
    path = tmp_path / "shared.duckdb"
    demo_store.build(path, n_patients=40, seed=5, end_date=dt.date(2026, 10, 31))
    monkeypatch.setenv("OUTCOMES_DB", str(path))
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    app.switch_page("pages/data.py").run()
    assert not app.exception
    with store.opened(path, read_only=True) as con:
        sessions_before = store.counts(con)["sessions"]

    new_patient = pd.DataFrame(
        {"patient_id": ["NEW-1"] * 2, "session_date": ["2026-10-01", "2026-10-03"], "modality": ["IV", "IV"]}
    )
    export = tmp_path / "new_sessions.csv"
    new_patient.to_csv(export, index=False)
    imported = subprocess.run(
        [sys.executable, "-m", "analysis", "import", "--db", str(path), str(export), "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr  # the app holds no lock on the store

    app.run()
    assert not app.exception
    history = [
        frame.value for frame in app.dataframe if "file_name" in frame.value.columns or "File" in frame.value.columns
    ]
    shown = " ".join(frame.to_string() for frame in history)
    assert "new_sessions.csv" in shown
    assert any(str(sessions_before + 2) in str(metric.value).replace(",", "") for metric in app.metric)
