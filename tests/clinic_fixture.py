"""A three-patient clinic worked by hand, shared by the patient-view, data-view and chart tests, and the
helpers that build such a clinic (the five-patient clinic of tests/views/test_cohort_views.py uses them too).

The data's last date is 2026-04-30 (B's last PHQ-9), so every "days since" counts to that day.

A (CLN-01, ketamine IV): sessions 5, 7, 9, 12, 14, 16 Jan 2026 (induction of 6) and a booster on
  20 Feb. PHQ-9: 5 Jan baseline 20 (items, item 9 = 1); 16 Jan 12 (t=5); 20 Jan 8 (t=6, end of
  induction: response, no remission, reliable improvement of 12); 10 Mar 15 as a total only (t=7:
  loss of response, 53 days after session 6 on 16 Jan). No GAD-7.
B (CLN-02, esketamine): sessions 14, 17, 21 Apr 2026 (3 of 8, in progress: last session 9 days
  before the data's end). PHQ-9: 10 Apr baseline 18 (item 9 = 0); 17 Apr answers to items 6-9 only
  (incomplete, no total, item 9 = 1); 30 Apr 14 (item 9 = 2).
C (CLN-01, ketamine IM): sessions 3 and 5 Nov 2025, then stopped. PHQ-9 1 Nov 8 as a total only
  (below the threshold of 10, item 9 unknown); GAD-7 1 Nov 12 (items).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from analysis import ingest, store

TODAY = dt.date(2026, 11, 26)
DATA_END = dt.date(2026, 4, 30)
ITEMS = [f"item_{k}" for k in range(1, 10)]


def score(patient, date, instrument, items=None, total=None):
    """One questionnaire row: the answers given, in item order (blank after the last), and the total if written."""
    answers = list(items) if items is not None else []
    answers += [None] * (9 - len(answers))
    return {
        "patient_id": patient,
        "assessment_date": date,
        "instrument": instrument,
        **dict(zip(ITEMS, answers)),
        "total": total,
    }


def store_tables(patients, sessions, assessments) -> list[tuple[str, pd.DataFrame]]:
    """The three layout-A tables as an import reads them, answers and totals as whole numbers or blank."""
    assessments = assessments.copy()
    for column in ITEMS + ["total"]:
        assessments[column] = assessments[column].astype("Int64")
    return [("patients.csv", patients), ("sessions.csv", sessions), ("assessments.csv", assessments)]


# A, B and C as the patients table records them (the five-patient clinic has the same three, plus D and E).
PATIENTS = [
    {
        "patient_id": "A",
        "age_band": "35-44",
        "sex": "F",
        "primary_condition": "TRD",
        "site": "NORTH",
        "clinician_id": "CLN-01",
    },
    {
        "patient_id": "B",
        "age_band": "25-34",
        "sex": "M",
        "primary_condition": "MDD",
        "site": "SOUTH",
        "clinician_id": "CLN-02",
    },
    {
        "patient_id": "C",
        "age_band": "55-64",
        "sex": "F",
        "primary_condition": "MDD",
        "site": "NORTH",
        "clinician_id": "CLN-01",
    },
]


def tables() -> list[tuple[str, pd.DataFrame]]:
    sessions = [("A", f"2026-01-{d:02d}", "IV", "CLN-01") for d in (5, 7, 9, 12, 14, 16)]
    sessions += [("A", "2026-02-20", "IV", "CLN-01")]
    sessions += [("B", f"2026-04-{d:02d}", "Spravato", "CLN-02") for d in (14, 17, 21)]
    sessions += [("C", "2025-11-03", "IM", "CLN-01"), ("C", "2025-11-05", "IM", "CLN-01")]
    sessions = pd.DataFrame(sessions, columns=["patient_id", "session_date", "modality", "clinician_id"])
    assessments = pd.DataFrame(
        [
            score("A", "2026-01-05", "PHQ-9", [3, 3, 2, 3, 2, 2, 2, 2, 1]),  # 20
            score("A", "2026-01-16", "PHQ-9", [2, 2, 1, 2, 1, 1, 1, 2, 0]),  # 12
            score("A", "2026-01-20", "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 0]),  # 8
            score("A", "2026-03-10", "PHQ-9", total=15),
            score("B", "2026-04-10", "PHQ-9", [2, 2, 2, 2, 2, 2, 3, 3, 0]),  # 18
            score("B", "2026-04-17", "PHQ-9", [None] * 5 + [1, 1, 0, 1]),  # incomplete, item 9 = 1
            score("B", "2026-04-30", "PHQ-9", [2, 2, 1, 2, 1, 2, 1, 1, 2]),  # 14
            score("C", "2025-11-01", "PHQ-9", total=8),
            score("C", "2025-11-01", "GAD-7", [2, 2, 2, 2, 1, 1, 2]),  # 12
        ]
    )
    return store_tables(pd.DataFrame(PATIENTS), sessions, assessments)


def build(path: Path, clinic_tables: list[tuple[str, pd.DataFrame]] | None = None) -> Path:
    """A store at path holding the clinic's tables (by default the three-patient clinic), imported on TODAY."""
    with store.opened(path) as con:
        result = ingest.import_tables(con, clinic_tables if clinic_tables is not None else tables(), today=TODAY)
    assert result.ok, [p.sentence() for p in result.problems]
    return path
