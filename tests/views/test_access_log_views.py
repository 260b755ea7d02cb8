"""The access log as the administrator filters and downloads it: the filters and the formula-safe CSV."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analysis import spreadsheet
from analysis.views import access_log as access_log_views

LOG = pd.DataFrame(
    {
        "logged_at": pd.to_datetime(["2026-11-03 10:00", "2026-11-02 09:05", "2026-11-01 08:00"]),
        "user_name": ["dr@clinic.example", "dr@clinic.example", "ops@clinic.example"],
        "role": ["clinician", "clinician", "admin"],
        "action": ["viewed patient", "sign-in", "imported files"],
        "target": ["P00012", None, '=HYPERLINK("http://x")'],
        "detail": [None, None, "-3 rows"],
    }
)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-3 rows", "'-3 rows"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("P00012", "P00012"),
        ("viewed patient", "viewed patient"),
        ("", ""),
        (None, None),
        (5, 5),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(value, safe):
    assert spreadsheet.neutralised(value) == safe


def test_the_downloaded_csv_holds_no_cell_starting_like_a_formula():
    text = spreadsheet.csv_bytes(LOG).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "logged_at,user_name,role,action,target,detail"
    assert (
        lines[3] == '2026-11-01 08:00:00,ops@clinic.example,admin,imported files,"\'=HYPERLINK(""http://x"")",\'-3 rows'
    )


def test_filters_by_who_what_when_and_target():
    assert len(access_log_views.filter_log(LOG)) == 3
    assert access_log_views.filter_log(LOG, users=("dr@clinic.example",))["action"].tolist() == [
        "viewed patient",
        "sign-in",
    ]
    assert access_log_views.filter_log(LOG, actions=("imported files",))["user_name"].tolist() == ["ops@clinic.example"]
    days = access_log_views.filter_log(LOG, start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 2))
    assert days["action"].tolist() == ["sign-in"]
    assert access_log_views.filter_log(LOG, target="p0001")["target"].tolist() == ["P00012"]
