"""The access log as the administrator reads it on the Data page: filtered, and downloaded as a formula-safe CSV."""

from __future__ import annotations

import datetime as dt

import pandas as pd

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def filter_log(
    log: pd.DataFrame,
    users: tuple[str, ...] = (),
    actions: tuple[str, ...] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    target: str = "",
) -> pd.DataFrame:
    """The lines of these users and actions between start and end (both days included); empty filters keep all."""
    keep = pd.Series(True, index=log.index)
    if users:
        keep &= log["user_name"].isin(users)
    if actions:
        keep &= log["action"].isin(actions)
    days = pd.to_datetime(log["logged_at"]).dt.date
    if start:
        keep &= days >= start
    if end:
        keep &= days <= end
    if target.strip():
        keep &= log["target"].fillna("").str.contains(target.strip(), case=False, regex=False)
    return log.loc[keep].reset_index(drop=True)


def formula_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading quote; everything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_safe_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV in which no cell can act as a spreadsheet formula."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(formula_safe)
    safe.columns = [formula_safe(str(column)) for column in safe.columns]
    return safe.to_csv(index=False).encode("utf-8")
