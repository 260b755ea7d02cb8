"""Column names: aliases clinics use, the kind of table a header tells, and the identifier guard."""

from __future__ import annotations

import re

import pandas as pd

from analysis.ingest.problems import Problem, Refusal
from analysis.ingest.readers import RawTable
from analysis.instruments import INSTRUMENTS, ITEM_COLUMNS
from analysis.vocabulary import PATIENT_COLUMNS, SESSION_COLUMNS

ASSESSMENT_COLUMNS = ("patient_id", "assessment_date", "instrument") + ITEM_COLUMNS + ("total",)
LOG_SCORE_COLUMNS = tuple(
    column
    for instrument in INSTRUMENTS.values()
    for column in (
        f"{instrument.log_prefix}_total",
        *(f"{instrument.log_prefix}_item_{k}" for k in range(1, instrument.n_items + 1)),
    )
)
# The session log may also carry patient attributes, so one sheet can describe a clinic.
SESSION_LOG_COLUMNS = SESSION_COLUMNS + ("age_band", "sex", "primary_condition") + LOG_SCORE_COLUMNS

REQUIRED = {
    "patients": ("patient_id",),
    "sessions": ("patient_id", "session_date", "modality"),
    "assessments": ("patient_id", "assessment_date", "instrument"),
    # A log without a modality column is a file of assessments (scores dated by the row's date).
    "session_log": ("patient_id", "session_date"),
}
ALLOWED = {
    "patients": PATIENT_COLUMNS,
    "sessions": SESSION_COLUMNS,
    "assessments": ASSESSMENT_COLUMNS,
    "session_log": SESSION_LOG_COLUMNS,
}
KIND_NAMES = {
    "patients": "patients table",
    "sessions": "sessions table",
    "assessments": "assessments table",
    "session_log": "session log (layout B)",
}

_ALIASES = {
    "patient_id": (
        "patient",
        "patientid",
        "pseudonym",
        "patient_pseudonym",
        "subject_id",
        "record_id",
        "study_id",
        "client_id",
    ),
    "session_date": (
        "treatment_date",
        "visit_date",
        "date_of_session",
        "session",
        "dose_date",
        "infusion_date",
        "date_of_service",
        "service_date",
        "dos",
    ),
    "assessment_date": (
        "date_completed",
        "score_date",
        "survey_date",
        "completed_date",
        "administered_date",
        "questionnaire_date",
    ),
    "instrument": ("measure", "questionnaire", "scale", "survey", "assessment"),
    "modality": ("route", "treatment", "medication", "modality_route", "treatment_type", "service"),
    "dose_mg": ("dose", "dose_in_mg", "dosage", "dosage_mg", "ketamine_dose_mg"),
    "site": ("location", "clinic", "site_id", "clinic_site"),
    "clinician_id": (
        "clinician",
        "provider",
        "provider_id",
        "prescriber",
        "prescriber_id",
        "rendering_provider",
        "attending_provider",
    ),
    "age_band": ("age_group", "age_range", "ageband"),
    "sex": ("gender",),
    "primary_condition": ("condition", "diagnosis", "primary_diagnosis", "indication"),
    "total": ("total_score", "score", "sum", "total_sum"),
}
_ALIAS_TO_CANONICAL = {alias: canonical for canonical, aliases in _ALIASES.items() for alias in aliases}

# Session-log prefixes from the records: phq9 -> phq_?9, so phq9_total and phq_9_total both read.
_INSTRUMENT_PREFIX = (
    "(?P<instrument>"
    + "|".join(
        re.sub(r"(?<=[a-z])(?=\d)", "_?", instrument.log_prefix)
        for instrument in INSTRUMENTS.values()
        if instrument.log_prefix
    )
    + ")"
)
_LOG_TOTAL = re.compile(rf"^{_INSTRUMENT_PREFIX}(_?(total|score|sum|summary|total_score))?$")
_LOG_ITEM = re.compile(rf"^{_INSTRUMENT_PREFIX}_?(item|q|question)?_?(?P<number>[1-9]\d?)$")
_ITEM = re.compile(r"^(item|q|question)_?(?P<number>[1-9]\d?)$")

