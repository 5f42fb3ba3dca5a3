"""PHI files (insurance card images) kept encrypted in the ``phi`` storage.

Bytes are sealed with the PHI keyring before they reach the storage (``f1:<key id>:<token>``), so
neither the disk under ``var/phi-files`` nor an S3 bucket ever holds plaintext. Names are random
(``<folder>/<uuid4 hex>.bin``): they say nothing about the person and cannot be guessed. The
storage is never served by URL; staff read files through the application only.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

from apps.privacy.crypto import keyring

PHI_STORAGE_ALIAS = "phi"
_FOLDER_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


class PhiFileReplaceError(Exception):
    """The storage could not replace a file in place (it saved under another name)."""


def phi_storage() -> Storage:
    """The storage that holds encrypted PHI files (``STORAGES["phi"]``)."""
    return storages[PHI_STORAGE_ALIAS]


def phi_file_save(*, data: bytes, folder: str) -> str:
    """Encrypt ``data`` under the newest key and store it under a random name in ``folder``.

    Returns the storage name to keep on the row that owns the file.
    """
    name = f"{_clean_folder(folder)}/{uuid.uuid4().hex}.bin"
    return phi_storage().save(name, ContentFile(keyring().encrypt_bytes(data)))


def phi_file_read(*, name: str) -> bytes:
    """The decrypted content of a stored PHI file (``PhiDecryptionError`` if no key opens it)."""
    return keyring().decrypt_bytes(_read_stored(name))


def phi_file_delete(*, name: str) -> None:
    """Delete a stored PHI file; a file that is already gone is not an error."""
    phi_storage().delete(name)


def phi_file_names() -> Iterator[str]:
    """Every file name in the ``phi`` storage, walking folders depth first in name order.

    Dot-files are skipped: they are the temporary files of an interrupted replace.
    """
    storage = phi_storage()
    try:
        yield from _walk(storage, "")
    except FileNotFoundError:
        # A FileSystemStorage whose folder was never created holds nothing yet.
        return


def phi_file_is_current(*, name: str) -> bool:
    """Whether a stored file is already sealed by the newest key."""
    return keyring().is_current_bytes(_read_stored(name))


def phi_file_rotate(*, name: str) -> bool:
    """Re-seal one stored file under the newest key, replacing it under the same name.

    Returns False when the file was already under the newest key (nothing written). The name
    does not change, so rows that point at the file stay valid. Raises ``PhiDecryptionError``
    when no configured key opens the file.
    """
    ring = keyring()
    stored = _read_stored(name)
    if ring.is_current_bytes(stored):
        return False
    _replace(phi_storage(), name, ring.rotate_bytes(stored))
    return True


def _read_stored(name: str) -> bytes:
    with phi_storage().open(name, "rb") as handle:
        data = handle.read()
    # Storages may hand back str for text-mode backends; ours are always binary.
    return data if isinstance(data, bytes) else data.encode()


def _clean_folder(folder: str) -> str:
    segments = [segment for segment in folder.strip("/").split("/") if segment]
    if not segments or not all(_FOLDER_SEGMENT.match(segment) for segment in segments):
        raise ValueError("folder must be one or more plain path segments (letters, digits, _ -)")
    return "/".join(segments)


def _walk(storage: Storage, path: str) -> Iterator[str]:
    directories, files = storage.listdir(path)
    for file_name in sorted(files):
        if not file_name.startswith("."):
            yield posixpath.join(path, file_name) if path else file_name
    for directory in sorted(directories):
        yield from _walk(storage, posixpath.join(path, directory) if path else directory)


def _replace(storage: Storage, name: str, data: bytes) -> None:
    """Write ``data`` over ``name`` so that a reader sees either the old or the new content.

    ``Storage.save`` never overwrites (it picks another name), and delete-then-save would lose
    the file if the process died in between, so each backend gets an atomic replace.
    """
    if isinstance(storage, FileSystemStorage):
        _replace_on_disk(storage, name, data)
        return
    # Object stores (S3Storage) implement _save, the documented hook for custom storages, as a
    # single PUT to exactly this key: atomic, and it overwrites.
    written = storage._save(name, ContentFile(data))  # type: ignore[attr-defined]
    if written != name:
        storage.delete(written)
        raise PhiFileReplaceError("the phi storage cannot replace a file under the same name")


def _replace_on_disk(storage: FileSystemStorage, name: str, data: bytes) -> None:
    target = Path(storage.path(name))
    temporary = _write_temporary(target, data, storage.file_permissions_mode)
    try:
        if target.exists():
            temporary.replace(target)
            return
    finally:
        # Gone after a successful rename; otherwise it must not stay behind.
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    # Deleted (retention, a discarded upload) while we re-encrypted it: do not bring it back.
    # The window left is the instant between the check and the rename.
    raise FileNotFoundError(name)


def _write_temporary(target: Path, data: bytes, mode: int | None) -> Path:
    # Same directory, so the rename stays on one filesystem (atomic); a dot-name, so an
    # interrupted run's leftover is skipped by phi_file_names. mkstemp creates it 0600.
    fd, path = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temporary = Path(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            temporary.chmod(mode)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return temporary
