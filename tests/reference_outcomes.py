"""A plain-Python reading of OUTCOMES.md §1–§7, written apart from the engine to check it.

Loops, dicts and datetime only: no DuckDB, no pandas. It takes the three layout-A
tables as lists of row dicts and builds the same per-course facts the engine's
timeline holds, then the §7 report, with and without small-cell suppression.

Where OUTCOMES.md leaves room for more than one reading, the reading taken here is
written next to the code as "Reading:" so that a mismatch with the engine can be
traced to a sentence of the contract rather than to a line of code.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from scipy.stats import norm
from scipy.stats import t as student_t


@dataclass(frozen=True)
class Instrument:
    name: str
    n_items: int
    max_missing_for_prorating: int
    total_max: int
    reliable_change: int
    eligibility_min: int  # §4 eligible: baseline >= this
    remission_max: int  # §4 remission: endpoint <= this
    response_fraction: float | None = None  # §4 response: endpoint <= fraction x baseline (PHQ-9, GAD-7)
    response_drop: int | None = None  # §4 response: baseline - endpoint >= drop (PCL-5)
    item_max: int = 3

    def responds(self, baseline: int, endpoint: int) -> bool:
        if self.response_fraction is not None:
            return endpoint <= self.response_fraction * baseline
        return baseline - endpoint >= self.response_drop


# OUTCOMES.md §1 and §4, typed in from the contract's tables.
INSTRUMENTS = {
    "PHQ-9": Instrument(
        "PHQ-9",
        9,
        max_missing_for_prorating=2,
        total_max=27,
        reliable_change=6,
        eligibility_min=10,
        remission_max=4,
        response_fraction=0.5,
    ),
    "GAD-7": Instrument(
        "GAD-7",
        7,
        max_missing_for_prorating=1,
        total_max=21,
        reliable_change=4,
        eligibility_min=10,
        remission_max=4,
        response_fraction=0.5,
    ),
    "PCL-5": Instrument(
        "PCL-5",
        20,
        max_missing_for_prorating=4,
        total_max=80,
        reliable_change=10,
        eligibility_min=33,
        remission_max=32,
        response_drop=10,
        item_max=4,
    ),
}

INDUCTION_LENGTH = {
    "esketamine_nasal": 8,
    "ketamine_im": 6,
    "ketamine_iv": 6,
    "ketamine_oral": 6,
}

COURSE_GAP_DAYS = 90
OWNERSHIP_LEAD_DAYS = 30
END_OF_INDUCTION_WINDOW_DAYS = 28
IN_PROGRESS_DAYS = 28
PRE_BOOSTER_WINDOW_DAYS = 7
TRAJECTORY_MAX_T = 8
SUPPRESS_MAX_COUNT = 10
CONFIDENCE = 0.95


# ---------------------------------------------------------------------------
# Small helpers


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def as_optional_int(value: Any) -> int | None:
    """Blank cells (None, '', NaN) are missing; anything else is an integer."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value)
    text = str(value).strip()
    if text == "":
        return None
    return int(float(text))


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def round_half_up(value: Fraction) -> int:
    # Exact arithmetic so that 13.5 goes to 14 (Python's round() would give 14 here
    # but 4 for 4.5: banker's rounding is not what §1 asks for).
    return math.floor(value + Fraction(1, 2))


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Wilson score interval, written out from the formula (Wilson 1927)."""
    if n == 0:
        return (None, None)
    z = norm.ppf(1 - (1 - confidence) / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half_width), min(1.0, centre + half_width))


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Two-sided t interval for a mean; undefined for fewer than two values."""
    n = len(values)
    if n < 2:
        return (None, None)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half_width = student_t.ppf(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n)
    return (mean - half_width, mean + half_width)


