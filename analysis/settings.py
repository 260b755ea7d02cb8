"""Clinic settings (settings.toml) with the docs/DEFINITIONS.md defaults; every report states them."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from analysis.instruments.records import CATALOG, OutcomeRules
from analysis.vocabulary import DEFAULT_INDUCTION_LENGTH, MODALITIES

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS_PATH = REPO_ROOT / "settings.toml"


class SettingsError(ValueError):
    """A settings file that cannot be used; the message says which value to fix."""


@dataclass(frozen=True)
class Settings:
    course_gap_days: int = 90
    in_progress_days: int = 28
    # (modality, induction length) pairs; a tuple so that Settings stays hashable for caches.
    induction_length: tuple[tuple[str, int], ...] = tuple(DEFAULT_INDUCTION_LENGTH.items())
    baseline_window_days: int = 30
    end_of_induction_window_days: int = 28
    pre_booster_window_days: int = 7
    # (instrument code, its outcome rules): the records' defaults unless settings.toml overrides them.
    instrument_rules: tuple[tuple[str, OutcomeRules], ...] = tuple((i.code, i.rules) for i in CATALOG)
    suppression_max: int = 10
    # Printed on the title page of the PDF and at the top of the HTML report.
    clinic_name: str = ""
    # Dates written 03/04/2026 whose column cannot tell the order: "month" (MM/DD) or "day" (DD/MM) first.
    date_order: str = "month"
    # Chart points built on fewer than this many courses are drawn hollow and not joined to the line.
    min_n_shown: int = 5
    source: str = field(default="built-in defaults (docs/DEFINITIONS.md)", compare=False)

    def induction_length_for(self, modality: str) -> int:
        return dict(self.induction_length)[modality]

    def rules_for(self, instrument: str) -> OutcomeRules:
        """The outcome rules in force for an instrument (its record's, with this clinic's changes)."""
        return dict(self.instrument_rules)[instrument]

    def reliable_change_for(self, instrument: str) -> int:
        return self.rules_for(instrument).reliable_change

    @property
    def suppressed_words(self) -> str:
        """How a withheld count is written: '<11' with the default suppression_max of 10."""
        return f"<{self.suppression_max + 1}"

    def fingerprint(self) -> str:
        """Changes whenever a value changes (not the file name): keys caches of computed outcomes."""
        # min_n_shown changes how charts draw, not what is computed: the stored outcomes stay valid.
        values = {k: v for k, v in self.as_dict().items() if k not in ("source", "min_n_shown")}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        """The values a report prints under "settings used"."""
        values = asdict(self)
        values["induction_length"] = dict(self.induction_length)
        values["instrument_rules"] = {code: asdict(rules) for code, rules in self.instrument_rules}
        return values


_SECTIONS = {
    "courses": ("course_gap_days", "in_progress_days"),
    "windows": ("baseline_window_days", "end_of_induction_window_days", "pre_booster_window_days"),
    "reporting": ("suppression_max", "clinic_name", "min_n_shown"),
    "import": ("date_order",),
}
DATE_ORDERS = ("month", "day")
# Per instrument, under [instruments."PHQ-9"]: a response rule is a fraction of baseline or a drop in points.
_RULE_KEYS = ("eligibility_min", "response_fraction", "response_drop", "remission_max", "reliable_change")
# Before per-instrument rules, [outcomes] held one set of values for PHQ-9 and GAD-7 and [reliable_change]
# one value per instrument. Files written then still work: [outcomes] applies to every instrument whose
# response rule is a fraction of baseline.
_LEGACY_OUTCOMES = ("eligibility_min", "response_fraction", "remission_max", "loss_of_response_min")


def _number(path: Path, key: str, value: object, *, fraction: bool = False) -> int | float:
    if fraction:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 1:
            raise SettingsError(f"{path}: {key} must be a number between 0 and 1, found {value!r}.")
        return float(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SettingsError(f"{path}: {key} must be a whole number of 0 or more, found {value!r}.")
    return value


def _instrument_rules(path: Path, data: dict) -> tuple[tuple[str, OutcomeRules], ...]:
    rules = {i.code: i.rules for i in CATALOG}
    legacy = data.get("outcomes", {})
    for key, value in legacy.items():
        if key not in _LEGACY_OUTCOMES:
            raise SettingsError(f"{path}: [outcomes] has no setting called {key!r}.")
        if key == "loss_of_response_min":
            # Loss of response now uses each instrument's eligibility threshold (docs/DEFINITIONS.md).
            _number(path, key, value)
            continue
        number = _number(path, key, value, fraction=key == "response_fraction")
        field_name = "response_value" if key == "response_fraction" else key
        for code, current in rules.items():
            if current.response_kind == "fraction":
                rules[code] = replace(current, **{field_name: number})
    for code, value in data.get("reliable_change", {}).items():
        if code not in rules:
            raise SettingsError(f"{path}: [reliable_change] {code!r} is not an instrument; use {', '.join(rules)}.")
        rules[code] = replace(rules[code], reliable_change=_number(path, f"reliable_change.{code}", value))
    for code, values in data.get("instruments", {}).items():
        if code not in rules:
            raise SettingsError(f"{path}: [instruments.{code!r}] is not an instrument; use {', '.join(rules)}.")
        if not isinstance(values, dict):
            raise SettingsError(f'{path}: instruments.{code} must be a section, [instruments."{code}"].')
        for key in values:
            if key not in _RULE_KEYS:
                raise SettingsError(
                    f'{path}: [instruments."{code}"] has no setting called {key!r}; use {", ".join(_RULE_KEYS)}.'
                )
        if "response_fraction" in values and "response_drop" in values:
            raise SettingsError(
                f'{path}: [instruments."{code}"] gives both response_fraction and response_drop; keep one.'
            )
        current = rules[code]
        changes: dict = {}
        for key in ("eligibility_min", "remission_max", "reliable_change"):
            if key in values:
                changes[key] = _number(path, f"instruments.{code}.{key}", values[key])
        if "response_fraction" in values:
            changes["response_kind"] = "fraction"
            changes["response_value"] = _number(
                path, f"instruments.{code}.response_fraction", values["response_fraction"], fraction=True
            )
        if "response_drop" in values:
            changes["response_kind"] = "drop"
            changes["response_value"] = float(
                _number(path, f"instruments.{code}.response_drop", values["response_drop"])
            )
        rules[code] = replace(current, **changes)
    return tuple(rules.items())


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read settings from `path`, else $OUTCOMES_SETTINGS, else settings.toml, else defaults."""
    chosen = path or os.environ.get("OUTCOMES_SETTINGS")
    settings_path = Path(chosen) if chosen else DEFAULT_SETTINGS_PATH
    if not settings_path.exists():
        if chosen:
            raise SettingsError(f"Settings file {settings_path} does not exist.")
        return Settings()
    try:
        data = tomllib.loads(settings_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{settings_path} is not a valid TOML settings file: {error}.") from None

    defaults = Settings()
    values: dict = {}
    known = {f.name for f in fields(Settings)}
    for section, keys in _SECTIONS.items():
        for key, value in data.get(section, {}).items():
            if key not in keys or key not in known:
                raise SettingsError(f"{settings_path}: [{section}] has no setting called {key!r}.")
            if key == "clinic_name":
                if not isinstance(value, str) or len(value.strip()) > 120:
                    raise SettingsError(f"{settings_path}: clinic_name must be text of at most 120 characters.")
                values[key] = value.strip()
                continue
            if key == "date_order":
                if value not in DATE_ORDERS:
                    raise SettingsError(
                        f'{settings_path}: [import] date_order must be "month" or "day", found {value!r}.'
                    )
                values[key] = value
                continue
            values[key] = _number(settings_path, key, value)
    lengths = dict(defaults.induction_length)
    for modality, value in data.get("induction_length", {}).items():
        if modality not in lengths:
            raise SettingsError(
                f"{settings_path}: [induction_length] {modality!r} is not a modality; use one of {', '.join(MODALITIES)}."
            )
        lengths[modality] = _number(settings_path, f"induction_length.{modality}", value)
        if lengths[modality] < 1:
            raise SettingsError(f"{settings_path}: induction_length.{modality} must be at least 1.")
    instrument_rules = _instrument_rules(settings_path, data)
    unknown_sections = set(data) - set(_SECTIONS) - {"induction_length", "reliable_change", "outcomes", "instruments"}
    if unknown_sections:
        raise SettingsError(f"{settings_path}: unknown section [{sorted(unknown_sections)[0]}].")
    return replace(
        defaults,
        **values,
        induction_length=tuple(lengths.items()),
        instrument_rules=instrument_rules,
        source=str(settings_path),
    )
