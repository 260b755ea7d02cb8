"""Induction page charts: trajectories, response by session, severity mix, sessions reached.

Why this stays one module of some 440 lines: charts/ is one module per page, as views/ is, so the
Induction page's charts are found where its views are. Its seven charts share nothing but the theme;
each is one function from a view frame to a Figure, so the length is a list to scroll, not a tangle
to split.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.charts.theme import (
    MIN_N_SHOWN,
    MODALITY_COLOURS,
    PALETTE,
    SERIES,
    SPLIT_SERIES,
    TIMEPOINTS,
    add_annotations,
    add_thin_points,
    band_colours,
    error_bars,
    finish,
    no_data,
    percent,
    shade_severity_bands,
    solid_values,
    thin_note,
    timepoint_label,
)
from analysis.settings import Settings


def trajectory_by_group(
    frame: pd.DataFrame, instrument: str, split_label: str | None = None, min_n: int = MIN_N_SHOWN
) -> go.Figure:
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
    any_thin = False
    for index, group in enumerate(groups):
        series = frame.loc[frame["group"] == group].sort_values("t")
        colour = MODALITY_COLOURS.get(group, SPLIT_SERIES[index % len(SPLIT_SERIES)])
        rows_of_n.append((colour, series.set_index("t")["n"]))
        if not ((series["n"] > 0) & series["mean"].notna()).any():
            continue
        offset = (index - (len(groups) - 1) / 2) * spread
        # Every timepoint is kept so that the line breaks where a point is missing or thin.
        means = solid_values(series["mean"].tolist(), series["n"].tolist(), min_n)
        lows = [lo if pd.notna(lo) else m for lo, m in zip(series["ci_lower"], means)]
        highs = [hi if pd.notna(hi) else m for hi, m in zip(series["ci_upper"], means)]
        name = str(series["group_label"].iloc[0])
        any_thin |= add_thin_points(
            figure,
            series["t"] + offset,
            series["mean"].tolist(),
            series["n"].tolist(),
            min_n,
            colour,
            name,
            lows=series["ci_lower"].tolist(),
            highs=series["ci_upper"].tolist(),
        )
        figure.add_trace(
            go.Scatter(
                x=series["t"] + offset,
                y=means,
                name=name,
                mode="lines+markers",
                showlegend=bool(split_label) or not single,
                line=dict(color=colour, width=3 if single else 2),
                marker=dict(size=7),
                customdata=series["n"],
                hovertemplate="%{y:.1f} points (n=%{customdata})<extra>%{fullData.name}</extra>",
                error_y=dict(
                    type="data",
                    symmetric=False,
                    color=colour,
                    thickness=1.5,
                    width=3,
                    array=[None if m is None else h - m for h, m in zip(highs, means)],
                    arrayminus=[None if m is None else m - lo for lo, m in zip(lows, means)],
                ),
            )
        )
    title = f"{instrument}: mean score across the induction series"
    if split_label:
        title += f", by {split_label.lower()}"
    x_title = "Sessions received before the questionnaire" + (
        " (n = courses measured)" if single else "; rows below: n courses measured, per group"
    )
    finish(
        figure,
        title,
        x_title,
        f"{instrument} total (points)",
        subtitle="Mean with 95% CI; n = courses with a questionnaire at that point"
        + (f"<br>{thin_note(min_n).capitalize()}" if any_thin else ""),
    )
    tick_text = [timepoint_label(t) for t in TIMEPOINTS]
    if single:
        n_at = frame.groupby("t")["n"].sum()
        tick_text = [f"{label}<br>n={int(n_at.get(t, 0))}" for t, label in zip(TIMEPOINTS, tick_text)]
        figure.update_layout(height=100 + plot_height + 110)
    else:
        notes = [
            dict(
                x=t,
                y=-(78 + 19 * row) / plot_height,
                xref="x",
                yref="paper",
                showarrow=False,
                text=str(int(n_at.get(t, 0))),
                font=dict(size=11, color=colour),
            )
            for row, (colour, n_at) in enumerate(rows_of_n)
            for t in TIMEPOINTS
        ]
        notes.append(
            dict(
                x=0,
                y=-78 / plot_height,
                xref="paper",
                yref="paper",
                text="<b>n</b>",
                showarrow=False,
                xanchor="right",
                xshift=-20,
                font=dict(size=11, color="#333"),
            )
        )
        add_annotations(figure, notes)
        bottom = 95 + 19 * len(groups) + 45
        figure.update_layout(height=100 + plot_height + bottom, margin=dict(b=bottom))
    figure.update_xaxes(tickvals=list(TIMEPOINTS), ticktext=tick_text, range=[-0.5, 8.5])
    if frame["n"].sum() == 0:
        no_data(figure, "No questionnaires in this cohort")
    return figure


def response_by_session(
    frame: pd.DataFrame, instrument: str, min_n: int = MIN_N_SHOWN, settings: Settings | None = None
) -> go.Figure:
    """% of eligible courses responding and remitting after each session (95% CI), n under each session.

    settings: the clinic's (the legend and subtitle state its rules); docs/DEFINITIONS.md defaults when None.
    """
    rules = (settings or Settings()).rules_for(instrument)
    measured = frame.loc[frame["n"] > 0].sort_values("t")
    # Sessions between the first and last measured one stay, unmeasured, so that the lines break there.
    rows = (
        frame.loc[frame["t"].between(measured["t"].min(), measured["t"].max())].sort_values("t")
        if len(measured)
        else measured
    )
    figure = go.Figure()
    any_thin = False
    for measure, label, colour, offset in (
        ("responding", f"Responding (score ≤ {rules.threshold_words()})", PALETTE["blue"], -0.05),
        ("remitting", f"Remitting (score ≤ {rules.remission_max})", PALETTE["green"], 0.05),
    ):
        rates = [percent(r) for r in rows[f"{measure}_rate"]]
        any_thin |= add_thin_points(
            figure,
            rows["t"] + offset,
            rates,
            rows["n"].tolist(),
            min_n,
            colour,
            label,
            lows=[percent(v) for v in rows[f"{measure}_ci_lower"]],
            highs=[percent(v) for v in rows[f"{measure}_ci_upper"]],
            hover_format=".0f",
        )
        solid = solid_values(rates, rows["n"].tolist(), min_n)
        figure.add_trace(
            go.Scatter(
                x=rows["t"] + offset,
                y=solid,
                name=label,
                mode="lines+markers",
                line=dict(color=colour, width=3),
                marker=dict(size=8),
                customdata=list(zip(rows[f"{measure}_n"], rows["n"])),
                hovertemplate="%{y:.0f}% (%{customdata[0]} of %{customdata[1]})<extra>%{fullData.name}</extra>",
                error_y=error_bars(
                    [None if v is None else r for v, r in zip(solid, rows[f"{measure}_rate"])],
                    rows[f"{measure}_ci_lower"],
                    rows[f"{measure}_ci_upper"],
                    colour,
                ),
            )
        )
    finish(
        figure,
        f"{instrument}: share of eligible courses responding and remitting after each session",
        "Sessions received before the questionnaire (n = eligible courses measured)",
        "Eligible courses (%)",
        subtitle=f"Among courses with a {rules.eligibility_words()} and a questionnaire after that session; 95% CI"
        + (f"<br>{thin_note(min_n).capitalize()}" if any_thin else ""),
    )
    figure.update_xaxes(
        tickvals=measured["t"].tolist(),
        ticktext=[f"{timepoint_label(t)}<br>n={n}" for t, n in zip(measured["t"], measured["n"])],
    )
    figure.update_yaxes(range=[0, 105], ticksuffix="%")
    if rows.empty:
        no_data(figure, "No eligible courses with a questionnaire after a session")
    return figure


def severity_mix(frame: pd.DataFrame, instrument: str) -> go.Figure:
    """Severity bands of the same courses at baseline and at the end of induction, stacked in the band shades."""
    figure = go.Figure()
    n = int(frame["n"].iloc[0]) if len(frame) else 0
    order = ["End of induction", "Baseline"]
    for (_band, rows), shade in zip(
        frame.sort_values("band_order").groupby("band_order", sort=True), band_colours(instrument)
    ):
        rows = rows.set_index("when").reindex(order)
        label = str(rows["band"].dropna().iloc[0])
        shares = [percent(v) or 0.0 for v in rows["share"]]
        figure.add_trace(
            go.Bar(
                y=order,
                x=shares,
                name=label.capitalize(),
                orientation="h",
                marker=dict(color=shade, line=dict(color="#777", width=1)),
                text=[f"{s:.0f}%" if s >= 7 else "" for s in shares],
                textposition="inside",
                insidetextanchor="middle",
                textangle=0,
                textfont=dict(color="#222"),
                customdata=rows["courses"].fillna(0).astype(int),
                hovertemplate="%{y}: %{x:.0f}% %{fullData.name} (%{customdata} courses)<extra></extra>",
            )
        )
    finish(
        figure,
        f"{instrument} severity before and after induction",
        "Courses (%)",
        "",
        subtitle=f"The same {n} courses: those with a baseline and an end-of-induction score",
    )
    figure.update_layout(barmode="stack", height=400, legend=dict(traceorder="normal"))
    figure.update_xaxes(range=[0, 100], ticksuffix="%")
    if n == 0:
        no_data(figure, "No course has both a baseline and an end-of-induction score")
    return figure


def sessions_reached(frame: pd.DataFrame) -> go.Figure:
    """How many courses reach each induction session, one set of bars per induction length (a funnel)."""
    figure = go.Figure()
    for colour, (label, rows) in zip(SERIES, frame.groupby("label", sort=False)):
        figure.add_trace(
            go.Bar(
                x=rows["session_number"],
                y=[percent(s) for s in rows["share"]],
                name=f"{label}, n={int(rows['courses'].iloc[0])}",
                marker_color=colour,
                showlegend=True,
                text=[f"{r}" for r in rows["reached"]],
                textposition="outside",
                textfont=dict(size=10),
                customdata=list(zip(rows["reached"], rows["courses"])),
                hovertemplate="Session %{x}: %{y:.0f}% (%{customdata[0]} of %{customdata[1]} courses)"
                "<extra>%{fullData.name}</extra>",
            )
        )
    finish(
        figure,
        "How many courses reach each session of the induction series",
        "Session number (number on the bar = courses that reached it)",
        "Courses that started (%)",
        subtitle="Finished courses only (those still in progress are left out)",
    )
    longest = int(frame["session_number"].max()) if len(frame) else 8
    figure.update_xaxes(tickvals=list(range(1, longest + 1)), ticktext=[f"Session {k}" for k in range(1, longest + 1)])
    figure.update_yaxes(range=[0, 112], ticksuffix="%")
    figure.update_layout(barmode="group", bargap=0.25)
    if frame.empty:
        no_data(figure, "No finished courses in this cohort")
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
        figure.add_trace(
            go.Bar(
                x=x,
                y=[percent(r) for r in rates],
                name=measure.capitalize(),
                marker_color=colour,
                text=[
                    f"{percent(r):.0f}%<br>{k}/{n}" if r is not None else "" for r, k, n in zip(rates, counts, totals)
                ],
                # A bar too short to hold its label (0%, 5%) carries it above, where it is not clipped.
                textposition=["inside" if r is not None and percent(r) >= 15 else "outside" for r in rates],
                insidetextanchor="middle",
                textangle=0,
                textfont=dict(
                    color=["white" if r is not None and percent(r) >= 15 else "#222" for r in rates], size=12
                ),
                cliponaxis=False,
                error_y=error_bars(
                    rates,
                    [summary[g][f"{measure}_ci"][0] for g, _ in groups],
                    [summary[g][f"{measure}_ci"][1] for g, _ in groups],
                    "#333",
                ),
            )
        )
    finish(
        figure,
        f"{instrument}: intention to treat beside completers",
        "",
        "Eligible courses (%)",
        subtitle="Response and remission; whiskers show the 95% CI",
    )
    figure.update_layout(barmode="group", bargap=0.3)
    figure.update_yaxes(range=[0, 100], ticksuffix="%")
    return figure


def individual_trajectories(
    frame: pd.DataFrame, instrument: str, mean: pd.DataFrame | None = None, min_n: int = MIN_N_SHOWN
) -> go.Figure:
    """Every course's score across the induction series as a thin line, with the cohort mean on top."""
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    courses = list(dict.fromkeys(frame["course_id"]))
    for index, course in enumerate(courses):
        rows = frame.loc[frame["course_id"] == course].sort_values("t")
        figure.add_trace(
            go.Scatter(
                x=rows["t"],
                y=rows["total"],
                mode="lines+markers",
                name="Individual courses",
                legendgroup="courses",
                showlegend=index == 0,
                line=dict(color=PALETTE["grey"], width=1.2),
                marker=dict(size=5),
                opacity=0.7,
                connectgaps=True,
                hovertemplate=f"{course}: " + "%{y} points<extra></extra>",
            )
        )
    any_thin = False
    if mean is not None and len(mean):
        points = mean.sort_values("t")
        any_thin = add_thin_points(
            figure, points["t"], points["mean"].tolist(), points["n"].tolist(), min_n, PALETTE["blue"], "Mean"
        )
        solid = solid_values(points["mean"].tolist(), points["n"].tolist(), min_n)
        figure.add_trace(
            go.Scatter(
                x=points["t"],
                y=solid,
                mode="lines+markers+text",
                name="Mean of all courses",
                text=[f"n={n}" if v is not None else "" for n, v in zip(points["n"], solid)],
                textposition="top center",
                textfont=dict(color=PALETTE["blue"]),
                line=dict(color=PALETTE["blue"], width=4),
                marker=dict(size=8),
            )
        )
    finish(
        figure,
        f"{instrument} of each course across the induction series ({len(courses)} courses)",
        "Sessions received before the questionnaire",
        f"{instrument} total (points)",
        subtitle="One grey line per course; blue: the mean, with n courses measured at each point"
        + (f"<br>{thin_note(min_n).capitalize()}" if any_thin else ""),
    )
    figure.update_xaxes(tickvals=list(TIMEPOINTS), ticktext=[timepoint_label(t) for t in TIMEPOINTS], range=[-0.5, 8.5])
    return figure


