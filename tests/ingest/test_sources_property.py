"""For random valid clinics, the same clinic written as FHIR Bulk Data NDJSON and as layout A (its source
ids pseudonymised on import with the same key, as --pseudonymize does) gives the same store."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sources_fhir import KEY, LOINC, RXNORM, SNOMED, TODAY, data_tables, ndjson

from analysis import ingest, store
from analysis.ingest.sources.codes import instruments_read
from analysis.instruments import INSTRUMENTS

# How each modality is written in FHIR: (product, SNOMED route code or None).
MODALITY_IN_FHIR = {
    "ketamine_iv": ({"coding": [{"system": RXNORM, "code": "6130"}]}, "47625008"),
    "ketamine_im": ({"coding": [{"system": RXNORM, "code": "6130", "display": "ketamine"}]}, "78421000"),
    "ketamine_oral": ({"text": "Ketamine 100 MG troche"}, "37839007"),
    "esketamine_nasal": ({"text": "Spravato 28 MG nasal spray"}, None),
}
INSTRUMENT_CODES = instruments_read()
READ_BY_LOINC = [code for code in INSTRUMENTS if INSTRUMENT_CODES[code].items]
MAX_ITEMS = max(INSTRUMENTS[code].n_items for code in READ_BY_LOINC)

dates = st.dates(dt.date(2024, 1, 1), dt.date(2026, 6, 1))
source_ids = st.sampled_from(["1001", "MRN-77", "a1b2c3", "Patient.9", "x"])


@st.composite
def assessment(draw):
    instrument = draw(st.sampled_from(READ_BY_LOINC))
    n = INSTRUMENTS[instrument].n_items
    if draw(st.booleans()):
        items = draw(st.lists(st.integers(0, INSTRUMENTS[instrument].item_max), min_size=n, max_size=n))
        total = sum(items) if draw(st.booleans()) else None
    else:
        items, total = None, draw(st.integers(0, INSTRUMENTS[instrument].total_max))
    return instrument, items, total


clinics = st.fixed_dictionaries(
    {
        "sessions": st.dictionaries(
            st.tuples(source_ids, dates),
            st.tuples(st.sampled_from(sorted(MODALITY_IN_FHIR)), st.one_of(st.none(), st.integers(10, 200))),
            max_size=8,
        ),
        "assessments": st.dictionaries(st.tuples(source_ids, dates), assessment(), max_size=8),
    }
)


def as_layout_a(clinic) -> list[tuple[str, bytes]]:
    sessions = ["patient_id,session_date,modality,dose_mg"]
    for (who, day), (modality, dose) in clinic["sessions"].items():
        sessions.append(f"{who},{day},{modality},{'' if dose is None else dose}")
    items = [f"item_{k}" for k in range(1, MAX_ITEMS + 1)]
    assessments = [",".join(["patient_id", "assessment_date", "instrument", *items, "total"])]
    for (who, day), (instrument, answers, total) in clinic["assessments"].items():
        cells = [str(a) for a in answers or []] + [""] * (MAX_ITEMS - len(answers or []))
        assessments.append(",".join([who, str(day), instrument, *cells, "" if total is None else str(total)]))
    files = []
    if len(sessions) > 1:
        files.append(("sessions.csv", "\n".join(sessions).encode()))
    if len(assessments) > 1:
        files.append(("assessments.csv", "\n".join(assessments).encode()))
    return files


def as_bulk_data(clinic) -> list[tuple[str, bytes]]:
    """One NDJSON file per resource type, as a FHIR Bulk Data export writes them."""
    people = {who for who, _ in clinic["sessions"]} | {who for who, _ in clinic["assessments"]}
    patients = [{"resourceType": "Patient", "id": who, "name": [{"family": "Doe"}]} for who in sorted(people)]
    given = []
    for k, ((who, day), (modality, dose)) in enumerate(clinic["sessions"].items()):
        product, route = MODALITY_IN_FHIR[modality]
        dosage = {}
        if route:
            dosage["route"] = {"coding": [{"system": SNOMED, "code": route}]}
        if dose is not None:
            dosage["dose"] = {"value": dose, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
        given.append(
            {
                "resourceType": "MedicationAdministration",
                "id": f"ma{k}",
                "status": "completed",
                "medicationCodeableConcept": product,
                "subject": {"reference": f"Patient/{who}"},
                "effectiveDateTime": f"{day}T09:30:00-05:00",
                **({"dosage": dosage} if dosage else {}),
            }
        )
    responses, observations = [], []
    for k, ((who, day), (instrument, answers, total)) in enumerate(clinic["assessments"].items()):
        codes = INSTRUMENT_CODES[instrument]
        if answers is None:  # a total alone: an Observation, as Synthea writes it
            observations.append(
                {
                    "resourceType": "Observation",
                    "id": f"ob{k}",
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": codes.total[0]}]},
                    "subject": {"reference": f"Patient/{who}"},
                    "effectiveDateTime": f"{day}T18:00:00+02:00",
                    "valueQuantity": {"value": total, "unit": "{score}"},
                }
            )
            continue
        item = [{"linkId": code, "answer": [{"valueInteger": a}]} for code, a in zip(codes.items, answers)]
        if total is not None:
            item.append({"linkId": codes.total[0], "answer": [{"valueInteger": total}]})
        responses.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": f"qr{k}",
                "status": "completed",
                "questionnaire": f"http://loinc.org/q/{codes.panel[0]}",
                "subject": {"reference": f"Patient/{who}"},
                "authored": f"{day}T23:59:00-08:00",
                "item": item,
            }
        )
    named = [
        ("Patient.ndjson", patients),
        ("MedicationAdministration.ndjson", given),
        ("QuestionnaireResponse.ndjson", responses),
        ("Observation.ndjson", observations),
    ]
    return [(name, ndjson(*bodies)) for name, bodies in named if bodies]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clinic=clinics)
def test_a_clinic_as_fhir_ndjson_and_as_layout_a_gives_the_same_store(clinic):
    if not clinic["sessions"] and not clinic["assessments"]:
        return
    stores = []
    for files in (as_layout_a(clinic), as_bulk_data(clinic)):
        con = store.connect_memory()
        try:
            result = ingest.import_bytes(con, files, today=TODAY, pseudonym_key=KEY)
            assert result.ok, [p.sentence() for p in result.problems]
            stores.append(data_tables(con))
        finally:
            con.close()
    assert stores[0] == stores[1]
    assert len(stores[1]["sessions"]) == len(clinic["sessions"])
    assert len(stores[1]["assessments"]) == len(clinic["assessments"])


# Any JSON at all in the places a FHIR reader looks: the import answers in sentences, never with the
# "failed unexpectedly" of a crash.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 40)
    | st.floats(allow_nan=False)
    | st.sampled_from(
        ["", "Patient/1", "urn:uuid:x", "44261-6", "LA6570-1", "2026-01-05T10:00:00-05:00", "2026", "6130", "mg"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "reference",
                    "code",
                    "system",
                    "value",
                    "coding",
                    "text",
                    "linkId",
                    "answer",
                    "item",
                    "valueInteger",
                    "valueString",
                    "valueCoding",
                    "valueQuantity",
                    "extension",
                    "url",
                    "valueDecimal",
                    "start",
                    "route",
                    "dose",
                    "unit",
                    "display",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
resources = st.fixed_dictionaries(
    {
        "resourceType": st.sampled_from(
            [
                "Observation",
                "QuestionnaireResponse",
                "MedicationAdministration",
                "Procedure",
                "Patient",
                "Questionnaire",
                "Medication",
                "Bundle",
            ]
        )
    },
    optional={
        name: json_values
        for name in [
            "id",
            "status",
            "code",
            "subject",
            "effectiveDateTime",
            "effectivePeriod",
            "authored",
            "questionnaire",
            "item",
            "valueQuantity",
            "valueString",
            "valueCodeableConcept",
            "component",
            "derivedFrom",
            "hasMember",
            "medicationCodeableConcept",
            "medicationReference",
            "dosage",
            "performedDateTime",
            "usedCode",
            "entry",
            "name",
        ]
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(resources, min_size=1, max_size=4), as_bundle=st.booleans())
def test_any_json_in_fhir_places_is_answered_in_sentences(body, as_bundle):
    import json

    data = (
        json.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in body]})
        if as_bundle
        else "\n".join(json.dumps(r) for r in body)
    ).encode()
    con = store.connect_memory()
    try:
        result = ingest.import_bytes(con, [("f.json", data)], today=TODAY, pseudonym_key=KEY)
    finally:
        con.close()
    assert all(ingest.UNEXPECTED_REASON not in p.reason for p in result.problems), result.problems
    assert all(p.sentence().strip() for p in result.problems)
