"""What an import reports: problems (file, row, column, value, reason), file summaries, the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

UNEXPECTED_REASON = "the importer failed unexpectedly"
MAX_VALUE_SHOWN = 80  # a problem quotes at most this much of a cell

Progress = Callable[[float, str], None]
PROBLEM_COLUMNS = ["file", "row", "column", "value", "reason"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import, precise enough to find and fix in the spreadsheet."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def sentence(self) -> str:
        if self.row is None and self.column is None and self.reason.startswith(self.file):
            return self.reason
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column and not (self.row is None and self.column in self.reason):
            where += f", column {self.column}"
        shown = f" {self.value!r}" if self.value not in (None, "") else ""
        return f"{where}:{shown} {self.reason}"


@dataclass
class FileSummary:
    name: str
    kinds: list[str]
    size: int
    sha256: str
    rows_read: int = 0
    rows_added: int = 0
    rows_merged: int = 0
    rows_rejected: int = 0
    notes: list[str] = field(default_factory=list)  # how cells were read (date order, rows left out)
    # What a FHIR or Synthea source held that is not outcome data (PHQ-2, other resources): what -> count.
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportResult:
    refused: bool
    problems: list[Problem] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def added(self) -> int:
        return sum(f.rows_added for f in self.files)

    @property
    def merged(self) -> int:
        return sum(f.rows_merged for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def summary_line(self) -> str:
        if self.refused:
            rows = len({(p.file, p.row) for p in self.problems if p.row is not None})
            return (
                f"Import refused: {len(self.problems)} problem(s)"
                + (f" in {rows} row(s)" if rows else "")
                + "; nothing was changed in the store."
            )
        notes = [f"{f.name}: {note}" for f in self.files for note in f.notes]
        return (
            f"Imported {sum(f.rows_read for f in self.files)} rows: "
            f"{self.added} added, {self.merged} already in the store (merged), {self.rejected} rejected"
            + (" and kept in quarantine." if self.rejected else ".")
            + "".join(f" {note}" for note in notes)
            + self.skipped_line()
        )

    def skipped_line(self) -> str:
        """' Skipped, not outcome data: 4 PHQ-2 (Observation), …' or '' when nothing was skipped."""
        skipped: dict[str, int] = {}
        for summary in self.files:
            for what, count in summary.skipped.items():
                skipped[what] = skipped.get(what, 0) + count
        if not skipped:
            return ""
        return " Skipped, not outcome data: " + "; ".join(f"{count} {what}" for what, count in skipped.items()) + "."

    def problems_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(
            [(p.file, p.row, p.column, p.value, p.reason) for p in self.problems],
            columns=PROBLEM_COLUMNS,
        )
        # Whole numbers with gaps (a file-level problem has no row): written 2, never 2.0.
        frame["row"] = frame["row"].astype("Int64")
        return frame


class Refusal(Exception):
    """A problem with a whole table (not one row): the import cannot go on."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].sentence())
        self.problems = problems


_NO_PROBLEMS = pd.DataFrame({column: pd.Series(dtype=object) for column in PROBLEM_COLUMNS})


def shown_value(value: str) -> str:
    """A cell as a problem quotes it: at most MAX_VALUE_SHOWN characters."""
    return value if len(value) <= MAX_VALUE_SHOWN else value[: MAX_VALUE_SHOWN - 1] + "…"


def empty_problems() -> pd.DataFrame:
    """No problems (one shared, never-modified frame: building a DataFrame is slow next to a small import)."""
    return _NO_PROBLEMS


def problems_from(frame: pd.DataFrame) -> list[Problem]:
    """Problem objects from a frame of problems (file, row, column, value, reason)."""
    rows = [None if pd.isna(r) else int(r) for r in frame["row"].tolist()]
    values = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame["value"].tolist()]
    return [
        Problem(*fields)
        for fields in zip(frame["file"].tolist(), rows, frame["column"].tolist(), values, frame["reason"].tolist())
    ]
