"""Outcome engine for ketamine and esketamine clinics: store, importer, outcomes, reports."""
