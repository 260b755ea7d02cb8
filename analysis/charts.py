"""Pure chart functions (frame or report in, plotly Figure out) and the app's one palette."""
from __future__ import annotations

import numpy as np
import pandas as pd
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


def band_colours(instrument: str) -> list[str]:
    """The shade of each severity band of the instrument, mildest first (the deepest shade is always 'severe')."""
    bands = INSTRUMENTS[instrument].bands
    return BAND_SHADES[-len(bands):] if len(bands) < 5 else BAND_SHADES


def shade_severity_bands(figure: go.Figure, instrument: str, *, label: bool = True) -> go.Figure:
    """Shade the instrument's severity bands behind the data, named on the right."""
    spec = INSTRUMENTS[instrument]
    shapes, notes = [], []
    for band, shade in zip(spec.bands, band_colours(instrument)):
        # The same rectangles and labels add_hrect draws, added in one step (add_hrect is slow, once per band).
        shapes.append(dict(type="rect", xref="x domain", x0=0, x1=1, yref="y", y0=band.low - 0.5, y1=band.high + 0.5,
                           fillcolor=shade, opacity=0.55, line=dict(width=0), layer="below"))
        if label:
            notes.append(dict(text=band.label, xref="x domain", x=1, xanchor="right", yref="y",
                              y=(band.low + band.high) / 2, yanchor="middle", showarrow=False,
                              font=dict(size=10, color="#555")))
    figure.layout.shapes = (*figure.layout.shapes, *shapes)
    figure.layout.annotations = (*figure.layout.annotations, *notes)
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


# ---------------------------------------------------------------------------
# Leadership pages: overview, induction response, boosters and durability.

TIMEPOINTS = tuple(range(0, 9))
SPLIT_SERIES = SERIES + [PALETTE["grey"], PALETTE["yellow"]]


# The dashboard draws these charts in Streamlit's theme, which replaces any plotly template, and setting
# one costs ~30 ms a chart; the page charts therefore take LAYOUT without its template.
PAGE_LAYOUT = {key: value for key, value in LAYOUT.items() if key != "template"}


def _finish(figure: go.Figure, title: str, x_title: str, y_title: str, subtitle: str | None = None) -> go.Figure:
    """The house layout: a title in clinic words (with an optional smaller line under it), labelled axes."""
    heading = dict(text=title)
    if subtitle:
        heading["subtitle"] = dict(text=subtitle, font=dict(size=12, color="#555"))
    figure.update_layout(**PAGE_LAYOUT)
    # The legend sits at the foot of the figure: above the plot it grows into the title when it wraps.
    named = [trace for trace in figure.data if trace.showlegend is not False and trace.name]
    figure.update_layout(title=heading, margin=dict(l=60, r=20, t=100 if subtitle else 70, b=110 if len(named) > 1 else 70),
                         legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.01, xanchor="left", x=0,
                                     traceorder="normal"))
    figure.update_xaxes(title=x_title)
    figure.update_yaxes(title=y_title)
    return figure


def _add_annotations(figure: go.Figure, notes: list[dict]) -> go.Figure:
    """Many labels in one step: add_annotation re-validates the whole layout each time (~10 ms a label)."""
    if notes:
        figure.layout.annotations = (*figure.layout.annotations, *notes)
    return figure


def _no_data(figure: go.Figure, sentence: str) -> go.Figure:
    figure.add_annotation(text=sentence, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                          font=dict(size=14, color="#555"))
    return figure


def _percent(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value) * 100


def _error_bars(rates, lows, highs, colour: str) -> dict:
    """Asymmetric error bars in percentage points from fractions (missing ends collapse onto the rate)."""
    rate = [_percent(r) for r in rates]
    low = [_percent(v) if _percent(v) is not None else r for v, r in zip(lows, rate)]
    high = [_percent(v) if _percent(v) is not None else r for v, r in zip(highs, rate)]
    return dict(type="data", symmetric=False, color=colour, thickness=1.5, width=4,
                array=[h - r for h, r in zip(high, rate)], arrayminus=[r - lo for lo, r in zip(low, rate)])


# Colours by what is measured, the same on every chart: response blue, remission green.
MEASURE_COLOURS = {
    "response": PALETTE["blue"],
    "remission": PALETTE["green"],
    "completion": PALETTE["blue"],
    "resolved": PALETTE["vermillion"],
}


