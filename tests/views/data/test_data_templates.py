"""The Data page's templates and examples: whatever files data/templates and data/examples hold."""

from __future__ import annotations

from analysis.views.data import templates as template_views

SESSION_HEADER = "patient_id,session_date,modality,clinician_id\n"


def test_reference_files_lists_what_is_there(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "sessions.csv").write_text(SESSION_HEADER)
    (tmp_path / "templates" / ".hidden.csv").write_text("x")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "clinic.xlsx").write_bytes(b"x" * 2048)
    files = template_views.reference_files(tmp_path)
    assert files[["group", "name"]].values.tolist() == [
        ["Blank templates", "sessions.csv"],
        ["Filled-in examples", "clinic.xlsx"],
    ]
    assert files["label"].tolist() == [f"sessions.csv ({len(SESSION_HEADER)} bytes)", "clinic.xlsx (2 KB)"]
    assert template_views.reference_files(tmp_path / "nowhere").empty