# Headers that identify a person. Matched on the normalised header (lower case, '_' joins words).
_IDENTIFYING_HEADER = re.compile(
    r"^(.*_)?("
    r"name|names|first|firstname|first_name|last|lastname|last_name|middle|middle_name|surname|"
    r"given_name|family_name|full_name|fullname|maiden|maiden_name|prefix|suffix|"
    r"dob|birthdate|birth_date|date_of_birth|birthday|birthplace|deathdate|death_date|"
    r"ssn|social_security|social_security_number|nhs_number|"
    r"mrn|medical_record_number|medical_record|chart_number|"
    r"email|e_mail|email_address|phone|phone_number|telephone|tel|mobile|cell|cell_phone|fax|"
    r"address|street|street_address|address_line_1|address_line_2|addr|city|county|zip|zipcode|zip_code|"
    r"postcode|postal_code|lat|lon|latitude|longitude|drivers|drivers_license|driver_license|passport|"
    r"insurance_id|member_id|ip_address"
    r")(_?\d+)?$"  # telephone_1, address2
)
# Identifying headers that are a patient's record number: usable as the patient key, but only
# through --pseudonymize, which replaces every value with a keyed pseudonym before any check.
_RECORD_NUMBER = re.compile(
    r"^(.*_)?(mrn|mrn_number|medical_record_number|medical_record|medical_record_no|chart_number|chart_no)$"
)
_NOT_IDENTIFYING = {"site", "clinician_id", "patient_id"}
# "<thing>_name" columns that name a thing, not a person (REDCap's redcap_event_name, form_name, ...).
_NAMES_A_THING = re.compile(
    r"^(.*_)?(event|form|field|variable|file|sheet|table|column|site|clinic|facility|location|practice|"
    r"instrument|measure|scale|questionnaire|survey|drug|medication|med|product|brand|group|arm|project|"
    r"study|program|programme|test|code|device|company|organization|organisation|org|unit)_name$"
)

_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
_SSN = r"\d{3}-\d{2}-\d{4}"
_PHONE = r"(?:\+?1[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}"
IDENTIFYING_VALUES = (
    ("an email address", re.compile(_EMAIL)),
    ("a US Social Security number", re.compile(rf"(?:^|\D){_SSN}(?:$|\D)")),
    ("a phone number", re.compile(rf"(?:^|\D){_PHONE}(?:$|\D)")),
)


def normalise_header(header: str) -> str:
    """'Patient ID ' -> 'patient_id'; 'PHQ-9 Total' -> 'phq_9_total'."""
    text = re.sub(r"[^0-9a-z]+", "_", str(header).strip().lower())
    return text.strip("_")


def canonical_column(header: str) -> str:
    """The canonical column a header stands for, or its normalised form when unknown."""
    name = normalise_header(header)
    if name in _ALIAS_TO_CANONICAL:
        return _ALIAS_TO_CANONICAL[name]
    if match := _ITEM.match(name):
        return f"item_{match['number']}"
    if match := _LOG_ITEM.match(name):
        return f"{match['instrument'].replace('_', '')}_item_{match['number']}"
    if match := _LOG_TOTAL.match(name):
        return f"{match['instrument'].replace('_', '')}_total"
    return name


def is_record_number(header: str) -> bool:
    """'MRN', 'Medical Record Number', 'patient_mrn': a column that identifies by the clinic's record number."""
    return bool(_RECORD_NUMBER.match(normalise_header(header)))


def is_identifying_header(header: str) -> bool:
    name = normalise_header(header)
    if name in _NOT_IDENTIFYING or _NAMES_A_THING.match(name):
        return False
    return bool(_IDENTIFYING_HEADER.match(name))


