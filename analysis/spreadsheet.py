"""Cells that stay text in Excel: every CSV and XLSX the app or CLI writes goes through here."""

from __future__ import annotations

import pandas as pd

# OWASP's rule for CSV injection: a cell starting with one of these can run as a formula
# (=HYPERLINK, +cmd|..., -2+3, @SUM) when the file is opened in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A text cell that could start a formula, with a leading apostrophe; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and column names) cannot start a formula; numbers stay numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if not (pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column])):
            continue
        # Cell by cell, as objects: Series.map would turn a column of counts and blanks into 40.0.
        safe[column] = pd.Series([neutralised(v) for v in safe[column]], index=safe.index, dtype=safe[column].dtype)
    safe.columns = [neutralised(str(c)) for c in safe.columns]
    return safe


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV text, safe to open in Excel."""
    return safe_frame(frame).to_csv(index=False)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return csv_text(frame).encode("utf-8")
