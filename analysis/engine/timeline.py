"""The timeline: courses, timepoints and induction outcomes (docs/DEFINITIONS.md): DuckDB SQL, thin Python around it.

Why this stays one module of some 450 lines: the SQL builds temp tables that live on one cursor only,
and the three things done with them share those queries, their parameters and that cursor:
load_timeline reads the frames, save_report_cache keeps the same frames in the store, and the cache
check decides between the two. Split apart, one rule would be followed across three files; here it
reads top to bottom: the Timeline, the SQL, its parameters, the stored outcome cache, load_timeline,
the outcome flags.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis import store
from analysis.engine.frames import is_in
from analysis.instruments import INSTRUMENTS
from analysis.settings import Settings

INSTRUMENT_CODES = tuple(INSTRUMENTS)
TRAJECTORY_TIMEPOINTS = tuple(range(0, 9))


@dataclass(frozen=True)
class Timeline:
    """Every course with its sessions, assessments and per-instrument outcomes.

    Computed once per store version and settings; never mutated (the dashboard shares it).
    Courses, sessions and boosters come in patient and date order; assessments and induction
    scores in no particular order (sorting them costs more than the rest of the engine at
    network scale): sort what you show.
    """

    settings: Settings
    data_last_date: dt.date | None
    courses: pd.DataFrame
    sessions: pd.DataFrame
    assessments: pd.DataFrame
    course_outcomes: pd.DataFrame
    boosters: pd.DataFrame
    # The latest score at each timepoint of the induction window (t = 0..L, t = L within 28 days).
    induction_scores: pd.DataFrame | None = None
    # Every complete score in the store, owned by a course or not (the long-term measures, §5b, are per
    # patient and start from the first score at or above the threshold, before treatment too).
    scores: pd.DataFrame | None = None
    # The instruments with at least one assessment in the store, in the catalogue's order.
    instruments: tuple[str, ...] = ()
    extras: dict = field(default_factory=dict, compare=False)
    # What caches key this timeline on (the app: store file, its fingerprint, the settings); () when
    # unkeyed. Carried with the data so no cache can pair these numbers with another store version.
    version: tuple = field(default=(), compare=False)

    def subset(self, course_ids: pd.Series | Sequence[str]) -> Timeline:
        """The same timeline holding only the given courses.

        Rows are picked through integer course keys made once at load (a numpy lookup), not by
        matching course_id strings frame by frame: a quarter's report at network scale is 4x faster.
        """
        frames = {name: getattr(self, name) for name in _COURSE_FRAMES}
        keys = self.extras.get("course_keys")
        if keys is None:
            keys = course_keys(frames)
        wanted = np.zeros(int(keys["courses"].max(initial=-1)) + 1, dtype=bool)
        positions = pd.Index(self.courses["course_id"]).get_indexer(pd.Index(course_ids))
        wanted[keys["courses"][positions[positions >= 0]]] = True
        picked, picked_keys = {}, {}
        for name, frame in frames.items():
            if frame is None or name not in keys:  # a part the report view leaves out
                picked[name] = frame
                continue
            rows = wanted[keys[name]] if len(wanted) else np.zeros(len(frame), dtype=bool)
            picked[name] = frame.loc[rows]
            picked_keys[name] = keys[name][rows]
        return Timeline(
            settings=self.settings,
            data_last_date=self.data_last_date,
            instruments=self.instruments,
            **picked,
            scores=self._scores_of(picked["courses"]),
            extras={"course_keys": picked_keys},
            version=self.version,
        )

    def _scores_of(self, courses: pd.DataFrame) -> pd.DataFrame | None:
        """The scores of the patients with a kept course (a patient-level measure follows its cohort)."""
        if self.scores is None:
            return None
        return self.scores.loc[is_in(self.scores["patient_id"], courses["patient_id"])]


_COURSE_FRAMES = ("courses", "sessions", "assessments", "course_outcomes", "boosters", "induction_scores")


def course_keys(frames: dict) -> dict[str, np.ndarray]:
    """Each row's course as an integer (its position among the courses), for fast subsets."""
    courses = pd.Index(frames["courses"]["course_id"])
    keys = {}
    for name, frame in frames.items():
        if frame is not None and "course_id" in frame.columns:
            keys[name] = courses.get_indexer(frame["course_id"]) if name != "courses" else np.arange(len(frame))
    return keys


