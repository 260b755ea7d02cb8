"""Charts of the report dict (HTML and PDF exports): trajectory and rates by quarter."""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.charts.theme import LAYOUT, PALETTE, no_data, shade_severity_bands, timepoint_label

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


def report_trajectory(report: dict, instrument: str) -> go.Figure:
    """Mean score at baseline and after each induction session, with 95% CI and n."""
    every_point = report["instruments"][instrument]["trajectory"]
    points = [p for p in every_point if p["mean"] is not None]
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    if points:
        lows = [p["ci"][0] if p["ci"][0] is not None else p["mean"] for p in points]
        highs = [p["ci"][1] if p["ci"][1] is not None else p["mean"] for p in points]
        figure.add_trace(
            go.Scatter(
                x=[timepoint_label(p["t"]) for p in points],
                y=[p["mean"] for p in points],
                mode="lines+markers+text",
                text=[f"n={p['n']}" for p in points],
                textposition="top center",
                line=dict(color=PALETTE["blue"], width=3),
                name=f"Mean {instrument}",
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[h - p["mean"] for h, p in zip(highs, points)],
                    arrayminus=[p["mean"] - lo for lo, p in zip(lows, points)],
                    color=PALETTE["blue"],
                ),
            )
        )
    figure.update_layout(title=f"{instrument}: mean score across the induction series (95% CI)", **LAYOUT)
    figure.update_xaxes(title="Sessions received before the questionnaire")
    figure.update_yaxes(title=f"{instrument} total (points)")
    sentence = _withheld_or_empty(every_point)
    if sentence:
        _blank(figure)
        no_data(figure, sentence)
    return figure


def _blank(figure: go.Figure) -> None:
    """No axes, bands or grid: a sentence reads better than empty axes."""
    figure.layout.shapes = ()
    figure.layout.annotations = ()
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)


def report_rates_by_quarter(reports: list[dict], instrument: str) -> go.Figure:
    """ITT response and remission rate by start period (quarter, half-year or year), with 95% CI."""
    figure = go.Figure()
    drawn = False
    for measure, colour in (("response", PALETTE["blue"]), ("remission", PALETTE["green"])):
        quarters, rates, lows, highs, labels = [], [], [], [], []
        for report in reports:
            group = report["instruments"][instrument]["itt"]
            rate = group[f"{measure}_rate"]
            if rate is None:
                continue
            quarters.append(report["quarter"])
            rates.append(rate * 100)
            lows.append((rate - group[f"{measure}_ci"][0]) * 100)
            highs.append((group[f"{measure}_ci"][1] - rate) * 100)
            labels.append(f"n={group['n']}")
        drawn = drawn or bool(rates)
        figure.add_trace(
            go.Scatter(
                x=quarters,
                y=rates,
                mode="lines+markers",
                name=f"{measure.capitalize()} (ITT)",
                line=dict(color=colour, width=3),
                text=labels,
                hovertemplate="%{x}: %{y:.0f}% (%{text})<extra></extra>",
                error_y=dict(type="data", symmetric=False, array=highs, arrayminus=lows, color=colour),
            )
        )
    figure.update_layout(title=f"{instrument}: response and remission by start period (ITT, 95% CI)", **LAYOUT)
    figure.update_xaxes(title="Period the course started", type="category")
    figure.update_yaxes(title="Courses (%)", range=[0, 100])
    if not drawn:
        any_courses = any(r["instruments"][instrument]["itt"]["n"] not in (0, None) for r in reports)
        _blank(figure)
        no_data(figure, ALL_WITHHELD if any_courses else NOTHING_YET)
    return figure
