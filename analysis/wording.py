"""The clinic's settings in words ("<11", "1-10", "in the 30 days before"), built from the values in force.

Each instrument's own rules speak for themselves (OutcomeRules.response_words() and the like); this
module words what the settings decide for every instrument: suppression and the baseline window.
"""

from __future__ import annotations

from collections.abc import Mapping

from analysis.settings import Settings


def _value(settings: Settings | Mapping | int, name: str) -> int:
    """A setting from a Settings, from a report's "settings" dict (Settings.as_dict), or the value itself."""
    if isinstance(settings, int):
        return settings
    return settings[name] if isinstance(settings, Mapping) else getattr(settings, name)


def baseline_window(settings: Settings | Mapping) -> str:
    """'in the 30 days before the first session'."""
    return f"in the {_value(settings, 'baseline_window_days')} days before the first session"


def suppressed_label(settings: Settings | Mapping | int) -> str:
    """'<11': how a suppressed count is shown (suppression_max + 1)."""
    return f"<{_value(settings, 'suppression_max') + 1}"


def small_counts(settings: Settings | Mapping | int) -> str:
    """'1-10': the counts suppression hides."""
    return f"1-{_value(settings, 'suppression_max')}"


def suppression_note(settings: Settings | Mapping | int) -> str:
    return (
        f"Counts of {small_counts(settings)} are shown as {suppressed_label(settings)} "
        "and rates or means built on them are withheld."
    )


def internal_use_note(settings: Settings | Mapping | int) -> str:
    return (
        f"INTERNAL USE ONLY: small-cell suppression is off; counts of {small_counts(settings)} are shown. Do not share."
    )
