"""Column mappings: the TOML file of DATA_FORMAT.md, the shipped EHR and REDCap mappings on real layouts,
and a property: an EHR-style export plus its mapping gives the same store as layout A."""

from __future__ import annotations

import csv as csv_module
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import EXTERNAL, REPO
from test_import_cli import import_command
from test_importer import TODAY, csv, dump, held, only_problem, run, xlsx
from test_pseudonymize import every_cell

from analysis import ingest, store
from analysis.demo.clinic import generate_clinic
from analysis.ingest.mapping import Mapping, MappingError, load_mapping, parse_mapping, to_toml
from analysis.ingest.pseudonyms import ClinicKey

MAPPINGS = REPO / "data" / "mappings"
EXAMPLES = REPO / "data" / "examples"
REDCAP = EXTERNAL / "redcap" / "redcapr-test-data"


@pytest.fixture
def con():
    connection = store.connect_memory()
    yield connection
    connection.close()


def mapping(text: str) -> Mapping:
    return parse_mapping(text, "test")


VISITS_MAPPING = """
[[table]]
kind = "sessions"
date_format = "%m/%d/%Y"
drop = ["Notes"]
[table.columns]
"Client ID" = "patient_id"
"Date of Service" = "session_date"
"Service" = "modality"
[table.values.modality]
"KET INF" = "ketamine_iv"
"""


# ---------------------------------------------------------------------------
# The file: every mistake is one sentence


BAD_MAPPINGS = {
    "[[table]\nkind = 1": "is not valid TOML",
    'title = "x"': "unknown key 'title'",
    'name = "x"': "has no [[table]] entry",
    '[[table]]\nkind = "visits"\n[table.columns]\nA = "patient_id"': "kind must be one of patients, sessions",
    '[[table]]\nkind = "sessions"\n[table.columns]\nA = "patient_id"\nB = "visit"': "'B' maps to 'visit'",
    '[[table]]\nkind = "sessions"\n[table.columns]\nA = "patient_id"\nB = "patient_id"': "both 'A' and 'B' map",
    '[[table]]\nkind = "sessions"\n[table.columns]\nA = "patient_id"\nB = "session_date"': "no export header maps to modality",
    '[[table]]\nkind = "patients"\n[table.columns]\n"Patient Name" = "patient_id"': "identifies a person",
    '[[table]]\nkind = "patients"\nmatch = 3\n[table.columns]\nA = "patient_id"': "match must be a file-name pattern",
    '[[table]]\nkind = "patients"\ndate_format = "%Q"\n[table.columns]\nA = "patient_id"': "not a strptime date format",
    '[[table]]\nkind = "patients"\ncolour = "red"\n[table.columns]\nA = "patient_id"': "'colour' is not a mapping setting",
    '[[table]]\nkind = "patients"\n[table.columns]\nA = "patient_id"\n[table.values.sex]\nW = "female"': "'W' maps to 'female'",
    '[[table]]\nkind = "patients"\n[table.columns]\nA = "patient_id"\n[table.values.site]\nW = "N"': "values can be mapped",
}


@pytest.mark.parametrize(("text", "reason"), BAD_MAPPINGS.items())
def test_a_bad_mapping_file_is_one_sentence_naming_what_to_fix(text, reason):
    with pytest.raises(MappingError, match=None) as error:
        mapping(text)
    assert reason in str(error.value)
    assert "\n" not in str(error.value).split("(")[0]


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.toml")), ids=lambda p: p.name)
def test_the_shipped_mappings_are_valid_and_written_back_unchanged(path):
    shipped = load_mapping(path)
    assert parse_mapping(to_toml(shipped), shipped.name) == shipped


def test_a_missing_mapping_file_exits_2_with_one_sentence(tmp_path):
    (tmp_path / "v.csv").write_bytes(b"patient_id,session_date,modality\nK-1,2026-01-05,IV\n")
    done = import_command("--db", tmp_path / "s.duckdb", tmp_path / "v.csv", "--mapping", tmp_path / "nope.toml")
    assert done.returncode == 2
    assert f"The mapping file {tmp_path / 'nope.toml'} does not exist; check the path." in done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------------
# Applying a mapping


