"""Keyed pseudonyms from source identifiers (DATA_FORMAT.md "Pseudonyms from identifiers").

HMAC-SHA256 under the clinic's secret key: the same source id gives the same pseudonym on every
import under the same key, so later exports merge, and without the key nobody can go back from a
pseudonym to the id. The key lives outside the store: $OUTCOMES_KEY (hex), else a key file beside
the store (`<store>.key`), created on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_ENV = "OUTCOMES_KEY"
KEY_BYTES = 32
PSEUDONYM_PREFIX = "P-"
PSEUDONYM_HEX_CHARS = 16  # 64 bits: collisions stay negligible for millions of patients


class PseudonymKeyError(ValueError):
    """A key that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class ClinicKey:
    """The clinic's pseudonym key and where it came from (never printed: only its fingerprint is shown)."""

    secret: bytes
    source: str  # "$OUTCOMES_KEY" or the key file's path
    created: bool = False  # True when this call made a new key file: the user must back it up

    @property
    def fingerprint(self) -> str:
        """A short public name for the key (safe to show on a page or in an audit row)."""
        return hashlib.sha256(b"fingerprint:" + self.secret).hexdigest()[:12]

    def pseudonym(self, source_id: str) -> str:
        """'MRN 004521' -> 'P-3f9c…': the same id always gives the same pseudonym under this key."""
        digest = hmac.new(self.secret, str(source_id).strip().encode("utf-8"), hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_CHARS]


def key_path_for(store_path: str | os.PathLike) -> Path:
    """The key file that belongs to a store: data/clinic.duckdb -> data/clinic.duckdb.key."""
    return Path(f"{store_path}.key")


def _from_hex(text: str, where: str) -> bytes:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise PseudonymKeyError(
            f"{where} is not a pseudonym key (expected {KEY_BYTES * 2} hexadecimal characters)."
        ) from None
    if len(secret) < 16:
        raise PseudonymKeyError(f"{where} is too short for a pseudonym key (at least 32 hexadecimal characters).")
    return secret


def load_key(store_path: str | os.PathLike, *, create: bool = True) -> ClinicKey:
    """The clinic's key: $OUTCOMES_KEY, else the key file beside the store, else (create=True) a new key file.

    A new key file is written readable by its owner only; the caller must tell the user to back it up,
    because without it later exports no longer merge with the patients already in the store.
    """
    named = os.environ.get(KEY_ENV)
    if named:
        return ClinicKey(_from_hex(named, f"${KEY_ENV}"), f"${KEY_ENV}")
    path = key_path_for(store_path)
    if path.exists():
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise PseudonymKeyError(f"The pseudonym key file {path} cannot be read ({error}).") from None
        return ClinicKey(_from_hex(text, str(path)), str(path))
    if not create:
        raise PseudonymKeyError(f"There is no pseudonym key for this store ({path}, or ${KEY_ENV}).")
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secret.hex() + "\n")
    except OSError as error:
        raise PseudonymKeyError(
            f"The pseudonym key file {path} cannot be written ({error.strerror or error})."
        ) from None
    return ClinicKey(secret, str(path), created=True)


def backup_warning(key: ClinicKey) -> str:
    """The sentence shown when a key was just created."""
    return (
        f"A new pseudonym key was created at {key.source} (fingerprint {key.fingerprint}). Back it up with the "
        "store: without it, later exports of the same patients get different pseudonyms and no longer merge."
    )
