"""The quarterly report laid out for the page: quarter choices and tables built from report.quarterly_report."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.engine.long_term import MEASURE_WORDS as LONG_TERM_WORDS
from analysis.engine.long_term import met_key
from analysis.engine.timeline import Timeline
from analysis.reporting import document
from analysis.reporting.export import GROUP_NAMES
from analysis.reporting.report import period_kind, period_label, quarter_bounds
from analysis.reporting.shapes import Count, Interval, Report
from analysis.reporting.suppression import suppress_long_term, suppress_report
from analysis.settings import Settings

ALL = "all"
PERIOD_KINDS = {"quarter": "Quarter", "half-year": "Half-year", "year": "Year"}
WAY_OUT = (
    "A small clinic's quarter is mostly withheld: a longer period — a half-year or a year — gathers enough "
    "courses to show its rates."
)


def quarter_options(timeline: Timeline | None, kind: str = "quarter") -> list[str]:
    """Periods of the kind ('quarter', 'half-year', 'year') in which courses started, newest first, then 'all'."""
    if timeline is None or timeline.courses.empty:
        return [ALL]
    quarters = timeline.courses["start_quarter"].dropna().unique()
    if kind == "half-year":
        periods = {f"{q[:4]}H{(int(q[-1]) + 1) // 2}" for q in quarters}
    elif kind == "year":
        periods = {q[:4] for q in quarters}
    else:
        periods = set(quarters)
    return [*sorted(periods, reverse=True), ALL]


def is_complete(quarter: str, data_last_date: dt.date | None) -> bool:
    """A quarter is complete when the data reach its last day."""
    if quarter == ALL or data_last_date is None:
        return True
    return quarter_bounds(quarter)[1] <= pd.Timestamp(data_last_date).date()


def default_quarter(options: list[str], data_last_date: dt.date | None) -> str:
    """The newest complete quarter (a quarter still under way is mostly courses in progress)."""
    for quarter in options:
        if quarter != ALL and is_complete(quarter, data_last_date):
            return quarter
    return options[0]


def quarter_label(quarter: str, data_last_date: dt.date | None = None) -> str:
    """'2026Q1 (Jan–Mar 2026)', '2026H1 (Jan–Jun 2026)', '2026 (Jan–Dec 2026)'; a period the data do not
    yet cover says so."""
    if quarter == ALL:
        return "All quarters"
    label = period_label(quarter)
    if not is_complete(quarter, data_last_date):
        label += f", data to {pd.Timestamp(data_last_date):%d %b}"
    return label


def _count(value: Count | None) -> str:
    if value is None:
        return "—"
    return str(value)


def rate_text(rate: float | None, ci: Interval, n: Count | None = None, short: bool = False) -> str:
    """'52.3% (95% CI 38.0–66.2%)' (short: '52.3% (38.0–66.2)'); 'withheld (small numbers)' when suppression hides
    it; '—' when there is nothing to count. One decimal, as the summary above and the HTML, PDF and CSV give it:
    a director comparing the page with the board's PDF finds the same figure."""
    if rate is None:
        # With suppression on, a rate built on 1-10 courses is withheld; with n = 0 there is no rate.
        return "—" if n in (0, None) else "withheld" if short else "withheld (small numbers)"
    low, high = ci
    if low is None or high is None:
        return document.percent_text(rate)
    if short:
        return f"{rate * 100:.1f}% ({low * 100:.1f}–{high * 100:.1f})"
    return f"{rate * 100:.1f}% (95% CI {low * 100:.1f}–{high * 100:.1f}%)"


def mean_text(value: float | None, ci: Interval | None = None, signed: bool = False) -> str:
    if value is None:
        return "—"
    shown = f"{value:+.1f}" if signed else f"{value:.1f}"
    if ci and ci[0] is not None and ci[1] is not None:
        shown += f" (95% CI {ci[0]:+.1f} to {ci[1]:+.1f})" if signed else f" (95% CI {ci[0]:.1f}–{ci[1]:.1f})"
    return shown


def outcome_table(report: Report) -> pd.DataFrame:
    """Response and remission per instrument, ITT and completers, with n beside every rate."""
    rows = []
    for code, summary in report["instruments"].items():
        for group in ("itt", "completers"):
            numbers = summary[group]
            rows.append(
                {
                    "Instrument": code,
                    "Group": GROUP_NAMES[group],
                    "Courses (n)": _count(numbers["n"]),
                    "Responders": _count(numbers["response_n"]),
                    "Response rate": rate_text(numbers["response_rate"], numbers["response_ci"], numbers["n"]),
                    "Remitters": _count(numbers["remission_n"]),
                    "Remission rate": rate_text(numbers["remission_rate"], numbers["remission_ci"], numbers["n"]),
                }
            )
    return pd.DataFrame(rows)


def score_table(report: Report) -> pd.DataFrame:
    """Baseline counts, who was left out and why, and mean scores (ITT): one row per measure, a column per instrument."""
    columns = {}
    for code, summary in report["instruments"].items():
        left_out = summary["left_out"]
        columns[code] = {
            "Courses with a baseline score": _count(summary["baseline_n"]),
            "Eligible (baseline at or above the threshold)": _count(summary["eligible_n"]),
            "Left out: no baseline": _count(left_out["no_baseline"]),
            "Left out: baseline below the threshold": _count(left_out["baseline_below_threshold"]),
            "Left out: still in induction": _count(left_out["in_progress"]),
            "Intention-to-treat courses (n)": _count(summary["itt"]["n"]),
            "Mean baseline score": mean_text(summary["mean_baseline"], summary.get("mean_baseline_ci")),
            "Mean endpoint score": mean_text(summary["mean_endpoint"], summary.get("mean_endpoint_ci")),
            "Mean change (endpoint − baseline)": mean_text(
                summary["mean_change"], summary["mean_change_ci"], signed=True
            ),
            "Reliable improvement (courses)": _count(summary["reliable_improvement_n"]),
        }
    table = pd.DataFrame(columns)
    table.index.name = "Measure"
    return table.reset_index()