# Words a modality cell may hold; a cell names a modality when its words point to exactly one.
_MODALITY_WORDS = {
    "ketamine_im": {"im", "intramuscular"},
    "ketamine_iv": {"iv", "intravenous", "infusion"},
    "ketamine_oral": {"oral", "po", "sublingual", "sl", "troche", "troches", "lozenge", "lozenges", "rdt", "odt"},
    "esketamine_nasal": {"esketamine", "spravato", "esk", "nasal", "intranasal", "spray"},
}
_RACEMIC_WORDS = {"ketamine", "racemic"}  # never with esketamine: nasal racemic ketamine is another treatment
# A dose or a unit written beside the route ('Spravato 84mg', 'Ketamine IM 0.5 mg/kg') says nothing about it.
_DOSE_WORD = re.compile(r"^(\d+(mg|mcg|ug|ml|g|kg)?|mg|mcg|ug|ml|kg|per|dose|doses|x\d*|\d*x)$")


def modality_for(cell: str) -> str | None:
    """'IM', 'Ketamine IV', 'Spravato 84mg', 'ketamine troche 200 mg' -> the canonical modality.

    None when unknown or ambiguous, and when the route cannot be told ('Ketamine 50mg').
    """
    words = {w for w in normalise_header(cell).split("_") if w and not _DOSE_WORD.match(w)}
    named = [modality for modality, known in _MODALITY_WORDS.items() if words & known]
    if len(named) != 1:
        return None
    modality = named[0]
    allowed = _MODALITY_WORDS[modality] | (set() if modality == "esketamine_nasal" else _RACEMIC_WORDS)
    return modality if words <= allowed else None


def table_kind(columns: set[str]) -> str | None:
    """Tell the kind of table from its (canonical) header, not its file name."""
    scores_by_column = bool(columns & set(LOG_SCORE_COLUMNS)) and "instrument" not in columns
    if scores_by_column and columns & {"session_date", "assessment_date"}:
        # One row per date with a column per instrument: a session log, or (no modality) assessments alone.
        return "session_log"
    if "assessment_date" in columns or "instrument" in columns:
        return "assessments"
    if "session_date" in columns or "modality" in columns:
        return "sessions"
    if "patient_id" in columns and columns <= set(PATIENT_COLUMNS):
        return "patients"
    return None


# ---------------------------------------------------------------------------
# Header checks


