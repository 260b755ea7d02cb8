"""The all-or-nothing write: new rows added, identical ones merged, the audit and quarantine rows."""

from __future__ import annotations

import getpass
import json

import duckdb
import pandas as pd

from analysis import store
from analysis.ingest.problems import FileSummary
from analysis.ingest.staging import Batch, register


def _current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return None


def _resolve_quarantine(
    con: duckdb.DuckDBPyConnection, incoming: dict[str, pd.DataFrame], import_ids: dict[str, int]
) -> None:
    """Quarantined rows of earlier imports whose key this import brings in cleanly are marked resolved.

    They stay in the table for the audit; the Data page hides them by default and counts them apart.
    A session-log row is resolved by its session or its scores; a row whose key could not be read
    (a bad patient id or date) stays open until it is cleared by hand or the store is rebuilt.
    """
    arrived = []
    if "sessions" in incoming:
        arrived.append(
            "SELECT n.patient_id, n.session_date AS record_date, o.import_id, ['sessions', 'session_log'] AS kinds "
            "FROM new_sessions n JOIN origin o USING (_file)"
        )
    if "assessments" in incoming:
        arrived.append(
            "SELECT n.patient_id, n.assessment_date AS record_date, o.import_id, ['assessments', 'session_log'] AS kinds "
            "FROM new_assessments n JOIN origin o USING (_file)"
        )
    if "patients" in incoming:
        arrived.append(
            "SELECT n.patient_id, NULL::DATE AS record_date, o.import_id, ['patients'] AS kinds "
            "FROM new_patients n JOIN origin o USING (_file)"
        )
    if not arrived:
        return
    first_id = min(import_ids.values())
    con.execute(
        f"""
        UPDATE quarantine q SET resolved_import_id = a.import_id
        FROM ({" UNION ALL ".join(arrived)}) a
        WHERE q.resolved_import_id IS NULL AND q.import_id < ?
          AND q.patient_id = a.patient_id AND q.record_date IS NOT DISTINCT FROM a.record_date
          AND list_contains(a.kinds, q.record_kind)
        """,
        [first_id],
    )


