"""Boosters page charts: intervals, wear-off, durability, cadence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts.theme import (
    MIN_N_SHOWN,
    PALETTE,
    add_annotations,
    add_thin_points,
    finish,
    is_thin,
    no_data,
    shade_severity_bands,
    solid_values,
    thin_note,
)


def booster_interval_histogram(boosters: pd.DataFrame, median_days: float | None = None) -> go.Figure:
    """How many days pass between a booster and the session before it, in weekly bins."""
    intervals = boosters["interval_days"].dropna().astype(float)
    figure = go.Figure(
        go.Histogram(
            x=intervals,
            xbins=dict(start=0.5, size=7),
            marker=dict(color=PALETTE["blue"], line=dict(color="white", width=1)),
            name="Boosters",
            hovertemplate="%{x} days: %{y} boosters<extra></extra>",
        )
    )
    if median_days is not None:
        figure.add_vline(
            x=median_days,
            line=dict(color=PALETTE["vermillion"], dash="dash", width=2),
            annotation_text=f"median {median_days:.0f} days",
            annotation_position="top right",
            annotation_font_color=PALETTE["vermillion"],
        )
    finish(
        figure,
        f"Days between a booster and the session before it (n={len(intervals)} boosters)",
        "Days since the previous session (weekly bins)",
        "Boosters",
    )
    figure.update_layout(showlegend=False, bargap=0.05)
    if intervals.empty:
        no_data(figure, "No boosters in this cohort")
    return figure


def jitter(count: int, width: float, seed: int) -> np.ndarray:
    """Small fixed offsets so dots on the same whole day and score do not hide each other."""
    return np.random.default_rng(seed).uniform(-width, width, count)


def wear_off(points: pd.DataFrame, bins: pd.DataFrame, instrument: str, min_n: int = MIN_N_SHOWN) -> go.Figure:
    """Score before each booster against days since the previous session, with the mean (95% CI, n) per interval.

    Dots are nudged by up to a third of a day and a quarter of a point so that stacked ones show.
    """
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    days = points["days_since_previous"].astype(float).to_numpy()
    scores = points["pre_booster_score"].astype(float).to_numpy()
    figure.add_trace(
        go.Scatter(
            x=days + jitter(len(days), 0.33, 1),
            y=scores + jitter(len(scores), 0.25, 2),
            mode="markers",
            name=f"One booster (n={len(points)})",
            marker=dict(color=PALETTE["sky"], size=6, opacity=0.45),
            customdata=np.column_stack([days, scores]) if len(points) else None,
            hovertemplate="%{customdata[0]:.0f} days: %{customdata[1]:.0f} points<extra></extra>",
        )
    )
    measured = bins.loc[bins["n"] > 0]
    any_thin = False
    if len(measured):
        any_thin = add_thin_points(
            figure,
            measured["mean_days"].tolist(),
            measured["mean"].tolist(),
            measured["n"].tolist(),
            min_n,
            PALETTE["vermillion"],
            "Mean for each gap",
            lows=measured["ci_lower"].tolist(),
            highs=measured["ci_upper"].tolist(),
            unit="boosters",
        )
        means = solid_values(measured["mean"].tolist(), measured["n"].tolist(), min_n)
        lows = [lo if pd.notna(lo) else m for lo, m in zip(measured["ci_lower"], means)]
        highs = [hi if pd.notna(hi) else m for hi, m in zip(measured["ci_upper"], means)]
        figure.add_trace(
            go.Scatter(
                x=measured["mean_days"],
                y=means,
                mode="lines+markers",
                name="Mean for each gap (95% CI)",
                line=dict(color=PALETTE["vermillion"], width=3),
                marker=dict(size=9),
                customdata=list(zip(measured["bin"], measured["n"])),
                hovertemplate="%{customdata[0]}: mean %{y:.1f} (n=%{customdata[1]})<extra></extra>",
                error_y=dict(
                    type="data",
                    symmetric=False,
                    color=PALETTE["vermillion"],
                    thickness=2,
                    width=5,
                    array=[None if m is None else h - m for h, m in zip(highs, means)],
                    arrayminus=[None if m is None else m - lo for lo, m in zip(lows, means)],
                ),
            )
        )
        add_annotations(
            figure,
            [
                dict(
                    x=middle,
                    y=high,
                    text=f"<b>n={n}</b>",
                    showarrow=False,
                    yanchor="bottom",
                    yshift=2,
                    font=dict(color=PALETTE["vermillion"], size=11),
                    bgcolor="rgba(255,255,255,0.8)",
                )
                for middle, high, n in zip(measured["mean_days"], highs, measured["n"])
                if not is_thin(n, min_n)  # a thin point carries its own n beside it
            ],
        )
    finish(
        figure,
        f"Does the effect wear off? {instrument} just before a booster, by the gap since the last session",
        "Days since the previous session",
        f"{instrument} before the booster (points)",
        subtitle="Each dot is one booster's pre-booster questionnaire; the line is the mean for each gap"
        + (f"<br>{thin_note(min_n, 'boosters').capitalize()}" if any_thin else ""),
    )
    figure.update_xaxes(range=[0, 92])
    figure.update_layout(height=480)
    if points.empty:
        no_data(figure, "No boosters with a questionnaire in the week before")
    return figure


def durability_curve(view: dict, instrument: str) -> go.Figure:
    """Kaplan-Meier share of responders still responding, 95% CI band, median, and numbers at risk under it.

    `view` is cohort_views.durability_view.
    """
    curve = view["curve"]
    figure = go.Figure()
    if len(curve):
        days = curve["time"].astype(float)
        figure.add_trace(
            go.Scatter(
                x=days,
                y=curve["ci_upper"] * 100,
                mode="lines",
                line=dict(width=0, shape="hv"),
                showlegend=False,
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=days,
                y=curve["ci_lower"] * 100,
                mode="lines",
                line=dict(width=0, shape="hv"),
                fill="tonexty",
                fillcolor="rgba(0,114,178,0.18)",
                name="95% CI",
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=days,
                y=curve["survival"] * 100,
                mode="lines",
                line=dict(color=PALETTE["blue"], width=3, shape="hv"),
                name=f"Still responding (n={view['responders']} responders)",
                customdata=curve["at_risk"],
                hovertemplate="Day %{x}: %{y:.0f}% still responding (%{customdata} at risk)<extra></extra>",
            )
        )
        courses = view.get("courses")
        if courses is not None and len(courses):
            censored = courses.loc[~courses["lost_response"].astype(bool), "days"].astype(float).to_numpy()
            # The curve's height at each censoring time: the last step at or before it.
            steps = np.searchsorted(days.to_numpy(), censored, side="right") - 1
            survival_at = curve["survival"].to_numpy(dtype=float)[steps] * 100
            figure.add_trace(
                go.Scatter(
                    x=censored,
                    y=survival_at,
                    mode="markers",
                    name="Still responding at last questionnaire (censored)",
                    marker=dict(symbol="line-ns-open", size=9, color=PALETTE["black"]),
                    hovertemplate="Last seen on day %{x}<extra></extra>",
                )
            )
    median, (low, high) = view["median_days"], view["median_ci"]
    if median is not None:
        interval = (
            f" (95% CI {low:.0f}–{high:.0f})"
            if low is not None and high is not None
            else f" (95% CI from {low:.0f})"
            if low is not None
            else ""
        )
        figure.layout.shapes = (
            dict(
                type="line",
                xref="x domain",
                x0=0,
                x1=1,
                yref="y",
                y0=50,
                y1=50,
                line=dict(color=PALETTE["grey"], dash="dot", width=1),
            ),
            dict(
                type="line",
                xref="x",
                x0=median,
                x1=median,
                yref="y domain",
                y0=0,
                y1=1,
                line=dict(color=PALETTE["vermillion"], dash="dash", width=2),
            ),
        )
        add_annotations(
            figure,
            [
                dict(
                    x=median,
                    y=100,
                    text=f"Median {median:.0f} days{interval}",
                    showarrow=False,
                    xanchor="left",
                    yanchor="top",
                    xshift=6,
                    font=dict(color=PALETTE["vermillion"]),
                )
            ],
        )
    subtitle = (
        f"{view['responders']} completers who responded: {view['lost']} lost response, "
        f"{view['censored']} still responding when last measured"
    )
    finish(
        figure,
        f"How long does the {instrument} response last after induction?",
        "Days since the last induction session",
        "Responders still responding (%)",
        subtitle=subtitle,
    )
    # Numbers at risk in a row under the axis title, as in a published survival plot.
    at_risk = view["at_risk"]
    notes = [
        dict(x=day, y=-0.34, xref="x", yref="paper", text=str(count), showarrow=False, font=dict(size=11, color="#333"))
        for day, count in zip(at_risk["day"], at_risk["at_risk"])
    ]
    if len(at_risk):
        notes.append(
            dict(
                x=0,
                y=-0.34,
                xref="paper",
                yref="paper",
                text="<b>At risk</b>",
                showarrow=False,
                xanchor="right",
                xshift=-24,
                font=dict(size=11, color="#333"),
            )
        )
    add_annotations(figure, notes)
    figure.update_layout(height=540, margin=dict(l=90, r=20, t=100, b=160))
    figure.update_yaxes(range=[0, 103], ticksuffix="%")
    figure.update_xaxes(rangemode="tozero", tickvals=list(at_risk["day"]) if len(at_risk) else None)
    if not len(curve):
        no_data(figure, "No completers who responded in this cohort")
    return figure


def booster_cadence(strip: pd.DataFrame) -> go.Figure:
    """Session dates of the patients with the most boosters: induction in grey, boosters in colour."""
    figure = go.Figure()
    order = list(dict.fromkeys(strip.sort_values("rank")["patient_label"]))
    for kind, colour, symbol, size in (
        ("Induction", PALETTE["grey"], "circle", 6),
        ("Booster", PALETTE["orange"], "diamond", 10),
    ):
        rows = strip.loc[strip["kind"] == kind]
        figure.add_trace(
            go.Scatter(
                x=rows["session_date"],
                y=rows["patient_label"],
                mode="markers",
                name=f"{kind} session",
                marker=dict(color=colour, symbol=symbol, size=size, line=dict(color="white", width=0.5)),
                customdata=rows["interval_days"].astype("Float64").fillna(0).astype(int),
                hovertemplate="%{y}<br>%{x|%d %b %Y}: " + kind.lower() + " (%{customdata} days after the previous)"
                "<extra></extra>",
            )
        )
    finish(
        figure,
        f"Booster dates for the {len(order)} patients with the most boosters",
        "Session date",
        "",
        subtitle="Grey: induction sessions · orange diamonds: boosters",
    )
    figure.update_yaxes(categoryorder="array", categoryarray=order[::-1], type="category")
    figure.update_layout(height=160 + 28 * max(len(order), 1))
    if strip.empty:
        no_data(figure, "No boosters in this cohort")
    return figure
