"""The synthetic clinic: deterministic, plausible, and written in both import layouts."""

import datetime
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from paths import REPO

from analysis.demo import clinic as demo

END_DATE = datetime.date(2026, 10, 31)
DATA = REPO / "data"
EXAMPLE_CSVS = (
    "layout_a_patients.csv",
    "layout_a_sessions.csv",
    "layout_a_assessments.csv",
    "layout_b_session_log.csv",
)
PSEUDONYM = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@pytest.fixture(scope="module")
def clinic():
    return demo.generate_clinic(400, seed=7, end_date=END_DATE)


def _courses(sessions: pd.DataFrame) -> pd.DataFrame:
    """Sessions numbered within courses (a new course after a gap of more than 90 days)."""
    sessions = sessions.assign(date=pd.to_datetime(sessions["session_date"]))
    gap_days = sessions.groupby("patient_id")["date"].diff().dt.days
    course = (gap_days.isna() | (gap_days > 90)).cumsum()
    return sessions.assign(course=course, session_number=sessions.groupby(course).cumcount() + 1)


def test_same_seed_gives_identical_frames():
    first = demo.generate_clinic(60, seed=3, end_date=END_DATE)
    again = demo.generate_clinic(60, seed=3, end_date=END_DATE)
    for name in ("patients", "sessions", "assessments"):
        pd.testing.assert_frame_equal(first[name], again[name])


def test_different_seed_gives_a_different_clinic():
    first = demo.generate_clinic(60, seed=3, end_date=END_DATE)
    other = demo.generate_clinic(60, seed=4, end_date=END_DATE)
    assert not first["sessions"].equals(other["sessions"])
    assert not first["assessments"].equals(other["assessments"])


def test_columns_are_exactly_layout_a(clinic):
    assert list(clinic["patients"].columns) == [
        "patient_id",
        "age_band",
        "sex",
        "primary_condition",
        "site",
        "clinician_id",
    ]
    assert list(clinic["sessions"].columns) == [
        "patient_id",
        "session_date",
        "modality",
        "dose_mg",
        "site",
        "clinician_id",
    ]
    assert list(clinic["assessments"].columns) == [
        "patient_id",
        "assessment_date",
        "instrument",
        *(f"item_{k}" for k in range(1, 21)),  # PCL-5 has 20 items
        "total",
    ]
    for column in [*(f"item_{k}" for k in range(1, 21)), "total"]:
        assert clinic["assessments"][column].dtype == "Int64"


def test_no_date_after_end_date_and_data_reaches_it(clinic):
    last_session = clinic["sessions"]["session_date"].max()
    last_assessment = clinic["assessments"]["assessment_date"].max()
    assert last_session <= "2026-10-31" and last_assessment <= "2026-10-31"
    # About two years of data that runs right up to the end date.
    assert last_session >= "2026-10-17"
    assert clinic["sessions"]["session_date"].min() <= "2024-11-30"


def test_default_end_date_is_today():
    today = datetime.date.today().isoformat()
    small = demo.generate_clinic(30, seed=5)
    assert small["sessions"]["session_date"].max() <= today
    assert small["assessments"]["assessment_date"].max() <= today


def test_dates_are_iso_strings(clinic):
    for name, column in (("sessions", "session_date"), ("assessments", "assessment_date")):
        assert clinic[name][column].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_every_modality_is_present(clinic):
    assert set(clinic["sessions"]["modality"]) == set(demo.MODALITIES)


