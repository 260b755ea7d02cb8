"""The Data page's import preview on a copy of the store, and the problems it words (hand-worked clinic)."""

from __future__ import annotations

import clinic_fixture

from analysis import store
from analysis.views.data import preview as preview_views
from analysis.views.data import results as result_views

SESSION_HEADER = "patient_id,session_date,modality,clinician_id\n"


def _preview(con, text: str, name: str = "sessions.csv", **options):
    return preview_views.preview_import(con, [(name, text.encode())], today=clinic_fixture.TODAY, **options)


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
    assert preview_views.uploaded_patient_ids(sources) == {"A"}
    copy = preview_views.store_copy(con, {"A"})
    assert store.counts(copy)["sessions"] == 7 and store.counts(copy)["assessments"] == 4
    assert store.counts(preview_views.store_copy(con))["sessions"] == 12
    assert store.counts(preview_views.store_copy(None))["sessions"] == 0


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
    summary = result_views.file_summary(preview.result)
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
    frame = result_views.row_problems(preview.result)
    assert frame[["row", "column"]].values.tolist() == [[2, "modality"], [3, "session_date"]]
    assert frame["value"].tolist() == ["banana", "2027-01-01"]
    assert result_views.file_problems(preview.result) == []


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
    assert preview.tables[0].head["first_name"].tolist() == [preview_views.HIDDEN]  # never shown on screen
    assert preview.result.refused
    [sentence] = result_views.file_problems(preview.result)
    assert sentence.startswith("sessions.csv: identifying column(s) first_name")
    assert "choose first_name under 'Leave out these columns' above" in sentence and "--drop-columns" not in sentence
    assert result_views.row_problems(preview.result).empty
    dropped = _preview(con, text, drop_columns=["first_name"])
    assert dropped.can_import and dropped.would_add == 1


def test_unreadable_file_gets_a_sentence(clinic):
    con, _ = clinic
    preview = preview_views.preview_import(con, [("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)])
    assert preview.tables[0].error.startswith("old.xls is an old .xls workbook")
    assert preview.result.refused


def test_preview_on_an_empty_store_uses_an_empty_copy():
    """With no store file yet (no connection), the preview checks against nothing and would add every row."""
    preview = preview_views.preview_import(
        None, [("s.csv", (SESSION_HEADER + "D,2026-04-01,IV,CLN-03\n").encode())], today=clinic_fixture.TODAY
    )
    assert preview.can_import and preview.would_add == 1
