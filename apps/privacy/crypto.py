"""Application-level encryption of PHI (MultiFernet) and keyed hashes for blind indexes.

Ciphertext is stored as ``f1:<key id>:<fernet token>`` (text columns) or the same bytes (files).
The key id (8 hex chars of the key's SHA-256) says which key sealed a value, so
``rotate_phi_keys`` can find exactly the values not yet under the newest key, and a stopped
rotation resumes where it left off. A key id is a public fingerprint, safe to log.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "f1"
_PREFIX_BYTES = PREFIX.encode()


class PhiDecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


def key_id(key: str) -> str:
    """The public fingerprint of a Fernet key, stored beside each value it sealed."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class PhiKeyring:
    """The configured keys: the first encrypts, every one decrypts.

    Build it through ``keyring()``, which reuses one instance per key tuple: constructing the
    Fernet objects and fingerprints is the expensive part, and it is done once here.
    """

    keys: tuple[str, ...]
    current_key_id: str = field(init=False, compare=False)
    current_prefix: str = field(init=False, compare=False)
    _current_prefix_bytes: bytes = field(init=False, repr=False, compare=False)
    _fernets: dict[str, Fernet] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ImproperlyConfigured("PHI_ENCRYPTION_KEYS is empty.")
        fernets: dict[str, Fernet] = {}
        for position, key in enumerate(self.keys):
            try:
                fernet = Fernet(key.encode())
            except ValueError:
                # Never echo the key itself: the position is enough to find it.
                raise ImproperlyConfigured(
                    f"PHI_ENCRYPTION_KEYS[{position}] is not a valid Fernet key."
                ) from None
            kid = key_id(key)
            if kid in fernets:
                # Two different keys with one fingerprint would make values ambiguous; the same
                # key listed twice is a configuration slip worth stopping for too.
                raise ImproperlyConfigured(f"PHI_ENCRYPTION_KEYS[{position}] repeats key id {kid}.")
            fernets[kid] = fernet
        current = key_id(self.keys[0])
        # object.__setattr__: the dataclass is frozen; these are derived once, here.
        object.__setattr__(self, "_fernets", fernets)
        object.__setattr__(self, "current_key_id", current)
        object.__setattr__(self, "current_prefix", f"{PREFIX}:{current}:")
        object.__setattr__(self, "_current_prefix_bytes", f"{PREFIX}:{current}:".encode())

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Fingerprints of every configured key, newest first."""
        return tuple(self._fernets)

    # --- text -------------------------------------------------------------------------------
    def encrypt(self, plaintext: str) -> str:
        """Seal text under the newest key."""
        token = self._fernets[self.current_key_id].encrypt(plaintext.encode())
        return f"{self.current_prefix}{token.decode()}"

    def decrypt(self, stored: str) -> str:
        """Open a value sealed by any configured key."""
        kid, token = self._split(_stored_bytes(stored))
        try:
            return self._fernet_for(kid).decrypt(token).decode()
        except InvalidToken as exc:
            raise PhiDecryptionError(f"key {kid} does not open this value") from exc

    def is_current(self, stored: str) -> bool:
        """Whether a stored value is already sealed by the newest key."""
        return stored.startswith(self.current_prefix)

    def rotate(self, stored: str) -> str:
        """Re-seal a stored value under the newest key (``MultiFernet.rotate`` semantics: the
        token keeps its original timestamp)."""
        return self.rotate_bytes(_stored_bytes(stored)).decode()

    # --- bytes (files) ----------------------------------------------------------------------
    def encrypt_bytes(self, data: bytes) -> bytes:
        """Seal bytes under the newest key."""
        token = self._fernets[self.current_key_id].encrypt(data)
        return self._current_prefix_bytes + token

    def decrypt_bytes(self, stored: bytes) -> bytes:
        """Open bytes sealed by any configured key."""
        kid, token = self._split(stored)
        try:
            return self._fernet_for(kid).decrypt(token)
        except InvalidToken as exc:
            raise PhiDecryptionError(f"key {kid} does not open this file") from exc

    def is_current_bytes(self, stored: bytes) -> bool:
        """Whether stored bytes are already sealed by the newest key."""
        return stored.startswith(self._current_prefix_bytes)

    def rotate_bytes(self, stored: bytes) -> bytes:
        """Re-seal stored bytes under the newest key, keeping the token's timestamp."""
        kid, token = self._split(stored)
        rotator = MultiFernet([self._fernets[self.current_key_id], self._fernet_for(kid)])
        try:
            return self._current_prefix_bytes + rotator.rotate(token)
        except InvalidToken as exc:
            raise PhiDecryptionError(f"key {kid} does not open this value") from exc

    # --- internals --------------------------------------------------------------------------
    def _split(self, stored: bytes) -> tuple[str, bytes]:
        parts = stored.split(b":", 2)
        if len(parts) != 3:  # noqa: PLR2004 (prefix, key id, token)
            raise PhiDecryptionError("not an encrypted value")
        prefix, raw_kid, token = parts
        if prefix != _PREFIX_BYTES:
            raise PhiDecryptionError("unknown ciphertext format")
        # Bytes, not text: whatever sits in the column or file must end in PhiDecryptionError,
        # never in a UnicodeDecodeError.
        return raw_kid.decode("ascii", errors="replace"), token

    def _fernet_for(self, kid: str) -> Fernet:
        fernet = self._fernets.get(kid)
        if fernet is None:
            # No fallback over the other keys: a value names its key, and a key that is not
            # configured any more cannot open it.
            raise PhiDecryptionError(f"sealed by key {kid}, which is not configured")
        return fernet


def _stored_bytes(stored: str) -> bytes:
    # A real token is ASCII; "replace" turns anything else (even a lone surrogate) into bytes
    # that simply fail to decrypt, so every bad value ends in PhiDecryptionError.
    return stored.encode("utf-8", errors="replace")


@lru_cache(maxsize=8)
def _keyring_for(keys: tuple[str, ...]) -> PhiKeyring:
    # Keyed by the key tuple itself, so a changed setting (tests, a new deploy) gets its own
    # keyring; bounded so test suites that make many key sets do not grow it without end.
    return PhiKeyring(keys)


def keyring() -> PhiKeyring:
    """The keyring from settings (``PHI_ENCRYPTION_KEYS``, newest first)."""
    return _keyring_for(tuple(settings.PHI_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Encrypt text under the newest key."""
    return keyring().encrypt(plaintext)


def decrypt(stored: str) -> str:
    """Decrypt a value sealed by any configured key."""
    return keyring().decrypt(stored)


def blind_index(*parts: str) -> str:
    """A keyed hash of normalized parts: equal inputs give equal outputs, and without
    ``PHI_BLIND_INDEX_KEY`` nobody can test a guess against it.

    Each part is length-prefixed, so no choice of parts can collide with another split of the
    same characters (``("ab", "c")`` and ``("a", "bc")`` hash differently).
    """
    message = b"".join(
        len(encoded).to_bytes(4, "big") + encoded for encoded in (part.encode() for part in parts)
    )
    key = settings.PHI_BLIND_INDEX_KEY.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
