"""Write the quarterly report as JSON, tidy CSV, XLSX or one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import sys
from pathlib import Path

import pandas as pd

from analysis import store
from analysis.engine.cohort import CohortFilter
from analysis.engine.timeline import Timeline, load_timeline
from analysis.instruments import OutcomeRules
from analysis.reporting.report import ReportError, parse_quarter, quarterly_report
from analysis.settings import load_settings
from analysis.spreadsheet import csv_text, safe_frame
from analysis.wording import internal_use_note, suppression_note

GROUP_NAMES = {"itt": "Intention to treat", "completers": "Completers"}


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str) + "\n"


def tidy_table(report: dict) -> pd.DataFrame:
    """One row per figure: what a quality lead pastes into a board pack."""
    rows = []

    def add(section, instrument, measure, value, ci=(None, None), denominator=None):
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
            }
        )

    add("Courses", None, "Courses started", report["courses_started"])
    add("Courses", None, "Patients starting a course", report["patients_started"])
    add("Courses", None, "Induction completed", report["induction_completed"])
    add("Courses", None, "Induction in progress", report["in_progress"])
    add("Courses", None, "Courses with PHQ-9 item 9 >= 1 at baseline", report["item9_positive_baseline"])
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
        for point in summary["trajectory"]:
            label = "Baseline" if point["t"] == 0 else f"After {point['t']} session{'s' if point['t'] > 1 else ''}"
            add("Trajectory", code, f"Mean score: {label}", point["mean"], point["ci"], point["n"])
    return pd.DataFrame(rows)


def settings_table(report: dict) -> pd.DataFrame:
    rows = []
    for key, value in report["settings"].items():
        if isinstance(value, dict):
            rows.extend({"setting": f"{key}.{inner}", "value": str(v)} for inner, v in value.items())
        else:
            rows.append({"setting": key, "value": str(value)})
    return pd.DataFrame(rows)


def _notes(report: dict) -> list[str]:
    return [
        (suppression_note if report["suppressed"] else internal_use_note)(report["settings"]),
        f"Quarter: {report['quarter']} (courses by the date of their first session). Cohort: {report['cohort']}.",
        f"Data up to {report['data_last_date']}. Definitions: docs/DEFINITIONS.md (OUTCOMES.md).",
    ]


def rule_sentences(report: dict) -> list[str]:
    """Each reported instrument's rules in words, from the settings the report was made with."""
    sentences = []
    for code in report["instruments"]:
        rules = OutcomeRules(**report["settings"]["instrument_rules"][code])
        sentences.append(
            f"{code}: only courses with a {rules.eligibility_words()} count. Response: {rules.response_words()}. "
            f"Remission: {rules.remission_words()}."
        )
    return sentences


def to_csv(report: dict) -> str:
    """The tidy table; every row says whether small cells were suppressed, so no copy loses it."""
    table = tidy_table(report)
    table["suppression"] = _notes(report)[0]
    return csv_text(table)


def to_xlsx(report: dict) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        # openpyxl writes a text cell starting with '=' as a formula: every sheet goes through safe_frame.
        safe_frame(pd.DataFrame({"note": _notes(report)})).to_excel(writer, sheet_name="About", index=False)
        table = safe_frame(tidy_table(report))
        table.loc[table["section"] != "Trajectory"].to_excel(writer, sheet_name="Outcomes", index=False)
        table.loc[table["section"] == "Trajectory"].to_excel(writer, sheet_name="Trajectory", index=False)
        safe_frame(settings_table(report)).to_excel(writer, sheet_name="Settings", index=False)
        for sheet in writer.sheets.values():
            for column in sheet.columns:
                width = max(len(str(cell.value or "")) for cell in column)
                sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 70)
    return buffer.getvalue()