_SESSIONS_SQL = """
CREATE TEMP TABLE induction_lengths AS
    SELECT * FROM (VALUES {length_rows}) AS t(modality, induction_length);

CREATE TEMP TABLE course_sessions AS
WITH ordered AS (
    SELECT patient_id, session_date, modality, dose_mg, site, clinician_id,
           lag(session_date) OVER (PARTITION BY patient_id ORDER BY session_date) AS previous_date
    FROM sessions
), numbered AS (
    SELECT *,
           sum(CASE WHEN previous_date IS NULL OR session_date - previous_date > $course_gap_days THEN 1 ELSE 0 END)
               OVER (PARTITION BY patient_id ORDER BY session_date ROWS UNBOUNDED PRECEDING) AS course_number
    FROM ordered
)
SELECT patient_id, CAST(course_number AS INTEGER) AS course_number, patient_id || '#' || CAST(course_number AS INTEGER) AS course_id,
       session_date, modality, dose_mg, site, clinician_id,
       row_number() OVER (PARTITION BY patient_id, course_number ORDER BY session_date) AS session_number,
       CASE WHEN session_number > 1 THEN session_date - previous_date END AS interval_days
FROM numbered;

CREATE TEMP TABLE data_end AS
SELECT greatest((SELECT max(session_date) FROM sessions), (SELECT max(assessment_date) FROM assessments)) AS last_date;

CREATE TEMP TABLE courses_tl AS
WITH firsts AS (
    SELECT course_id, patient_id, course_number, session_date AS start_date, modality,
           site AS first_site, clinician_id AS first_clinician
    FROM course_sessions WHERE session_number = 1
), spans AS (
    SELECT course_id, max(session_date) AS last_session_date, count(*) AS n_sessions
    FROM course_sessions GROUP BY course_id
), joined AS (
    SELECT f.*, s.last_session_date, s.n_sessions, l.induction_length,
           lead(f.start_date) OVER (PARTITION BY f.patient_id ORDER BY f.start_date) AS next_start_date
    FROM firsts f JOIN spans s USING (course_id) JOIN induction_lengths l USING (modality)
)
SELECT j.course_id, j.patient_id, j.course_number, j.start_date, j.last_session_date, j.modality,
       j.induction_length, j.n_sessions,
       j.n_sessions >= j.induction_length AS completed_induction,
       j.n_sessions < j.induction_length
           AND (SELECT last_date FROM data_end) - j.last_session_date <= $in_progress_days AS in_progress,
       l.session_date AS session_l_date,
       j.next_start_date,
       coalesce(j.first_site, p.site) AS site,
       coalesce(j.first_clinician, p.clinician_id) AS clinician_id,
       p.age_band, p.sex, p.primary_condition,
       CAST(year(j.start_date) AS VARCHAR) || 'Q' || CAST(quarter(j.start_date) AS VARCHAR) AS start_quarter,
       j.start_date - CAST($baseline_window_days AS INTEGER) AS window_start
FROM joined j LEFT JOIN patients p USING (patient_id)
LEFT JOIN course_sessions l ON l.course_id = j.course_id AND l.session_number = j.induction_length;

-- Course c owns assessments from start(c) - 30 days up to start(next) - 30 days: the owner is the
-- course with the latest window start on or before the assessment date.
CREATE TEMP TABLE assessments_tl AS
WITH owned AS (
    SELECT a.patient_id, c.course_id, a.instrument, a.assessment_date, a.total, a.item9, a.total_method,
           c.induction_length, c.session_l_date
    FROM (SELECT * FROM assessments WHERE total IS NOT NULL) a
    ASOF JOIN courses_tl c ON a.patient_id = c.patient_id AND a.assessment_date >= c.window_start
)
SELECT o.patient_id, o.course_id, o.instrument, o.assessment_date, o.total, o.item9, o.total_method,
       coalesce(s.session_number, 0) AS timepoint,
       -- In the induction window: t = 0..L, and for t = L no later than session L + 28 days.
       coalesce(s.session_number, 0) < o.induction_length
           OR (coalesce(s.session_number, 0) = o.induction_length
               AND o.assessment_date <= o.session_l_date + $end_of_induction_window_days) AS in_induction_window
FROM owned o
ASOF LEFT JOIN course_sessions s ON o.course_id = s.course_id AND o.assessment_date > s.session_date;

-- The latest assessment at each timepoint of the induction window.
CREATE TEMP TABLE window_latest AS
SELECT * FROM assessments_tl WHERE in_induction_window
QUALIFY row_number() OVER (PARTITION BY course_id, instrument, timepoint ORDER BY assessment_date DESC) = 1;
"""

