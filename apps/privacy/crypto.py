"""Application-level encryption of PHI (MultiFernet) and keyed hashes for blind indexes.

Ciphertext is stored as ``f1:<key id>:<fernet token>``. The key id (8 hex chars of the key's
SHA-256) says which key sealed a value, so ``rotate_phi_keys`` can find exactly the values not
yet under the newest key and a stopped rotation resumes where it left off.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "f1"


class PhiDecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


def key_id(key: str) -> str:
    """The public fingerprint of a Fernet key, stored beside each value it sealed."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class PhiKeyring:
    """The configured keys: the first encrypts, every one decrypts."""

    keys: tuple[str, ...]

    @property
    def current_key_id(self) -> str:
        return key_id(self.keys[0])

    @property
    def current_prefix(self) -> str:
        return f"{PREFIX}:{self.current_key_id}:"

    def _fernets(self) -> dict[str, Fernet]:
        return _fernets_for(self.keys)

    def encrypt(self, plaintext: str) -> str:
        token = self._fernets()[self.current_key_id].encrypt(plaintext.encode())
        return f"{self.current_prefix}{token.decode()}"

    def decrypt(self, stored: str) -> str:
        try:
            prefix, kid, token = stored.split(":", 2)
        except ValueError as exc:
            raise PhiDecryptionError("not an encrypted value") from exc
        if prefix != PREFIX:
            raise PhiDecryptionError("unknown ciphertext format")
        fernets = self._fernets()
        fernet = fernets.get(kid)
        try:
            if fernet is not None:
                return fernet.decrypt(token.encode()).decode()
            return MultiFernet(list(fernets.values())).decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise PhiDecryptionError("no configured key opens this value") from exc

    def is_current(self, stored: str) -> bool:
        return stored.startswith(self.current_prefix)

    def encrypt_bytes(self, data: bytes) -> bytes:
        token = self._fernets()[self.current_key_id].encrypt(data)
        return self.current_prefix.encode() + token

    def decrypt_bytes(self, stored: bytes) -> bytes:
        try:
            prefix, kid, token = stored.split(b":", 2)
        except ValueError as exc:
            raise PhiDecryptionError("not an encrypted file") from exc
        if prefix.decode() != PREFIX:
            raise PhiDecryptionError("unknown ciphertext format")
        fernets = self._fernets()
        fernet = fernets.get(kid.decode())
        try:
            if fernet is not None:
                return fernet.decrypt(token)
            return MultiFernet(list(fernets.values())).decrypt(token)
        except InvalidToken as exc:
            raise PhiDecryptionError("no configured key opens this file") from exc


@cache
def _fernets_for(keys: tuple[str, ...]) -> dict[str, Fernet]:
    # Building a Fernet derives subkeys; doing it once per key set keeps encryption at ~10 us.
    return {key_id(key): Fernet(key.encode()) for key in keys}


def keyring() -> PhiKeyring:
    """The keyring from settings (``PHI_ENCRYPTION_KEYS``, newest first)."""
    keys = tuple(settings.PHI_ENCRYPTION_KEYS)
    if not keys:
        raise PhiDecryptionError("PHI_ENCRYPTION_KEYS is empty")
    return PhiKeyring(keys)


def encrypt(plaintext: str) -> str:
    """Encrypt text under the newest key."""
    return keyring().encrypt(plaintext)


def decrypt(stored: str) -> str:
    """Decrypt a value sealed by any configured key."""
    return keyring().decrypt(stored)


def blind_index(*parts: str) -> str:
    """A keyed hash of normalized parts: equal inputs give equal outputs, and without
    ``PHI_BLIND_INDEX_KEY`` nobody can test a guess against it."""
    message = "\x1f".join(parts).encode()
    key = settings.PHI_BLIND_INDEX_KEY.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
