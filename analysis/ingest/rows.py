"""Each kind of table checked row by row (in whole columns) and its scores computed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.ingest.checks import AGE_BAND_ALIASES, CONDITION_ALIASES, INSTRUMENT_ALIASES, SEX_ALIASES, Checker
from analysis.ingest.headers import ITEM_COLUMNS, modality_for
from analysis.ingest.problems import Refusal, problems_from
from analysis.instruments import INSTRUMENTS, MAX_ITEMS, Instrument, score_items
from analysis.vocabulary import AGE_BANDS

MODALITY_REASON = (
    "is not a known modality, or does not say how the ketamine was given; use ketamine_im, ketamine_iv, "
    "ketamine_oral or esketamine_nasal (IM, IV, oral/SL/troche, Spravato; a dose may follow, as in 'Spravato 84mg')."
)


def _score_block(
    check: Checker, instrument_code: np.ndarray, item_columns: Sequence[str], total_column: str
) -> pd.DataFrame:
    """Validate and score item and total columns for rows whose instrument is given."""
    n = check.n
    instrument_code = pd.Series(instrument_code, dtype="str").reset_index(drop=True)
    items = np.full((n, MAX_ITEMS), -1, dtype=np.int64)

    # Each row's answers and total are checked against its own instrument's ranges; a row whose
    # instrument is unknown (already a problem) is read in the widest range any instrument allows.
    def per_row(value: Callable[[Instrument], int], widest: int) -> np.ndarray:
        return (
            instrument_code.map({code: value(i) for code, i in INSTRUMENTS.items()}).fillna(widest).to_numpy(np.int64)
        )

    item_low = per_row(lambda i: i.item_min, min(i.item_min for i in INSTRUMENTS.values()))
    item_high = per_row(lambda i: i.item_max, max(i.item_max for i in INSTRUMENTS.values()))
    total_high = per_row(lambda i: i.total_max, max(i.total_max for i in INSTRUMENTS.values()))
    named = (instrument_code.fillna("") + " ").str.lstrip().to_numpy(dtype=object)
    for k, column in enumerate(item_columns):
        if column:
            items[:, k] = check.integers_in(column, item_low, item_high, named + "item answer")
    totals = check.integers_in(total_column, np.zeros(n, dtype=np.int64), total_high, named + "total")
    total = np.full(n, -1, dtype=np.int64)
    method = np.full(n, "incomplete", dtype=object)
    answered = np.zeros(n, dtype=np.int64)
    for code, instrument in INSTRUMENTS.items():
        rows = (instrument_code == code).to_numpy(dtype=bool, na_value=False)
        if not rows.any():
            continue
        for k in range(instrument.n_items, MAX_ITEMS):
            column = item_columns[k]
            if column:
                check.flag(
                    rows & (items[:, k] >= 0),
                    column,
                    check.frame[column] if column in check.frame else "",
                    f"is in {column}, but {code} has only {instrument.n_items} items; leave {column} blank.",
                )
        scored = score_items(instrument, items[rows, : instrument.n_items], totals[rows])
        total[rows] = scored["total"]
        method[rows] = scored["method"]
        answered[rows] = scored["n_answered"]
        where = np.flatnonzero(rows)
        sums = scored["item_sum"]
        wrong = scored["mismatch"]
        if wrong.any():
            mask = np.zeros(n, dtype=bool)
            mask[where[wrong]] = True
            # One reason per row of the table (flag picks the wrong ones by mask).
            reasons = np.full(n, "", dtype=object)
            reasons[where[wrong]] = [
                f"does not equal the sum of the item answers ({s}); correct the total or the items."
                for s in sums[wrong]
            ]
            check.flag(mask, total_column, check.frame[total_column], reasons)
    written = check.given(total_column)
    for column in item_columns:
        if column:
            written |= check.given(column)
    empty = instrument_code.notna().to_numpy(dtype=bool) & ~written
    check.flag(empty, total_column, "", "this assessment has neither item answers nor a total.")
    result = pd.DataFrame({"instrument": instrument_code, "total": total, "method": method, "items_answered": answered})
    for k in range(MAX_ITEMS):
        result[f"item_{k + 1}"] = items[:, k]
    return result


def validate_table(
    kind: str,
    label: str,
    frame: pd.DataFrame,
    today: dt.date,
    *,
    date_order: str = "month",
    date_format: str | None = None,
) -> dict[str, pd.DataFrame]:
    """The table's rows as store rows per kind, plus "problems"; check.notes say how dates were read."""
    check = Checker(label, frame, today, date_order=date_order, date_format=date_format)
    check.identifying_values()
    identifying = check.problems()
    if len(identifying):
        raise Refusal(problems_from(identifying.assign(value=None)))
    out: dict[str, pd.DataFrame] = {}
    origin = {"_file": label, "_row": check.rows}
    patient_id = check.pseudonym("patient_id", required=True)

    if kind in ("patients", "session_log"):
        attributes = pd.DataFrame(
            {
                "patient_id": patient_id,
                "age_band": check.mapped(
                    "age_band",
                    AGE_BAND_ALIASES,
                    f"is not an age band; use one of {', '.join(AGE_BANDS)}.",
                    required=False,
                ),
                "sex": check.mapped("sex", SEX_ALIASES, "is not a recorded sex; use F, M, X or U.", required=False),
                "primary_condition": check.mapped(
                    "primary_condition",
                    CONDITION_ALIASES,
                    "is not on the list of conditions; use MDD, TRD, PTSD, GAD, bipolar depression, OCD or other.",
                    required=False,
                ),
                "site": check.pseudonym("site", required=False),
                "clinician_id": check.pseudonym("clinician_id", required=False),
                **origin,
            }
        )
        if kind == "session_log":
            # Site and clinician belong to each session there, not to the patient.
            has_attributes = attributes[["age_band", "sex", "primary_condition"]].notna().any(axis=1)
            attributes = attributes.loc[has_attributes].assign(site=None, clinician_id=None)
        out["patients"] = attributes

    if kind in ("sessions", "session_log"):
        session_date = check.dates("session_date")
        modality = check.mapped("modality", modality_for, MODALITY_REASON, required=(kind == "sessions"))
        sessions = pd.DataFrame(
            {
                "patient_id": patient_id,
                "session_date": session_date,
                "modality": modality,
                "dose_mg": check.dose("dose_mg"),
                "site": check.pseudonym("site", required=False),
                "clinician_id": check.pseudonym("clinician_id", required=False),
                **origin,
            }
        )
        if kind == "session_log":
            has_modality = check.given("modality")
            check.flag(
                ~has_modality & check.given("dose_mg"),
                "dose_mg",
                check.frame["dose_mg"] if "dose_mg" in frame else "",
                "a dose needs a modality on the same row.",
            )
            sessions = sessions.loc[has_modality]
        out["sessions"] = sessions

    if kind == "assessments":
        instrument = check.mapped(
            "instrument", INSTRUMENT_ALIASES, f"is not a known instrument; use {', '.join(INSTRUMENTS)}.", required=True
        )
        scored = _score_block(check, instrument, ITEM_COLUMNS, "total")
        out["assessments"] = scored.assign(
            patient_id=patient_id, assessment_date=check.dates("assessment_date"), _total_column="total", **origin
        )

    if kind == "session_log":
        blocks = []
        any_score = np.zeros(check.n, dtype=bool)
        for code, instrument in INSTRUMENTS.items():
            prefix = instrument.log_prefix
            item_columns = [f"{prefix}_item_{k}" if k <= instrument.n_items else "" for k in range(1, MAX_ITEMS + 1)]
            has_score = np.zeros(check.n, dtype=bool)
            for column in [c for c in item_columns if c] + [f"{prefix}_total"]:
                has_score |= check.given(column)
            any_score |= has_score
            scored = _score_block(check, np.where(has_score, code, None), item_columns, f"{prefix}_total")
            # Each score is a pre-session measure, dated the day of the session.
            scored = scored.assign(
                patient_id=patient_id, assessment_date=session_date, _total_column=f"{prefix}_total", **origin
            )
            blocks.append(scored.loc[has_score])
        out["assessments"] = pd.concat(blocks, ignore_index=True)
        nothing = ~check.given("modality") & ~any_score
        check.flag(
            nothing, "modality", "", "this row has neither a modality (a session) nor any score (an assessment)."
        )

    out["problems"] = check.problems()
    out["notes"] = pd.DataFrame({"note": check.notes}, dtype=object)
    return out