def test_a_mapped_export_loads_with_its_values_and_date_format(con):
    rows = csv("""
        Client ID,Date of Service,Service,Notes
        C-1,03/04/2026,KET INF,fine
        C-1,03/06/2026,Spravato 84mg,
    """)
    result = run(con, ("visits.csv", rows), mapping=mapping(VISITS_MAPPING))
    assert result.ok, [p.sentence() for p in result.problems]
    # %m/%d/%Y: 03/04 is 4 March, whatever the date_order setting says.
    assert [(s[0], s[1], s[2]) for s in held(con)["sessions"]] == [
        ("C-1", dt.date(2026, 3, 4), "ketamine_iv"),
        ("C-1", dt.date(2026, 3, 6), "esketamine_nasal"),
    ]
    assert "read with the mapping test (sessions table)" in result.summary_line()


def test_a_date_not_in_the_mappings_format_is_a_row_problem(con):
    rows = csv("""
        Client ID,Date of Service,Service,Notes
        C-1,2026-03-04,IV,
        C-1,14/03/2026,IV,
    """)
    problem = only_problem(run(con, ("visits.csv", rows), mapping=mapping(VISITS_MAPPING)))
    # The column as the export names it, the canonical name in brackets (issue 12).
    assert (problem.row, problem.column, problem.value) == (3, "Date of Service [session_date]", "14/03/2026")
    assert "in the mapping's date format %m/%d/%Y" in problem.reason


def test_a_column_the_mapping_neither_maps_nor_drops_is_refused_like_an_unknown_column(con):
    rows = csv("""
        Client ID,Date of Service,Service,Notes,Room
        C-1,03/04/2026,IV,,4
    """)
    problem = only_problem(run(con, ("visits.csv", rows), mapping=mapping(VISITS_MAPPING)))
    assert problem.column == "Room" and "not part of a sessions table" in problem.reason
    assert dump(con) == dump(store.connect_memory())


def test_a_file_the_mapping_does_not_fit_is_read_as_layout_a(con):
    layout_a = csv("patient_id,session_date,modality\nK-1,2026-01-05,IV\n")
    assert run(con, ("sessions.csv", layout_a), mapping=mapping(VISITS_MAPPING)).ok
    assert held(con)["sessions"][0][:3] == ("K-1", dt.date(2026, 1, 5), "ketamine_iv")


def test_a_mapping_that_takes_the_key_from_an_mrn_needs_pseudonyms(con):
    text = VISITS_MAPPING.replace('"Client ID" = "patient_id"', '"MRN" = "patient_id"')
    rows = csv("MRN,Date of Service,Service\n004521,03/04/2026,IV\n")
    problem = only_problem(run(con, ("visits.csv", rows), mapping=mapping(text)))
    assert "--pseudonymize" in problem.reason
    key = ClinicKey(bytes.fromhex("33" * 32), "test")
    assert run(con, ("visits.csv", rows), mapping=mapping(text), pseudonym_key=key).ok
    assert held(con)["sessions"][0][0] == key.pseudonym("004521")
    assert not [cell for cell in every_cell(con) if "004521" in cell]


def test_the_ehr_example_loads_from_the_command_line(tmp_path):
    """The shipped EHR example and mapping: every visit and score in, counted independently from the files."""
    visits = list(csv_module.DictReader((EXAMPLES / "ehr_visits.csv").open()))
    scores = list(csv_module.DictReader((EXAMPLES / "ehr_questionnaires.csv").open()))
    db = tmp_path / "clinic.duckdb"
    done = import_command(
        "--db",
        db,
        "--mapping",
        MAPPINGS / "ehr_visits.toml",
        EXAMPLES / "ehr_visits.csv",
        EXAMPLES / "ehr_questionnaires.csv",
    )
    assert done.returncode == 0, done.stderr
    with store.opened(db, read_only=True) as con:
        assert store.counts(con)["sessions"] == len(visits)
        assert store.counts(con)["assessments"] == len(scores)
        first = visits[0]
        month, day, year = map(int, first["Date of Service"].split("/"))
        stored = con.execute(
            "SELECT modality, clinician_id, site FROM sessions WHERE patient_id = ? AND session_date = ?",
            [first["Client ID"], dt.date(year, month, day)],
        ).fetchall()
        assert stored == [("esketamine_nasal", first["Rendering Provider"], first["Location"])]  # 'Spravato 84mg'
        infusions = sum(v["Service"] == "Ket Inf 40min" for v in visits)
        assert infusions > 0
        assert con.execute("SELECT count(*) FROM sessions WHERE modality = 'ketamine_iv'").fetchone()[
            0
        ] == infusions + sum(v["Service"].startswith("Ketamine IV") for v in visits)


