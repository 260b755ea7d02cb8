"""The deterministic synthetic demo clinic and the example export files.

Over 400 lines on purpose: one generator whose steps (patients, courses, sessions, visits, scores,
files) share a random stream and a dozen calibration constants; split, the constants would scatter.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import instruments, vocabulary
from analysis.vocabulary import AGE_BANDS, CONDITIONS, MODALITIES, SEXES

PATIENT_COLUMNS = list(vocabulary.PATIENT_COLUMNS)
SESSION_COLUMNS = list(vocabulary.SESSION_COLUMNS)
ITEM_COLUMNS = list(instruments.ITEM_COLUMNS)
ASSESSMENT_COLUMNS = ["patient_id", "assessment_date", "instrument", *ITEM_COLUMNS, "total"]
# The session log carries every instrument's total, then its items (phq9_total, ..., pcl5_item_20).
SESSION_LOG_COLUMNS = [
    *SESSION_COLUMNS,
    *(f"{i.log_prefix}_total" for i in instruments.INSTRUMENTS.values()),
    *(f"{i.log_prefix}_item_{k}" for i in instruments.INSTRUMENTS.values() for k in range(1, i.n_items + 1)),
]

KETAMINE_IM, KETAMINE_IV, KETAMINE_ORAL, ESKETAMINE = range(len(MODALITIES))
SITES = ("SITE-NORTH", "SITE-SOUTH")
CLINICIANS = tuple(f"CLN-{k:02d}" for k in range(1, 7))

HISTORY_DAYS = 730  # about two years of data, ending at end_date
MAX_BOOSTERS = 12
MAX_SESSIONS = 8 + MAX_BOOSTERS
SECOND_COURSE_MIN_GAP_DAYS = 100  # comfortably past the 90-day course gap

# Site-level treatment mix: the north site runs an IM clinic, the south an infusion suite;
# both offer oral ketamine and Spravato.
MODALITY_MIX = {
    "SITE-NORTH": (0.45, 0.08, 0.17, 0.30),
    "SITE-SOUTH": (0.15, 0.40, 0.15, 0.30),
}
# Relative contribution of PHQ-9 items 1-8 to a total (fatigue and sleep are endorsed most,
# psychomotor change least); item 9 is drawn on its own because it tracks severity.
PHQ9_ITEM_WEIGHTS = np.array([1.1, 1.1, 1.2, 1.3, 0.9, 1.0, 1.0, 0.6])
GAD7_ITEM_WEIGHTS = np.array([1.1, 1.0, 1.1, 1.0, 0.8, 1.0, 0.9])

# Score model. Calibrated so that docs/DEFINITIONS.md metrics land where published real-world series
# do: Brendle/Ahuja 2022 (IM, median PHQ-9 16 -> 10, GAD-7 14 -> 7), McInnes 2022 ORKA-1 (IV,
# response 54%, remission 29%), Oliver 2022 (50%/20% after six infusions), Hull 2022 (at-home
# sublingual, 63%/33%).
PHQ9_BASELINE_MEAN = 16.0
GAD7_BASELINE_MEAN = 13.2
RESPONDER_SHARE = 0.72
SEVERITY_DRAG = 0.015  # less relative improvement per PHQ-9 point above the mean baseline
# Fraction of the baseline score a course sheds by the end of induction.
RESPONDER_IMPROVEMENT = (0.5, 1.0)
NON_RESPONDER_IMPROVEMENT = (-0.15, 0.30)
GAD7_EXTRA_IMPROVEMENT = 0.05
# (responder, non-responder) chances of stopping after session 1, or later in the series.
STOP_AFTER_FIRST = (0.12, 0.38)
STOP_PARTWAY = (0.09, 0.11)
FOLLOW_UP_CALL_RATE = 0.4
# Symptoms return as the time since the last session lengthens, after a quiet first stretch.
WEAR_OFF_AFTER_DAYS = 10
PHQ9_CREEP_PER_DAY = 0.15
GAD7_CREEP_PER_DAY = 0.11
ASSESSMENT_NOISE = {"PHQ-9": 1.7, "GAD-7": 1.5}
# PCL-5 for patients whose primary condition is PTSD. Published ketamine series in PTSD report PCL-5
# falls of roughly 10-25 points over an induction (e.g. Feder 2021, repeated IV ketamine: about 25
# points vs 12 for midazolam; real-world IV and IM series about 15-20); the fall here follows the
# course's own depression response, scaled to land in that range.
PCL5_BASELINE = (50.0, 10.0)  # mean, spread of the baseline total (0-80); most above the cut-off of 33
PCL5_IMPROVEMENT_SCALE = (0.35, 0.65)  # share of the PHQ-9 relative improvement seen on the PCL-5
PCL5_CREEP_PER_DAY = 0.35
PCL5_NOISE = 3.5
PCL5_MISSED_RATE = 0.06
MISSED_ASSESSMENT_RATE = 0.10
TOTAL_ONLY_RATE = 0.03
ONE_ITEM_MISSING_RATE = 0.02


def generate_clinic(
    n_patients: int = 400, seed: int = 7, end_date: datetime.date | None = None
) -> dict[str, pd.DataFrame]:
    """A synthetic clinic as layout A frames: keys 'patients', 'sessions', 'assessments'."""
    end_date = end_date or datetime.date.today()
    rng = np.random.default_rng(seed)
    patients = _draw_patients(rng, n_patients)

    # Most patients have one course; some come back for a second course after a long gap.
    returns = rng.random(n_patients) < 0.09
    first_start = np.where(
        returns,
        rng.integers(0, 331, n_patients),
        rng.integers(0, HISTORY_DAYS + 1, n_patients),
    )
    first_modality = _draw_modality(rng, patients["site_index"])
    first = _plan_sessions(rng, np.arange(n_patients), first_start, first_modality)

    last_session_day = np.where(first["valid"], first["session_day"], -1).max(axis=1)
    second_start = last_session_day + rng.integers(SECOND_COURSE_MIN_GAP_DAYS, 241, n_patients)
    has_second = returns & (second_start <= HISTORY_DAYS)
    switches = rng.random(n_patients) < 0.3
    second_modality = np.where(switches, _draw_modality(rng, patients["site_index"]), first_modality)
    returning = np.flatnonzero(has_second)
    second = _plan_sessions(rng, returning, second_start[returning], second_modality[returning])

    # A course owns assessments from 30 days before its start; keep the first course's
    # follow-ups clear of the second course's window so each course reads cleanly.
    first["assessment_cutoff"] = np.where(has_second, second_start - 31, HISTORY_DAYS)
    second["assessment_cutoff"] = np.full(len(returning), HISTORY_DAYS)
    courses = {key: np.concatenate([first[key], second[key]]) for key in first}

    sessions = _session_rows(rng, courses, patients)
    # PCL-5 scores come from their own random stream, so adding them left every other figure as it was.
    pcl_rng = np.random.default_rng([seed, 5])
    n_courses = len(courses["patient"])
    courses["records_pcl5"] = patients["condition"][courses["patient"]] == CONDITIONS.index("PTSD")
    courses["pcl_baseline_score"] = np.clip(pcl_rng.normal(*PCL5_BASELINE, n_courses), 20, 78)
    courses["pcl_improvement"] = courses["improvement"] * pcl_rng.uniform(*PCL5_IMPROVEMENT_SCALE, n_courses)
    assessments = _assessment_rows(rng, courses, pcl_rng)
    day_zero = np.datetime64(end_date) - np.timedelta64(HISTORY_DAYS, "D")
    return {
        "patients": _patient_frame(patients),
        "sessions": _session_frame(sessions, patients, day_zero),
        "assessments": _assessment_frame(assessments, patients, day_zero),
    }


def _draw_patients(rng: np.random.Generator, n_patients: int) -> dict[str, np.ndarray]:
    site_index = (rng.random(n_patients) < 0.45).astype(np.int64)
    # Three clinicians per site; a few patients are seen by a clinician from the other site.
    home_clinician = site_index * 3 + rng.integers(0, 3, n_patients)
    visiting = rng.random(n_patients) < 0.06
    clinician_index = np.where(visiting, (1 - site_index) * 3 + rng.integers(0, 3, n_patients), home_clinician)
    return {
        "patient_id": np.array([f"P{k:05d}" for k in range(1, n_patients + 1)], dtype=object),
        "age_band": rng.choice(len(AGE_BANDS), n_patients, p=[0.10, 0.24, 0.24, 0.20, 0.14, 0.08]),
        "sex": rng.choice(len(SEXES), n_patients, p=[0.58, 0.39, 0.02, 0.01]),
        "condition": rng.choice(len(CONDITIONS), n_patients, p=[0.38, 0.27, 0.12, 0.07, 0.08, 0.03, 0.05]),
        "site_index": site_index,
        "clinician_index": clinician_index,
    }


def _draw_modality(rng: np.random.Generator, site_index: np.ndarray) -> np.ndarray:
    modality = np.empty(len(site_index), dtype=np.int64)
    for index, site in enumerate(SITES):
        at_site = site_index == index
        modality[at_site] = rng.choice(len(MODALITIES), at_site.sum(), p=MODALITY_MIX[site])
    return modality


def _plan_sessions(
    rng: np.random.Generator, patient: np.ndarray, start_day: np.ndarray, modality: np.ndarray
) -> dict[str, np.ndarray]:
    """Session days and the clinical course (improvement, relapse) for each course."""
    n = len(patient)
    esketamine = modality == ESKETAMINE
    induction_sessions = np.where(esketamine, 8, 6)

    baseline_score = np.clip(rng.normal(PHQ9_BASELINE_MEAN, 4.6, n), 3, 27)
    anxiety = 0.5 * (baseline_score - PHQ9_BASELINE_MEAN) + rng.normal(0, 3.0, n)
    gad_baseline_score = np.clip(GAD7_BASELINE_MEAN + anxiety, 1, 21)
    responder = rng.random(n) < RESPONDER_SHARE
    improvement = np.where(
        responder, rng.uniform(*RESPONDER_IMPROVEMENT, n), rng.uniform(*NON_RESPONDER_IMPROVEMENT, n)
    )
    # More severe depression improves a little less in relative terms.
    improvement -= SEVERITY_DRAG * (baseline_score - PHQ9_BASELINE_MEAN)

    # Non-responders are the ones who stop after one session; responders who stop early
    # mostly do so late in the series, often because they already feel better.
    stop_after_first = np.where(responder, *STOP_AFTER_FIRST)
    stop_partway = np.where(responder, *STOP_PARTWAY)
    stop_partway_after = np.where(
        responder, rng.integers(induction_sessions - 2, induction_sessions), rng.integers(2, induction_sessions)
    )
    dropout_draw = rng.random(n)
    induction_attended = np.select(
        [dropout_draw < stop_after_first, dropout_draw < stop_after_first + stop_partway],
        [1, stop_partway_after],
        induction_sessions,
    )

    # Ketamine: six sessions over two to three weeks. Spravato: twice weekly for four weeks,
    # alternating 3- and 4-day gaps with the odd rescheduled visit.
    ketamine_gap = rng.choice([2, 3, 4, 5], size=(n, 7), p=[0.2, 0.35, 0.35, 0.1])
    phase = rng.integers(0, 2, n)[:, None]
    twice_weekly_gap = 3 + (np.arange(7)[None, :] + phase) % 2
    rescheduled = rng.random((n, 7)) < 0.1
    twice_weekly_gap = twice_weekly_gap + np.where(rescheduled, rng.choice([-1, 1], size=(n, 7)), 0)
    induction_gap = np.where(esketamine[:, None], twice_weekly_gap, ketamine_gap)
    induction_day = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(induction_gap, axis=1)], axis=1)

    # A course may still be cut short by end_date; this is what the patient would attend.
    attends_full_induction = induction_attended == induction_sessions
    # Most completers go on to boosters about monthly (median 30 days, 14-70).
    gets_boosters = attends_full_induction & (rng.random(n) < 0.70)
    n_boosters = np.where(gets_boosters, np.minimum(rng.geometric(0.2, n), MAX_BOOSTERS), 0)
    booster_interval_days = np.clip(np.rint(rng.lognormal(np.log(30), 0.35, (n, MAX_SESSIONS - 6))), 14, 70)
    booster_offset = np.cumsum(booster_interval_days.astype(np.int64), axis=1)

    slot = np.arange(MAX_SESSIONS)[None, :]
    last_induction_day = induction_day[np.arange(n), induction_sessions - 1][:, None]
    booster_slot = np.clip(slot - induction_sessions[:, None], 0, MAX_SESSIONS - 7)
    offset = np.where(
        slot < induction_sessions[:, None],
        induction_day[:, np.minimum(slot[0], 7)],
        last_induction_day + np.take_along_axis(booster_offset, booster_slot, axis=1),
    )
    session_day = start_day[:, None] + offset
    n_sessions = induction_attended + n_boosters
    valid = (slot < n_sessions[:, None]) & (session_day <= HISTORY_DAYS)

    # Without maintenance sessions responders lose their response sooner.
    relapse_after_days = np.rint(rng.exponential(np.where(gets_boosters, 260.0, 110.0))).astype(np.int64)

    # Anxiety improves along with mood, a little more (GAD-7 14 -> 7 in the IM series).
    gad_improvement = np.clip(improvement + GAD7_EXTRA_IMPROVEMENT + rng.normal(0, 0.10, n), -0.1, 0.97)

    return {
        "patient": patient,
        "modality": modality,
        "induction_sessions": induction_sessions,
        "attends_full_induction": attends_full_induction,
        "session_day": session_day,
        "valid": valid,
        "start_day": start_day,
        "baseline_score": baseline_score,
        "improvement": improvement,
        "gad_baseline_score": gad_baseline_score,
        "gad_improvement": gad_improvement,
        "relapse_after_days": relapse_after_days,
        "relapse_level": rng.uniform(0.7, 1.0, n),
        "item9_propensity": rng.normal(0, 0.8, n),
        "dose_base": _dose_base(rng, modality),
        "dose_steps": rng.integers(0, 4, n),
        "esketamine_84": rng.random(n) < 0.55,
    }


def _dose_base(rng: np.random.Generator, modality: np.ndarray) -> np.ndarray:
    n = len(modality)
    # IM about 0.5-1 mg/kg; IV 0.5 mg/kg over 40 minutes; oral or sublingual 150-250 mg to start.
    im = np.rint(rng.uniform(35, 80, n) / 5) * 5
    iv = np.rint(rng.uniform(40, 85, n) / 5) * 5
    oral = rng.choice([150, 175, 200, 225, 250], n)
    return np.select(
        [modality == KETAMINE_IM, modality == KETAMINE_IV, modality == KETAMINE_ORAL], [im, iv, oral], 56
    ).astype(np.int64)


def _session_rows(
    rng: np.random.Generator, courses: dict[str, np.ndarray], patients: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    course, slot = np.nonzero(courses["valid"])
    modality = courses["modality"][course]
    step = np.minimum(slot, courses["dose_steps"][course])
    dose = courses["dose_base"][course]
    # Titration: IM and IV step up 5 mg, oral 25 mg, for the first few sessions; Spravato
    # starts at 56 mg and goes to 84 mg from the third session when needed.
    dose = np.select(
        [modality == KETAMINE_IM, modality == KETAMINE_IV, modality == KETAMINE_ORAL],
        [np.minimum(dose + 5 * step, 90), np.minimum(dose + 5 * step, 100), np.minimum(dose + 25 * step, 300)],
        np.where(courses["esketamine_84"][course] & (slot >= 2), 84, 56),
    )
    patient = courses["patient"][course]
    # Mostly the patient's own clinician; sometimes a colleague at the same site covers.
    site_index = patients["site_index"][patient]
    covering = site_index * 3 + rng.integers(0, 3, len(course))
    clinician_index = np.where(rng.random(len(course)) < 0.1, covering, patients["clinician_index"][patient])
    return {
        "patient": patient,
        "day": courses["session_day"][course, slot],
        "modality": modality,
        "dose_mg": dose,
        "site_index": site_index,
        "clinician_index": clinician_index,
    }


def _assessment_visits(rng: np.random.Generator, courses: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(course, day) of every assessment visit: pre-session, screening and follow-up calls."""
    session_day, valid = courses["session_day"], courses["valid"]
    n = len(session_day)
    all_courses = np.arange(n)
    induction_sessions = courses["induction_sessions"]
    sessions_held = valid.sum(axis=1)
    last_day = session_day[all_courses, sessions_held - 1]
    induction_held = courses["attends_full_induction"] & (sessions_held >= induction_sessions)
    end_of_induction_day = session_day[all_courses, induction_sessions - 1]
    has_next = valid[:, 1:]
    next_day = np.where(has_next, session_day[:, 1:], HISTORY_DAYS + 1)
    first_booster_day = next_day[all_courses, induction_sessions - 1]

    visits: list[tuple[np.ndarray, np.ndarray]] = []
    # Before most sessions (same day = pre-session measure); some are missed.
    pre_session = valid & (rng.random(valid.shape) >= MISSED_ASSESSMENT_RATE)
    course, slot = np.nonzero(pre_session)
    visits.append((course, session_day[course, slot]))
    # A screening visit up to two weeks before session 1 for most courses.
    screened = rng.random(n) < 0.72
    visits.append((all_courses[screened], courses["start_day"][screened] - rng.integers(1, 15, screened.sum())))
    # End-of-induction check-in, unless the first booster comes first.
    check_in_day = end_of_induction_day + rng.integers(3, 15, n)
    checked_in = induction_held & (rng.random(n) < 0.8) & (check_in_day < first_booster_day)
    visits.append((all_courses[checked_in], check_in_day[checked_in]))
    # Patients who stop partway sometimes answer a follow-up call.
    called = ~courses["attends_full_induction"] & (rng.random(n) < FOLLOW_UP_CALL_RATE)
    visits.append((all_courses[called], last_day[called] + rng.integers(3, 22, called.sum())))
    # Occasional check-ins between boosters a month or more apart.
    booster_gap = next_day - session_day[:, :-1]
    is_booster = np.arange(MAX_SESSIONS - 1)[None, :] >= induction_sessions[:, None]
    between = has_next & is_booster & (booster_gap >= 28) & (rng.random(has_next.shape) < 0.3)
    course, slot = np.nonzero(between)
    visits.append((course, session_day[course, slot] + booster_gap[course, slot] // 2))
    # Monthly follow-ups after the last session, so durability has both events and censoring.
    n_follow_ups = np.where(induction_held, rng.choice(5, n, p=[0.3, 0.25, 0.2, 0.15, 0.1]), 0)
    months = np.arange(1, 5)[None, :]
    follow_up_day = last_day[:, None] + 30 * months + rng.integers(-5, 6, (n, 4))
    course, month = np.nonzero(months <= n_follow_ups[:, None])
    visits.append((course, follow_up_day[course, month]))

    course = np.concatenate([c for c, _ in visits])
    day = np.concatenate([d for _, d in visits])
    keep = (day <= courses["assessment_cutoff"][course]) & (day <= HISTORY_DAYS)
    # Two visits of one course on one day are one assessment; np.unique also fixes the order.
    offset = 2 * HISTORY_DAYS
    key = np.unique(course[keep] * (4 * HISTORY_DAYS) + day[keep] + offset)
    return key // (4 * HISTORY_DAYS), key % (4 * HISTORY_DAYS) - offset


def _expected_scores(courses: dict[str, np.ndarray], course: np.ndarray, day: np.ndarray) -> dict[str, np.ndarray]:
    """Expected PHQ-9 and GAD-7 totals at each visit, from the sessions before it."""
    session_day = courses["session_day"][course]
    before = courses["valid"][course] & (session_day < day[:, None])
    sessions_before = before.sum(axis=1)
    # Visits before any session get a placeholder; their score is the baseline anyway.
    days_since_session = day - np.where(before, session_day, -HISTORY_DAYS).max(axis=1)
    induction_sessions = courses["induction_sessions"][course]
    end_of_induction_day = session_day[np.arange(len(course)), induction_sessions - 1]
    relapsed = (
        courses["attends_full_induction"][course]
        & (sessions_before >= induction_sessions)
        & (day - end_of_induction_day >= courses["relapse_after_days"][course])
    )
    # Most of the benefit comes in the first few sessions of the series.
    induction_fraction = np.minimum(sessions_before, induction_sessions) / induction_sessions
    benefit = (1 - np.exp(-2.2 * induction_fraction)) / (1 - np.exp(-2.2))
    # Some days after a session the effect starts to wear off, so longer booster gaps mean
    # higher pre-booster scores.
    wearing_off_days = np.maximum(days_since_session - WEAR_OFF_AFTER_DAYS, 0)
    expected = {}
    for instrument, baseline_key, improvement_key, creep_per_day in (
        ("PHQ-9", "baseline_score", "improvement", PHQ9_CREEP_PER_DAY),
        ("GAD-7", "gad_baseline_score", "gad_improvement", GAD7_CREEP_PER_DAY),
        ("PCL-5", "pcl_baseline_score", "pcl_improvement", PCL5_CREEP_PER_DAY),
    ):
        if baseline_key not in courses:
            continue
        baseline_score = courses[baseline_key][course]
        score = baseline_score * (1 - courses[improvement_key][course] * benefit)
        score = np.minimum(score + creep_per_day * wearing_off_days, np.maximum(score, baseline_score))
        relapse_score = baseline_score * courses["relapse_level"][course]
        expected[instrument] = np.where(relapsed, np.maximum(score, relapse_score), score)
    return expected


def _spread_points(rng: np.random.Generator, points: np.ndarray, weights: np.ndarray, item_max: int = 3) -> np.ndarray:
    """Share each row's points over its items (0..item_max each) in proportion to the weights."""
    share = np.zeros(weights.shape)
    open_item = np.ones(weights.shape, dtype=bool)
    for _ in range(weights.shape[1]):
        remaining = points - share.sum(axis=1)
        if remaining.max(initial=0) < 1e-9:
            break
        open_weight = np.where(open_item, weights, 0)
        open_total = np.maximum(open_weight.sum(axis=1, keepdims=True), 1e-12)
        share = np.minimum(share + remaining[:, None] * open_weight / open_total, item_max)
        open_item = share < item_max - 1e-9
    answers = np.floor(share + 1e-9).astype(np.int64)
    # Round to whole answers that still add up: the largest remainders get the leftover points.
    leftover = points - answers.sum(axis=1)
    remainder = share - answers + rng.uniform(0, 1e-6, share.shape)
    rank = np.argsort(np.argsort(-remainder, axis=1), axis=1)
    return answers + (rank < leftover[:, None])


def _assessment_rows(
    rng: np.random.Generator, courses: dict[str, np.ndarray], pcl_rng: np.random.Generator | None = None
) -> dict[str, np.ndarray]:
    course, day = _assessment_visits(rng, courses)
    expected = _expected_scores(courses, course, day)
    n_courses = len(courses["patient"])
    parts = []
    for instrument, noise in ASSESSMENT_NOISE.items():
        # GAD-7 is now and then left out of a visit.
        given = np.ones(len(course), dtype=bool) if instrument == "PHQ-9" else rng.random(len(course)) >= 0.08
        visit_course = course[given]
        n = len(visit_course)
        total = np.clip(np.rint(expected[instrument][given] + rng.normal(0, noise, n)), 0, None).astype(np.int64)
        items = np.full((n, len(ITEM_COLUMNS)), -1, dtype=np.int64)
        if instrument == "PHQ-9":
            total = np.minimum(total, 27)
            # Thoughts of self-harm track severity and some patients endorse them more readily.
            logit = -1.85 + 0.22 * (total - 16) + courses["item9_propensity"][visit_course]
            endorsed = rng.random(n) < 1 / (1 + np.exp(-logit))
            item_9 = np.where(endorsed, np.minimum(rng.choice([1, 2, 3], n, p=[0.7, 0.22, 0.08]), total), 0)
            item_9 = np.maximum(item_9, total - 24)
            weights = PHQ9_ITEM_WEIGHTS * np.exp(rng.normal(0, 0.35, (n_courses, 8)))[visit_course]
            items[:, :8] = _spread_points(rng, total - item_9, weights * np.exp(rng.normal(0, 0.3, (n, 8))))
            items[:, 8] = item_9
            n_items = 9
        else:
            total = np.minimum(total, 21)
            weights = GAD7_ITEM_WEIGHTS * np.exp(rng.normal(0, 0.35, (n_courses, 7)))[visit_course]
            items[:, :7] = _spread_points(rng, total, weights * np.exp(rng.normal(0, 0.3, (n, 7))))
            n_items = 7
        # Some clinics record only the total; a few forms come back with one item skipped
        # (the importer prorates those).
        total_only = rng.random(n) < TOTAL_ONLY_RATE
        one_missing = ~total_only & (rng.random(n) < ONE_ITEM_MISSING_RATE)
        items[total_only] = -1
        rows = np.flatnonzero(one_missing)
        items[rows, rng.integers(0, n_items, len(rows))] = -1
        parts.append(
            {
                "patient": courses["patient"][visit_course],
                "day": day[given],
                "instrument": np.full(n, instrument, dtype=object),
                "items": items,
                "total": np.where(total_only, total, -1),
            }
        )
    if pcl_rng is not None and courses["records_pcl5"].any():
        parts.append(_pcl5_rows(pcl_rng, courses, course, day, expected["PCL-5"]))
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _pcl5_rows(
    rng: np.random.Generator, courses: dict[str, np.ndarray], course: np.ndarray, day: np.ndarray, expected: np.ndarray
) -> dict[str, np.ndarray]:
    """PCL-5 at the same visits as the PHQ-9, for courses of patients with PTSD (now and then left out)."""
    given = courses["records_pcl5"][course] & (rng.random(len(course)) >= PCL5_MISSED_RATE)
    visit_course = course[given]
    n = len(visit_course)
    total = np.clip(np.rint(expected[given] + rng.normal(0, PCL5_NOISE, n)), 0, 80).astype(np.int64)
    weights = np.exp(rng.normal(0, 0.35, (len(courses["patient"]), 20)))[visit_course]
    items = np.full((n, len(ITEM_COLUMNS)), -1, dtype=np.int64)
    items[:, :20] = _spread_points(rng, total, weights * np.exp(rng.normal(0, 0.3, (n, 20))), item_max=4)
    total_only = rng.random(n) < TOTAL_ONLY_RATE
    items[total_only] = -1
    return {
        "patient": courses["patient"][visit_course],
        "day": day[given],
        "instrument": np.full(n, "PCL-5", dtype=object),
        "items": items,
        "total": np.where(total_only, total, -1),
    }


def _nullable(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 column with -1 as blank."""
    missing = values < 0
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _iso_dates(day_zero: np.datetime64, day: np.ndarray) -> np.ndarray:
    # Format each distinct day once: a network has hundreds of thousands of rows, few days.
    distinct_days, position = np.unique(day, return_inverse=True)
    return (day_zero + distinct_days.astype("timedelta64[D]")).astype(str).astype(object)[position]


def _patient_frame(patients: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": patients["patient_id"],
            "age_band": np.array(AGE_BANDS, dtype=object)[patients["age_band"]],
            "sex": np.array(SEXES, dtype=object)[patients["sex"]],
            "primary_condition": np.array(CONDITIONS, dtype=object)[patients["condition"]],
            "site": np.array(SITES, dtype=object)[patients["site_index"]],
            "clinician_id": np.array(CLINICIANS, dtype=object)[patients["clinician_index"]],
        }
    )


def _session_frame(
    sessions: dict[str, np.ndarray], patients: dict[str, np.ndarray], day_zero: np.datetime64
) -> pd.DataFrame:
    order = np.lexsort((sessions["day"], sessions["patient"]))
    return pd.DataFrame(
        {
            "patient_id": patients["patient_id"][sessions["patient"][order]],
            "session_date": _iso_dates(day_zero, sessions["day"][order]),
            "modality": np.array(MODALITIES, dtype=object)[sessions["modality"][order]],
            "dose_mg": _nullable(sessions["dose_mg"][order]),
            "site": np.array(SITES, dtype=object)[sessions["site_index"][order]],
            "clinician_id": np.array(CLINICIANS, dtype=object)[sessions["clinician_index"][order]],
        }
    )


def _assessment_frame(
    assessments: dict[str, np.ndarray], patients: dict[str, np.ndarray], day_zero: np.datetime64
) -> pd.DataFrame:
    order = np.lexsort((assessments["instrument"] == "PHQ-9", assessments["day"], assessments["patient"]))
    items = assessments["items"][order]
    frame = pd.DataFrame(
        {
            "patient_id": patients["patient_id"][assessments["patient"][order]],
            "assessment_date": _iso_dates(day_zero, assessments["day"][order]),
            "instrument": assessments["instrument"][order],
        }
    )
    for k, column in enumerate(ITEM_COLUMNS):
        frame[column] = _nullable(items[:, k])
    frame["total"] = _nullable(assessments["total"][order])
    return frame


def session_log_frame(sessions: pd.DataFrame, assessments: pd.DataFrame) -> pd.DataFrame:
    """Layout A sessions and assessments as one layout B session log (a row per date)."""
    log = sessions
    for instrument, prefix, n_items in ((i.code, i.log_prefix, i.n_items) for i in instruments.INSTRUMENTS.values()):
        renamed = {"patient_id": "patient_id", "assessment_date": "session_date", "total": f"{prefix}_total"}
        renamed |= {f"item_{k}": f"{prefix}_item_{k}" for k in range(1, n_items + 1)}
        scores = assessments.loc[assessments["instrument"] == instrument, list(renamed)].rename(columns=renamed)
        # Assessments on a day without a session become rows with a blank modality.
        log = log.merge(scores, on=["patient_id", "session_date"], how="outer")
    return log.sort_values(["patient_id", "session_date"], kind="stable").reset_index(drop=True)[SESSION_LOG_COLUMNS]


def example_tables(clinic: dict[str, pd.DataFrame], n_patients: int = 40) -> dict[str, pd.DataFrame]:
    """The first patients of a clinic as the example files hold them, keyed by file stem."""
    chosen = clinic["patients"]["patient_id"].iloc[:n_patients]
    tables = {
        f"layout_a_{name}": clinic[name][clinic[name]["patient_id"].isin(chosen)].reset_index(drop=True)
        for name in ("patients", "sessions", "assessments")
    }
    tables["layout_b_session_log"] = session_log_frame(tables["layout_a_sessions"], tables["layout_a_assessments"])
    return tables


def write_examples(clinic: dict[str, pd.DataFrame], out_dir: Path, n_patients: int = 40) -> list[Path]:
    """Write the first patients of a clinic as example exports in both import layouts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = example_tables(clinic, n_patients)
    written = [_write_csv(frame, out_dir / f"{stem}.csv") for stem, frame in tables.items()]
    workbook_sheets = {name: tables[f"layout_a_{name}"] for name in ("patients", "sessions", "assessments")}
    written.append(_write_xlsx(workbook_sheets, out_dir / "layout_a_clinic.xlsx"))
    written.append(_write_xlsx({"session_log": tables["layout_b_session_log"]}, out_dir / "layout_b_session_log.xlsx"))
    return written


def write_templates(out_dir: Path) -> list[Path]:
    """Write blank import templates: the header row of each layout's files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    headers = {
        "layout_a_patients.csv": PATIENT_COLUMNS,
        "layout_a_sessions.csv": SESSION_COLUMNS,
        "layout_a_assessments.csv": ASSESSMENT_COLUMNS,
        "layout_b_session_log.csv": SESSION_LOG_COLUMNS,
    }
    return [_write_csv(pd.DataFrame(columns=columns), out_dir / name) for name, columns in headers.items()]


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> Path:
    # Dates go in as real Excel date cells, as a clinic's own spreadsheet would hold them.
    with pd.ExcelWriter(path, engine="openpyxl", date_format="YYYY-MM-DD") as writer:
        for name, frame in sheets.items():
            frame = frame.copy()
            for column in ("session_date", "assessment_date"):
                if column in frame:
                    frame[column] = pd.to_datetime(frame[column]).dt.date
            frame.to_excel(writer, sheet_name=name, index=False)
    return path