def _format(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return html.escape(str(value))


def _rate(value, ci) -> str:
    if value is None:
        return "withheld" if ci == [None, None] else "—"
    low, high = ci
    interval = f" ({low:.0%}–{high:.0%})" if low is not None and high is not None else ""
    return f"{value:.0%}{interval}"


def to_html(report: dict, history: list[dict] | None = None) -> str:
    """One printable file with tables and charts; plotly.js is embedded so it opens offline."""
    from analysis import charts

    figures = []
    for code in report["instruments"]:
        figures.append(charts.report_trajectory(report, code))
    if history:
        figures.extend(charts.report_rates_by_quarter(history + [report], code) for code in report["instruments"])
    chart_html = []
    for index, figure in enumerate(figures):
        chart_html.append(
            figure.to_html(
                full_html=False, include_plotlyjs=(index == 0), config={"displayModeBar": False, "staticPlot": True}
            )
        )
    rows = []
    for code, summary in report["instruments"].items():
        for group in ("itt", "completers"):
            numbers = summary[group]
            rows.append(
                f"<tr><td>{code}</td><td>{GROUP_NAMES[group]}</td><td>{_format(numbers['n'])}</td>"
                f"<td>{_format(numbers['response_n'])}</td><td>{_rate(numbers['response_rate'], numbers['response_ci'])}</td>"
                f"<td>{_format(numbers['remission_n'])}</td><td>{_rate(numbers['remission_rate'], numbers['remission_ci'])}</td></tr>"
            )
    means = []
    for code, summary in report["instruments"].items():
        low, high = summary["mean_change_ci"]
        interval = f" ({low:.1f} to {high:.1f})" if low is not None else ""
        means.append(
            f"<tr><td>{code}</td><td>{_format(summary['baseline_n'])}</td><td>{_format(summary['eligible_n'])}</td>"
            f"<td>{_format(summary['mean_baseline'])}</td><td>{_format(summary['mean_endpoint'])}</td>"
            f"<td>{_format(summary['mean_change'])}{interval}</td><td>{_format(summary['reliable_improvement_n'])}</td></tr>"
        )
    banner_class = "internal" if not report["suppressed"] else "note"
    rule_items = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in rule_sentences(report))
    settings_rows = "".join(
        f"<tr><td>{html.escape(r.setting)}</td><td>{html.escape(r.value)}</td></tr>"
        for r in settings_table(report).itertuples()
    )
    median = report["median_booster_interval_days"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Outcomes report {html.escape(report["quarter"])}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem; color: #1f2933; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccd; }}
table {{ border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .92rem; }}
th, td {{ border: 1px solid #d5d9e0; padding: .3rem .5rem; text-align: left; }} th {{ background: #f1f3f6; }}
.note {{ background: #eef4fb; padding: .6rem .8rem; border-left: 4px solid #0072B2; }}
.internal {{ background: #fff1e6; padding: .6rem .8rem; border-left: 4px solid #D55E00; font-weight: 600; }}
.tiles {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: .6rem; }}
.tile {{ border: 1px solid #d5d9e0; border-radius: 6px; padding: .5rem .7rem; }} .tile b {{ font-size: 1.4rem; display: block; }}
@media print {{ body {{ margin: 0; max-width: none; }} h2 {{ break-after: avoid; }} .chart {{ break-inside: avoid; }} }}
</style></head><body>
<h1>Ketamine and esketamine outcomes — {html.escape("all courses" if report["quarter"] == "all" else report["quarter"])}</h1>
<p>Cohort: {html.escape(report["cohort"])}. Data up to {html.escape(str(report["data_last_date"]))}. Generated {dt.date.today()}.</p>
<p class="{banner_class}">{html.escape(_notes(report)[0])}</p>
<h2>Courses</h2>
<div class="tiles">
<div class="tile">Courses started<b>{_format(report["courses_started"])}</b></div>
<div class="tile">Patients<b>{_format(report["patients_started"])}</b></div>
<div class="tile">Induction completed<b>{_format(report["induction_completed"])}</b></div>
<div class="tile">Induction in progress<b>{_format(report["in_progress"])}</b></div>
<div class="tile">Boosters delivered<b>{_format(report["boosters_delivered"])}</b></div>
<div class="tile">Median booster interval<b>{"—" if median is None else f"{median:.0f} days"}</b></div>
<div class="tile">Item 9 positive at baseline<b>{_format(report["item9_positive_baseline"])}</b></div>
</div>
<h2>Response and remission</h2>
<p>Intention to treat keeps every finished course (the last score, or the baseline when there is none);
completers are courses that finished induction with an end-of-induction score. 95% Wilson intervals in brackets.</p>
<ul>{rule_items}</ul>
<table><tr><th>Instrument</th><th>Group</th><th>Courses</th><th>Responders</th><th>Response rate</th><th>Remitters</th><th>Remission rate</th></tr>
{"".join(rows)}</table>
<h2>Scores (intention to treat)</h2>
<table><tr><th>Instrument</th><th>With baseline</th><th>Eligible</th><th>Mean baseline</th><th>Mean endpoint</th><th>Mean change (95% CI)</th><th>Reliable improvement</th></tr>
{"".join(means)}</table>
<h2>Charts</h2>
{"".join(f'<div class="chart">{c}</div>' for c in chart_html)}
<h2>Settings used</h2>
<table><tr><th>Setting</th><th>Value</th></tr>{settings_rows}</table>
</body></html>
"""


def report_history(
    timeline: Timeline, quarter: str, filters: CohortFilter | None, suppress: bool, count: int = 4
) -> list[dict]:
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
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "html":
        return to_html(report, report_history(timeline, report["quarter"], filters, suppress))
    raise ReportError(f"{fmt!r} is not a report format; use json, csv, xlsx or html.")


def run_cli(args) -> int:
    try:
        quarter = parse_quarter(args.quarter)
        settings = load_settings(args.settings)
    except ValueError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if args.format == "xlsx" and not args.out:
        print("Error: an .xlsx report needs --out FILE (it is not text for the terminal).", file=sys.stderr)
        return 2
    path = Path(args.db).expanduser() if args.db else store.db_path_from_env()
    with store.opened(path, read_only=True) as con:
        timeline = load_timeline(con, settings, with_details=False)
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
    output = render(timeline, quarter, args.format, suppress=not args.no_suppress, filters=filters)
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
