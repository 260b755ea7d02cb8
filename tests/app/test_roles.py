"""Each role driven with AppTest and the signed-in user mocked: which pages exist, which patients, what is counted, what is logged.

The demo clinic's sessions name six clinicians (CLN-01 … CLN-06); the expected patients and courses are
read from the store with SQL here, not through the code under test.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from paths import REPO
from streamlit import config
from streamlit.testing.v1 import AppTest

from analysis import store

CLINICIAN_ID = "CLN-03"
CLINICIAN = "dr.alvarez@clinic.example"
LEADERSHIP = "director@clinic.example"
ADMIN = "ops@clinic.example"
ROLES = f"""
[users."{LEADERSHIP}"]
role = "leadership"

[users."Dr.Alvarez@clinic.example"]   # the provider may spell it in another case
role = "clinician"
clinician_id = "{CLINICIAN_ID}"

[users."{ADMIN}"]
role = "admin"
"""
# st.login is never reached here (the user is mocked); the section only has to exist.
AUTH = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "not-a-secret-only-a-test-value-0123456789",
        "client_id": "dashboard",
        "client_secret": "test",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}
ALL_PAGES = {"overview", "induction", "boosters", "patient", "quarterly", "data"}


@pytest.fixture
def clinic(demo_path, tmp_path) -> dict:
    """A copy of the demo clinic (the access log writes to it) and a roles file."""
    db = tmp_path / "clinic.duckdb"
    shutil.copy(demo_path, db)
    with store.opened(db) as con:  # the shared demo store carries earlier page tests' log lines: start empty
        con.execute("DELETE FROM access_log")
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES, encoding="utf-8")
    with store.opened(db, read_only=True) as con:
        mine = {
            row[0]
            for row in con.execute(
                "SELECT DISTINCT patient_id FROM sessions WHERE clinician_id = ?", [CLINICIAN_ID]
            ).fetchall()
        }
        everyone = {row[0] for row in con.execute("SELECT DISTINCT patient_id FROM sessions").fetchall()}
    return {"db": db, "roles": roles, "mine": mine, "others": everyone - mine, "everyone": everyone}


def _app(monkeypatch, clinic: dict, email: str | None, page: str | None = None, query=None, **session) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(clinic["db"]))
    monkeypatch.setenv("OUTCOMES_ROLES", str(clinic["roles"]))
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    app.secrets = AUTH
    app.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]} if email else {"is_logged_in": False}
    for key, value in session.items():
        app.session_state[key] = value
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    if page:
        app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, app.exception
    return app


def _page_alone(monkeypatch, clinic: dict, email: str | None, page: str) -> AppTest:
    """A page run on its own, as a typed URL reaches it without the entrypoint listing it."""
    monkeypatch.setenv("OUTCOMES_DB", str(clinic["db"]))
    monkeypatch.setenv("OUTCOMES_ROLES", str(clinic["roles"]))
    app = AppTest.from_file(str(REPO / "pages" / f"{page}.py"), default_timeout=90)
    app.secrets = AUTH
    app.user = {"is_logged_in": True, "email": email} if email else {"is_logged_in": False}
    app.run()
    assert not app.exception, app.exception
    return app


def _pages(app: AppTest) -> set[str]:
    # AppTest keeps what st.navigation registered on the last run of the entrypoint.
    return {Path(info["script_path"]).stem for info in app._registered_pages.values() if info.get("script_path")}


def _texts(app: AppTest) -> str:
    parts = [
        element.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
        for element in getattr(app, kind)
    ]
    parts += [f"{metric.label}: {metric.value}" for metric in app.metric]
    return "\n".join(str(part) for part in parts)


def _offered(app: AppTest) -> set[str]:
    """The pseudonyms the patient picker offers (its labels carry the flags after the pseudonym)."""
    return {option.split()[0] for option in app.selectbox(key="patient_id").options}


def _metric(app: AppTest, label: str) -> str:
    return next(metric.value for metric in app.metric if metric.label == label)


def _log(clinic: dict):
    with store.opened(clinic["db"]) as con:
        return store.access_log(con)


def _courses_of(demo_timeline, patients: set[str]) -> int:
    return int(demo_timeline.courses["patient_id"].isin(patients).sum())


# ---------------------------------------------------------------------------
# Which pages each role has


def test_a_clinician_has_my_outcomes_and_the_patient_trend_only(monkeypatch, clinic):
    """Dr Alvarez signs in and the navigation offers the three outcome pages and the patient trend, nothing else."""
    app = _app(monkeypatch, clinic, CLINICIAN)
    assert _pages(app) == {"overview", "induction", "boosters", "patient"}
    assert f"clinician {CLINICIAN_ID}: your own patients only" in _texts(app)
    assert "Signed in as **dr.alvarez**" in _texts(app)
    assert [button.label for button in app.sidebar.button] == ["Sign out"]


@pytest.mark.parametrize("email", [LEADERSHIP, ADMIN])
def test_leadership_and_admin_have_every_page(monkeypatch, clinic, email):
    """The director and the administrator see all six pages."""
    assert _pages(_app(monkeypatch, clinic, email)) == ALL_PAGES


@pytest.mark.parametrize("page", ["quarterly", "data"])
def test_a_clinician_typing_a_page_url_gets_one_sentence(monkeypatch, clinic, page):
    """The quarterly report and the Data page opened directly by a clinician show a sentence and nothing else."""
    app = _page_alone(monkeypatch, clinic, CLINICIAN, page)
    assert [w.value for w in app.warning] == [
        f"This page is not part of your access (clinician {CLINICIAN_ID}: your own patients only)."
    ]
    assert not app.metric and not app.dataframe and not app.get("download_button")


def test_an_unknown_email_sees_one_sentence_and_is_logged(monkeypatch, clinic):
    """Someone the roles file does not list signs in: one sentence, no page, and the refusal is in the log."""
    app = _app(monkeypatch, clinic, "visitor@elsewhere.example")
    assert [w.value for w in app.warning] == [
        "You are signed in, but this dashboard has no access for you yet: ask your administrator for access."
    ]
    assert _pages(app) == set() and not app.metric and not app.dataframe
    refused = _log(clinic)
    assert refused[["user_name", "role", "action"]].values.tolist() == [
        ["visitor@elsewhere.example", "none", "sign-in refused"]
    ]


def test_nobody_signed_in_sees_the_sign_in_button_only(monkeypatch, clinic):
    app = _app(monkeypatch, clinic, None)
    assert [button.label for button in app.button] == ["Sign in"]
    assert _pages(app) == set() and not app.metric


def test_an_unknown_email_cannot_open_a_page_directly(monkeypatch, clinic):
    app = _page_alone(monkeypatch, clinic, "visitor@elsewhere.example", "patient")
    assert "ask your administrator for access" in _texts(app)
    assert not app.get("selectbox") and not app.dataframe


# ---------------------------------------------------------------------------
# Which patients each role is offered


def test_a_clinicians_picker_and_caseload_hold_only_their_patients(monkeypatch, clinic):
    """The picker and the caseload (inactive patients included) list exactly the patients with a CLN-03 session."""
    app = _app(monkeypatch, clinic, CLINICIAN, "patient", patient_show_inactive=True)
    assert _offered(app) == clinic["mine"]
    assert set(app.dataframe[0].value["patient_id"]) == clinic["mine"]
    assert 0 < len(clinic["mine"]) < len(clinic["everyone"])


def test_leadership_picker_offers_every_patient(monkeypatch, clinic):
    app = _app(monkeypatch, clinic, LEADERSHIP, "patient")
    assert _offered(app) == clinic["everyone"]


def test_another_clinicians_patient_by_query_parameter_is_refused_and_logged(monkeypatch, clinic):
    """?patient=<someone else's pseudonym> shows a sentence, not the patient, and the attempt is logged."""
    other = sorted(clinic["others"])[0]
    app = _app(monkeypatch, clinic, CLINICIAN, "patient", query={"patient": other})
    assert f"{other} is not one of your patients here" in _texts(app)
    assert f"Patient {other}" not in _texts(app)
    assert app.selectbox(key="patient_id").value is None
    log = _log(clinic)
    assert ((log["action"] == "refused patient (outside scope)") & (log["target"] == other)).sum() == 1
    assert not ((log["action"] == "viewed patient") & (log["target"] == other)).any()