def _measure_colours(measures: list[str]) -> list[str]:
    colours = [next((c for word, c in MEASURE_COLOURS.items() if word in m), None) for m in measures]
    if None in colours or len(set(colours)) < len(colours):
        return SERIES[:len(measures)]
    return colours


def rates_by_start_quarter(trend: pd.DataFrame, measures: list[str], title: str) -> go.Figure:
    """Rates (with 95% CI) for the courses that started in each quarter, one line per measure.

    `trend` is cohort_views.quarterly_trend; when the measures share their n in every quarter, the n
    is written under the quarter, otherwise next to each point.
    """
    figure = go.Figure()
    rows = trend.loc[trend["measure"].isin(measures)]
    quarters = sorted(rows["quarter"].unique())
    position = {quarter: index for index, quarter in enumerate(quarters)}
    shared_n = bool(len(rows)) and rows.groupby("quarter")["n"].nunique().max() == 1
    spread = 0.08 if len(measures) > 1 else 0.0
    for index, (colour, measure) in enumerate(zip(_measure_colours(measures), measures)):
        series = rows.loc[(rows["measure"] == measure) & (rows["n"] > 0)].sort_values("quarter")
        if series.empty:
            continue
        offset = (index - (len(measures) - 1) / 2) * spread
        labels = [f"n={n}" for n in series["n"]]
        figure.add_trace(go.Scatter(
            x=[position[q] + offset for q in series["quarter"]], y=[_percent(r) for r in series["rate"]],
            name=series["label"].iloc[0],
            mode="lines+markers" if shared_n else "lines+markers+text", text=labels, textposition="top center",
            textfont=dict(size=10, color=colour), line=dict(color=colour, width=3), marker=dict(size=8),
            customdata=list(zip(series["quarter"], series["successes"], series["n"])),
            hovertemplate="%{customdata[0]}: %{y:.0f}% (%{customdata[1]} of %{customdata[2]})"
                          "<extra>%{fullData.name}</extra>",
            error_y=_error_bars(series["rate"], series["ci_lower"], series["ci_upper"], colour),
        ))
    _finish(figure, title, "Quarter the course started" + (" (n = courses counted)" if shared_n else ""),
            "Courses (%)", subtitle="Each point: courses that started in that quarter, with its 95% CI")
    tick_text = quarters
    if shared_n:
        n_by_quarter = rows.groupby("quarter")["n"].first()
        tick_text = [f"{q}<br>n={int(n_by_quarter.get(q, 0))}" for q in quarters]
    figure.update_xaxes(tickvals=list(range(len(quarters))), ticktext=tick_text,
                        range=[-0.5, max(len(quarters) - 0.5, 0.5)])
    figure.update_yaxes(range=[0, 105], ticksuffix="%")
    if not len(rows):
        _no_data(figure, "No courses in this cohort")
    return figure


def literature_comparison(comparison: pd.DataFrame) -> go.Figure:
    """The clinic's PHQ-9 response and remission (95% CI, n) as dots beside published real-world results."""
    rows = comparison.loc[comparison["response_rate"].notna() | comparison["remission_rate"].notna()]
    labels = [f"<b>{r.source}</b> (n={r.n})" if r.kind == "This clinic" else f"{r.source} (n={r.n:,})"
              for r in rows.itertuples()]
    figure = go.Figure()
    for measure, colour, symbol in (("response", PALETTE["blue"], "circle"), ("remission", PALETTE["green"], "diamond")):
        rates = rows[f"{measure}_rate"]
        clinic = (rows["kind"] == "This clinic").to_numpy()
        figure.add_trace(go.Scatter(
            x=[_percent(r) for r in rates], y=labels, mode="markers+text", name=measure.capitalize(),
            marker=dict(color=colour, size=[13 if c else 10 for c in clinic], symbol=symbol,
                        line=dict(color="white", width=1)),
            text=[f"{_percent(r):.0f}%" if _percent(r) is not None else "" for r in rates],
            textposition="top center", textfont=dict(size=11, color=colour),
            hovertemplate="%{y}<br>" + measure + ": %{x:.1f}%<extra></extra>",
            error_x=dict(type="data", symmetric=False, color=colour, thickness=1.5, width=4,
                         array=[(_percent(h) - _percent(r)) if _percent(h) is not None else 0
                                for h, r in zip(rows[f"{measure}_ci_upper"], rates)],
                         arrayminus=[(_percent(r) - _percent(lo)) if _percent(lo) is not None else 0
                                     for lo, r in zip(rows[f"{measure}_ci_lower"], rates)]),
        ))
    _finish(figure, "PHQ-9 response and remission: this clinic beside published real-world results",
            "Patients or courses (%)", "",
            subtitle="This clinic with its 95% CI; published studies count their patients in different ways "
                     "(see the list below)")
    figure.update_yaxes(categoryorder="array", categoryarray=labels, range=[len(labels) - 0.5, -0.8])
    figure.update_xaxes(range=[0, 100], ticksuffix="%")
    figure.update_layout(height=230 + 55 * max(len(labels), 1))
    return figure


