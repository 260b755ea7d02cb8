"""Exports as EHRs write them, with no mapping: US and European dates, modality words inside longer
values, a score log without a modality column, and an MRN as the patient key only through pseudonyms.

Every expected date and modality below was worked out by hand from the cell as written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_importer import TODAY, csv, held, only_problem, run

from analysis import store
from analysis.ingest.headers import modality_for
from analysis.ingest.pseudonyms import ClinicKey
from analysis.settings import SettingsError, load_settings

KEY = ClinicKey(bytes.fromhex("11" * 32), "test key")


@pytest.fixture
def con():
    connection = store.connect_memory()
    yield connection
    connection.close()


def session_dates(con) -> list[dt.date]:
    return [row[1] for row in held(con)["sessions"]]


# ---------------------------------------------------------------------------
# Dates


def test_us_dates_are_read_month_first_when_a_second_field_above_12_says_so(con):
    """03/14/2026 can only be 14 March; so 04/03/2026 in the same column is 3 April."""
    result = run(con, ("v.csv", csv("patient_id,session_date,modality\nK-1,03/14/2026,IV\nK-1,04/03/2026,IV\n")))
    assert result.ok, [p.sentence() for p in result.problems]
    assert session_dates(con) == [dt.date(2026, 3, 14), dt.date(2026, 4, 3)]
    assert result.files[0].notes == ["session_date read as MM/DD/YYYY (told by dates such as 03/14/2026)."]
    assert "session_date read as MM/DD/YYYY" in result.summary_line()


def test_european_dates_are_read_day_first_when_a_first_field_above_12_says_so(con):
    """14/03/2026 can only be 14 March; so 04/03/2026 in the same column is 4 March."""
    result = run(con, ("v.csv", csv("patient_id,session_date,modality\nK-1,14/03/2026,IV\nK-1,04/03/2026,IV\n")))
    assert result.ok, [p.sentence() for p in result.problems]
    assert session_dates(con) == [dt.date(2026, 3, 4), dt.date(2026, 3, 14)]
    assert result.files[0].notes == ["session_date read as DD/MM/YYYY (told by dates such as 14/03/2026)."]


@pytest.mark.parametrize(("order", "expected"), [("month", dt.date(2026, 4, 3)), ("day", dt.date(2026, 3, 4))])
def test_a_column_that_cannot_tell_follows_the_date_order_setting_and_says_so(con, order, expected):
    result = run(con, ("v.csv", csv("patient_id,session_date,modality\nK-1,04/03/2026,IV\n")), date_order=order)
    assert result.ok
    assert session_dates(con) == [expected]
    written = "MM/DD/YYYY" if order == "month" else "DD/MM/YYYY"
    assert result.files[0].notes == [f"session_date read as {written} (the clinic's date_order setting)."]


def test_two_digit_years_times_and_dots_are_read(con):
    """06/20/25 is 2025 (this century); 12/31/99 would be 2099, in the future, so it is 1999."""
    rows = "patient_id,session_date,modality\nK-1,06/20/25,IV\nK-1,12/31/99,IV\nK-1,1/2/2026 9:30 AM,IV\nK-1,02.03.2026,IV\n"
    result = run(con, ("v.csv", rows.encode()))
    assert result.ok, [p.sentence() for p in result.problems]
    assert session_dates(con) == [dt.date(1999, 12, 31), dt.date(2025, 6, 20), dt.date(2026, 1, 2), dt.date(2026, 2, 3)]


def test_a_column_mixing_both_orders_names_the_cell_that_does_not_fit(con):
    result = run(con, ("v.csv", csv("patient_id,session_date,modality\nK-1,03/14/2026,IV\nK-2,14/03/2026,IV\n")))
    problem = only_problem(result)
    assert (problem.row, problem.column, problem.value) == (3, "session_date", "14/03/2026")
    assert "not a real calendar date when read as MM/DD/YYYY" in problem.reason
    assert "mixes both orders" in problem.reason
    assert held(con) == {"sessions": [], "assessments": []}


def test_the_date_order_setting_lives_in_an_import_section(tmp_path: Path):
    path = tmp_path / "clinic.toml"
    path.write_text('[import]\ndate_order = "day"\n')
    assert load_settings(path).date_order == "day"
    path.write_text('[import]\ndate_order = "dmy"\n')
    with pytest.raises(SettingsError, match='date_order must be "month" or "day"'):
        load_settings(path)


# ---------------------------------------------------------------------------
# Modality words


MODALITY_WORDS = {
    "Spravato 84mg": "esketamine_nasal",
    "Spravato 84 mg": "esketamine_nasal",
    "Ketamine IM 0.5 mg/kg": "ketamine_im",
    "IV infusion": "ketamine_iv",
    "Ketamine IV 0.75mg/kg": "ketamine_iv",
    "ketamine troche 200 mg": "ketamine_oral",
    "Esketamine 56 mg nasal spray": "esketamine_nasal",
}


@pytest.mark.parametrize(("cell", "modality"), MODALITY_WORDS.items())
def test_the_modality_is_found_by_its_words_inside_a_longer_value(cell, modality):
    assert modality_for(cell) == modality


def test_a_value_whose_route_cannot_be_told_is_refused_naming_it(con):
    rows = "patient_id,session_date,modality\nK-1,2026-01-05,Spravato 84mg\nK-1,2026-01-06,Ketamine 50mg\n"
    problem = only_problem(run(con, ("v.csv", rows.encode())))
    assert (problem.row, problem.column, problem.value) == (3, "modality", "Ketamine 50mg")
    assert "does not say how the ketamine was given" in problem.reason
    assert "'Ketamine 50mg'" in problem.sentence()


# ---------------------------------------------------------------------------
# A score log without a modality column


def test_a_log_of_scores_without_a_modality_column_is_a_file_of_assessments(con):
    """The issue's file: one row per date with PHQ9 Score and GAD7 Score, US dates."""
    rows = "Client ID,Date,PHQ9 Score,GAD7 Score\nC-1,06/20/2025,14,9\nC-1,07/20/2025,10,\n"
    result = run(con, ("scores.csv", rows.encode()))
    assert result.ok, [p.sentence() for p in result.problems]
    stored = [(a[0], a[1], a[2], a[4]) for a in held(con)["assessments"]]
    assert stored == [
        ("C-1", dt.date(2025, 6, 20), "GAD-7", 9),
        ("C-1", dt.date(2025, 6, 20), "PHQ-9", 14),
        ("C-1", dt.date(2025, 7, 20), "PHQ-9", 10),
    ]
    assert held(con)["sessions"] == []
    # Two rows read, both added (a row with two scores is one row, not two).
    assert (result.files[0].rows_read, result.added, result.merged) == (2, 2, 0)


