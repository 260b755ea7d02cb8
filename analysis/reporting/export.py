"""Write the quarterly report as JSON, tidy CSV, XLSX or one self-contained HTML file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from analysis import store
from analysis.engine.cohort import CohortFilter
from analysis.engine.long_term import INSTRUMENT as LONG_TERM_INSTRUMENT
from analysis.engine.long_term import MEASURE_WORDS as LONG_TERM_WORDS
from analysis.engine.long_term import met_key
from analysis.engine.timeline import Timeline, load_timeline
from analysis.reporting import html, pdf, xlsx
from analysis.reporting.document import GROUP_NAMES, settings_rows
from analysis.reporting.report import (
    ReportError,
    courses_in_quarter,
    parse_quarter,
    period_label,
    quarterly_report,
)
from analysis.reporting.shapes import Count, InstrumentBlock, Interval, Report
from analysis.reporting.summary import written_summary
from analysis.settings import load_settings
from analysis.spreadsheet import csv_text
from analysis.wording import internal_use_note, suppression_note

CLASS_WORDS = {
    "early": "Early responders (response by session 2, kept)",
    "late": "Late responders (response from session 3, kept)",
    "unsustained": "Unsustained (responded, not at the end)",
    "non_responder": "Non-responders",
}


def completers_note(summary: InstrumentBlock, instrument: str, window_days: int) -> str:
    """Beside the completers' n: how many finished induction with no end-of-induction score, and what would count.

    Empty when the instrument has neither completers nor such courses (nothing to explain)."""
    missing = summary.get("completed_without_end_score")
    n = summary["completers"]["n"]
    if n == 0 and missing in (None, 0):
        return ""
    shown = f"{n} courses" if isinstance(n, str) else f"n={n}"  # a suppressed n reads '<11 courses'
    sentence = f"Completers ({shown}) are eligible courses that finished induction and have an end-of-induction score."
    if missing not in (None, 0):
        sentence += (
            f" {missing} more finished induction without one: a {instrument} dated within {window_days} days "
            "after the last induction session would count them."
        )
    return sentence


def to_json(report: Report) -> str:
    return json.dumps(report, indent=2, default=str) + "\n"


def tidy_table(report: Report) -> pd.DataFrame:
    """One row per figure: what a quality lead pastes into a board pack."""
    rows = []

    def add(
        section: str,
        instrument: str | None,
        measure: str,
        value: Count | float | None,
        ci: Interval | None = None,
        denominator: Count | None = None,
    ) -> None:
        ci = ci or [None, None]
        lowered = measure.lower()
        kind = (
            "rate"
            if "rate" in lowered or lowered.startswith("of those")
            else "days"
            if "(days)" in lowered
            else "mean"
            if lowered.startswith("mean")
            else "count"
        )
        rows.append(
            {
                "quarter": report["quarter"],
                "section": section,
                "instrument": instrument or "",
                "measure": measure,
                "value": value,
                "ci_lower": ci[0],
                "ci_upper": ci[1],
                "denominator": denominator,
                "kind": kind,
            }
        )

    add("Courses", None, "Courses started", report["courses_started"])
    add("Courses", None, "Patients starting a course", report["patients_started"])
    add("Courses", None, "Induction completed", report["induction_completed"])
    add("Courses", None, "Induction in progress", report["in_progress"])
    add("Courses", None, "Courses with PHQ-9 item 9 >= 1 at baseline", report["item9_positive_baseline"])
    add(
        "Courses",
        None,
        "Courses with PHQ-9 item 9 unknown at baseline (total only or item 9 blank)",
        report["item9_unknown_baseline"],
    )
    add("Boosters", None, "Boosters delivered in the period", report["boosters_delivered"])
    add("Boosters", None, "Median booster interval (days)", report["median_booster_interval_days"])
    for code, summary in report["instruments"].items():
        add("Baseline", code, "Courses with a baseline score", summary["baseline_n"])
        add("Baseline", code, "Eligible (baseline at or above threshold)", summary["eligible_n"])
        for reason, n in summary["left_out"].items():
            add("Baseline", code, f"Left out: {reason.replace('_', ' ')}", n)
        for group in ("itt", "completers"):
            numbers = summary[group]
            name = GROUP_NAMES[group]
            add(name, code, "Courses", numbers["n"])
            add(name, code, "Responders", numbers["response_n"], denominator=numbers["n"])
            add(name, code, "Response rate", numbers["response_rate"], numbers["response_ci"], numbers["n"])
            add(name, code, "Remitters", numbers["remission_n"], denominator=numbers["n"])
            add(name, code, "Remission rate", numbers["remission_rate"], numbers["remission_ci"], numbers["n"])
        itt_n = summary["itt"]["n"]
        add(
            "Completers",
            code,
            "Finished induction without an end-of-induction score",
            summary["completed_without_end_score"],
        )
        add("Intention to treat", code, "Reliable improvement", summary["reliable_improvement_n"], denominator=itt_n)
        add(
            "Intention to treat", code, "Reliable deterioration", summary["reliable_deterioration_n"], denominator=itt_n
        )
        add(
            "Intention to treat",
            code,
            "Mean baseline score",
            summary["mean_baseline"],
            summary["mean_baseline_ci"],
            itt_n,
        )
        add(
            "Intention to treat",
            code,
            "Mean endpoint score",
            summary["mean_endpoint"],
            summary["mean_endpoint_ci"],
            itt_n,
        )
        add(
            "Intention to treat",
            code,
            "Mean change (endpoint - baseline)",
            summary["mean_change"],
            summary["mean_change_ci"],
            itt_n,
        )
        classes = summary["trajectory_classes"]
        for name, words in CLASS_WORDS.items():
            add("Response patterns (completers)", code, words, classes[name], denominator=classes["n"])
        add(
            "Response patterns (completers)",
            code,
            "No response after 2 sessions",
            classes["no_response_by_t2_n"],
            denominator=classes["n"],
        )
        add(
            "Response patterns (completers)",
            code,
            "Of those, responding at the end of induction",
            classes["later_response_rate"],
            classes["later_response_ci"],
            classes["no_response_by_t2_n"],
        )
        for point in summary["trajectory"]:
            label = "Baseline" if point["t"] == 0 else f"After {point['t']} session{'s' if point['t'] > 1 else ''}"
            add("Trajectory", code, f"Mean score: {label}", point["mean"], point["ci"], point["n"])
    long_term = report.get("long_term")
    if long_term:
        section = "Long-term (CMS159-style)"
        add(section, LONG_TERM_INSTRUMENT, "Patients with an index PHQ-9 of 10 or more", long_term["index_n"])
        for key, words in LONG_TERM_WORDS.items():
            numbers = long_term[key]
            met = "Remitted" if key.startswith("remission") else "Responded"
            add(section, LONG_TERM_INSTRUMENT, f"{words}: patients measurable", numbers["n"])
            add(section, LONG_TERM_INSTRUMENT, f"{words}: {met.lower()}", numbers[met_key(numbers)], None, numbers["n"])
            add(section, LONG_TERM_INSTRUMENT, f"{words}: rate", numbers["rate"], numbers["ci"], numbers["n"])
            add(section, LONG_TERM_INSTRUMENT, f"{words}: no PHQ-9 in the window", numbers["no_score_n"])
            add(section, LONG_TERM_INSTRUMENT, f"{words}: window not closed yet", numbers["not_yet"])
    # object, not float: a column mixing counts and rates would otherwise write every count as 5.0.
    return pd.DataFrame(rows, dtype=object)


def settings_table(report: Report) -> pd.DataFrame:
    """The settings the report was made with, in plain words (never a local file path)."""
    return pd.DataFrame(settings_rows(report["settings"]), columns=["setting", "value"])


def _notes(report: Report) -> list[str]:
    return [
        (suppression_note if report["suppressed"] else internal_use_note)(report["settings"]),
        f"Period: {period_label(report['quarter'])} (courses by the date of their first session). "
        f"Cohort: {report['cohort']}.",
        f"Data up to {report['data_last_date']}. Definitions: docs/DEFINITIONS.md.",
    ]


def to_csv(report: Report) -> str:
    """The tidy table; every row says whether small cells were suppressed, so no copy loses it."""
    table = tidy_table(report)
    table["suppression"] = _notes(report)[0]
    return csv_text(table)


def _document_parts(report: Report, history: list[Report], durability: dict | None) -> dict:
    """What the HTML and the PDF both lay out: the summary, the charts, the settings, the notes."""
    from analysis import charts  # the charts sit one layer up; only the document exports need them

    figures: list[tuple[str, object, str]] = []
    for code, summary in report["instruments"].items():
        if summary["baseline_n"] == 0 and summary["itt"]["n"] == 0:
            continue  # an instrument nobody in the period answered
        figures.append((f"{code} trajectory", charts.report_trajectory(report, code), ""))
    if history:
        for code in report["instruments"]:
            figures.append((f"{code} rates by period", charts.report_rates_by_quarter(history + [report], code), ""))
    if durability is not None:
        responders = durability["responders"]
        if isinstance(responders, str):  # "<11": suppressed
            figures.append(("Durability of response", None, "withheld: fewer than 11 responders (small numbers)."))
        elif responders == 0:
            figures.append(("Durability of response", None, "no completer responded in this period."))
        else:
            figures.append(("Durability of response", charts.durability_curve(durability, "PHQ-9"), ""))
    return {
        "summary": written_summary(report, history),
        "period_label": period_label(report["quarter"]),
        "figures": figures,
        "settings_rows": settings_rows(report["settings"]),
        "clinic_name": report["settings"].get("clinic_name", ""),
        # After the three fixed notes: why so few completers, where the completers' n is shown (issue 12).
        "notes": _notes(report)
        + [
            completers_note(summary, code, report["settings"]["end_of_induction_window_days"])
            for code, summary in report["instruments"].items()
            if summary.get("completed_without_end_score")
        ],
    }


def to_xlsx(report: Report, history: list[Report] | None = None) -> bytes:
    return xlsx.to_xlsx(report, tidy_table(report), _document_parts(report, history or [], None))


def to_html(report: Report, history: list[Report] | None = None, durability: dict | None = None) -> str:
    return html.to_html(report, **_document_parts(report, history or [], durability))


def to_pdf(
    report: Report, history: list[Report] | None = None, durability: dict | None = None, browser: str | None = None
) -> bytes:
    return pdf.to_pdf(report, **_document_parts(report, history or [], durability), browser=browser)


def report_history(
    timeline: Timeline, quarter: str, filters: CohortFilter | None, suppress: bool, count: int = 4
) -> list[Report]:
    """The reports of the `count` quarters before `quarter`, for a trend beside it."""
    from analysis.reporting.report import previous_quarters

    if quarter == "all":
        return []
    return [quarterly_report(timeline, q, filters, suppress) for q in previous_quarters(quarter, count)]


def render(
    timeline: Timeline, quarter: str, fmt: str, *, suppress: bool = True, filters: CohortFilter | None = None
) -> str | bytes:
    """The report in one format: the CLI and the dashboard's downloads both call this."""
    report = quarterly_report(timeline, quarter, filters, suppress)
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt not in ("xlsx", "html", "pdf"):
        raise ReportError(f"{fmt!r} is not a report format; use json, csv, xlsx, html or pdf.")
    history = report_history(timeline, report["quarter"], filters, suppress)
    if fmt == "xlsx":
        return to_xlsx(report, history)
    durability = period_durability(timeline, report["quarter"], filters, suppress)
    if fmt == "html":
        return to_html(report, history, durability)
    return to_pdf(report, history, durability)


