"""The one generic scorer: reads an instrument record, scores one or many administrations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.instruments.records import CATALOG, Instrument

INSTRUMENTS: dict[str, Instrument] = {i.code: i for i in CATALOG}
MAX_ITEMS = max(i.n_items for i in INSTRUMENTS.values())
ITEM_COLUMNS = tuple(f"item_{k}" for k in range(1, MAX_ITEMS + 1))

# How a total was obtained, stored with every assessment.
SUMMED, PRORATED, SUPPLIED, INCOMPLETE = "summed", "prorated", "supplied", "incomplete"


def round_half_up_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """round_half_up(numerator / denominator) in exact integer arithmetic (no float ties)."""
    return (2 * numerator + denominator) // (2 * denominator)


def score_items(instrument: Instrument, items: np.ndarray, supplied_total: np.ndarray) -> dict[str, np.ndarray]:
    """Score many administrations at once.

    items: int array (rows x n_items) with -1 for a missing answer, values already range-checked.
    supplied_total: int array with -1 where no total was given.
    Returns total (-1 when none), method, mismatch (a supplied total that disagrees with
    complete items: an error for that row), the number of answered items and their sum.
    With items incomplete a supplied total in range is used as written (docs/DEFINITIONS.md).
    """
    answered = items >= 0
    n_answered = answered.sum(axis=1)
    item_sum = np.where(answered, items, 0).sum(axis=1)
    n_missing = instrument.n_items - n_answered
    has_total = supplied_total >= 0
    complete = n_missing == 0
    proratable = (n_missing > 0) & (n_missing <= instrument.max_missing_for_prorating)

    safe_answered = np.maximum(n_answered, 1)
    prorated = round_half_up_ratio(item_sum * instrument.n_items, safe_answered)

    total = np.full(len(items), -1, dtype=np.int64)
    method = np.full(len(items), INCOMPLETE, dtype=object)

    total = np.where(complete, item_sum, total)
    method = np.where(complete, SUMMED, method)
    # With items incomplete, a supplied total in range is used (docs/DEFINITIONS.md).
    use_supplied = ~complete & has_total
    total = np.where(use_supplied, supplied_total, total)
    method = np.where(use_supplied, SUPPLIED, method)
    use_prorated = proratable & ~has_total
    total = np.where(use_prorated, prorated, total)
    method = np.where(use_prorated, PRORATED, method)

    mismatch = complete & has_total & (supplied_total != item_sum)
    return {"total": total, "method": method, "mismatch": mismatch, "n_answered": n_answered, "item_sum": item_sum}


def _is_whole(value: object) -> bool:
    """An answer or total must be a whole number: 2 or 2.0, never 2.5, True or '2'."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return float(value).is_integer()


def score(
    instrument: Instrument | str, items: Sequence[int | None] | None = None, total: int | None = None
) -> tuple[int | None, str]:
    """Score one administration: (total or None, how it was obtained).

    Raises ValueError for an unknown instrument, an item or total that is not a whole number
    in range, or a total that disagrees with complete items.
    """
    if isinstance(instrument, str):
        if instrument not in INSTRUMENTS:
            raise ValueError(f"unknown instrument {instrument!r}; use one of {', '.join(INSTRUMENTS)}")
        instrument = INSTRUMENTS[instrument]
    answers = list(items or [])
    if len(answers) > instrument.n_items:
        raise ValueError(f"{instrument.code} has {instrument.n_items} items, got {len(answers)}")
    answers += [None] * (instrument.n_items - len(answers))
    for k, answer in enumerate(answers, start=1):
        if answer is not None and (not _is_whole(answer) or not (instrument.item_min <= answer <= instrument.item_max)):
            raise ValueError(
                f"{instrument.code} item {k} must be {instrument.item_min}-{instrument.item_max}, got {answer}"
            )
    if total is not None and (not _is_whole(total) or not (0 <= total <= instrument.total_max)):
        raise ValueError(f"{instrument.code} total must be 0-{instrument.total_max}, got {total}")
    if total is None and all(a is None for a in answers):
        raise ValueError(f"{instrument.code} needs item answers or a total")
    result = score_items(
        instrument,
        np.array([[-1 if a is None else a for a in answers]], dtype=np.int64),
        np.array([-1 if total is None else total], dtype=np.int64),
    )
    if result["mismatch"][0]:
        raise ValueError(f"{instrument.code} total {total} does not equal the sum of its items")
    value = int(result["total"][0])
    return (None if value < 0 else value), str(result["method"][0])


def severity_band(instrument: Instrument | str, total: int | None) -> str | None:
    if isinstance(instrument, str):
        instrument = INSTRUMENTS[instrument]
    return instrument.band(total)
