"""Sources told by their content: FHIR JSON / NDJSON and Synthea CSV become canonical layout-A tables;
anything else is read as a CSV or .xlsx table. All of them then pass the same checks."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis.ingest.problems import Problem
from analysis.ingest.pseudonyms import ClinicKey
from analysis.ingest.readers import RawTable, ReadError, read_table_bytes
from analysis.ingest.sources import synthea
from analysis.ingest.sources.fhir import Record, Resource, bundle_links, looks_like_fhir, parse, read_fhir

NEEDS_KEY = (
    "{name} is a {what} export: its patient ids are always replaced by pseudonyms, and this import was given "
    "no pseudonym key. Import it with `python -m analysis import`, which uses the key beside the store."
)

NOTHING_TO_READ = (
    "{name} is FHIR JSON but holds no questionnaire scores this dashboard reads and no ketamine or esketamine "
    "sessions (it holds {held}); nothing to import. The accepted codes are listed in docs/FHIR.md."
)


@dataclass
class Source:
    """One uploaded file as tables of text cells, with what was skipped and which resource each row came from."""

    name: str
    data: bytes
    tables: list[RawTable]
    skipped: Counter = field(default_factory=Counter)
    resources: dict[str, dict[int, str]] = field(default_factory=dict)  # table label -> row -> 'Type/id'
    # The export's own headers where a table was reshaped (Synthea), so --drop-columns may name any of them.
    columns: set[str] = field(default_factory=set)
    pseudonymised: bool = False  # FHIR and Synthea tables: canonical, patient ids already replaced


def needs_pseudonyms(data: bytes) -> bool:
    """Whether a file is a FHIR or Synthea export, whose patient ids are always pseudonymised (told from
    its first bytes, so the command line creates a key only when one is needed)."""
    if looks_like_fhir(data):
        return True
    first_line = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0].decode("utf-8", "replace")
    return synthea.is_header(first_line.split(","))


def read_sources(
    sources: Sequence[tuple[str, bytes]], pseudonym_key: ClinicKey | None
) -> tuple[list[Source], list[Problem]]:
    """Read every file of one import; FHIR files are read together, so references may cross files."""
    read: list[Source] = []
    problems: list[Problem] = []
    fhir_files: list[tuple[str, bytes, list[Resource]]] = []
    pseudonym = pseudonym_key.pseudonym if pseudonym_key else None
    for name, data in sources:
        try:
            if looks_like_fhir(data):
                if pseudonym is None:
                    raise ReadError(NEEDS_KEY.format(name=name, what="FHIR JSON"))
                fhir_files.append((name, data, parse(name, data)))
                continue
            source = Source(name, data, read_table_bytes(name, data))
            source.tables = [_synthea(table, source, pseudonym) for table in source.tables]
            read.append(source)
        except ReadError as error:
            problems.append(Problem(name, None, None, None, str(error)))
    if fhir_files and not problems:
        links = {}
        for name, data, _ in fhir_files:
            links |= bundle_links(name, data)
        found = read_fhir([r for _, _, resources in fhir_files for r in resources], links, pseudonym)
        if not found.assessments and not found.sessions:
            for name, _, resources in fhir_files:
                held = found.skipped.get(name) or Counter(r.kind for r in resources)
                shown = ", ".join(f"{count} {kind}" for kind, count in held.most_common(4)) or "no resources"
                problems.append(Problem(name, None, None, None, NOTHING_TO_READ.format(name=name, held=shown)))
            return read, problems
        for name, data, resources in fhir_files:
            # The audit keeps the file name; Synthea names its files First_Last_<patient id>.json.
            shown = scrubbed(name, resources, pseudonym)
            source = Source(shown, data, [], found.skipped.get(name, Counter()), pseudonymised=True)
            for kind, records in (("assessments", found.assessments), ("sessions", found.sessions)):
                if records.get(name):
                    table, rows = _table(f"{shown} [{kind}]", records[name])
                    source.tables.append(table)
                    source.resources[table.label] = rows
            read.append(source)
    order = {id(data): k for k, (_, data) in enumerate(sources)}
    return sorted(read, key=lambda s: order[id(s.data)]), problems


def scrubbed(name: str, resources: list[Resource], pseudonym: Callable[[str], str]) -> str:
    """A FHIR file's name with its patients' ids replaced by pseudonyms and their names left out, as the
    audit trail may keep it ('Barney639_Cormier289_9808a1c3-….json' -> 'name_name_P-…json')."""
    for resource in resources:
        if resource.kind != "Patient":
            continue
        body = resource.body
        if body.get("id") and len(str(body["id"])) >= 3:
            name = name.replace(str(body["id"]), pseudonym(str(body["id"])))
        for person in body.get("name") if isinstance(body.get("name"), list) else []:
            if not isinstance(person, dict):
                continue
            given = person.get("given") if isinstance(person.get("given"), list) else []
            parts = [*given, person.get("family") or "", person.get("text") or ""]
            for part in sorted((str(p) for p in parts if p and len(str(p)) >= 2), key=len, reverse=True):
                name = re.sub(re.escape(part), "name", name, flags=re.IGNORECASE)
    return name


def _synthea(table: RawTable, source: Source, pseudonym: Callable[[str], str] | None) -> RawTable:
    if synthea.is_patients(table) and pseudonym is None:
        return table  # read as any table: refused for its identifying columns, or as not a clinic table
    if synthea.is_observations(table) or synthea.is_patients(table):
        if pseudonym is None:
            raise ReadError(NEEDS_KEY.format(name=source.name, what="Synthea"))
        read = synthea.observations if synthea.is_observations(table) else synthea.patients
        source.columns |= {str(c) for c in table.frame.columns}
        table, skipped = read(table, pseudonym)
        source.skipped += skipped
        source.pseudonymised = True
    return table


def _table(label: str, records: list[Record]) -> tuple[RawTable, dict[int, str]]:
    """Records as a table of text cells; a record's place (entry or line) is its row number."""
    columns = list(dict.fromkeys(column for record in records for column in record.cells))
    items = sorted((c for c in columns if c.startswith("item_")), key=lambda c: int(c.split("_")[1]))
    columns = [c for c in columns if not c.startswith("item_") and c != "total"] + items
    columns += ["total"] if any("total" in r.cells for r in records) else []
    frame = pd.DataFrame(
        [[record.cells.get(column, "") for column in columns] for record in records], columns=columns, dtype=str
    )
    # RawTable's contract: row k of the frame is spreadsheet row k + 2, so problems say "row <place>".
    frame.index = [record.place - 2 for record in records]
    return RawTable(label, frame.fillna("")), {record.place: record.resource for record in records}


def name_resources(problems: pd.DataFrame, resources: dict[str, dict[int, str]]) -> pd.DataFrame:
    """Add the FHIR resource to each problem of a row that came from one, so it can be found in the export."""
    if problems.empty or not resources:
        return problems
    named = [
        resources.get(file, {}).get(int(row)) if pd.notna(row) else None
        for file, row in zip(problems["file"], problems["row"])
    ]
    if not any(named):
        return problems
    reasons = [f"{reason} ({name})" if name else reason for reason, name in zip(problems["reason"], named)]
    return problems.assign(reason=reasons)
