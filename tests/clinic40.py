"""A small clinic's first quarter, as its own exports: 40 patients, PHQ-9 totals only, two bad rows.

The clinic keeps one session log (layout B, the clinic's own headers: Patient, Visit Date, Treatment,
Location, Clinician, PHQ-9 Total) and scores the PHQ-9 before every session, never after the last one.
Worked by hand, for the tests of issue 12:

- 30 ketamine IV courses (L = 6), sessions every 3 days; 10 esketamine courses (L = 8), every 4 days.
- IV-01..IV-27 and ES-01..ES-04 finish induction: 31 completed inductions.
- IV-01..IV-05 alone come back for a PHQ-9 7 days after session 6 (t = 6, inside the 28-day window):
  the only completers, n = 5. The 26 others finished induction without an end-of-induction score.
- IV-28, IV-29 stop after 2 sessions and ES-05, ES-06 after 3, in January: finished, not completed.
- IV-30 (25, 28, 31 Mar) and ES-07..ES-10 (from 10, 14, 18, 22 Mar) are in progress: 5 courses.
  The data's last date is 31 Mar 2026; every course starts in 2026Q1.
- Baselines: IV-27 scores 8 (below the threshold of 10, not eligible); every other baseline is 10+.
  ITT = 40 - 5 in progress - 1 not eligible = 34 courses.
- Every PHQ-9 is a total: item 9 is unknown at every baseline (40 courses).
- Trajectory: t = 7 is reached only by ES-01..ES-04 (scored before session 8): n = 4, below 5.
- The first export has two bad rows: IV-12's third visit has "PHQ-9 Total" 31 (over 27) and IV-20's
  second visit has Location "North site" (a space, not a pseudonym). The corrected export fixes both.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from analysis import ingest, store

TODAY = dt.date(2026, 11, 30)
DATA_END = dt.date(2026, 3, 31)
QUARTER = "2026Q1"
HEADER = "Patient,Visit Date,Treatment,Location,Clinician,PHQ-9 Total"
BAD_ROWS = {("IV-12", 3): ("PHQ-9 Total", "31"), ("IV-20", 2): ("Location", "North site")}
COMPLETERS = ("IV-01", "IV-02", "IV-03", "IV-04", "IV-05")
FINISHED_WITHOUT_END_SCORE = 26
IN_PROGRESS = 5


def _courses() -> list[dict]:
    """One dict per patient: sessions (dates), modality text, site, clinician, baseline and fall per session."""
    courses = []
    for number in range(1, 31):
        if number <= 27:
            start, count = dt.date(2026, 1, 5) + dt.timedelta(days=2 * (number - 1)), 6
        elif number <= 29:
            start, count = dt.date(2026, 1, 8) + dt.timedelta(days=4 * (number - 28)), 2
        else:
            start, count = dt.date(2026, 3, 25), 3
        courses.append(
            {
                "patient": f"IV-{number:02d}",
                "dates": [start + dt.timedelta(days=3 * k) for k in range(count)],
                "treatment": "Ketamine IV",
                "baseline": 8 if number == 27 else 12 + number % 12,
                "fall": 1 + number % 4,
                "number": number,
            }
        )
    starts = {1: (1, 6), 2: (1, 13), 3: (1, 20), 4: (1, 27), 5: (1, 9), 6: (1, 16)}
    starts |= {7: (3, 10), 8: (3, 14), 9: (3, 18), 10: (3, 22)}
    for number in range(1, 11):
        start = dt.date(2026, *starts[number])
        if number <= 4:
            count = 8
        elif number <= 6:
            count = 3
        else:
            count = len(range(0, (DATA_END - start).days + 1, 4))
        courses.append(
            {
                "patient": f"ES-{number:02d}",
                "dates": [start + dt.timedelta(days=4 * k) for k in range(count)],
                "treatment": "Spravato",
                "baseline": 14 + number % 8,
                "fall": 1 + number % 3,
                "number": number,
            }
        )
    return courses


def session_log(*, corrected: bool = False) -> bytes:
    """The clinic's session log as exported; `corrected` is the second export with the two rows fixed."""
    lines = [HEADER]
    for course in _courses():
        site = "NORTH" if course["number"] % 2 else "SOUTH"
        clinician = "CLN-A" if course["number"] % 3 else "CLN-B"
        for k, date in enumerate(course["dates"]):
            score = max(course["baseline"] - course["fall"] * k, 0)
            row_site, row_score = site, str(score)
            bad = BAD_ROWS.get((course["patient"], k + 1))
            if bad and not corrected:
                row_site = bad[1] if bad[0] == "Location" else site
                row_score = bad[1] if bad[0] == "PHQ-9 Total" else row_score
            lines.append(
                f"{course['patient']},{date.isoformat()},{course['treatment']},{row_site},{clinician},{row_score}"
            )
        if course["patient"] in COMPLETERS:
            follow_up = course["dates"][-1] + dt.timedelta(days=7)
            score = max(course["baseline"] - course["fall"] * len(course["dates"]), 0)
            lines.append(f"{course['patient']},{follow_up.isoformat()},,{site},{clinician},{score}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_exports(folder: Path) -> tuple[Path, Path]:
    """The first export and the corrected one, as the clinic would save them."""
    first = folder / "session_log_2026Q1.csv"
    fixed = folder / "session_log_2026Q1_fixed.csv"
    first.write_bytes(session_log())
    fixed.write_bytes(session_log(corrected=True))
    return first, fixed


def build(path: Path, *, corrected: bool = True) -> Path:
    """The store after the first import with --skip-invalid and, unless told not to, the corrected re-import."""
    with store.opened(path) as con:
        result = ingest.import_bytes(con, [("session_log_2026Q1.csv", session_log())], skip_invalid=True, today=TODAY)
        assert result.ok and result.rejected == 2, [p.sentence() for p in result.problems]
        if corrected:
            again = ingest.import_bytes(
                con, [("session_log_2026Q1_fixed.csv", session_log(corrected=True))], today=TODAY
            )
            assert again.ok, [p.sentence() for p in again.problems]
    return path
