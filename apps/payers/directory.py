"""The payer directory files and how they become rows.

``data/payers.csv`` is the center's directory (copied from the shared seed; this copy is the source
of truth). Its ``known_as`` column is prose written for people, with negative statements in it
("Humana Military is TRICARE East, not Humana"; "Medicare Advantage plans are sold by the private
payers above"). Rather than parse that prose, the names it mentions were read once and written to
``data/aliases.csv`` (slug, alias, basis), one reviewed line per name, with the reason it is there.
A new name is a one-line change a reviewer can check, and a parser cannot invent a mapping that no
one approved. The negative statements are not aliases: they live in
``matching.KNOWN_UNRESOLVED`` (names that must resolve to nothing) and as positive aliases of the
right payer (``Humana Military`` under ``tricare``).

Both the data migration (with historical models) and ``services.payer_directory_sync`` (with the
real ones) call ``directory_apply``, so the seed and the command can never disagree.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.payers.matching import normalize

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
PAYERS_CSV = DATA_DIR / "payers.csv"
ALIASES_FILENAME = "aliases.csv"
SOURCE_DIRECTORY = "directory"
SOURCE_STAFF = "staff"
_TRUE = frozenset({"true", "yes", "1", "y"})


@dataclass(frozen=True)
class DirectoryPayer:
    slug: str
    name: str
    in_network: bool
    known_as: str


@dataclass(frozen=True)
class DirectoryAlias:
    slug: str
    alias: str
    normalized: str


@dataclass(frozen=True)
class Directory:
    payers: tuple[DirectoryPayer, ...]
    aliases: tuple[DirectoryAlias, ...]


def directory_read(*, path: Path | None = None) -> Directory:
    """Read ``path`` (default: the project's ``payers.csv``) and the ``aliases.csv`` beside it.

    Aliases of slugs that the payers file does not list are skipped with a warning, so a trimmed
    payers file still loads. Two aliases that normalize alike for different payers are a data
    error and raise ``ValueError``: the reviewed list must not contradict itself.
    """
    path = path or PAYERS_CSV
    with path.open(newline="", encoding="utf-8") as handle:
        payers = tuple(
            DirectoryPayer(
                slug=row["slug"].strip(),
                name=row["name"].strip(),
                in_network=row["in_network"].strip().casefold() in _TRUE,
                known_as=(row.get("known_as") or "").strip(),
            )
            for row in csv.DictReader(handle)
            if row.get("slug", "").strip()
        )
    slugs = {payer.slug for payer in payers}
    aliases: dict[str, DirectoryAlias] = {}
    aliases_path = path.with_name(ALIASES_FILENAME)
    if aliases_path.exists():
        with aliases_path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                slug, alias = row["slug"].strip(), row["alias"].strip()
                key = normalize(alias)
                if slug not in slugs:
                    logger.warning("payer alias for unknown slug %s skipped", slug)
                    continue
                if not key:
                    continue
                if key in aliases and aliases[key].slug != slug:
                    raise ValueError(
                        f"alias {alias!r} is listed for {aliases[key].slug} and {slug}"
                    )
                aliases.setdefault(key, DirectoryAlias(slug=slug, alias=alias, normalized=key))
    return Directory(payers=payers, aliases=tuple(aliases.values()))


def directory_apply(*, payer_model: Any, alias_model: Any, directory: Directory) -> int:
    """Write ``directory`` through the given model classes; return how many rows changed.

    Payers are created or updated by slug (name, in-network, known-as; ``active`` is the staff's
    to decide, so it is set only on create). Directory aliases are created or updated by their
    normalized key; a staff alias with the same key is left alone (a human decided it), and
    directory aliases no longer in the file are removed so that a withdrawn mapping cannot linger.
    The models are parameters because the data migration passes its historical ones.
    """
    changed = 0
    payers: dict[str, Any] = {}
    for entry in directory.payers:
        payer = payer_model.objects.filter(slug=entry.slug).first()
        if payer is None:
            payer = payer_model.objects.create(
                slug=entry.slug, name=entry.name, in_network=entry.in_network,
                known_as=entry.known_as, active=True,
            )  # fmt: skip
            changed += 1
        elif (payer.name, payer.in_network, payer.known_as) != (
            entry.name,
            entry.in_network,
            entry.known_as,
        ):
            payer.name, payer.in_network, payer.known_as = (
                entry.name,
                entry.in_network,
                entry.known_as,
            )
            payer.save(update_fields=["name", "in_network", "known_as", "updated_at"])
            changed += 1
        payers[entry.slug] = payer

    existing = {row.normalized: row for row in alias_model.objects.all()}
    for alias in directory.aliases:
        payer = payers[alias.slug]
        row = existing.get(alias.normalized)
        if row is None:
            alias_model.objects.create(
                payer=payer, alias=alias.alias, normalized=alias.normalized,
                source=SOURCE_DIRECTORY,
            )  # fmt: skip
            changed += 1
        elif row.source == SOURCE_DIRECTORY and (row.payer_id, row.alias) != (
            payer.pk,
            alias.alias,
        ):
            row.payer, row.alias = payer, alias.alias
            row.save(update_fields=["payer", "alias"])
            changed += 1
        elif row.source != SOURCE_DIRECTORY and row.payer_id != payer.pk:
            logger.warning("directory alias %s left to the staff mapping", alias.normalized)

    listed = {alias.normalized for alias in directory.aliases}
    stale = [
        row.pk
        for key, row in existing.items()
        if row.source == SOURCE_DIRECTORY and key not in listed
    ]
    if stale:
        changed += alias_model.objects.filter(pk__in=stale).delete()[0]
    return changed
