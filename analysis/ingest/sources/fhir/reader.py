"""The resources of every FHIR file of one import, read together into canonical rows (FhirRead).

Cells are written as text exactly as a clinic's CSV would hold them, so every rule of the table
importer applies unchanged; a value that cannot be read is passed on as written and refused there,
naming the resource.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.ingest.sources.fhir.files import Resource
from analysis.ingest.sources.fhir.patients import Pseudonym, References
from analysis.ingest.sources.fhir.scores import ScoreReader
from analysis.ingest.sources.fhir.sessions import read_session
from analysis.ingest.sources.fhir.tables import FhirRead

_NOT_DONE = {"entered-in-error", "not-done", "cancelled", "stopped", "on-hold", "preparation", "unknown"}
_KNOWN_RESOURCES = ("QuestionnaireResponse", "Observation", "MedicationAdministration", "Procedure")


def read_fhir(resources: Sequence[Resource], links: dict[str, str], pseudonym: Pseudonym) -> FhirRead:
    """The resources of every FHIR file of one import, read together so references and item groups
    cross files (a panel in one file, its items in another)."""
    out = FhirRead()
    references = References(resources, links, pseudonym)
    scores = ScoreReader(resources, references, out)
    for resource in resources:
        status = str(resource.body.get("status") or "")
        if resource.kind not in _KNOWN_RESOURCES:
            if resource.kind == "Patient":
                out.skip(resource, "Patient (only links resources; nothing of it is kept)")
            elif resource.kind not in ("Questionnaire", "Medication"):
                out.skip(resource, "other resources (not read)")
            continue
        given = resource.kind in ("MedicationAdministration", "Procedure")
        if status in _NOT_DONE or (given and status not in ("completed", "")):
            # A treatment counts as a session only once given; a score unless withdrawn.
            out.skip(resource, f"{resource.kind} with status {status}")
            continue
        if resource.kind == "QuestionnaireResponse":
            scores.response(resource)
        elif resource.kind == "Observation":
            scores.observation(resource)
        else:
            read_session(resource, references, out)
    scores.finish()
    return out