_COURSE_OUTCOMES_SQL = """
-- Only the instruments the clinic records (at least one assessment in the store) get outcome rows.
WITH recorded AS (SELECT DISTINCT instrument FROM assessments),
instruments AS (
    SELECT * FROM (VALUES {instrument_rows}) AS t(instrument, reliable_change, eligibility_min)
    WHERE instrument IN (SELECT instrument FROM recorded)
),
per_course AS (
    SELECT course_id, instrument,
           max(total) FILTER (WHERE timepoint = 0) AS baseline,
           max(assessment_date) FILTER (WHERE timepoint = 0) AS baseline_date,
           max(item9) FILTER (WHERE timepoint = 0) AS baseline_item9,
           arg_max(total, assessment_date) FILTER (WHERE timepoint >= 1) AS last_post_baseline,
           max(assessment_date) FILTER (WHERE timepoint >= 1) AS last_post_baseline_date
    FROM window_latest GROUP BY course_id, instrument
), end_of_induction AS (
    SELECT w.course_id, w.instrument, w.total AS end_of_induction, w.assessment_date AS end_of_induction_date
    FROM window_latest w JOIN courses_tl c USING (course_id)
    WHERE w.timepoint = c.induction_length
)
SELECT c.course_id, i.instrument, p.baseline, p.baseline_date, p.baseline_item9,
       p.baseline IS NOT NULL AS has_baseline,
       coalesce(p.baseline >= i.eligibility_min, false) AS eligible,
       e.end_of_induction, e.end_of_induction_date,
       coalesce(p.baseline >= i.eligibility_min AND c.completed_induction AND e.end_of_induction IS NOT NULL, false) AS completer,
       coalesce(p.baseline >= i.eligibility_min AND NOT c.in_progress, false) AS in_itt,
       coalesce(p.last_post_baseline, p.baseline) AS itt_endpoint,
       p.last_post_baseline IS NULL AND p.baseline IS NOT NULL AS baseline_carried_forward,
       i.reliable_change, i.eligibility_min
FROM courses_tl c CROSS JOIN instruments i
LEFT JOIN per_course p ON p.course_id = c.course_id AND p.instrument = i.instrument
LEFT JOIN end_of_induction e ON e.course_id = c.course_id AND e.instrument = i.instrument
ORDER BY c.course_id, i.instrument
"""

_BOOSTERS_SQL = """
WITH boosters AS (
    SELECT b.course_id, b.patient_id, b.session_date, b.session_number, b.interval_days, b.modality, i.instrument
    FROM course_sessions b JOIN courses_tl c USING (course_id)
    CROSS JOIN (SELECT * FROM (VALUES {instrument_names}) AS t(instrument)) i
    WHERE b.session_number > c.induction_length
), pre_booster AS (   -- the latest score at t = k - 1 within 7 days before the booster, its day included
    SELECT b.course_id, b.session_number, b.instrument, arg_max(a.total, a.assessment_date) AS pre_booster_score
    FROM boosters b JOIN assessments_tl a
      ON a.course_id = b.course_id AND a.instrument = b.instrument AND a.timepoint = b.session_number - 1
     AND a.assessment_date BETWEEN b.session_date - $pre_booster_window_days AND b.session_date
    GROUP BY ALL
)
SELECT b.*, p.pre_booster_score
FROM boosters b LEFT JOIN pre_booster p USING (course_id, session_number, instrument)
ORDER BY b.patient_id, b.session_date, b.instrument
"""


def _values_sql(rows: list[tuple], prefix: str) -> tuple[str, dict]:
    """A VALUES list written with named parameters (no user text is ever formatted into SQL)."""
    parameters, parts = {}, []
    for index, row in enumerate(rows):
        names = []
        for position, value in enumerate(row):
            name = f"{prefix}_{index}_{position}"
            parameters[name] = value
            names.append(f"${name}")
        parts.append(f"({', '.join(names)})")
    return ", ".join(parts), parameters


def _used(sql: str, parameters: dict) -> dict:
    return {key: value for key, value in parameters.items() if f"${key}" in sql}


def _fetch(cursor: duckdb.DuckDBPyConnection, sql: str, parameters: dict | None = None) -> pd.DataFrame:
    """A query's rows as a DataFrame, through Arrow (several times faster than .df() at network scale).

    Integer columns holding NULLs become pandas nullable integers, as .df() would make them.
    """
    table = cursor.sql(sql, params=parameters or None).to_arrow_table()
    nullable_integers = [
        column
        for column, values in zip(table.column_names, table.columns)
        if pa.types.is_integer(values.type) and values.null_count
    ]
    frame = table.to_pandas(date_as_object=False)
    for column in nullable_integers:
        frame[column] = frame[column].astype("Int64")
    return frame


