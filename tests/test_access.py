"""The roles file, each role's pages and actions, a clinician's patients, and what counts as this computer."""

from __future__ import annotations

import pytest

from analysis import access, store
from analysis.access import Person, RolesError, Scope

ROLES = """
[users."director@clinic.example"]
role = "leadership"

[users."Dr.Alvarez@Clinic.example"]
role = "clinician"
clinician_id = " CLN-03 "
name = "Dr Alvarez"

[users."ops@clinic.example"]
role = "admin"
"""


def test_the_issue_example_parses_into_three_people_by_lower_cased_email():
    people = access.parse_roles(ROLES)
    assert people == {
        "director@clinic.example": Person("director@clinic.example", "", "leadership"),
        "dr.alvarez@clinic.example": Person("dr.alvarez@clinic.example", "Dr Alvarez", "clinician", "CLN-03"),
        "ops@clinic.example": Person("ops@clinic.example", "", "admin"),
    }


def test_a_signed_in_email_matches_without_regard_to_case_and_takes_the_providers_name():
    people = access.parse_roles(ROLES)
    assert access.person_for(people, "DIRECTOR@clinic.example", "Ana Ruiz").name == "Ana Ruiz"
    assert access.person_for(people, "dr.alvarez@clinic.example", "Alvarez, J").name == "Dr Alvarez"  # the file wins
    assert access.person_for(people, "visitor@elsewhere.example", "V") is None
    assert access.person_for(people, None) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[users."a@b.example"]\nrole = "owner"\n', "role is 'owner'"),
        ('[users."a@b.example"]\nrole = "clinician"\n', "a clinician needs clinician_id"),
        ('[users."a@b.example"]\nrole = "clinician"\nclinician_id = ""\n', "a clinician needs clinician_id"),
        ('[users."alvarez"]\nrole = "admin"\n', "the key must be the email"),
        ('[users."a@b.example"]\nrole = "admin"\nsite = "North"\n', "unknown setting site"),
        ('[users."a@b.example"]\nrole = "admin"\n[users."A@B.example"]\nrole = "leadership"\n', "listed twice"),
        ('[admins]\nemails = ["a@b.example"]\n', "may hold only [users"),
        ('[users."a@b.example"\nrole = "admin"\n', "not valid TOML"),
    ],
)
def test_a_wrong_roles_file_is_refused_whole_with_the_entry_to_fix(text, words):
    with pytest.raises(RolesError) as error:
        access.parse_roles(text)
    assert words in str(error.value)


def test_a_missing_roles_file_says_what_to_do(tmp_path):
    with pytest.raises(RolesError) as error:
        access.load_roles(tmp_path / "roles.toml")
    assert "copy roles.example.toml" in str(error.value)


def test_the_shipped_example_roles_file_is_valid():
    people = access.load_roles(access.REPO_ROOT / "roles.example.toml")
    assert {person.role for person in people.values()} == {"admin", "leadership", "clinician"}


def test_pages_and_actions_per_role():
    admin, leadership = Person("a@x", "", "admin"), Person("l@x", "", "leadership")
    clinician = Person("c@x", "", "clinician", "CLN-01")
    assert [p for p in access.ALL_PAGES if clinician.may_open(p)] == ["overview", "induction", "boosters", "patient"]
    assert all(admin.may_open(p) and leadership.may_open(p) for p in access.ALL_PAGES)
    assert admin.may("import") and admin.may("read_access_log") and admin.may("remove_demo")
    assert not leadership.may("import") and not leadership.may("read_access_log") and leadership.may("download_report")
    assert not clinician.may("download_report") and not clinician.may("read_access_log")
    assert Person("x@x", "", "none").scope == access.NOBODY  # no role: fail closed


def test_a_clinicians_scope_is_the_patients_with_one_of_their_sessions(demo_path, demo_timeline):
    """Checked against plain SQL on the store: every course of those patients, none of anyone else."""
    with store.opened(demo_path, read_only=True) as con:
        expected = {
            r[0] for r in con.execute("SELECT patient_id FROM sessions WHERE clinician_id = 'CLN-03'").fetchall()
        }
        courses = con.execute("SELECT count(DISTINCT patient_id) FROM sessions").fetchone()[0]
    scope = Scope("clinician", "CLN-03")
    mine = access.restrict(demo_timeline, scope)
    assert set(mine.courses["patient_id"]) == expected
    assert len(mine.courses) == demo_timeline.courses["patient_id"].isin(expected).sum()
    assert set(mine.course_outcomes["course_id"]) <= set(mine.courses["course_id"])
    assert set(mine.sessions["patient_id"]) == expected  # their other clinicians' sessions stay: same patients
    assert 0 < len(expected) < courses
    assert access.restrict(demo_timeline, access.EVERYONE) is demo_timeline
    assert access.restrict(demo_timeline, access.NOBODY).courses.empty
    other = sorted(set(demo_timeline.courses["patient_id"]) - expected)[0]
    assert access.may_see_patient(demo_timeline, scope, sorted(expected)[0])
    assert not access.may_see_patient(demo_timeline, scope, other)
    assert access.may_see_patient(demo_timeline, access.EVERYONE, other)
    assert not access.may_see_patient(demo_timeline, access.NOBODY, other)


def test_scope_keys_differ_so_caches_never_share():
    keys = {Scope().key, access.NOBODY.key, Scope("clinician", "CLN-01").key, Scope("clinician", "CLN-02").key}
    assert len(keys) == 4


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        (None, False),  # unset: Streamlit listens on every interface
        ("", False),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("clinic-server.local", False),
    ],
)
def test_what_counts_as_this_computer_only(address, loopback):
    assert access.is_loopback(address) is loopback
