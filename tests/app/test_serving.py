"""Serving settings: tracebacks stay in the server log (the page shows an id), XSRF on, this computer only."""

from __future__ import annotations

import logging
import re
import shutil
import tomllib

from paths import REPO
from streamlit.testing.v1 import AppTest

from analysis import store
from analysis.access import Person
from ui import state


def _failing_page():
    from ui import guard

    class Navigation:
        def run(self):
            raise RuntimeError("secret detail: P00012 item 9")

    guard.run(Navigation())


def test_an_unexpected_error_shows_an_id_and_logs_the_traceback(caplog):
    """A page that fails shows one sentence with an error id; the details are in the server log under that id."""
    with caplog.at_level(logging.ERROR, logger="ui.guard"):
        app = AppTest.from_function(_failing_page).run()
    assert not app.exception
    assert len(app.error) == 1
    shown = app.error[0].value
    assert "secret detail" not in shown and "P00012" not in shown
    error_id = re.search(r"error ([0-9a-f]{8})", shown).group(1)
    logged = [record for record in caplog.records if error_id in record.getMessage()]
    assert logged and "secret detail: P00012 item 9" in str(logged[0].exc_info[1])


def test_the_shipped_config_keeps_the_app_on_this_computer_and_hides_tracebacks():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] == 200
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_no_secrets_or_roles_file_is_in_the_repo():
    """The clinic's sign-in secrets and staff list are local files that git ignores."""
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".streamlit/secrets.toml" in ignored and "roles.toml" in ignored


def test_a_log_line_does_not_make_the_app_copy_the_store_again(monkeypatch, tmp_path, demo_path):
    """Writing the access log changes the file but not the data: the app keeps its snapshot; a real change does not."""
    copy = tmp_path / "clinic.duckdb"
    shutil.copy(demo_path, copy)
    with store.opened(copy) as con:  # the shared demo store carries earlier page tests' log lines: start empty
        con.execute("DELETE FROM access_log")
    monkeypatch.setenv("OUTCOMES_DB", str(copy))
    admin = Person("ops@clinic.example", "", "admin")
    seen = state.fingerprint(copy)
    assert state.log_access(admin, "viewed patient", "P00001")
    assert store.fingerprint(copy) != seen  # the file did change …
    assert state.fingerprint(copy) == seen  # … but the app reads it as the same data

    with store.opened(copy) as con:  # an import elsewhere (data_version bumped), then a log line
        store.bump_data_version(con)
    changed = state.fingerprint(copy)
    assert changed != seen
    assert state.log_access(admin, "viewed patient", "P00002")
    assert state.fingerprint(copy) == changed  # the import's version stands; the log line after it adds no copy
    with store.opened(copy) as con:
        assert store.access_log(con)["target"].tolist() == ["P00002", "P00001"]
