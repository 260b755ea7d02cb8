"""The engine's report equals the plain-Python reference on random clinics full of edge cases.

Each clinic is generated from a fixed seed, imported as layout A (three tables) into one
store and as a layout B session log into another, and every report (all, and each
quarter with a course start or a booster) must equal reference_outcomes field by field,
with and without small-cell suppression. Per-course facts are compared too, so that a
mismatch in the report can be traced to the course that causes it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reference_outcomes as reference
from paths import REPO
from test_outcomes_rules import cell  # the same value-to-CSV-cell rule as the rule tests

REPO_ROOT = REPO
FIRST_DATE = dt.date(2025, 1, 6)
LAST_DATE = dt.date(2026, 10, 30)  # the anchor patient's last session; nothing is later
TODAY = dt.date(2026, 11, 26)
SEEDS = [3, 29, 58]
MODALITIES = ["ketamine_im", "ketamine_iv", "ketamine_oral", "esketamine_nasal"]
LAYOUT_B_ALIASES = {"ketamine_im": "IM", "ketamine_iv": "IV", "ketamine_oral": "troche", "esketamine_nasal": "Spravato"}
ITEM_COLUMNS = [f"item_{i}" for i in range(1, 21)]
LOG_PREFIX = {"PHQ-9": "phq9", "GAD-7": "gad7", "PCL-5": "pcl5"}


# ---------------------------------------------------------------------------
# A random clinic, dense in the cases the rules turn on


@dataclass
class RandomClinic:
    patients: list[dict]
    sessions: list[dict]
    assessments: list[dict]


def items_summing_to(rng, total: int, n_items: int, item9: int | None = None, item_max: int = 3) -> list[int]:
    items = [0] * n_items
    if item9 is not None:
        items[8] = item9
    remaining = total - sum(items)
    # Item 9 is set on purpose (about one PHQ-9 in five) and otherwise left at 0.
    free = [i for i in range(n_items) if i != 8 or item9 is None and n_items != 9]
    while remaining > 0 and any(items[j] < item_max for j in free):
        i = int(rng.choice([j for j in free if items[j] < item_max]))
        items[i] += 1
        remaining -= 1
    return items


def assessment_row(rng, patient: str, instrument: str, day: dt.date, total: int) -> dict:
    """One administration in one of the shapes clinics send: full items, total only,
    prorated, items with a total, incomplete."""
    spec = reference.INSTRUMENTS[instrument]
    total = max(0, min(spec.total_max, int(total)))
    row = {"patient_id": patient, "assessment_date": day, "instrument": instrument, "total": None}
    row.update({column: None for column in ITEM_COLUMNS})
    shape = rng.choice(
        [
            "items",
            "items_with_total",
            "total_only",
            "prorated",
            "partial_with_total",
            "incomplete",
            "incomplete_with_total",
        ],
        p=[0.4, 0.1, 0.2, 0.15, 0.05, 0.05, 0.05],
    )
    if shape == "total_only":
        row["total"] = total
        return row
    item9 = None
    if instrument == "PHQ-9" and total >= 6 and rng.random() < 0.2:
        item9 = int(rng.integers(1, 3))
    items = items_summing_to(rng, total, spec.n_items, item9, spec.item_max)
    if shape in ("prorated", "partial_with_total"):
        n_blank = int(rng.integers(1, spec.max_missing_for_prorating + 1))
    elif shape in ("incomplete", "incomplete_with_total"):
        n_blank = int(rng.integers(spec.max_missing_for_prorating + 1, spec.n_items))
    else:
        n_blank = 0
    for index in rng.choice(spec.n_items, size=n_blank, replace=False):
        items[int(index)] = None
    row.update({ITEM_COLUMNS[i]: items[i] for i in range(spec.n_items)})
    if shape == "items_with_total":
        row["total"] = sum(items)
    elif shape == "partial_with_total":
        # The prorated value itself, so both readings of §1 agree here; the reading is
        # pinned separately in test_outcomes_rules.
        row["total"] = reference.score(instrument, items + [None] * (20 - len(items)), None)[0]
    elif shape == "incomplete_with_total":
        row["total"] = total
    return row


def generate_clinic(seed: int) -> RandomClinic:
    rng = np.random.default_rng(seed)
    patients, sessions = [], []
    scores: dict[tuple[str, str, dt.date], dict] = {}

    def add_session(patient, day, modality):
        if day <= LAST_DATE:
            sessions.append(
                {
                    "patient_id": patient,
                    "session_date": day,
                    "modality": modality,
                    "dose_mg": 56 if modality == "esketamine_nasal" else int(rng.integers(20, 90)),
                }
            )

    def add_score(patient, instrument, day, total):
        key = (patient, instrument, day)
        if day <= LAST_DATE and key not in scores:  # one administration per patient, instrument and day
            scores[key] = assessment_row(rng, patient, instrument, day, total)

    def plan_course(patient, start, short=False):
        """Sessions and scores of one course; returns its last session date."""
        modality = str(rng.choice(MODALITIES, p=[0.2, 0.25, 0.15, 0.4]))
        L = reference.INDUCTION_LENGTH[modality]
        if short:
            n = int(rng.integers(1, L))
        else:
            n = int(rng.choice([rng.integers(1, L), L, L + rng.integers(1, 6)], p=[0.25, 0.3, 0.45]))
        days = [start]
        for k in range(2, n + 1):
            gap = int(rng.choice([2, 3, 4, 7])) if k <= L else int(rng.choice([14, 21, 28, 30, 45, 60, 89, 90]))
            days.append(days[-1] + dt.timedelta(days=gap))
        switch_at = int(rng.integers(2, n + 1)) if n > 1 and rng.random() < 0.15 else None
        other = str(rng.choice([m for m in MODALITIES if m != modality]))
        for k, day in enumerate(days, start=1):
            add_session(patient, day, other if switch_at and k >= switch_at else modality)

        for instrument, p_scored in (("PHQ-9", 0.95), ("GAD-7", 0.6), ("PCL-5", 0.35)):
            if rng.random() > p_scored:
                continue
            scale = reference.INSTRUMENTS[instrument].total_max / 27
            baseline = int(rng.choice([4, 8, 9, 10, 10, 11, 12, 14, 16, 18, 20, 20, 22, 24, 26]) * scale)
            baseline_offsets = rng.choice([-31, -30, -20, -7, -1, 0], size=int(rng.integers(1, 3)), replace=False)
            for offset in sorted(int(o) for o in baseline_offsets):
                add_score(patient, instrument, start + dt.timedelta(days=offset), baseline + int(rng.integers(-2, 3)))
            endpoint_fraction = float(rng.choice([0.2, 0.3, 0.45, 0.5, 0.5, 0.55, 0.7, 0.9, 1.1]))
            end_total = round(baseline * endpoint_fraction) if endpoint_fraction != 0.5 else baseline // 2
            if instrument == "PCL-5":  # falls on both sides of the 10-point response rule, and none
                end_total = baseline - int(rng.choice([-3, 0, 5, 9, 10, 10, 11, 16, 25, 40]))

            def score_at(k, baseline=baseline, end_total=end_total):  # bound now: called within this iteration
                progress = min(1.0, k / L)
                return round(baseline + (end_total - baseline) * progress) + int(rng.integers(-1, 2))

            for k in range(1, n + 1):
                if rng.random() < 0.45:
                    # on the next session's day (pre-session) or in between
                    if k < n and rng.random() < 0.5:
                        day = days[k]
                    else:
                        day = days[k - 1] + dt.timedelta(days=int(rng.integers(1, 4)))
                    add_score(patient, instrument, day, score_at(k))
                    if rng.random() < 0.2:  # a second score at the same timepoint, earlier
                        add_score(patient, instrument, day - dt.timedelta(days=1), score_at(k) + 3)
            if n >= L:
                session_l = days[L - 1]
                for offset in rng.choice([1, 7, 14, 27, 28, 29, 35], size=int(rng.integers(0, 3)), replace=False):
                    after = session_l + dt.timedelta(days=int(offset))
                    if L == n or after <= days[L]:
                        add_score(patient, instrument, after, end_total + int(rng.integers(-2, 3)))
            for offset in (30, 60, 90, 150):  # follow-up after the last session
                if rng.random() < 0.3:
                    add_score(
                        patient,
                        instrument,
                        days[-1] + dt.timedelta(days=offset),
                        int(rng.choice([end_total, end_total + 4, baseline])),
                    )
            for offset in (-31, -30):  # just before the next course would take over
                if rng.random() < 0.15:
                    pending_edges.append((patient, instrument, offset, end_total + 2))
        return days[-1]

    n_patients = int(rng.integers(30, 81))
    for index in range(n_patients):
        patient = f"P{seed:02d}-{index:03d}"
        patients.append(
            {
                "patient_id": patient,
                "age_band": str(rng.choice(["25-34", "35-44", "45-54"])),
                "sex": str(rng.choice(["F", "M", "X"])),
                "primary_condition": "TRD",
                "site": "north",
                "clinician_id": f"C{index % 4}",
            }
        )
        pending_edges: list = []
        start = FIRST_DATE + dt.timedelta(days=int(rng.integers(0, 520)))
        for _course in range(int(rng.choice([1, 1, 2, 3]))):
            for patient_id, instrument, offset, total in pending_edges:  # edges of this course's window
                add_score(patient_id, instrument, start + dt.timedelta(days=offset), total)
            pending_edges = []
            last = plan_course(patient, start)
            start = last + dt.timedelta(days=int(rng.choice([91, 92, 120, 200, 300])))
            if start > LAST_DATE:
                break
        if rng.random() < 0.2:  # a short Spravato course ending near the data's last date
            last_session = LAST_DATE - dt.timedelta(days=int(rng.choice([0, 10, 27, 28, 29, 30, 45])))
            n = int(rng.integers(1, 5))
            days = [last_session - dt.timedelta(days=3 * (n - 1 - j)) for j in range(n)]
            patient_last = max((s["session_date"] for s in sessions if s["patient_id"] == patient), default=None)
            if patient_last is None or (days[0] - patient_last).days > 91:
                for day in days:
                    add_session(patient, day, "esketamine_nasal")
                add_score(patient, "PHQ-9", days[0], int(rng.integers(8, 25)))
    if rng.random() < 0.5:  # someone scored but never treated
        add_score("NEVER-TREATED", "PHQ-9", LAST_DATE - dt.timedelta(days=100), 18)

    # The anchor: a completed course whose session 6 is the data's last date.
    for offset in (17, 14, 10, 7, 3, 0):
        add_session("ANCHOR", LAST_DATE - dt.timedelta(days=offset), "ketamine_iv")
    return RandomClinic(patients, sessions, [scores[key] for key in sorted(scores)])


# ---------------------------------------------------------------------------
# Layouts


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[cell(row.get(c)) for c in columns] for row in rows], columns=columns, dtype=object)


def layout_a(clinic: RandomClinic) -> list[tuple[str, pd.DataFrame]]:
    return [
        (
            "patients.csv",
            frame(clinic.patients, ["patient_id", "age_band", "sex", "primary_condition", "site", "clinician_id"]),
        ),
        ("sessions.csv", frame(clinic.sessions, ["patient_id", "session_date", "modality", "dose_mg"])),
        (
            "assessments.csv",
            frame(clinic.assessments, ["patient_id", "assessment_date", "instrument", *ITEM_COLUMNS, "total"]),
        ),
    ]


def layout_b(clinic: RandomClinic) -> list[tuple[str, pd.DataFrame]]:
    """One row per patient and day: the session (if any) with the scores taken before it;
    days with scores and no session have a blank modality."""
    columns = ["patient_id", "session_date", "modality", "dose_mg"]
    for instrument, prefix in LOG_PREFIX.items():
        n_items = reference.INSTRUMENTS[instrument].n_items
        columns += [f"{prefix}_total"] + [f"{prefix}_item_{k}" for k in range(1, n_items + 1)]
    rows: dict[tuple[str, dt.date], dict] = {}
    for index, session in enumerate(clinic.sessions):
        alias = LAYOUT_B_ALIASES[session["modality"]] if index % 3 == 0 else session["modality"]
        rows[(session["patient_id"], session["session_date"])] = {
            "patient_id": session["patient_id"],
            "session_date": session["session_date"],
            "modality": alias,
            "dose_mg": session["dose_mg"],
        }
    for score in clinic.assessments:
        key = (score["patient_id"], score["assessment_date"])
        row = rows.setdefault(key, {"patient_id": key[0], "session_date": key[1]})
        prefix = LOG_PREFIX[score["instrument"]]
        row[f"{prefix}_total"] = score["total"]
        for k in range(1, reference.INSTRUMENTS[score["instrument"]].n_items + 1):
            row[f"{prefix}_item_{k}"] = score[f"item_{k}"]
    return [("session_log.csv", frame([rows[key] for key in sorted(rows)], columns))]


def import_into_store(db_path: Path, tables) -> object:
    from analysis import ingest, store

    con = store.connect(db_path)
    result = ingest.import_tables(con, tables, today=TODAY)
    assert result.ok, result.problems[:10]
    return con


# ---------------------------------------------------------------------------
# Field-by-field comparison


def differences(engine, expected, path: str = "") -> list[str]:
    """Every field of the reference must be in the engine's object with the same value
    (floats within rel 1e-9; abs 1e-12 for values that are zero up to rounding)."""
    found = []
    if isinstance(expected, dict):
        if not isinstance(engine, dict):
            return [f"{path}: engine {engine!r}, reference a dict"]
        for key, value in expected.items():
            if key not in engine:
                found.append(f"{path}.{key}: missing in the engine's report")
            else:
                found += differences(engine[key], value, f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(engine, (list, tuple)) or len(engine) != len(expected):
            return [f"{path}: engine {engine!r}, reference {expected!r}"]
        for index, (e, x) in enumerate(zip(engine, expected)):
            found += differences(e, x, f"{path}[{index}]")
        return found
    if isinstance(expected, dt.date):
        same = isinstance(engine, dt.date) and engine == expected
        return [] if same else [f"{path}: engine {engine!r}, reference {expected!r}"]
    if expected is None or isinstance(expected, (str, bool)):
        same = engine is expected or (engine == expected and type(engine) is type(expected))
        if isinstance(expected, bool):
            same = isinstance(engine, (bool, np.bool_)) and bool(engine) == expected
        return [] if same else [f"{path}: engine {engine!r}, reference {expected!r}"]
    if engine is None or isinstance(engine, (str, bool)):
        return [f"{path}: engine {engine!r}, reference {expected!r}"]
    if isinstance(expected, int) and not isinstance(engine, (float, np.floating)):
        return [] if int(engine) == expected else [f"{path}: engine {engine!r}, reference {expected!r}"]
    if math.isclose(float(engine), float(expected), rel_tol=1e-9, abs_tol=1e-12):
        return []
    return [f"{path}: engine {engine!r}, reference {expected!r}"]


def assert_same(engine, expected, what: str):
    found = differences(engine, expected, what)
    assert not found, f"{len(found)} difference(s):\n" + "\n".join(found[:40])


# ---------------------------------------------------------------------------
# The clinics and their stores, built once per test module


@pytest.fixture(scope="module")
def clinics(tmp_path_factory):
    built = {}
    for seed in SEEDS:
        clinic = generate_clinic(seed)
        built[seed] = (clinic, reference.build_timeline(clinic.patients, clinic.sessions, clinic.assessments))
    return built


@pytest.fixture(scope="module")
def engine_timelines(clinics, tmp_path_factory):
    from analysis.engine.timeline import load_timeline
    from analysis.settings import Settings

    folder = tmp_path_factory.mktemp("stores")
    timelines = {}
    for seed, (clinic, _) in clinics.items():
        for layout, tables in (("A", layout_a(clinic)), ("B", layout_b(clinic))):
            db_path = folder / f"clinic{seed}{layout}.duckdb"
            con = import_into_store(db_path, tables)
            timelines[seed, layout] = (load_timeline(con, Settings()), db_path)
            con.close()
    return timelines


def test_generated_clinics_are_dense_in_edge_cases(clinics):
    """Across the seeds, every edge the rules turn on occurs (counted on the reference)."""
    counts = dict.fromkeys(
        [
            "course gap 91-92",
            "booster gap 89-90",
            "score on a session day",
            "score at start-30",
            "score at start-31",
            "score at L+28",
            "score at L+29",
            "esketamine course",
            "ketamine course",
            "in progress",
            "not in progress <L",
            "duplicate timepoint",
            "prorated",
            "total only",
            "incomplete",
            "item 9 positive baseline",
            "next course owns",
            "response at exactly 50%",
            "eligible",
            "ineligible",
        ],
        0,
    )
    for clinic, timeline in clinics.values():
        session_days = {(s["patient_id"], s["session_date"]) for s in timeline.sessions}
        courses_by_patient = {}
        for course in timeline.courses:
            courses_by_patient.setdefault(course["patient_id"], []).append(course)
            counts["esketamine course" if course["modality"] == "esketamine_nasal" else "ketamine course"] += 1
            counts["in progress"] += course["in_progress"]
            counts["not in progress <L"] += not course["in_progress"] and not course["completed_induction"]
        for rows in courses_by_patient.values():
            for before, after in zip(rows, rows[1:]):
                counts["course gap 91-92"] += (after["start_date"] - before["last_session_date"]).days in (91, 92)
        counts["booster gap 89-90"] += sum(
            1 for s in timeline.sessions if s["is_booster"] and s["interval_days"] in (89, 90)
        )
        starts = {(c["patient_id"], c["start_date"]) for c in timeline.courses}
        l_dates = {(c["patient_id"], c["session_l_date"]) for c in timeline.courses if c["session_l_date"]}
        for row in clinic.assessments:
            key = row["patient_id"]
            day = row["assessment_date"]
            counts["score on a session day"] += (key, day) in session_days
            counts["score at start-30"] += (key, day + dt.timedelta(days=30)) in starts
            counts["score at start-31"] += (key, day + dt.timedelta(days=31)) in starts
            counts["score at L+28"] += (key, day - dt.timedelta(days=28)) in l_dates
            counts["score at L+29"] += (key, day - dt.timedelta(days=29)) in l_dates
            items = [row[c] for c in ITEM_COLUMNS[: reference.INSTRUMENTS[row["instrument"]].n_items]]
            blanks = sum(item is None for item in items)
            counts["total only"] += blanks == len(items)
            counts["prorated"] += 0 < blanks <= reference.INSTRUMENTS[row["instrument"]].max_missing_for_prorating
            counts["incomplete"] += (
                row["total"] is None and blanks > reference.INSTRUMENTS[row["instrument"]].max_missing_for_prorating
            )
        seen = set()
        for row in timeline.assessments:
            key = (row["course_id"], row["instrument"], row["timepoint"])
            counts["duplicate timepoint"] += key in seen
            seen.add(key)
            course = next(c for c in timeline.courses if c["course_id"] == row["course_id"])
            counts["next course owns"] += course["course_number"] > 1 and row["assessment_date"] < course["start_date"]
        for outcome in timeline.course_outcomes:
            counts["item 9 positive baseline"] += bool(outcome["baseline_item9"])
            counts["eligible"] += outcome["eligible"]
            counts["ineligible"] += outcome["baseline"] is not None and not outcome["eligible"]
            counts["response at exactly 50%"] += bool(
                outcome["in_itt"] and outcome["itt_endpoint"] * 2 == outcome["baseline"]
            )
    assert all(counts.values()), {k: v for k, v in counts.items() if not v}


def report_cases():
    return [(seed, layout) for seed in SEEDS for layout in ("A", "B")]


def quarters_to_compare(expected, layout: str) -> list[str]:
    """Layout A: 'all', every quarter, and the half-years and years they fall in. Layout B: 'all'
    (its per-course facts are compared in full, and the reports are a function of them; this keeps
    the file fast)."""
    if layout != "A":
        return ["all"]
    quarters = reference.quarters_present(expected)
    halves = sorted({f"{q[:4]}H{(int(q[-1]) + 1) // 2}" for q in quarters})
    years = sorted({q[:4] for q in quarters})
    return ["all", *quarters, *halves, *years]


# Reading of §6: suppression withholds counts (1-10 -> "<11") and rates (numerator or
# denominator 1-10 -> null) only; means, the mean change and its interval, trajectory means
# and the median booster interval are neither, so they stay. These are those fields.
def split_means(report: dict) -> tuple[dict, dict]:
    """(the report without its means and medians, those means and medians)."""
    counts_and_rates = {k: v for k, v in report.items() if k not in ("median_booster_interval_days", "instruments")}
    means = {"median_booster_interval_days": report.get("median_booster_interval_days"), "instruments": {}}
    counts_and_rates["instruments"] = {}
    for instrument, block in (report.get("instruments") or {}).items():
        mean_keys = ("mean_baseline", "mean_endpoint", "mean_change", "mean_change_ci")
        counts_and_rates["instruments"][instrument] = {
            k: v for k, v in block.items() if k not in mean_keys and k != "trajectory"
        }
        counts_and_rates["instruments"][instrument]["trajectory"] = [
            {k: v for k, v in point.items() if k != "mean"} for point in block.get("trajectory", [])
        ]
        means["instruments"][instrument] = {k: block.get(k) for k in mean_keys}
        means["instruments"][instrument]["trajectory"] = [
            {"t": point.get("t"), "mean": point.get("mean")} for point in block.get("trajectory", [])
        ]
    return counts_and_rates, means


@pytest.mark.parametrize("seed, layout", report_cases())
def test_course_facts_match_reference(seed, layout, clinics, engine_timelines):
    """Per course: dates, induction length, completion, in progress, baseline, end of
    induction, ITT and completer outcomes, boosters; so a report mismatch has a name."""
    _, expected = clinics[seed]
    timeline, _ = engine_timelines[seed, layout]
    from test_outcomes_rules import records  # the same frame-to-dict conversion as the rule tests

    engine_courses = {(r["patient_id"], r["course_number"]): r for r in records(timeline.courses)}
    reference_courses = {(c["patient_id"], c["course_number"]): c for c in expected.courses}
    assert sorted(engine_courses) == sorted(reference_courses)
    course_fields = [
        "start_date",
        "last_session_date",
        "modality",
        "induction_length",
        "n_sessions",
        "completed_induction",
        "in_progress",
        "session_l_date",
        "start_quarter",
    ]
    found = []
    for key, course in reference_courses.items():
        found += differences(
            {f: engine_courses[key][f] for f in course_fields}, {f: course[f] for f in course_fields}, f"course {key}"
        )
    assert not found, "\n".join(found[:40])

    key_of = {r["course_id"]: (r["patient_id"], r["course_number"]) for r in records(timeline.courses)}
    reference_key_of = {c["course_id"]: (c["patient_id"], c["course_number"]) for c in expected.courses}
    engine_outcomes = {(key_of[r["course_id"]], r["instrument"]): r for r in records(timeline.course_outcomes)}
    reference_outcomes = {(reference_key_of[o["course_id"]], o["instrument"]): o for o in expected.course_outcomes}
    missing = sorted(set(reference_outcomes) - set(engine_outcomes))
    assert not missing, f"no engine row for {missing[:10]}"
    for key in set(engine_outcomes) - set(reference_outcomes):
        # A course with no score of an instrument: the engine may list it, but empty.
        row = engine_outcomes[key]
        assert row["baseline"] is None and not row["eligible"] and not row["in_itt"] and not row["completer"], row
    for key, outcome in reference_outcomes.items():
        fields = [
            "baseline",
            "baseline_date",
            "baseline_item9",
            "eligible",
            "end_of_induction",
            "end_of_induction_date",
            "completer",
            "in_itt",
        ]
        if outcome["in_itt"]:
            fields += [
                "itt_endpoint",
                "itt_response",
                "itt_remission",
                "reliable_improvement",
                "reliable_deterioration",
            ]
        if outcome["completer"]:
            fields += ["completer_response", "completer_remission"]
        engine_row = {f: engine_outcomes[key][f] for f in fields}
        for f in (
            "eligible",
            "completer",
            "in_itt",
            "itt_response",
            "itt_remission",
            "reliable_improvement",
            "reliable_deterioration",
            "completer_response",
            "completer_remission",
        ):
            if f in engine_row and engine_row[f] is not None:
                engine_row[f] = bool(engine_row[f])
        found += differences(engine_row, {f: outcome[f] for f in fields}, f"outcome {key}")
    assert not found, "\n".join(found[:40])

    engine_boosters = {
        (key_of[r["course_id"]], r["session_number"], r["instrument"]): r for r in records(timeline.boosters)
    }
    for row in expected.boosters:
        key = (reference_key_of[row["course_id"]], row["session_number"], row["instrument"])
        engine_row = engine_boosters.get(key)
        if engine_row is None:
            found.append(f"booster {key}: missing in the engine")
            continue
        found += differences(
            {f: engine_row[f] for f in ("session_date", "interval_days", "pre_booster_score")},
            {f: row[f] for f in ("session_date", "interval_days", "pre_booster_score")},
            f"booster {key}",
        )
    assert not found, "\n".join(found[:40])


@pytest.mark.parametrize("seed, layout", report_cases())
def test_durability_matches_reference(seed, layout, clinics, engine_timelines):
    """Loss of response: the same completers who responded, the same days and events."""
    from test_outcomes_rules import records

    from analysis.engine import cohort, durability

    _, expected = clinics[seed]
    timeline, _ = engine_timelines[seed, layout]
    key_of = {r["course_id"]: (r["patient_id"], r["course_number"]) for r in records(timeline.courses)}
    reference_key_of = {c["course_id"]: (c["patient_id"], c["course_number"]) for c in expected.courses}
    for instrument in reference.INSTRUMENTS:
        engine_rows = records(durability.durability(timeline, instrument, cohort.CohortFilter()))
        got = {key_of[r["course_id"]]: (int(r["days"]), bool(r["lost_response"])) for r in engine_rows}
        want = {
            reference_key_of[r["course_id"]]: (r["days"], r["lost_response"])
            for r in reference.durability(expected, instrument)
        }
        assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}


_REPORTS: dict = {}


def engine_reports(seed, layout, clinics, engine_timelines, suppress: bool):
    """(quarter, engine report, reference report) for the quarters compared; each engine
    report is made once per module run, as two tests read the suppressed ones."""
    from analysis.engine.cohort import CohortFilter
    from analysis.reporting.report import quarterly_report

    _, expected = clinics[seed]
    timeline, _ = engine_timelines[seed, layout]
    for quarter in quarters_to_compare(expected, layout):
        key = (seed, layout, quarter, suppress)
        if key not in _REPORTS:
            _REPORTS[key] = quarterly_report(timeline, quarter=quarter, filters=CohortFilter(), suppress=suppress)
        yield quarter, _REPORTS[key], reference.quarterly_report(expected, quarter, suppress)


@pytest.mark.parametrize("seed, layout", report_cases())
def test_quarterly_reports_match_reference(seed, layout, clinics, engine_timelines):
    """Internal use (suppression off): 'all' and every quarter with a course start or a
    booster, the engine's §7 report equals the reference field by field."""
    found = []
    for quarter, report, expected in engine_reports(seed, layout, clinics, engine_timelines, suppress=False):
        found += differences(report, expected, f"[{quarter}]")
    assert not found, f"{len(found)} difference(s):\n" + "\n".join(found[:40])


