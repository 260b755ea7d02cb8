"""The Data page's numbers: import previews on a copy of the store, history, data quality (hand-worked clinic)."""

from __future__ import annotations

import clinic_fixture
import pytest

from analysis import store
from analysis.engine.cohort import CohortFilter
from analysis.engine.timeline import load_timeline
from analysis.views import data as data_views

SESSION_HEADER = "patient_id,session_date,modality,clinician_id\n"


@pytest.fixture(scope="module")
def clinic_path(tmp_path_factory):
    return clinic_fixture.build(tmp_path_factory.mktemp("data") / "t.duckdb")


@pytest.fixture(scope="module")
def clinic(clinic_path):
    con = store.connect(clinic_path, read_only=True)
    yield con, load_timeline(con)
    con.close()


def _preview(con, text: str, name: str = "sessions.csv", **options):
    return data_views.preview_import(con, [(name, text.encode())], today=clinic_fixture.TODAY, **options)


# ---------------------------------------------------------------------------
# Import preview


def test_preview_shows_a_conflict_with_the_real_store(clinic):
    """A had ketamine IV on 5 Jan 2026; a file saying IM that day is refused, naming file, row and column."""
    con, _ = clinic
    preview = _preview(con, SESSION_HEADER + "A,2026-01-05,IM,CLN-01\n")
    assert preview.result.refused and not preview.can_import
    [problem] = preview.result.problems
    assert (problem.file, problem.row, problem.column) == ("sessions.csv", 2, "modality")
    assert "already in the store" in problem.reason


def test_preview_copies_only_the_uploaded_patients(clinic):
    """A file about A (under the alias header 'Patient ID') brings A's 7 sessions into the copy, nobody else's."""
    con, _ = clinic
    sources = [("s.csv", b"Patient ID,session_date,modality\nA,2026-01-05,IV\n")]
    assert data_views.uploaded_patient_ids(sources) == {"A"}
    copy = data_views.store_copy(con, {"A"})
    assert store.counts(copy)["sessions"] == 7 and store.counts(copy)["assessments"] == 4
    assert store.counts(data_views.store_copy(con))["sessions"] == 12
    assert store.counts(data_views.store_copy(None))["sessions"] == 0


def test_preview_writes_nothing(clinic_path, clinic):
    """Checking new rows leaves the real store as it was: 12 sessions, 3 imports."""
    con, _ = clinic
    preview = _preview(con, SESSION_HEADER + "D,2026-04-01,IV,CLN-03\nD,2026-04-03,IV,CLN-03\n")
    assert preview.can_import and preview.would_add == 2
    assert store.counts(con)["sessions"] == 12 and store.counts(con)["imports"] == 3


def test_preview_of_rows_already_in_the_store_has_nothing_to_add(clinic):
    """Re-sending A's first two sessions merges them: 2 rows, 0 new, nothing to confirm."""
    con, _ = clinic
    preview = _preview(con, SESSION_HEADER + "A,2026-01-05,IV,CLN-01\nA,2026-01-07,IV,CLN-01\n")
    assert not preview.result.refused
    assert (preview.result.added, preview.result.merged) == (0, 2)
    assert not preview.can_import
    summary = data_views.file_summary(preview.result)
    assert summary.to_dict("records") == [
        {
            "file": "sessions.csv",
            "holds": "sessions table",
            "rows": 2,
            "new": 0,
            "already in the store": 2,
            "rejected": 0,
        }
    ]


def test_preview_lists_every_problem_with_row_and_column(clinic):
    """Two bad rows: an unknown modality on row 2 and a future date on row 3 (today is 26 Nov 2026)."""
    con, _ = clinic
    preview = _preview(con, SESSION_HEADER + "D,2026-04-01,banana,CLN-03\nD,2027-01-01,IV,CLN-03\n")
    frame = data_views.row_problems(preview.result)
    assert frame[["row", "column"]].values.tolist() == [[2, "modality"], [3, "session_date"]]
    assert frame["value"].tolist() == ["banana", "2027-01-01"]
    assert data_views.file_problems(preview.result) == []


def test_preview_with_skip_invalid_sets_the_bad_row_aside(clinic):
    """With skip-invalid, the good row would be added and the bad one kept in the quarantine."""
    con, _ = clinic
    preview = _preview(con, SESSION_HEADER + "D,2026-04-01,banana,CLN-03\nD,2026-04-03,IV,CLN-03\n", skip_invalid=True)
    assert not preview.result.refused
    assert (preview.result.added, preview.result.rejected) == (1, 1)


def test_identifying_columns_are_named_and_can_be_dropped(clinic):
    """A first_name column is spotted in the preview; the import is refused until it is left out."""
    con, _ = clinic
    text = "patient_id,first_name,session_date,modality\nD,Ann,2026-04-01,IV\n"
    preview = _preview(con, text)
    assert preview.tables[0].identifying_columns == ("first_name",)
    assert preview.tables[0].head["first_name"].tolist() == [data_views.HIDDEN]  # never shown on screen
    assert preview.result.refused
    [sentence] = data_views.file_problems(preview.result)
    assert sentence.startswith("sessions.csv: identifying column(s) first_name")
    assert "choose first_name under 'Leave out these columns' above" in sentence and "--drop-columns" not in sentence
    assert data_views.row_problems(preview.result).empty
    dropped = _preview(con, text, drop_columns=["first_name"])
    assert dropped.can_import and dropped.would_add == 1


