"""The clinic's words, defined once: modalities, patient attributes, canonical columns and their labels."""

from __future__ import annotations

# Treatment modalities (docs/DEFINITIONS.md), in the order every picker and legend lists them.
MODALITIES: tuple[str, ...] = ("ketamine_im", "ketamine_iv", "ketamine_oral", "esketamine_nasal")
MODALITY_LABELS: dict[str, str] = {
    "ketamine_im": "Ketamine IM",
    "ketamine_iv": "Ketamine IV",
    "ketamine_oral": "Ketamine oral/SL",
    "esketamine_nasal": "Esketamine (Spravato)",
}
# Shorter words where space is tight (the sidebar's filter chips cut "Esketamine (Spravato)" short).
MODALITY_SHORT_LABELS: dict[str, str] = {
    "ketamine_im": "Ketamine IM",
    "ketamine_iv": "Ketamine IV",
    "ketamine_oral": "Ketamine oral",
    "esketamine_nasal": "Esketamine",
}
# Induction length by the modality of a course's first session (settings can change them).
DEFAULT_INDUCTION_LENGTH: dict[str, int] = {
    "ketamine_im": 6,
    "ketamine_iv": 6,
    "ketamine_oral": 6,
    "esketamine_nasal": 8,
}

# Patient attributes (DATA_FORMAT.md layout A, patients).
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
SEXES: tuple[str, ...] = ("F", "M", "X", "U")
CONDITIONS: tuple[str, ...] = ("TRD", "MDD", "PTSD", "GAD", "bipolar depression", "OCD", "other")

# Canonical columns of the layout A tables.
PATIENT_COLUMNS: tuple[str, ...] = ("patient_id", "age_band", "sex", "primary_condition", "site", "clinician_id")
SESSION_COLUMNS: tuple[str, ...] = ("patient_id", "session_date", "modality", "dose_mg", "site", "clinician_id")

# The cohort dimensions a page can filter or split by: course column -> words on the page.
DIMENSION_LABELS: dict[str, str] = {
    "modality": "Modality",
    "site": "Site",
    "clinician_id": "Clinician",
    "primary_condition": "Primary condition",
    "age_band": "Age band",
    "sex": "Sex",
}


def modality_label(modality: str) -> str:
    """'esketamine_nasal' -> 'Esketamine (Spravato)'; an unknown value is shown as written."""
    return MODALITY_LABELS.get(modality, modality)


def modality_short_label(modality: str) -> str:
    """'esketamine_nasal' -> 'Esketamine' (for filter chips); an unknown value is shown as written."""
    return MODALITY_SHORT_LABELS.get(modality, modality)
