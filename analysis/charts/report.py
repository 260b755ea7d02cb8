"""Charts of the report dict (HTML and PDF exports): trajectory and rates by quarter."""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.charts.theme import (
    LAYOUT,
    MIN_N_SHOWN,
    PALETTE,
    add_thin_points,
    no_data,
    shade_severity_bands,
    solid_values,
    thin_note,
    timepoint_label,
)

ALL_WITHHELD = (
    "Every point is withheld for small numbers (1–10 courses).<br>"
    "A longer period — a half-year or a year — is the way out of suppression."
)
NOTHING_YET = "No courses with a score in this period."


def _withheld_or_empty(points: list[dict]) -> str | None:
    """The sentence a chart shows instead of empty axes, or None when it has something to draw."""
    if any(p["mean"] is not None for p in points):
        return None
    return ALL_WITHHELD if any(p["n"] not in (0, None) for p in points) else NOTHING_YET


def _min_n(report: dict) -> int:
    return int(report.get("settings", {}).get("min_n_shown", MIN_N_SHOWN))


def _note(figure: go.Figure, text: str) -> None:
    """A line under the plot saying what hollow points and gaps mean (the HTML report has no page caption)."""
    figure.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0,
        y=-0.28,
        xanchor="left",
        showarrow=False,
        font=dict(size=11, color="#555"),
    )
    figure.update_layout(margin=dict(b=110))


def report_trajectory(report: dict, instrument: str) -> go.Figure:
    """Mean score at baseline and after each induction session, with 95% CI and n.

    A withheld or missing mean leaves a gap in the line; a mean over fewer than min_n_shown courses is
    a hollow, faded point with its n, not joined to the line.
    """
    min_n = _min_n(report)
    every_point = report["instruments"][instrument]["trajectory"]
    points = every_point
    shown = [i for i, p in enumerate(points) if p["mean"] is not None]
    # From baseline to the last point with a mean: the timepoints between stay, so the line breaks there.
    points = points[: shown[-1] + 1] if shown else []
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    any_thin = False
    if shown:
        means = [p["mean"] for p in points]
        counts = [p["n"] for p in points]
        # n under each timepoint, not beside the point, where it sat on the whiskers and the band names.
        x = [f"{timepoint_label(p['t'])}<br>n={p['n']}" for p in points]
        solid = solid_values(means, counts, min_n)
        lows = [p["ci"][0] if p["ci"][0] is not None else m for p, m in zip(points, solid)]
        highs = [p["ci"][1] if p["ci"][1] is not None else m for p, m in zip(points, solid)]
        figure.add_trace(
            go.Scatter(
                x=x,
                y=solid,
                mode="lines+markers",
                line=dict(color=PALETTE["blue"], width=3),
                name=f"Mean {instrument}",
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[None if m is None else h - m for h, m in zip(highs, solid)],
                    arrayminus=[None if m is None else m - lo for lo, m in zip(lows, solid)],
                    color=PALETTE["blue"],
                ),
            )
        )
        any_thin = add_thin_points(
            figure,
            x,
            means,
            counts,
            min_n,
            PALETTE["blue"],
            f"Mean {instrument}",
            lows=[p["ci"][0] for p in points],
            highs=[p["ci"][1] for p in points],
        )
    figure.update_layout(title=f"{instrument}: mean score across the induction series (95% CI)", **LAYOUT)
    figure.update_xaxes(title="Sessions received before the questionnaire", type="category")
    figure.update_yaxes(title=f"{instrument} total (points)")
    sentence = _withheld_or_empty(every_point)
    if sentence:
        _blank(figure)
        no_data(figure, sentence)
    else:
        withheld = any(p["mean"] is None and p["n"] not in (0, None) for p in points)
        notes = [thin_note(min_n)] if any_thin else []
        if withheld:
            notes.append("a gap: a mean withheld for small numbers")
        if notes:
            _note(figure, "; ".join(notes).capitalize() + ".")
    return figure


def _blank(figure: go.Figure) -> None:
    """No axes, bands or grid: a sentence reads better than empty axes."""
    figure.layout.shapes = ()
    figure.layout.annotations = ()
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)


def report_rates_by_quarter(reports: list[dict], instrument: str) -> go.Figure:
    """ITT response and remission rate by start period (quarter, half-year or year), with 95% CI.

    Every quarter keeps its place on the axis; a withheld or missing rate leaves a gap in the line
    (never a straight segment through it), and a rate over fewer than min_n_shown courses is hollow.
    """
    min_n = _min_n(reports[-1]) if reports else MIN_N_SHOWN
    figure = go.Figure()
    drawn = False
    quarters = [report["quarter"] for report in reports]
    any_thin = False
    for measure, colour in (("response", PALETTE["blue"]), ("remission", PALETTE["green"])):
        groups = [report["instruments"][instrument]["itt"] for report in reports]
        rates = [None if g[f"{measure}_rate"] is None else g[f"{measure}_rate"] * 100 for g in groups]
        counts = [g["n"] for g in groups]
        lows = [None if g[f"{measure}_ci"][0] is None else g[f"{measure}_ci"][0] * 100 for g in groups]
        highs = [None if g[f"{measure}_ci"][1] is None else g[f"{measure}_ci"][1] * 100 for g in groups]
        solid = solid_values(rates, counts, min_n)
        drawn = drawn or any(rate is not None for rate in rates)
        name = f"{measure.capitalize()} (ITT)"
        figure.add_trace(
            go.Scatter(
                x=quarters,
                y=solid,
                mode="lines+markers",
                name=name,
                line=dict(color=colour, width=3),
                text=[f"n={n}" for n in counts],
                hovertemplate="%{x}: %{y:.0f}% (%{text})<extra></extra>",
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[None if r is None or h is None else h - r for h, r in zip(highs, solid)],
                    arrayminus=[None if r is None or lo is None else r - lo for lo, r in zip(lows, solid)],
                    color=colour,
                ),
            )
        )
        any_thin |= add_thin_points(
            figure, quarters, rates, counts, min_n, colour, name, lows=lows, highs=highs, hover_format=".0f"
        )
    figure.update_layout(title=f"{instrument}: response and remission by start period (ITT, 95% CI)", **LAYOUT)
    figure.update_xaxes(
        title="Period the course started", type="category", categoryorder="array", categoryarray=quarters
    )
    figure.update_yaxes(title="Courses (%)", range=[0, 100])
    if not drawn:
        any_courses = any(r["instruments"][instrument]["itt"]["n"] not in (0, None) for r in reports)
        _blank(figure)
        no_data(figure, ALL_WITHHELD if any_courses else NOTHING_YET)
        return figure
    notes = ["a period with no point: no courses, or a rate withheld for small numbers (no line is drawn across it)"]
    if any_thin:
        notes.insert(0, thin_note(min_n))
    _note(figure, "; ".join(notes).capitalize() + ".")
    return figure
