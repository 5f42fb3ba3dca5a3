"""Secrets generated once into ``var/`` for the embedded default (``make run`` with DEBUG).

Production never reaches this: settings refuse to start without the real environment variables
when DEBUG is off. Files are created with mode 0600 and never committed (``var/`` is ignored).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def local_secret(var_dir: Path, name: str, generate: Callable[[], str]) -> str:
    """Return the secret stored in ``var_dir/name``, generating it on first use."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = generate()
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def new_django_secret_key() -> str:
    """A random Django secret key."""
    return secrets.token_urlsafe(50)


def new_fernet_key() -> str:
    """A random Fernet key (32 bytes, urlsafe base64), as ``Fernet.generate_key`` makes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def new_hmac_key() -> str:
    """A random key for keyed hashes (blind indexes, signed tokens)."""
    return secrets.token_urlsafe(32)
