"""Clinic settings (settings.toml) with the docs/DEFINITIONS.md defaults; every report states them."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

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
    eligibility_min: int = 10
    response_fraction: float = 0.5
    remission_max: int = 4
    loss_of_response_min: int = 10
    reliable_change: tuple[tuple[str, int], ...] = (("PHQ-9", 6), ("GAD-7", 4))
    suppression_max: int = 10
    # Chart points built on fewer than this many courses are drawn hollow and not joined to the line.
    min_n_shown: int = 5
    source: str = field(default="built-in defaults (docs/DEFINITIONS.md)", compare=False)

    def induction_length_for(self, modality: str) -> int:
        return dict(self.induction_length)[modality]

    def reliable_change_for(self, instrument: str) -> int:
        return dict(self.reliable_change)[instrument]

    def fingerprint(self) -> str:
        """Changes whenever a value changes (not the file name): keys caches of computed outcomes."""
        import hashlib
        import json

        # min_n_shown changes how charts draw, not what is computed: the stored outcomes stay valid.
        values = {k: v for k, v in self.as_dict().items() if k not in ("source", "min_n_shown")}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        """The values a report prints under "settings used"."""
        values = asdict(self)
        values["induction_length"] = dict(self.induction_length)
        values["reliable_change"] = dict(self.reliable_change)
        return values


_SECTIONS = {
    "courses": ("course_gap_days", "in_progress_days"),
    "windows": ("baseline_window_days", "end_of_induction_window_days", "pre_booster_window_days"),
    "outcomes": ("eligibility_min", "response_fraction", "remission_max", "loss_of_response_min"),
    "reporting": ("suppression_max", "min_n_shown"),
}


def _number(path: Path, key: str, value, *, fraction: bool = False):
    if fraction:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 1:
            raise SettingsError(f"{path}: {key} must be a number between 0 and 1, found {value!r}.")
        return float(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SettingsError(f"{path}: {key} must be a whole number of 0 or more, found {value!r}.")
    return value


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
            values[key] = _number(settings_path, key, value, fraction=key == "response_fraction")
    lengths = dict(defaults.induction_length)
    for modality, value in data.get("induction_length", {}).items():
        if modality not in lengths:
            raise SettingsError(
                f"{settings_path}: [induction_length] {modality!r} is not a modality; use one of {', '.join(MODALITIES)}."
            )
        lengths[modality] = _number(settings_path, f"induction_length.{modality}", value)
        if lengths[modality] < 1:
            raise SettingsError(f"{settings_path}: induction_length.{modality} must be at least 1.")
    changes = dict(defaults.reliable_change)
    for instrument, value in data.get("reliable_change", {}).items():
        if instrument not in changes:
            raise SettingsError(f"{settings_path}: [reliable_change] {instrument!r} is not an instrument.")
        changes[instrument] = _number(settings_path, f"reliable_change.{instrument}", value)
    unknown_sections = set(data) - set(_SECTIONS) - {"induction_length", "reliable_change"}
    if unknown_sections:
        raise SettingsError(f"{settings_path}: unknown section [{sorted(unknown_sections)[0]}].")
    return replace(
        defaults,
        **values,
        induction_length=tuple(lengths.items()),
        reliable_change=tuple(changes.items()),
        source=str(settings_path),
    )
