"""Questionnaires as data: one record per instrument and the one generic scorer that reads them."""

from analysis.instruments.records import CATALOG, GAD7, PCL5, PHQ9, Band, Instrument, OutcomeRules
from analysis.instruments.scoring import (
    INCOMPLETE,
    INSTRUMENTS,
    ITEM_COLUMNS,
    MAX_ITEMS,
    PRORATED,
    SUMMED,
    SUPPLIED,
    score,
    score_items,
    severity_band,
)

__all__ = [
    "CATALOG",
    "GAD7",
    "INCOMPLETE",
    "INSTRUMENTS",
    "ITEM_COLUMNS",
    "MAX_ITEMS",
    "PCL5",
    "PHQ9",
    "PRORATED",
    "SUMMED",
    "SUPPLIED",
    "Band",
    "Instrument",
    "OutcomeRules",
    "score",
    "score_items",
    "severity_band",
]
