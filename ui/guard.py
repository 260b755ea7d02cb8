"""The door of every page: sign-in, role, idle timeout, the sidebar's who-am-I, and the log of who came in."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

import streamlit as st

from analysis.access import Person
from ui import auth, state

if TYPE_CHECKING:
    from streamlit.navigation.page import StreamlitPage

log = logging.getLogger(__name__)

LAST_ACTIVE_KEY = "auth_last_active"
SIGNED_IN_KEY = "auth_logged_sign_in"
IDLE_NOTE_KEY = "auth_idle_note"


def _start_over_when_idle() -> None:
    """A session left without a click for longer than the idle limit starts over (and signs out)."""
    now = time.time()
    last = st.session_state.get(LAST_ACTIVE_KEY)
    st.session_state[LAST_ACTIVE_KEY] = now
    if last is None or now - last <= auth.idle_minutes() * 60:
        return
    person, _ = auth.current()
    for key in list(st.session_state.keys()):
        if key != LAST_ACTIVE_KEY:
            del st.session_state[key]
    st.session_state[IDLE_NOTE_KEY] = True
    if auth.sign_in_configured() and auth.signed_in_user():
        state.log_access(person, "signed out (idle)")
        st.logout()  # ends the session in the browser too; the next visit signs in again


def _sidebar(person: Person | None) -> None:
    with st.sidebar:
        if person is not None and auth.sign_in_configured():
            st.markdown(f"Signed in as **{person.name}**")
            st.caption(person.describe())
            st.button("Sign out", on_click=st.logout, key="auth_sign_out", icon=":material/logout:")
        elif person is not None:
            st.caption(
                "Sign-in is off: this computer only, with every right of an administrator. "
                "README, “Deploying for a clinic”, tells how to turn it on for a team."
            )
        elif auth.signed_in_user():
            st.button("Sign out", on_click=st.logout, key="auth_sign_out", icon=":material/logout:")


def _nothing() -> None:
    """The only page of a session without access."""


def _refuse(person: Person | None, reason: str | None, in_frame: bool = False) -> None:
    """One sentence (and the sign-in button where signing in is the answer), then nothing else."""
    if in_frame:
        # Without st.navigation Streamlit would fall back to listing the pages/ folder in the sidebar.
        st.navigation([st.Page(_nothing, title="Sign in", url_path="sign-in")], position="hidden")
    if reason == auth.SIGN_IN:
        st.title("Ketamine clinic outcomes")
        st.info(reason, icon=":material/login:")
        st.button("Sign in", on_click=st.login, type="primary", key="auth_sign_in", icon=":material/login:")
    else:
        st.warning(reason, icon=":material/lock:")
    st.stop()


def frame() -> Person:
    """Run by dashboard.py before anything else: the person using this session, or a stop with one sentence."""
    _start_over_when_idle()
    person, reason = auth.current()
    _sidebar(person)
    if st.session_state.pop(IDLE_NOTE_KEY, False):
        st.info(f"The dashboard started over after {auth.idle_minutes()} minutes without use.", icon=":material/timer:")
    if person is None:
        user = auth.signed_in_user()
        if user and st.session_state.get(SIGNED_IN_KEY) != ("refused", user.get("email")):
            refused = Person(email=str(user.get("email") or user.get("sub") or "unknown"), name="", role="none")
            if state.log_access(refused, "sign-in refused", detail=reason):
                st.session_state[SIGNED_IN_KEY] = ("refused", user.get("email"))
        _refuse(person, reason, in_frame=True)
    if st.session_state.get(SIGNED_IN_KEY) != person.email and state.log_access(
        person, "sign-in" if auth.sign_in_configured() else "opened (sign-in off)"
    ):
        st.session_state[SIGNED_IN_KEY] = person.email
    return person


def page(key: str) -> Person:
    """Run at the top of each page: the person, if their role opens this page; otherwise one sentence and a stop.

    The entrypoint lists only the pages a role opens; this check also holds for a typed URL or a page run
    on its own.
    """
    person, reason = auth.current()
    if person is None:
        _refuse(person, reason)
    if not person.may_open(key):
        st.warning(f"This page is not part of your access ({person.describe()}).", icon=":material/lock:")
        st.stop()
    return person


def pages_for(person: Person, pages: dict[str, list[StreamlitPage]]) -> dict[str, list[StreamlitPage]]:
    """The navigation's sections with only the pages this person's role opens (page key = file name)."""
    allowed = {
        section: [page for page in entries if person.may_open(_page_key(page))] for section, entries in pages.items()
    }
    return {section: entries for section, entries in allowed.items() if entries}


def _page_key(page: StreamlitPage) -> str:
    # st.Page keeps its script path privately; its URL path is the file name except for the default page.
    return page.url_path or "overview"


def run(navigation: StreamlitPage) -> None:
    """Run the chosen page; an unexpected error goes to the server log and the page shows only its id."""
    try:
        navigation.run()
    except Exception:  # st.stop and st.rerun are not Exceptions: they pass through
        error_id = uuid.uuid4().hex[:8]
        log.exception("page error %s", error_id)
        st.error(
            f"Something went wrong on this page (error {error_id}). Nothing in the store was changed. "
            "Tell your administrator this error id: the server log holds the details.",
            icon=":material/error:",
        )