def trajectory_by_group(frame: pd.DataFrame, instrument: str, split_label: str | None = None) -> go.Figure:
    """Mean score (95% CI) at baseline and after each induction session, one line per group, n at every point.

    `frame` is cohort_views.trajectory_by_group. With one group the n sits under each timepoint; with
    several, a row of n per group (in the group's colour) sits under the axis, as under a survival
    curve, and the lines are nudged sideways so their error bars do not hide one another.
    """
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    groups = list(dict.fromkeys(frame["group"]))
    single = len(groups) <= 1
    spread = 0.0 if single else min(0.5 / len(groups), 0.12)
    plot_height = 310
    rows_of_n = []
    for index, group in enumerate(groups):
        series = frame.loc[(frame["group"] == group) & (frame["n"] > 0) & frame["mean"].notna()].sort_values("t")
        colour = MODALITY_COLOURS.get(group, SPLIT_SERIES[index % len(SPLIT_SERIES)])
        rows_of_n.append((colour, frame.loc[frame["group"] == group].set_index("t")["n"]))
        if series.empty:
            continue
        offset = (index - (len(groups) - 1) / 2) * spread
        means = series["mean"].astype(float).tolist()
        lows = [lo if pd.notna(lo) else m for lo, m in zip(series["ci_lower"], means)]
        highs = [hi if pd.notna(hi) else m for hi, m in zip(series["ci_upper"], means)]
        figure.add_trace(go.Scatter(
            x=series["t"] + offset, y=means, name=str(series["group_label"].iloc[0]), mode="lines+markers",
            showlegend=bool(split_label) or not single,
            line=dict(color=colour, width=3 if single else 2), marker=dict(size=7),
            customdata=series["n"], hovertemplate="%{y:.1f} points (n=%{customdata})<extra>%{fullData.name}</extra>",
            error_y=dict(type="data", symmetric=False, color=colour, thickness=1.5, width=3,
                         array=[h - m for h, m in zip(highs, means)], arrayminus=[m - lo for lo, m in zip(lows, means)]),
        ))
    title = f"{instrument}: mean score across the induction series"
    if split_label:
        title += f", by {split_label.lower()}"
    x_title = "Sessions received before the questionnaire" + (
        " (n = courses measured)" if single else "; rows below: n courses measured, per group")
    _finish(figure, title, x_title, f"{instrument} total (points)",
            subtitle="Mean with 95% CI; n = courses with a questionnaire at that point")
    tick_text = [timepoint_label(t) for t in TIMEPOINTS]
    if single:
        n_at = frame.groupby("t")["n"].sum()
        tick_text = [f"{label}<br>n={int(n_at.get(t, 0))}" for t, label in zip(TIMEPOINTS, tick_text)]
        figure.update_layout(height=100 + plot_height + 110)
    else:
        notes = [dict(x=t, y=-(78 + 19 * row) / plot_height, xref="x", yref="paper", showarrow=False,
                      text=str(int(n_at.get(t, 0))), font=dict(size=11, color=colour))
                 for row, (colour, n_at) in enumerate(rows_of_n) for t in TIMEPOINTS]
        notes.append(dict(x=0, y=-78 / plot_height, xref="paper", yref="paper", text="<b>n</b>", showarrow=False,
                          xanchor="right", xshift=-20, font=dict(size=11, color="#333")))
        _add_annotations(figure, notes)
        bottom = 95 + 19 * len(groups) + 45
        figure.update_layout(height=100 + plot_height + bottom, margin=dict(b=bottom))
    figure.update_xaxes(tickvals=list(TIMEPOINTS), ticktext=tick_text, range=[-0.5, 8.5])
    if frame["n"].sum() == 0:
        _no_data(figure, "No questionnaires in this cohort")
    return figure


