"""FHIR R4 / STU3 exports (a Bundle, one resource, or Bulk Data NDJSON) read into layout-A tables (docs/FHIR.md)."""
