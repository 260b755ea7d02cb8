"""A three-patient clinic worked by hand, shared by the patient-view, data-view and chart tests.

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


def _phq9(patient, date, items=None, total=None):
    answers = list(items) if items is not None else [None] * 9
    return {
        "patient_id": patient,
        "assessment_date": date,
        "instrument": "PHQ-9",
        **{f"item_{k + 1}": answers[k] for k in range(9)},
        "total": total,
    }


def _gad7(patient, date, items):
    return {
        "patient_id": patient,
        "assessment_date": date,
        "instrument": "GAD-7",
        **{f"item_{k + 1}": (items[k] if k < 7 else None) for k in range(9)},
        "total": None,
    }


def tables() -> list[tuple[str, pd.DataFrame]]:
    patients = pd.DataFrame(
        [
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
    )
    sessions = [("A", f"2026-01-{d:02d}", "IV", "CLN-01") for d in (5, 7, 9, 12, 14, 16)]
    sessions += [("A", "2026-02-20", "IV", "CLN-01")]
    sessions += [("B", f"2026-04-{d:02d}", "Spravato", "CLN-02") for d in (14, 17, 21)]
    sessions += [("C", "2025-11-03", "IM", "CLN-01"), ("C", "2025-11-05", "IM", "CLN-01")]
    sessions = pd.DataFrame(sessions, columns=["patient_id", "session_date", "modality", "clinician_id"])
    assessments = pd.DataFrame(
        [
            _phq9("A", "2026-01-05", [3, 3, 2, 3, 2, 2, 2, 2, 1]),  # 20
            _phq9("A", "2026-01-16", [2, 2, 1, 2, 1, 1, 1, 2, 0]),  # 12
            _phq9("A", "2026-01-20", [1, 1, 1, 1, 1, 1, 1, 1, 0]),  # 8
            _phq9("A", "2026-03-10", total=15),
            _phq9("B", "2026-04-10", [2, 2, 2, 2, 2, 2, 3, 3, 0]),  # 18
            _phq9("B", "2026-04-17", [None] * 5 + [1, 1, 0, 1]),  # incomplete, item 9 = 1
            _phq9("B", "2026-04-30", [2, 2, 1, 2, 1, 2, 1, 1, 2]),  # 14
            _phq9("C", "2025-11-01", total=8),
            _gad7("C", "2025-11-01", [2, 2, 2, 2, 1, 1, 2]),  # 12
        ]
    )
    for column in [f"item_{k}" for k in range(1, 10)] + ["total"]:
        assessments[column] = assessments[column].astype("Int64")
    return [("patients.csv", patients), ("sessions.csv", sessions), ("assessments.csv", assessments)]


def build(path: Path) -> Path:
    with store.opened(path) as con:
        result = ingest.import_tables(con, tables(), today=TODAY)
    assert result.ok, [p.sentence() for p in result.problems]
    return path
