"""The clinic's rules in words ("at most half of baseline", "<11"), built from its settings, never typed twice."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from analysis.settings import Settings

_NAMED_SHARES = {Fraction(1, 2): "half", Fraction(1, 3): "a third", Fraction(1, 4): "a quarter"}


def _value(settings: Settings | Mapping, name: str):
    """A setting from a Settings or from a report's "settings" dict (Settings.as_dict)."""
    return settings[name] if isinstance(settings, Mapping) else getattr(settings, name)


def share(fraction: float) -> str:
    """0.5 -> 'half'; 0.6 -> '60%'."""
    named = _NAMED_SHARES.get(Fraction(fraction).limit_denominator(100))
    return named or f"{fraction:.0%}"


def response_threshold(settings: Settings | Mapping) -> str:
    """'half of baseline': the line a response must reach."""
    return f"{share(_value(settings, 'response_fraction'))} of baseline"


def response_rule(settings: Settings | Mapping) -> str:
    """'at most half of baseline'."""
    return f"at most {response_threshold(settings)}"


def response_example(settings: Settings | Mapping, baseline: int = 20) -> str:
    """'PHQ-9 20 → 10 or lower': the response rule worked for one baseline."""
    fraction = Fraction(_value(settings, "response_fraction")).limit_denominator(1000)
    target = baseline * fraction
    shown = f"{int(target)}" if target.denominator == 1 else f"{int(target)} (rounded down)"
    return f"PHQ-9 {baseline} → {shown} or lower"


def remission_rule(settings: Settings | Mapping) -> str:
    """'4 or lower'."""
    return f"{_value(settings, 'remission_max')} or lower"


def eligibility_rule(settings: Settings | Mapping) -> str:
    """'10 or more': the baseline a course needs to count in the rates."""
    return f"{_value(settings, 'eligibility_min')} or more"


def loss_of_response_rule(settings: Settings | Mapping) -> str:
    """'10 or more and above half of baseline'."""
    return f"{_value(settings, 'loss_of_response_min')} or more and above {response_threshold(settings)}"


def baseline_window(settings: Settings | Mapping) -> str:
    """'in the 30 days before the first session'."""
    return f"in the {_value(settings, 'baseline_window_days')} days before the first session"


def suppressed_label(settings: Settings | Mapping | int) -> str:
    """'<11': how a suppressed count is shown."""
    limit = settings if isinstance(settings, int) else _value(settings, "suppression_max")
    return f"<{limit + 1}"


def small_counts(settings: Settings | Mapping | int) -> str:
    """ "1-10": the counts suppression hides."""
    limit = settings if isinstance(settings, int) else _value(settings, "suppression_max")
    return f"1-{limit}"


def suppression_note(settings: Settings | Mapping | int) -> str:
    return (
        f"Counts of {small_counts(settings)} are shown as {suppressed_label(settings)} "
        "and rates or means built on them are withheld."
    )


def internal_use_note(settings: Settings | Mapping | int) -> str:
    return (
        f"INTERNAL USE ONLY: small-cell suppression is off; counts of {small_counts(settings)} are shown. Do not share."
    )
