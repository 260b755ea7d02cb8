"""The quarterly report as one self-contained, printable HTML file (plotly.js embedded, nothing fetched)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import html
from pathlib import Path

import plotly
import plotly.graph_objects as go

from analysis.reporting.document import Table, citations, count_text, published_table, report_tables
from analysis.reporting.shapes import Report


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    note = f'<p class="small">{html.escape(table.note)}</p>' if table.note else ""
    title = f"<h2>{html.escape(table.title)}</h2>" if table.title else ""
    return f"{title}<table><tr>{head}</tr>{body}</table>{note}"


@functools.cache
def _plotly_gzip_base64() -> str:
    """plotly.js, gzipped and base64-encoded: 2.0 MB in the file instead of 4.8 MB, still nothing fetched."""
    bundle = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    return base64.b64encode(gzip.compress(bundle, compresslevel=9, mtime=0)).decode("ascii")


def _chart_script(figures: list[go.Figure]) -> str:
    """One copy of plotly.js per report, unpacked by the browser (DecompressionStream), then every chart drawn."""
    if not figures:
        return ""
    # "</" inside a script would end it early: JSON lets it be written "<\\/".
    specs = "[" + ",".join(figure.to_json() for figure in figures).replace("</", "<\\/") + "]"
    return f"""<script id="plotly-gzip" type="application/octet-stream">{_plotly_gzip_base64()}</script>
<script>
(async () => {{
  const packed = Uint8Array.from(atob(document.getElementById("plotly-gzip").textContent), c => c.charCodeAt(0));
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
  (0, eval)(await new Response(stream).text());
  const figures = {specs};
  figures.forEach((figure, index) => Plotly.newPlot("chart-" + index, figure.data, figure.layout,
    {{displayModeBar: false, staticPlot: true}}));
}})();
</script>"""


def to_html(
    report: Report,
    *,
    summary: list[str],
    period_label: str,
    figures: list[tuple[str, go.Figure | None, str]],
    settings_rows: list[tuple[str, str]],
    clinic_name: str,
    notes: list[str],
) -> str:
    """One printable file: the summary first, then the tables, charts, published results and settings."""
    chart_html, drawn = [], []
    for title, figure, sentence in figures:
        if figure is None:
            chart_html.append(f'<p class="missing"><b>{html.escape(title)}:</b> {html.escape(sentence)}</p>')
            continue
        chart_html.append(f'<div class="chart" id="chart-{len(drawn)}"></div>')
        drawn.append(figure)
    banner_class = "internal" if not report["suppressed"] else "note"
    tiles = "".join(
        f'<div class="tile">{html.escape(label)}<b>{html.escape(count_text(report[key]))}</b></div>'
        for label, key in (
            ("Courses started", "courses_started"),
            ("Patients", "patients_started"),
            ("Induction completed", "induction_completed"),
            ("Induction in progress", "in_progress"),
            ("Boosters delivered", "boosters_delivered"),
            ("Item 9 positive at baseline", "item9_positive_baseline"),
            ("Item 9 unknown at baseline (total only)", "item9_unknown_baseline"),
        )
    )
    tables = "".join(_table(table) for table in report_tables(report)[1:])
    settings = _table(Table("Settings used", ("Setting", "Value"), list(settings_rows)))
    references = "".join(f"<li>{html.escape(text)}</li>" for text in citations())
    name = html.escape(clinic_name) if clinic_name else "Outcomes report"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{name}: outcomes {html.escape(period_label)}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem; color: #1f2933; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccd; }}
table {{ border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .92rem; }}
th, td {{ border: 1px solid #d5d9e0; padding: .3rem .5rem; text-align: left; }} th {{ background: #f1f3f6; }}
.note {{ background: #eef4fb; padding: .6rem .8rem; border-left: 4px solid #0072B2; }}
.internal {{ background: #fff1e6; padding: .6rem .8rem; border-left: 4px solid #D55E00; font-weight: 600; }}
.summary {{ font-size: 1.05rem; line-height: 1.5; }} .small {{ font-size: .85rem; color: #444; }}
.missing {{ font-style: italic; color: #444; }}
.tiles {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: .6rem; }}
.tile {{ border: 1px solid #d5d9e0; border-radius: 6px; padding: .5rem .7rem; }} .tile b {{ font-size: 1.4rem; display: block; }}
@media print {{ body {{ margin: 0; max-width: none; }} h2 {{ break-after: avoid; }} .chart {{ break-inside: avoid; }} }}
</style></head><body>
<h1>{name}: ketamine and esketamine outcomes, {html.escape(period_label)}</h1>
<p>{html.escape(notes[1])} {html.escape(notes[2])} Generated {dt.date.today()}.</p>
<p class="{banner_class}">{html.escape(notes[0])}</p>
{"".join(f'<p class="small">{html.escape(note)}</p>' for note in notes[3:])}
<h2>Summary</h2>
<div class="summary">{"".join(f"<p>{html.escape(s)}</p>" for s in summary)}</div>
<h2>Courses</h2>
<div class="tiles">{tiles}</div>
<p class="small">Median booster interval: {html.escape(report_tables(report)[0].rows[5][1])} days.</p>
{tables}
<h2>Charts</h2>
{"".join(chart_html)}
{_table(published_table(report))}
<h2>References</h2><ol class="small" style="list-style: none; padding-left: 0">{references}</ol>
{settings}
<p class="small">Every definition: docs/DEFINITIONS.md of the dashboard (it follows docs/DEFINITIONS.md).</p>
{_chart_script(drawn)}
</body></html>
"""
