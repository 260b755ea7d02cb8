"""What the FHIR files of one import become: rows of the canonical tables, per file, and what was skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from analysis.ingest.sources.fhir.files import Resource


@dataclass
class Record:
    """One row of a canonical table, built from one or more resources."""

    file: str
    place: int
    resource: str
    cells: dict[str, str]


@dataclass
class FhirRead:
    """What the FHIR files of one import hold, per file: rows for the canonical tables and what was skipped."""

    assessments: dict[str, list[Record]] = field(default_factory=dict)
    sessions: dict[str, list[Record]] = field(default_factory=dict)
    skipped: dict[str, Counter] = field(default_factory=dict)

    def skip(self, resource: Resource, why: str) -> None:
        """Count a resource that is not read, under its file, by why."""
        self.skipped.setdefault(resource.file, Counter())[why] += 1
