"""QuestionnaireResponse and Observation into assessment rows: PHQ-9, GAD-7, PCL-5 items and totals.

A QuestionnaireResponse is one assessment. Item and total Observations of one patient, day and
instrument (possibly in several files) are gathered into one assessment at the end of the read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from analysis.ingest.headers import normalise_header
from analysis.ingest.sources.codes import (
    ANSWER_SCORES,
    OTHER_INSTRUMENT_CODES,
    OTHER_INSTRUMENT_WORDS,
    InstrumentCodes,
    instrument_names,
    instruments_read,
)
from analysis.ingest.sources.fhir.datatypes import (
    all_items,
    as_list,
    codings,
    dicts,
    extension_score,
    first_date,
    loinc_codes,
    number_text,
    words_of,
)
from analysis.ingest.sources.fhir.files import Resource
from analysis.ingest.sources.fhir.patients import References
from analysis.ingest.sources.fhir.tables import FhirRead, Record
from analysis.instruments import INSTRUMENTS

AdministrationKey = tuple[str, str, str]  # (patient, date, instrument)


def code_ids(codes: InstrumentCodes) -> tuple[set[str], set[str], dict[str, int]]:
    return set(codes.panel), set(codes.total), {code: k for k, code in enumerate(codes.items, start=1)}


class ScoreReader:
    """Reads the score resources of one import into `out`; finish() adds the gathered Observations."""

    def __init__(self, resources: Sequence[Resource], references: References, out: FhirRead) -> None:
        self.resources = resources
        self.references = references
        self.out = out
        self.instruments = instruments_read()
        self.by_code: dict[str, tuple[str, str, int]] = {}  # LOINC code -> (instrument, "panel"|"total"|"item", k)
        for instrument, codes in self.instruments.items():
            for code in codes.panel:
                self.by_code[code] = (instrument, "panel", 0)
            for code in codes.total:
                self.by_code[code] = (instrument, "total", 0)
            for k, code in enumerate(codes.items, start=1):
                self.by_code[code] = (instrument, "item", k)
        self.answer_scores = dict(ANSWER_SCORES) | self._questionnaire_scores()
        self.responses_read = {r.name for r in resources if r.kind == "QuestionnaireResponse"}
        self.groups: dict[AdministrationKey, list[Record]] = {}
        self.panels: list[tuple[AdministrationKey, Resource]] = []

    def _questionnaire_scores(self) -> dict[str, int]:
        """Answer code -> score from the answer options of Questionnaires in the same import."""
        scores: dict[str, int] = {}
        for resource in self.resources:
            if resource.kind != "Questionnaire":
                continue
            for item in all_items(resource.body.get("item")):
                for option in as_list(item.get("answerOption")) + as_list(item.get("option")):
                    if not isinstance(option, dict):
                        continue
                    coding = option.get("valueCoding")
                    score = extension_score(option) or (extension_score(coding) if isinstance(coding, dict) else None)
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
            found = [coding] if isinstance(coding, dict) else codings(element.get(f"{prefix}CodeableConcept"))
            for coding in found:
                score = extension_score(coding)
                if score is not None:
                    return score
                if str(coding.get("code")) in self.answer_scores:
                    return str(self.answer_scores[str(coding["code"])])
            shown = [str(c.get("code") or c.get("display") or "") for c in found]
            return " ".join(s for s in shown if s) or words_of(element.get(f"{prefix}CodeableConcept")).strip()
        for key in (f"{prefix}Integer", f"{prefix}Decimal"):
            if key in element:
                return number_text(element[key])
        if f"{prefix}Quantity" in element:
            quantity = element[f"{prefix}Quantity"]
            return number_text(quantity.get("value", "")) if isinstance(quantity, dict) else ""
        if f"{prefix}String" in element:
            return str(element[f"{prefix}String"]).strip()  # US Core writes PHQ-9 totals as valueString "12"
        return None

    # -- which instrument -----------------------------------------------------

    def _other_instrument(self, codes: Iterable[str], words: str) -> str | None:
        for code in codes:
            if code in OTHER_INSTRUMENT_CODES:
                return OTHER_INSTRUMENT_CODES[code]
        name = "_" + normalise_header(words) + "_"
        for word, label in OTHER_INSTRUMENT_WORDS.items():
            if f"_{word}_" in name:
                return label
        return None

    def _instrument_by_url(self, questionnaire: str) -> str | None:
        """The instrument whose canonical Questionnaire URL this is (a '|version' ignored), or whose LOINC panel
        code ends the URL ('http://loinc.org/q/101697-1')."""
        parts = [part.split("|")[0].rstrip("/") for part in questionnaire.split()]
        for instrument, codes in self.instruments.items():
            for part in parts:
                if part in codes.urls or (part.rsplit("/", 1)[-1] in codes.panel and "/" in part):
                    return instrument
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

    def _instrument_by_items(self, item_codes: list[set[str]]) -> str | None:
        votes = Counter(
            self.by_code[code][0] for codes in item_codes for code in codes if code in self.by_code
        ).most_common()
        return votes[0][0] if votes else None

    # -- the resources -------------------------------------------------------

    def response(self, resource: Resource) -> None:
        """A QuestionnaireResponse as one assessment row, or skipped and counted when it is another questionnaire."""
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
        for item in all_items(body.get("item")):
            link = str(item.get("linkId") or "").strip()
            codes = {link.strip("/").split("/")[-1]}
            definition = str(item.get("definition") or "")
            if definition:
                codes.add(re.split(r"[/#]", definition.rstrip("/"))[-1])
            codes |= {str(c.get("code")) for c in dicts(item.get("code"))}  # STU3 item.code
            given = dicts(item.get("answer"))
            answers.append((codes, link, self.value_text(given[0]) if given else None))
        instrument = (
            self._instrument_by_url(questionnaire)
            or self._instrument_by_words(questionnaire)
            or self._instrument_by_items([codes for codes, _, _ in answers])
        )
        if instrument is None:
            other = self._other_instrument(
                re.split(r"[/#|]", questionnaire) + [c for codes, _, _ in answers for c in codes], questionnaire
            )
            self.out.skip(resource, f"{other or 'other questionnaire'} (QuestionnaireResponse)")
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
        cells = {
            "patient_id": self.references.patient_id(body),
            "assessment_date": first_date(body, "authored"),
        } | cells
        record = Record(resource.file, resource.place, resource.name, cells)
        self.out.assessments.setdefault(resource.file, []).append(record)

    def observation(self, resource: Resource) -> None:
        """An item, total or panel Observation, gathered with the others of its patient, day and instrument."""
        body = resource.body
        codes = loinc_codes(body.get("code"))
        known = [self.by_code[c] for c in codes if c in self.by_code]
        instrument = known[0][0] if known else self._instrument_by_words(words_of(body.get("code")))
        if instrument is None:
            other = self._other_instrument(codes, words_of(body.get("code")))
            self.out.skip(
                resource, f"{other} (Observation)" if other else f"Observation (not {instrument_names()} score)"
            )
            return
        derived = {self.references.target(d) for d in as_list(body.get("derivedFrom"))}
        if derived & self.responses_read:
            self.out.skip(resource, "Observation already read from its QuestionnaireResponse")
            return
        cells: dict[str, str] = {}
        role, k = (known[0][1], known[0][2]) if known else ("total", 0)
        value = self.value_text(body)
        if value is not None and role == "total":
            cells["total"] = value
        elif value is not None and role == "item":
            cells[f"item_{k}"] = value
        for component in as_list(body.get("component")):  # a panel may carry its items as components
            if not isinstance(component, dict):
                continue
            part = [self.by_code[c] for c in loinc_codes(component.get("code")) if c in self.by_code]
            value = self.value_text(component)
            if part and part[0][0] == instrument and value is not None:
                cells["total" if part[0][1] == "total" else f"item_{part[0][2]}"] = value
        patient = self.references.patient_id(body)
        date = first_date(body, "effectiveDateTime", "effectivePeriod", "effectiveInstant")
        if not cells:
            if role == "panel" and body.get("hasMember"):
                # Its answers are its member Observations, grouped by patient and day; counted if none came.
                self.panels.append(((patient, date, instrument), resource))
            else:
                self.out.skip(resource, f"{instrument} Observation without a value")
            return
        # Item and total Observations of one administration become one assessment row; a value that
        # disagrees with one already there starts another row, which the duplicate check then reports.
        rows = self.groups.setdefault((patient, date, instrument), [])
        for record in rows:
            if all(record.cells.get(column, value) == value for column, value in cells.items()):
                record.cells.update(cells)
                return
        base = {"patient_id": patient, "assessment_date": date, "instrument": instrument}
        rows.append(Record(resource.file, resource.place, resource.name, base | cells))

    def finish(self) -> None:
        """Add the gathered Observations as assessment rows; count the panels none of whose members came."""
        for key, panel in self.panels:
            if key not in self.groups:
                self.out.skip(panel, f"{key[2]} panel Observation whose member Observations are not in this import")
        for records in self.groups.values():
            for record in records:
                self.out.assessments.setdefault(record.file, []).append(record)