def _parameters(settings: Settings) -> tuple[dict, dict]:
    """SQL fragments (VALUES lists) and named parameters for the settings."""
    length_rows, length_params = _values_sql(list(settings.induction_length), "length")
    instrument_rows, instrument_params = _values_sql(
        [(code, rules.reliable_change, rules.eligibility_min) for code, rules in settings.instrument_rules],
        "instrument",
    )
    instrument_names, name_params = _values_sql([(code,) for code in INSTRUMENT_CODES], "name")
    fragments = {"length_rows": length_rows, "instrument_rows": instrument_rows, "instrument_names": instrument_names}
    parameters = {
        "course_gap_days": settings.course_gap_days,
        "in_progress_days": settings.in_progress_days,
        "baseline_window_days": settings.baseline_window_days,
        "end_of_induction_window_days": settings.end_of_induction_window_days,
        "pre_booster_window_days": settings.pre_booster_window_days,
        **length_params,
        **instrument_params,
        **name_params,
    }
    return fragments, parameters


# What the quarterly report needs, as queries over the timeline's temp tables.
_REPORT_QUERIES = {
    "data_end": "SELECT last_date FROM data_end",
    "courses": "SELECT * EXCLUDE (window_start) FROM courses_tl ORDER BY patient_id, course_number",
    "sessions": """
        SELECT s.patient_id, s.course_id, s.session_date, s.session_number,
               s.session_number > c.induction_length AS is_booster, s.interval_days, s.modality, s.dose_mg,
               s.site, s.clinician_id
        FROM course_sessions s JOIN courses_tl c USING (course_id)
        ORDER BY s.patient_id, s.session_date""",
    "induction_scores": "SELECT course_id, instrument, timepoint, assessment_date, total FROM window_latest",
    "scores": "SELECT patient_id, instrument, assessment_date, total FROM assessments WHERE total IS NOT NULL",
    "course_outcomes": _COURSE_OUTCOMES_SQL,
    # Which questionnaires the clinic records: only these appear in reports and on pages.
    "instruments": "SELECT DISTINCT instrument FROM assessments",
}
# What only the dashboard shows; cached too, so the first visitor after an import is served fast.
_DETAIL_QUERIES = {
    "assessments": "SELECT * FROM assessments_tl",
    "boosters": _BOOSTERS_SQL,
}
CACHE_KEY = "report_cache"


