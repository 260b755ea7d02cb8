"""The leadership pages (overview, induction response, boosters and durability) driven as a director would, with AppTest.

Run on a 120-patient demo clinic and on an empty store. AppTest runs the entrypoint's sidebar only on the
default page (the overview); after switch_page a page runs on its own, so the other pages get their
cohort filters through session state, under the same keys the sidebar widgets use.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from paths import REPO
from streamlit.testing.v1 import AppTest

from analysis.engine.cohort import CohortFilter
from analysis.reporting.report import instrument_summary
from analysis.views import boosters as boosters_views
from analysis.views import common as common_views
from analysis.views import induction as induction_views
from analysis.views import overview as overview_views

NO_MATCH = "No courses match these filters"
NO_DATA = "The store holds no sessions yet"


def _app(monkeypatch, db: Path, page: str | None = None, **session) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    for key, value in session.items():
        app.session_state[key] = value
    app.run()
    if page:
        app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, app.exception
    return app


def _texts(app: AppTest) -> str:
    parts = [
        element.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error")
        for element in getattr(app, kind)
    ]
    parts += [f"{metric.label}: {metric.value}" for metric in app.metric]
    parts += [expander.label for expander in app.expander]
    return "\n".join(str(part) for part in parts)


def _metric(app: AppTest, label: str, nth: int = 0) -> str:
    return [metric.value for metric in app.metric if metric.label == label][nth]


def _chart_titles(app: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in app.get("plotly_chart")]


def _empty_combination(timeline) -> dict:
    """A clinician and a sex with no course between them in the demo clinic (for 'filters match nothing')."""
    courses = timeline.courses
    for clinician, sex in itertools.product(sorted(courses["clinician_id"].unique()), sorted(courses["sex"].unique())):
        if not ((courses["clinician_id"] == clinician) & (courses["sex"] == sex)).any():
            return {"filter_clinicians": [clinician], "filter_sexes": [sex]}
    raise AssertionError("every clinician treats every sex in the demo clinic; pick another empty combination")


# ---------------------------------------------------------------------------
# Overview


def test_overview_shows_tiles_with_the_engine_numbers(monkeypatch, demo_path, demo_timeline):
    """A medical director opens the app and sees active patients, courses started and ITT response with its n."""
    app = _app(monkeypatch, demo_path)
    texts = _texts(app)
    for words in (
        "Overview",
        "Active patients",
        "Courses started",
        "Induction completed",
        "PHQ-9 outcomes (intention to treat)",
        "GAD-7 outcomes (intention to treat)",
        "Item 9 positive at baseline",
        "Item 9 back to 0 at endpoint",
        "6- and 12-month outcomes (PHQ-9, CMS159-style)",
        "Patients with an index PHQ-9",
        "Remission at 12 months",
        "How these numbers are defined",
        "McInnes 2022",
        "Oliver 2022",
        "Hull 2022",
        "Ahuja (Brendle) 2022",
    ):
        assert words in texts, words
    started = overview_views.courses_started(demo_timeline)
    assert _metric(app, "Courses started") == f"{started['courses']:,}"
    assert _metric(app, "Active patients") == str(overview_views.active_patients(demo_timeline)["n"])
    itt = instrument_summary(demo_timeline, "PHQ-9")["itt"]
    assert _metric(app, "Response") == f"{itt['response_rate'] * 100:.0f}%"
    assert f"{itt['response_n']} of {itt['n']} courses" in texts
    assert "PHQ-9 response and remission: this clinic beside published real-world results" in _chart_titles(app)


def test_overview_trend_switches_measure(monkeypatch, demo_path):
    """Choosing 'Induction completion' redraws the quarter trend for completion."""
    app = _app(monkeypatch, demo_path)
    app.segmented_control(key="overview_trend").set_value("Induction completion").run()
    assert not app.exception
    assert "Induction completion by start quarter" in _chart_titles(app)


def test_overview_follows_the_sidebar_modality_filter(monkeypatch, demo_path, demo_timeline):
    """Picking esketamine in the sidebar recounts the tiles for esketamine courses only."""
    app = _app(monkeypatch, demo_path)
    app.multiselect(key="filter_modalities").set_value(["esketamine_nasal"]).run()
    assert not app.exception
    expected = overview_views.courses_started(demo_timeline, CohortFilter(modalities=("esketamine_nasal",)))
    assert _metric(app, "Courses started") == f"{expected['courses']:,}"
    assert "modality: esketamine_nasal" in _texts(app)


def test_overview_filters_that_match_nothing_say_so(monkeypatch, demo_path, demo_timeline):
    app = _app(monkeypatch, demo_path)
    for key, value in _empty_combination(demo_timeline).items():
        app.multiselect(key=key).set_value(value)
    app.run()
    assert not app.exception
    assert NO_MATCH in _texts(app)
    assert not app.metric


# ---------------------------------------------------------------------------
# Induction response


def test_induction_page_shows_its_charts(monkeypatch, demo_path):
    """The director sees the mean score by session, who responds when, ITT beside completers, severity and the funnel."""
    app = _app(monkeypatch, demo_path, "induction")
    titles = _chart_titles(app)
    assert titles == [
        "PHQ-9: mean score across the induction series",
        "PHQ-9: share of eligible courses responding and remitting after each session",
        "PHQ-9: how responses unfold among completers",
        "PHQ-9: intention to treat beside completers",
        "PHQ-9 severity before and after induction",
        "How many courses reach each session of the induction series",
    ]
    texts = _texts(app)
    assert "Responded later (none by session 2)" in texts
    assert "Individual lines appear when the filters narrow the cohort to 60 courses or fewer" in texts
    assert "How these numbers are defined" in texts


@pytest.mark.parametrize("split", list(common_views.SPLITS))
def test_induction_split_by_each_dimension(monkeypatch, demo_path, split):
    """Splitting the mean score by modality, site, clinician, condition, age band or sex redraws it per group."""
    app = _app(monkeypatch, demo_path, "induction")
    app.selectbox(key="induction_split").set_value(split).run()
    assert not app.exception
    words = common_views.SPLITS[split][2].lower()
    assert _chart_titles(app)[0] == f"PHQ-9: mean score across the induction series, by {words}"


def test_induction_switches_to_gad7(monkeypatch, demo_path):
    app = _app(monkeypatch, demo_path, "induction")
    app.segmented_control(key="induction_instrument").set_value("GAD-7").run()
    assert not app.exception
    assert _chart_titles(app)[0] == "GAD-7: mean score across the induction series"


def test_induction_small_cohort_draws_each_course(monkeypatch, demo_path, demo_timeline):
    """Narrowed to one clinician's IV courses (60 or fewer), every course gets its own line."""
    courses = demo_timeline.courses
    clinician = sorted(courses["clinician_id"].unique())[0]
    n = int(((courses["clinician_id"] == clinician) & (courses["modality"] == "ketamine_iv")).sum())
    assert 0 < n <= induction_views.SPAGHETTI_MAX_COURSES
    app = _app(monkeypatch, demo_path, "induction", filter_clinicians=[clinician], filter_modalities=["ketamine_iv"])
    assert f"PHQ-9 of each course across the induction series ({n} courses)" in _chart_titles(app)


