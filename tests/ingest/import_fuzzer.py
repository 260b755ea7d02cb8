"""A generative fuzzer for the importer: valid clinic exports, one to three mutations, and the contract checked.

`exports()` draws a small valid clinic (several patients, sessions on many days, every instrument,
items and totals, prorated and incomplete scores) and writes it the ways clinics do: layout A
(patients, sessions and assessments tables) or a layout B session log, as CSV files in several
encodings and delimiters or as sheets of one .xlsx with real date cells, with header and value
aliases. It then applies mutations drawn from MUTATIONS, one per rule of DATA_FORMAT.md, each
remembering which rows (file label and spreadsheet row) or which file the importer must name.

`check_import()` runs the command line on the export and checks the contract: exit 0 or 2, no
traceback; a refusal leaves every table as it was; every mutated row or file is named; with
--skip-invalid exactly the mutated rows are quarantined and the store holds every other row, as
the model computes it independently of the importer. tests/ingest/test_import_fuzz.py runs a
bounded number of examples; bench/fuzz_import.py runs it for minutes.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pandas as pd
from hypothesis import strategies as st
from test_importer import dump, empty_store_dump, xlsx

from analysis import cli, ingest, store
from analysis.instruments import INSTRUMENTS
from analysis.vocabulary import AGE_BANDS, CONDITIONS, MODALITIES, SEXES

FIRST_DAY = dt.date(2023, 1, 2)
LAST_DAY = dt.date(2025, 12, 31)  # before the machine's today, which the command line checks dates against

# ---------------------------------------------------------------------------
# Words clinics write (DATA_FORMAT.md): every one must mean what the comment beside it says.

HEADER_ALIASES = {
    "patient_id": ["patient_id", "Patient ID", "PatientID", "pseudonym", "client_id", "Subject ID"],
    "session_date": ["session_date", "Session Date", "treatment_date", "Visit Date", "infusion_date"],
    "assessment_date": ["assessment_date", "Assessment Date", "score_date", "Date Completed"],
    "instrument": ["instrument", "Instrument", "measure", "Questionnaire", "scale"],
    "modality": ["modality", "Route", "treatment", "Treatment Type"],
    "dose_mg": ["dose_mg", "Dose (mg)", "dose", "Dosage"],
    "site": ["site", "Site", "location", "clinic"],
    "clinician_id": ["clinician_id", "Clinician", "provider", "Provider ID"],
    "age_band": ["age_band", "Age Group", "age_range"],
    "sex": ["sex", "Sex", "Gender"],
    "primary_condition": ["primary_condition", "Diagnosis", "condition"],
    "total": ["total", "Total Score", "score"],
}
ITEM_HEADER_STYLES = ["item_{k}", "Q{k}", "Item {k}", "question_{k}"]  # for k <= 9 (one digit)
# The session-log score headers DATA_FORMAT.md and the tests show for PHQ-9 and GAD-7.
LOG_TOTAL_STYLES = ["{prefix}_total", "{code} Total", "{compact} score"]
LOG_ITEM_STYLES = ["{prefix}_item_{k}", "{code} Q{k}", "{prefix}_q{k}"]
ALIASED_LOG_PREFIXES = {"phq9", "gad7"}
MODALITY_WORDS = {
    "ketamine_im": ["ketamine_im", "IM", "im", "Ketamine IM", "intramuscular", "Ketamine IM 0.5 mg/kg"],
    "ketamine_iv": ["ketamine_iv", "IV", "Ketamine IV", "infusion", "IV infusion"],
    "ketamine_oral": ["ketamine_oral", "oral", "SL", "troche", "Ketamine troche"],
    "esketamine_nasal": ["esketamine_nasal", "Spravato", "esketamine", "Spravato 84mg", "ESKETAMINE"],
}
SEX_WORDS = {"F": ["F", "f", "female", "Female"], "M": ["M", "male"], "X": ["X", "nonbinary"], "U": ["U", "unknown"]}
CONDITION_WORDS = {
    "TRD": ["TRD", "treatment resistant depression"],
    "MDD": ["MDD", "depression", "Major depressive disorder"],
    "PTSD": ["PTSD", "post-traumatic stress disorder"],
    "GAD": ["GAD", "Generalized anxiety disorder"],
    "bipolar depression": ["bipolar depression", "bipolar"],
    "OCD": ["OCD"],
    "other": ["other", "Other"],
}
AGE_WORDS = {band: [band] for band in AGE_BANDS} | {"65+": ["65+", "65 plus"]}


def instrument_words(code: str) -> list[str]:
    """PHQ-9, PHQ9, phq_9 (DATA_FORMAT.md: such spellings are mapped)."""
    return [code, code.replace("-", ""), code.lower().replace("-", "_")]


# ---------------------------------------------------------------------------
# The model: tables of rows, each row knowing what the store must hold from it.


@dataclass
class Row:
    cells: dict[str, object]  # canonical column -> value (str, int, float, date); absent = blank
    facts: list[tuple] = field(default_factory=list)  # ("session"|"assessment"|"patient", key, value)
    preloaded: bool = False  # imported before the case (an earlier, overlapping export)


@dataclass
class Table:
    kind: str  # patients | sessions | assessments | session_log
    columns: list[str]  # canonical columns, in order
    headers: dict[str, str]  # canonical column -> header as written
    rows: list[Row]
    sheet: str = ""
    extra: list[tuple[str, list[str]]] = field(default_factory=list)  # (header, cells) added by a mutation


@dataclass
class File:
    name: str
    format: str  # csv | xlsx
    tables: list[Table]
    encoding: str = "utf-8"
    delimiter: str = ","
    damage: str = ""  # bad_byte | utf16_without_bom | truncated (a mutation)

    def label(self, table: Table) -> str:
        return f"{self.name} [{table.sheet}]" if self.format == "xlsx" else self.name


@dataclass
class Expect:
    """What one mutation obliges the importer to say."""

    mutation: str
    level: str  # row (quarantined with --skip-invalid) | refuse_row (refused anyway) | header | read
    rows: set[tuple[str, int]] = field(default_factory=set)  # (label, spreadsheet row) to be named
    label: str = ""  # the file or sheet to be named (header and read levels)


@dataclass
class Case:
    files: list[File]
    preload: list[File]  # clean rows imported first (conflicts against the store)
    expects: list[Expect] = field(default_factory=list)
    touched: set[tuple[int, int, int]] = field(default_factory=set)  # (file, table, row) already mutated

    def describe(self) -> str:
        return "; ".join(f"{e.mutation} -> {sorted(e.rows) or e.label}" for e in self.expects) or "no mutation"


# ---------------------------------------------------------------------------
# Scores, computed here without the importer (OUTCOMES.md §1).


def expected_score(code: str, items: list[int | None], total: int | None) -> tuple[int | None, str]:
    instrument = INSTRUMENTS[code]
    answered = [a for a in items if a is not None]
    missing = instrument.n_items - len(answered)
    if missing == 0:
        return sum(answered), "summed"
    if total is not None:
        return total, "supplied"
    if missing <= instrument.max_missing_for_prorating:
        exact = Fraction(sum(answered) * instrument.n_items, len(answered))
        return int(exact + Fraction(1, 2)), "prorated"  # round half up
    return None, "incomplete"


@st.composite
def scores(draw, code: str) -> tuple[list[int | None], int | None]:
    """Item answers (None = blank) and a written total (None = blank) of one valid administration."""
    instrument = INSTRUMENTS[code]
    n = instrument.n_items
    shape = draw(st.sampled_from(["complete", "complete_with_total", "prorated", "supplied", "incomplete", "total"]))
    answers = draw(st.lists(st.integers(instrument.item_min, instrument.item_max), min_size=n, max_size=n))
    if shape == "total":
        return [None] * n, draw(st.integers(0, instrument.total_max))
    if shape.startswith("complete"):
        return answers, sum(answers) if shape == "complete_with_total" else None
    most = instrument.max_missing_for_prorating
    if shape == "incomplete":
        if most + 1 >= n:
            return [None] * n, draw(st.integers(0, instrument.total_max))
        k = draw(st.integers(most + 1, n - 1))
    else:
        k = draw(st.integers(1, max(most, 1)))
    blank = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    items = [None if i in blank else a for i, a in enumerate(answers)]
    total = draw(st.integers(0, instrument.total_max)) if shape == "supplied" else None
    return items, total


# ---------------------------------------------------------------------------
# A valid clinic


pseudonyms = st.builds(
    lambda prefix, number: f"{prefix}{number:03d}",
    st.sampled_from(["K-", "P", "pt_", "Z.", "CL-A-", "r"]),
    st.integers(1, 999),
)
days = st.integers(0, (LAST_DAY - FIRST_DAY).days).map(lambda k: FIRST_DAY + dt.timedelta(days=k))
doses = st.one_of(
    st.none(),
    st.integers(1, 300).map(float),
    st.sampled_from([12.5, 35.5, 0.5, 84.0, 1500.0]),
)


@st.composite
def date_cell(draw, day: dt.date, xlsx_cells: bool) -> object:
    """A date as clinics write it: an Excel date cell, ISO, or ISO with a time of day."""
    forms = ["iso", "time", "t"] + (["cell", "cell", "datetime"] if xlsx_cells else [])
    form = draw(st.sampled_from(forms))
    return {
        "iso": day.isoformat(),
        "time": f"{day.isoformat()} 09:30",
        "t": f"{day.isoformat()}T14:05:00",
        "cell": day,
        "datetime": dt.datetime.combine(day, dt.time(10, 15)),
    }.get(form)


@st.composite
def number_cell(draw, value: float, xlsx_cells: bool) -> object:
    if value.is_integer():
        forms = [str(int(value)), f"{int(value)}.0"] + ([int(value)] if xlsx_cells else [])
    else:
        forms = [repr(value)] + ([value] if xlsx_cells else [])
        if len(repr(value).split(".")[1]) <= 2:
            forms.append(repr(value).replace(".", ","))  # a European decimal comma
    return draw(st.sampled_from(forms))


@st.composite
def item_cell(draw, value: int, xlsx_cells: bool) -> object:
    return draw(st.sampled_from([str(value), f"{value}.0"] + ([value] if xlsx_cells else [])))


def _headers(draw, columns: list[str]) -> dict[str, str]:
    style = draw(st.sampled_from(ITEM_HEADER_STYLES))
    log_total = draw(st.sampled_from(LOG_TOTAL_STYLES))
    log_item = draw(st.sampled_from(LOG_ITEM_STYLES))
    headers = {}
    for column in columns:
        if column in HEADER_ALIASES:
            headers[column] = draw(st.sampled_from(HEADER_ALIASES[column]))
        elif column.startswith("item_") and int(column[5:]) <= 9:
            headers[column] = style.format(k=column[5:])
        elif "_item_" in column or column.endswith("_total"):
            prefix = column.split("_")[0]
            code = next(c for c, i in INSTRUMENTS.items() if i.log_prefix == prefix)
            k = column.rsplit("_", 1)[1]
            aliased = prefix in ALIASED_LOG_PREFIXES and (column.endswith("_total") or int(k) <= 9)
            pattern = (log_total if column.endswith("_total") else log_item) if aliased else None
            headers[column] = (
                pattern.format(prefix=prefix, code=code, compact=code.replace("-", ""), k=k) if pattern else column
            )
        else:
            headers[column] = column
    return headers


@st.composite
def clinics(draw) -> dict:
    """Patients with attributes, sessions and administrations, as plain data."""
    ids = draw(st.lists(pseudonyms, min_size=1, max_size=4, unique_by=str.lower))
    patients = []
    for pid in ids:
        session_days = draw(st.lists(days, min_size=1, max_size=5, unique=True))
        score_days = draw(st.lists(st.sampled_from(session_days) | days, min_size=1, max_size=5, unique=True))
        administrations = []
        for day in score_days:
            codes = draw(
                st.lists(st.sampled_from(sorted(INSTRUMENTS)), min_size=1, max_size=len(INSTRUMENTS), unique=True)
            )
            for code in codes:
                items, total = draw(scores(code))
                administrations.append((day, code, items, total))
        patients.append(
            {
                "patient_id": pid,
                "age_band": draw(st.none() | st.sampled_from(AGE_BANDS)),
                "sex": draw(st.none() | st.sampled_from(SEXES)),
                "primary_condition": draw(st.none() | st.sampled_from(CONDITIONS)),
                "site": draw(st.none() | st.sampled_from(["NORTH", "south-2", "Clinic.A"])),
                "clinician_id": draw(st.none() | st.sampled_from(["CLN-1", "dr_7", "C.09"])),
                "sessions": [
                    (
                        day,
                        draw(st.sampled_from(MODALITIES)),
                        draw(doses),
                        draw(st.none() | st.sampled_from(["NORTH", "EAST"])),
                        draw(st.none() | st.sampled_from(["CLN-1", "CLN-2"])),
                    )
                    for day in session_days
                ],
                "administrations": administrations,
            }
        )
    return {"patients": patients}


def _attribute_cells(draw, patient: dict) -> dict[str, object]:
    cells = {}
    for column, words in (("age_band", AGE_WORDS), ("sex", SEX_WORDS), ("primary_condition", CONDITION_WORDS)):
        if patient[column] is not None:
            cells[column] = draw(st.sampled_from(words[patient[column]]))
    return cells


def _score_cells(draw, items, total, item_column, total_column, xlsx_cells) -> dict[str, object]:
    cells = {}
    for k, answer in enumerate(items, start=1):
        if answer is not None:
            cells[item_column(k)] = draw(item_cell(answer, xlsx_cells))
    if total is not None:
        cells[total_column] = draw(item_cell(total, xlsx_cells))
    return cells


def _assessment_fact(pid, day, code, items, total) -> tuple:
    value = expected_score(code, items, total)
    return ("assessment", (pid, day, code), (*value, tuple(items)))


def layout_a(draw, clinic: dict, xlsx_cells: bool) -> list[Table]:
    patients, sessions, assessments = [], [], []
    for p in clinic["patients"]:
        pid = p["patient_id"]
        attributes = {c: p[c] for c in ("age_band", "sex", "primary_condition", "site", "clinician_id")}
        cells = {"patient_id": pid, **_attribute_cells(draw, p)}
        cells |= {c: p[c] for c in ("site", "clinician_id") if p[c] is not None}
        patients.append(Row(cells, [("patient", pid, attributes)]))
        for day, modality, dose, site, clinician in p["sessions"]:
            cells = {
                "patient_id": pid,
                "session_date": draw(date_cell(day, xlsx_cells)),
                "modality": draw(st.sampled_from(MODALITY_WORDS[modality])),
            }
            if dose is not None:
                cells["dose_mg"] = draw(number_cell(dose, xlsx_cells))
            cells |= {c: v for c, v in (("site", site), ("clinician_id", clinician)) if v is not None}
            sessions.append(Row(cells, [("session", (pid, day), (modality, dose, site, clinician))]))
        for day, code, items, total in p["administrations"]:
            cells = {
                "patient_id": pid,
                "assessment_date": draw(date_cell(day, xlsx_cells)),
                "instrument": draw(st.sampled_from(instrument_words(code))),
            }
            cells |= _score_cells(draw, items, total, lambda k: f"item_{k}", "total", xlsx_cells)
            assessments.append(Row(cells, [_assessment_fact(pid, day, code, items, total)]))
    for rows in (patients, sessions, assessments):
        order = draw(st.permutations(range(len(rows))))
        rows[:] = [rows[i] for i in order]
    n_items = max(INSTRUMENTS[code].n_items for p in clinic["patients"] for _, code, _, _ in p["administrations"])
    n_items = draw(st.integers(n_items, max(i.n_items for i in INSTRUMENTS.values())))
    tables = [
        Table("sessions", ["patient_id", "session_date", "modality", "dose_mg", "site", "clinician_id"], {}, sessions),
        Table(
            "assessments",
            ["patient_id", "assessment_date", "instrument", *(f"item_{k}" for k in range(1, n_items + 1)), "total"],
            {},
            assessments,
        ),
    ]
    if draw(st.booleans()):  # the patients table is optional
        tables.insert(
            0,
            Table(
                "patients",
                ["patient_id", "age_band", "sex", "primary_condition", "site", "clinician_id"],
                {},
                patients,
            ),
        )
    return tables


def layout_b(draw, clinic: dict, xlsx_cells: bool) -> list[Table]:
    rows = []
    with_attributes = draw(st.booleans())
    # DATA_FORMAT.md: a log with no modality column at all is a file of assessments.
    scores_only = draw(st.sampled_from([False, False, False, True]))
    for p in clinic["patients"]:
        pid = p["patient_id"]
        by_day: dict[dt.date, Row] = {}
        for day, modality, dose, site, clinician in [] if scores_only else p["sessions"]:
            cells = {"patient_id": pid, "modality": draw(st.sampled_from(MODALITY_WORDS[modality]))}
            if dose is not None:
                cells["dose_mg"] = draw(number_cell(dose, xlsx_cells))
            cells |= {c: v for c, v in (("site", site), ("clinician_id", clinician)) if v is not None}
            by_day[day] = Row(cells, [("session", (pid, day), (modality, dose, site, clinician))])
        for day, code, items, total in p["administrations"]:
            row = by_day.setdefault(day, Row({"patient_id": pid}))
            prefix = INSTRUMENTS[code].log_prefix
            row.cells |= _score_cells(
                draw, items, total, lambda k, prefix=prefix: f"{prefix}_item_{k}", f"{prefix}_total", xlsx_cells
            )
            row.facts.append(_assessment_fact(pid, day, code, items, total))
        first = True
        for day in sorted(by_day):
            row = by_day[day]
            row.cells["session_date"] = draw(date_cell(day, xlsx_cells))
            attributes = _attribute_cells(draw, p)
            if with_attributes and first and attributes:
                row.cells |= attributes
                values = {c: p[c] for c in ("age_band", "sex", "primary_condition")}
                row.facts.append(("patient", pid, values | {"site": None, "clinician_id": None}))
            first = False
            rows.append(row)
    order = draw(st.permutations(range(len(rows))))
    rows = [rows[i] for i in order]
    columns = ["patient_id", "session_date"] + ([] if scores_only else ["modality", "dose_mg", "site", "clinician_id"])
    if with_attributes:
        columns += ["age_band", "sex", "primary_condition"]
    used = {c for row in rows for c in row.cells}
    for instrument in INSTRUMENTS.values():
        prefix = instrument.log_prefix
        item_columns = [f"{prefix}_item_{k}" for k in range(1, instrument.n_items + 1)]
        if f"{prefix}_total" in used or used & set(item_columns):
            columns.append(f"{prefix}_total")
            if used & set(item_columns):
                columns += item_columns
    return [Table("session_log", columns, {}, rows)]


@st.composite
def exports(draw, mutation: str | None = None) -> Case:
    """A valid clinic written as files, then one to three mutations (sometimes none), or the one named."""
    clinic = draw(clinics())
    needs = NEEDS.get(mutation, {})
    as_xlsx = needs.get("xlsx", draw(st.booleans()))
    layout = needs.get("layout", draw(st.sampled_from(["A", "B"])))
    tables = layout_a(draw, clinic, as_xlsx) if layout == "A" else layout_b(draw, clinic, as_xlsx)
    for table in tables:
        table.headers = _headers(draw, table.columns)
        table.sheet = {"patients": "Patients", "sessions": "Sessions", "assessments": "Scores"}.get(table.kind, "Log")
    if as_xlsx:
        files = [File(draw(st.sampled_from(["clinic.xlsx", "Export 2025.xlsx"])), "xlsx", tables)]
    else:
        files = [
            File(
                f"{table.kind}{draw(st.sampled_from(['', '_export', ' 2025']))}.csv",
                "csv",
                [table],
                encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])),
                delimiter=draw(st.sampled_from([",", ";", "\t"])),
            )
            for table in tables
        ]
    preload = []
    if needs.get("preload", draw(st.booleans())):
        # Part of the clinic is in the store already (an earlier, overlapping export), as clean CSV.
        for table in tables:
            for row in table.rows:
                row.preloaded = draw(st.booleans())
            earlier = copy.deepcopy(table)
            earlier.rows = [row for row in earlier.rows if row.preloaded]
            preload.append(File(f"earlier_{table.kind}.csv", "csv", [earlier]))
    case = Case(files, preload)
    names = [mutation] if mutation else [draw(st.sampled_from(sorted(MUTATIONS))) for _ in range(draw(N_MUTATIONS))]
    for name in names:
        expect = MUTATIONS[name](draw, case)
        if expect is not None:
            expect.mutation = name
            case.expects.append(expect)
    return case


# ---------------------------------------------------------------------------
# Mutations: one per rule of DATA_FORMAT.md. Each changes the case and says what must be named.


def _pick(draw, case: Case, kinds: tuple[str, ...], where: Callable[[Table, Row], bool] = lambda t, r: True):
    """An untouched row of a table of one of these kinds: (file, table, row index), or None."""
    choices = [
        (f, t, r)
        for f, file in enumerate(case.files)
        for t, table in enumerate(file.tables)
        if table.kind in kinds
        for r, row in enumerate(table.rows)
        if (f, t, r) not in case.touched and where(table, row)
    ]
    if not choices:
        return None
    f, t, r = draw(st.sampled_from(choices))
    case.touched.add((f, t, r))
    return case.files[f], case.files[f].tables[t], r


def _row_expect(file: File, table: Table, index: int, level: str = "row") -> Expect:
    return Expect("", level, {(file.label(table), index + 2)})


def _set(draw, case, kinds, column_of, values, where=lambda t, r: True, level="row"):
    """Write one of values into a column of one row."""
    picked = _pick(draw, case, kinds, lambda t, r: column_of(t, r) in t.columns and where(t, r))
    if picked is None:
        return None
    file, table, index = picked
    row = table.rows[index]
    row.cells[column_of(table, row)] = draw(st.sampled_from(values)) if isinstance(values, list) else values(row)
    return _row_expect(file, table, index, level)


def _in_one_of(draw, case, kinds, columns: list[str], values: list[str]) -> Expect | None:
    column = draw(st.sampled_from(columns))
    return _set(draw, case, kinds, lambda t, r: column if column in t.columns else None, values)


def _date_column(table: Table, row: Row) -> str | None:
    return {"sessions": "session_date", "session_log": "session_date", "assessments": "assessment_date"}.get(table.kind)


def _has_modality(row: Row) -> bool:
    return bool(row.cells.get("modality"))


def _instruments_of(row: Row) -> list[str]:
    return [fact[1][2] for fact in row.facts if fact[0] == "assessment"]


def _score_columns(table: Table, code: str) -> tuple[Callable[[int], str], str]:
    if table.kind == "assessments":
        return (lambda k: f"item_{k}"), "total"
    prefix = INSTRUMENTS[code].log_prefix
    return (lambda k: f"{prefix}_item_{k}"), f"{prefix}_total"


def _score_value(draw, table: Table, row: Row, what: str) -> bool:
    """Change one administration of the row: 'out' (an item out of range), 'total_out', 'mismatch',
    or 'other' (a different valid answer, for duplicates and conflicts). False when not possible."""
    codes = _instruments_of(row)
    if not codes:
        return False
    code = draw(st.sampled_from(codes))
    instrument = INSTRUMENTS[code]
    item, total = _score_columns(table, code)
    fact = next(f for f in row.facts if f[0] == "assessment" and f[1][2] == code)
    items = list(fact[2][2])
    if what == "out":
        k = draw(st.integers(1, instrument.n_items))
        if item(k) not in table.columns:
            return False
        row.cells[item(k)] = draw(
            st.sampled_from([str(instrument.item_max + 1), "-1", "x", "1.5", str(instrument.item_max + 7)])
        )
    elif what == "total_out":
        row.cells[total] = draw(
            st.sampled_from([str(instrument.total_max + 1), "-1", str(instrument.total_max + 30), "ten"])
        )
    elif what == "mismatch":
        if any(a is None for a in items):
            return False
        right = sum(items)
        wrong = right + 1 if right < instrument.total_max else right - 1
        row.cells[total] = str(wrong)
    else:  # another valid answer
        answered = [k for k, a in enumerate(items, start=1) if a is not None]
        if answered:
            k = draw(st.sampled_from(answered))
            old = items[k - 1]
            row.cells[item(k)] = str(old + 1 if old < instrument.item_max else old - 1)
            row.cells.pop(total, None)
        else:
            old = int(float(str(row.cells[total]).replace(",", ".")))
            row.cells[total] = str(old + 1 if old < instrument.total_max else old - 1)
    return True


def _score_mutation(what: str):
    def mutate(draw, case: Case) -> Expect | None:
        candidates = [
            (f, t, r)
            for f, file in enumerate(case.files)
            for t, table in enumerate(file.tables)
            if table.kind in ("assessments", "session_log")
            for r, row in enumerate(table.rows)
            if (f, t, r) not in case.touched and _instruments_of(row)
        ]
        if not candidates:
            return None
        f, t, r = draw(st.sampled_from(candidates))
        file, table = case.files[f], case.files[f].tables[t]
        if not _score_value(draw, table, table.rows[r], what):
            return None
        case.touched.add((f, t, r))
        return _row_expect(file, table, r)

    return mutate


def _valid_change(draw, table: Table, row: Row) -> bool:
    """A different but valid row with the same key (for a conflicting duplicate)."""
    if table.kind == "patients":
        present = [c for c in ("age_band", "sex", "primary_condition") if c in row.cells]
        if not present:
            return False
        column = draw(st.sampled_from(present))
        fact = row.facts[0][2][column]
        others = {"age_band": AGE_BANDS, "sex": SEXES, "primary_condition": CONDITIONS}[column]
        row.cells[column] = draw(st.sampled_from([v for v in others if v != fact]))
        return True
    if _has_modality(row):
        dose = next(f for f in row.facts if f[0] == "session")[2][1]
        row.cells["dose_mg"] = "50" if dose is None else repr((dose % 1400) + 1.25)
        return True
    return _score_value(draw, table, row, "other")


def duplicate_in_file(draw, case: Case) -> Expect | None:
    """DATA_FORMAT.md: a conflicting row (same key, other values) is an error; both rows are named."""
    picked = _pick(draw, case, ("patients", "sessions", "assessments", "session_log"))
    if picked is None:
        return None
    file, table, index = picked
    twin = copy.deepcopy(table.rows[index])
    if not _valid_change(draw, table, twin):
        return None
    twin.facts = []
    table.rows.append(twin)
    f = case.files.index(file)
    case.touched.add((f, file.tables.index(table), len(table.rows) - 1))
    return Expect("", "row", {(file.label(table), index + 2), (file.label(table), len(table.rows) + 1)})


def conflict_with_store(draw, case: Case) -> Expect | None:
    """A row whose key is in the store already with other values is an error."""
    picked = _pick(draw, case, ("sessions", "assessments", "session_log"), lambda t, r: r.preloaded)
    if picked is None:
        return None
    file, table, index = picked
    if not _valid_change(draw, table, table.rows[index]):
        return None
    return _row_expect(file, table, index)


def extra_column(headers: list[str], cells: list[str], level: str):
    def mutate(draw, case: Case) -> Expect | None:
        file = draw(st.sampled_from(case.files))
        table = draw(st.sampled_from(file.tables))
        header = draw(st.sampled_from(headers))
        table.extra.append((header, [draw(st.sampled_from(cells)) for _ in table.rows]))
        return Expect("", level, label=file.label(table))

    return mutate


def missing_required_column(draw, case: Case) -> Expect | None:
    file = draw(st.sampled_from(case.files))
    table = draw(st.sampled_from(file.tables))
    required = {
        "patients": ["patient_id"],
        "sessions": ["patient_id", "session_date", "modality"],
        "assessments": ["patient_id", "assessment_date", "instrument"],
        "session_log": ["patient_id", "session_date"],
    }[table.kind]
    column = draw(st.sampled_from(required))
    table.columns = [c for c in table.columns if c != column]
    return Expect("", "header", label=file.label(table))


def damaged(kind: str):
    def mutate(draw, case: Case) -> Expect | None:
        files = [
            f
            for f in case.files
            if (f.format == "xlsx") == (kind == "truncated")
            and not f.damage
            and not (kind == "bad_byte" and f.encoding == "utf-16")  # would decode, as other characters
        ]
        if not files:
            return None
        file = draw(st.sampled_from(files))
        file.damage = kind
        return Expect("", "read", label=file.name)

    return mutate


def identifying_value(draw, case: Case) -> Expect | None:
    column = draw(st.sampled_from(["patient_id", "site", "clinician_id"]))
    picked = _pick(draw, case, ("patients", "sessions", "session_log", "assessments"), lambda t, r: column in t.columns)
    if picked is None:
        return None
    file, table, index = picked
    table.rows[index].cells[column] = draw(
        st.sampled_from(
            ["jane.doe@example.org", "555-867-5309", "078-05-1120", "(503) 555-0100", "5035550100", "1984-07-12"]
        )
    )
    return _row_expect(file, table, index, "refuse_row")


def neither_items_nor_total(draw, case: Case) -> Expect | None:
    def scoreless(t, r):
        return t.kind == "assessments" or (t.kind == "session_log" and not _has_modality(r))

    picked = _pick(draw, case, ("assessments", "session_log"), scoreless)
    if picked is None:
        return None
    file, table, index = picked
    row = table.rows[index]
    keep = {"patient_id", "session_date", "assessment_date", "instrument", "age_band", "sex", "primary_condition"}
    row.cells = {c: v for c, v in row.cells.items() if c in keep}
    return _row_expect(file, table, index)


def item_beyond_the_instrument(draw, case: Case) -> Expect | None:
    def short(t, r):
        codes = _instruments_of(r)
        return t.kind == "assessments" and codes and f"item_{INSTRUMENTS[codes[0]].n_items + 1}" in t.columns

    picked = _pick(draw, case, ("assessments",), short)
    if picked is None:
        return None
    file, table, index = picked
    row = table.rows[index]
    row.cells[f"item_{INSTRUMENTS[_instruments_of(row)[0]].n_items + 1}"] = "1"
    return _row_expect(file, table, index)


N_MUTATIONS = st.sampled_from([0, 1, 1, 2, 2, 3, 3])
# What a mutation needs of the export to apply at all.
NEEDS = {
    "truncated_workbook": {"xlsx": True},
    "wrong_encoding": {"xlsx": False},
    "utf16_without_bom": {"xlsx": False},
    "conflict_with_store": {"preload": True},
    "unknown_instrument": {"layout": "A"},
    "item_beyond_the_instrument": {"layout": "A"},
    "blank_modality": {"layout": "A"},
    "dose_without_modality": {"layout": "B"},
}
FUTURE = [(dt.date.today() + dt.timedelta(days=k)).isoformat() for k in (1, 40, 400)]
MUTATIONS: dict[str, Callable[..., Expect | None]] = {
    "item_out_of_range": _score_mutation("out"),
    "total_out_of_range": _score_mutation("total_out"),
    "total_not_the_sum": _score_mutation("mismatch"),
    "impossible_date": lambda draw, case: _set(
        draw, case, ("sessions", "assessments", "session_log"), _date_column, ["2025-02-30", "2024-13-01", "2023-04-31"]
    ),
    "future_date": lambda draw, case: _set(
        draw, case, ("sessions", "assessments", "session_log"), _date_column, FUTURE
    ),
    "date_before_1990": lambda draw, case: _set(
        draw, case, ("sessions", "assessments", "session_log"), _date_column, ["1899-12-31", "1989-06-01"]
    ),
    "not_a_date": lambda draw, case: _set(
        draw, case, ("sessions", "assessments", "session_log"), _date_column, ["March 5", "2025/03/05 x", "yesterday"]
    ),
    "blank_date": lambda draw, case: _set(draw, case, ("sessions", "assessments", "session_log"), _date_column, [""]),
    "unknown_modality": lambda draw, case: _set(
        draw,
        case,
        ("sessions", "session_log"),
        lambda t, r: "modality" if _has_modality(r) else None,
        ["ECT", "ketamine", "TMS", "esketamine IV"],
    ),
    "blank_modality": lambda draw, case: _set(draw, case, ("sessions",), lambda t, r: "modality", [""]),
    "unknown_instrument": lambda draw, case: _set(
        draw, case, ("assessments",), lambda t, r: "instrument", ["PHQ-2", "BDI-II", "MADRS"]
    ),
    "bad_pseudonym": lambda draw, case: _in_one_of(
        draw,
        case,
        ("patients", "sessions", "assessments", "session_log"),
        ["patient_id", "site", "clinician_id"],
        ["K 001", "Jane Doe", "K#1", "x" * 65, "Müller"],
    ),
    "blank_patient_id": lambda draw, case: _set(
        draw,
        case,
        ("patients", "sessions", "assessments", "session_log"),
        # A row left with no value at all is spacing, not data.
        lambda t, r: "patient_id" if sum(bool(str(v)) for v in r.cells.values()) > 1 else None,
        [""],
    ),
    "negative_or_zero_dose": lambda draw, case: _set(
        draw,
        case,
        ("sessions", "session_log"),
        lambda t, r: "dose_mg" if _has_modality(r) else None,
        ["-5", "0", "-0.5", "-12,5"],
    ),
    "dose_too_high_or_not_a_number": lambda draw, case: _set(
        draw,
        case,
        ("sessions", "session_log"),
        lambda t, r: "dose_mg" if _has_modality(r) else None,
        ["2000", "35mg?", "lots"],
    ),
    "dose_without_modality": lambda draw, case: _set(
        draw, case, ("session_log",), lambda t, r: None if _has_modality(r) else "dose_mg", ["35"]
    ),
    "bad_patient_attribute": lambda draw, case: _in_one_of(
        draw, case, ("patients", "session_log"), ["age_band", "sex", "primary_condition"], ["17-20", "Q", "flu", "99"]
    ),
    "neither_items_nor_total": neither_items_nor_total,
    "item_beyond_the_instrument": item_beyond_the_instrument,
    "duplicate_in_file": duplicate_in_file,
    "conflict_with_store": conflict_with_store,
    "identifying_value": identifying_value,
    "identifying_column": extra_column(
        ["email", "First Name", "DOB", "SSN", "MRN", "Phone", "Street Address", "ZIP"], ["x", "y", ""], "header"
    ),
    "unknown_column": extra_column(["notes", "Room", "colour"], ["ok", ""], "header"),
    "missing_required_column": missing_required_column,
    "truncated_workbook": damaged("truncated"),
    "wrong_encoding": damaged("bad_byte"),
    "utf16_without_bom": damaged("utf16_without_bom"),
}


# ---------------------------------------------------------------------------
# Writing the files


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _grid(table: Table, rows: list[Row]) -> list[list[object]]:
    header = [table.headers.get(c, c) for c in table.columns] + [h for h, _ in table.extra]
    grid = [header]
    for k, row in enumerate(rows):
        extra = [cells[k] if k < len(cells) else "" for _, cells in table.extra]
        grid.append([row.cells.get(c, "") for c in table.columns] + extra)
    return grid


def render(file: File, *, clean: bool = False) -> bytes:
    if file.format == "xlsx":
        data = xlsx({table.sheet: _grid(table, table.rows) for table in file.tables})
        if file.damage == "truncated" and not clean:
            data = data[: len(data) * 2 // 3]
        return data
    (table,) = file.tables
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=file.delimiter, lineterminator="\r\n")
    for line in _grid(table, table.rows):
        writer.writerow([_text(v) for v in line])
    text = buffer.getvalue()
    if file.damage == "utf16_without_bom":
        return text.encode("utf-16-le")
    data = text.encode(file.encoding)
    if file.damage == "bad_byte":
        at = data.find(b"\n") + 1  # in the first data row (or the end of the header)
        data = data[:at] + b"\x81\x8d" + data[at:]  # undefined in UTF-8 and in cp1252
    return data


# ---------------------------------------------------------------------------
# The contract


def _store_rows(con) -> dict[str, set]:
    sessions = {
        ((p, d), (m, dose, s, c))
        for p, d, m, dose, s, c in con.execute(
            "SELECT patient_id, session_date, modality, dose_mg, site, clinician_id FROM sessions"
        ).fetchall()
    }
    assessments = {
        ((p, d, i), (t, method, tuple(items)))
        for p, d, i, t, method, items in con.execute(
            "SELECT patient_id, assessment_date, instrument, total, total_method, items FROM assessments"
        ).fetchall()
    }
    patients = {
        (p, (a, s, c, site, clinician))
        for p, a, s, c, site, clinician in con.execute(
            "SELECT patient_id, age_band, sex, primary_condition, site, clinician_id FROM patients"
        ).fetchall()
    }
    return {"sessions": sessions, "assessments": assessments, "patients": patients}


def _expected_rows(rows: list[Row]) -> dict[str, set]:
    sessions, assessments, attributes, ids = set(), set(), {}, set()
    for row in rows:
        for kind, key, value in row.facts:
            if kind == "session":
                sessions.add((key, value))
                ids.add(key[0])
            elif kind == "assessment":
                assessments.add((key, value))
                ids.add(key[0])
            else:
                ids.add(key)
                merged = attributes.setdefault(key, dict.fromkeys(value))
                for column, v in value.items():
                    merged[column] = merged[column] if merged[column] is not None else v
    columns = ("age_band", "sex", "primary_condition", "site", "clinician_id")
    patients = {(p, tuple(attributes.get(p, {}).get(c) for c in columns)) for p in ids}
    return {"sessions": sessions, "assessments": assessments, "patients": patients}


@dataclass
class Outcome:
    code: int
    output: str
    named: set[tuple[str, int]]  # (file, row) in the problems
    files_named: set[str]
    refused: bool


def _run_cli(args: list[str]) -> tuple[int, str]:
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
        code = cli.main(args)
    return code, shown.getvalue()


def _preload(con, case: Case) -> None:
    if case.preload:
        sources = [(file.name, render(file, clean=True)) for file in case.preload]
        result = ingest.import_bytes(con, sources)
        assert result.ok, [p.sentence() for p in result.problems]


def _through_the_command_line(case: Case, skip_invalid: bool) -> tuple:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        db = folder / "store.duckdb"
        before = empty_store_dump()
        if case.preload:
            with store.opened(db) as con:
                _preload(con, case)
                before = dump(con)
        paths = []
        for file in case.files:
            path = folder / "in" / file.name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(render(file))
            paths.append(path)
        problems_csv = folder / "problems.csv"
        args = ["import", "--quiet", "--db", str(db), "--problems", str(problems_csv)]
        code, output = _run_cli(args + (["--skip-invalid"] if skip_invalid else []) + [str(p) for p in paths])
        assert code in (0, 2), output
        assert "Traceback" not in output and ingest.UNEXPECTED_REASON not in output, output
        problems = (
            pd.read_csv(problems_csv, dtype=str, keep_default_na=False)
            if problems_csv.exists()
            else pd.DataFrame(columns=["file", "row"])
        )
        named = {(f, int(r)) for f, r in zip(problems["file"], problems["row"]) if r != ""}
        with store.opened(db, read_only=True) as con:
            after = dump(con)
            held = _store_rows(con)
            quarantined = set(con.execute("SELECT file_name, row_number FROM quarantine").fetchall())
    return code == 2, output, named, set(problems["file"]), before, after, held, quarantined


def _in_memory(case: Case, skip_invalid: bool) -> tuple:
    con = store.connect_memory()
    try:
        _preload(con, case)
        before = dump(con)
        shown = io.StringIO()
        with contextlib.redirect_stderr(shown):  # where a logged traceback would go
            result = ingest.import_bytes(con, [(f.name, render(f)) for f in case.files], skip_invalid=skip_invalid)
        output = "\n".join(p.sentence() for p in result.problems) + shown.getvalue()
        assert "Traceback" not in output and ingest.UNEXPECTED_REASON not in output, output
        named = {(p.file, p.row) for p in result.problems if p.row is not None}
        after = dump(con)
        held = _store_rows(con)
        quarantined = set(con.execute("SELECT file_name, row_number FROM quarantine").fetchall())
    finally:
        con.close()
    return result.refused, output, named, {p.file for p in result.problems}, before, after, held, quarantined


def check_import(case: Case, skip_invalid: bool, *, command_line: bool = True) -> Outcome:
    """Import the case (with the command line, or in memory) and assert the contract; returns what happened."""
    preloaded_rows = [row for file in case.preload for table in file.tables for row in table.rows]
    run = _through_the_command_line if command_line else _in_memory
    refused, output, named, files_named, before, after, held, quarantined = run(case, skip_invalid)
    code = 2 if refused else 0

    levels = {e.level for e in case.expects}
    mutated = set().union(*(e.rows for e in case.expects)) if case.expects else set()
    if refused:
        assert after == before, "a refusal changed the store"
    if "read" in levels:
        assert refused, output
        for e in case.expects:
            if e.level == "read":
                assert any(f.startswith(e.label) for f in files_named), (e, output)
        return Outcome(code, output, named, files_named, refused)
    if levels & {"header", "refuse_row"}:
        assert refused, output
        headers = {e.label for e in case.expects if e.level == "header"}
        for e in case.expects:
            if e.level == "header":
                assert e.label in files_named, (e, output)
            elif e.level == "refuse_row":
                ((label, _),) = e.rows
                if label not in headers:
                    assert e.rows <= named, (e, output)
        return Outcome(code, output, named, files_named, refused)
    # Only row mutations (or none): exactly the mutated rows are named.
    assert named == mutated, (sorted(named - mutated), sorted(mutated - named), output)
    imported_rows = [
        row
        for f, file in enumerate(case.files)
        for t, table in enumerate(file.tables)
        for r, row in enumerate(table.rows)
        if (file.label(table), r + 2) not in mutated
    ]
    if mutated and not skip_invalid:
        assert refused, output
        return Outcome(code, output, named, files_named, refused)
    assert not refused, output
    assert quarantined == mutated, (sorted(quarantined ^ mutated), output)
    expected = _expected_rows(preloaded_rows + imported_rows)
    for table in ("sessions", "assessments", "patients"):
        assert held[table] == expected[table], (
            table,
            sorted(held[table] - expected[table], key=repr),
            sorted(expected[table] - held[table], key=repr),
        )
    return Outcome(code, output, named, files_named, refused)
