"""The codes FHIR and Synthea sources are read by: LOINC per instrument, answer scores, products, routes.

Every code here is listed with its source in docs/FHIR.md. The LOINC codes sit here, keyed by
instrument code, until the Instrument record carries them (issue 7); only instruments present in
analysis.instruments.INSTRUMENTS are ever read (instruments_read()).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.ingest.headers import normalise_header
from analysis.instruments import INSTRUMENTS

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"


@dataclass(frozen=True)
class InstrumentCodes:
    """How a questionnaire is named in LOINC and in questionnaire URLs."""

    panel: tuple[str, ...]
    total: tuple[str, ...]
    items: tuple[str, ...]  # in item order: items[0] is item_1
    words: tuple[str, ...]  # normalised words naming it in a questionnaire URL, title or code text


INSTRUMENT_CODES: dict[str, InstrumentCodes] = {
    "PHQ-9": InstrumentCodes(
        panel=("44249-1",),
        total=("44261-6",),
        items=("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"),
        words=("phq9", "phq_9"),
    ),
    "GAD-7": InstrumentCodes(
        panel=("69737-5",),
        total=("70274-6",),
        items=("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
        words=("gad7", "gad_7"),
    ),
    # No PCL-5 LOINC code could be verified from a primary source here: PCL-5 is read by its name.
    "PCL-5": InstrumentCodes(panel=(), total=(), items=(), words=("pcl5", "pcl_5")),
}

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
    """The instruments this store knows, with their codes (from the Instrument record once it has them)."""
    read = {}
    for code, instrument in INSTRUMENTS.items():
        fallback = INSTRUMENT_CODES.get(code, InstrumentCodes((), (), (), ()))
        panel = getattr(instrument, "loinc_panel", None)
        total = getattr(instrument, "loinc_total", None)
        items = getattr(instrument, "loinc_items", None)
        read[code] = InstrumentCodes(
            panel=_as_tuple(panel) or fallback.panel,
            total=_as_tuple(total) or fallback.total,
            items=_as_tuple(items) or fallback.items,
            words=fallback.words or (normalise_header(code), normalise_header(code).replace("_", "")),
        )
    return read


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