def test_induction_filters_that_match_nothing_say_so(monkeypatch, demo_path, demo_timeline):
    app = _app(monkeypatch, demo_path, "induction", **_empty_combination(demo_timeline))
    assert NO_MATCH in _texts(app)
    assert not app.get("plotly_chart")


# ---------------------------------------------------------------------------
# Boosters and durability


def test_boosters_page_shows_intervals_wear_off_durability_and_cadence(monkeypatch, demo_path, demo_timeline):
    """The director sees boosters delivered, the interval histogram, the wear-off chart, KM durability and cadence."""
    app = _app(monkeypatch, demo_path, "boosters")
    titles = _chart_titles(app)
    assert titles[0].startswith("Days between a booster and the session before it (n=")
    assert titles[1].startswith("Does the effect wear off? PHQ-9")
    assert "How long does the PHQ-9 response last after induction?" in titles
    assert titles[-1] == "Booster dates for the 15 patients with the most boosters"
    summary = boosters_views.booster_summary(demo_timeline)
    assert _metric(app, "Boosters delivered") == f"{summary['boosters']:,}"
    assert _metric(app, "Median days between sessions") == f"{summary['median_interval_days']:.0f} days"
    durability = boosters_views.durability_view(demo_timeline, "PHQ-9")
    texts = _texts(app)
    if durability["median_days"] is not None:
        assert f"**{durability['median_days']:.0f} days**" in texts
    assert "Boosters per patient-month" in texts and "How these numbers are defined" in texts


def test_boosters_instrument_and_cadence_widgets(monkeypatch, demo_path):
    app = _app(monkeypatch, demo_path, "boosters")
    app.segmented_control(key="boosters_instrument").set_value("GAD-7").run()
    assert not app.exception
    assert any(title.startswith("Does the effect wear off? GAD-7") for title in _chart_titles(app))
    app.slider(key="boosters_top").set_value(5).run()
    assert not app.exception
    assert _chart_titles(app)[-1] == "Booster dates for the 5 patients with the most boosters"


def test_boosters_filters_that_match_nothing_say_so(monkeypatch, demo_path, demo_timeline):
    app = _app(monkeypatch, demo_path, "boosters", **_empty_combination(demo_timeline))
    assert NO_MATCH in _texts(app)


# ---------------------------------------------------------------------------
# An empty store


@pytest.mark.parametrize("page", [None, "induction", "boosters"])
def test_an_empty_store_explains_what_to_do(monkeypatch, tmp_path, page):
    """Pointed at a store that does not exist yet, each page says how to load data instead of failing."""
    app = _app(monkeypatch, tmp_path / "new.duckdb", page)
    texts = _texts(app)
    assert NO_DATA in texts
    assert "How these numbers are defined" in texts
    assert not app.get("plotly_chart")
