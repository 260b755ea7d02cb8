"""FHIR R4 / STU3 exports in: the real SMART, US Core and Synthea files, and hand-made resources for each rule.

Expected values are computed here from the JSON with plain Python (never with the importer's code),
and patient ids are pseudonymised with a key fixed in the test.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from paths import EXTERNAL, external

from analysis import ingest, store
from analysis.ingest.pseudonyms import ClinicKey
from analysis.instruments import INSTRUMENTS

TODAY = dt.date(2026, 6, 30)
KEY = ClinicKey(bytes.fromhex("5a" * 32), "test")
AHRQ = ("fhir", "smart-on-fhir-ahrq-depression", "ahrq-depression-patient-phq9.stu3.json")
SYNTHEA_BUNDLE = ("fhir", "synthea-r4", "Barney639_Cormier289_9808a1c3-5354-de5f-bfe5-7fdbd39bb426.json")
US_CORE = EXTERNAL / "fhir" / "us-core"
RXNORM, SNOMED, LOINC = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://snomed.info/sct", "http://loinc.org"
# LOINC answer list LL358-3, as printed on loinc.org: Not at all 0, Several days 1, More than half the days 2,
# Nearly every day 3.
LL358_3 = {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}


@pytest.fixture
def con():
    connection = store.connect_memory()
    yield connection
    connection.close()


def run(con, *files: tuple[str, bytes], **options) -> ingest.ImportResult:
    options.setdefault("pseudonym_key", KEY)
    return ingest.import_bytes(con, list(files), today=TODAY, user="tester", **options)


def assessments(con) -> set[tuple]:
    """(patient, date, instrument, items as stored, total) of every stored assessment."""
    rows = con.execute(
        "SELECT patient_id, assessment_date, instrument, items, total FROM assessments ORDER BY ALL"
    ).fetchall()
    return {(p, d.isoformat(), i, tuple(items), t) for p, d, i, items, t in rows}


def data_tables(con) -> dict[str, list]:
    """The stored data without the import bookkeeping (import ids, file names): what two sources must agree on."""
    return {
        "patients": con.execute("SELECT * EXCLUDE (import_id) FROM patients ORDER BY ALL").fetchall(),
        "sessions": con.execute("SELECT * EXCLUDE (import_id) FROM sessions ORDER BY ALL").fetchall(),
        "assessments": con.execute("SELECT * EXCLUDE (import_id) FROM assessments ORDER BY ALL").fetchall(),
    }


def every_stored_text(con) -> str:
    parts = []
    for table in store.DATA_TABLES:
        parts += [repr(row) for row in con.execute(f"SELECT * FROM {table}").fetchall()]
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# Builders of hand-made resources (also used by the property test)


def patient(source_id: str) -> dict:
    return {
        "resourceType": "Patient",
        "id": source_id,
        "name": [{"family": "Testperson", "given": ["Alma"]}],
        "birthDate": "1961-07-04",
        "address": [{"line": ["12 Elm Street"], "city": "Springfield", "postalCode": "01101"}],
        "telecom": [{"system": "phone", "value": "555-123-4567"}],
    }


def observation(rid: str, source_id: str, when: str, loinc: str, **value) -> dict:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": f"Patient/{source_id}"},
        "effectiveDateTime": when,
        **value,
    }


def response(rid: str, source_id: str, when: str, questionnaire: str, answers: dict[str, dict]) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "status": "completed",
        "questionnaire": questionnaire,
        "subject": {"reference": f"Patient/{source_id}"},
        "authored": when,
        "item": [{"linkId": link, "answer": [answer]} for link, answer in answers.items()],
    }


def administration(rid: str, source_id: str, when: str, medication: dict, route: str | None = None, **dosage):
    body = {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": "completed",
        "subject": {"reference": f"Patient/{source_id}"},
        "effectiveDateTime": when,
        **medication,
    }
    if route or dosage:
        body["dosage"] = dict(dosage)
        if route:
            body["dosage"]["route"] = {"coding": [{"system": SNOMED, "code": route}]}
    return body


def ndjson(*resources: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in resources).encode()


def bundle(*resources: dict) -> bytes:
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    ).encode()


# ---------------------------------------------------------------------------
# SMART on FHIR / AHRQ: STU3, scores in the iso21090-CO-value extension, 7 totals that disagree


def _ahrq_expected() -> tuple[set[tuple], set[str]]:
    """Each QuestionnaireResponse's (patient, date, items, total) from the JSON, and the ids whose total
    disagrees with the items or is over 27 — worked out here with plain Python."""
    bundle_json = json.loads(external(*AHRQ).read_text())
    patients = {
        e["fullUrl"]: e["resource"]["id"] for e in bundle_json["entry"] if e["resource"]["resourceType"] == "Patient"
    }
    good, bad = set(), set()
    for entry in bundle_json["entry"]:
        qr = entry["resource"]
        if qr["resourceType"] != "QuestionnaireResponse":
            continue
        scores = {}
        for item in qr["item"]:
            code = item["definition"].rsplit("/", 1)[-1]
            answer = item["answer"][0]
            if code == "44261-6":
                scores["total"] = answer["valueInteger"]
            else:
                scores[code] = answer["valueCoding"]["extension"][0]["valueDecimal"]
        order = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]
        items = tuple(int(scores[c]) for c in order)
        if scores["total"] != sum(items):
            bad.add(qr["id"])
            continue
        who = KEY.pseudonym(patients[qr["subject"]["reference"]])
        good.add((who, qr["authored"][:10], "PHQ-9", items, scores["total"]))
    return good, bad


def test_ahrq_bundle_refuses_the_7_responses_whose_total_disagrees_naming_each_resource(con):
    good, bad = _ahrq_expected()
    assert (len(good), len(bad)) == (38, 7)
    result = run(con, (AHRQ[-1], external(*AHRQ).read_bytes()))
    assert result.refused
    named = {p.reason.rsplit("(QuestionnaireResponse/", 1)[1].rstrip(")") for p in result.problems}
    assert named == bad and len(result.problems) == 7
    assert all(p.column == "total" for p in result.problems)
    assert con.execute("SELECT count(*) FROM assessments").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM imports").fetchone() == (0,)


def test_ahrq_bundle_with_skip_invalid_loads_38_with_their_scores_and_quarantines_7(con):
    good, bad = _ahrq_expected()
    result = run(con, (AHRQ[-1], external(*AHRQ).read_bytes()), skip_invalid=True)
    assert result.ok and (result.added, result.rejected) == (38, 7)
    assert assessments(con) == good
    quarantined = con.execute("SELECT column_name, reason FROM quarantine").fetchall()
    assert len(quarantined) == 7 and {c for c, _ in quarantined} == {"total"}
    assert {r.rsplit("(QuestionnaireResponse/", 1)[1].rstrip(")") for _, r in quarantined} == bad
    assert run(con, (AHRQ[-1], external(*AHRQ).read_bytes()), skip_invalid=True).added == 0  # idempotent


# ---------------------------------------------------------------------------
# US Core: a QR with LOINC answer codes, and panel / item / valueString total Observations


def test_us_core_questionnaire_response_scores_its_loinc_answer_codes(con):
    path = external("fhir", "us-core", "QuestionnaireResponse-phq-9-example.json")
    qr = json.loads(path.read_text())
    answers = {i["linkId"].strip("/"): i["answer"][0] for i in qr["item"]}
    order = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]
    items = tuple(LL358_3[answers[c]["valueCoding"]["code"]] for c in order)
    assert sum(items) == int(answers["44261-6"]["valueDecimal"]) == 12
    result = run(con, (path.name, path.read_bytes()))
    assert result.ok, [p.sentence() for p in result.problems]
    assert assessments(con) == {(KEY.pseudonym("example"), "2022-11-29", "PHQ-9", items, 12)}


def test_us_core_observations_without_their_response_give_one_assessment_with_the_value_string_total(con):
    files = [US_CORE / f"Observation-PHQ9-{n}.json" for n in ("panel-example-44249-1", "item-example-44250-9")]
    files.append(US_CORE / "Observation-PHQ9-item-example-44261-6.json")
    for path in files:
        external("fhir", "us-core", path.name)
    total = json.loads(files[2].read_text())
    assert total["valueString"] == "12"  # US Core writes the PHQ-9 total as a string
    result = run(con, *[(p.name, p.read_bytes()) for p in files])
    assert result.ok, [p.sentence() for p in result.problems]
    [(who, day, instrument, items, stored_total)] = assessments(con)
    assert (who, day, instrument, stored_total) == (KEY.pseudonym("example"), "2022-11-29", "PHQ-9", 12)
    assert items[0] == LL358_3["LA6570-1"] == 2  # item 1 from the 44250-9 Observation's answer code


def test_us_core_folder_reads_the_response_once_and_counts_the_observations_derived_from_it(con):
    files = sorted(external("fhir", "us-core").glob("*.json"))
    result = run(con, *[(p.name, p.read_bytes()) for p in files])
    assert result.ok and result.added == 1
    assert "3 Observation already read from its QuestionnaireResponse" in result.summary_line()


# ---------------------------------------------------------------------------
# Synthea R4 Bundle: totals as valueQuantity, PHQ-2 skipped and counted; the same as NDJSON


def _synthea_bundle():
    return json.loads(external(*SYNTHEA_BUNDLE).read_text())


def test_synthea_bundle_loads_phq9_and_gad7_totals_and_counts_phq2_as_skipped(con):
    document = _synthea_bundle()
    expected, phq2 = set(), 0
    for entry in document["entry"]:
        body = entry["resource"]
        if body["resourceType"] != "Observation":
            continue
        code = body["code"]["coding"][0]["code"]
        if code in ("44261-6", "70274-6"):
            who = KEY.pseudonym(body["subject"]["reference"].removeprefix("urn:uuid:"))
            instrument = "PHQ-9" if code == "44261-6" else "GAD-7"
            n = 9 if instrument == "PHQ-9" else 7
            value = int(body["valueQuantity"]["value"])
            expected.add((who, body["effectiveDateTime"][:10], instrument, (None,) * n, value))
        phq2 += code == "55758-7"
    assert (len(expected), phq2) == (4, 4)
    result = run(con, (SYNTHEA_BUNDLE[-1], external(*SYNTHEA_BUNDLE).read_bytes()))
    assert result.ok
    stored = {(p, d, i, tuple(None for _ in items), t) for p, d, i, items, t in assessments(con)}
    assert stored == expected
    assert result.files[0].skipped["PHQ-2 (Observation)"] == 4
    assert "4 PHQ-2 (Observation)" in result.summary_line()


def test_synthea_bundle_written_as_bulk_data_ndjson_gives_the_same_store(con):
    """A Bulk Data export writes one NDJSON file per resource type, with references as Type/id."""
    document = _synthea_bundle()
    links = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in document["entry"]}

    def relinked(node):
        if isinstance(node, dict):
            return {
                k: (links.get(v, v) if k == "reference" and isinstance(v, str) else relinked(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [relinked(v) for v in node]
        return node

    by_type: dict[str, list[dict]] = {}
    for entry in document["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(relinked(entry["resource"]))
    files = [(f"{kind}.ndjson", ndjson(*bodies)) for kind, bodies in sorted(by_type.items())]
    assert run(con, *files).ok
    from_ndjson = data_tables(con)
    other = store.connect_memory()
    try:
        assert run(other, (SYNTHEA_BUNDLE[-1], external(*SYNTHEA_BUNDLE).read_bytes())).ok
        assert data_tables(other) == from_ndjson
    finally:
        other.close()
    assert len(from_ndjson["assessments"]) == 4


def test_nothing_of_a_patient_resource_is_stored(con):
    document = _synthea_bundle()
    [person] = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert run(con, (SYNTHEA_BUNDLE[-1], external(*SYNTHEA_BUNDLE).read_bytes())).ok
    stored = every_stored_text(con)
    private = [person["id"], person["birthDate"], person["name"][0]["family"], *person["name"][0]["given"]]
    private += person["address"][0]["line"] + [person["address"][0]["city"]]
    private += [t["value"] for t in person.get("telecom", [])]
    assert all(value and value not in stored for value in private), [v for v in private if v in stored]
    assert con.execute("SELECT DISTINCT patient_id FROM patients").fetchall() == [(KEY.pseudonym(person["id"]),)]


# ---------------------------------------------------------------------------
# Hand-made resources: each rule once


def test_the_date_is_the_clinics_own_day_never_shifted_to_utc(con):
    late_evening = observation("o1", "A", "2026-03-04T23:30:00-07:00", "44261-6", valueInteger=14)  # 06:30Z on 5 March
    assert run(con, ("o.ndjson", ndjson(late_evening))).ok
    assert con.execute("SELECT assessment_date FROM assessments").fetchall() == [(dt.date(2026, 3, 4),)]


def test_value_types_integer_quantity_string_and_scored_codings_all_read(con):
    ordinal = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
    weight = "http://hl7.org/fhir/StructureDefinition/itemWeight"
    gad7 = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
    answers = {
        gad7[0]: {"valueInteger": 3},
        gad7[1]: {"valueCoding": {"code": "x-a", "extension": [{"url": ordinal, "valueDecimal": 2}]}},
        gad7[2]: {"valueCoding": {"code": "x-b", "extension": [{"url": weight, "valueDecimal": 1}]}},
        gad7[3]: {"valueCoding": {"system": LOINC, "code": "LA6571-9"}},
        gad7[4]: {"valueQuantity": {"value": 0}},
        gad7[5]: {"valueString": "2"},
        gad7[6]: {"valueDecimal": 1.0},
        "70274-6": {"valueString": "12"},
    }
    resources = [
        response("q1", "A", "2026-02-01T10:00:00+01:00", "http://example.org/Questionnaire/gad-7", answers),
        observation("o2", "B", "2026-02-02", "44261-6", valueQuantity={"value": 9.0, "unit": "{score}"}),
        observation("o3", "C", "2026-02-03", "44261-6", valueString="17"),
    ]
    result = run(con, ("r.json", bundle(*resources)))
    assert result.ok, [p.sentence() for p in result.problems]
    got = {(p, d, i, t) for p, d, i, _, t in assessments(con)}
    assert got == {
        (KEY.pseudonym("A"), "2026-02-01", "GAD-7", 12),  # 3 + 2 + 1 + 3 + 0 + 2 + 1
        (KEY.pseudonym("B"), "2026-02-02", "PHQ-9", 9),
        (KEY.pseudonym("C"), "2026-02-03", "PHQ-9", 17),
    }
    [(items,)] = con.execute("SELECT items FROM assessments WHERE instrument = 'GAD-7'").fetchall()
    assert list(items) == [3, 2, 1, 3, 0, 2, 1]


def test_pcl5_is_read_by_its_loinc_codes_from_its_instrument_record(con):
    """A PCL-5 total Observation coded only by LOINC 101698-9 ("PTSD PCL-5 score", loinc.org), and a
    QuestionnaireResponse naming the PCL-5 panel 101697-1 in its questionnaire URL, with twenty answers."""
    answers = {str(k): {"valueInteger": k % 5} for k in range(1, 21)}  # 1 2 3 4 0 1 2 3 4 0 ... = 4 x 10 = 40
    resources = [
        observation("o1", "A", "2026-03-01", "101698-9", valueInteger=47),
        response("q2", "B", "2026-03-02", "http://loinc.org/q/101697-1", answers),
    ]
    result = run(con, ("pcl.json", bundle(*resources)))
    assert result.ok, [p.sentence() for p in result.problems]
    got = {(p, d, i, t) for p, d, i, _, t in assessments(con)}
    assert got == {
        (KEY.pseudonym("A"), "2026-03-01", "PCL-5", 47),
        (KEY.pseudonym("B"), "2026-03-02", "PCL-5", 40),
    }


def test_a_questionnaire_in_the_import_gives_the_scores_of_its_answer_codes(con):
    ordinal = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
    form = {
        "resourceType": "Questionnaire",
        "id": "phq9-local",
        "url": "http://clinic.example/Questionnaire/phq9-local",
        "item": [
            {
                "linkId": "44250-9",
                "answerOption": [
                    {"valueCoding": {"code": f"local-{k}"}, "extension": [{"url": ordinal, "valueDecimal": k}]}
                    for k in range(4)
                ],
            }
        ],
    }
    answer = response("q", "A", "2026-01-10", form["url"], {"44250-9": {"valueCoding": {"code": "local-3"}}})
    assert run(con, ("b.json", bundle(form, answer))).ok
    assert con.execute("SELECT items[1] FROM assessments").fetchall() == [(3,)]


def test_an_unreadable_answer_is_refused_by_the_item_rule_naming_the_resource(con):
    answers = {"44250-9": {"valueCoding": {"system": LOINC, "code": "LA9999-9"}}, "44261-6": {"valueInteger": 5}}
    result = run(con, ("q.ndjson", ndjson(response("qr-7", "A", "2026-01-10", "phq-9", answers))))
    assert result.refused
    [problem] = result.problems
    assert (problem.row, problem.column, problem.value) == (1, "item_1", "LA9999-9")
    assert problem.reason.endswith("(QuestionnaireResponse/qr-7)")


def test_phq2_and_other_questionnaires_are_skipped_and_counted_not_errors(con):
    resources = [
        observation("a", "A", "2026-01-05", "55758-7", valueInteger=2),
        observation("b", "A", "2026-01-05", "8867-4", valueQuantity={"value": 70}),  # heart rate
        response("c", "A", "2026-01-05", "http://x/Questionnaire/phq-2", {"55758-7": {"valueInteger": 1}}),
        response("d", "A", "2026-01-05", "http://x/Questionnaire/intake", {"1": {"valueString": "fine"}}),
        observation("e", "A", "2026-01-05", "44261-6", valueInteger=11),
    ]
    result = run(con, ("x.ndjson", ndjson(*resources)))
    assert result.ok and result.added == 1
    assert result.files[0].skipped == {
        "PHQ-2 (Observation)": 1,
        f"Observation (not a {', '.join(list(INSTRUMENTS)[:-1])} or {list(INSTRUMENTS)[-1]} score)": 1,
        "PHQ-2 (QuestionnaireResponse)": 1,
        "other questionnaire (QuestionnaireResponse)": 1,
    }


def test_item_and_total_observations_of_one_day_are_one_assessment_and_a_disagreeing_total_is_refused(con):
    items = [("44250-9", 1), ("44255-8", 2), ("44259-0", 0), ("44254-1", 3), ("44251-7", 1)]
    items += [("44258-2", 0), ("44252-5", 2), ("44253-3", 1), ("44260-8", 0)]
    resources = [
        observation(f"i{k}", "A", "2026-01-05T09:00:00Z", code, valueInteger=v) for k, (code, v) in enumerate(items)
    ]
    resources.append(observation("t", "A", "2026-01-05T09:00:00Z", "44261-6", valueInteger=11))
    result = run(con, ("o.ndjson", ndjson(*resources)))
    assert result.refused
    [problem] = result.problems
    assert "does not equal the sum of the item answers (10)" in problem.reason
    resources[-1] = observation("t", "A", "2026-01-05T09:00:00Z", "44261-6", valueInteger=10)
    assert run(con, ("o.ndjson", ndjson(*resources))).ok
    assert assessments(con) == {(KEY.pseudonym("A"), "2026-01-05", "PHQ-9", (1, 2, 0, 3, 1, 0, 2, 1, 0), 10)}


# ---------------------------------------------------------------------------
# Sessions: MedicationAdministration and Procedure


def test_sessions_get_their_modality_from_product_and_route(con):
    ketamine = {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "6130"}]}}
    spravato = {
        "resourceType": "Medication",
        "id": "spravato",
        "code": {"text": "Spravato 28 mg nasal spray"},
    }
    resources = [
        spravato,
        administration("m1", "A", "2026-01-05T10:00:00-05:00", ketamine, "47625008", dose={"value": 35, "unit": "mg"}),
        administration("m2", "A", "2026-01-07", ketamine, "78421000"),
        administration("m3", "B", "2026-01-05", {"medicationReference": {"reference": "Medication/spravato"}}),
        administration(
            "m4", "C", "2026-01-05", {"medicationCodeableConcept": {"text": "Ketamine troche 200 mg"}}, "54471007"
        ),
        {
            "resourceType": "Procedure",
            "id": "p1",
            "status": "completed",
            "code": {"text": "Ketamine infusion"},
            "subject": {"reference": "Patient/C"},
            "performedDateTime": "2026-01-09",
        },
        {
            "resourceType": "Procedure",
            "id": "p2",
            "status": "completed",
            "code": {"text": "Colonoscopy"},
            "subject": {"reference": "Patient/C"},
            "performedDateTime": "2026-01-09",
        },
        administration(
            "m5", "C", "2026-01-05", {"medicationCodeableConcept": {"text": "Amoxicillin 500 mg"}}, "26643006"
        ),
    ]
    result = run(con, ("s.json", bundle(*resources)))
    assert result.ok, [p.sentence() for p in result.problems]
    got = con.execute("SELECT patient_id, session_date, modality, dose_mg FROM sessions ORDER BY ALL").fetchall()
    a, b, c = (KEY.pseudonym(x) for x in "ABC")
    assert sorted(got) == sorted(
        [
            (a, dt.date(2026, 1, 5), "ketamine_iv", 35.0),
            (a, dt.date(2026, 1, 7), "ketamine_im", None),
            (b, dt.date(2026, 1, 5), "esketamine_nasal", None),
            (c, dt.date(2026, 1, 5), "ketamine_oral", None),
            (c, dt.date(2026, 1, 9), "ketamine_iv", None),
        ]
    )
    assert result.files[0].skipped == {
        "Procedure (not ketamine or esketamine)": 1,
        "MedicationAdministration (not ketamine or esketamine)": 1,
    }


def test_esketamine_coded_only_by_rxnorm_is_read_as_esketamine(con):
    """A Spravato administration whose medication carries an RxNorm code and no name at all is an esketamine
    session. Codes as listed on ndclist.com's RxNorm concept pages (RxNorm release 20AA_260601F): 2201623 is the
    SCDF "esketamine Nasal Spray", 2201625 the SBDF "esketamine Nasal Spray [Spravato]"."""
    by_form = {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2201623"}]}}
    by_brand = {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2201625"}]}}
    resources = [
        administration("e1", "A", "2026-02-02", by_brand, dose={"value": 56, "unit": "mg"}),  # no route: nasal
        administration("e2", "A", "2026-02-05", by_form, "46713006", dose={"value": 84, "unit": "mg"}),
    ]
    result = run(con, ("e.ndjson", ndjson(*resources)))
    assert result.ok, [p.sentence() for p in result.problems]
    got = con.execute("SELECT patient_id, session_date, modality, dose_mg FROM sessions ORDER BY ALL").fetchall()
    a = KEY.pseudonym("A")
    assert got == [
        (a, dt.date(2026, 2, 2), "esketamine_nasal", 56.0),
        (a, dt.date(2026, 2, 5), "esketamine_nasal", 84.0),
    ]
    assert result.files[0].skipped == {}


def test_a_session_whose_route_cannot_be_told_is_refused_naming_the_resource(con):
    ketamine = {"medicationCodeableConcept": {"coding": [{"system": SNOMED, "code": "373464007"}]}}
    resources = [
        administration("no-route", "A", "2026-01-05", ketamine),
        administration("nasal", "A", "2026-01-06", ketamine, "46713006"),  # racemic ketamine by nose: not a modality
    ]
    result = run(con, ("m.ndjson", ndjson(*resources)))
    assert result.refused
    reasons = Counter(p.reason.rsplit(" (", 1)[1] for p in result.problems)
    assert reasons == {"MedicationAdministration/no-route)": 1, "MedicationAdministration/nasal)": 1}
    assert all(p.column == "modality" and "not a known modality" in p.reason for p in result.problems)


def test_withdrawn_scores_and_treatments_not_yet_given_are_skipped(con):
    wrong = observation("w", "A", "2026-01-05", "44261-6", valueInteger=30) | {"status": "entered-in-error"}
    right = observation("r", "A", "2026-01-06", "44261-6", valueInteger=12)
    ketamine = {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "6130"}]}}
    planned = administration("p", "A", "2026-01-06", ketamine, "47625008") | {"status": "in-progress"}
    result = run(con, ("o.ndjson", ndjson(wrong, right, planned)))
    assert result.ok and result.added == 1
    assert result.files[0].skipped == {
        "Observation with status entered-in-error": 1,
        "MedicationAdministration with status in-progress": 1,
    }


# ---------------------------------------------------------------------------
# Files that are not what they seem


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'{"resourceType": "Bundle", "entry": [', "is not valid JSON"),
        (b'{"resourceType": "Observation"}\n{not json}\n', "line 2 is not one JSON resource"),
        (b'{"resourceType": "Bundle", "type": "collection"}', "holds no questionnaire scores"),
        (ndjson(patient("A")), "holds no questionnaire scores"),
    ],
)
def test_a_broken_or_empty_fhir_file_is_one_sentence_and_changes_nothing(con, data, words):
    result = run(con, ("f.json", data))
    assert result.refused
    [problem] = result.problems
    assert words in problem.sentence() and problem.sentence().startswith("f.json")
    assert con.execute("SELECT count(*) FROM imports").fetchone() == (0,)


def test_without_a_pseudonym_key_fhir_is_refused_not_stored_with_source_ids(con):
    result = ingest.import_bytes(
        con, [("o.ndjson", ndjson(observation("o", "A", "2026-01-05", "44261-6", valueInteger=3)))]
    )
    assert result.refused and "pseudonym key" in result.problems[0].reason
    assert con.execute("SELECT count(*) FROM assessments").fetchone() == (0,)
