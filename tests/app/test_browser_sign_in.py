"""A real browser signs in through a real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock).

A clinician, the medical director and an unknown email each sign in and see what their role allows; the
clinician tries another clinician's patient by URL and by typing the pseudonym; the access log records
each visit and only the administrator can read it. Also: served on a network address without sign-in,
the app shows no data. The secrets file lives in a temporary folder (--secrets.files), never in the repo.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading

import pytest
from paths import REPO
from serving import Server, free_port, launch_chromium, require_chromium, wait_until_quiet

from analysis import store
from analysis.demo import build as demo_store

require_chromium()

import oidc_provider_mock  # noqa: E402
import werkzeug.serving  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

CLINICIAN = "dr.alvarez@clinic.example"
CLINICIAN_ID = "CLN-03"
LEADERSHIP = "director@clinic.example"
ADMIN = "ops@clinic.example"
UNKNOWN = "visitor@elsewhere.example"
ROLES = f"""
[users."{LEADERSHIP}"]
role = "leadership"

[users."{CLINICIAN}"]
role = "clinician"
clinician_id = "{CLINICIAN_ID}"

[users."{ADMIN}"]
role = "admin"
"""
ARTIFACTS = REPO / "test-artifacts" / "screenshots"


def _network_address() -> str:
    """This machine's own address on its network: from its host name, else the route a UDP socket would take.

    A UDP connect sends no packet; it only picks the interface.
    """
    candidates = [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    for target in ("192.0.2.1", "10.255.255.254"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect((target, 9))
                candidates.append(probe.getsockname()[0])
        except OSError:
            continue
    usable = [address for address in candidates if not address.startswith("127.") and address != "0.0.0.0"]
    if not usable:
        raise RuntimeError(f"this machine has no network address besides loopback ({candidates})")
    return usable[0]


@pytest.fixture(scope="module")
def provider():
    """The identity provider: oidc-provider-mock's Flask app on 127.0.0.1, any client id accepted."""
    users = [
        oidc_provider_mock.User(sub=email, claims={"email": email, "name": name})
        for email, name in ((CLINICIAN, "Dr Alvarez"), (LEADERSHIP, "Medical director"), (ADMIN, "Operations"))
    ]
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(user_claims=users, require_nonce=True), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("sign_in")
    db = folder / "clinic.duckdb"
    demo_store.build(db, n_patients=60, seed=7, end_date=dt.date(2026, 10, 31))
    with store.opened(db, read_only=True) as con:
        mine = {
            r[0]
            for r in con.execute("SELECT patient_id FROM sessions WHERE clinician_id = ?", [CLINICIAN_ID]).fetchall()
        }
        everyone = {r[0] for r in con.execute("SELECT patient_id FROM sessions").fetchall()}
    roles = folder / "roles.toml"
    roles.write_text(ROLES, encoding="utf-8")
    return {"db": db, "roles": roles, "folder": folder, "mine": sorted(mine), "others": sorted(everyone - mine)}


@pytest.fixture(scope="module")
def signed_in_server(clinic, provider):
    port = free_port()
    secrets = clinic["folder"] / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-random-test-secret-0123456789abcdef"\n'
        'client_id = "outcomes-dashboard"\n'
        'client_secret = "test-client-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    server = Server(clinic["db"], secrets=secrets, roles=clinic["roles"], port=port)  # the port the redirect URI names
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


def _settled(page: Page) -> str:
    """Wait until Streamlit has finished the run; the words of the main area and the sidebar."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=60_000)
    # Right after a redirect the frame is there before the run has sent anything: wait for words.
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"stMain\"]')?.innerText || '').trim().length > 0",
        timeout=60_000,
    )
    wait_until_quiet(page, 60)
    text = page.locator('[data-testid="stMain"]').inner_text()
    if page.locator('[data-testid="stSidebar"]').count():
        text += "\n" + page.locator('[data-testid="stSidebar"]').inner_text()
    return text


def _sign_in(browser, server: Server, email: str) -> Page:
    """A fresh browser (no cookies) signs in at the provider as email: a listed user's button, or typed."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(server.url(), wait_until="domcontentloaded")
    _settled(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    listed = page.locator(f'button[name="sub"][value="{email}"]')
    if listed.count():
        listed.click()
    else:
        page.fill('input[name="sub"]', email)
        page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{server.url()}**", timeout=30_000)
    return page


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"sign_in_{name}.png"), full_page=True)


def _log(clinic: dict):
    with store.opened(clinic["db"]) as con:
        return store.access_log(con)


