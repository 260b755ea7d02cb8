"""The Data page's import history and quarantine, read from the store (hand-worked clinic)."""

from __future__ import annotations

from analysis.views.data import results as result_views


def test_import_history_lists_each_file(clinic):
    con, _ = clinic
    history = result_views.import_history(con)
    assert sorted(history["file_name"]) == ["assessments.csv", "patients.csv", "sessions.csv"]
    assert history.set_index("file_name").loc["sessions.csv", "rows_added"] == 12


def test_history_and_quarantine_of_a_missing_store_are_empty():
    assert result_views.import_history(None).empty
    assert result_views.quarantine_rows(None).empty
    assert list(result_views.quarantine_rows(None).columns) == [
        "imported_at",
        "file",
        "row",
        "column",
        "value",
        "reason",
    ]
