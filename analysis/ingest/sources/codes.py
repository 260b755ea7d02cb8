"""The codes FHIR and Synthea sources are read by: LOINC per instrument, answer scores, products, routes.

Every code here is listed with its source in docs/FHIR.md. A questionnaire's own LOINC codes and names
are in its Instrument record (analysis/instruments/records.py); only instruments present in
analysis.instruments.INSTRUMENTS are ever read (instruments_read()).
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.ingest.headers import normalise_header
from analysis.instruments import INSTRUMENTS

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"


@dataclass(frozen=True)
class InstrumentCodes:
    """How a questionnaire is named in LOINC and in questionnaire URLs (built from its Instrument record)."""

    panel: tuple[str, ...]
    total: tuple[str, ...]
    items: tuple[str, ...]  # in item order: items[0] is item_1
    words: tuple[str, ...]  # normalised words naming it in a questionnaire URL, title or code text
    urls: tuple[str, ...] = ()  # canonical Questionnaire URLs that are this instrument


# Other questionnaires met in real exports: skipped and counted, never an error.
OTHER_INSTRUMENT_CODES: dict[str, str] = {
    "55757-9": "PHQ-2",
    "55758-7": "PHQ-2",
    "89206-7": "PHQ-9 modified for teens",
    "89204-2": "PHQ-9 modified for teens",
    "69722-7": "PHQ-9 difficulty question",
}
OTHER_INSTRUMENT_WORDS: dict[str, str] = {"phq2": "PHQ-2", "phq_2": "PHQ-2", "phq_a": "PHQ-9 modified for teens"}

# LOINC answer list LL358-3 (PHQ-9 and GAD-7 items): answer code -> item score.
ANSWER_SCORES: dict[str, int] = {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}

# Extensions that carry an answer's score on a Coding or an answerOption.
SCORE_EXTENSIONS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
    "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value",
)

# Products: RxNorm / SNOMED codes that name ketamine or esketamine (docs/FHIR.md gives the source of each).
# Esketamine is also told by name ("esketamine", "Spravato"); its RxNorm ingredient and strength-level
# codes could not be verified here, so only the two dose-form concepts below are read by number.
KETAMINE_CODES: dict[tuple[str, str], str] = {
    (RXNORM, "6130"): "ketamine",
    (SNOMED, "373464007"): "ketamine",
    (RXNORM, "2201623"): "esketamine",  # SCDF "esketamine Nasal Spray"
    (RXNORM, "2201625"): "esketamine",  # SBDF "esketamine Nasal Spray [Spravato]"
}
PRODUCT_WORDS: dict[str, str] = {"esketamine": "esketamine", "spravato": "esketamine", "ketamine": "ketamine"}

# SNOMED CT route of administration (FHIR's route-codes value set) -> the word the modality rule reads.
ROUTE_WORDS: dict[str, str] = {
    "47625008": "intravenous",
    "78421000": "intramuscular",
    "26643006": "oral",
    "37839007": "sublingual",
    "54471007": "oral",  # buccal troches are the oral (ketamine_oral) modality
    "46713006": "nasal",
}


def instrument_names() -> str:
    """'a PHQ-9, GAD-7 or PCL-5': the instruments this store knows, for skip counts."""
    codes = list(INSTRUMENTS)
    return "a " + (", ".join(codes[:-1]) + " or " + codes[-1] if len(codes) > 1 else codes[0])


def instruments_read() -> dict[str, InstrumentCodes]:
    """The instruments this store knows, with the codes and names their Instrument records carry: a new
    record is read from FHIR and Synthea with no change here."""
    read = {}
    for code, instrument in INSTRUMENTS.items():
        names = [normalise_header(name) for name in (code, *instrument.aliases)]
        words = dict.fromkeys(name for written in names for name in (written, written.replace("_", "")) if name)
        read[code] = InstrumentCodes(
            panel=(instrument.loinc_panel,) if instrument.loinc_panel else (),
            total=(instrument.loinc_total,) if instrument.loinc_total else (),
            items=tuple(instrument.loinc_items),
            words=tuple(words),
            urls=tuple(instrument.questionnaire_urls),
        )
    return read
