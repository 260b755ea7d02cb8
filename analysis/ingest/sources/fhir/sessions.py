"""MedicationAdministration and Procedure into session rows: ketamine or esketamine, its route and dose."""

from __future__ import annotations

from analysis.ingest.headers import modality_for, normalise_header
from analysis.ingest.sources.codes import KETAMINE_CODES, PRODUCT_WORDS, ROUTE_WORDS, SNOMED
from analysis.ingest.sources.fhir.datatypes import as_list, codings, first_date, number_text, words_of
from analysis.ingest.sources.fhir.files import Resource
from analysis.ingest.sources.fhir.patients import References
from analysis.ingest.sources.fhir.tables import FhirRead, Record


def read_session(resource: Resource, references: References, out: FhirRead) -> None:
    """A given ketamine or esketamine treatment as a session row; anything else is skipped and counted."""
    body = resource.body
    if resource.kind == "MedicationAdministration":
        concepts = [body.get("medicationCodeableConcept")]
        medication = references.resource(body.get("medicationReference"))
        if medication is not None:
            concepts.append(medication.body.get("code"))
            concepts.append(medication.body.get("form"))
        dosage = body.get("dosage") if isinstance(body.get("dosage"), dict) else {}
        route_concepts = [dosage.get("route"), dosage.get("method")]
        date = first_date(body, "effectiveDateTime", "effectivePeriod")
    else:
        concepts = [body.get("code")] + as_list(body.get("usedCode"))
        route_concepts = []
        dosage = {}
        date = first_date(body, "performedDateTime", "performedPeriod")
    product = _product(concepts)
    if product is None:
        out.skip(resource, f"{resource.kind} (not ketamine or esketamine)")
        return
    route = _route(route_concepts, concepts)
    if not route and product == "esketamine":
        route = "nasal"  # esketamine is given only as Spravato nasal spray
    cells = {
        "patient_id": references.patient_id(body),
        "session_date": date,
        # Passed on as words, so the table importer's one modality rule decides (and refuses
        # racemic ketamine by the nasal route, or a route that cannot be told).
        "modality": f"{product} {route}".strip() if route else f"{product} (route not given)",
        "dose_mg": _dose_mg(dosage.get("dose")),
    }
    record = Record(resource.file, resource.place, resource.name, cells)
    out.sessions.setdefault(resource.file, []).append(record)


def _product(concepts: list) -> str | None:
    found = set()
    for concept in concepts:
        for coding in codings(concept):
            product = KETAMINE_CODES.get((str(coding.get("system")), str(coding.get("code"))))
            if product:
                found.add(product)
        for word in normalise_header(words_of(concept)).split("_"):
            if word in PRODUCT_WORDS:
                found.add(PRODUCT_WORDS[word])
    if "esketamine" in found:
        return "esketamine"  # Spravato's label also says ketamine; esketamine is the narrower name
    return found.pop() if found else None


def _route(route_concepts: list, product_concepts: list) -> str:
    """The route in words: a SNOMED route code, else the route's text, else route words in the product's
    name ('Ketamine troche 200 mg', 'Spravato nasal spray')."""
    for concept in route_concepts + product_concepts:
        for coding in codings(concept):
            if coding.get("system") == SNOMED and str(coding.get("code")) in ROUTE_WORDS:
                return ROUTE_WORDS[str(coding["code"])]
    for concepts in (route_concepts, product_concepts):
        words = [
            word
            for concept in concepts
            for word in normalise_header(words_of(concept)).split("_")
            if word and word not in PRODUCT_WORDS and modality_for(word) is not None
        ]
        if words:
            return " ".join(dict.fromkeys(words))
    return ""


def _dose_mg(dose: object) -> str:
    """A dose in mg, g or µg as mg text; other units (mg/kg, mL) are left blank: dose_mg is optional."""
    if not isinstance(dose, dict) or "value" not in dose:
        return ""
    unit = str(dose.get("code") or dose.get("unit") or "").strip().lower()
    factor = {"mg": 1, "g": 1000, "ug": 0.001, "µg": 0.001, "mcg": 0.001}.get(unit)
    if factor is None:
        return ""
    try:
        return number_text(float(dose["value"]) * factor)
    except (TypeError, ValueError):
        return str(dose["value"])