# ---------------------------------------------------------------------------
# The real REDCap layouts through the shipped mappings


def redcap_copy(source: Path) -> pd.DataFrame:
    return pd.read_csv(source, dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, quoting=csv_module.QUOTE_MINIMAL)
    return path


def test_redcap_longitudinal_export_through_the_shipped_mapping(con, tmp_path):
    """REDCapR's longitudinal export, with a ketamine form on the dose events and PHQ-9 on the visit events."""
    frame = redcap_copy(REDCAP / "longitudinal" / "data.csv")
    for column in ["ketamine_date", "ketamine_route", "ketamine_dose_mg", "phq9_date", "phq9_summary"] + [
        f"phq9_q{k}" for k in range(1, 10)
    ]:
        frame[column] = ""
    doses = frame["redcap_event_name"].isin(["dose_1_arm_1", "dose_2_arm_1", "first_dose_arm_2"])
    visits = frame["redcap_event_name"].isin(["visit_1_arm_1", "visit_2_arm_1", "first_visit_arm_2"])
    frame.loc[doses, "ketamine_date"] = ["2026-01-05", "2026-01-08", "2026-01-06", "2026-01-09", "2026-02-02"]
    frame.loc[doses, "ketamine_route"] = ["1", "1", "2", "2", "4"]
    frame.loc[doses, "ketamine_dose_mg"] = ["35", "35", "40", "40", "56"]
    frame.loc[visits, "phq9_date"] = ["2026-01-07", "2026-01-10", "2026-01-07", "2026-01-10", "2026-02-03"]
    answers = ["2", "2", "1", "1", "2", "1", "1", "0", "1"]  # sum 11
    for k, answer in enumerate(answers, start=1):
        frame.loc[visits, f"phq9_q{k}"] = answer
    frame.loc[visits, "phq9_summary"] = "11"
    path = write(frame, tmp_path / "data.csv")

    result = run(con, ("data.csv", path.read_bytes()), mapping=load_mapping(MAPPINGS / "redcap_longitudinal.toml"))
    assert result.ok, [p.sentence() for p in result.problems]
    sessions = held(con)["sessions"]
    assert [(s[0], s[1], s[2], s[3]) for s in sessions] == [
        ("100", dt.date(2026, 1, 5), "ketamine_iv", 35.0),
        ("100", dt.date(2026, 1, 8), "ketamine_iv", 35.0),
        ("220", dt.date(2026, 1, 6), "ketamine_im", 40.0),
        ("220", dt.date(2026, 1, 9), "ketamine_im", 40.0),
        ("304", dt.date(2026, 2, 2), "esketamine_nasal", 56.0),
    ]
    assessments = held(con)["assessments"]
    assert [(a[0], a[1], a[2], a[4]) for a in assessments] == [
        ("100", dt.date(2026, 1, 7), "PHQ-9", 11),
        ("100", dt.date(2026, 1, 10), "PHQ-9", 11),
        ("220", dt.date(2026, 1, 7), "PHQ-9", 11),
        ("220", dt.date(2026, 1, 10), "PHQ-9", 11),
        ("304", dt.date(2026, 2, 3), "PHQ-9", 11),
    ]
    # 18 rows: 5 dose rows and 5 visit rows read; the other events are skipped and counted.
    notes = result.files[0].notes
    assert "13 row(s) with no ketamine_date left out (they hold other forms)." in notes
    assert "13 row(s) with no phq9_date left out (they hold other forms)." in notes
    cells = every_cell(con)
    for identifying in ("Zharko", "zlehnox@gmail.com", "(415) 555-1212", "1983-09-23"):
        assert not [cell for cell in cells if identifying in cell]