def test_another_clinicians_patient_in_stale_session_state_is_not_shown(monkeypatch, clinic):
    """A pseudonym left in the session (or typed into the state) that is not the clinician's opens nothing."""
    other = sorted(clinic["others"])[0]
    app = _app(monkeypatch, clinic, CLINICIAN, "patient", patient_id=other)
    assert app.selectbox(key="patient_id").value is None
    assert f"Patient {other}" not in _texts(app)
    assert not _log(clinic)["target"].eq(other).any()


def test_own_patient_by_query_parameter_opens_and_the_view_is_logged_once(monkeypatch, clinic):
    mine = sorted(clinic["mine"])[0]
    app = _app(monkeypatch, clinic, CLINICIAN, "patient", query={"patient": mine}, patient_show_inactive=True)
    assert f"Patient {mine}" in _texts(app)
    app.run()  # a rerun of the same view is not a second visit
    viewed = _log(clinic).query("action == 'viewed patient'")
    assert viewed[["user_name", "role", "target"]].values.tolist() == [[CLINICIAN, "clinician", mine]]


# ---------------------------------------------------------------------------
# What the leadership pages count


def test_a_clinicians_overview_counts_their_own_patients_courses(monkeypatch, clinic, demo_timeline):
    app = _app(monkeypatch, clinic, CLINICIAN)
    assert _metric(app, "Courses started") == f"{_courses_of(demo_timeline, clinic['mine']):,}"


