"""Reads of the payer directory: the dropdown, and resolving a typed name to a payer."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, Value, When

from apps.payers import matching
from apps.payers.matching import MatcherIndex, index_build, normalize, text_match
from apps.payers.models import SELF_PAY_SLUG, Payer, PayerAlias, PayerDirectoryRevision

logger = logging.getLogger(__name__)

# A backstop only: every service that changes the directory moves the revision token, so entries
# go stale by key, not by age. The timeout bounds the damage of a write that bypassed the services.
MATCHER_CACHE_SECONDS = 600


def _code_version() -> str:
    # The revision token changes with the data, not with a deploy: a release that changes how
    # names are read (or the cached shape) must not reuse an index the old code built in Redis.
    digest = hashlib.sha256()
    for module_file in (matching.__file__, __file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()[:12]


_MATCHER_CACHE_KEY = "payers:matcher:" + _code_version() + ":{token}"


@dataclass(frozen=True)
class PayerMatch:
    """A typed insurance name, resolved or not.

    ``payer`` and ``slug`` are both ``None`` when the matcher would not commit (score below
    ``settings.PAYER_MATCH_THRESHOLD``, an unknown or ambiguous name): that submission needs a
    human to map it. ``score`` is 0-100; ``method`` is ``slug``, ``alias``, ``fuzzy`` or ``none``.
    """

    payer: Payer | None
    slug: str | None
    score: float
    method: str


@dataclass(frozen=True)
class _Snapshot:
    index: MatcherIndex
    payers: dict[str, Payer]


def payer_match(*, text: str) -> PayerMatch:
    """Resolve what a person typed (or the dropdown's slug) to a payer, or leave it unresolved.

    Cost on the hot path: one primary-key SELECT (the directory revision) and one cache read. The
    compiled index is cached under the revision token, so an alias that staff add in one process
    is used by every process on its next call, whatever the cache backend (the token lives in the
    database, not in a per-process cache).
    """
    snapshot = _snapshot()
    result = text_match(
        text=text, index=snapshot.index, threshold=float(settings.PAYER_MATCH_THRESHOLD)
    )
    payer = snapshot.payers.get(result.slug) if result.slug else None
    return PayerMatch(payer=payer, slug=result.slug, score=result.score, method=result.method)


def payer_list_active() -> QuerySet[Payer]:
    """The dropdown: active payers, in-network first, then by name, with self-pay last."""
    return (
        Payer.objects.filter(active=True)
        .annotate(
            is_self_pay=Case(
                When(slug=SELF_PAY_SLUG, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("is_self_pay", "-in_network", "name")
    )


def payer_alias_find(*, text: str) -> PayerAlias | None:
    """The alias row that ``text`` would collide with (same normalized form), if any."""
    key = normalize(text)
    if not key:
        return None
    return PayerAlias.objects.select_related("payer").filter(normalized=key).first()


def payer_alias_rival(*, text: str, payer: Payer) -> Payer | None:
    """The other payer that ``text`` already means, if any: an alias row, a directory name, or
    what the matcher reads in it. Staff aliases are for names that wait for a human, not a way to
    overrule the directory ("Cigna Healthcare" must not become Ambetter by a slip in the admin);
    a wrong reading is fixed in the reviewed directory files, with a test."""
    row = payer_alias_find(text=text)
    if row is not None and row.payer_id != payer.pk:
        return row.payer
    match = payer_match(text=text)
    if match.payer is not None and match.payer.pk != payer.pk:
        return match.payer
    return None


# The revision query, compiled by the ORM once per process (by database vendor): it runs on
# every verification post, and building it cost several times running it.
_REVISION_SQL: dict[str, tuple[str, tuple[Any, ...]]] = {}


def payer_directory_revision() -> str | None:
    """The current directory revision token, or ``None`` before the directory was seeded."""
    compiled = _REVISION_SQL.get(connection.vendor)
    if compiled is None:
        query = (
            PayerDirectoryRevision.objects.filter(pk=PayerDirectoryRevision.SINGLETON_ID)
            .values_list("token", flat=True)
            .order_by()[:1]
            .query
        )
        sql, params = query.sql_with_params()
        compiled = _REVISION_SQL[connection.vendor] = (sql, tuple(params))
    sql, params = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    # The column as stored: a uuid on PostgreSQL, 32 hex digits on SQLite.
    return str(uuid.UUID(str(row[0]))) if row and row[0] else None


# The newest snapshot this process has used, by cache key. Safe to keep: the key holds the
# revision token read from the database on every match, so a changed directory never hits an
# old entry; it saves the Redis read and unpickling on nearly every verification post.
_process_snapshot: dict[str, _Snapshot] = {}


def _snapshot() -> _Snapshot:
    token = payer_directory_revision()
    if token is None:
        # Nothing to key a cache entry on: build from the rows every time (only before seeding).
        return _snapshot_build()
    key = _MATCHER_CACHE_KEY.format(token=token)
    local = _process_snapshot.get(key)
    if local is not None:
        return local
    snapshot = _snapshot_shared(key)
    _process_snapshot.clear()
    _process_snapshot[key] = snapshot
    return snapshot


def _snapshot_shared(key: str) -> _Snapshot:
    try:
        cached = cache.get(key)
    except Exception:
        # The cache (Redis) being down must not cost a submission: the database has the truth.
        logger.warning("payer matcher cache unavailable; building from the database", exc_info=True)
        return _snapshot_build()
    if isinstance(cached, _Snapshot):
        return cached
    snapshot = _snapshot_build()
    try:
        cache.set(key, snapshot, MATCHER_CACHE_SECONDS)
    except Exception:
        logger.warning("payer matcher cache unavailable; index not cached", exc_info=True)
    return snapshot


def _snapshot_build() -> _Snapshot:
    payers = {payer.slug: payer for payer in Payer.objects.all()}
    names: list[tuple[str, str]] = []
    for payer in payers.values():
        names += [(payer.slug, payer.slug), (payer.name, payer.slug)]
    overrides: list[tuple[str, str]] = []
    rows = PayerAlias.objects.values_list("alias", "payer__slug", "source").order_by("pk")
    for alias, slug, source in rows:
        (overrides if source == PayerAlias.Source.STAFF else names).append((alias, slug))
    index = index_build(slugs=payers.keys(), names=names, overrides=overrides)
    return _Snapshot(index=index, payers=payers)