def test_redcap_longitudinal_export_as_published_is_refused_with_its_identifying_columns(con):
    """REDCapR's file as it is holds no ketamine or PHQ-9 form: the mapping does not fit, the guard refuses it."""
    data = (REDCAP / "longitudinal" / "data.csv").read_bytes()
    result = run(con, ("data.csv", data), mapping=load_mapping(MAPPINGS / "redcap_longitudinal.toml"))
    assert result.refused
    assert "first_name" in result.problems[0].column and "email" in result.problems[0].column


def test_redcap_repeating_instruments_through_the_shipped_mapping(con, tmp_path):
    """REDCapR's repeating-instruments export with PHQ-9 repeats added; a wrong total names its row."""
    frame = redcap_copy(REDCAP / "repeating-instruments" / "data.csv")
    for column in ["phq9_date", "phq9_summary"] + [f"phq9_q{k}" for k in range(1, 10)]:
        frame[column] = ""
    blank = dict.fromkeys(frame.columns, "")
    repeats = [
        ("1", "1", "2026-01-05", ["3", "3", "2", "2", "2", "1", "2", "1", "0"], "16"),
        ("1", "2", "2026-02-05", ["1", "1", "1", "1", "0", "0", "1", "0", "0"], "5"),
        ("2", "1", "2026-01-20", ["2", "2", "2", "2", "2", "2", "2", "2", "1"], "12"),  # items sum to 17
    ]
    rows = []
    for record, instance, day, answers, total in repeats:
        row = blank | {"record_id": record, "redcap_repeat_instrument": "phq9", "redcap_repeat_instance": instance}
        row |= {"phq9_date": day, "phq9_summary": total} | {f"phq9_q{k}": a for k, a in enumerate(answers, 1)}
        rows.append(row)
    frame = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
    path = write(frame, tmp_path / "data.csv")
    repeating = load_mapping(MAPPINGS / "redcap_repeating.toml")

    problem = only_problem(run(con, ("data.csv", path.read_bytes()), mapping=repeating))
    # The published file has 6 data rows (rows 2-7); the added repeats are rows 8-10.
    # The column as the REDCap export names it, the canonical name in brackets (issue 12).
    assert (problem.row, problem.column, problem.value) == (10, "phq9_summary [phq9_total]", "12")
    assert "does not equal the sum of the item answers (17)" in problem.reason

    result = run(con, ("data.csv", path.read_bytes()), mapping=repeating, skip_invalid=True)
    assert result.ok and result.rejected == 1
    assert [(a[0], a[1], a[4]) for a in held(con)["assessments"]] == [
        ("1", dt.date(2026, 1, 5), 16),
        ("1", dt.date(2026, 2, 5), 5),
    ]
    assert not [cell for cell in every_cell(con) if cell in ("aaa", "2010-10-14")]


# ---------------------------------------------------------------------------
# Property: an EHR-style export plus mapping and layout A give the same store

SERVICE_WORDS = {
    "ketamine_im": ["Ketamine IM 0.5 mg/kg", "IM ketamine"],
    "ketamine_iv": ["IV infusion", "KET INF"],
    "ketamine_oral": ["ketamine troche 200 mg", "Ketamine SL"],
    "esketamine_nasal": ["Spravato 84mg", "Spravato 56 mg"],
}
EHR_MAPPING = """
[[table]]
kind = "sessions"
date_format = "%m/%d/%Y"
[table.columns]
"Client ID" = "patient_id"
"Date of Service" = "session_date"
"Service" = "modality"
"Dose (mg)" = "dose_mg"
[table.values.modality]
"KET INF" = "ketamine_iv"

[[table]]
kind = "assessments"
date_format = "%m/%d/%Y"
[table.columns]
"Client ID" = "patient_id"
"Date Completed" = "assessment_date"
"Measure" = "instrument"
"Score" = "total"
[table.values.instrument]
"PHQ-9 Depression Screen" = "PHQ-9"
"GAD-7 Anxiety" = "GAD-7"
"PCL-5 PTSD Checklist" = "PCL-5"
"""
MEASURES = {
    "PHQ-9": ("PHQ-9 Depression Screen", 27),
    "GAD-7": ("GAD-7 Anxiety", 21),
    "PCL-5": ("PCL-5 PTSD Checklist", 80),
}

