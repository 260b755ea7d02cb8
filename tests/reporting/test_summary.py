"""The written summary states only numbers the report holds, and says so when a rate is withheld or missing."""

from __future__ import annotations

import re

import pytest

from analysis.engine.cohort import CohortFilter
from analysis.reporting.published import PUBLISHED_RESULTS
from analysis.reporting.report import previous_quarters, quarterly_report
from analysis.reporting.summary import written_summary

# Numbers that are words of the sentences themselves, not figures.
FIXED_WORDING = ("PHQ-9", "item 9", "12-month", "at 1 or more", "CMS159", "fewer than 11")
NUMBER = re.compile(r"\b\d{4}(?:Q[1-4]|H[12])?\b|\d+(?:\.\d+)?%?")


def _report_numbers(value, found: set[str]) -> set[str]:
    """Every figure of a report as the summary would print it: counts, rates as 52.3%, days as 30.0, periods."""
    if isinstance(value, dict):
        for inner in value.values():
            _report_numbers(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _report_numbers(inner, found)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        found.add(str(value))
    elif isinstance(value, float):
        found.update({f"{value * 100:.1f}%", f"{value:.1f}"})
    elif isinstance(value, str):
        found.add(value)
    return found


def _numbers_in(sentences: list[str]) -> list[str]:
    text = " ".join(sentences)
    for words in FIXED_WORDING:
        text = text.replace(words, " ")
    return NUMBER.findall(text)


def _summary(timeline, period: str, suppress: bool) -> tuple[list[str], set[str]]:
    report = quarterly_report(timeline, period, CohortFilter(), suppress)
    history = [quarterly_report(timeline, q, CohortFilter(), suppress) for q in previous_quarters(period, 4)]
    allowed = _report_numbers([report, history, [dict(s) for s in PUBLISHED_RESULTS]], set())
    allowed.add(str(len(history)))  # "In the 4 periods before"
    return written_summary(report, history), allowed


@pytest.mark.parametrize("period, suppress", [("2026Q2", True), ("2026Q2", False), ("2026H1", True), ("2025", False)])
def test_every_number_in_the_summary_is_in_the_report(demo_timeline, period, suppress):
    """Demo clinic: each figure the sentences state is a figure of the report, of the four periods before, or of
    the published results printed beside them."""
    sentences, allowed = _summary(demo_timeline, period, suppress)
    assert len(sentences) >= 5
    stated = _numbers_in(sentences)
    assert stated, sentences
    assert [n for n in stated if n not in allowed] == [], sentences


def test_a_withheld_rate_is_described_never_guessed(tmp_path):
    """12 courses, 8 responders: suppressed, the response rate is said to be withheld and 66.7% is not stated;
    internal use states 66.7%."""
    from test_report_cli import _clinic
    from test_report_pdf import TODAY

    from analysis import ingest, store
    from analysis.engine.timeline import load_timeline

    sessions, assessments = _clinic()
    with store.opened(tmp_path / "c.duckdb") as con:
        assert ingest.import_tables(con, [("s.csv", sessions), ("a.csv", assessments)], today=TODAY).ok
        timeline = load_timeline(con)
    shared = " ".join(written_summary(quarterly_report(timeline, "2026Q1", CohortFilter(), True)))
    assert "no rate, as it is withheld because fewer than 11 courses or events count" in shared
    assert "66.7%" not in shared
    internal = " ".join(written_summary(quarterly_report(timeline, "2026Q1", CohortFilter(), False)))
    assert "66.7% responded on the PHQ-9" in internal
    assert "for 12 courses item 9 is unknown (total recorded only)" in internal
    empty = " ".join(written_summary(quarterly_report(timeline, "2025Q3", CohortFilter(), False)))
    assert "no rate, as no eligible course has finished induction yet" in empty
