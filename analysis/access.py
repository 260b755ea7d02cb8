"""Who may see what: the roles file (roles.toml), each role's pages and actions, a clinician's patients."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.engine.timeline import Timeline
from analysis.settings import REPO_ROOT

DEFAULT_ROLES_PATH = REPO_ROOT / "roles.toml"
ROLES = ("admin", "leadership", "clinician")

# Page keys are the file names under pages/.
LEADERSHIP_PAGES = ("overview", "induction", "boosters")
ALL_PAGES = (*LEADERSHIP_PAGES, "patient", "quarterly", "data")
PAGES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "admin": ALL_PAGES,
    "leadership": ALL_PAGES,
    # A clinician's leadership pages are "my outcomes": computed over their own patients only.
    "clinician": (*LEADERSHIP_PAGES, "patient"),
}
# What changes the store or shows who looked at what is the administrator's.
ACTIONS_BY_ROLE: dict[str, frozenset[str]] = {
    "admin": frozenset({"import", "remove_demo", "change_mapping", "read_access_log", "download_report"}),
    "leadership": frozenset({"download_report"}),
    "clinician": frozenset(),
}

NO_ACCESS = "You are signed in, but this dashboard has no access for you yet: ask your administrator for access."


class RolesError(ValueError):
    """A roles file that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Scope:
    """The patients a person may see: everyone, those with a session by one clinician, or nobody."""

    kind: str = "everyone"  # everyone | clinician | nobody
    clinician_id: str | None = None

    @property
    def everyone(self) -> bool:
        return self.kind == "everyone"

    @property
    def key(self) -> str:
        """Stands for the scope in every cache key, so no cached result of one scope reaches another."""
        return f"clinician:{self.clinician_id}" if self.kind == "clinician" else self.kind


EVERYONE = Scope()
# Where no person could be established: fail closed.
NOBODY = Scope("nobody")


@dataclass(frozen=True)
class Person:
    """A signed-in member of staff (or this computer, when sign-in is off) and their role."""

    email: str
    name: str
    role: str
    clinician_id: str | None = None

    @property
    def scope(self) -> Scope:
        if self.role == "clinician":
            return Scope("clinician", self.clinician_id)
        return EVERYONE if self.role in ROLES else NOBODY

    def may_open(self, page: str) -> bool:
        return page in PAGES_BY_ROLE.get(self.role, ())

    def may(self, action: str) -> bool:
        return action in ACTIONS_BY_ROLE.get(self.role, frozenset())

    def describe(self) -> str:
        if self.role == "clinician":
            return f"clinician {self.clinician_id}: your own patients only"
        return {"admin": "administrator", "leadership": "leadership: every patient, the Data page read-only"}[self.role]


def roles_path_from_env() -> Path:
    """$OUTCOMES_ROLES, else roles.toml beside the app."""
    named = os.environ.get("OUTCOMES_ROLES")
    return Path(named).expanduser() if named else DEFAULT_ROLES_PATH


def parse_roles(text: str, source: str = "roles.toml") -> dict[str, Person]:
    """Every person of the roles file by lower-cased email, or RolesError naming the entry to fix.

    One wrong entry refuses the whole file: a half-read file could give someone the wrong role.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RolesError(f"{source} is not valid TOML ({error}); fix that line.") from None
    users = data.get("users", {})
    unknown_sections = sorted(set(data) - {"users"})
    if unknown_sections or not isinstance(users, dict):
        raise RolesError(f'{source} may hold only [users."email"] sections; remove {unknown_sections or "users"}.')
    people: dict[str, Person] = {}
    for email, entry in users.items():
        where = f'{source}, [users."{email}"]'
        if "@" not in email:
            raise RolesError(f"{where}: the key must be the email the person signs in with.")
        if not isinstance(entry, dict):
            raise RolesError(f'{where}: write it as a section with role = "admin", "leadership" or "clinician".')
        role = entry.get("role")
        if role not in ROLES:
            raise RolesError(f'{where}: role is {role!r}; use "admin", "leadership" or "clinician".')
        clinician_id = entry.get("clinician_id")
        if role == "clinician" and (not isinstance(clinician_id, str) or not clinician_id.strip()):
            raise RolesError(f'{where}: a clinician needs clinician_id = "…", as the sessions export names them.')
        extra = sorted(set(entry) - {"role", "clinician_id", "name"})
        if extra:
            raise RolesError(f"{where}: unknown setting {', '.join(extra)}; use role, clinician_id and name.")
        key = email.strip().lower()
        if key in people:
            raise RolesError(f"{where}: this email is listed twice; keep one entry.")
        people[key] = Person(
            email=key,
            name=str(entry.get("name") or ""),
            role=role,
            clinician_id=clinician_id.strip() if role == "clinician" else None,
        )
    return people


def load_roles(path: Path) -> dict[str, Person]:
    """The roles file at path; a missing or unreadable file is one sentence."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RolesError(
            f"Sign-in is on but there is no roles file at {path}; copy roles.example.toml there and list your staff."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RolesError(f"The roles file {path} cannot be read ({error}).") from None
    return parse_roles(text, source=str(path))


def person_for(people: dict[str, Person], email: str | None, name: str | None = None) -> Person | None:
    """The roles-file entry for a signed-in email (matched without regard to case), named as the provider names them."""
    if not email:
        return None
    person = people.get(email.strip().lower())
    if person is None:
        return None
    if not person.name:  # the roles file may leave the name to the identity provider
        return Person(person.email, name or person.email, person.role, person.clinician_id)
    return person


def scope_patients(sessions: pd.DataFrame, scope: Scope) -> set[str]:
    """The patients with at least one session by the scope's clinician (every patient for everyone)."""
    if scope.everyone:
        return set(sessions["patient_id"])
    if scope.kind != "clinician":
        return set()
    return set(sessions.loc[sessions["clinician_id"] == scope.clinician_id, "patient_id"])


def restrict(timeline: Timeline, scope: Scope) -> Timeline:
    """The timeline holding only the courses of the scope's patients (all their courses)."""
    if scope.everyone:
        return timeline
    patients = scope_patients(timeline.sessions, scope)
    courses = timeline.courses.loc[timeline.courses["patient_id"].isin(patients), "course_id"]
    return timeline.subset(courses)


def may_see_patient(timeline: Timeline, scope: Scope, patient_id: str | None) -> bool:
    """True when the patient is within the scope; timeline is the full one (or already restricted)."""
    if not patient_id:
        return False
    if scope.everyone:
        return True
    return patient_id in scope_patients(timeline.sessions, scope)


LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(address: str | None) -> bool:
    """True when a server.address keeps the app on this computer. Unset means every interface: not loopback."""
    if not address:
        return False
    host = address.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