clinics = st.lists(
    st.tuples(
        st.sampled_from(sorted(SERVICE_WORDS)),
        st.lists(st.integers(0, 400), min_size=1, max_size=6, unique=True),  # session days after 2025-01-01
        st.lists(st.tuples(st.integers(0, 400), st.sampled_from(sorted(MEASURES)), st.integers(0, 21)), max_size=6),
        st.sampled_from([None, 28.0, 56.0, 84.0]),
        st.data(),
    ),
    min_size=1,
    max_size=6,
)


def table_bytes(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv_module.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clinic=clinics)
def test_an_ehr_export_with_its_mapping_and_layout_a_give_identical_stores(clinic):
    start = dt.date(2025, 1, 1)
    a_sessions, a_scores, ehr_visits, ehr_scores = [], [], [], []
    for number, (modality, days, scores, dose, data) in enumerate(clinic):
        patient = f"C{1000 + number}"
        for day in days:
            date = start + dt.timedelta(days=day)
            a_sessions.append([patient, date.isoformat(), modality, dose or ""])
            service = data.draw(st.sampled_from(SERVICE_WORDS[modality]))
            ehr_visits.append([patient, date.strftime("%m/%d/%Y"), service, dose or ""])
        seen = set()
        for day, instrument, total in scores:
            if (day, instrument) in seen:
                continue
            seen.add((day, instrument))
            date = start + dt.timedelta(days=day)
            a_scores.append([patient, date.isoformat(), instrument, total])
            ehr_scores.append([patient, date.strftime("%m/%d/%Y"), MEASURES[instrument][0], total])

    layout_a, ehr = store.connect_memory(), store.connect_memory()
    files_a = [("sessions.csv", table_bytes(["patient_id", "session_date", "modality", "dose_mg"], a_sessions))]
    files_ehr = [("visits.csv", table_bytes(["Client ID", "Date of Service", "Service", "Dose (mg)"], ehr_visits))]
    if a_scores:
        files_a.append(
            ("assessments.csv", table_bytes(["patient_id", "assessment_date", "instrument", "total"], a_scores))
        )
        files_ehr.append(("scores.csv", table_bytes(["Client ID", "Date Completed", "Measure", "Score"], ehr_scores)))
    result_a = run(layout_a, *files_a)
    result_ehr = run(ehr, *files_ehr, mapping=mapping(EHR_MAPPING))
    assert result_a.ok, [p.sentence() for p in result_a.problems]
    assert result_ehr.ok, [p.sentence() for p in result_ehr.problems]
    assert held(ehr) == held(layout_a)
    assert len(held(ehr)["sessions"]) == len(a_sessions)


def test_a_table_matched_by_file_or_sheet_name_reads_only_those(con):
    """match = "*visits*" reads the visits sheet of a workbook, not the other sheet with the same header."""
    text = VISITS_MAPPING.replace('kind = "sessions"', 'kind = "sessions"\nmatch = "*visits*"')
    rows = [["Client ID", "Date of Service", "Service"], ["C-1", "03/04/2026", "IV"]]
    workbook = xlsx({"Visits": rows, "Old": [["patient_id", "session_date", "modality"], ["K-9", "2026-01-02", "IM"]]})
    result = run(con, ("book.xlsx", workbook), mapping=mapping(text))
    assert result.ok, [p.sentence() for p in result.problems]
    assert [(s[0], s[2]) for s in held(con)["sessions"]] == [("C-1", "ketamine_iv"), ("K-9", "ketamine_im")]
    assert result.files[0].notes[0] == "read with the mapping test (sessions table)."


def test_a_mapping_that_fits_no_file_says_which_columns_it_looks_for(con):
    rows = csv("Patient,Visit Day,Kind of visit,Room\nC-1,03/04/2026,IV,4\n")
    result = run(con, ("visits.csv", rows), mapping=mapping(VISITS_MAPPING))
    assert result.refused
    assert any(
        "the mapping test does not fit this file" in p.reason
        and "sessions table: Client ID, Date of Service, Service" in p.reason
        for p in result.problems
    )


