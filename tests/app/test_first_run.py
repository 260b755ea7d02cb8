"""First run: the default store is seeded with the demo clinic; a store the user names never is."""

from __future__ import annotations

from pathlib import Path

import pytest
from paths import REPO
from streamlit.testing.v1 import AppTest

from analysis.store import database as store


@pytest.fixture
def fresh_default(tmp_path, monkeypatch) -> Path:
    """The default store path, moved into a temporary folder so the test never touches data/."""
    default = tmp_path / "data" / "outcomes.duckdb"
    monkeypatch.setattr(store, "DEFAULT_DB_PATH", default)
    monkeypatch.delenv("OUTCOMES_DB", raising=False)
    monkeypatch.chdir(REPO)
    return default


def test_a_newcomer_opens_the_app_and_sees_the_demo_clinic(fresh_default):
    """`streamlit run dashboard.py` on a fresh clone builds the demo and says it is demo data."""
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=180).run()
    assert not app.exception
    assert fresh_default.exists()
    with store.opened(fresh_default, read_only=True) as con:
        assert store.is_demo(con)
        assert store.counts(con)["sessions"] > 1000
    assert any("Demo data" in info.value for info in app.info)


def test_a_named_store_that_does_not_exist_opens_empty_without_demo(fresh_default, tmp_path, monkeypatch):
    """OUTCOMES_DB naming a new file gives an empty store and an invitation to import, never demo data."""
    named = tmp_path / "clinic.duckdb"
    monkeypatch.setenv("OUTCOMES_DB", str(named))
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120).run()
    assert not app.exception
    assert not fresh_default.exists()
    assert not any("Demo data" in info.value for info in app.info)
    page_text = " ".join(e.value for e in [*app.markdown, *app.info, *app.warning, *app.caption]).lower()
    assert "import" in page_text or "load your" in page_text
    if named.exists():
        with store.opened(named, read_only=True) as con:
            assert store.counts(con)["sessions"] == 0
            assert not store.is_demo(con)


def test_a_file_that_is_not_a_store_gets_one_sentence(tmp_path, monkeypatch):
    """OUTCOMES_DB pointing at some other file shows what to do, not a traceback."""
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE something (x INTEGER)").close()
    monkeypatch.setenv("OUTCOMES_DB", str(other))
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60).run()
    assert not app.exception
    assert any("not an outcomes store" in error.value for error in app.error)
