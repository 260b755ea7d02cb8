"""The quarterly report (docs/DEFINITIONS.md), its suppression, and its exports."""
