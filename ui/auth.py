"""Who is using this session: sign-in through st.login, their role from roles.toml, or this computer when sign-in is off."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import streamlit as st
from streamlit import config

from analysis import access
from analysis.access import Person

SIGN_IN = "Sign in with your clinic account to see the dashboard."
EXPOSED = (
    "This dashboard is reachable from other computers ({address}) but sign-in is off, so it shows no data: "
    "add an [auth] section for your identity provider to .streamlit/secrets.toml and list your staff in "
    "roles.toml (README, “Deploying for a clinic”), or serve it on 127.0.0.1 only."
)
DEFAULT_IDLE_MINUTES = 30


def sign_in_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (Streamlit's st.login configuration)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than answering False
        return False


def served_address() -> str | None:
    """The address the server listens on, as Streamlit holds it (None: every network interface)."""
    return config.get_option("server.address")


def served_locally() -> bool:
    return access.is_loopback(served_address())


def idle_minutes() -> int:
    """Minutes without a click after which a session starts over ($OUTCOMES_IDLE_MINUTES, default 30)."""
    try:
        return max(1, int(os.environ.get("OUTCOMES_IDLE_MINUTES", DEFAULT_IDLE_MINUTES)))
    except ValueError:
        return DEFAULT_IDLE_MINUTES


@st.cache_resource(show_spinner=False, max_entries=4)
def _roles(path_key: str, modified: float) -> tuple[dict[str, Person], str | None]:
    """The roles file per version of it: the people, or the sentence saying what to fix."""
    try:
        return access.load_roles(Path(path_key)), None
    except access.RolesError as error:
        return {}, str(error)


def roles() -> tuple[dict[str, Person], str | None]:
    path = access.roles_path_from_env()
    modified = path.stat().st_mtime if path.exists() else 0.0
    return _roles(str(path), modified)


def local_person() -> Person:
    """Sign-in off on this computer: whoever sits at it is the administrator."""
    return Person(email=f"{getpass.getuser()} (sign-in off)", name="This computer", role="admin")


def signed_in_user() -> dict:
    """What the identity provider said about the signed-in user ({} when nobody is signed in)."""
    user = st.user.to_dict()
    return user if user.get("is_logged_in") else {}


def current() -> tuple[Person | None, str | None]:
    """The person using this session, or None and the one sentence that says why there is none."""
    if not sign_in_configured():
        if not served_locally():
            return None, EXPOSED.format(address=f"server.address = {served_address() or 'every interface'}")
        return local_person(), None
    user = signed_in_user()
    if not user:
        return None, SIGN_IN
    people, problem = roles()
    if problem:
        return None, problem
    person = access.person_for(people, user.get("email"), user.get("name"))
    if person is None:
        return None, access.NO_ACCESS
    return person, None


def scope() -> access.Scope:
    """The patients this session may see; nobody when no person is established (fail closed)."""
    person, _ = current()
    return person.scope if person is not None else access.NOBODY
