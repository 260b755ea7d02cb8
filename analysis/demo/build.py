"""Fill a store with the synthetic demo clinic, through the same importer a clinic uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from analysis import store


class DemoError(ValueError):
    """The demo cannot go where it was asked to; the message says where it can."""


def build(path: str | Path, *, n_patients: int = 400, seed: int = 7, end_date: dt.date | None = None) -> str:
    """Generate the demo clinic into `path` (a new or empty store) and mark it as demo data."""
    from analysis import ingest
    from analysis.demo import clinic as demo

    end_date = end_date or dt.date.today()
    clinic = demo.generate_clinic(n_patients=n_patients, seed=seed, end_date=end_date)
    with store.opened(path) as con:
        if any(count for table, count in store.counts(con).items() if table in ("sessions", "assessments")):
            raise DemoError(f"The store {path} already holds data; name a new file for the demo clinic.")
        result = ingest.import_tables(
            con,
            [
                ("demo_patients.csv", clinic["patients"]),
                ("demo_sessions.csv", clinic["sessions"]),
                ("demo_assessments.csv", clinic["assessments"]),
            ],
            today=max(end_date, dt.date.today()),
            user="demo",
        )
        if result.refused:
            raise RuntimeError(
                "The demo generator produced rows the importer refused: "
                + "; ".join(p.sentence() for p in result.problems[:5])
            )
        store.set_meta(con, "demo", "true")
        from analysis.engine.timeline import save_report_cache
        from analysis.settings import load_settings

        save_report_cache(con, load_settings())
    return (
        f"Demo clinic written to {path}: {len(clinic['patients'])} patients, "
        f"{len(clinic['sessions'])} sessions, {len(clinic['assessments'])} assessments (synthetic, seed {seed})."
    )


def ensure_default_demo(path: str | Path) -> bool:
    """Seed the demo clinic only at the default path, and only when no store exists there yet.

    A path the user named is never given demo data: a new one opens as an empty store.
    Returns True when the demo was built now.
    """
    path = Path(path)
    if path.exists() or not store.is_default_path(path):
        return False
    try:
        build(path)
    except BaseException:
        # A half-built demo would be mistaken for a clinic's store next time.
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
        raise
    return True
