"""The access log as the administrator reads it on the Data page: filtered by who, what, when and target."""

from __future__ import annotations

import datetime as dt

import pandas as pd


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
