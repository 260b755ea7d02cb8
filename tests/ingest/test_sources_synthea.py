"""Synthea CSV exports in: observations.csv totals by LOINC, patients.csv only with its identifying columns dropped.

Counts and values are made here independently, with the csv module, from the three real exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from paths import external
from test_sources_fhir import KEY, TODAY, assessments, every_stored_text

from analysis import ingest, store

FOLDERS = ["dverma11-populationhealthworkbench", "jijones12-synthea", "ohdsi-dbt-synthea"]
TOTAL_CODES = {"44261-6": "PHQ-9", "70274-6": "GAD-7"}
IDENTIFYING = {"BIRTHDATE", "DEATHDATE", "SSN", "DRIVERS", "PASSPORT", "PREFIX", "FIRST", "MIDDLE", "LAST"}
IDENTIFYING |= {"SUFFIX", "MAIDEN", "BIRTHPLACE", "ADDRESS", "CITY", "COUNTY", "ZIP", "LAT", "LON"}


def synthea_file(*parts: str):
    return external("synthea", *parts)


@pytest.fixture
def con():
    connection = store.connect_memory()
    yield connection
    connection.close()


def run(con, *paths, **options) -> ingest.ImportResult:
    files = [(p.name, p.read_bytes()) for p in paths]
    return ingest.import_bytes(con, files, today=TODAY, user="tester", pseudonym_key=KEY, **options)


def rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("folder", FOLDERS)
def test_observations_load_every_phq9_and_gad7_total_counted_independently(con, folder):
    path = synthea_file(folder, "observations.csv")
    wanted = [r for r in rows(path) if r["CODE"] in TOTAL_CODES]
    expected = {
        (KEY.pseudonym(r["PATIENT"]), r["DATE"][:10], TOTAL_CODES[r["CODE"]], int(float(r["VALUE"]))) for r in wanted
    }
    phq2 = sum(r["CODE"] == "55758-7" for r in rows(path))
    result = run(con, path)
    assert result.ok, [p.sentence() for p in result.problems[:3]]
    stored = {(p, d, i, t) for p, d, i, _, t in assessments(con)}
    assert stored == expected
    assert result.added == len(wanted) == len(expected)
    counts = dict(con.execute("SELECT instrument, count(*) FROM assessments GROUP BY 1").fetchall())
    for code, instrument in TOTAL_CODES.items():
        assert counts.get(instrument, 0) == sum(r["CODE"] == code for r in wanted)
    assert result.files[0].skipped["PHQ-2 (Synthea observation)"] == phq2
    assert sum(result.files[0].skipped.values()) == len(rows(path)) - len(wanted)  # every other row counted


def test_the_three_exports_hold_the_counts_their_readme_gives(con):
    """15 PHQ-9 and 146 GAD-7 totals over the three exports (external/synthea/README.md)."""
    for folder in FOLDERS:
        assert run(con, synthea_file(folder, "observations.csv")).ok
    assert dict(con.execute("SELECT instrument, count(*) FROM assessments GROUP BY 1").fetchall()) == {
        "PHQ-9": 15,
        "GAD-7": 146,
    }


@pytest.mark.parametrize("folder", FOLDERS)
def test_patients_csv_is_refused_until_its_identifying_columns_are_dropped(con, folder):
    patients = synthea_file(folder, "patients.csv")
    header = next(csv.reader(io.StringIO(patients.read_text())))
    refused = run(con, patients)
    assert refused.refused
    [problem] = refused.problems
    assert {"BIRTHDATE", "SSN", "FIRST", "LAST", "ADDRESS", "ZIP"} <= set(problem.column.split(", "))
    assert every_stored_text(con) == ""

    dropped = [h for h in header if h in IDENTIFYING]
    result = run(con, patients, synthea_file(folder, "observations.csv"), drop_columns=dropped)
    assert result.ok, [p.sentence() for p in result.problems]
    people = rows(patients)
    sexes = {(KEY.pseudonym(p["Id"]), p["GENDER"]) for p in people}
    assert set(con.execute("SELECT patient_id, sex FROM patients WHERE sex IS NOT NULL").fetchall()) == sexes
    # No name, birth date, SSN, address or source id in any table of the store.
    stored = every_stored_text(con)
    for person in people:
        for column in ("Id", "FIRST", "LAST", "BIRTHDATE", "SSN", "ADDRESS", "DRIVERS", "PASSPORT"):
            if person.get(column):
                assert person[column] not in stored, (column, person[column])


def test_older_synthea_observations_without_category_and_with_plain_dates_load(con, tmp_path):
    path = tmp_path / "observations.csv"
    path.write_text(
        "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS\n"
        "2018-04-02,a1b2,e1,44261-6,Patient Health Questionnaire 9 item (PHQ-9) total score [Reported],14.0,{score}\n"
        "2018-04-02,a1b2,e1,8302-2,Body Height,170.2,cm\n"
    )
    result = run(con, path)
    assert result.ok
    assert con.execute("SELECT patient_id, assessment_date, instrument, total FROM assessments").fetchall() == [
        (KEY.pseudonym("a1b2"), dt.date(2018, 4, 2), "PHQ-9", 14)
    ]
    [(what, count)] = result.files[0].skipped.items()
    assert what.startswith("other Synthea observations") and count == 1


def test_an_impossible_synthea_total_is_refused_at_its_csv_row(con, tmp_path):
    path = tmp_path / "observations.csv"
    path.write_text(
        "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
        "2023-08-21T21:44:04Z,p1,e1,survey,8302-2,Body Height,170.2,cm,numeric\n"
        "2023-08-21T21:44:04Z,p1,e1,survey,70274-6,GAD-7 total,29.0,{score},numeric\n"
    )
    result = run(con, path)
    assert result.refused
    [problem] = result.problems
    assert (problem.file, problem.row, problem.column, problem.value) == ("observations.csv", 3, "total", "29")