def response_by_session(frame: pd.DataFrame, instrument: str) -> go.Figure:
    """% of eligible courses responding and remitting after each session (95% CI), n under each session."""
    rows = frame.loc[frame["n"] > 0].sort_values("t")
    figure = go.Figure()
    for measure, label, colour, offset in (("responding", "Responding (score ≤ half of baseline)", PALETTE["blue"], -0.05),
                                           ("remitting", "Remitting (score ≤ 4)", PALETTE["green"], 0.05)):
        figure.add_trace(go.Scatter(
            x=rows["t"] + offset, y=[_percent(r) for r in rows[f"{measure}_rate"]], name=label, mode="lines+markers",
            line=dict(color=colour, width=3), marker=dict(size=8),
            customdata=list(zip(rows[f"{measure}_n"], rows["n"])),
            hovertemplate="%{y:.0f}% (%{customdata[0]} of %{customdata[1]})<extra>%{fullData.name}</extra>",
            error_y=_error_bars(rows[f"{measure}_rate"], rows[f"{measure}_ci_lower"], rows[f"{measure}_ci_upper"],
                                colour),
        ))
    _finish(figure, f"{instrument}: share of eligible courses responding and remitting after each session",
            "Sessions received before the questionnaire (n = eligible courses measured)", "Eligible courses (%)",
            subtitle="Among courses with a baseline of 10 or more and a questionnaire after that session; 95% CI")
    figure.update_xaxes(tickvals=rows["t"].tolist(),
                        ticktext=[f"{timepoint_label(t)}<br>n={n}" for t, n in zip(rows["t"], rows["n"])])
    figure.update_yaxes(range=[0, 105], ticksuffix="%")
    if rows.empty:
        _no_data(figure, "No eligible courses with a questionnaire after a session")
    return figure


def severity_mix(frame: pd.DataFrame, instrument: str) -> go.Figure:
    """Severity bands of the same courses at baseline and at the end of induction, stacked in the band shades."""
    figure = go.Figure()
    n = int(frame["n"].iloc[0]) if len(frame) else 0
    order = ["End of induction", "Baseline"]
    for (band, rows), shade in zip(frame.sort_values("band_order").groupby("band_order", sort=True), band_colours(instrument)):
        rows = rows.set_index("when").reindex(order)
        label = str(rows["band"].dropna().iloc[0])
        shares = [_percent(v) or 0.0 for v in rows["share"]]
        figure.add_trace(go.Bar(
            y=order, x=shares, name=label.capitalize(), orientation="h",
            marker=dict(color=shade, line=dict(color="#777", width=1)),
            text=[f"{s:.0f}%" if s >= 7 else "" for s in shares], textposition="inside", insidetextanchor="middle",
            textangle=0, textfont=dict(color="#222"), customdata=rows["courses"].fillna(0).astype(int),
            hovertemplate="%{y}: %{x:.0f}% %{fullData.name} (%{customdata} courses)<extra></extra>",
        ))
    _finish(figure, f"{instrument} severity before and after induction",
            "Courses (%)", "", subtitle=f"The same {n} courses: those with a baseline and an end-of-induction score")
    figure.update_layout(barmode="stack", height=400, legend=dict(traceorder="normal"))
    figure.update_xaxes(range=[0, 100], ticksuffix="%")
    if n == 0:
        _no_data(figure, "No course has both a baseline and an end-of-induction score")
    return figure


def sessions_reached(frame: pd.DataFrame) -> go.Figure:
    """How many courses reach each induction session, one set of bars per induction length (a funnel)."""
    figure = go.Figure()
    for colour, (label, rows) in zip(SERIES, frame.groupby("label", sort=False)):
        figure.add_trace(go.Bar(
            x=rows["session_number"], y=[_percent(s) for s in rows["share"]],
            name=f"{label}, n={int(rows['courses'].iloc[0])}", marker_color=colour, showlegend=True,
            text=[f"{r}" for r in rows["reached"]], textposition="outside", textfont=dict(size=10),
            customdata=list(zip(rows["reached"], rows["courses"])),
            hovertemplate="Session %{x}: %{y:.0f}% (%{customdata[0]} of %{customdata[1]} courses)"
                          "<extra>%{fullData.name}</extra>",
        ))
    _finish(figure, "How many courses reach each session of the induction series",
            "Session number (number on the bar = courses that reached it)", "Courses that started (%)",
            subtitle="Finished courses only (those still in progress are left out)")
    longest = int(frame["session_number"].max()) if len(frame) else 8
    figure.update_xaxes(tickvals=list(range(1, longest + 1)), ticktext=[f"Session {k}" for k in range(1, longest + 1)])
    figure.update_yaxes(range=[0, 112], ticksuffix="%")
    figure.update_layout(barmode="group", bargap=0.25)
    if frame.empty:
        _no_data(figure, "No finished courses in this cohort")
    return figure


