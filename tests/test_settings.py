"""Clinic settings: the OUTCOMES.md defaults, a clinic's own file, and clear errors for bad values."""

from pathlib import Path

import pytest

from analysis.settings import DEFAULT_SETTINGS_PATH, Settings, SettingsError, load_settings


def test_the_shipped_settings_file_holds_the_outcomes_md_defaults():
    """settings.toml as shipped changes nothing from OUTCOMES.md."""
    shipped = load_settings(DEFAULT_SETTINGS_PATH)
    assert shipped == Settings()
    assert shipped.course_gap_days == 90
    assert shipped.induction_length_for("esketamine_nasal") == 8
    assert shipped.induction_length_for("ketamine_oral") == 6
    assert shipped.reliable_change_for("PHQ-9") == 6
    assert shipped.reliable_change_for("GAD-7") == 4
    assert shipped.rules_for("PHQ-9").eligibility_min == 10
    assert shipped.rules_for("PCL-5").eligibility_min == 33
    assert shipped.suppression_max == 10


def test_a_clinic_changes_a_value_without_touching_code(tmp_path: Path):
    """A clinic with 120-day gaps and 4-session esketamine inductions writes them in its file."""
    path = tmp_path / "clinic.toml"
    path.write_text(
        '[courses]\ncourse_gap_days = 120\n[induction_length]\nesketamine_nasal = 4\n[reliable_change]\n"PHQ-9" = 5\n'
    )
    settings = load_settings(path)
    assert settings.course_gap_days == 120
    assert settings.induction_length_for("esketamine_nasal") == 4
    assert settings.induction_length_for("ketamine_im") == 6
    assert settings.reliable_change_for("PHQ-9") == 5
    assert settings.as_dict()["induction_length"]["esketamine_nasal"] == 4


def test_the_environment_names_the_settings_file(tmp_path: Path, monkeypatch):
    path = tmp_path / "s.toml"
    path.write_text("[outcomes]\neligibility_min = 12\n")
    monkeypatch.setenv("OUTCOMES_SETTINGS", str(path))
    # [outcomes] from before per-instrument rules still applies to the fraction-rule instruments.
    assert load_settings().rules_for("PHQ-9").eligibility_min == 12
    assert load_settings().rules_for("GAD-7").eligibility_min == 12
    assert load_settings().rules_for("PCL-5").eligibility_min == 33


@pytest.mark.parametrize(
    "text, words",
    [
        ("[courses]\ncourse_gap_days = -3\n", "course_gap_days"),
        ("[courses]\ncourse_gap = 90\n", "course_gap"),
        ("[induction_length]\nketamine_nasal = 6\n", "ketamine_nasal"),
        ("[outcomes]\nresponse_fraction = 2\n", "response_fraction"),
        ("[courses\n", "not a valid TOML"),
        ('[windows]\nend_of_induction_window_days = "four weeks"\n', "end_of_induction_window_days"),
    ],
)
def test_a_bad_settings_file_gets_one_sentence_naming_the_value(tmp_path: Path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert words in str(error.value)


def test_a_named_settings_file_that_does_not_exist_is_an_error(tmp_path: Path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_min_n_shown_is_a_setting_that_does_not_touch_the_stored_outcomes(tmp_path: Path):
    """[reporting] min_n_shown (default 5) changes how charts draw thin points, not what the engine computes."""
    assert Settings().min_n_shown == 5 and load_settings(DEFAULT_SETTINGS_PATH).min_n_shown == 5
    path = tmp_path / "clinic.toml"
    path.write_text("[reporting]\nmin_n_shown = 3\n")
    settings = load_settings(path)
    assert settings.min_n_shown == 3
    assert settings.fingerprint() == Settings().fingerprint()
    path.write_text("[reporting]\nmin_n_shown = -1\n")
    with pytest.raises(SettingsError, match="min_n_shown must be a whole number of 0 or more"):
        load_settings(path)