def _build(cursor: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[dict, dict]:
    fragments, parameters = _parameters(settings)
    for statement in _SESSIONS_SQL.format(**fragments).split(";\n"):
        if statement.strip():
            cursor.execute(statement, _used(statement, parameters))
    return fragments, parameters


def _cache_key(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    return f"{store.get_meta(con, 'data_version')}|{settings.fingerprint()}"


def save_report_cache(con: duckdb.DuckDBPyConnection, settings: Settings | None = None) -> None:
    """Keep the report's frames in the store, so `report` reads instead of recomputing.

    Called after the CLI writes to a store. The cache is used only while both the data version
    and the settings are the ones it was made with; otherwise everything is computed afresh.
    """
    settings = settings or Settings()
    cursor = con.cursor()
    try:
        if _cached_frames_fresh(cursor, settings, with_details=True):
            return  # e.g. a re-import that changed nothing
        fragments, parameters = _build(cursor, settings)
        for name, query in {**_REPORT_QUERIES, **_DETAIL_QUERIES}.items():
            sql = query.format(**fragments)
            cursor.execute(f"CREATE OR REPLACE TABLE cache_{name} AS {sql}", _used(sql, parameters))
        store.set_meta(cursor, CACHE_KEY, _cache_key(cursor, settings))
    finally:
        cursor.close()


def _cached_frames_fresh(cursor: duckdb.DuckDBPyConnection, settings: Settings, with_details: bool) -> bool:
    """True when the store holds the frames, made from this data with these settings."""
    names = list(_REPORT_QUERIES) + (list(_DETAIL_QUERIES) if with_details else [])
    tables = {row[0] for row in cursor.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if any(f"cache_{name}" not in tables for name in names):
        return False
    return store.get_meta(cursor, CACHE_KEY) == _cache_key(cursor, settings)


def _cached_frames(cursor: duckdb.DuckDBPyConnection, settings: Settings, with_details: bool) -> dict | None:
    """The cached frames when they are fresh, else None."""
    if not _cached_frames_fresh(cursor, settings, with_details):
        return None
    names = list(_REPORT_QUERIES) + (list(_DETAIL_QUERIES) if with_details else [])
    return {name: _fetch(cursor, f"SELECT * FROM cache_{name}") for name in names}  # constant names


def load_timeline(
    con: duckdb.DuckDBPyConnection, settings: Settings | None = None, *, with_details: bool = True
) -> Timeline:
    """Compute every course, timepoint and per-instrument outcome from the store, once.

    with_details=False is the quarterly report's view: it leaves out what only the dashboard
    shows (every assessment, pre-booster scores). Either view reads the store's cache of
    computed frames when it was made from the same data with the same settings.
    """
    settings = settings or Settings()
    cursor = con.cursor()  # temp tables live and die with this cursor
    try:
        frames = _cached_frames(cursor, settings, with_details)
        if frames is None:
            fragments, parameters = _build(cursor, settings)
            frames = {}
            for name, query in {**_REPORT_QUERIES, **(_DETAIL_QUERIES if with_details else {})}.items():
                sql = query.format(**fragments)
                frames[name] = _fetch(cursor, sql, _used(sql, parameters))
    finally:
        cursor.close()
    assessments = frames.get("assessments", pd.DataFrame())
    boosters = frames.get("boosters", pd.DataFrame())

    last_date = frames["data_end"]["last_date"].iloc[0] if len(frames["data_end"]) else None
    courses = frames["courses"]
    parts = {
        "courses": courses,
        "sessions": frames["sessions"],
        "assessments": assessments,
        "course_outcomes": _add_outcome_flags(frames["course_outcomes"], courses, settings),
        "boosters": boosters,
        "induction_scores": frames["induction_scores"],
    }
    recorded = set(frames["instruments"]["instrument"])
    return Timeline(
        scores=frames["scores"],
        settings=settings,
        data_last_date=None if pd.isna(last_date) else pd.Timestamp(last_date).date(),
        instruments=tuple(code for code in INSTRUMENT_CODES if code in recorded),
        **parts,
        extras={"course_keys": course_keys(parts)},
    )


def _add_outcome_flags(outcomes: pd.DataFrame, courses: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Response, remission and reliable change: each instrument's own rules, vectorised (docs/DEFINITIONS.md)."""
    frame = outcomes.copy()
    baseline = frame["baseline"].astype(float).to_numpy()
    itt_endpoint = frame["itt_endpoint"].astype(float).to_numpy()
    end_of_induction = frame["end_of_induction"].astype(float).to_numpy()
    in_itt = frame["in_itt"].astype(bool).to_numpy()
    completer = frame["completer"].astype(bool).to_numpy()
    reliable = frame["reliable_change"].astype(float).to_numpy()
    itt_response = np.zeros(len(frame), dtype=bool)
    itt_remission = np.zeros(len(frame), dtype=bool)
    completer_response = np.zeros(len(frame), dtype=bool)
    completer_remission = np.zeros(len(frame), dtype=bool)
    below = np.full(len(frame), "", dtype=object)
    instrument = frame["instrument"].to_numpy()
    for code, rules in settings.instrument_rules:
        rows = instrument == code
        if not rows.any():
            continue
        itt_response[rows] = rules.responds(baseline[rows], itt_endpoint[rows])
        itt_remission[rows] = rules.remits(itt_endpoint[rows])
        completer_response[rows] = rules.responds(baseline[rows], end_of_induction[rows])
        completer_remission[rows] = rules.remits(end_of_induction[rows])
        below[rows] = f"baseline below {rules.eligibility_min}"
    frame["itt_response"] = in_itt & itt_response
    frame["itt_remission"] = in_itt & itt_remission
    frame["completer_response"] = completer & completer_response
    frame["completer_remission"] = completer & completer_remission
    frame["reliable_improvement"] = in_itt & (baseline - itt_endpoint >= reliable)
    frame["reliable_deterioration"] = in_itt & (itt_endpoint - baseline >= reliable)
    frame["itt_change"] = np.where(in_itt, itt_endpoint - baseline, np.nan)
    frame = frame.merge(courses[["course_id", "in_progress", "completed_induction"]], on="course_id", how="left")
    frame["exclusion_reason"] = np.select(
        [~frame["has_baseline"].astype(bool), ~frame["eligible"].astype(bool), frame["in_progress"].astype(bool)],
        ["no baseline score", below, "induction still in progress"],
        default="",
    )
    return frame.drop(columns=["in_progress", "completed_induction"])