def itt_vs_completers(summary: dict, instrument: str) -> go.Figure:
    """Response and remission for intention to treat and for completers side by side (95% CI, x of n).

    `summary` is report.instrument_summary.
    """
    figure = go.Figure()
    groups = [("itt", "Intention to treat"), ("completers", "Completers")]
    x = [f"{words}<br>n={summary[group]['n']}" for group, words in groups]
    for measure, colour in (("response", PALETTE["blue"]), ("remission", PALETTE["green"])):
        rates = [summary[group][f"{measure}_rate"] for group, _ in groups]
        counts = [summary[group][f"{measure}_n"] for group, _ in groups]
        totals = [summary[group]["n"] for group, _ in groups]
        figure.add_trace(go.Bar(
            x=x, y=[_percent(r) for r in rates], name=measure.capitalize(), marker_color=colour,
            text=[f"{_percent(r):.0f}%<br>{k}/{n}" if r is not None else "" for r, k, n in zip(rates, counts, totals)],
            textposition="inside", insidetextanchor="middle", textangle=0, textfont=dict(color="white", size=12),
            error_y=_error_bars(rates, [summary[g][f"{measure}_ci"][0] for g, _ in groups],
                                [summary[g][f"{measure}_ci"][1] for g, _ in groups], "#333"),
        ))
    _finish(figure, f"{instrument}: intention to treat beside completers", "", "Eligible courses (%)",
            subtitle="Response and remission; whiskers show the 95% CI")
    figure.update_layout(barmode="group", bargap=0.3)
    figure.update_yaxes(range=[0, 100], ticksuffix="%")
    return figure


def individual_trajectories(frame: pd.DataFrame, instrument: str, mean: pd.DataFrame | None = None) -> go.Figure:
    """Every course's score across the induction series as a thin line, with the cohort mean on top."""
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    courses = list(dict.fromkeys(frame["course_id"]))
    for index, course in enumerate(courses):
        rows = frame.loc[frame["course_id"] == course].sort_values("t")
        figure.add_trace(go.Scatter(
            x=rows["t"], y=rows["total"], mode="lines+markers", name="Individual courses",
            legendgroup="courses", showlegend=index == 0, line=dict(color=PALETTE["grey"], width=1.2),
            marker=dict(size=5), opacity=0.7, connectgaps=True,
            hovertemplate=f"{course}: " + "%{y} points<extra></extra>",
        ))
    if mean is not None and len(mean):
        points = mean.loc[(mean["n"] > 0) & mean["mean"].notna()]
        figure.add_trace(go.Scatter(
            x=points["t"], y=points["mean"], mode="lines+markers+text", name="Mean of all courses",
            text=[f"n={n}" for n in points["n"]], textposition="top center", textfont=dict(color=PALETTE["blue"]),
            line=dict(color=PALETTE["blue"], width=4), marker=dict(size=8),
        ))
    _finish(figure, f"{instrument} of each course across the induction series ({len(courses)} courses)",
            "Sessions received before the questionnaire", f"{instrument} total (points)",
            subtitle="One grey line per course; blue: the mean, with n courses measured at each point")
    figure.update_xaxes(tickvals=list(TIMEPOINTS), ticktext=[timepoint_label(t) for t in TIMEPOINTS],
                        range=[-0.5, 8.5])
    return figure


def booster_interval_histogram(boosters: pd.DataFrame, median_days: float | None = None) -> go.Figure:
    """How many days pass between a booster and the session before it, in weekly bins."""
    intervals = boosters["interval_days"].dropna().astype(float)
    figure = go.Figure(go.Histogram(
        x=intervals, xbins=dict(start=0.5, size=7), marker=dict(color=PALETTE["blue"], line=dict(color="white", width=1)),
        name="Boosters", hovertemplate="%{x} days: %{y} boosters<extra></extra>",
    ))
    if median_days is not None:
        figure.add_vline(x=median_days, line=dict(color=PALETTE["vermillion"], dash="dash", width=2),
                         annotation_text=f"median {median_days:.0f} days", annotation_position="top right",
                         annotation_font_color=PALETTE["vermillion"])
    _finish(figure, f"Days between a booster and the session before it (n={len(intervals)} boosters)",
            "Days since the previous session (weekly bins)", "Boosters")
    figure.update_layout(showlegend=False, bargap=0.05)
    if intervals.empty:
        _no_data(figure, "No boosters in this cohort")
    return figure


