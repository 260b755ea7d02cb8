"""A real browser visits every page on the demo clinic and on an empty store: no error boxes, no JS errors.

Screenshots of every page are saved under test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from paths import REPO
from serving import Server, launch_chromium, require_chromium, wait_until_quiet

from analysis.demo import build as demo_store

ARTIFACTS = REPO / "test-artifacts" / "screenshots"
# URL paths: the default page (Overview) is served at the root.
PAGES = {
    "overview": "",
    "induction": "induction",
    "boosters": "boosters",
    "patient": "patient",
    "quarterly": "quarterly",
    "data": "data",
}

require_chromium()

from playwright.sync_api import sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    demo_store.build(path, n_patients=150, seed=7, end_date=dt.date(2026, 10, 31))
    server = Server(path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("browser_empty") / "new.duckdb")
    yield server
    server.stop()


def _visit(browser, url: str, screenshot: Path) -> tuple[list[str], list[str], str]:
    """Open a page, wait until Streamlit has finished running it, return errors, exceptions and text.

    Errors are JavaScript errors, console errors, and any request to a host other than this
    machine (nothing may leave it). Streamlit's front end probes a deep link's path for its own
    endpoints (/patient/_stcore/health) before falling back to the root; those 404s are not errors.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            js_errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            js_errors.append(f"request leaves the machine: {request.url}")
            if not request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            js_errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and "/_stcore/" not in response.url
            else None
        ),
    )
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=60_000)
    page.wait_for_selector(
        '[data-testid="stMainBlockContainer"] h1, [data-testid="stMainBlockContainer"] h2', timeout=60_000
    )
    # While a script runs Streamlit shows skeletons for elements still to come and a status
    # widget; wait until neither has been seen for a moment.
    wait_until_quiet(page, 90)
    page.wait_for_timeout(1000)  # let Plotly finish drawing before the screenshot
    # The page scrolls inside Streamlit's own container: grow the window to show all of it.
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 1000")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height) + 50, 9000))})
    page.wait_for_timeout(1500)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    exceptions = page.locator('[data-testid="stException"]').all_inner_texts()
    text = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    text += "\n" + page.locator('[data-testid="stSidebar"]').inner_text()
    page.close()
    return js_errors, exceptions, text


@pytest.mark.parametrize("page_name", PAGES)
def test_every_page_renders_on_the_demo_clinic(browser, demo_server, page_name):
    """A medical director opens each page of the demo clinic (a bookmark, so the frame must come
    with it) and sees the sidebar filters and content, no error box."""
    js_errors, exceptions, text = _visit(
        browser, demo_server.url(PAGES[page_name]), ARTIFACTS / f"demo_{page_name}.png"
    )
    assert exceptions == []
    assert js_errors == []
    assert "Traceback" not in text
    assert "Course start between" in text  # the shared cohort filters came with the page
    assert len(text) > 200


@pytest.mark.parametrize("page_name", PAGES)
def test_every_page_renders_on_an_empty_store(browser, empty_server, page_name):
    """A new clinic with an empty store sees a helpful sentence on each page, never an error."""
    js_errors, exceptions, text = _visit(
        browser, empty_server.url(PAGES[page_name]), ARTIFACTS / f"empty_{page_name}.png"
    )
    assert exceptions == []
    assert js_errors == []
    assert "Traceback" not in text
    assert "import" in text.lower() or "load your" in text.lower()


# ---------------------------------------------------------------------------
# A small clinic (tests/clinic40.py): every page, and nothing cut short (issue 12)

# Elements whose text Streamlit cuts with an ellipsis when it does not fit: tile labels, filter chips.
_CUT_SHORT = """() => [...document.querySelectorAll(
    '[data-testid="stMetricLabel"] *, [data-testid="stSidebar"] [data-tag] span[title]')]
    .filter(e => e.children.length === 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)
    .concat([...document.querySelectorAll('[data-testid="stDownloadButton"] button div, [data-testid="stButton"] button div')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent))"""
# Data grids wider than the page: the user has to scroll sideways to see their last columns.
_SCROLLS_SIDEWAYS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter(grid => { const s = grid.querySelector('.dvn-scroller'); return s && s.scrollWidth > s.clientWidth + 1; })
    .map(grid => grid.innerText.split('\\n')[0])"""


@pytest.fixture(scope="module")
def clinic40_server(tmp_path_factory):
    from clinic40 import build

    server = Server(build(tmp_path_factory.mktemp("browser_clinic40") / "clinic40.duckdb"))
    yield server
    server.stop()


@pytest.mark.parametrize("page_name", PAGES)
def test_every_page_of_a_small_clinic_renders_with_nothing_cut_short(browser, clinic40_server, page_name):
    """A 40-patient clinic's director opens each page: no error, no tile label cut short, and the sidebar
    names the store by its file name (a full path wrapped mid-word)."""
    js_errors, exceptions, text = _visit(
        browser, clinic40_server.url(PAGES[page_name]), ARTIFACTS / f"clinic40_{page_name}.png"
    )
    assert exceptions == [] and js_errors == []
    assert "Store: clinic40.duckdb" in text
    cut = browser.new_page(viewport={"width": 1400, "height": 1000})
    cut.goto(clinic40_server.url(PAGES[page_name]), wait_until="domcontentloaded")
    cut.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=60_000)
    cut.wait_for_timeout(4000)
    assert cut.evaluate(_CUT_SHORT) == []
    assert cut.evaluate(_SCROLLS_SIDEWAYS) == []
    cut.close()


@pytest.mark.parametrize("page_name", ["patient", "quarterly"])
def test_the_demo_clinics_grids_and_download_buttons_fit_a_1400px_screen(browser, demo_server, page_name):
    """At 1400 px beside the sidebar the caseload (thirteen columns scrolled sideways before), the quarterly
    tables and the report's download buttons ("Download: CSV (one row p…") show whole."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(demo_server.url(PAGES[page_name]), wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=120_000)
    page.wait_for_timeout(5000)
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    assert page.evaluate(_SCROLLS_SIDEWAYS) == []
    assert page.evaluate(_CUT_SHORT) == []
    page.screenshot(path=str(ARTIFACTS / f"demo_{page_name}_1400.png"))
    page.close()


def test_a_modality_chip_in_the_sidebar_is_not_cut_short(browser, clinic40_server):
    """Picking esketamine in the sidebar shows the whole word on its chip ('Esketamine (Sprava…' before)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(clinic40_server.url("patient"), wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=60_000)
    sidebar = page.locator('[data-testid="stSidebar"]')
    # The frame's filters come after the page's heading: wait for all six.
    page.wait_for_function(
        'document.querySelectorAll(\'[data-testid="stSidebar"] [data-testid="stMultiSelect"]\').length >= 6',
        timeout=120_000,
    )
    sidebar.locator('[data-testid="stMultiSelect"]').nth(2).click()
    page.get_by_role("option", name="Esketamine").click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(3000)
    chips = sidebar.locator("[data-tag] span[title]").all_inner_texts()
    assert chips == ["Esketamine"]
    assert page.evaluate(_CUT_SHORT) == []
    page.screenshot(path=str(ARTIFACTS / "clinic40_modality_chip.png"), full_page=True)
    page.close()