def mean_or_none(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


# ---------------------------------------------------------------------------
# §1 Scoring


def score(instrument: str, items: Sequence[int | None], supplied_total: int | None) -> tuple[int | None, int | None]:
    """Return (total, item9) for one administration; total None means incomplete.

    item9 is the PHQ-9 item 9 answer, None when unknown (total-only rows, item 9
    left blank) and always None for GAD-7.
    """
    spec = INSTRUMENTS[instrument]
    own_items = list(items[: spec.n_items])
    answered = [item for item in own_items if item is not None]
    missing = spec.n_items - len(answered)
    item9 = own_items[8] if instrument == "PHQ-9" else None

    if missing == 0:
        total = sum(answered)
        if supplied_total is not None and supplied_total != total:
            raise ValueError(f"{instrument} total {supplied_total} does not equal the item sum {total}")
        return total, item9
    # Reading: "With items incomplete, a supplied total in range is used" applies to
    # any row with at least one item missing, so a supplied total wins over prorating
    # even when prorating would have been allowed (1-2 PHQ-9 / 1 GAD-7 items missing).
    if supplied_total is not None:
        return supplied_total, item9
    if answered and missing <= spec.max_missing_for_prorating:
        return round_half_up(Fraction(sum(answered) * spec.n_items, len(answered))), item9
    return None, item9


# ---------------------------------------------------------------------------
# §2–§5 The timeline


@dataclass
class Timeline:
    data_last_date: dt.date
    courses: list[dict]
    sessions: list[dict]
    assessments: list[dict]
    course_outcomes: list[dict]
    boosters: list[dict]
    instruments_recorded: set[str]
    # every complete score in the store, owned by a course or not (§5b starts from these)
    scores: list[dict] | None = None


def _merge_sessions(sessions: Iterable[dict]) -> dict[str, list[tuple[dt.date, str]]]:
    by_patient_date: dict[tuple[str, dt.date], str] = {}
    for row in sessions:
        key = (str(row["patient_id"]), as_date(row["session_date"]))
        modality = row["modality"]
        if key in by_patient_date and by_patient_date[key] != modality:
            raise ValueError(f"two modalities for one session: {key}")
        by_patient_date[key] = modality
    per_patient: dict[str, list[tuple[dt.date, str]]] = {}
    for (patient_id, day), modality in sorted(by_patient_date.items()):
        per_patient.setdefault(patient_id, []).append((day, modality))
    return per_patient


def _scored_assessments(assessments: Iterable[dict]) -> tuple[list[dict], list[dt.date]]:
    """Complete assessments, one per (patient, instrument, date); and every row's date."""
    merged: dict[tuple[str, str, dt.date], dict] = {}
    all_dates = []
    for row in assessments:
        instrument = row["instrument"]
        day = as_date(row["assessment_date"])
        all_dates.append(day)
        items = [as_optional_int(row.get(f"item_{i}")) for i in range(1, 21)]
        total, item9 = score(instrument, items, as_optional_int(row.get("total")))
        if total is None:
            continue  # incomplete: kept in the store, left out of every outcome
        key = (str(row["patient_id"]), instrument, day)
        if key in merged and merged[key]["total"] != total:
            raise ValueError(f"two different totals for one assessment: {key}")
        merged[key] = {
            "patient_id": key[0],
            "instrument": instrument,
            "assessment_date": day,
            "total": total,
            "item9": item9,
        }
    return [merged[key] for key in sorted(merged)], all_dates


def build_timeline(patients: Iterable[dict], sessions: Iterable[dict], assessments: Iterable[dict]) -> Timeline:
    assessments = list(assessments)
    instruments_recorded = {row["instrument"] for row in assessments}
    patient_rows = {str(row["patient_id"]): row for row in patients}
    sessions_by_patient = _merge_sessions(sessions)
    complete_assessments, assessment_dates = _scored_assessments(assessments)

    # Reading: "the data's last date (latest session or assessment date)" is taken
    # over every imported row, incomplete and pre-treatment assessments included.
    all_dates = [day for rows in sessions_by_patient.values() for day, _ in rows] + assessment_dates
    data_last_date = max(all_dates)

    courses: list[dict] = []
    session_rows: list[dict] = []
    courses_by_patient: dict[str, list[dict]] = {}
    for patient_id, patient_sessions in sessions_by_patient.items():
        groups: list[list[tuple[dt.date, str]]] = []
        for day, modality in patient_sessions:
            if groups and (day - groups[-1][-1][0]).days <= COURSE_GAP_DAYS:
                groups[-1].append((day, modality))
            else:
                groups.append([(day, modality)])
        for number, group in enumerate(groups, start=1):
            course_id = f"{patient_id}#{number}"
            modality = group[0][1]
            induction_length = INDUCTION_LENGTH[modality]
            n_sessions = len(group)
            last_session = group[-1][0]
            completed = n_sessions >= induction_length
            # Reading: "within 28 days" includes 28 (data_last_date - last session <= 28).
            in_progress = (not completed) and (data_last_date - last_session).days <= IN_PROGRESS_DAYS
            patient = patient_rows.get(patient_id, {})
            course = {
                "course_id": course_id,
                "patient_id": patient_id,
                "course_number": number,
                "start_date": group[0][0],
                "last_session_date": last_session,
                "modality": modality,
                "induction_length": induction_length,
                "n_sessions": n_sessions,
                "completed_induction": completed,
                "in_progress": in_progress,
                "session_l_date": group[induction_length - 1][0] if completed else None,
                "start_quarter": quarter_of(group[0][0]),
                "site": patient.get("site"),
                "clinician_id": patient.get("clinician_id"),
                "age_band": patient.get("age_band"),
                "sex": patient.get("sex"),
                "primary_condition": patient.get("primary_condition"),
                "session_dates": [day for day, _ in group],
            }
            courses.append(course)
            courses_by_patient.setdefault(patient_id, []).append(course)
            previous = None
            for k, (day, session_modality) in enumerate(group, start=1):
                session_rows.append(
                    {
                        "patient_id": patient_id,
                        "course_id": course_id,
                        "session_date": day,
                        "session_number": k,
                        "is_booster": k > induction_length,
                        "interval_days": None if previous is None else (day - previous).days,
                        "modality": session_modality,
                    }
                )
                previous = day

    # §3 ownership and timepoints
    owned: list[dict] = []
    for row in complete_assessments:
        patient_courses = courses_by_patient.get(row["patient_id"], [])
        day = row["assessment_date"]
        owner = None
        for index, course in enumerate(patient_courses):
            window_start = course["start_date"] - dt.timedelta(days=OWNERSHIP_LEAD_DAYS)
            if index + 1 < len(patient_courses):
                window_end = patient_courses[index + 1]["start_date"] - dt.timedelta(days=OWNERSHIP_LEAD_DAYS)
            else:
                window_end = dt.date.max
            if window_start <= day < window_end:
                owner = course
                break
        if owner is None:
            continue  # pre-treatment history (or a patient without sessions)
        timepoint = sum(1 for session_day in owner["session_dates"] if session_day < day)
        owned.append({**row, "course_id": owner["course_id"], "timepoint": timepoint})

    owned_by_course: dict[tuple[str, str], list[dict]] = {}
    for row in owned:
        owned_by_course.setdefault((row["course_id"], row["instrument"]), []).append(row)
    for rows in owned_by_course.values():
        rows.sort(key=lambda r: r["assessment_date"])

    course_by_id = {course["course_id"]: course for course in courses}
    outcomes = [
        _course_outcome(course_by_id[course_id], instrument, rows)
        for (course_id, instrument), rows in sorted(owned_by_course.items())
    ]
    boosters = _boosters(courses, owned_by_course)
    return Timeline(
        data_last_date, courses, session_rows, owned, outcomes, boosters, instruments_recorded, complete_assessments
    )


def _latest(rows: Iterable[dict]) -> dict | None:
    rows = list(rows)
    return max(rows, key=lambda r: r["assessment_date"]) if rows else None


def _within_eoi_window(course: dict, row: dict) -> bool:
    return row["assessment_date"] <= course["session_l_date"] + dt.timedelta(days=END_OF_INDUCTION_WINDOW_DAYS)


def assessment_at(course: dict, rows: list[dict], t: int) -> dict | None:
    """The assessment that stands for timepoint t: the latest at t; at t = L only
    those within 28 days of session L count.

    Reading: the 28-day window filters first and the latest of what remains wins,
    so a t = L score on day L+10 still counts when another one follows on day L+40.
    """
    L = course["induction_length"]
    candidates = [r for r in rows if r["timepoint"] == t]
    if t == L:
        if not course["completed_induction"]:
            return None
        candidates = [r for r in candidates if _within_eoi_window(course, r)]
    return _latest(candidates)


def _course_outcome(course: dict, instrument: str, rows: list[dict]) -> dict:
    spec = INSTRUMENTS[instrument]
    L = course["induction_length"]
    baseline_row = assessment_at(course, rows, 0)
    baseline = baseline_row["total"] if baseline_row else None
    eoi_row = assessment_at(course, rows, L) if course["completed_induction"] else None

    eligible = baseline is not None and baseline >= spec.eligibility_min
    completer = eligible and course["completed_induction"] and eoi_row is not None
    in_itt = eligible and not course["in_progress"]

    itt_endpoint = None
    if in_itt:
        post_baseline = [r for r in rows if 1 <= r["timepoint"] < L]
        if eoi_row is not None:
            post_baseline.append(eoi_row)
        latest = _latest(post_baseline)
        itt_endpoint = latest["total"] if latest else baseline  # baseline carried forward

    def responds(endpoint: int) -> bool:
        return spec.responds(baseline, endpoint)

    return {
        "course_id": course["course_id"],
        "patient_id": course["patient_id"],
        "instrument": instrument,
        "baseline": baseline,
        "baseline_date": baseline_row["assessment_date"] if baseline_row else None,
        "baseline_item9": baseline_row["item9"] if baseline_row else None,
        "eligible": eligible,
        "end_of_induction": eoi_row["total"] if eoi_row else None,
        "end_of_induction_date": eoi_row["assessment_date"] if eoi_row else None,
        "completer": completer,
        "in_itt": in_itt,
        "itt_endpoint": itt_endpoint,
        "itt_response": responds(itt_endpoint) if in_itt else None,
        "itt_remission": itt_endpoint <= spec.remission_max if in_itt else None,
        "completer_response": responds(eoi_row["total"]) if completer else None,
        "completer_remission": eoi_row["total"] <= spec.remission_max if completer else None,
        "reliable_improvement": baseline - itt_endpoint >= spec.reliable_change if in_itt else None,
        "reliable_deterioration": itt_endpoint - baseline >= spec.reliable_change if in_itt else None,
        # kept for the trajectory and durability, not engine columns
        "_rows": rows,
        "_course": course,
    }


def _boosters(courses: list[dict], owned_by_course: dict[tuple[str, str], list[dict]]) -> list[dict]:
    boosters = []
    for course in courses:
        dates = course["session_dates"]
        for k in range(course["induction_length"] + 1, course["n_sessions"] + 1):
            booster_date = dates[k - 1]
            for instrument in INSTRUMENTS:
                rows = owned_by_course.get((course["course_id"], instrument), [])
                window = [
                    r
                    for r in rows
                    if r["timepoint"] == k - 1
                    and booster_date - dt.timedelta(days=PRE_BOOSTER_WINDOW_DAYS)
                    <= r["assessment_date"]
                    <= booster_date
                ]
                latest = _latest(window)
                boosters.append(
                    {
                        "course_id": course["course_id"],
                        "patient_id": course["patient_id"],
                        "session_date": booster_date,
                        "session_number": k,
                        "interval_days": (booster_date - dates[k - 2]).days,
                        "instrument": instrument,
                        "pre_booster_score": latest["total"] if latest else None,
                    }
                )
    return boosters


def durability(timeline: Timeline, instrument: str) -> list[dict]:
    """§5 loss of response among completers who responded, in days from session L.

    Reading: "after the end-of-induction score" means assessments of the same
    instrument owned by the same course and dated after the end-of-induction date;
    a course with none is censored at its end-of-induction date (its last assessment).
    """
    result = []
    for outcome in timeline.course_outcomes:
        if outcome["instrument"] != instrument or not outcome["completer"] or not outcome["completer_response"]:
            continue
        course = outcome["_course"]
        later = [r for r in outcome["_rows"] if r["assessment_date"] > outcome["end_of_induction_date"]]
        # §5: at or above the eligibility threshold and no longer meeting the response rule.
        spec = INSTRUMENTS[instrument]
        lost = next(
            (
                r
                for r in later
                if r["total"] >= spec.eligibility_min and not spec.responds(outcome["baseline"], r["total"])
            ),
            None,
        )
        end = lost["assessment_date"] if lost else outcome["_rows"][-1]["assessment_date"]
        result.append(
            {
                "course_id": outcome["course_id"],
                "patient_id": outcome["patient_id"],
                "days": (end - course["session_l_date"]).days,
                "lost_response": lost is not None,
            }
        )
    return result


# ---------------------------------------------------------------------------
# §5b Long-term measures (CMS159-style)

LONG_TERM_MEASURES = {
    # measure: (first day after the index, last day after the index, what counts)
    "remission_12m": (305, 425, "remission"),
    "response_12m": (305, 425, "response"),
    "remission_6m": (152, 212, "remission"),
}


def long_term_patients(timeline: Timeline) -> dict[str, dict]:
    """patient -> {"index_date", "index_score", "rows"}: the first PHQ-9 >= 10 in the store, and every PHQ-9.

    Reading: "in the store" means every complete PHQ-9, before treatment too and of patients with no
    session; an incomplete one (no total) is no score.
    """
    rows_by_patient: dict[str, list[dict]] = {}
    for row in timeline.scores or []:
        if row["instrument"] == "PHQ-9":
            rows_by_patient.setdefault(row["patient_id"], []).append(row)
    patients = {}
    for patient, rows in rows_by_patient.items():
        rows.sort(key=lambda r: r["assessment_date"])
        index = next((r for r in rows if r["total"] >= 10), None)  # §5b: the first PHQ-9 of 10 or more
        if index is not None:
            patients[patient] = {"index_date": index["assessment_date"], "index_score": index["total"], "rows": rows}
    return patients


def long_term(timeline: Timeline, period: str = "all") -> dict:
    """§5b for the patients whose index date falls in the period."""
    patients = {
        p: facts
        for p, facts in long_term_patients(timeline).items()
        if in_period(quarter_of(facts["index_date"]), period)
    }
    result: dict = {"index_n": len(patients)}
    for measure, (opens, closes, kind) in LONG_TERM_MEASURES.items():
        n = met = not_yet = no_score = 0
        for facts in patients.values():
            if facts["index_date"] + dt.timedelta(days=closes) > timeline.data_last_date:
                not_yet += 1  # the window is still open on the data's last date
                continue
            n += 1
            window = [r for r in facts["rows"] if opens <= (r["assessment_date"] - facts["index_date"]).days <= closes]
            latest = _latest(window)
            if latest is None:
                no_score += 1
            elif kind == "remission" and latest["total"] <= 4:
                met += 1
            elif kind == "response" and latest["total"] <= 0.5 * facts["index_score"]:
                met += 1
        result[measure] = {
            "n": n,
            f"{kind}_n": met,
            "rate": met / n if n else None,
            "ci": list(wilson_interval(met, n)),
            "not_yet": not_yet,
            "no_score_n": no_score,
        }
    return result


# ---------------------------------------------------------------------------
# §6–§7 The quarterly report


def in_period(quarter: str, period: str) -> bool:
    """Whether a calendar quarter ('2026Q3') lies in a report period: a quarter, '2026H2', '2026' or 'all'."""
    if period == "all":
        return True
    if len(period) == 4:
        return quarter[:4] == period
    if period[4] == "H":
        return quarter[:4] == period[:4] and (int(quarter[-1]) + 1) // 2 == int(period[-1])
    return quarter == period


def _rate_block(n: int, response_n: int, remission_n: int) -> dict:
    return {
        "n": n,
        "response_n": response_n,
        "response_rate": response_n / n if n else None,
        "response_ci": list(wilson_interval(response_n, n)),
        "remission_n": remission_n,
        "remission_rate": remission_n / n if n else None,
        "remission_ci": list(wilson_interval(remission_n, n)),
    }


def _trajectory(outcomes: list[dict]) -> list[dict]:
    # Reading: the trajectory always lists t = 0..8, with n = 0 and mean null where
    # no course has a score (the §7 example shows only the shape of one entry).
    trajectory = []
    for t in range(TRAJECTORY_MAX_T + 1):
        totals = []
        for outcome in outcomes:
            course = outcome["_course"]
            if t > course["induction_length"]:
                continue
            row = assessment_at(course, outcome["_rows"], t)
            if row is not None:
                totals.append(row["total"])
        trajectory.append({"t": t, "n": len(totals), "mean": mean_or_none(totals)})
    return trajectory


def trajectory_class(outcome: dict) -> tuple[int | None, str] | None:
    """§5a for one completer: (first timepoint 1..L meeting the response rule, class); None otherwise.

    Reading: a timepoint's score is the one that stands for it (assessment_at, so t = L only inside
    the 28-day window, i.e. the end-of-induction score); "responding at the endpoint" is the
    completer response.
    """
    if not outcome["completer"]:
        return None
    course = outcome["_course"]
    first = None
    for t in range(1, course["induction_length"] + 1):
        row = assessment_at(course, outcome["_rows"], t)
        if row is not None and INSTRUMENTS[outcome["instrument"]].responds(outcome["baseline"], row["total"]):
            first = t
            break
    if first is None:
        return None, "non_responder"
    if not outcome["completer_response"]:
        return first, "unsustained"
    return first, "early" if first <= 2 else "late"


def _trajectory_classes(outcomes: list[dict]) -> dict:
    classified = [c for c in (trajectory_class(o) for o in outcomes) if c is not None]
    counts = {
        name: sum(1 for _, c in classified if c == name) for name in ("early", "late", "unsustained", "non_responder")
    }
    # Reading of "no response after session 2": no score at t = 1 or 2 meets the rule (none taken counts too).
    not_yet = sum(1 for first, _ in classified if first is None or first > 2)
    return {
        "n": len(classified),
        **counts,
        "no_response_by_t2_n": not_yet,
        "later_response_n": counts["late"],
        "later_response_rate": counts["late"] / not_yet if not_yet else None,
        "later_response_ci": list(wilson_interval(counts["late"], not_yet)),
    }


def _instrument_block(outcomes: list[dict]) -> dict:
    with_baseline = [o for o in outcomes if o["baseline"] is not None]
    eligible = [o for o in outcomes if o["eligible"]]
    itt = [o for o in outcomes if o["in_itt"]]
    completers = [o for o in outcomes if o["completer"]]
    changes = [o["itt_endpoint"] - o["baseline"] for o in itt]
    return {
        "baseline_n": len(with_baseline),
        "eligible_n": len(eligible),
        "itt": _rate_block(len(itt), sum(o["itt_response"] for o in itt), sum(o["itt_remission"] for o in itt)),
        "completers": _rate_block(
            len(completers),
            sum(o["completer_response"] for o in completers),
            sum(o["completer_remission"] for o in completers),
        ),
        "reliable_improvement_n": sum(o["reliable_improvement"] for o in itt),
        "mean_baseline": mean_or_none([o["baseline"] for o in itt]),
        "mean_endpoint": mean_or_none([o["itt_endpoint"] for o in itt]),
        "mean_change": mean_or_none(changes),
        "mean_change_ci": list(t_interval(changes)),
        "trajectory": _trajectory(outcomes),
        "trajectory_classes": _trajectory_classes(outcomes),
    }


def quarterly_report(timeline: Timeline, quarter: str = "all", suppress: bool = True) -> dict:
    in_quarter = [c for c in timeline.courses if in_period(c["start_quarter"], quarter)]
    course_ids = {c["course_id"] for c in in_quarter}
    outcomes = [o for o in timeline.course_outcomes if o["course_id"] in course_ids]

    # Boosters are counted by the booster's own date, whichever quarter the course began in.
    booster_sessions = [
        s for s in timeline.sessions if s["is_booster"] and in_period(quarter_of(s["session_date"]), quarter)
    ]
    intervals = [s["interval_days"] for s in booster_sessions]

    report = {
        "quarter": quarter,
        "suppressed": False,
        "courses_started": len(in_quarter),
        "patients_started": len({c["patient_id"] for c in in_quarter}),
        "induction_completed": sum(c["completed_induction"] for c in in_quarter),
        "in_progress": sum(c["in_progress"] for c in in_quarter),
        "boosters_delivered": len(booster_sessions),
        "median_booster_interval_days": float(statistics.median(intervals)) if intervals else None,
        "item9_positive_baseline": sum(
            1
            for o in outcomes
            if o["instrument"] == "PHQ-9" and o["baseline_item9"] is not None and o["baseline_item9"] >= 1
        ),
        # §6: a baseline PHQ-9 without item 9 (total only, or the item left blank) is unknown.
        "item9_unknown_baseline": sum(
            1
            for o in outcomes
            if o["instrument"] == "PHQ-9" and o["baseline"] is not None and o["baseline_item9"] is None
        ),
        "instruments": {
            instrument: _instrument_block([o for o in outcomes if o["instrument"] == instrument])
            # §7: every instrument with at least one assessment in the store has its block.
            for instrument in INSTRUMENTS
            if instrument in timeline.instruments_recorded
        },
        "long_term": long_term(timeline, quarter),
    }
    return suppress_small_cells(report) if suppress else report


def _is_small(count: int) -> bool:
    return 1 <= count <= SUPPRESS_MAX_COUNT


def _suppress_count(count: int) -> int | str:
    return "<11" if _is_small(count) else count


def suppress_small_cells(report: dict) -> dict:
    """§6: counts of 1-10 become "<11"; a rate (and its interval) whose numerator or
    denominator is 1-10 becomes null.

    Project decision (docs/DEFINITIONS.md): a mean or median over 1-10 courses can reveal
    one patient's score, so it is withheld like a rate: mean baseline/endpoint/change (and
    the change's interval) when ITT n is 1-10, a trajectory mean when its n is 1-10, and the
    median booster interval when 1-10 boosters were delivered. Trajectory n is a count.
    """
    out = dict(report)
    out["suppressed"] = True
    for key in (
        "courses_started",
        "patients_started",
        "induction_completed",
        "in_progress",
        "boosters_delivered",
        "item9_positive_baseline",
        "item9_unknown_baseline",
    ):
        out[key] = _suppress_count(report[key])
    if _is_small(report["boosters_delivered"]):
        out["median_booster_interval_days"] = None
    out["long_term"] = {"index_n": _suppress_count(report["long_term"]["index_n"])}
    for measure, (_, _, kind) in LONG_TERM_MEASURES.items():
        numbers = dict(report["long_term"][measure])
        if _is_small(numbers["n"]) or _is_small(numbers[f"{kind}_n"]):
            numbers["rate"] = None
            numbers["ci"] = [None, None]
        for key in ("n", f"{kind}_n", "not_yet", "no_score_n"):
            numbers[key] = _suppress_count(numbers[key])
        out["long_term"][measure] = numbers
    out["instruments"] = {}
    for instrument, block in report["instruments"].items():
        new_block = dict(block)
        for key in ("baseline_n", "eligible_n", "reliable_improvement_n"):
            new_block[key] = _suppress_count(block[key])
        for group in ("itt", "completers"):
            rates = dict(block[group])
            n = rates["n"]
            for outcome in ("response", "remission"):
                numerator = rates[f"{outcome}_n"]
                if _is_small(n) or _is_small(numerator):
                    rates[f"{outcome}_rate"] = None
                    rates[f"{outcome}_ci"] = [None, None]
                rates[f"{outcome}_n"] = _suppress_count(numerator)
            rates["n"] = _suppress_count(n)
            new_block[group] = rates
        if _is_small(block["itt"]["n"]):
            for key in ("mean_baseline", "mean_endpoint", "mean_change"):
                new_block[key] = None
            new_block["mean_change_ci"] = [None, None]
        classes = dict(block["trajectory_classes"])
        if _is_small(classes["later_response_n"]) or _is_small(classes["no_response_by_t2_n"]):
            classes["later_response_rate"] = None
            classes["later_response_ci"] = [None, None]
        for key in ("n", "early", "late", "unsustained", "non_responder", "no_response_by_t2_n", "later_response_n"):
            classes[key] = _suppress_count(classes[key])
        new_block["trajectory_classes"] = classes
        new_block["trajectory"] = [
            {**point, "n": _suppress_count(point["n"]), "mean": None if _is_small(point["n"]) else point["mean"]}
            for point in block["trajectory"]
        ]
        out["instruments"][instrument] = new_block
    return out


def report_from_tables(
    patients: Iterable[dict],
    sessions: Iterable[dict],
    assessments: Iterable[dict],
    quarter: str = "all",
    suppress: bool = True,
) -> dict:
    return quarterly_report(build_timeline(patients, sessions, assessments), quarter, suppress)


def quarters_present(timeline: Timeline) -> list[str]:
    """Quarters in which a course started or a booster was given."""
    quarters = {c["start_quarter"] for c in timeline.courses}
    quarters |= {quarter_of(s["session_date"]) for s in timeline.sessions if s["is_booster"]}
    return sorted(quarters)