def _jitter(count: int, width: float, seed: int) -> np.ndarray:
    """Small fixed offsets so dots on the same whole day and score do not hide each other."""
    return np.random.default_rng(seed).uniform(-width, width, count)


def wear_off(points: pd.DataFrame, bins: pd.DataFrame, instrument: str) -> go.Figure:
    """Score before each booster against days since the previous session, with the mean (95% CI, n) per interval.

    Dots are nudged by up to a third of a day and a quarter of a point so that stacked ones show.
    """
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    days = points["days_since_previous"].astype(float).to_numpy()
    scores = points["pre_booster_score"].astype(float).to_numpy()
    figure.add_trace(go.Scatter(
        x=days + _jitter(len(days), 0.33, 1), y=scores + _jitter(len(scores), 0.25, 2), mode="markers",
        name=f"One booster (n={len(points)})", marker=dict(color=PALETTE["sky"], size=6, opacity=0.45),
        customdata=np.column_stack([days, scores]) if len(points) else None,
        hovertemplate="%{customdata[0]:.0f} days: %{customdata[1]:.0f} points<extra></extra>",
    ))
    measured = bins.loc[bins["n"] > 0]
    if len(measured):
        means = measured["mean"].astype(float).tolist()
        lows = [lo if pd.notna(lo) else m for lo, m in zip(measured["ci_lower"], means)]
        highs = [hi if pd.notna(hi) else m for hi, m in zip(measured["ci_upper"], means)]
        figure.add_trace(go.Scatter(
            x=measured["mean_days"], y=means, mode="lines+markers", name="Mean for each gap (95% CI)",
            line=dict(color=PALETTE["vermillion"], width=3), marker=dict(size=9),
            customdata=list(zip(measured["bin"], measured["n"])),
            hovertemplate="%{customdata[0]}: mean %{y:.1f} (n=%{customdata[1]})<extra></extra>",
            error_y=dict(type="data", symmetric=False, color=PALETTE["vermillion"], thickness=2, width=5,
                         array=[h - m for h, m in zip(highs, means)], arrayminus=[m - lo for lo, m in zip(lows, means)]),
        ))
        _add_annotations(figure, [dict(x=middle, y=high, text=f"<b>n={n}</b>", showarrow=False, yanchor="bottom",
                                       yshift=2, font=dict(color=PALETTE["vermillion"], size=11),
                                       bgcolor="rgba(255,255,255,0.8)")
                                  for middle, high, n in zip(measured["mean_days"], highs, measured["n"])])
    _finish(figure, f"Does the effect wear off? {instrument} just before a booster, by the gap since the last session",
            "Days since the previous session", f"{instrument} before the booster (points)",
            subtitle="Each dot is one booster's pre-booster questionnaire; the line is the mean for each gap")
    figure.update_xaxes(range=[0, 92])
    figure.update_layout(height=480)
    if points.empty:
        _no_data(figure, "No boosters with a questionnaire in the week before")
    return figure


