"""Links between resources, and the patient a resource is about, pseudonymised.

A Patient resource only links resources: the id a reference names is replaced by its keyed
pseudonym here, and nothing else of the Patient is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from analysis.ingest.sources.fhir.files import Resource

Pseudonym = Callable[[str], str]  # a source patient id -> its keyed pseudonym (ClinicKey.pseudonym)


class References:
    """How the resources of one import point at each other, and whom they are about."""

    def __init__(self, resources: Sequence[Resource], links: dict[str, str], pseudonym: Pseudonym) -> None:
        self.links = links
        self.pseudonym = pseudonym
        self.by_name = {r.name: r for r in resources}

    def target(self, reference: object) -> str:
        """'urn:uuid:…', 'Patient/12', 'https://x/fhir/Patient/12/_history/3' -> 'Patient/12'."""
        if not isinstance(reference, dict):
            return ""
        text = str(reference.get("reference") or "").strip()
        if not text:
            identifier = reference.get("identifier")
            return f"identifier:{identifier.get('value')}" if isinstance(identifier, dict) else ""
        if text in self.links:
            return self.links[text]
        text = text.removeprefix("urn:uuid:").removeprefix("urn:oid:")
        parts = [p for p in text.split("/") if p]
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        return "/".join(parts[-2:]) if len(parts) >= 2 else text

    def resource(self, reference: object) -> Resource | None:
        """The resource of this import a reference points to (a Medication), or None."""
        return self.by_name.get(self.target(reference))

    def patient_id(self, body: dict) -> str:
        """The pseudonym of the patient a resource is about ('' when it names none)."""
        target = self.target(body.get("subject") or body.get("patient"))
        if not target:
            return ""
        source_id = target.split("/", 1)[1] if target.startswith("Patient/") else target
        return self.pseudonym(source_id)
