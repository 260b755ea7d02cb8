"""The cohort a page or report looks at: the filter, the courses it keeps, and the values each filter offers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.engine.frames import is_in
from analysis.engine.timeline import Timeline
from analysis.vocabulary import MODALITIES


@dataclass(frozen=True)
class CohortFilter:
    """The cohort a page or report looks at; empty tuples mean everyone."""

    start_from: dt.date | None = None
    start_to: dt.date | None = None
    sites: tuple[str, ...] = ()
    clinicians: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()

    def is_everyone(self) -> bool:
        return self == CohortFilter()

    def describe(self) -> str:
        parts = []
        if self.start_from or self.start_to:
            parts.append(f"courses starting {self.start_from or 'any time'} to {self.start_to or 'now'}")
        for label, values in (
            ("site", self.sites),
            ("clinician", self.clinicians),
            ("modality", self.modalities),
            ("condition", self.conditions),
            ("age band", self.age_bands),
            ("sex", self.sexes),
        ):
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        return "; ".join(parts) or "all courses"


def filter_courses(courses: pd.DataFrame, filters: CohortFilter | None) -> pd.DataFrame:
    """The courses in a cohort. Every metric calls this one function."""
    if filters is None or filters.is_everyone():
        return courses
    keep = np.ones(len(courses), dtype=bool)
    start = pd.to_datetime(courses["start_date"])
    if filters.start_from:
        keep &= (start >= pd.Timestamp(filters.start_from)).to_numpy()
    if filters.start_to:
        keep &= (start <= pd.Timestamp(filters.start_to)).to_numpy()
    for column, values in (
        ("site", filters.sites),
        ("clinician_id", filters.clinicians),
        ("modality", filters.modalities),
        ("primary_condition", filters.conditions),
        ("age_band", filters.age_bands),
        ("sex", filters.sexes),
    ):
        if values:
            keep &= is_in(courses[column], values)
    return courses.loc[keep]


def cohort(timeline: Timeline, filters: CohortFilter | None) -> Timeline:
    """The same timeline restricted to the filtered courses."""
    if filters is None or filters.is_everyone():
        return timeline
    courses = filter_courses(timeline.courses, filters)
    if len(courses) == len(timeline.courses):  # e.g. the sidebar's full date range: nothing to cut
        return timeline
    return timeline.subset(courses["course_id"])


def filter_options(timeline: Timeline) -> dict[str, list]:
    """The values each sidebar filter can take, from the courses in the store."""
    courses = timeline.courses

    def values(column: str) -> list[str]:
        return sorted(v for v in courses[column].dropna().unique())

    dates = pd.to_datetime(courses["start_date"])
    return {
        "sites": values("site"),
        "clinicians": values("clinician_id"),
        "modalities": [m for m in MODALITIES if m in set(courses["modality"])],
        "conditions": values("primary_condition"),
        "age_bands": values("age_band"),
        "sexes": values("sex"),
        "first_start": dates.min().date() if len(dates) else None,
        "last_start": dates.max().date() if len(dates) else None,
    }
