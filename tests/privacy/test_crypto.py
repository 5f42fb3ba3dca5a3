"""The PHI keyring: format, key order, failures, blind indexes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from apps.privacy import crypto
from apps.privacy.checks import phi_keys_check
from apps.privacy.crypto import PhiDecryptionError, blind_index, key_id, keyring

Keys = Callable[..., Any]


def test_it_round_trips_text(keys: Keys, new_key: str) -> None:
    with keys(new_key):
        assert crypto.decrypt(crypto.encrypt("Zoë takes 40 mg methadone")) == (
            "Zoë takes 40 mg methadone"
        )


def test_it_prefixes_values_with_format_and_key_id(keys: Keys, new_key: str) -> None:
    with keys(new_key):
        stored = crypto.encrypt("secret")
    prefix, kid, token = stored.split(":", 2)
    assert (prefix, kid) == ("f1", key_id(new_key))
    assert len(kid) == 8
    assert Fernet(new_key.encode()).decrypt(token.encode()) == b"secret"
    assert "secret" not in stored


def test_it_encrypts_the_same_text_differently_each_time(keys: Keys, new_key: str) -> None:
    with keys(new_key):
        assert crypto.encrypt("same") != crypto.encrypt("same")


def test_it_decrypts_with_an_older_key_after_a_new_one_is_prepended(
    keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        stored = crypto.encrypt("written under the old key")
    with keys(new_key, old_key):
        assert crypto.decrypt(stored) == "written under the old key"
        assert crypto.encrypt("fresh").startswith(f"f1:{key_id(new_key)}:")


def test_it_refuses_a_value_under_a_key_that_is_not_configured(
    keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        stored = crypto.encrypt("orphan")
    with keys(new_key), pytest.raises(PhiDecryptionError, match=key_id(old_key)):
        crypto.decrypt(stored)


def test_it_refuses_a_token_relabelled_with_another_key_id(
    keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(new_key, old_key):
        stored = crypto.encrypt("relabelled")
        forged = stored.replace(key_id(new_key), key_id(old_key), 1)
        with pytest.raises(PhiDecryptionError):
            crypto.decrypt(forged)


def test_it_refuses_a_tampered_token(keys: Keys, new_key: str) -> None:
    with keys(new_key):
        stored = crypto.encrypt("tamper with me")
        tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
        with pytest.raises(PhiDecryptionError):
            crypto.decrypt(tampered)


@pytest.mark.parametrize(
    "stored",
    ["plain text", "f2:abcdef12:token", "f1:abcdef12", "f1::", "", "f1:zz:\udcff"],
)
def test_it_raises_phi_decryption_error_for_anything_not_ours(
    keys: Keys, new_key: str, stored: str
) -> None:
    with keys(new_key), pytest.raises(PhiDecryptionError):
        crypto.decrypt(stored)


@pytest.mark.parametrize(
    "stored", [b"\xff\xfe:\x80\x81:\x00", b"\x89PNG\r\n", b"f1:\xff\xff\xff\xff:token", b""]
)
def test_it_raises_phi_decryption_error_for_foreign_files(
    keys: Keys, new_key: str, stored: bytes
) -> None:
    with keys(new_key), pytest.raises(PhiDecryptionError):
        keyring().decrypt_bytes(stored)


def test_it_round_trips_bytes_with_the_same_prefix(keys: Keys, new_key: str) -> None:
    data = bytes(range(256)) * 4
    with keys(new_key):
        stored = keyring().encrypt_bytes(data)
        assert stored.startswith(f"f1:{key_id(new_key)}:".encode())
        assert keyring().decrypt_bytes(stored) == data


def test_it_rotates_a_value_to_the_newest_key_keeping_its_timestamp(
    keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        stored = crypto.encrypt("rotate me")
    with keys(new_key, old_key):
        ring = keyring()
        assert not ring.is_current(stored)
        rotated = ring.rotate(stored)
        assert ring.is_current(rotated)
        assert ring.decrypt(rotated) == "rotate me"
    old_token = stored.split(":", 2)[2].encode()
    new_token = rotated.split(":", 2)[2].encode()
    assert Fernet(old_key.encode()).extract_timestamp(old_token) == Fernet(
        new_key.encode()
    ).extract_timestamp(new_token)


def test_it_reuses_one_keyring_per_key_list(keys: Keys, new_key: str, old_key: str) -> None:
    with keys(new_key, old_key):
        first = keyring()
        assert keyring() is first
    with keys(new_key):
        assert keyring() is not first


def test_it_refuses_an_empty_key_list() -> None:
    with override_settings(PHI_ENCRYPTION_KEYS=[]), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_it_refuses_an_invalid_key_without_echoing_it() -> None:
    with (
        override_settings(PHI_ENCRYPTION_KEYS=["not-a-fernet-key"]),
        pytest.raises(ImproperlyConfigured) as excinfo,
    ):
        crypto.encrypt("x")
    assert "not-a-fernet-key" not in str(excinfo.value)


def test_it_refuses_a_key_listed_twice(keys: Keys, new_key: str) -> None:
    with keys(new_key, new_key), pytest.raises(ImproperlyConfigured, match="repeats"):
        crypto.encrypt("x")


def test_blind_index_is_deterministic_and_hides_its_input() -> None:
    first = blind_index("member", "XQZ948271635", "aetna")
    assert first == blind_index("member", "XQZ948271635", "aetna")
    assert first != blind_index("member", "XQZ948271636", "aetna")
    assert len(first) == 64
    assert "XQZ948271635" not in first


def test_blind_index_depends_on_the_key() -> None:
    with override_settings(PHI_BLIND_INDEX_KEY="one key"):
        first = blind_index("member", "XQZ948271635")
    with override_settings(PHI_BLIND_INDEX_KEY="another key"):
        second = blind_index("member", "XQZ948271635")
    assert first != second


def test_blind_index_does_not_depend_on_the_fernet_keys(
    keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        before = blind_index("member", "XQZ948271635")
    with keys(new_key, old_key):
        assert blind_index("member", "XQZ948271635") == before


def test_blind_index_keeps_parts_apart() -> None:
    assert blind_index("ab", "c") != blind_index("a", "bc")
    assert blind_index("a\x1fb") != blind_index("a", "b")


def test_the_system_check_accepts_the_configured_keys() -> None:
    assert phi_keys_check() == []


@pytest.mark.parametrize("configured", [[], ["not-a-key"], ["{k}", "{k}"]])
def test_the_system_check_reports_bad_keys(configured: list[str], new_key: str) -> None:
    with override_settings(PHI_ENCRYPTION_KEYS=[k.format(k=new_key) for k in configured]):
        errors = phi_keys_check()
    assert [error.id for error in errors] == ["privacy.E001"]
    assert all(new_key not in error.msg for error in errors)


def test_the_system_check_reports_a_missing_blind_index_key() -> None:
    with override_settings(PHI_BLIND_INDEX_KEY=""):
        assert [error.id for error in phi_keys_check()] == ["privacy.E002"]
