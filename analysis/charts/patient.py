"""Charts for the patient trend and data pages: pure functions, frames in, plotly Figures out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.charts.theme import (
    INSTRUMENT_COLOURS,
    MODALITY_COLOURS,
    PAGE_LAYOUT,
    PALETTE,
    SAFETY_COLOUR,
    shade_severity_bands,
)
from analysis.instruments import INSTRUMENTS
from analysis.views.patient import ITEM_ANSWERS
from analysis.vocabulary import MODALITY_LABELS

SCORE_COLOUR = PALETTE["black"]
BASELINE_COLOUR = PALETTE["grey"]
RESPONSE_COLOUR = PALETTE["sky"]
REMISSION_COLOUR = PALETTE["green"]
# Item answers 0-3, light to dark: one sequential ramp built from the palette's blue.
# Answers, light to dark: one sequential ramp built from the palette's blue (4 steps for 0-3, 5 for 0-4).
ANSWER_SHADES = ("#F4F4F4", "#BFDCEF", "#56B4E9", "#0072B2", "#00466E")


def answer_scale(levels: int) -> list[tuple[float, str]]:
    """A stepped colour scale with one flat step per possible answer."""
    shades = ANSWER_SHADES[:levels] if levels <= len(ANSWER_SHADES) else ANSWER_SHADES
    scale = []
    for k, shade in enumerate(shades):
        scale += [(k / len(shades), shade), ((k + 1) / len(shades), shade)]
    return scale


PATIENT_LAYOUT = {**PAGE_LAYOUT, "legend": dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0)}


def date_span(sessions: pd.DataFrame, assessments: pd.DataFrame, pad_days: int = 5) -> list[pd.Timestamp] | None:
    """One date range for every chart of a patient, so PHQ-9 and GAD-7 line up."""
    dates = pd.concat([pd.to_datetime(sessions["session_date"]), pd.to_datetime(assessments["assessment_date"])])
    if dates.empty:
        return None
    pad = pd.Timedelta(days=pad_days)
    return [dates.min() - pad, dates.max() + pad]


SESSION_ROW = -2.6  # sessions are drawn in a strip under the score axis, below 0


def _session_markers(figure: go.Figure, sessions: pd.DataFrame) -> None:
    """One marker per session in a strip under the scores: a vertical tick for induction, a diamond for a booster."""
    for (modality, phase), group in sessions.groupby(["modality", "phase"], sort=True):
        label = MODALITY_LABELS.get(modality, modality)
        colour = MODALITY_COLOURS.get(modality, PALETTE["grey"])
        induction = phase == "induction"
        figure.add_trace(
            go.Scatter(
                x=pd.to_datetime(group["session_date"]),
                y=[SESSION_ROW] * len(group),
                mode="markers",
                marker=dict(
                    symbol="line-ns-open" if induction else "diamond",
                    size=18 if induction else 10,
                    color=colour,
                    line=dict(color=colour, width=2.5 if induction else 1),
                ),
                name=f"{label} {'induction session' if induction else 'booster'}",
                customdata=group["session_number"].astype(int),
                hovertemplate="%{x|%d %b %Y}: session %{customdata}"
                + ("" if induction else " (booster)")
                + f"<extra>{label}</extra>",
            )
        )


def _reference_lines(figure: go.Figure, lines: pd.DataFrame, instrument: str, span: list[pd.Timestamp] | None) -> None:
    rows = lines.loc[lines["instrument"] == instrument]
    several = rows["course_number"].nunique() > 1
    rule = rows["response_rule"].dropna()
    response_label = f"Response threshold ({rule.iloc[0]})" if len(rule) else "Response threshold"
    for label, column, colour, dash in (
        ("Baseline", "baseline", BASELINE_COLOUR, "dash"),
        (response_label, "response_threshold", RESPONSE_COLOUR, "dashdot"),
    ):
        xs, ys, texts = [], [], []
        for row in rows.itertuples():
            value = getattr(row, column)
            if pd.isna(value):
                continue
            course = f" (course {row.course_number})" if several else ""
            xs += [row.from_date, row.to_date, None]
            ys += [value, value, None]
            texts += [f"{label}{course}: {value:g}"] * 2 + [None]
        if xs:
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line=dict(color=colour, width=2, dash=dash),
                    name=label,
                    text=texts,
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    remission = rows["remission_max"].dropna()
    remission_max = float(remission.iloc[0]) if len(remission) else float(INSTRUMENTS[instrument].rules.remission_max)
    if span is not None:
        figure.add_trace(
            go.Scatter(
                x=span,
                y=[remission_max, remission_max],
                mode="lines",
                name=f"Remission ({remission_max:g} or less)",
                line=dict(color=REMISSION_COLOUR, width=2, dash="dot"),
                hovertemplate=f"Remission: {remission_max:g} or less<extra></extra>",
            )
        )


def patient_scores(
    assessments: pd.DataFrame,
    sessions: pd.DataFrame,
    lines: pd.DataFrame,
    instrument: str,
    span: list[pd.Timestamp] | None = None,
) -> go.Figure:
    """One patient's PHQ-9 or GAD-7 totals over time, on the severity bands, with sessions and reference lines.

    assessments: patient_views.patient_assessments (item9 and item9_text per row);
    sessions: patient_views.patient_sessions; lines: patient_views.reference_lines.
    PHQ-9 answers with item 9 >= 1 get a red flag marker.
    """
    spec = INSTRUMENTS[instrument]
    rows = assessments.loc[assessments["instrument"] == instrument].sort_values("assessment_date")
    scored = rows.loc[rows["total"].notna()]
    span = span or date_span(sessions, rows)
    figure = go.Figure()
    shade_severity_bands(figure, instrument)
    _session_markers(figure, sessions)
    _reference_lines(figure, lines, instrument, span)
    if len(scored):
        how = (
            scored["total_method"]
            .map(
                {
                    "summed": "",
                    "prorated": " (prorated: an item was blank)",
                    "supplied": " (total only: items not recorded)",
                }
            )
            .fillna("")
        )
        detail = [
            f"{instrument} {int(total)} ({spec.band(total)}){note}" + (f"<br>{text}" if text else "")
            for total, note, text in zip(scored["total"], how, scored["item9_text"])
        ]
        figure.add_trace(
            go.Scatter(
                x=pd.to_datetime(scored["assessment_date"]),
                y=scored["total"].astype(float),
                mode="lines+markers",
                name=f"{instrument} total",
                line=dict(color=SCORE_COLOUR, width=2.5),
                marker=dict(size=8, color=SCORE_COLOUR, line=dict(color="white", width=1)),
                text=detail,
                hovertemplate="%{x|%d %b %Y}<br>%{text}<extra></extra>",
            )
        )
    if spec.safety_items:
        flagged = rows.loc[rows["item9_status"] == "positive"]
        if len(flagged):
            y = flagged["total"].astype(float).fillna(spec.total_max).to_numpy()
            # No text on the chart: it would collide with the band names; the banner above gives the details.
            figure.add_trace(
                go.Scatter(
                    x=pd.to_datetime(flagged["assessment_date"]),
                    y=y,
                    mode="markers",
                    name="Item 9 (thoughts of self-harm) answered 1 or more",
                    marker=dict(
                        symbol="triangle-up", size=16, color=SAFETY_COLOUR, line=dict(color="white", width=1.5)
                    ),
                    customdata=[f"⚑ item 9 = {int(v)} ({ITEM_ANSWERS[int(v)]})" for v in flagged["item9"]],
                    hovertemplate="%{x|%d %b %Y}: %{customdata}<extra>safety flag</extra>",
                )
            )
    words = INSTRUMENTS[instrument].condition
    figure.update_layout(title=f"{words} ({instrument}) score over time", height=430, **PATIENT_LAYOUT)
    figure.update_layout(margin=dict(l=60, r=110, t=60, b=40))
    figure.update_xaxes(title="Date", range=span, showgrid=False)
    ticks = list(range(0, spec.total_max + 1, 5))
    figure.update_yaxes(
        title=f"{instrument} total (points, 0–{spec.total_max})",
        range=[SESSION_ROW - 1.4, spec.total_max + 0.5],
        tickvals=[SESSION_ROW, *ticks],
        ticktext=["sessions", *map(str, ticks)],
        zeroline=False,
    )
    return figure


def item_heatmap(grid: pd.DataFrame, instrument: str, labels: list[str]) -> go.Figure:
    """Answers item by item (rows) at each questionnaire date (columns); the safety item (PHQ-9 item 9) outlined in red.

    grid: patient_views.item_grid (NaN where an answer was not recorded, e.g. a total-only row).
    """
    spec = INSTRUMENTS[instrument]
    safety_item = spec.safety_items[0] if spec.safety_items else None
    answer_words = [f"{k} {word}" for k, word in enumerate(spec.answer_labels, start=spec.item_min)]
    levels = len(answer_words)
    dates = [pd.Timestamp(d).strftime("%d %b %Y") for d in grid.columns]
    values = grid.to_numpy(dtype=float)
    text, hover = [], []
    for row_index, item in enumerate(grid.index):
        text_row, hover_row = [], []
        for column_index in range(values.shape[1]):
            answer = values[row_index, column_index]
            if pd.isna(answer):
                unknown = "?" if item == safety_item else ""
                text_row.append(unknown)
                hover_row.append(f"item {item} unknown (not recorded)" if item == safety_item else "not recorded")
            else:
                text_row.append(f"{int(answer)}")
                hover_row.append(answer_words[int(answer) - spec.item_min])
        text.append(text_row)
        hover.append(hover_row)
    ticks = list(labels)
    if safety_item is not None:
        ticks[safety_item - 1] = f"<b><span style='color:{SAFETY_COLOUR}'>⚑ {labels[safety_item - 1]}</span></b>"
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=dates,
            y=ticks,
            zmin=spec.item_min,
            zmax=spec.item_max,
            colorscale=answer_scale(levels),
            xgap=2,
            ygap=2,
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{x}<br>%{y}<br>%{customdata}<extra></extra>",
            colorbar=dict(
                title="Answer",
                tickvals=[spec.item_min + (k + 0.5) * (levels - 1) / levels for k in range(levels)],
                ticktext=answer_words,
                len=0.9,
            ),
        )
    )
    if safety_item is not None and len(dates):
        row = safety_item - 1
        figure.add_shape(
            type="rect",
            x0=-0.5,
            x1=len(dates) - 0.5,
            y0=row - 0.5,
            y1=row + 0.5,
            line=dict(color=SAFETY_COLOUR, width=3),
            layer="above",
        )
        for column_index, answer in enumerate(values[row]):
            if not pd.isna(answer) and answer >= 1:
                figure.add_shape(
                    type="rect",
                    x0=column_index - 0.45,
                    x1=column_index + 0.45,
                    y0=row - 0.45,
                    y1=row + 0.45,
                    line=dict(color=SAFETY_COLOUR, width=3),
                    fillcolor="rgba(213, 94, 0, 0.3)",
                    layer="above",
                )
    words = spec.condition
    figure.update_layout(
        title=f"{words} ({instrument}) answers question by question", height=120 + 34 * spec.n_items, **PAGE_LAYOUT
    )
    figure.update_layout(margin=dict(l=20, r=20, t=60, b=60))
    figure.update_xaxes(title="Questionnaire date", type="category", tickangle=-45)
    figure.update_yaxes(title=None, autorange="reversed", type="category")
    return figure


def completion_by_session(completion: pd.DataFrame) -> go.Figure:
    """Share of induction sessions with a questionnaire belonging to them, by session number and instrument.

    completion: views.data.quality.assessment_completion (session_number, instrument, sessions, with_score, percent).
    Under each session number its n, the sessions given: one n when every questionnaire is looked for in the
    same sessions, else one per questionnaire in the legend's order (a questionnaire is looked for only in the
    courses of patients who fill it in, so the PCL-5's n is its patients' sessions).
    """
    figure = go.Figure()
    shown = [code for code in INSTRUMENT_COLOURS if (completion["instrument"] == code).any()]
    for instrument in shown:
        rows = completion.loc[completion["instrument"] == instrument]
        figure.add_trace(
            go.Bar(
                x=rows["session_number"].astype(int),
                y=rows["percent"],
                name=instrument,
                marker_color=INSTRUMENT_COLOURS[instrument],
                text=[f"{p:.0f}%" for p in rows["percent"]],
                textposition="inside",
                insidetextanchor="end",
                customdata=rows[["with_score", "sessions"]].to_numpy(),
                hovertemplate="Session %{x}: %{customdata[0]} of %{customdata[1]} sessions (%{y:.0f}%)<extra>"
                + instrument
                + "</extra>",
            )
        )
    n = completion.pivot_table(index="session_number", columns="instrument", values="sessions", aggfunc="first")
    n = n[[code for code in shown if code in n.columns]]
    one_n = bool((n.nunique(axis=1) <= 1).all())
    ticks = [
        f"{int(k)}<br>n={int(row.dropna().iloc[0]):,}"
        if one_n
        else f"{int(k)}<br>n " + " · ".join("–" if pd.isna(v) else f"{int(v):,}" for v in row)
        for k, row in n.iterrows()
    ]
    figure.update_layout(
        title="Questionnaire before each induction session", barmode="group", height=400, **PAGE_LAYOUT
    )
    figure.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1))
    figure.update_xaxes(
        title="Session number in the course (n = sessions given"
        + ("" if one_n else f", for {' · '.join(n.columns)} in turn")
        + ")",
        tickvals=[int(k) for k in n.index],
        ticktext=ticks,
    )
    figure.update_yaxes(title="Sessions with a questionnaire (%)", range=[0, 100])
    return figure
