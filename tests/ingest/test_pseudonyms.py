"""Keyed pseudonyms: stable under one key, different under another, never the source id, key kept outside the store."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat

import pytest

from analysis.ingest import pseudonyms


def test_a_pseudonym_is_hmac_sha256_of_the_source_id_under_the_key(monkeypatch):
    """Checked against hmac computed here by hand, independently of the module's code path."""
    monkeypatch.setenv("OUTCOMES_KEY", "00" * 31 + "01")
    key = pseudonyms.load_key("/nonexistent/store.duckdb")
    expected = hmac.new(bytes.fromhex("00" * 31 + "01"), b"MRN-004521", hashlib.sha256).hexdigest()[:16]
    assert key.pseudonym("MRN-004521") == "P-" + expected
    assert key.pseudonym(" MRN-004521 ") == key.pseudonym("MRN-004521")  # stray spaces in an export
    assert key.source == "$OUTCOMES_KEY" and not key.created


def test_the_key_file_is_created_once_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    store_path = tmp_path / "clinic.duckdb"
    first = pseudonyms.load_key(store_path)
    assert first.created and first.source == str(tmp_path / "clinic.duckdb.key")
    assert stat.S_IMODE(os.stat(first.source).st_mode) == 0o600
    again = pseudonyms.load_key(store_path)
    assert not again.created and again.secret == first.secret
    assert again.pseudonym("12345") == first.pseudonym("12345") != "12345"
    assert first.fingerprint in pseudonyms.backup_warning(first)
    assert first.secret.hex() not in pseudonyms.backup_warning(first)


def test_another_key_gives_other_pseudonyms(tmp_path, monkeypatch):
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    one = pseudonyms.load_key(tmp_path / "a.duckdb")
    two = pseudonyms.load_key(tmp_path / "b.duckdb")
    assert one.pseudonym("12345") != two.pseudonym("12345")
    assert one.fingerprint != two.fingerprint


@pytest.mark.parametrize("value", ["not hex", "abcd"])
def test_an_unusable_key_is_one_sentence(monkeypatch, value):
    monkeypatch.setenv("OUTCOMES_KEY", value)
    with pytest.raises(pseudonyms.PseudonymKeyError, match="OUTCOMES_KEY"):
        pseudonyms.load_key("/nonexistent/store.duckdb")


def test_without_create_a_missing_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("OUTCOMES_KEY", raising=False)
    with pytest.raises(pseudonyms.PseudonymKeyError, match="no pseudonym key"):
        pseudonyms.load_key(tmp_path / "clinic.duckdb", create=False)
    assert not (tmp_path / "clinic.duckdb.key").exists()
