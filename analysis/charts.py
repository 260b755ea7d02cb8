"""Pure chart functions (frame or report in, plotly Figure out) and the app's one palette."""
from __future__ import annotations

import plotly.graph_objects as go

from analysis.instruments import INSTRUMENTS

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "pink": "#CC79A7",
    "sky": "#56B4E9",
    "vermillion": "#D55E00",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#7F7F7F",
}
SERIES = [PALETTE[k] for k in ("blue", "orange", "green", "pink", "sky", "vermillion", "black")]
MODALITY_COLOURS = {
    "ketamine_im": PALETTE["blue"],
    "ketamine_iv": PALETTE["orange"],
    "ketamine_oral": PALETTE["green"],
    "esketamine_nasal": PALETTE["pink"],
}
MODALITY_LABELS = {
    "ketamine_im": "Ketamine IM",
    "ketamine_iv": "Ketamine IV",
    "ketamine_oral": "Ketamine oral/SL",
    "esketamine_nasal": "Esketamine (Spravato)",
}
# Severity bands shaded the same way everywhere: light (minimal) to deep (severe).
BAND_SHADES = ["#F4F4F4", "#FBEBD0", "#F8D7A6", "#F3B889", "#EC9A7A"]
SAFETY_COLOUR = PALETTE["vermillion"]
LAYOUT = dict(
    template="plotly_white",
    font=dict(family="system-ui, -apple-system, Segoe UI, sans-serif", size=13),
    margin=dict(l=60, r=20, t=60, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
)


def timepoint_label(t: int) -> str:
    return "Baseline" if t == 0 else f"After {t}"


def shade_severity_bands(figure: go.Figure, instrument: str, *, label: bool = True) -> go.Figure:
    """Shade the instrument's severity bands behind the data, named on the right."""
    spec = INSTRUMENTS[instrument]
    for band, shade in zip(spec.bands, BAND_SHADES[-len(spec.bands):] if len(spec.bands) < 5 else BAND_SHADES):
        figure.add_hrect(y0=band.low - 0.5, y1=band.high + 0.5, fillcolor=shade, opacity=0.55, line_width=0,
                         layer="below", annotation_text=band.label if label else None,
                         annotation_position="right", annotation_font_size=10, annotation_font_color="#555")
    figure.update_yaxes(range=[-0.5, spec.total_max + 0.5])
    return figure


def report_trajectory(report: dict, instrument: str) -> go.Figure:
    """Mean score at baseline and after each induction session, with 95% CI and n."""
    points = [p for p in report["instruments"][instrument]["trajectory"] if p["mean"] is not None]
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    if points:
        lows = [p["ci"][0] if p["ci"][0] is not None else p["mean"] for p in points]
        highs = [p["ci"][1] if p["ci"][1] is not None else p["mean"] for p in points]
        figure.add_trace(go.Scatter(
            x=[timepoint_label(p["t"]) for p in points], y=[p["mean"] for p in points],
            mode="lines+markers+text", text=[f"n={p['n']}" for p in points], textposition="top center",
            line=dict(color=PALETTE["blue"], width=3), name=f"Mean {instrument}",
            error_y=dict(type="data", symmetric=False, array=[h - p["mean"] for h, p in zip(highs, points)],
                         arrayminus=[p["mean"] - lo for lo, p in zip(lows, points)], color=PALETTE["blue"]),
        ))
    figure.update_layout(title=f"{instrument}: mean score across the induction series (95% CI)", **LAYOUT)
    figure.update_xaxes(title="Sessions received before the questionnaire")
    figure.update_yaxes(title=f"{instrument} total (points)")
    return figure


def report_rates_by_quarter(reports: list[dict], instrument: str) -> go.Figure:
    """ITT response and remission rate by start quarter, with 95% CI."""
    figure = go.Figure()
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
        figure.add_trace(go.Scatter(
            x=quarters, y=rates, mode="lines+markers", name=f"{measure.capitalize()} (ITT)",
            line=dict(color=colour, width=3), text=labels, hovertemplate="%{x}: %{y:.0f}% (%{text})<extra></extra>",
            error_y=dict(type="data", symmetric=False, array=highs, arrayminus=lows, color=colour),
        ))
    figure.update_layout(title=f"{instrument}: response and remission by start quarter (ITT, 95% CI)", **LAYOUT)
    figure.update_xaxes(title="Quarter the course started", type="category")
    figure.update_yaxes(title="Courses (%)", range=[0, 100])
    return figure