def test_unreadable_file_gets_a_sentence(clinic):
    con, _ = clinic
    preview = data_views.preview_import(con, [("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)])
    assert preview.tables[0].error.startswith("old.xls is an old .xls workbook")
    assert preview.result.refused


def test_preview_on_an_empty_store_uses_an_empty_copy():
    """With no store file yet (no connection), the preview checks against nothing and would add every row."""
    preview = data_views.preview_import(
        None, [("s.csv", (SESSION_HEADER + "D,2026-04-01,IV,CLN-03\n").encode())], today=clinic_fixture.TODAY
    )
    assert preview.can_import and preview.would_add == 1


# ---------------------------------------------------------------------------
# History and quarantine


def test_import_history_lists_each_file(clinic):
    con, _ = clinic
    history = data_views.import_history(con)
    assert sorted(history["file_name"]) == ["assessments.csv", "patients.csv", "sessions.csv"]
    assert history.set_index("file_name").loc["sessions.csv", "rows_added"] == 12


def test_history_and_quarantine_of_a_missing_store_are_empty():
    assert data_views.import_history(None).empty
    assert data_views.quarantine_rows(None).empty
    assert list(data_views.quarantine_rows(None).columns) == ["imported_at", "file", "row", "column", "value", "reason"]


# ---------------------------------------------------------------------------
# Data quality (hand-worked in tests/clinic_fixture.py)


def test_completion_by_session_number(clinic):
    """PHQ-9 before session 1 for all 3 courses; before sessions 2-5 for none; before session 6 for A's only.

    A's session 7 is a booster and not counted. GAD-7: only C had one before session 1 (1 of 3).
    """
    _, timeline = clinic
    table = data_views.assessment_completion(timeline)
    phq9 = table.loc[table["instrument"] == "PHQ-9"]
    assert phq9[["session_number", "sessions", "with_score"]].values.tolist() == [
        [1, 3, 3],
        [2, 3, 0],
        [3, 2, 0],
        [4, 1, 0],
        [5, 1, 0],
        [6, 1, 1],
    ]
    gad7 = table.loc[table["instrument"] == "GAD-7"].set_index("session_number")
    assert gad7.loc[1, "percent"] == pytest.approx(100 / 3)
    assert gad7["with_score"].sum() == 1


def test_incomplete_questionnaire_does_not_count_as_a_score(clinic):
    """B's 17 Apr PHQ-9 (no total) before session 2 leaves session 2 of B unmeasured."""
    _, timeline = clinic
    missing = data_views.sessions_without_score(timeline)
    b = missing.loc[missing["patient_id"] == "B", "session_number"].tolist()
    assert b == [2, 3]


def test_sessions_without_any_score(clinic):
    """7 of 12 sessions: A's 2-5, B's 2-3, C's 2 (A's booster has the 20 Jan PHQ-9 before it)."""
    _, timeline = clinic
    missing = data_views.sessions_without_score(timeline)
    assert sorted(zip(missing["patient_id"], missing["session_number"])) == [
        ("A", 2),
        ("A", 3),
        ("A", 4),
        ("A", 5),
        ("B", 2),
        ("B", 3),
        ("C", 2),
    ]
    summary = data_views.quality_summary(timeline)
    assert summary["sessions"] == 12 and summary["sessions_without_score"] == 7
    assert summary["sessions_without_score_percent"] == pytest.approx(700 / 12)


def test_courses_without_a_baseline(clinic):
    """Every course has a PHQ-9 baseline; A and B have no GAD-7 at all: 2 of 3."""
    _, timeline = clinic
    table = data_views.courses_without_baseline(timeline).set_index("instrument")
    assert table.loc["PHQ-9", ["courses", "without_baseline"]].tolist() == [3, 0]
    assert table.loc["GAD-7", "without_baseline"] == 2
    assert table.loc["GAD-7", "percent"] == pytest.approx(200 / 3)
    listed = data_views.courses_missing_baseline_list(timeline)
    assert listed[["patient_id", "no_baseline_for"]].values.tolist() == [["A", "GAD-7"], ["B", "GAD-7"]]


def test_data_quality_honours_the_filters(clinic):
    """CLN-02 has only B: 3 sessions, 2 without a score."""
    _, timeline = clinic
    summary = data_views.quality_summary(timeline, CohortFilter(clinicians=("CLN-02",)))
    assert (summary["courses"], summary["sessions"], summary["sessions_without_score"]) == (1, 3, 2)


# ---------------------------------------------------------------------------
# Templates and examples


def test_reference_files_lists_what_is_there(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "sessions.csv").write_text(SESSION_HEADER)
    (tmp_path / "templates" / ".hidden.csv").write_text("x")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "clinic.xlsx").write_bytes(b"x" * 2048)
    files = data_views.reference_files(tmp_path)
    assert files[["group", "name"]].values.tolist() == [
        ["Blank templates", "sessions.csv"],
        ["Filled-in examples", "clinic.xlsx"],
    ]
    assert files["label"].tolist() == [f"sessions.csv ({len(SESSION_HEADER)} bytes)", "clinic.xlsx (2 KB)"]
    assert data_views.reference_files(tmp_path / "nowhere").empty