def test_leadership_overview_counts_every_course(monkeypatch, clinic, demo_timeline):
    app = _app(monkeypatch, clinic, LEADERSHIP)
    assert _metric(app, "Courses started") == f"{len(demo_timeline.courses):,}"


def test_a_clinicians_numbers_never_reach_leadership_through_the_cache(monkeypatch, clinic, demo_timeline):
    """Same store, same filters, one process: the clinician first, then the director, each gets their own count."""
    first = _app(monkeypatch, clinic, CLINICIAN)
    second = _app(monkeypatch, clinic, LEADERSHIP)
    assert _metric(first, "Courses started") == f"{_courses_of(demo_timeline, clinic['mine']):,}"
    assert _metric(second, "Courses started") == f"{len(demo_timeline.courses):,}"


# ---------------------------------------------------------------------------
# The Data page and the access log


def test_leadership_data_page_is_read_only_without_the_access_log(monkeypatch, clinic):
    app = _app(monkeypatch, clinic, LEADERSHIP, "data")
    assert not app.get("file_uploader")
    assert "read-only for your role" in _texts(app)
    assert "Access log" not in [tab.label for tab in app.tabs]
    assert not any(button.label == "Remove the demo clinic" for button in app.button)


def test_admin_reads_filters_and_downloads_the_access_log(monkeypatch, clinic):
    """After a clinician's visit, the administrator sees it in the log on the Data page, filtered by who."""
    mine = sorted(clinic["mine"])[0]
    _app(monkeypatch, clinic, CLINICIAN, "patient", query={"patient": mine}, patient_show_inactive=True)
    app = _app(monkeypatch, clinic, ADMIN, "data")
    assert "Access log" in [tab.label for tab in app.tabs]
    app.multiselect(key="data_log_users").set_value([CLINICIAN]).run()
    shown = app.dataframe[-1].value
    assert shown[["action", "target"]].fillna("").values.tolist() == [["viewed patient", mine], ["sign-in", ""]]
    assert any(button.label == "Remove the demo clinic" for button in app.button)
    assert "Download these lines (CSV)" in [button.proto.label for button in app.get("download_button")]


def test_local_mode_acts_as_admin_and_says_sign_in_is_off(monkeypatch, clinic):
    """No [auth] section, served on 127.0.0.1: every page, and the sidebar says sign-in is off."""
    monkeypatch.setenv("OUTCOMES_DB", str(clinic["db"]))
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    app.run()
    assert _pages(app) == ALL_PAGES
    assert "Sign-in is off: this computer only" in _texts(app)
    assert _log(clinic)["action"].tolist() == ["opened (sign-in off)"]


@pytest.mark.parametrize("address", [None, "0.0.0.0", "192.168.1.20"])
def test_served_beyond_this_computer_without_sign_in_shows_no_data(monkeypatch, clinic, address, demo_timeline):
    """server.address unset (every interface) or a network address, and no [auth]: one sentence, no data."""
    monkeypatch.setenv("OUTCOMES_DB", str(clinic["db"]))
    config.set_option("server.address", address)  # the autouse fixture puts 127.0.0.1 back
    for script in ("dashboard.py", "pages/patient.py", "pages/overview.py"):
        app = AppTest.from_file(str(REPO / script), default_timeout=90)
        app.run()
        assert len(app.warning) == 1 and "sign-in is off, so it shows no data" in app.warning[0].value
        assert "how to turn it on" not in app.warning[0].value  # one sentence that *says* how, checked below
        assert "[auth] section" in app.warning[0].value
        assert not app.metric and not app.dataframe and not app.get("selectbox") and not app.get("plotly_chart")
    assert _log(clinic).empty


def test_an_idle_session_starts_over_and_signs_out(monkeypatch, clinic):
    """Over 30 minutes without a click: the session's state is dropped and the signed-in user is signed out."""
    mine = sorted(clinic["mine"])[0]
    app = _app(monkeypatch, clinic, CLINICIAN, auth_last_active=time.time() - 31 * 60, patient_id=mine)
    assert "patient_id" not in app.session_state
    assert [button.label for button in app.button] == ["Sign in"]
    assert "signed out (idle)" in _log(clinic)["action"].tolist()
