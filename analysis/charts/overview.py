"""Overview page charts: rates by start quarter, the clinic beside published results."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.charts.theme import (
    MIN_N_SHOWN,
    PALETTE,
    add_thin_points,
    error_bars,
    finish,
    measure_colours,
    no_data,
    percent,
    solid_values,
    thin_note,
)


def rates_by_start_quarter(trend: pd.DataFrame, measures: list[str], title: str, min_n: int = MIN_N_SHOWN) -> go.Figure:
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
    any_thin = False
    for index, (colour, measure) in enumerate(zip(measure_colours(measures), measures)):
        series = rows.loc[rows["measure"] == measure].set_index("quarter").reindex(quarters).reset_index()
        if not (series["n"] > 0).any():
            continue
        series["label"] = series["label"].dropna().iloc[0]
        offset = (index - (len(measures) - 1) / 2) * spread
        labels = [f"n={int(n)}" if pd.notna(n) else "" for n in series["n"]]
        x = [position[q] + offset for q in series["quarter"]]
        rates = [percent(r) for r in series["rate"]]
        any_thin |= add_thin_points(
            figure,
            x,
            rates,
            series["n"].tolist(),
            min_n,
            colour,
            series["label"].iloc[0],
            lows=[percent(v) for v in series["ci_lower"]],
            highs=[percent(v) for v in series["ci_upper"]],
            hover_format=".0f",
        )
        # A quarter with no courses, or too few, leaves a gap: a line drawn across it would invent a value.
        solid = solid_values(rates, series["n"].tolist(), min_n)
        figure.add_trace(
            go.Scatter(
                x=x,
                y=solid,
                name=series["label"].iloc[0],
                mode="lines+markers" if shared_n else "lines+markers+text",
                text=labels,
                textposition="top center",
                textfont=dict(size=10, color=colour),
                line=dict(color=colour, width=3),
                marker=dict(size=8),
                customdata=list(zip(series["quarter"], series["successes"], series["n"])),
                hovertemplate="%{customdata[0]}: %{y:.0f}% (%{customdata[1]} of %{customdata[2]})"
                "<extra>%{fullData.name}</extra>",
                error_y=error_bars(
                    [None if v is None else r for v, r in zip(solid, series["rate"])],
                    series["ci_lower"],
                    series["ci_upper"],
                    colour,
                ),
            )
        )
    finish(
        figure,
        title,
        "Quarter the course started" + (" (n = courses counted)" if shared_n else ""),
        "Courses (%)",
        subtitle="Each point: courses that started in that quarter, with its 95% CI"
        + (f"<br>{thin_note(min_n).capitalize()}" if any_thin else ""),
    )
    tick_text = quarters
    if shared_n:
        n_by_quarter = rows.groupby("quarter")["n"].first()
        tick_text = [f"{q}<br>n={int(n_by_quarter.get(q, 0))}" for q in quarters]
    figure.update_xaxes(
        tickvals=list(range(len(quarters))), ticktext=tick_text, range=[-0.5, max(len(quarters) - 0.5, 0.5)]
    )
    figure.update_yaxes(range=[0, 105], ticksuffix="%")
    if not len(rows):
        no_data(figure, "No courses in this cohort")
    return figure


def literature_comparison(comparison: pd.DataFrame) -> go.Figure:
    """The clinic's PHQ-9 response and remission (95% CI, n) as dots beside published real-world results."""
    rows = comparison.loc[comparison["response_rate"].notna() | comparison["remission_rate"].notna()]
    labels = [
        f"<b>{r.source}</b> (n={r.n})" if r.kind == "This clinic" else f"{r.source} (n={r.n:,})"
        for r in rows.itertuples()
    ]
    figure = go.Figure()
    for measure, colour, symbol in (
        ("response", PALETTE["blue"], "circle"),
        ("remission", PALETTE["green"], "diamond"),
    ):
        rates = rows[f"{measure}_rate"]
        clinic = (rows["kind"] == "This clinic").to_numpy()
        figure.add_trace(
            go.Scatter(
                x=[percent(r) for r in rates],
                y=labels,
                mode="markers+text",
                name=measure.capitalize(),
                marker=dict(
                    color=colour,
                    size=[13 if c else 10 for c in clinic],
                    symbol=symbol,
                    line=dict(color="white", width=1),
                ),
                text=[f"{percent(r):.0f}%" if percent(r) is not None else "" for r in rates],
                textposition="top center",
                textfont=dict(size=11, color=colour),
                hovertemplate="%{y}<br>" + measure + ": %{x:.1f}%<extra></extra>",
                error_x=dict(
                    type="data",
                    symmetric=False,
                    color=colour,
                    thickness=1.5,
                    width=4,
                    array=[
                        (percent(h) - percent(r)) if percent(h) is not None else 0
                        for h, r in zip(rows[f"{measure}_ci_upper"], rates)
                    ],
                    arrayminus=[
                        (percent(r) - percent(lo)) if percent(lo) is not None else 0
                        for lo, r in zip(rows[f"{measure}_ci_lower"], rates)
                    ],
                ),
            )
        )
    finish(
        figure,
        "PHQ-9 response and remission: this clinic beside published real-world results",
        "Patients or courses (%)",
        "",
        subtitle="This clinic with its 95% CI; published studies count their patients in different ways "
        "(see the list below)",
    )
    figure.update_yaxes(categoryorder="array", categoryarray=labels, range=[len(labels) - 0.5, -0.8])
    figure.update_xaxes(range=[0, 100], ticksuffix="%")
    figure.update_layout(height=230 + 55 * max(len(labels), 1))
    return figure
