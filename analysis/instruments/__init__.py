"""Questionnaires as data: one record per instrument and the one generic scorer that reads them."""

from analysis.instruments.scoring import (
    GAD7,
    INCOMPLETE,
    INSTRUMENTS,
    ITEM_COLUMNS,
    MAX_ITEMS,
    PHQ9,
    PRORATED,
    SUMMED,
    SUPPLIED,
    Band,
    Instrument,
    score,
    score_items,
    severity_band,
)

__all__ = [
    "GAD7",
    "INCOMPLETE",
    "INSTRUMENTS",
    "ITEM_COLUMNS",
    "MAX_ITEMS",
    "PHQ9",
    "PRORATED",
    "SUMMED",
    "SUPPLIED",
    "Band",
    "Instrument",
    "score",
    "score_items",
    "severity_band",
]
