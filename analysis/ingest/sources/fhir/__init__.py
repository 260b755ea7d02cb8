"""FHIR R4 / STU3 (a Bundle, one resource, or Bulk Data NDJSON) into layout-A sessions and assessments.

QuestionnaireResponse and Observation give PHQ-9 / GAD-7 / PCL-5 scores (scores.py);
MedicationAdministration and Procedure give ketamine and esketamine sessions (sessions.py). Patients
are pseudonymised (patients.py): a Patient resource only links resources, and nothing else of it is
kept. files.py tells and parses the files, datatypes.py reads FHIR's small datatypes, tables.py holds
the rows found, and reader.py reads the resources of one import together. The codes: ../codes.py
and docs/FHIR.md. Callers import from these modules; this package re-exports nothing.
"""
