"""Column names: aliases clinics use, the kind of table a header tells, and the identifier guard."""

from __future__ import annotations

import re

import pandas as pd

from analysis.ingest.problems import Problem, Refusal
from analysis.ingest.readers import RawTable
from analysis.instruments import INSTRUMENTS
from analysis.vocabulary import PATIENT_COLUMNS, SESSION_COLUMNS

ITEM_COLUMNS = tuple(f"item_{k}" for k in range(1, 10))
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
    # DATA_FORMAT.md: a log with no modality column at all is a file of assessments.
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
    "session_date": ("treatment_date", "visit_date", "date_of_session", "session", "dose_date", "infusion_date"),
    "assessment_date": (
        "date_completed",
        "score_date",
        "survey_date",
        "completed_date",
        "administered_date",
        "questionnaire_date",
    ),
    "instrument": ("measure", "questionnaire", "scale", "survey", "assessment"),
    "modality": ("route", "treatment", "medication", "modality_route", "treatment_type"),
    "dose_mg": ("dose", "dose_in_mg", "dosage", "dosage_mg", "ketamine_dose_mg"),
    "site": ("location", "clinic", "site_id", "clinic_site"),
    "clinician_id": ("clinician", "provider", "provider_id", "prescriber", "prescriber_id"),
    "age_band": ("age_group", "age_range", "ageband"),
    "sex": ("gender",),
    "primary_condition": ("condition", "diagnosis", "primary_diagnosis", "indication"),
    "total": ("total_score", "score", "sum", "total_sum"),
}
_ALIAS_TO_CANONICAL = {alias: canonical for canonical, aliases in _ALIASES.items() for alias in aliases}

_INSTRUMENT_PREFIX = r"(?P<instrument>phq_?9|gad_?7)"
_LOG_TOTAL = re.compile(rf"^{_INSTRUMENT_PREFIX}(_?(total|score|sum|summary|total_score))?$")
_LOG_ITEM = re.compile(rf"^{_INSTRUMENT_PREFIX}_?(item|q|question)?_?(?P<number>[1-9])$")
_ITEM = re.compile(r"^(item|q|question)_?(?P<number>[1-9])$")

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


# A dose written beside the route ('Spravato 84mg', 'Ketamine IM 0.5 mg/kg') says nothing about the route.
_DOSE_WORD = re.compile(r"^\d+(mg|mcg|ml|kg|g)?$|^(mg|mcg|ml|kg|per)$")


def modality_for(cell: str) -> str | None:
    """'IM', 'Ketamine IV', 'SL troche', 'Spravato 84mg' -> the canonical modality; None when unknown or ambiguous."""
    words = {word for word in normalise_header(cell).split("_") if word and not _DOSE_WORD.match(word)}
    named = [modality for modality, known in _MODALITY_WORDS.items() if words & known]
    if len(named) != 1:
        return None
    modality = named[0]
    allowed = _MODALITY_WORDS[modality] | (set() if modality == "esketamine_nasal" else _RACEMIC_WORDS)
    return modality if words <= allowed else None


def table_kind(columns: set[str]) -> str | None:
    """Tell the kind of table from its (canonical) header, not its file name."""
    if "assessment_date" in columns or "instrument" in columns:
        return "assessments"
    if "session_date" in columns and columns & set(LOG_SCORE_COLUMNS):
        return "session_log"
    if "session_date" in columns or "modality" in columns:
        return "sessions"
    if "patient_id" in columns and columns <= set(PATIENT_COLUMNS):
        return "patients"
    return None


# ---------------------------------------------------------------------------
# Header checks


def prepare_table(table: RawTable, drop_columns: set[str]) -> tuple[str, pd.DataFrame]:
    """Drop named columns, refuse identifying ones, map aliases, tell the kind of table.

    Every header problem of the table is reported together.
    """
    kept = [c for c in table.frame.columns if normalise_header(c) not in drop_columns and c not in drop_columns]
    frame = table.frame[kept]
    problems = []

    def refuse(column: str | None, reason: str) -> None:
        problems.append(Problem(table.label, None, column, None, reason))

    identifying = [c for c in kept if is_identifying_header(c)]
    others = [c for c in kept if c not in identifying]
    canonical = {c: canonical_column(c) for c in others}
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
    by_meaning: dict[str, list[str]] = {}
    for original, name in canonical.items():
        by_meaning.setdefault(name, []).append(original)
    for name, originals in by_meaning.items():
        if len(originals) > 1:
            refuse(name, f"the columns {', '.join(originals)} all mean {name}; keep one of them.")
    kind = table_kind(set(canonical.values()))
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
    elif identifying:
        refuse(
            names,
            f"identifying column(s) {names}: the store holds pseudonyms only. Remove them from the export, "
            f"or drop them explicitly with --drop-columns {','.join(identifying)}.",
        )
    if kind is not None:
        missing = [c for c in REQUIRED[kind] if c not in canonical.values()]
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
    frame = frame.set_axis([canonical[c] for c in frame.columns], axis=1)
    frame = frame.loc[(frame != "").to_numpy().any(axis=1)]  # rows blank in every cell are spacing, not data
    return kind, frame
