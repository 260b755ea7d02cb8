"""Telling a FHIR file by its content and parsing it: a Bundle's entries, one resource, or Bulk Data NDJSON lines."""

from __future__ import annotations

import json
from dataclasses import dataclass

from analysis.ingest.readers import ReadError
from analysis.ingest.sources.fhir.datatypes import as_list


@dataclass
class Resource:
    """One resource as found: the file, its place there (entry or line number) and the JSON."""

    file: str
    place: int
    body: dict

    @property
    def kind(self) -> str:
        return str(self.body.get("resourceType", ""))

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.body.get('id', '?')}"


def looks_like_fhir(data: bytes) -> bool:
    """A JSON object (or NDJSON of them) that names a resourceType near its start."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b'"resourceType"' in data[:65536]


def parse(name: str, data: bytes) -> list[Resource]:
    """The resources of one file (a Bundle's entries numbered from 1, an NDJSON file's by line)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadError(f"{name} is not UTF-8 text, as FHIR JSON must be; export it again.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            raise ReadError(
                f"{name} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
                "it may be truncated: export it again."
            ) from None
        return _parse_ndjson(name, text)
    if not isinstance(document, dict) or "resourceType" not in document:
        raise ReadError(f"{name} is JSON but not a FHIR resource (it has no resourceType); nothing to import.")
    if document["resourceType"] == "Bundle":
        entries = as_list(document.get("entry"))
        return [
            Resource(name, place, entry["resource"])
            for place, entry in enumerate(entries, start=1)
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
        ]
    return [Resource(name, 1, document)]


def _parse_ndjson(name: str, text: str) -> list[Resource]:
    resources = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
        except json.JSONDecodeError as error:
            raise ReadError(
                f"{name}, line {number} is not one JSON resource ({error.msg}); a Bulk Data NDJSON file holds "
                "one resource per line: export it again."
            ) from None
        if not isinstance(body, dict) or "resourceType" not in body:
            raise ReadError(f"{name}, line {number} is not a FHIR resource (it has no resourceType).")
        resources.append(Resource(name, number, body))
    if not resources:
        raise ReadError(f"{name} is empty; export the data again.")
    return resources


def bundle_links(name: str, data: bytes) -> dict[str, str]:
    """A Bundle's fullUrl -> 'Type/id', so references written as urn:uuid:... find their resource."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        return {}
    links = {}
    for entry in as_list(document.get("entry")):
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict) and entry.get("fullUrl"):
            body = entry["resource"]
            links[str(entry["fullUrl"])] = f"{body.get('resourceType')}/{body.get('id')}"
    return links
