"""Writes to the payer directory. Each one moves the directory revision, which is how every
process's matcher learns that its cached index is stale (see ``selectors.payer_match``)."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from apps.payers.directory import directory_apply, directory_read
from apps.payers.exceptions import PayerAliasConflictError, PayerAliasInvalidError
from apps.payers.matching import normalize
from apps.payers.models import Payer, PayerAlias, PayerDirectoryRevision
from apps.payers.selectors import payer_alias_rival

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

ALIAS_MAX_LENGTH = 255


@transaction.atomic
def payer_directory_sync(*, path: Path | None = None) -> int:
    """Bring payers and directory aliases in line with ``path`` (default: ``data/payers.csv``).

    Idempotent: payers by slug, aliases by normalized form; staff aliases are never touched and
    ``active`` is set only when a payer is created. Returns the number of rows created, changed
    or removed (0 on a second run), and moves the revision only when something changed.
    """
    changed = directory_apply(
        payer_model=Payer, alias_model=PayerAlias, directory=directory_read(path=path)
    )
    if changed or _revision_missing():
        _revision_bump()
    logger.info("payer directory synced: %d rows changed", changed)
    return changed


@transaction.atomic
def payer_alias_add(*, payer: Payer, alias: str, source: str, actor: User | None) -> PayerAlias:
    """Teach the matcher that ``alias`` means ``payer``; every process uses it on its next match.

    Adding a name that already maps to the same payer returns the existing row (a double submit is
    harmless). A name that already means another payer (an alias, a directory name, or what the
    matcher reads in it) raises ``PayerAliasConflictError``: staff map names that wait for a human;
    reassigning a mapping is an explicit remove, then add, not a side effect of a typo.
    """
    alias = " ".join(alias.split())
    key = normalize(alias)
    if source not in PayerAlias.Source.values:
        raise PayerAliasInvalidError(f"Unknown alias source {source!r}.")
    if not key or len(alias) > ALIAS_MAX_LENGTH or len(key) > ALIAS_MAX_LENGTH:
        raise PayerAliasInvalidError(
            f"An alias needs letters or digits and at most {ALIAS_MAX_LENGTH} characters."
        )
    rival = payer_alias_rival(text=alias, payer=payer)
    if rival is not None:
        raise PayerAliasConflictError(
            "That name already resolves to another payer.", extra={"payer": rival.slug}
        )
    # get_or_create: two staff mapping the same name at once meet on the unique key, not a 500.
    row, created = PayerAlias.objects.get_or_create(
        normalized=key,
        defaults={"payer": payer, "alias": alias, "source": source, "created_by": actor},
    )
    if row.payer_id != payer.pk:
        raise PayerAliasConflictError(
            "That name already resolves to another payer.", extra={"payer": row.payer.slug}
        )
    if not created:
        return row
    _revision_bump()
    # No alias text in the log: staff type what a person typed, which may carry more than a name.
    logger.info(
        "payer alias %s added for %s by user %s",
        row.pk,
        payer.slug,
        actor.pk if actor else None,
    )
    return row


@transaction.atomic
def payer_alias_remove(*, alias: PayerAlias, actor: User | None) -> None:
    """Forget a mapping; the matcher stops using it in every process on its next match."""
    alias_id, slug = alias.pk, alias.payer.slug
    alias.delete()
    _revision_bump()
    logger.info(
        "payer alias %s of %s removed by user %s", alias_id, slug, actor.pk if actor else None
    )


@transaction.atomic
def payer_active_set(*, payer: Payer, active: bool, actor: User | None) -> Payer:
    """Show or hide a payer in the dropdown. The matcher still resolves inactive payers: a name
    that means Molina means Molina whether or not we list it."""
    # Compared in the database, not on ``payer``: the admin hands over an instance its form has
    # already changed.
    changed = (
        Payer.objects.filter(pk=payer.pk)
        .exclude(active=active)
        .update(active=active, updated_at=timezone.now())
    )
    payer.active = active
    if changed:
        _revision_bump()
        actor_id = actor.pk if actor else None
        logger.info("payer %s active=%s by user %s", payer.slug, active, actor_id)
    return payer


def _revision_bump() -> None:
    """Give the directory a new revision token (inside the caller's transaction, so the token
    and the change it stands for commit or roll back together)."""
    PayerDirectoryRevision.objects.update_or_create(
        pk=PayerDirectoryRevision.SINGLETON_ID, defaults={"token": uuid.uuid4()}
    )


def _revision_missing() -> bool:
    """True before the first seed created the revision row."""
    return not PayerDirectoryRevision.objects.filter(
        pk=PayerDirectoryRevision.SINGLETON_ID
    ).exists()
