"""Long-term outcomes (docs/DEFINITIONS.md §5b): CMS159-style remission at 6 and 12 months and response at 12 months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.stats import wilson_interval
from analysis.engine.timeline import Timeline

# §5b is written for PHQ-9 (the CMS159 measure is a depression measure).
INSTRUMENT = "PHQ-9"
# (measure key, days after the index date the window opens, closes, and what counts)
MEASURES = (
    ("remission_12m", 305, 425, "remission"),
    ("response_12m", 305, 425, "response"),
    ("remission_6m", 152, 212, "remission"),
)
MEASURE_WORDS = {
    "remission_12m": "Remission at 12 months",
    "response_12m": "Response at 12 months",
    "remission_6m": "Remission at 6 months",
}


def patient_measures(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """One row per indexed patient: index date and score and, per measure, whether its window has closed
    (`<measure>_measurable`), the latest score in it (`<measure>_score`) and whether that meets it (`<measure>_met`).

    The index is the first PHQ-9 at or above the eligibility threshold in the store. With cohort filters,
    only patients with a course in the filtered cohort (Timeline.subset keeps their scores); without,
    every patient with a PHQ-9 (a score before treatment, or of a patient never treated, can be an index).
    Whole columns in numpy over integer patient codes: the report asks for this on every page view.
    """
    columns = ["patient_id", "index_date", "index_score"] + [
        f"{key}_{part}" for key, *_ in MEASURES for part in ("measurable", "score", "met")
    ]
    scores = cohort(timeline, filters).scores
    if scores is None or scores.empty or timeline.data_last_date is None:
        return pd.DataFrame(columns=columns)
    rules = timeline.settings.rules_for(INSTRUMENT)
    phq9 = scores.loc[scores["instrument"] == INSTRUMENT]
    codes, patients = pd.factorize(phq9["patient_id"])
    days = pd.to_datetime(phq9["assessment_date"]).to_numpy("datetime64[D]").astype(np.int64)
    totals = phq9["total"].to_numpy(dtype=float)
    order = np.lexsort((days, codes))  # each patient's scores, oldest first
    codes, days, totals = codes[order], days[order], totals[order]

    qualifying = np.flatnonzero(totals >= rules.eligibility_min)
    indexed, first = np.unique(codes[qualifying], return_index=True)  # the first qualifying row per patient
    index_rows = qualifying[first]
    index_day = np.zeros(len(patients), dtype=np.int64)
    index_day[indexed] = days[index_rows]
    has_index = np.zeros(len(patients), dtype=bool)
    has_index[indexed] = True
    after = days - index_day[codes]
    last_day = np.datetime64(timeline.data_last_date, "D").astype(np.int64)

    frame = pd.DataFrame(
        {
            "patient_id": np.asarray(patients)[indexed],
            "index_date": pd.to_datetime(days[index_rows].astype("datetime64[D]")),
            "index_score": totals[index_rows],
        }
    )
    for key, opens, closes, kind in MEASURES:
        # Both ends of the window are included; the latest score in it is the one that counts.
        rows = np.flatnonzero(has_index[codes] & (after >= opens) & (after <= closes))
        latest_codes, last_from_end = np.unique(codes[rows][::-1], return_index=True)
        window_score = np.full(len(patients), np.nan)
        window_score[latest_codes] = totals[rows[::-1][last_from_end]]
        score = window_score[indexed]
        measurable = index_day[indexed] + closes <= last_day
        if kind == "remission":
            met = rules.remits(score)
        else:
            met = rules.responds(frame["index_score"].to_numpy(), score)
        frame[f"{key}_measurable"] = measurable
        frame[f"{key}_score"] = score
        # No score in the window: in the denominator, not in the numerator (NaN compares False).
        frame[f"{key}_met"] = met & measurable
    return frame[columns]


def met_key(numbers: dict) -> str:
    """'remission_n' or 'response_n': the numerator key of one measure's block."""
    return "remission_n" if "remission_n" in numbers else "response_n"


def _summaries(rows: pd.DataFrame) -> dict:
    summary: dict = {"index_n": int(len(rows))}
    for key, _opens, _closes, kind in MEASURES:
        measurable = rows[f"{key}_measurable"].to_numpy(dtype=bool)
        n, met = int(measurable.sum()), int(rows[f"{key}_met"].to_numpy(dtype=bool).sum())
        low, high = wilson_interval(met, n)
        summary[key] = {
            "n": n,
            f"{kind}_n": met,
            "rate": met / n if n else None,
            "ci": [low, high],
            "not_yet": int(len(rows) - n),
            "no_score_n": int((measurable & np.isnan(rows[f"{key}_score"].to_numpy(dtype=float))).sum()),
        }
    return summary


def long_term(timeline: Timeline, quarters: Iterable[str] | None = None, filters: CohortFilter | None = None) -> dict:
    """The §7 long_term block for patients whose index date falls in `quarters` (None: every index)."""
    rows = patient_measures(timeline, filters)
    if quarters is not None and len(rows):
        rows = rows.loc[index_quarters(rows["index_date"]).isin(set(quarters))]
    return _summaries(rows)


def index_quarters(dates: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(dates)
    return stamps.dt.year.astype(str) + "Q" + stamps.dt.quarter.astype(str)


def long_term_by_quarter(timeline: Timeline, filters: CohortFilter | None = None) -> list[dict]:
    """The long_term block for each quarter with an index date, oldest first, then 'all'."""
    rows = patient_measures(timeline, filters)
    quarters = index_quarters(rows["index_date"]) if len(rows) else pd.Series(dtype=str)
    result = []
    for quarter in sorted(quarters.unique()):
        result.append({"quarter": quarter, **_summaries(rows.loc[quarters == quarter])})
    result.append({"quarter": "all", **_summaries(rows)})
    return result


def window_dates(index_date: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """The first and last day of each window for one index date (for the definitions and tests)."""
    return {key: (index_date + dt.timedelta(days=o), index_date + dt.timedelta(days=c)) for key, o, c, _ in MEASURES}
