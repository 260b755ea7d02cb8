"""FHIR R4 / STU3 (a Bundle, one resource, or Bulk Data NDJSON) into layout-A sessions and assessments.

QuestionnaireResponse and Observation give PHQ-9 / GAD-7 / PCL-5 scores; MedicationAdministration
and Procedure give ketamine and esketamine sessions. Cells are written as text exactly as a clinic's
CSV would hold them, so every rule of the table importer applies unchanged; a value that cannot be
read is passed on as written and refused there, naming the resource. Patients are pseudonymised
here: a Patient resource only links resources, and nothing else of it is kept.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from analysis.ingest.headers import modality_for, normalise_header
from analysis.ingest.readers import ReadError
from analysis.ingest.sources.codes import (
    ANSWER_SCORES,
    INSTRUMENT_CODES,
    KETAMINE_CODES,
    LOINC,
    OTHER_INSTRUMENT_CODES,
    OTHER_INSTRUMENT_WORDS,
    PRODUCT_WORDS,
    ROUTE_WORDS,
    SCORE_EXTENSIONS,
    SNOMED,
    InstrumentCodes,
)
from analysis.instruments import INSTRUMENTS

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T.*)?$")
_NOT_DONE = {"entered-in-error", "not-done", "cancelled", "stopped", "on-hold", "preparation", "unknown"}
_KNOWN_RESOURCES = ("QuestionnaireResponse", "Observation", "MedicationAdministration", "Procedure")


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


@dataclass
class Record:
    """One row of a canonical table, built from one or more resources."""

    file: str
    place: int
    resource: str
    cells: dict[str, str]


@dataclass
class FhirRead:
    """What the FHIR files of one import hold, per file: rows for the canonical tables and what was skipped."""

    assessments: dict[str, list[Record]] = field(default_factory=dict)
    sessions: dict[str, list[Record]] = field(default_factory=dict)
    skipped: dict[str, Counter] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Telling and parsing the files


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
        entries = _list(document.get("entry"))
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
    for entry in _list(document.get("entry")):
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict) and entry.get("fullUrl"):
            body = entry["resource"]
            links[str(entry["fullUrl"])] = f"{body.get('resourceType')}/{body.get('id')}"
    return links


# ---------------------------------------------------------------------------
# Small readers of FHIR datatypes (an export may put any JSON anywhere: a wrong shape reads as absent)


def _list(value) -> list:
    """A repeating element as a list: [] when absent or not a list."""
    return value if isinstance(value, list) else []


def _dicts(value) -> list[dict]:
    return [v for v in _list(value) if isinstance(v, dict)]


def _codings(concept) -> list[dict]:
    if not isinstance(concept, dict):
        return []
    return _dicts(concept.get("coding"))


def _words_of(concept) -> str:
    """Every display and text of a CodeableConcept, for matching by name."""
    if not isinstance(concept, dict):
        return ""
    return " ".join([str(concept.get("text") or "")] + [str(c.get("display") or "") for c in _codings(concept)])


def _loinc_codes(concept) -> list[str]:
    return [str(c.get("code")) for c in _codings(concept) if c.get("system") in (LOINC, None) and c.get("code")]


def _date_as_written(value) -> str:
    """'2026-03-04T17:30:00-07:00' -> '2026-03-04': the clinic's own day, never shifted to UTC."""
    if not isinstance(value, str):
        return ""
    match = _DATE.match(value.strip())
    return match[1] if match else value.strip()  # a partial date is passed on and refused by the date rule


def _first_date(body: dict, *names: str) -> str:
    for name in names:
        value = body.get(name)
        if isinstance(value, dict):  # a Period
            value = value.get("start")
        if value:
            return _date_as_written(value)
    return ""


