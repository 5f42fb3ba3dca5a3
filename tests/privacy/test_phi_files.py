"""PHI files: encrypted before they reach the storage, under names nobody can guess."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apps.privacy.crypto import PhiDecryptionError, key_id
from apps.privacy.phi_files import (
    phi_file_delete,
    phi_file_names,
    phi_file_read,
    phi_file_save,
    phi_storage,
)

Keys = Callable[..., Any]
CARD = b"\xff\xd8\xff\xe0JFIF member XQZ948271635 Rosalind" + bytes(range(256)) * 8


def test_it_stores_only_ciphertext(phi_storage_dir: Path) -> None:
    name = phi_file_save(data=CARD, folder="cards")
    on_disk = (phi_storage_dir / name).read_bytes()
    assert on_disk.startswith(b"f1:")
    assert b"XQZ948271635" not in on_disk
    assert CARD[:16] not in on_disk


def test_it_reads_back_the_plaintext() -> None:
    name = phi_file_save(data=CARD, folder="cards")
    assert phi_file_read(name=name) == CARD


def test_it_names_files_randomly_inside_the_folder() -> None:
    first = phi_file_save(data=CARD, folder="cards")
    second = phi_file_save(data=CARD, folder="cards/")
    assert re.fullmatch(r"cards/[0-9a-f]{32}\.bin", first)
    assert re.fullmatch(r"cards/[0-9a-f]{32}\.bin", second)
    assert first != second


@pytest.mark.parametrize("folder", ["", "/", "../escape", "cards/../..", "a b", "c:\\x"])
def test_it_refuses_folders_that_are_not_plain_segments(folder: str) -> None:
    with pytest.raises(ValueError, match="folder"):
        phi_file_save(data=CARD, folder=folder)


def test_it_deletes_and_forgives_a_second_delete(phi_storage_dir: Path) -> None:
    name = phi_file_save(data=CARD, folder="cards")
    phi_file_delete(name=name)
    phi_file_delete(name=name)
    assert not (phi_storage_dir / name).exists()
    assert not phi_storage().exists(name)


def test_it_seals_files_under_the_newest_key(
    phi_storage_dir: Path, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(new_key, old_key):
        name = phi_file_save(data=CARD, folder="cards")
    assert (phi_storage_dir / name).read_bytes().startswith(f"f1:{key_id(new_key)}:".encode())


def test_it_refuses_a_file_whose_key_was_dropped(keys: Keys, new_key: str, old_key: str) -> None:
    with keys(old_key):
        name = phi_file_save(data=CARD, folder="cards")
    with keys(new_key), pytest.raises(PhiDecryptionError):
        phi_file_read(name=name)


def test_it_lists_every_file_but_leftover_temporaries(phi_storage_dir: Path) -> None:
    saved = {phi_file_save(data=CARD, folder="cards"), phi_file_save(data=CARD, folder="a/b")}
    (phi_storage_dir / "cards" / ".leftover.tmp").write_bytes(b"x")
    assert set(phi_file_names()) == saved


def test_it_lists_nothing_when_the_storage_folder_does_not_exist_yet() -> None:
    assert list(phi_file_names()) == []
