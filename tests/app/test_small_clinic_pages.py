"""A 40-patient clinic with total-only PHQ-9s (tests/clinic40.py), page by page, as its medical director
and its administrator would see it (AppTest): nothing on a page may mislead them."""

from __future__ import annotations

import pytest
from clinic40 import build
from paths import REPO
from streamlit.testing.v1 import AppTest


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """The store after the first import (two rows quarantined) and the corrected re-import."""
    return build(tmp_path_factory.mktemp("clinic40_pages") / "clinic40.duckdb")


@pytest.fixture(scope="module")
def first_import_only(tmp_path_factory):
    return build(tmp_path_factory.mktemp("clinic40_first") / "clinic40.duckdb", corrected=False)


def _page(monkeypatch, db, page: str, **session) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
    for key, value in session.items():
        app.session_state[key] = value
    app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, app.exception
    return app


def _metric(app: AppTest, label: str) -> str:
    return next(metric.value for metric in app.metric if metric.label == label)


def _captions(app: AppTest) -> str:
    return "\n".join(caption.value for caption in app.caption)


def test_quarterly_page_shows_item9_unknown_beside_item9_positive(monkeypatch, clinic):
    """Every baseline PHQ-9 is a total: the tile beside 'item 9 >= 1: 0' says item 9 is unknown for 40."""
    app = _page(monkeypatch, clinic, "quarterly")
    assert app.selectbox(key="quarterly_quarter").value == "2026Q1"
    assert _metric(app, "PHQ-9 item 9 ≥ 1 at baseline") == "0"
    assert _metric(app, "Item 9 unknown at baseline") == "40"


def test_quarterly_tiles_give_the_summarys_own_figure(monkeypatch, clinic):
    """21 of 34 courses responded and 17 remitted (ITT): the tiles say 61.8% and 50.0%, as the summary above
    them and the PDF do (they said 62% and 50% beneath a summary saying 61.8%)."""
    app = _page(monkeypatch, clinic, "quarterly")
    assert _metric(app, "Response (intention to treat)") == "61.8%"
    assert _metric(app, "Remission (intention to treat)") == "50.0%"
    summary = "\n".join(block.value for block in app.markdown)
    assert "61.8% responded on the PHQ-9 and 50.0% remitted" in summary
    assert "21 of 34 courses · 95% CI 45.0–76.1%" in _captions(app)


def test_quarterly_page_explains_the_few_completers(monkeypatch, clinic):
    """Completers are <11 (suppressed) beside 31 finished inductions: the page says 25 more finished without
    an end-of-induction score and what would count."""
    app = _page(monkeypatch, clinic, "quarterly")
    assert _metric(app, "Induction completed") == "31"
    assert (
        "25 more finished induction without one: a PHQ-9 dated within 28 days after the last induction session "
        "would count them." in _captions(app)
    )


def test_induction_page_explains_completers_and_hollow_points(monkeypatch, clinic):
    app = _page(monkeypatch, clinic, "induction")
    captions = _captions(app)
    assert "Completers (n=5) are eligible courses that finished induction" in captions
    assert "25 more finished induction without one" in captions
    assert "A mean from fewer than 5 courses is drawn hollow and faded" in captions


def test_caseload_tile_counts_item9_unknown(monkeypatch, clinic):
    """'Item 9 positive at last PHQ-9: 0' now carries 'item 9 unknown for 40' under it, as the rows do."""
    app = _page(monkeypatch, clinic, "patient", patient_show_inactive=True)
    assert _metric(app, "Item 9 positive at last PHQ-9") == "0"
    assert "item 9 unknown for 40 (last PHQ-9 a total only)" in _captions(app)
    assert set(app.dataframe[0].value["item9_last"]) == {"item 9 unknown"}


def test_a_patient_hidden_by_a_filter_is_not_a_silent_no_result(monkeypatch, clinic):
    """With the sidebar on esketamine, the IV patients are not in the picker, and the page says so."""
    app = _page(monkeypatch, clinic, "patient", filter_modalities=["esketamine_nasal"])
    assert len(app.selectbox(key="patient_id").options) == 10
    assert "Searching 10 of 40 patients: 30 are hidden by the sidebar filters" in _captions(app)
    everyone = _page(monkeypatch, clinic, "patient")
    assert "hidden by the sidebar filters" not in _captions(everyone)


def test_quarantine_says_what_is_left_to_fix_and_clears(monkeypatch, first_import_only, clinic):
    """After the first import two rows wait, named by the file's own columns; after the fixed file none do,
    and the two are kept, resolved, behind a switch."""
    before = _page(monkeypatch, first_import_only, "data")
    assert "2 rows set aside, each with the reason" in _captions(before)
    (table,) = [t.value for t in before.table if "What to fix" in t.value.columns]
    assert table["Column"].tolist() == ["PHQ-9 Total [phq9_total]", "Location [site]"]
    after = _page(monkeypatch, clinic, "data")
    assert any("Nothing left to fix in the quarantine. 2 earlier rows were resolved" in s.value for s in after.success)
    assert not [t for t in after.table if "What to fix" in t.value.columns]
    after.toggle(key="data_quarantine_resolved").set_value(True).run()
    (resolved,) = [t.value for t in after.table if "Resolved by" in t.value.columns]
    assert resolved["Resolved by"].tolist() == ["session_log_2026Q1_fixed.csv"] * 2