def durability_curve(view: dict, instrument: str) -> go.Figure:
    """Kaplan-Meier share of responders still responding, 95% CI band, median, and numbers at risk under it.

    `view` is cohort_views.durability_view.
    """
    curve = view["curve"]
    figure = go.Figure()
    if len(curve):
        days = curve["time"].astype(float)
        figure.add_trace(go.Scatter(x=days, y=curve["ci_upper"] * 100, mode="lines", line=dict(width=0, shape="hv"),
                                    showlegend=False, hoverinfo="skip"))
        figure.add_trace(go.Scatter(x=days, y=curve["ci_lower"] * 100, mode="lines", line=dict(width=0, shape="hv"),
                                    fill="tonexty", fillcolor="rgba(0,114,178,0.18)", name="95% CI",
                                    hoverinfo="skip"))
        figure.add_trace(go.Scatter(
            x=days, y=curve["survival"] * 100, mode="lines", line=dict(color=PALETTE["blue"], width=3, shape="hv"),
            name=f"Still responding (n={view['responders']} responders)", customdata=curve["at_risk"],
            hovertemplate="Day %{x}: %{y:.0f}% still responding (%{customdata} at risk)<extra></extra>",
        ))
        courses = view.get("courses")
        if courses is not None and len(courses):
            censored = courses.loc[~courses["lost_response"].astype(bool), "days"].astype(float).to_numpy()
            # The curve's height at each censoring time: the last step at or before it.
            steps = np.searchsorted(days.to_numpy(), censored, side="right") - 1
            survival_at = curve["survival"].to_numpy(dtype=float)[steps] * 100
            figure.add_trace(go.Scatter(x=censored, y=survival_at, mode="markers",
                                        name="Still responding at last questionnaire (censored)",
                                        marker=dict(symbol="line-ns-open", size=9, color=PALETTE["black"]),
                                        hovertemplate="Last seen on day %{x}<extra></extra>"))
    median, (low, high) = view["median_days"], view["median_ci"]
    if median is not None:
        interval = f" (95% CI {low:.0f}–{high:.0f})" if low is not None and high is not None else \
            f" (95% CI from {low:.0f})" if low is not None else ""
        figure.layout.shapes = (
            dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=50, y1=50,
                 line=dict(color=PALETTE["grey"], dash="dot", width=1)),
            dict(type="line", xref="x", x0=median, x1=median, yref="y domain", y0=0, y1=1,
                 line=dict(color=PALETTE["vermillion"], dash="dash", width=2)),
        )
        _add_annotations(figure, [dict(x=median, y=100, text=f"Median {median:.0f} days{interval}", showarrow=False,
                                       xanchor="left", yanchor="top", xshift=6,
                                       font=dict(color=PALETTE["vermillion"]))])
    subtitle = (f"{view['responders']} completers who responded: {view['lost']} lost response, "
                f"{view['censored']} still responding when last measured")
    _finish(figure, f"How long does the {instrument} response last after induction?",
            "Days since the last induction session", "Responders still responding (%)", subtitle=subtitle)
    # Numbers at risk in a row under the axis title, as in a published survival plot.
    at_risk = view["at_risk"]
    notes = [dict(x=day, y=-0.34, xref="x", yref="paper", text=str(count), showarrow=False,
                  font=dict(size=11, color="#333")) for day, count in zip(at_risk["day"], at_risk["at_risk"])]
    if len(at_risk):
        notes.append(dict(x=0, y=-0.34, xref="paper", yref="paper", text="<b>At risk</b>", showarrow=False,
                          xanchor="right", xshift=-24, font=dict(size=11, color="#333")))
    _add_annotations(figure, notes)
    figure.update_layout(height=540, margin=dict(l=90, r=20, t=100, b=160))
    figure.update_yaxes(range=[0, 103], ticksuffix="%")
    figure.update_xaxes(rangemode="tozero", tickvals=list(at_risk["day"]) if len(at_risk) else None)
    if not len(curve):
        _no_data(figure, "No completers who responded in this cohort")
    return figure


def booster_cadence(strip: pd.DataFrame) -> go.Figure:
    """Session dates of the patients with the most boosters: induction in grey, boosters in colour."""
    figure = go.Figure()
    order = list(dict.fromkeys(strip.sort_values("rank")["patient_label"]))
    for kind, colour, symbol, size in (("Induction", PALETTE["grey"], "circle", 6),
                                       ("Booster", PALETTE["orange"], "diamond", 10)):
        rows = strip.loc[strip["kind"] == kind]
        figure.add_trace(go.Scatter(
            x=rows["session_date"], y=rows["patient_label"], mode="markers", name=f"{kind} session",
            marker=dict(color=colour, symbol=symbol, size=size, line=dict(color="white", width=0.5)),
            customdata=rows["interval_days"].astype("Float64").fillna(0).astype(int),
            hovertemplate="%{y}<br>%{x|%d %b %Y}: " + kind.lower() + " (%{customdata} days after the previous)"
                          "<extra></extra>",
        ))
    _finish(figure, f"Booster dates for the {len(order)} patients with the most boosters",
            "Session date", "", subtitle="Grey: induction sessions · orange diamonds: boosters")
    figure.update_yaxes(categoryorder="array", categoryarray=order[::-1], type="category")
    figure.update_layout(height=160 + 28 * max(len(order), 1))
    if strip.empty:
        _no_data(figure, "No boosters in this cohort")
    return figure