def test_a_clinician_signs_in_and_sees_only_their_patients(browser, signed_in_server, clinic):
    """Dr Alvarez signs in: the outcome pages and the patient trend, their patients only; others' are out of reach."""
    page = _sign_in(browser, signed_in_server, CLINICIAN)
    text = _settled(page)
    _shot(page, "clinician_overview")
    assert "Signed in as Dr Alvarez" in text and f"clinician {CLINICIAN_ID}" in text
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Patient trend" in nav and "Overview" in nav
    assert "Quarterly report" not in nav and "Data" not in nav.split()

    # Another clinician's patient by URL: one sentence, no chart.
    other = clinic["others"][0]
    page.goto(signed_in_server.url(f"patient?patient={other}"), wait_until="domcontentloaded")
    text = _settled(page)
    _shot(page, "clinician_other_patient_by_url")
    assert f"{other} is not one of your patients here" in text
    assert f"Patient {other}" not in text

    # Typing the other pseudonym into the picker finds nothing; typing an own one finds it.
    picker = page.get_by_label("Patient (type a pseudonym to search)")
    picker.click()
    page.keyboard.type(other)
    assert page.locator('[data-testid="stSelectboxVirtualDropdown"] li').count() == 0
    page.keyboard.press("Escape")

    # Their own patient by URL opens.
    mine = clinic["mine"][0]
    page.goto(signed_in_server.url(f"patient?patient={mine}"), wait_until="domcontentloaded")
    text = _settled(page)
    _shot(page, "clinician_own_patient")
    assert f"Patient {mine}" in text

    # A page outside the role, typed as a URL, shows none of its content.
    page.goto(signed_in_server.url("quarterly"), wait_until="domcontentloaded")
    text = _settled(page)
    assert "Download this report" not in text and "Quarter the courses started in" not in text
    page.context.close()

    log = _log(clinic)
    mine_lines = log.loc[log["user_name"] == CLINICIAN]
    assert (mine_lines["action"] == "sign-in").any()
    assert ((mine_lines["action"] == "refused patient (outside scope)") & (mine_lines["target"] == other)).any()
    assert ((mine_lines["action"] == "viewed patient") & (mine_lines["target"] == mine)).any()
    assert not ((mine_lines["action"] == "viewed patient") & (mine_lines["target"] == other)).any()
    assert set(mine_lines["role"]) == {"clinician"}


def test_leadership_signs_in_sees_every_page_but_not_the_access_log(browser, signed_in_server, clinic):
    page = _sign_in(browser, signed_in_server, LEADERSHIP)
    text = _settled(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Quarterly report" in nav and "Data" in nav and "Signed in as Medical director" in text
    page.goto(signed_in_server.url("data"), wait_until="domcontentloaded")
    text = _settled(page)
    _shot(page, "leadership_data")
    assert "read-only for your role" in text
    assert page.get_by_role("tab", name="Access log").count() == 0
    # Any patient opens for leadership.
    other = clinic["others"][0]
    page.goto(signed_in_server.url(f"patient?patient={other}"), wait_until="domcontentloaded")
    assert f"Patient {other}" in _settled(page)
    page.context.close()
    log = _log(clinic)
    assert ((log["user_name"] == LEADERSHIP) & (log["action"] == "sign-in")).any()
    assert ((log["user_name"] == LEADERSHIP) & (log["action"] == "viewed patient") & (log["target"] == other)).any()


def test_an_unknown_email_signs_in_and_sees_one_sentence(browser, signed_in_server, clinic):
    page = _sign_in(browser, signed_in_server, UNKNOWN)
    text = _settled(page)
    _shot(page, "unknown_email")
    assert "ask your administrator for access" in text
    assert page.locator('[data-testid="stMetric"], [data-testid="stDataFrame"], .js-plotly-plot').count() == 0
    page.goto(signed_in_server.url(f"patient?patient={clinic['mine'][0]}"), wait_until="domcontentloaded")
    text = _settled(page)
    assert "ask your administrator for access" in text and "Patient P" not in text
    page.context.close()
    log = _log(clinic)
    assert ((log["user_name"] == UNKNOWN) & (log["action"] == "sign-in refused")).any()


def test_the_administrator_reads_the_access_log(browser, signed_in_server, clinic):
    """After the visits above, the administrator's Data page lists them in the access log."""
    page = _sign_in(browser, signed_in_server, ADMIN)
    _settled(page)
    page.goto(signed_in_server.url("data"), wait_until="domcontentloaded")
    _settled(page)
    page.get_by_role("tab", name="Access log").click()
    page.wait_for_timeout(1500)
    _shot(page, "admin_access_log")
    assert page.get_by_role("button", name="Download these lines (CSV)").count() == 1
    page.context.close()


def test_served_on_the_network_without_sign_in_shows_no_data(browser, clinic, tmp_path):
    """streamlit run on this machine's network address with no [auth]: one sentence, no numbers, no patients."""
    address = _network_address()
    assert not address.startswith("127."), address
    db = tmp_path / "exposed.duckdb"
    shutil.copy(clinic["db"], db)
    server = Server(db, address=address)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for path in ("", "patient", f"patient?patient={clinic['mine'][0]}"):
            page.goto(server.url(path), wait_until="domcontentloaded")
            text = _settled(page)
            assert "sign-in is off, so it shows no data" in text, text
            assert page.locator('[data-testid="stMetric"], [data-testid="stDataFrame"], .js-plotly-plot').count() == 0
            assert "Patient P" not in text
        _shot(page, "exposed_without_sign_in")
        page.close()
    finally:
        server.stop()