def test_pseudonyms_and_categories_follow_the_import_rules(clinic):
    patients = clinic["patients"]
    assert patients["patient_id"].str.match(PSEUDONYM).all()
    assert patients["patient_id"].is_unique
    assert patients.loc[0, "patient_id"] == "P00001"
    assert set(patients["site"]) == {"SITE-NORTH", "SITE-SOUTH"}
    assert set(patients["clinician_id"]) == {f"CLN-{k:02d}" for k in range(1, 7)}
    assert set(patients["age_band"]) <= {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert set(patients["sex"]) <= {"F", "M", "X", "U"}
    assert patients["sex"].isin(["F", "M"]).mean() > 0.9
    conditions = patients["primary_condition"].value_counts()
    assert set(conditions.index) <= {"MDD", "TRD", "PTSD", "GAD", "bipolar depression", "OCD", "other"}
    assert set(conditions.index[:2]) == {"TRD", "MDD"}


def test_each_clinician_works_mostly_at_one_site(clinic):
    share_at_main_site = pd.crosstab(clinic["sessions"]["clinician_id"], clinic["sessions"]["site"], normalize="index")
    assert (share_at_main_site.max(axis=1) > 0.8).all()


def test_items_are_0_to_3_and_gad7_leaves_items_8_and_9_blank(clinic):
    assert set(clinic["assessments"]["instrument"]) == {"PHQ-9", "GAD-7", "PCL-5"}
    assessments = clinic["assessments"].loc[clinic["assessments"]["instrument"] != "PCL-5"]
    items = assessments[[f"item_{k}" for k in range(1, 10)]]
    answered = items.stack()
    assert answered.between(0, 3).all()
    gad7 = assessments["instrument"] == "GAD-7"
    assert items.loc[gad7, ["item_8", "item_9"]].isna().all().all()
    assert assessments[[f"item_{k}" for k in range(10, 21)]].isna().all().all()


def test_supplied_totals_never_disagree_with_complete_items(clinic):
    assessments = clinic["assessments"]
    for instrument, n_items in (("PHQ-9", 9), ("GAD-7", 7)):
        rows = assessments[assessments["instrument"] == instrument]
        items = rows[[f"item_{k}" for k in range(1, n_items + 1)]]
        complete = items.notna().all(axis=1)
        both = complete & rows["total"].notna()
        assert (items[both].sum(axis=1) == rows.loc[both, "total"]).all()
        assert rows.loc[rows["total"].notna(), "total"].between(0, 3 * n_items).all()


def test_a_few_rows_are_total_only_or_miss_one_item(clinic):
    assessments = clinic["assessments"].loc[clinic["assessments"]["instrument"] != "PCL-5"]
    n_missing = assessments[[f"item_{k}" for k in range(1, 10)]].isna().sum(axis=1)
    n_missing -= (assessments["instrument"] == "GAD-7") * 2
    total_only = (n_missing == 9 - (assessments["instrument"] == "GAD-7") * 2) & assessments["total"].notna()
    one_missing = (n_missing == 1) & assessments["total"].isna()
    assert 0.015 < total_only.mean() < 0.05
    assert 0.01 < one_missing.mean() < 0.035
    # Every row can be scored: items or a total.
    assert (total_only | (n_missing <= 1)).all()


def test_self_harm_item_tracks_severity(clinic):
    phq9 = clinic["assessments"]
    phq9 = phq9[(phq9["instrument"] == "PHQ-9") & phq9["item_9"].notna()]
    total = phq9[[f"item_{k}" for k in range(1, 10)]].sum(axis=1)
    flagged = phq9["item_9"] >= 1
    assert flagged[total >= 15].mean() > 3 * flagged[total < 10].mean()


def test_esketamine_inductions_are_twice_weekly(clinic):
    sessions = _courses(clinic["sessions"])
    first_modality = sessions.groupby("course")["modality"].transform("first")
    induction = sessions[(first_modality == "esketamine_nasal") & (sessions["session_number"] <= 8)]
    gaps = induction.groupby("course")["date"].diff().dt.days.dropna()
    assert gaps.between(2, 5).all()
    assert 3.3 <= gaps.mean() <= 3.7
    complete = induction.groupby("course").filter(lambda course: len(course) == 8)
    span_days = complete.groupby("course")["date"].agg(lambda dates: (dates.max() - dates.min()).days)
    assert len(span_days) > 20
    assert span_days.between(20, 30).all()


def test_ketamine_inductions_are_six_sessions_over_two_to_three_weeks(clinic):
    sessions = _courses(clinic["sessions"])
    first_modality = sessions.groupby("course")["modality"].transform("first")
    induction = sessions[first_modality.str.startswith("ketamine") & (sessions["session_number"] <= 6)]
    complete = induction.groupby("course").filter(lambda course: len(course) == 6)
    span_days = complete.groupby("course")["date"].agg(lambda dates: (dates.max() - dates.min()).days)
    assert 14 <= span_days.median() <= 21
    assert span_days.between(10, 25).all()


def test_doses_are_plausible_for_each_modality(clinic):
    dose = clinic["sessions"].groupby("modality")["dose_mg"]
    assert (dose.min() > 0).all()
    assert set(clinic["sessions"].loc[clinic["sessions"]["modality"] == "esketamine_nasal", "dose_mg"]) == {56, 84}
    assert dose.min()["ketamine_im"] >= 35 and dose.max()["ketamine_im"] <= 90
    assert dose.min()["ketamine_iv"] >= 40 and dose.max()["ketamine_iv"] <= 100
    assert dose.min()["ketamine_oral"] >= 150 and dose.max()["ketamine_oral"] <= 300


def test_courses_look_like_a_real_clinic(clinic):
    sessions = _courses(clinic["sessions"])
    sessions_per_course = sessions.groupby("course").size()
    assert 0.12 < (sessions_per_course == 1).mean() < 0.28
    # Boosters roughly monthly, and some patients come back for a second course.
    first_modality = sessions.groupby("course")["modality"].transform("first")
    induction_length = np.where(first_modality == "esketamine_nasal", 8, 6)
    booster_interval_days = (
        sessions.groupby("course")["date"].diff().dt.days[sessions["session_number"] > induction_length]
    )
    assert 25 <= booster_interval_days.median() <= 40
    assert booster_interval_days.between(14, 70).all()
    second_course_share = (sessions.groupby("patient_id")["course"].nunique() > 1).mean()
    assert 0.03 < second_course_share < 0.15
    # Every quarter has new courses.
    starts = pd.to_datetime(sessions.loc[sessions["session_number"] == 1, "session_date"])
    assert starts.dt.to_period("Q").nunique() == 9


def test_session_log_puts_assessment_only_days_on_rows_without_modality(clinic):
    log = demo.session_log_frame(clinic["sessions"], clinic["assessments"])
    assert list(log.columns) == demo.SESSION_LOG_COLUMNS
    assert log["modality"].notna().sum() == len(clinic["sessions"])
    days = clinic["assessments"][["patient_id", "assessment_date"]].drop_duplicates()
    assert len(log) == len(
        pd.concat(
            [
                clinic["sessions"][["patient_id", "session_date"]],
                days.rename(columns={"assessment_date": "session_date"}),
            ]
        ).drop_duplicates()
    )
    assessment_only = log[log["modality"].isna()]
    scores = assessment_only[["phq9_total", "gad7_total", "phq9_item_1", "gad7_item_1"]]
    assert scores.notna().any(axis=1).all()


def test_committed_examples_match_the_generator():
    """The example exports are the first 40 patients of seed 7 ending 2026-10-31."""
    tables = demo.example_tables(demo.generate_clinic(400, seed=7, end_date=END_DATE))
    assert sorted(f"{stem}.csv" for stem in tables) == sorted(EXAMPLE_CSVS)
    for stem, frame in tables.items():
        committed = (DATA / "examples" / f"{stem}.csv").read_text()
        assert committed == frame.to_csv(index=False, lineterminator="\n"), stem
    assert tables["layout_a_patients"]["patient_id"].tolist() == [f"P{k:05d}" for k in range(1, 41)]
    assert set(tables["layout_a_sessions"]["modality"]) == set(demo.MODALITIES)


def test_write_examples_writes_both_layouts(tmp_path):
    written = demo.write_examples(demo.generate_clinic(20, seed=7, end_date=END_DATE), tmp_path, n_patients=3)
    assert [path.name for path in written] == [
        *EXAMPLE_CSVS[:3],
        "layout_b_session_log.csv",
        "layout_a_clinic.xlsx",
        "layout_b_session_log.xlsx",
    ]
    assert all(path.parent == tmp_path and path.stat().st_size > 0 for path in written)
    assert pd.read_csv(tmp_path / "layout_a_patients.csv")["patient_id"].tolist() == ["P00001", "P00002", "P00003"]


def test_example_files_have_layout_headers():
    expected = {
        "layout_a_patients.csv": demo.PATIENT_COLUMNS,
        "layout_a_sessions.csv": demo.SESSION_COLUMNS,
        "layout_a_assessments.csv": demo.ASSESSMENT_COLUMNS,
        "layout_b_session_log.csv": demo.SESSION_LOG_COLUMNS,
    }
    for name, columns in expected.items():
        for folder in ("examples", "templates"):
            header = (DATA / folder / name).read_text().splitlines()[0]
            assert header.split(",") == list(columns), f"{folder}/{name}"
        assert (DATA / "templates" / name).read_text().strip().count("\n") == 0
    assert demo.SESSION_LOG_COLUMNS[6:8] == ["phq9_total", "gad7_total"]


def test_example_workbooks_hold_real_excel_dates():
    clinic_book = openpyxl.load_workbook(DATA / "examples" / "layout_a_clinic.xlsx", read_only=True)
    assert clinic_book.sheetnames == ["patients", "sessions", "assessments"]
    log_book = openpyxl.load_workbook(DATA / "examples" / "layout_b_session_log.xlsx", read_only=True)
    for sheet, date_column in (
        (clinic_book["sessions"], 1),
        (clinic_book["assessments"], 1),
        (log_book.worksheets[0], 1),
    ):
        rows = sheet.iter_rows(min_row=1, max_row=3, values_only=True)
        header = next(rows)
        assert header[date_column] in ("session_date", "assessment_date")
        for row in rows:
            assert isinstance(row[date_column], datetime.datetime)
    clinic_book.close()
    log_book.close()


def test_patients_with_ptsd_record_the_pcl5_and_improve_as_published(clinic):
    """PCL-5 (20 items, 0-4) only for patients whose primary condition is PTSD; over an induction the
    mean fall is within the 10-25 points published ketamine series report."""
    assessments, patients = clinic["assessments"], clinic["patients"]
    pcl5 = assessments.loc[assessments["instrument"] == "PCL-5"]
    ptsd = set(patients.loc[patients["primary_condition"] == "PTSD", "patient_id"])
    assert len(pcl5) > 100 and set(pcl5["patient_id"]) <= ptsd
    items = pcl5[[f"item_{k}" for k in range(1, 21)]].stack()
    assert items.between(0, 4).all() and (items == 4).any()
    complete = pcl5[[f"item_{k}" for k in range(1, 21)]].notna().all(axis=1)
    totals = pcl5[[f"item_{k}" for k in range(1, 21)]][complete].sum(axis=1)
    assert totals.between(0, 80).all()
    first = pcl5.assign(score=totals.reindex(pcl5.index).fillna(pcl5["total"])).sort_values("assessment_date")
    by_patient = first.groupby("patient_id")["score"]
    fall = (by_patient.first() - by_patient.min()).mean()
    assert 10 <= fall <= 30
