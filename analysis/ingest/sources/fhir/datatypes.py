"""Small readers of FHIR datatypes. An export may put any JSON anywhere: a wrong shape reads as absent."""

from __future__ import annotations

import re

from analysis.ingest.sources.codes import LOINC, SCORE_EXTENSIONS

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T.*)?$")


def as_list(value: object) -> list:
    """A repeating element as a list: [] when absent or not a list."""
    return value if isinstance(value, list) else []


def dicts(value: object) -> list[dict]:
    return [v for v in as_list(value) if isinstance(v, dict)]


def codings(concept: object) -> list[dict]:
    if not isinstance(concept, dict):
        return []
    return dicts(concept.get("coding"))


def words_of(concept: object) -> str:
    """Every display and text of a CodeableConcept, for matching by name."""
    if not isinstance(concept, dict):
        return ""
    return " ".join([str(concept.get("text") or "")] + [str(c.get("display") or "") for c in codings(concept)])


def loinc_codes(concept: object) -> list[str]:
    return [str(c.get("code")) for c in codings(concept) if c.get("system") in (LOINC, None) and c.get("code")]


def date_as_written(value: object) -> str:
    """'2026-03-04T17:30:00-07:00' -> '2026-03-04': the clinic's own day, never shifted to UTC."""
    if not isinstance(value, str):
        return ""
    match = _DATE.match(value.strip())
    return match[1] if match else value.strip()  # a partial date is passed on and refused by the date rule


def first_date(body: dict, *names: str) -> str:
    for name in names:
        value = body.get(name)
        if isinstance(value, dict):  # a Period
            value = value.get("start")
        if value:
            return date_as_written(value)
    return ""


def number_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def extension_score(element: dict) -> str | None:
    for extension in as_list(element.get("extension")):
        if isinstance(extension, dict) and extension.get("url") in SCORE_EXTENSIONS:
            for key in ("valueDecimal", "valueInteger"):
                if key in extension:
                    return number_text(extension[key])
    return None


def all_items(items: object) -> list[dict]:
    """Questionnaire(Response) items, nested groups and answers' sub-items included, in document order."""
    found = []
    for item in as_list(items):
        if not isinstance(item, dict):
            continue
        found.append(item)
        found += all_items(item.get("item"))
        for answer in as_list(item.get("answer")):
            if isinstance(answer, dict):
                found += all_items(answer.get("item"))
    return found