def test_a_score_log_dated_by_an_assessment_date_column_is_read_the_same(con):
    rows = "patient_id,assessment_date,phq9_total\nK-1,2026-01-05,12\n"
    assert run(con, ("scores.csv", rows.encode())).ok
    assert [(a[1], a[2], a[4]) for a in held(con)["assessments"]] == [(dt.date(2026, 1, 5), "PHQ-9", 12)]


# ---------------------------------------------------------------------------
# MRN as the patient key


VISITS = csv("""
    MRN,Date of Service,Service
    004521,03/14/2026,Spravato 84mg
    004521,03/17/2026,Spravato 84mg
    004533,03/16/2026,Ketamine IM 0.5 mg/kg
""")


def test_an_mrn_without_pseudonyms_is_refused_saying_how_to_use_it(con):
    problem = only_problem(run(con, ("visits.csv", VISITS)))
    assert problem.column == "MRN"
    assert "--pseudonymize" in problem.reason
    assert "no patient_id besides MRN" in problem.reason
    assert "--drop-columns" not in problem.reason  # dropping it would leave no patient key


def test_an_mrn_through_pseudonyms_is_the_patient_key_and_never_stored(con):
    result = run(con, ("visits.csv", VISITS), pseudonym_key=KEY)
    assert result.ok, [p.sentence() for p in result.problems]
    sessions = held(con)["sessions"]
    assert [(s[0], s[1], s[2]) for s in sessions] == sorted(
        [
            (KEY.pseudonym("004521"), dt.date(2026, 3, 14), "esketamine_nasal"),
            (KEY.pseudonym("004521"), dt.date(2026, 3, 17), "esketamine_nasal"),
            (KEY.pseudonym("004533"), dt.date(2026, 3, 16), "ketamine_im"),
        ]
    )
    assert KEY.pseudonym("004521") != KEY.pseudonym("004533")


def test_an_mrn_beside_a_client_id_must_still_be_dropped(con):
    rows = "Client ID,MRN,Date of Service,Service\nC-1,004521,2026-03-14,IV\n"
    problem = only_problem(run(con, ("visits.csv", rows.encode()), pseudonym_key=KEY))
    assert problem.column == "MRN"
    assert "--drop-columns MRN" in problem.reason


def test_today_stays_the_reference_for_future_dates_written_the_us_way(con):
    tomorrow = TODAY + dt.timedelta(days=1)
    rows = f"patient_id,session_date,modality\nK-1,{tomorrow:%m/%d/%Y},IV\n"
    problem = only_problem(run(con, ("v.csv", rows.encode())))
    assert "in the future" in problem.reason


def test_a_wrong_total_among_right_ones_names_its_row(con):
    """Regression: a mismatch in one row of several crashed the importer (IndexError) instead of naming it."""
    header = "patient_id,assessment_date,instrument," + ",".join(f"item_{k}" for k in range(1, 10)) + ",total\n"
    rows = header + "K-1,2026-01-05,PHQ-9,1,1,1,1,1,1,1,1,1,9\nK-1,2026-01-06,PHQ-9,1,1,1,1,1,1,1,1,1,10\n"
    problem = only_problem(run(con, ("a.csv", rows.encode())))
    assert (problem.row, problem.column, problem.value) == (3, "total", "10")
    assert "does not equal the sum of the item answers (9)" in problem.reason


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    days=st.lists(st.dates(dt.date(2000, 1, 1), TODAY), min_size=1, max_size=8, unique=True),
    written=st.sampled_from(["month", "day"]),
    setting=st.sampled_from(["month", "day"]),
    two_digit=st.booleans(),
)
def test_slashed_dates_read_back_as_written_whenever_the_column_can_tell(days, written, setting, two_digit):
    """Any dates written MM/DD or DD/MM: read back exactly when some day is above 12, else as the setting says."""
    year = "%y" if two_digit else "%Y"
    pattern = f"%m/%d/{year}" if written == "month" else f"%d/%m/{year}"
    rows = "patient_id,session_date,modality\n" + "".join(f"K-1,{d.strftime(pattern)},IV\n" for d in days)
    con = store.connect_memory()
    result = run(con, ("v.csv", rows.encode()), date_order=setting)
    tells = any(d.day > 12 and d.day != d.month for d in days)
    if tells or written == setting or all(d.day == d.month for d in days):
        assert result.ok, [p.sentence() for p in result.problems]
        assert session_dates(con) == sorted(days)
    else:
        # The column cannot tell and the setting is wrong: read the other way (or refused where impossible).
        expected = sorted(d.replace(month=d.day, day=d.month) for d in days) if result.ok else []
        assert session_dates(con) == expected
    con.close()
