"""Whatever bytes or spreadsheet a clinic uploads, the importer answers: it imports cleanly, or it refuses
with problems that say why, and a refusal leaves the store as it was. It never crashes.

Random bytes, and random CSVs whose headers come from the known vocabulary (canonical names,
aliases, session-log score columns, identifying names) mixed with junk, filled with plausible and
junk cells. Example counts stay modest so the suite stays fast.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_importer import TODAY, dump

from analysis import cli, ingest, store
from analysis.ingest.headers import ASSESSMENT_COLUMNS, LOG_SCORE_COLUMNS, PATIENT_COLUMNS, SESSION_COLUMNS
from analysis.settings import MODALITIES

HEADERS = sorted(
    set(PATIENT_COLUMNS + SESSION_COLUMNS + ASSESSMENT_COLUMNS + LOG_SCORE_COLUMNS)
    | {
        "Patient ID",
        "Treatment Date",
        "Route",
        "Dose (mg)",
        "Measure",
        "Score Date",
        "Q1",
        "Total Score",
        "Date",
        "PHQ-9 Total",
        "GAD7 score",
        "PHQ-9 Q9",
        "record_id",
        "first_name",
        "DOB",
        "email",
        "ZIP",
        "notes",
        "",
        "redcap_event_name",
        "SEQN",
        "DPQ010",
    }
)
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "K-1",
            "K-2",
            "P00001",
            "2026-01-05",
            "2026-02-30",
            "2099-01-01",
            "05/01/2026",
            "IV",
            "im",
            "Spravato",
            "troche",
            "ECT",
            "PHQ-9",
            "gad7",
            "PHQ-2",
            "0",
            "1",
            "2",
            "3",
            "2.0",
            "4",
            "-1",
            "27",
            "28",
            "35",
            "-35",
            "12,5",
            "F",
            "65+",
            "TRD",
            "555-867-5309",
            "a@b.org",
            "078-05-1120",
            "<script>",
            "'; DROP TABLE sessions;--",
            "NaN",
            "inf",
            "1e308",
        ]
    ),
    st.text(max_size=12),
    st.integers(-5, 40).map(str),
)

# Headers of the tables DATA_FORMAT.md describes, so that some random files are nearly right and get
# as far as the row checks and the store; the rest are drawn from the whole vocabulary plus junk.
KNOWN_HEADERS = [
    ["patient_id", "session_date", "modality", "dose_mg"],
    ["patient_id", "assessment_date", "instrument", "item_1", "item_2", "item_9", "total"],
    ["patient_id", "session_date", "modality", "phq9_total", "gad7_total", "gad7_item_1"],
    ["patient_id", "age_band", "sex", "site"],
]
csv_tables = st.tuples(
    st.one_of(
        st.sampled_from(KNOWN_HEADERS),
        st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=8)), min_size=1, max_size=8),
    ),
    st.integers(0, 8),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    st.data(),
)

_STORE = None


def shared_store():
    """One store for all examples: earlier examples' rows make later conflicts possible, as in a clinic."""
    global _STORE
    if _STORE is None:
        _STORE = store.connect_memory()
    return _STORE


def render(header: list[str], n_rows: int, delimiter: str, encoding: str, data) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for _ in range(n_rows):
        writer.writerow(data.draw(st.lists(CELLS, min_size=len(header), max_size=len(header))))
    return buffer.getvalue().encode(encoding, errors="replace")


def check_answer(con, before: dict, result: ingest.ImportResult) -> None:
    """The importer's contract for any input."""
    assert all(p.reason and ingest.UNEXPECTED_REASON not in p.reason for p in result.problems), result.problems
    if result.refused:
        assert result.problems
        assert dump(con) == before
        return
    # What was stored obeys the format, whatever came in.
    assert {m for (m,) in con.execute("SELECT DISTINCT modality FROM sessions").fetchall()} <= set(MODALITIES)
    bad_scores = con.execute("""
        SELECT count(*) FROM assessments
        WHERE instrument NOT IN ('PHQ-9', 'GAD-7') OR total < 0 OR total > 27
           OR list_max(items) > 3 OR list_min(items) < 0
           OR (total IS NULL) <> (total_method = 'incomplete')
    """).fetchall()[0][0]
    assert bad_scores == 0
    assert (
        con.execute("SELECT count(*) FROM sessions WHERE session_date > ? OR dose_mg <= 0", [TODAY]).fetchall()[0][0]
        == 0
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["upload.csv", "upload.xlsx", "upload"]), data=st.binary(max_size=600))
def test_random_bytes_never_crash_the_importer(name, data):
    con = shared_store()
    before = dump(con)
    check_answer(con, before, ingest.import_bytes(con, [(name, data)], today=TODAY))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=csv_tables, skip_invalid=st.booleans())
def test_random_csvs_import_cleanly_or_are_refused_with_problems(table, skip_invalid):
    con = shared_store()
    before = dump(con)
    text = render(*table)
    result = ingest.import_bytes(con, [("random.csv", text)], today=TODAY, skip_invalid=skip_invalid)
    check_answer(con, before, result)
    event("imported" if result.ok else "refused")
    if result.ok and not skip_invalid:
        assert not result.problems
    if result.ok:
        # Nothing doubled: the same file again adds nothing.
        again = ingest.import_bytes(con, [("random.csv", text)], today=TODAY, skip_invalid=skip_invalid)
        assert again.ok and again.added == 0, [p.sentence() for p in again.problems]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=csv_tables, raw=st.binary(max_size=200))
def test_the_command_line_exits_0_or_2_and_never_shows_a_traceback(table, raw):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "random.csv").write_bytes(render(*table))
        (folder / "random.xlsx").write_bytes(raw)
        for path in (folder / "random.csv", folder / "random.xlsx"):
            shown = io.StringIO()
            with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
                code = cli.main(["import", "--quiet", "--db", str(folder / "store.duckdb"), str(path)])
            assert code in (0, 2), shown.getvalue()
            assert "Traceback" not in shown.getvalue() and ingest.UNEXPECTED_REASON not in shown.getvalue()