def prepare_table(
    table: RawTable, drop_columns: set[str], *, pseudonymize: bool = False, kind: str | None = None
) -> tuple[str, pd.DataFrame]:
    """Drop named columns, refuse identifying ones, map aliases, tell the kind of table.

    With pseudonymize, a record-number column (MRN) may be the patient key: the caller replaces
    its values with keyed pseudonyms before any check. Every header problem is reported together.
    """
    kept = [c for c in table.frame.columns if normalise_header(c) not in drop_columns and c not in drop_columns]
    frame = table.frame[kept]
    problems = []

    def refuse(column: str | None, reason: str) -> None:
        problems.append(Problem(table.label, None, column, None, reason))

    identifying = [c for c in kept if is_identifying_header(c)]
    others = [c for c in kept if c not in identifying]
    canonical = {c: canonical_column(c) for c in others}
    record_numbers = [c for c in identifying if is_record_number(c)]
    as_key = None  # the record-number column that stands in for a missing patient_id
    if record_numbers and "patient_id" not in canonical.values():
        as_key = record_numbers[0]
        if pseudonymize and len(record_numbers) == 1:
            identifying.remove(as_key)
            others.append(as_key)
            canonical[as_key] = "patient_id"
            as_key = None
    names = set(canonical.values())
    if "date" in names and not names & {"session_date", "assessment_date"}:
        # A bare "Date" column means the date of what the table records, when the rest says what that is.
        meaning = (
            "assessment_date"
            if "instrument" in names
            else "session_date"
            if "modality" in names or names & set(LOG_SCORE_COLUMNS)
            else "date"
        )
        canonical = {c: meaning if name == "date" else name for c, name in canonical.items()}
    if table_kind(set(canonical.values())) == "session_log" and "session_date" not in canonical.values():
        # Scores by column dated by an assessment date: the log's date column, assessments alone.
        canonical = {c: "session_date" if name == "assessment_date" else name for c, name in canonical.items()}
    by_meaning: dict[str, list[str]] = {}
    for original, name in canonical.items():
        by_meaning.setdefault(name, []).append(original)
    for name, originals in by_meaning.items():
        if len(originals) > 1:
            refuse(name, f"the columns {', '.join(originals)} all mean {name}; keep one of them.")
    kind = kind or table_kind(set(canonical.values()))
    shown = ", ".join(map(str, others[:8])) + (", …" if len(others) > 8 else "")
    needs = (
        "it needs patient_id and session_date (sessions or a session log), assessment_date and instrument "
        "(assessments), or only patient attributes (patients). See the templates in data/templates."
    )
    names = ", ".join(identifying)
    if kind is None and identifying:
        # Not a clinic export at all (an EHR demographics file, say): one sentence says both things.
        refuse(
            names,
            f"identifying column(s) {names}: the store holds pseudonyms only; and the rest of the header "
            f"({shown or 'nothing else'}) is not a table this importer reads: {needs}",
        )
    elif kind is None:
        refuse(None, f"could not tell what this table holds from its header ({shown or 'no usable columns'}); {needs}")
    elif as_key is not None:
        others_named = [c for c in identifying if c != as_key]
        refuse(
            ", ".join(identifying),
            f"identifying column(s) {', '.join(identifying)}: the store holds pseudonyms only, and this file has "
            f"no patient_id besides {as_key}. Import with --pseudonymize to use {as_key} as the patient key (each "
            "value is replaced by a keyed pseudonym before anything is checked or stored)"
            + (
                f", and drop {', '.join(others_named)} with --drop-columns {','.join(others_named)}."
                if others_named
                else "."
            ),
        )
    elif identifying:
        refuse(
            names,
            f"identifying column(s) {names}: the store holds pseudonyms only. Remove them from the export, "
            f"or drop them explicitly with --drop-columns {','.join(identifying)}.",
        )
    if kind is not None:
        missing = [
            c for c in REQUIRED[kind] if c not in canonical.values() and not (c == "patient_id" and as_key is not None)
        ]  # a record number standing in for patient_id was named above, with how to use it
        if missing:
            refuse(
                ", ".join(missing), f"this {KIND_NAMES[kind]} is missing the required column(s) {', '.join(missing)}."
            )
        unknown = [original for original, name in canonical.items() if name not in ALLOWED[kind]]
        if unknown:
            refuse(
                ", ".join(unknown),
                f"column(s) {', '.join(unknown)} are not part of a {KIND_NAMES[kind]}; rename them to "
                f"{', '.join(ALLOWED[kind][:6])}… or drop them with --drop-columns {','.join(unknown)}.",
            )
    if problems:
        raise Refusal(problems)
    written = table.frame.attrs.get("headers", {})  # a mapping's renames: the export's own words
    headers = {canonical[c]: written.get(c, c) for c in frame.columns}
    frame = frame.set_axis([canonical[c] for c in frame.columns], axis=1)
    frame = frame.loc[(frame != "").to_numpy().any(axis=1)]  # rows blank in every cell are spacing, not data
    # canonical column -> the header as written: the import summary, and problems that name the file's column.
    frame.attrs["headers"] = headers
    return kind, frame


def column_as_written(column: str | None, original_columns: dict[str, str]) -> str | None:
    """'site' read from a 'Location' column -> 'Location [site]'; a column the file names the same way stays."""
    if not column or column not in original_columns or original_columns[column] == column:
        return column
    return f"{original_columns[column]} [{column}]"