def _number_text(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _extension_score(element: dict) -> str | None:
    for extension in _list(element.get("extension")):
        if isinstance(extension, dict) and extension.get("url") in SCORE_EXTENSIONS:
            for key in ("valueDecimal", "valueInteger"):
                if key in extension:
                    return _number_text(extension[key])
    return None


def instrument_names() -> str:
    """'a PHQ-9, GAD-7 or PCL-5': the instruments this store knows, for skip counts."""
    codes = list(INSTRUMENTS)
    return "a " + (", ".join(codes[:-1]) + " or " + codes[-1] if len(codes) > 1 else codes[0])


def code_ids(codes: InstrumentCodes) -> tuple[set[str], set[str], dict[str, int]]:
    return set(codes.panel), set(codes.total), {code: k for k, code in enumerate(codes.items, start=1)}


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


def _as_tuple(value) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


# ---------------------------------------------------------------------------
# The reader


class _Reader:
    def __init__(self, resources: Sequence[Resource], links: dict[str, str], pseudonym):
        self.resources = resources
        self.links = links
        self.pseudonym = pseudonym
        self.instruments = instruments_read()
        self.by_code: dict[str, tuple[str, str, int]] = {}  # LOINC code -> (instrument, "panel"|"total"|"item", k)
        for instrument, codes in self.instruments.items():
            for code in codes.panel:
                self.by_code[code] = (instrument, "panel", 0)
            for code in codes.total:
                self.by_code[code] = (instrument, "total", 0)
            for k, code in enumerate(codes.items, start=1):
                self.by_code[code] = (instrument, "item", k)
        self.by_name = {r.name: r for r in resources}
        self.answer_scores = dict(ANSWER_SCORES) | self._questionnaire_scores()
        self.responses_read = {r.name for r in resources if r.kind == "QuestionnaireResponse"}
        self.out = FhirRead()
        self.panels: list[tuple[tuple[str, str, str], Resource]] = []

    # -- links -------------------------------------------------------------

    def _target(self, reference) -> str:
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

    def patient_id(self, body: dict) -> str:
        """The pseudonym of the patient a resource is about ('' when it names none)."""
        target = self._target(body.get("subject") or body.get("patient"))
        if not target:
            return ""
        source_id = target.split("/", 1)[1] if target.startswith("Patient/") else target
        return self.pseudonym(source_id)

    # -- scores --------------------------------------------------------------

    def _questionnaire_scores(self) -> dict[str, int]:
        """Answer code -> score from the answer options of Questionnaires in the same import."""
        scores: dict[str, int] = {}
        for resource in self.resources:
            if resource.kind != "Questionnaire":
                continue
            for item in _all_items(resource.body.get("item")):
                for option in _list(item.get("answerOption")) + _list(item.get("option")):
                    if not isinstance(option, dict):
                        continue
                    coding = option.get("valueCoding")
                    score = _extension_score(option) or (_extension_score(coding) if isinstance(coding, dict) else None)
                    if isinstance(coding, dict) and coding.get("code") and score is not None:
                        try:
                            scores[str(coding["code"])] = int(float(score))
                        except ValueError:
                            continue
        return scores

    def value_text(self, element: dict, prefix: str = "value") -> str | None:
        """An answer or Observation value as the text a spreadsheet cell would hold; None when absent."""
        if f"{prefix}Coding" in element or f"{prefix}CodeableConcept" in element:
            coding = element.get(f"{prefix}Coding")
            codings = [coding] if isinstance(coding, dict) else _codings(element.get(f"{prefix}CodeableConcept"))
            for coding in codings:
                score = _extension_score(coding)
                if score is not None:
                    return score
                if str(coding.get("code")) in self.answer_scores:
                    return str(self.answer_scores[str(coding["code"])])
            shown = [str(c.get("code") or c.get("display") or "") for c in codings]
            return " ".join(s for s in shown if s) or _words_of(element.get(f"{prefix}CodeableConcept")).strip()
        for key in (f"{prefix}Integer", f"{prefix}Decimal"):
            if key in element:
                return _number_text(element[key])
        if f"{prefix}Quantity" in element:
            quantity = element[f"{prefix}Quantity"]
            return _number_text(quantity.get("value", "")) if isinstance(quantity, dict) else ""
        if f"{prefix}String" in element:
            return str(element[f"{prefix}String"]).strip()  # US Core writes PHQ-9 totals as valueString "12"
        return None

    # -- counting what is not read ------------------------------------------

    def skip(self, resource: Resource, why: str) -> None:
        self.out.skipped.setdefault(resource.file, Counter())[why] += 1

    def _other_instrument(self, codes: Iterable[str], words: str) -> str | None:
        for code in codes:
            if code in OTHER_INSTRUMENT_CODES:
                return OTHER_INSTRUMENT_CODES[code]
        name = "_" + normalise_header(words) + "_"
        for word, label in OTHER_INSTRUMENT_WORDS.items():
            if f"_{word}_" in name:
                return label
        return None

    def _instrument_by_words(self, words: str) -> str | None:
        name = "_" + normalise_header(words) + "_"
        squeezed = normalise_header(words).replace("_", "")
        found = {
            instrument
            for instrument, codes in self.instruments.items()
            for word in codes.words
            if f"_{word}_" in name or (word.replace("_", "") in squeezed and len(word) > 3)
        }
        return found.pop() if len(found) == 1 else None

    # -- the resources -------------------------------------------------------

    def read(self) -> FhirRead:
        groups: dict[tuple[str, str, str], list[Record]] = {}
        for resource in self.resources:
            body = resource.body
            status = str(body.get("status") or "")
            if resource.kind not in _KNOWN_RESOURCES:
                if resource.kind == "Patient":
                    self.skip(resource, "Patient (only links resources; nothing of it is kept)")
                elif resource.kind not in ("Questionnaire", "Medication"):
                    self.skip(resource, "other resources (not read)")
                continue
            given = resource.kind in ("MedicationAdministration", "Procedure")
            if status in _NOT_DONE or (given and status not in ("completed", "")):
                # A treatment counts as a session only once given; a score unless withdrawn.
                self.skip(resource, f"{resource.kind} with status {status}")
                continue
            if resource.kind == "QuestionnaireResponse":
                self._response(resource)
            elif resource.kind == "Observation":
                self._observation(resource, groups)
            else:
                self._session(resource)
        for key, panel in self.panels:
            if key not in groups:
                self.skip(panel, f"{key[2]} panel Observation whose member Observations are not in this import")
        for records in groups.values():
            for record in records:
                self.out.assessments.setdefault(record.file, []).append(record)
        return self.out

    def _response(self, resource: Resource) -> None:
        body = resource.body
        questionnaire = body.get("questionnaire")
        if isinstance(questionnaire, dict):  # STU3: a Reference
            reference = questionnaire.get("reference") or ""
            identifier = questionnaire.get("identifier")
            questionnaire = " ".join(
                [str(reference), str(identifier.get("value") if isinstance(identifier, dict) else "")]
            )
        questionnaire = str(questionnaire or "")
        answers: list[tuple[set[str], str, str | None]] = []  # (codes, linkId, value)
        for item in _all_items(body.get("item")):
            link = str(item.get("linkId") or "").strip()
            codes = {link.strip("/").split("/")[-1]}
            definition = str(item.get("definition") or "")
            if definition:
                codes.add(re.split(r"[/#]", definition.rstrip("/"))[-1])
            codes |= {str(c.get("code")) for c in _dicts(item.get("code"))}  # STU3 item.code
            given = _dicts(item.get("answer"))
            answers.append((codes, link, self.value_text(given[0]) if given else None))
        instrument = self._instrument_by_words(questionnaire) or self._instrument_by_items(
            [codes for codes, _, _ in answers]
        )
        if instrument is None:
            other = self._other_instrument(
                re.split(r"[/#|]", questionnaire) + [c for codes, _, _ in answers for c in codes], questionnaire
            )
            self.skip(resource, f"{other or 'other questionnaire'} (QuestionnaireResponse)")
            return
        panel, totals, items = code_ids(self.instruments[instrument])
        n_items = INSTRUMENTS[instrument].n_items
        cells = {"instrument": instrument}
        for codes, link, value in answers:
            if value is None:
                continue
            if codes & totals:
                cells["total"] = value
            elif codes & set(items):
                cells[f"item_{items[(codes & set(items)).pop()]}"] = value
            elif not items and link.isdigit() and 1 <= int(link) <= n_items:
                cells[f"item_{int(link)}"] = value  # no item codes known: linkId "1".."n" in item order
        self._add_assessment(resource, cells, _first_date(body, "authored"))

    def _instrument_by_items(self, item_codes: list[set[str]]) -> str | None:
        votes = Counter(
            self.by_code[code][0] for codes in item_codes for code in codes if code in self.by_code
        ).most_common()
        return votes[0][0] if votes else None

    def _add_assessment(self, resource: Resource, cells: dict[str, str], date: str) -> None:
        cells = {"patient_id": self.patient_id(resource.body), "assessment_date": date} | cells
        record = Record(resource.file, resource.place, resource.name, cells)
        self.out.assessments.setdefault(resource.file, []).append(record)

    def _observation(self, resource: Resource, groups: dict[tuple[str, str, str], list[Record]]) -> None:
        body = resource.body
        codes = _loinc_codes(body.get("code"))
        known = [self.by_code[c] for c in codes if c in self.by_code]
        instrument = known[0][0] if known else self._instrument_by_words(_words_of(body.get("code")))
        if instrument is None:
            other = self._other_instrument(codes, _words_of(body.get("code")))
            self.skip(resource, f"{other} (Observation)" if other else f"Observation (not {instrument_names()} score)")
            return
        derived = {self._target(d) for d in _list(body.get("derivedFrom"))}
        if derived & self.responses_read:
            self.skip(resource, "Observation already read from its QuestionnaireResponse")
            return
        cells: dict[str, str] = {}
        role, k = (known[0][1], known[0][2]) if known else ("total", 0)
        value = self.value_text(body)
        if value is not None and role == "total":
            cells["total"] = value
        elif value is not None and role == "item":
            cells[f"item_{k}"] = value
        for component in _list(body.get("component")):  # a panel may carry its items as components
            if not isinstance(component, dict):
                continue
            part = [self.by_code[c] for c in _loinc_codes(component.get("code")) if c in self.by_code]
            value = self.value_text(component)
            if part and part[0][0] == instrument and value is not None:
                cells["total" if part[0][1] == "total" else f"item_{part[0][2]}"] = value
        patient = self.patient_id(body)
        date = _first_date(body, "effectiveDateTime", "effectivePeriod", "effectiveInstant")
        if not cells:
            if role == "panel" and body.get("hasMember"):
                # Its answers are its member Observations, grouped by patient and day; counted if none came.
                self.panels.append(((patient, date, instrument), resource))
            else:
                self.skip(resource, f"{instrument} Observation without a value")
            return
        # Item and total Observations of one administration become one assessment row; a value that
        # disagrees with one already there starts another row, which the duplicate check then reports.
        rows = groups.setdefault((patient, date, instrument), [])
        for record in rows:
            if all(record.cells.get(column, value) == value for column, value in cells.items()):
                record.cells.update(cells)
                return
        base = {"patient_id": patient, "assessment_date": date, "instrument": instrument}
        rows.append(Record(resource.file, resource.place, resource.name, base | cells))

    def _session(self, resource: Resource) -> None:
        body = resource.body
        if resource.kind == "MedicationAdministration":
            concepts = [body.get("medicationCodeableConcept")]
            medication = self.by_name.get(self._target(body.get("medicationReference")))
            if medication is not None:
                concepts.append(medication.body.get("code"))
                concepts.append(medication.body.get("form"))
            dosage = body.get("dosage") if isinstance(body.get("dosage"), dict) else {}
            route_concepts = [dosage.get("route"), dosage.get("method")]
            date = _first_date(body, "effectiveDateTime", "effectivePeriod")
        else:
            concepts = [body.get("code")] + _list(body.get("usedCode"))
            route_concepts = []
            dosage = {}
            date = _first_date(body, "performedDateTime", "performedPeriod")
        product = self._product(concepts)
        if product is None:
            self.skip(resource, f"{resource.kind} (not ketamine or esketamine)")
            return
        route = self._route(route_concepts, concepts)
        if not route and product == "esketamine":
            route = "nasal"  # esketamine is given only as Spravato nasal spray
        cells = {
            "patient_id": self.patient_id(body),
            "session_date": date,
            # Passed on as words, so the table importer's one modality rule decides (and refuses
            # racemic ketamine by the nasal route, or a route that cannot be told).
            "modality": f"{product} {route}".strip() if route else f"{product} (route not given)",
            "dose_mg": _dose_mg(dosage.get("dose")),
        }
        record = Record(resource.file, resource.place, resource.name, cells)
        self.out.sessions.setdefault(resource.file, []).append(record)

    def _product(self, concepts: list) -> str | None:
        found = set()
        for concept in concepts:
            for coding in _codings(concept):
                product = KETAMINE_CODES.get((str(coding.get("system")), str(coding.get("code"))))
                if product:
                    found.add(product)
            for word in normalise_header(_words_of(concept)).split("_"):
                if word in PRODUCT_WORDS:
                    found.add(PRODUCT_WORDS[word])
        if "esketamine" in found:
            return "esketamine"  # Spravato's label also says ketamine; esketamine is the narrower name
        return found.pop() if found else None

    def _route(self, route_concepts: list, product_concepts: list) -> str:
        """The route in words: a SNOMED route code, else the route's text, else route words in the product's
        name ('Ketamine troche 200 mg', 'Spravato nasal spray')."""
        for concept in route_concepts + product_concepts:
            for coding in _codings(concept):
                if coding.get("system") == SNOMED and str(coding.get("code")) in ROUTE_WORDS:
                    return ROUTE_WORDS[str(coding["code"])]
        for concepts in (route_concepts, product_concepts):
            words = [
                word
                for concept in concepts
                for word in normalise_header(_words_of(concept)).split("_")
                if word and word not in PRODUCT_WORDS and modality_for(word) is not None
            ]
            if words:
                return " ".join(dict.fromkeys(words))
        return ""


def _dose_mg(dose) -> str:
    """A dose in mg, g or µg as mg text; other units (mg/kg, mL) are left blank: dose_mg is optional."""
    if not isinstance(dose, dict) or "value" not in dose:
        return ""
    unit = str(dose.get("code") or dose.get("unit") or "").strip().lower()
    factor = {"mg": 1, "g": 1000, "ug": 0.001, "µg": 0.001, "mcg": 0.001}.get(unit)
    if factor is None:
        return ""
    try:
        return _number_text(float(dose["value"]) * factor)
    except (TypeError, ValueError):
        return str(dose["value"])


def _all_items(items) -> list[dict]:
    """Questionnaire(Response) items, nested groups and answers' sub-items included, in document order."""
    found = []
    for item in _list(items):
        if not isinstance(item, dict):
            continue
        found.append(item)
        found += _all_items(item.get("item"))
        for answer in _list(item.get("answer")):
            if isinstance(answer, dict):
                found += _all_items(answer.get("item"))
    return found


def read_fhir(resources: Sequence[Resource], links: dict[str, str], pseudonym) -> FhirRead:
    """The resources of every FHIR file of one import, read together so references and item groups
    cross files (a panel in one file, its items in another)."""
    return _Reader(resources, links, pseudonym).read()
