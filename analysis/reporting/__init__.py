"""The quarterly report (OUTCOMES.md §6-7), its suppression, and its exports."""
