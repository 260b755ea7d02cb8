"""The app's one palette, severity-band shading and the house layout every chart is finished with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
import plotly.graph_objects as go

from analysis.instruments import INSTRUMENTS
from analysis.vocabulary import MODALITY_LABELS  # noqa: F401  (re-exported for the charts)

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
# Each questionnaire's colour where several share a chart (PHQ-9 blue, GAD-7 orange, PCL-5 pink, then the series).
INSTRUMENT_COLOURS = {
    code: colour
    for code, colour in zip(INSTRUMENTS, [PALETTE["blue"], PALETTE["orange"], PALETTE["pink"], *SERIES[3:]])
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


def band_colours(instrument: str) -> list[str]:
    """The shade of each severity band of the instrument, mildest first (the deepest shade is always 'severe')."""
    bands = INSTRUMENTS[instrument].bands
    return BAND_SHADES[-len(bands) :] if len(bands) < 5 else BAND_SHADES


def shade_severity_bands(figure: go.Figure, instrument: str, *, label: bool = True) -> go.Figure:
    """Shade the instrument's severity bands behind the data, named on the right."""
    spec = INSTRUMENTS[instrument]
    shapes, notes = [], []
    for band, shade in zip(spec.bands, band_colours(instrument)):
        # The same rectangles and labels add_hrect draws, added in one step (add_hrect is slow, once per band).
        shapes.append(
            dict(
                type="rect",
                xref="x domain",
                x0=0,
                x1=1,
                yref="y",
                y0=band.low - 0.5,
                y1=band.high + 0.5,
                fillcolor=shade,
                opacity=0.55,
                line=dict(width=0),
                layer="below",
            )
        )
        if label:
            notes.append(
                dict(
                    text=band.label,
                    xref="x domain",
                    x=1,
                    xanchor="right",
                    yref="y",
                    y=(band.low + band.high) / 2,
                    yanchor="middle",
                    showarrow=False,
                    font=dict(size=10, color="#555"),
                )
            )
    figure.layout.shapes = (*figure.layout.shapes, *shapes)
    figure.layout.annotations = (*figure.layout.annotations, *notes)
    figure.update_yaxes(range=[-0.5, spec.total_max + 0.5])
    return figure


# ---------------------------------------------------------------------------
# Leadership pages: overview, induction response, boosters and durability.

TIMEPOINTS = tuple(range(0, 9))
SPLIT_SERIES = SERIES + [PALETTE["grey"], PALETTE["yellow"]]


# The dashboard draws these charts in Streamlit's theme, which replaces any plotly template, and setting
# one costs ~30 ms a chart; the page charts therefore take LAYOUT without its template.
PAGE_LAYOUT = {key: value for key, value in LAYOUT.items() if key != "template"}


def finish(figure: go.Figure, title: str, x_title: str, y_title: str, subtitle: str | None = None) -> go.Figure:
    """The house layout: a title in clinic words (with an optional smaller line under it), labelled axes."""
    heading = dict(text=title)
    if subtitle:
        heading["subtitle"] = dict(text=subtitle, font=dict(size=12, color="#555"))
    figure.update_layout(**PAGE_LAYOUT)
    # The legend sits at the foot of the figure: above the plot it grows into the title when it wraps.
    named = [trace for trace in figure.data if trace.showlegend is not False and trace.name]
    figure.update_layout(
        title=heading,
        # A subtitle of two lines (the thin-points note) needs the room of one more line.
        margin=dict(
            l=60, r=20, t=(118 if "<br>" in subtitle else 100) if subtitle else 70, b=110 if len(named) > 1 else 70
        ),
        legend=dict(
            orientation="h", yref="container", yanchor="bottom", y=0.01, xanchor="left", x=0, traceorder="normal"
        ),
    )
    figure.update_xaxes(title=x_title)
    figure.update_yaxes(title=y_title)
    return figure


def add_annotations(figure: go.Figure, notes: list[dict]) -> go.Figure:
    """Many labels in one step: add_annotation re-validates the whole layout each time (~10 ms a label)."""
    if notes:
        figure.layout.annotations = (*figure.layout.annotations, *notes)
    return figure


def no_data(figure: go.Figure, sentence: str) -> go.Figure:
    figure.add_annotation(
        text=sentence, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=14, color="#555")
    )
    return figure