COURSE_MEASURES = (
    ("courses_started", "Courses started"),
    ("patients_started", "Patients starting a course"),
    ("induction_completed", "Induction completed"),
    ("in_progress", "Induction in progress"),
    ("boosters_delivered", "Boosters delivered in the period"),
    ("item9_positive_baseline", "PHQ-9 item 9 ≥ 1 at baseline"),
    # Beside the positive count, always: with total-only PHQ-9s a 0 above means "not asked", not "no".
    ("item9_unknown_baseline", "Item 9 unknown at baseline"),
)


def course_table(report: Report) -> pd.DataFrame:
    rows = [{"Measure": words, "Value": _count(report[key])} for key, words in COURSE_MEASURES]
    median = report["median_booster_interval_days"]
    rows.append({"Measure": "Median booster interval", "Value": "—" if median is None else f"{median:.0f} days"})
    return pd.DataFrame(rows)


def history_table(reports: list[Report]) -> pd.DataFrame:
    """Key figures for several quarters side by side (one column per quarter, oldest first), per instrument."""
    measures = {}
    instruments = list(reports[-1]["instruments"]) if reports else []
    for report in reports:
        column = {
            "Courses started": _count(report["courses_started"]),
            "Induction completed": _count(report["induction_completed"]),
        }
        for instrument in instruments:
            summary = report["instruments"][instrument]
            itt = summary["itt"]
            column |= {
                f"{instrument} ITT courses (n)": _count(itt["n"]),
                f"{instrument} response rate (ITT, 95% CI)": rate_text(
                    itt["response_rate"], itt["response_ci"], itt["n"], short=True
                ),
                f"{instrument} remission rate (ITT, 95% CI)": rate_text(
                    itt["remission_rate"], itt["remission_ci"], itt["n"], short=True
                ),
                f"{instrument} mean change (ITT)": mean_text(summary["mean_change"], signed=True),
            }
        column["Boosters delivered"] = _count(report["boosters_delivered"])
        measures[report["quarter"]] = column
    table = pd.DataFrame(measures)
    table.index.name = "Measure"
    return table.reset_index()


def contains_suppressed(report: Report) -> bool:
    """Whether any count in the report is shown as '<11'."""

    def walk(value: object) -> bool:
        if isinstance(value, dict):
            return any(walk(v) for v in value.values())
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return isinstance(value, str) and value.startswith("<")

    return walk({k: v for k, v in report.items() if k not in ("cohort", "settings")})


def download_name(quarter: str, suppressed: bool, extension: str) -> str:
    suffix = "" if suppressed else "_INTERNAL"
    return f"outcomes_report_{quarter}{suffix}.{extension}"


def as_shown(full_report: Report, settings: Settings, suppress: bool) -> Report:
    """The report as a page shows it: suppressed exactly as report.quarterly_report(suppress=True) does."""
    return suppress_report(full_report, settings.suppression_max) if suppress else full_report


def period_words(period: str) -> str:
    """'quarter', 'half-year' or 'year' (for sentences such as "the four quarters before")."""
    kind = period_kind(period)
    return "period" if kind == "all" else kind


def long_term_table(block: dict) -> pd.DataFrame:
    """The §5b measures for one group of index dates: who is measurable, met, the rate, who is not yet."""
    rows = []
    for key, words in LONG_TERM_WORDS.items():
        numbers = block[key]
        rows.append(
            {
                "Measure": words,
                "Patients measurable": _count(numbers["n"]),
                "Met": _count(numbers[met_key(numbers)]),
                "Rate (95% CI)": rate_text(numbers["rate"], numbers["ci"], numbers["n"]),
                "No PHQ-9 in the window": _count(numbers["no_score_n"]),
                "Window not closed yet": _count(numbers["not_yet"]),
            }
        )
    return pd.DataFrame(rows)


def long_term_quarters_table(blocks: list[dict], settings: Settings, suppress: bool) -> pd.DataFrame:
    """Each §5b rate by quarter of the index PHQ-9 (columns), suppressed as the report is."""
    columns = {}
    for block in blocks:
        shown = suppress_long_term(block, settings.suppression_max) if suppress else block
        column = {"Patients with an index PHQ-9": _count(shown["index_n"])}
        for key, words in LONG_TERM_WORDS.items():
            numbers = shown[key]
            column[words] = rate_text(numbers["rate"], numbers["ci"], numbers["n"], short=True)
            column[f"{words}: not yet"] = _count(numbers["not_yet"])
        columns["All" if block["quarter"] == ALL else block["quarter"]] = column
    table = pd.DataFrame(columns)
    table.index.name = "Index quarter"
    return table.reset_index()


def pattern_table(report: Report) -> pd.DataFrame:
    """Trajectory classes per instrument (§5a) and the share responding after no response by session 2: the very
    table of the HTML and PDF report (its short headers also fit the page without scrolling sideways)."""
    table = document.pattern_table(report)
    return pd.DataFrame(table.rows, columns=list(table.columns))


def pattern_note(report: Report) -> str:
    """What the four response patterns mean, as the HTML and PDF print it under the table."""
    return document.pattern_table(report).note
