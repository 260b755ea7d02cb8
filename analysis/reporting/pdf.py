"""The quarterly report as a printable PDF (fpdf2), its charts drawn by plotly's kaleido in the local Chromium."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import io
import logging
import os
import shutil
from pathlib import Path

import plotly.graph_objects as go
from fpdf import FPDF
from fpdf.fonts import FontFace

from analysis.reporting.document import Table, citations, period_title, published_table, report_tables
from analysis.reporting.shapes import Report
from analysis.settings import REPO_ROOT

log = logging.getLogger(__name__)

NO_BROWSER = "Chart not available: no browser (Chromium) was found to draw it."
CHART_FAILED = "Chart not available: the browser could not draw it."
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DEFINITIONS_PATH = REPO_ROOT / "docs" / "DEFINITIONS.md"
# The core PDF fonts speak Latin-1 only: the few other characters the report uses get plain stand-ins.
_PLAIN = str.maketrans({"—": "-", "–": "-", "−": "-", "≤": "<=", "≥": ">=", "’": "'", "“": '"', "”": '"', "…": "..."})
BLUE = (0, 114, 178)
ORANGE = (213, 94, 0)
HEADING_FILL = (241, 243, 246)


def plain(text: str) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", errors="replace").decode("latin-1")


def find_browser(path: str | os.PathLike | None = None) -> str | None:
    """The browser kaleido drives: `path`, else $BROWSER_PATH (kaleido's own variable), else Chromium on PATH.

    A named path that does not exist means no browser (so a test, or a machine without one, gets the
    sentence in place of each chart rather than a failure).
    """
    chosen = path or os.environ.get("BROWSER_PATH")
    if chosen:
        return str(chosen) if Path(chosen).is_file() else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


async def _draw(figures: list[go.Figure], browser: str) -> list[bytes]:
    import kaleido

    options = {"format": "png", "width": 900, "height": 480, "scale": 2}
    # mathjax=False: kaleido would otherwise load MathJax from a CDN (nothing leaves the machine); plotly.js
    # comes from the installed plotly package.
    async with kaleido.Kaleido(n=1, path=browser, timeout=90, mathjax=False) as drawing:
        return [await drawing.calc_fig(figure, opts=options) for figure in figures]


def chart_images(figures: list[go.Figure], browser: str | None = None) -> tuple[list[bytes | None], str]:
    """PNG images of the figures and, when they could not be drawn, the sentence to print instead."""
    found = find_browser(browser)
    if found is None or not figures:
        return [None] * len(figures), NO_BROWSER
    try:
        # In a thread of its own: the dashboard may already run an event loop in this one.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, _draw(figures, found)).result(timeout=300), ""
    except Exception:  # kaleido raises many kinds (no browser, timeouts, a crashed tab): the PDF still comes
        log.exception("Drawing the report's charts with %s failed", found)
        return [None] * len(figures), CHART_FAILED


class ReportPDF(FPDF):
    """A4 pages with the generation date and 'Page n of N' in the footer."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, plain(f"{self.footer_text}   Page {self.page_no()} of {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)


def _heading(pdf: FPDF, text: str, size: int = 14) -> None:
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", size)
    pdf.multi_cell(0, 7, plain(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _paragraph(pdf: FPDF, text: str, size: int = 10, style: str = "") -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(0, 5, plain(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def _banner(pdf: FPDF, text: str, internal: bool) -> None:
    colour = ORANGE if internal else BLUE
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.8)
    pdf.set_fill_color(255, 241, 230) if internal else pdf.set_fill_color(238, 244, 251)
    pdf.set_font("Helvetica", "B" if internal else "", 10)
    pdf.multi_cell(0, 6, plain(text), border="L", fill=True, new_x="LMARGIN", new_y="NEXT", padding=2)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(2)


def _table(pdf: FPDF, table: Table) -> None:
    if table.title:
        _heading(pdf, table.title, 12)
    pdf.set_font("Helvetica", size=8.5)
    widths = table.widths or tuple(1 for _ in table.columns)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        line_height=4.6,
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        borders_layout="SINGLE_TOP_LINE",
        repeat_headings=1,
    ) as layout:
        heading = layout.row()
        for column in table.columns:
            heading.cell(plain(column))
        for row in table.rows:
            cells = layout.row()
            for value in row:
                cells.cell(plain(value))
    if table.note:
        pdf.ln(1)
        _paragraph(pdf, table.note, size=8)


def _chart(pdf: FPDF, title: str, image: bytes | None, missing: str) -> None:
    if pdf.get_y() > pdf.h - 110:
        pdf.add_page()
    if image is None:
        _paragraph(pdf, f"{title}: {missing}", style="I")
        return
    pdf.image(io.BytesIO(image), w=pdf.epw)
    pdf.ln(2)


def definitions_text(path: Path = DEFINITIONS_PATH) -> list[tuple[str, str]]:
    """docs/DEFINITIONS.md as (kind, text) lines: 'h' headings and 'p' paragraphs, markdown marks removed."""
    if not path.exists():
        return [("p", "The definitions are in docs/DEFINITIONS.md of the dashboard (docs/DEFINITIONS.md).")]
    lines: list[tuple[str, str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            lines.append(("p", " ".join(paragraph)))
            paragraph.clear()

    for raw in path.read_text(encoding="utf-8").splitlines():
        text = raw.strip().replace("**", "").replace("`", "").replace("*", "")
        if raw.startswith("#"):
            flush()
            lines.append(("h", text.lstrip("# ")))
        elif not text:
            flush()
        elif text.startswith("- "):
            flush()
            paragraph.append("- " + text[2:])
        else:
            paragraph.append(text)
    flush()
    return lines


def to_pdf(
    report: Report,
    *,
    summary: list[str],
    period_label: str,
    figures: list[tuple[str, go.Figure | None, str]],
    settings_rows: list[tuple[str, str]],
    clinic_name: str,
    notes: list[str],
    browser: str | None = None,
    today: dt.date | None = None,
) -> bytes:
    """The PDF: title page with the summary, the report's tables, charts, published results, definitions.

    `figures` holds (title, figure, sentence): a figure of None prints its sentence instead (e.g. a
    chart withheld for small numbers); figures that cannot be drawn print why.
    """
    today = today or dt.date.today()
    drawable = [figure for _, figure, _ in figures if figure is not None]
    images, missing = chart_images(drawable, browser)
    image_of = iter(images)

    pdf = ReportPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(plain(f"Outcomes report {period_title(report['quarter'])}"))
    pdf.set_creator("ketamine outcomes dashboard")
    pdf.footer_text = f"{clinic_name or 'Outcomes report'} - {period_label} - generated {today:%d %B %Y}"
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(16, 16, 16)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 22)
    pdf.ln(12)
    pdf.multi_cell(0, 11, plain(clinic_name or "Clinic name not set"), new_x="LMARGIN", new_y="NEXT")
    if not clinic_name:
        _paragraph(pdf, "(Set clinic_name under [reporting] in settings.toml to print it here.)", size=9)
    pdf.set_font("Helvetica", "", 16)
    pdf.multi_cell(0, 9, plain("Ketamine and esketamine treatment outcomes"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _paragraph(pdf, f"Period: {period_label}", size=12, style="B")
    _paragraph(pdf, f"Courses count in the period of their first session. Cohort: {report['cohort']}.")
    _paragraph(pdf, f"{notes[2]} Generated {today:%d %B %Y}.")
    _banner(pdf, notes[0], internal=not report["suppressed"])
    for note in notes[3:]:
        _paragraph(pdf, note)

    _heading(pdf, "Summary")
    for sentence in summary:
        _paragraph(pdf, sentence, size=11)

    pdf.add_page()
    for table in report_tables(report):
        _table(pdf, table)

    pdf.add_page()
    _heading(pdf, "Charts")
    for title, figure, sentence in figures:
        if figure is None:
            _paragraph(pdf, f"{title}: {sentence}", style="I")
        else:
            _chart(pdf, title, next(image_of), missing)

    pdf.add_page()
    _table(pdf, published_table(report))
    _heading(pdf, "References", 12)
    for reference in citations():
        _paragraph(pdf, reference, size=8)

    pdf.add_page()
    _heading(pdf, "Appendix: how the numbers are defined")
    for kind, text in definitions_text():
        if kind == "h":
            _heading(pdf, text, 11)
        else:
            _paragraph(pdf, text, size=8.5)
    _table(pdf, Table("Settings used", ("Setting", "Value"), list(settings_rows), widths=(2, 3)))
    return bytes(pdf.output())