@pytest.mark.parametrize("seed, layout", report_cases())
def test_suppressed_counts_and_rates_match_reference(seed, layout, clinics, engine_timelines):
    """As exported (suppression on): every count of 1-10 is "<11", every rate and interval
    with a numerator or denominator of 1-10 is null, 0 and 11+ are shown, exactly as the
    reference has them."""
    found = []
    for quarter, report, expected in engine_reports(seed, layout, clinics, engine_timelines, suppress=True):
        found += differences(split_means(report)[0], split_means(expected)[0], f"[{quarter} suppressed]")
    assert not found, f"{len(found)} difference(s):\n" + "\n".join(found[:40])


@pytest.mark.parametrize("seed", SEEDS)
def test_suppressed_report_withholds_means_of_small_groups(seed, clinics, engine_timelines):
    """Project decision beyond §6: a mean, its interval or a median built on 1-10 courses or
    boosters is withheld in a suppressed report; larger groups keep the internal-use value."""
    found = []
    for quarter, report, expected in engine_reports(seed, "A", clinics, engine_timelines, suppress=True):
        found += differences(split_means(report)[1], split_means(expected)[1], f"[{quarter} suppressed]")
    assert not found, f"{len(found)} difference(s):\n" + "\n".join(found[:40])


def test_cli_json_report_matches_reference(clinics, engine_timelines):
    """`python -m analysis report --db PATH --quarter all --format json --no-suppress` prints
    the same object as the reference."""
    seed = SEEDS[0]
    _, expected = clinics[seed]
    _, db_path = engine_timelines[seed, "A"]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "report",
            "--db",
            str(db_path),
            "--quarter",
            "all",
            "--format",
            "json",
            "--no-suppress",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert_same(json.loads(completed.stdout), reference.quarterly_report(expected, "all", suppress=False), "[cli]")
