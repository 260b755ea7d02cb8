"""Helpers the leadership views share: proportions with intervals, dates, the split dimensions."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.engine.stats import wilson_interval

# The filter dimensions a chart can be split by: (course column, CohortFilter field, words).
SPLITS: dict[str, tuple[str, str, str]] = {
    "modality": ("modality", "modalities", "Modality"),
    "site": ("site", "sites", "Site"),
    "clinician": ("clinician_id", "clinicians", "Clinician"),
    "condition": ("primary_condition", "conditions", "Primary condition"),
    "age_band": ("age_band", "age_bands", "Age band"),
    "sex": ("sex", "sexes", "Sex"),
}


def proportion(successes: int, n: int) -> dict:
    low, high = wilson_interval(successes, n)
    return {"successes": int(successes), "n": int(n), "rate": successes / n if n else None, "ci": [low, high]}


def as_date(value: dt.date | None) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()