def write_batch(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    summaries: dict[str, FileSummary],
    labels_of: dict[str, str],
    problems: pd.DataFrame,
    *,
    user: str | None,
    options: dict,
) -> None:
    """Load the batch in one transaction: new rows are added, identical ones merge, the audit row is written."""
    incoming = {
        name: frame
        for name, frame in (
            ("sessions", batch.sessions),
            ("assessments", batch.assessments),
            ("patients", batch.patients),
        )
        if len(frame)
    }
    added_sql = {
        "sessions": "SELECT _file, _row FROM new_sessions ANTI JOIN sessions USING (patient_id, session_date)",
        "assessments": "SELECT _file, _row FROM new_assessments "
        "ANTI JOIN assessments USING (patient_id, assessment_date, instrument)",
        "patients": """SELECT n._file, n._row FROM new_patients n LEFT JOIN patients p USING (patient_id)
            WHERE p.patient_id IS NULL
               OR (p.age_band IS NULL AND n.age_band IS NOT NULL) OR (p.sex IS NULL AND n.sex IS NOT NULL)
               OR (p.primary_condition IS NULL AND n.primary_condition IS NOT NULL)
               OR (p.site IS NULL AND n.site IS NOT NULL) OR (p.clinician_id IS NULL AND n.clinician_id IS NOT NULL)""",
    }
    con.execute("BEGIN TRANSACTION")
    try:
        numbers = con.execute("SELECT nextval('import_id_seq') FROM range(?)", [len(summaries)]).fetchall()
        import_ids = {name: number for name, (number,) in zip(summaries, numbers)}
        origin = pd.DataFrame(
            {"_file": list(labels_of), "import_id": [import_ids[labels_of[label]] for label in labels_of]}
        )
        con.register("origin", origin)
        for name, frame in incoming.items():
            # Read each batch once into a temporary table: it is used three times below.
            register(con, f"new_{name}", name, frame, materialise=True)
        added_per_label = {}
        if incoming:
            added_per_label = dict(
                con.execute(
                    # DISTINCT: a session-log row gives several assessments (one UNION branch alone keeps them all).
                    "SELECT _file, count(DISTINCT _row) FROM ("
                    + " UNION ".join(added_sql[name] for name in incoming)
                    + ") GROUP BY _file"
                ).fetchall()
            )
        if "sessions" in incoming:
            con.execute("""
                INSERT INTO sessions
                SELECT n.patient_id, n.session_date, n.modality, n.dose_mg, n.site, n.clinician_id, o.import_id
                FROM new_sessions n JOIN origin o USING (_file)
                ANTI JOIN sessions s USING (patient_id, session_date)
            """)
        if "assessments" in incoming:
            con.execute("""
                INSERT INTO assessments
                SELECT n.patient_id, n.assessment_date, n.instrument, n.items, n.total, n.total_method,
                       n.items_answered, n.item9, o.import_id
                FROM new_assessments n JOIN origin o USING (_file)
                ANTI JOIN assessments a USING (patient_id, assessment_date, instrument)
            """)
        if "patients" in incoming:
            con.execute("""
                UPDATE patients p SET age_band = coalesce(p.age_band, n.age_band), sex = coalesce(p.sex, n.sex),
                    primary_condition = coalesce(p.primary_condition, n.primary_condition),
                    site = coalesce(p.site, n.site), clinician_id = coalesce(p.clinician_id, n.clinician_id)
                FROM new_patients n WHERE p.patient_id = n.patient_id
                  AND ((p.age_band IS NULL AND n.age_band IS NOT NULL) OR (p.sex IS NULL AND n.sex IS NOT NULL)
                    OR (p.primary_condition IS NULL AND n.primary_condition IS NOT NULL)
                    OR (p.site IS NULL AND n.site IS NOT NULL) OR (p.clinician_id IS NULL AND n.clinician_id IS NOT NULL))
            """)
            con.execute("""
                INSERT INTO patients
                SELECT n.patient_id, n.age_band, n.sex, n.primary_condition, n.site, n.clinician_id, o.import_id
                FROM new_patients n JOIN origin o USING (_file)
                ANTI JOIN patients p USING (patient_id)
            """)
        seen = [f"SELECT patient_id, _file FROM new_{name}" for name in ("sessions", "assessments") if name in incoming]
        if seen:
            # Every patient seen in a session or an assessment gets a (pseudonymous) patient row.
            con.execute(f"""
                INSERT INTO patients (patient_id, import_id)
                SELECT patient_id, min(o.import_id) FROM ({" UNION ALL ".join(seen)}) JOIN origin o USING (_file)
                WHERE patient_id NOT IN (SELECT patient_id FROM patients)
                GROUP BY patient_id
            """)
        rejected_per_label = problems.drop_duplicates(["file", "row"])["file"].value_counts().to_dict()
        for name, summary in summaries.items():
            labels = [label for label, owner in labels_of.items() if owner == name]
            summary.rows_added = int(sum(added_per_label.get(label, 0) for label in labels))
            summary.rows_rejected = int(sum(rejected_per_label.get(label, 0) for label in labels))
            summary.rows_merged = summary.rows_read - summary.rows_added - summary.rows_rejected
            con.execute(
                "INSERT INTO imports VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    import_ids[name],
                    name,
                    summary.size,
                    summary.sha256,
                    ", ".join(summary.kinds),
                    summary.rows_read,
                    summary.rows_added,
                    summary.rows_merged,
                    summary.rows_rejected,
                    user,
                    json.dumps(options),
                ],
            )
        if len(problems):
            quarantined = problems.assign(
                import_id=problems["file"].map({label: import_ids[owner] for label, owner in labels_of.items()})
            )
            con.register("quarantined", quarantined)
            con.execute("""
                INSERT INTO quarantine (import_id, file_name, row_number, column_name, value, reason,
                                        record_kind, patient_id, record_date)
                SELECT import_id, "file", CAST("row" AS INTEGER), "column", CAST("value" AS VARCHAR), reason,
                       record_kind, patient_id, CAST(record_date AS DATE)
                FROM quarantined
            """)
            con.unregister("quarantined")
        _resolve_quarantine(con, incoming, import_ids)
        if added_per_label:
            store.bump_data_version(con)
        for name in incoming:
            con.execute(f"DROP TABLE new_{name}")  # constant names
        con.unregister("origin")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
