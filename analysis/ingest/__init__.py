"""Clinic exports into the store: read -> headers and identifier guard -> row checks -> duplicates -> write.

Every source (CSV, .xlsx, and the mapped, FHIR and Synthea sources) feeds the same checks, and an
import is all or nothing unless the caller asks to set invalid rows aside in quarantine.
"""

from analysis.ingest.pipeline import import_bytes, import_files, import_tables
from analysis.ingest.problems import (
    MAX_VALUE_SHOWN,
    PROBLEM_COLUMNS,
    UNEXPECTED_REASON,
    FileSummary,
    ImportResult,
    Problem,
    Progress,
)

__all__ = [
    "MAX_VALUE_SHOWN",
    "PROBLEM_COLUMNS",
    "UNEXPECTED_REASON",
    "FileSummary",
    "ImportResult",
    "Problem",
    "Progress",
    "import_bytes",
    "import_files",
    "import_tables",
]