def period_durability(timeline: Timeline, period: str, filters: CohortFilter | None, suppress: bool) -> dict | None:
    """The Kaplan-Meier durability view of the period's PHQ-9 responders, for the chart (None without details).

    With suppression on, numbers at risk of 1-10 are left off the chart like every small count.
    """
    from analysis.views.boosters import durability_view  # the one assembly of the curve the pages show

    if timeline.assessments is None or timeline.assessments.empty:
        return None  # the report-only timeline holds no follow-up scores
    view = durability_view(courses_in_quarter(timeline, period, filters), "PHQ-9")
    if suppress:
        limit = timeline.settings.suppression_max
        at_risk = view["at_risk"]
        view = {**view, "at_risk": at_risk.loc[~at_risk["at_risk"].between(1, limit)]}
        for key in ("responders", "lost", "censored"):
            if 1 <= view[key] <= limit:
                view[key] = f"<{limit + 1}"
    return view


def run_cli(args: argparse.Namespace) -> int:
    try:
        quarter = parse_quarter(args.quarter)
        settings = load_settings(args.settings)
    except ValueError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if args.format in ("xlsx", "pdf") and not args.out:
        print(f"Error: a .{args.format} report needs --out FILE (it is not text for the terminal).", file=sys.stderr)
        return 2
    path = Path(args.db).expanduser() if args.db else store.db_path_from_env()
    with store.opened(path, read_only=True) as con:
        # The PDF and HTML draw durability, which reads the follow-up scores only the full timeline holds.
        timeline = load_timeline(con, settings, with_details=args.format in ("pdf", "html"))
    filters = CohortFilter(
        start_from=args.start_from,
        start_to=args.start_to,
        sites=tuple(args.site),
        clinicians=tuple(args.clinician),
        modalities=tuple(args.modality),
        conditions=tuple(args.condition),
        age_bands=tuple(args.age_band),
        sexes=tuple(args.sex),
    )
    try:
        output = render(timeline, quarter, args.format, suppress=not args.no_suppress, filters=filters)
    except ReportError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
        try:
            if isinstance(output, bytes):
                out.write_bytes(output)
            else:
                out.write_text(output, encoding="utf-8")
        except OSError as error:
            print(f"Error: could not write {out} ({error.strerror}).", file=sys.stderr)
            return 2
        print(f"Report for {quarter} written to {out}.", file=sys.stderr)
    else:
        sys.stdout.write(output)
    return 0
