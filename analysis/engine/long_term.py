"""Long-term outcomes (OUTCOMES.md §5b): CMS159-style remission at 6 and 12 months and response at 12 months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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


def index_scores(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Each patient's index: the first PHQ-9 at or above the eligibility threshold in the store.

    With cohort filters, only patients with a course in the filtered cohort (Timeline.subset keeps
    their scores); without, every patient with a PHQ-9 (a score before treatment, or of a patient
    never treated, can be an index).
    """
    columns = ["patient_id", "index_date", "index_score"]
    scores = cohort(timeline, filters).scores
    if scores is None or scores.empty:
        return pd.DataFrame(columns=columns)
    phq9 = scores.loc[scores["instrument"] == INSTRUMENT]
    qualifying = phq9.loc[phq9["total"].astype(float) >= timeline.settings.eligibility_min]
    first = qualifying.sort_values(["patient_id", "assessment_date"]).drop_duplicates("patient_id", keep="first")
    frame = first.rename(columns={"assessment_date": "index_date", "total": "index_score"})[columns]
    frame["index_date"] = pd.to_datetime(frame["index_date"])
    return frame.reset_index(drop=True)


def patient_measures(timeline: Timeline, filters: CohortFilter | None = None) -> pd.DataFrame:
    """Per indexed patient and measure: measurable or not yet, the latest score in the window, met or not."""
    index = index_scores(timeline, filters)
    columns = ["patient_id", "index_date", "index_score", "measure", "measurable", "window_score", "met"]
    if index.empty:
        return pd.DataFrame(columns=columns)
    settings = timeline.settings
    last_date = pd.Timestamp(timeline.data_last_date)
    scores = timeline.scores.loc[
        timeline.scores["instrument"] == INSTRUMENT, ["patient_id", "assessment_date", "total"]
    ]
    # Only the indexed patients' scores matter; the merge below keeps those.
    scores = scores.assign(assessment_date=pd.to_datetime(scores["assessment_date"])).merge(index, on="patient_id")
    after = (scores["assessment_date"] - scores["index_date"]).dt.days
    parts = []
    for key, opens, closes, kind in MEASURES:
        # Both ends of the window are included; the latest score in it is the one that counts.
        window = scores.loc[(after >= opens) & (after <= closes)]
        latest = window.sort_values("assessment_date").drop_duplicates("patient_id", keep="last")
        part = index.merge(latest[["patient_id", "total"]], on="patient_id", how="left")
        part = part.rename(columns={"total": "window_score"})
        part["measure"] = key
        part["measurable"] = part["index_date"] + pd.Timedelta(days=closes) <= last_date
        score = part["window_score"].astype(float)
        if kind == "remission":
            met = score <= settings.remission_max
        else:
            met = score <= settings.response_fraction * part["index_score"].astype(float)
        # No score in the window: in the denominator, not in the numerator (NaN compares False).
        part["met"] = met.fillna(False).astype(bool) & part["measurable"]
        parts.append(part[columns])
    return pd.concat(parts, ignore_index=True)


def met_key(numbers: dict) -> str:
    """'remission_n' or 'response_n': the numerator key of one measure's block."""
    return "remission_n" if "remission_n" in numbers else "response_n"


def _summaries(rows: pd.DataFrame, index_n: int) -> dict:
    summary: dict = {"index_n": index_n}
    for key, _opens, _closes, kind in MEASURES:
        part = rows.loc[rows["measure"] == key]
        measurable = part.loc[part["measurable"].astype(bool)]
        n, met = int(len(measurable)), int(measurable["met"].sum())
        low, high = wilson_interval(met, n)
        summary[key] = {
            "n": n,
            f"{kind}_n": met,
            "rate": met / n if n else None,
            "ci": [low, high],
            "not_yet": int(len(part) - n),
            "no_score_n": int(measurable["window_score"].isna().sum()),
        }
    return summary


def long_term(timeline: Timeline, quarters: Iterable[str] | None = None, filters: CohortFilter | None = None) -> dict:
    """The §7 long_term block for patients whose index date falls in `quarters` (None: every index)."""
    rows = patient_measures(timeline, filters)
    if quarters is not None:
        wanted = set(quarters)
        index_quarter = index_quarters(rows["index_date"])
        rows = rows.loc[index_quarter.isin(wanted)]
    return _summaries(rows, int(rows["patient_id"].nunique()))


def index_quarters(dates: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(dates)
    return stamps.dt.year.astype(str) + "Q" + stamps.dt.quarter.astype(str)


def long_term_by_quarter(timeline: Timeline, filters: CohortFilter | None = None) -> list[dict]:
    """The long_term block for each quarter with an index date, oldest first, then 'all'."""
    rows = patient_measures(timeline, filters)
    quarters = index_quarters(rows["index_date"]) if len(rows) else pd.Series(dtype=str)
    result = []
    for quarter in sorted(quarters.unique()):
        part = rows.loc[quarters == quarter]
        result.append({"quarter": quarter, **_summaries(part, int(part["patient_id"].nunique()))})
    result.append({"quarter": "all", **_summaries(rows, int(rows["patient_id"].nunique()))})
    return result


def window_dates(index_date: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """The first and last day of each window for one index date (for the definitions and tests)."""
    return {key: (index_date + dt.timedelta(days=o), index_date + dt.timedelta(days=c)) for key, o, c, _ in MEASURES}