CLASS_COLOURS = {
    "early": PALETTE["blue"],
    "late": PALETTE["green"],
    "unsustained": PALETTE["orange"],
    "non_responder": PALETTE["vermillion"],
}


def response_patterns(frame: pd.DataFrame, counts: dict, instrument: str, labels: dict[str, str]) -> go.Figure:
    """Mean score of each trajectory class across the induction series, its share and n in the legend."""
    figure = go.Figure()
    shade_severity_bands(figure, instrument, label=False)
    total = counts.get("n") or 0
    for name, colour in CLASS_COLOURS.items():
        rows = frame.loc[frame["trajectory_class"] == name].sort_values("t")
        n = counts.get(name, 0)
        if rows.empty:
            continue
        share = f"{n / total:.0%}" if total else "—"
        figure.add_trace(
            go.Scatter(
                x=rows["t"],
                y=rows["mean"],
                mode="lines+markers",
                name=f"{labels[name]}: {share} (n={n})",
                line=dict(color=colour, width=3),
                customdata=rows["n"],
                hovertemplate="mean %{y:.1f} (n=%{customdata})<extra></extra>",
            )
        )
    finish(
        figure,
        f"{instrument}: how responses unfold among completers",
        "Sessions received before the questionnaire",
        f"Mean {instrument} total (points)",
        subtitle=f"Completers with an end-of-induction score, n={total}; response = the instrument's response rule",
    )
    shown = sorted(int(t) for t in frame["t"].unique()) if len(frame) else []
    figure.update_xaxes(tickvals=shown, ticktext=[timepoint_label(t) for t in shown])
    if frame.empty:
        no_data(figure, "No completers with an end-of-induction score in this cohort")
    return figure