def percent(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else float(value) * 100


def error_bars(
    rates: Iterable[float | None], lows: Iterable[float | None], highs: Iterable[float | None], colour: str
) -> dict:
    """Asymmetric error bars in percentage points from fractions (missing ends collapse onto the rate)."""
    rate = [percent(r) for r in rates]
    low = [percent(v) if percent(v) is not None else r for v, r in zip(lows, rate)]
    high = [percent(v) if percent(v) is not None else r for v, r in zip(highs, rate)]
    return dict(
        type="data",
        symmetric=False,
        color=colour,
        thickness=1.5,
        width=4,
        array=[None if r is None else h - r for h, r in zip(high, rate)],
        arrayminus=[None if r is None else r - lo for lo, r in zip(low, rate)],
    )


# Colours by what is measured, the same on every chart: response blue, remission green.
MEASURE_COLOURS = {
    "response": PALETTE["blue"],
    "remission": PALETTE["green"],
    "completion": PALETTE["blue"],
    "resolved": PALETTE["vermillion"],
}


def measure_colours(measures: list[str]) -> list[str]:
    colours = [next((c for word, c in MEASURE_COLOURS.items() if word in m), None) for m in measures]
    if None in colours or len(set(colours)) < len(colours):
        return SERIES[: len(measures)]
    return colours


# ---------------------------------------------------------------------------
# Thin data: a point from two patients must not look like a point from two hundred.

MIN_N_SHOWN = 5  # the default of settings.toml [reporting] min_n_shown
# The n under a point: a whole number, the string '<11' when suppression withholds it, NaN or None when missing.
PointCount = int | float | str | None


def _count(n: PointCount) -> int | None:
    """n as a whole number; None when it is not one (a suppressed '<11', a missing value)."""
    if n is None or isinstance(n, str) or pd.isna(n):
        return None
    return int(n)


def is_thin(n: PointCount, min_n: int) -> bool:
    count = _count(n)
    return count is not None and 0 < count < min_n


def solid_values(values: Iterable[float | None], counts: Iterable[PointCount], min_n: int) -> list[float | None]:
    """The values a line may join: None where the value is missing or built on fewer than min_n.

    Plotly breaks a line at None (connectgaps stays off), so a withheld, missing or thin point
    leaves a gap instead of a straight segment through a value the data cannot support.
    """
    return [
        None if v is None or pd.isna(v) or is_thin(n, min_n) or _count(n) == 0 else float(v)
        for v, n in zip(values, counts)
    ]


def thin_note(min_n: int, unit: str = "courses") -> str:
    return f"hollow, faded points: fewer than {min_n} {unit}, not joined to the line"


def add_thin_points(
    figure: go.Figure,
    x: Iterable[str | float],
    values: Sequence[float | None],
    counts: Sequence[PointCount],
    min_n: int,
    colour: str,
    name: str,
    *,
    lows: Sequence[float | None] | None = None,
    highs: Sequence[float | None] | None = None,
    unit: str = "courses",
    hover_format: str = ".1f",
) -> bool:
    """Points built on fewer than min_n, drawn hollow and faded with their n beside them. True when any were drawn."""
    chosen = [
        i for i, (v, n) in enumerate(zip(values, counts)) if is_thin(n, min_n) and v is not None and not pd.isna(v)
    ]
    if not chosen:
        return False
    ys = [float(values[i]) for i in chosen]
    error = None
    if lows is not None and highs is not None:
        low = [lows[i] if lows[i] is not None and not pd.isna(lows[i]) else ys[k] for k, i in enumerate(chosen)]
        high = [highs[i] if highs[i] is not None and not pd.isna(highs[i]) else ys[k] for k, i in enumerate(chosen)]
        error = dict(
            type="data",
            symmetric=False,
            color=colour,
            thickness=1,
            width=3,
            array=[h - y for h, y in zip(high, ys)],
            arrayminus=[y - lo for lo, y in zip(low, ys)],
        )
    figure.add_trace(
        go.Scatter(
            x=[list(x)[i] for i in chosen],
            y=ys,
            mode="markers+text",
            name=f"{name}: fewer than {min_n} {unit}",
            showlegend=False,
            opacity=0.5,
            marker=dict(symbol="circle-open", size=10, color=colour, line=dict(width=2, color=colour)),
            text=[f"n={_count(counts[i])}" for i in chosen],
            textposition="middle right",
            textfont=dict(size=10, color=colour),
            error_y=error,
            hovertemplate=f"%{{y:{hover_format}}} (%{{text}}, fewer than {min_n} {unit})<extra>{name}</extra>",
        )
    )
    return True