DEMO_EHR_MAPPING = (
    """
name = "demo_ehr"

[[table]]
kind = "patients"
[table.columns]
"Client ID" = "patient_id"
"Age Group" = "age_band"
"Gender" = "sex"
"Diagnosis" = "primary_condition"
"Location" = "site"
"Rendering Provider" = "clinician_id"
[table.values.age_band]
"65 and over" = "65+"

[[table]]
kind = "sessions"
date_format = "%m/%d/%Y"
[table.columns]
"Client ID" = "patient_id"
"Date of Service" = "session_date"
"Service" = "modality"
"Dose (mg)" = "dose_mg"
"Location" = "site"
"Rendering Provider" = "clinician_id"
[table.values.modality]
"KET INF" = "ketamine_iv"

[[table]]
kind = "assessments"
date_format = "%m/%d/%Y"
[table.columns]
"Client ID" = "patient_id"
"Date Completed" = "assessment_date"
"Measure" = "instrument"
"Score" = "total"
"""
    + "".join(f'"Q{k}" = "item_{k}"\n' for k in range(1, 21))
    + """
[table.values.instrument]
"PHQ-9 Depression Screen" = "PHQ-9"
"GAD-7 Anxiety" = "GAD-7"
"PCL-5 PTSD Checklist" = "PCL-5"
"""
)
SEX_WORDS = {"F": "Female", "M": "Male", "X": "Nonbinary", "U": "Unknown"}
CONDITION_WORDS = {"MDD": "Major depressive disorder", "TRD": "Treatment resistant depression", "PTSD": "PTSD"}


def patients_held(con) -> list[tuple]:
    return con.execute(
        "SELECT patient_id, age_band, sex, primary_condition, site, clinician_id FROM patients ORDER BY ALL"
    ).fetchall()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_patients=st.integers(1, 6), pick=st.data())
def test_demo_clinics_written_as_an_ehr_export_load_as_layout_a_does(seed, n_patients, pick):
    """The demo generator's clinics (items, attributes, sites, doses) as three EHR exports plus one mapping."""
    clinic = generate_clinic(n_patients=n_patients, seed=seed, end_date=dt.date(2026, 6, 1))
    patients, sessions, assessments = clinic["patients"], clinic["sessions"], clinic["assessments"]

    def us(day) -> str:
        return pd.Timestamp(day).strftime("%m/%d/%Y")

    demographics = pd.DataFrame(
        {
            "Client ID": patients["patient_id"],
            "Age Group": patients["age_band"].replace({"65+": "65 and over"}),
            "Gender": patients["sex"].map(SEX_WORDS),
            "Diagnosis": patients["primary_condition"].map(lambda c: CONDITION_WORDS.get(c, c)),
            "Location": patients["site"],
            "Rendering Provider": patients["clinician_id"],
        }
    )
    visits = pd.DataFrame(
        {
            "Client ID": sessions["patient_id"],
            "Date of Service": sessions["session_date"].map(us),
            "Service": [pick.draw(st.sampled_from(SERVICE_WORDS[m])) for m in sessions["modality"]],
            "Dose (mg)": sessions["dose_mg"],
            "Location": sessions["site"],
            "Rendering Provider": sessions["clinician_id"],
        }
    )
    scores = pd.DataFrame(
        {
            "Client ID": assessments["patient_id"],
            "Date Completed": assessments["assessment_date"].map(us),
            "Measure": assessments["instrument"].map(lambda code: MEASURES[code][0]),
            **{f"Q{k}": assessments[f"item_{k}"] for k in range(1, 21)},  # the demo's PTSD patients have PCL-5s
            "Score": assessments["total"],
        }
    )
    layout_a, ehr = store.connect_memory(), store.connect_memory()
    result_a = ingest.import_tables(
        layout_a, [("p.csv", patients), ("s.csv", sessions), ("a.csv", assessments)], today=TODAY
    )
    result_ehr = ingest.import_tables(
        ehr,
        [("demographics.csv", demographics), ("visits.csv", visits), ("scores.csv", scores)],
        today=TODAY,
        mapping=mapping(DEMO_EHR_MAPPING),
    )
    assert result_a.ok, [p.sentence() for p in result_a.problems[:3]]
    assert result_ehr.ok, [p.sentence() for p in result_ehr.problems[:3]]
    assert held(ehr) == held(layout_a)
    assert patients_held(ehr) == patients_held(layout_a)
    assert len(held(ehr)["assessments"]) == len(assessments)
