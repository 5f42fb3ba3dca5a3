"""Writes of the privacy app: the audit log, and re-encrypting PHI under the newest key.

Rotation, step by step, for operators (also in the command's help):
1. put the new key first in ``PHI_ENCRYPTION_KEYS`` and keep the old ones after it; deploy that
   to every web and worker process, so that everything written from now on uses the new key;
2. run ``python manage.py rotate_phi_keys`` (safe to stop and run again: it resumes);
3. when ``rotate_phi_keys --dry-run`` reports nothing left to re-encrypt, drop the old keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Case, ExpressionWrapper, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone

from apps.intake.request_origin import client_ip, user_agent
from apps.privacy.crypto import PhiDecryptionError, keyring
from apps.privacy.fields import EncryptedTextField
from apps.privacy.models import AuditEvent
from apps.privacy.phi_files import phi_file_is_current, phi_file_names, phi_file_rotate

FILES_LABEL = "files (phi storage)"

# Key of the PostgreSQL advisory lock that serializes audit writers: the chain needs each new
# row to see the one before it. Any constant works as long as nothing else uses it.
AUDIT_CHAIN_LOCK_KEY = 0x41554454  # "AUDT"


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model | None = None,
    fields: Sequence[str] = (),
    request: HttpRequest | None = None,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one row to the audit log and return it.

    ``actor`` is None when the system acts (a command, a worker). ``target`` is the record
    concerned; its label is its ``audit_label`` (or ``reference``, or the username), never PHI.
    ``fields`` names the fields seen or revealed, ``details`` holds counts, filters, field names
    or hashes: never PHI. ``request`` gives where it came from (IP, user agent).

    The row is chained to the one before it. Writers are serialized (a transaction-level
    advisory lock on PostgreSQL, the write lock SQLite takes at BEGIN IMMEDIATE), so two
    concurrent writers never chain to the same predecessor. When called inside a larger
    transaction, the row commits (or rolls back) with it and the lock is held until then.
    """
    if action not in AuditEvent.Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    # Stored exactly as it will be read back, so the hash computed now is the hash verified later.
    clean_details = json.loads(json.dumps(dict(details or {}), default=str, sort_keys=True))
    event = AuditEvent(
        actor=actor if actor is not None and actor.pk is not None else None,  # type: ignore[misc]
        actor_username=actor.get_username() if actor is not None else "",
        action=action,
        fields=[str(name) for name in fields],
        reason=reason,
        details=clean_details,
    )
    if target is not None:
        event.target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        event.target_id = str(target.pk)
        event.target_label = _audit_label(target)[:200]
    if request is not None:
        event.ip_address = client_ip(request)
        event.user_agent = user_agent(request)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event.prev_hash = last or ""
        # Taken under the lock: time order and chain order agree.
        event.occurred_at = timezone.now()
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def _audit_label(target: models.Model) -> str:
    for attribute in ("audit_label", "reference"):
        value = getattr(target, attribute, None)
        if value:
            return str(value() if callable(value) else value)
    if isinstance(target, AbstractBaseUser):
        return target.get_username()
    if isinstance(target, Group):
        return target.name
    # Never str(target): a model's __str__ may hold a patient's name.
    return f"{target._meta.verbose_name} {target.pk}"


@dataclass(frozen=True)
class AuditChainReport:
    """What ``audit_chain_verify`` found: rows checked, and the first row that breaks the
    chain (its id and why), if any."""

    checked: int
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def audit_chain_verify(*, batch_size: int = 2000) -> AuditChainReport:
    """Recompute every row's hash in id order and check each row names its predecessor's
    hash. Stops at the first row that does not fit."""
    expected_prev = ""
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return AuditChainReport(checked=checked)
        for event in batch:
            if event.prev_hash != expected_prev:
                return AuditChainReport(
                    checked=checked,
                    broken_id=event.pk,
                    problem="its previous-row hash does not match the row before it "
                    "(a row was removed, inserted or reordered)",
                )
            if event.compute_hash() != event.hash:
                return AuditChainReport(
                    checked=checked,
                    broken_id=event.pk,
                    problem="its content does not match its hash (the row was changed)",
                )
            expected_prev = event.hash
            checked += 1
        last_id = batch[-1].pk


@dataclass
class RotationReport:
    """What a rotation did (or, on a dry run, would do).

    ``rotated`` counts values per field label (``app_label.Model.field``) and files under
    ``FILES_LABEL``; ``failed`` lists, per label, the primary keys or file names that no
    configured key opens (identifiers only, never content). ``complete`` is False when the run
    stopped at ``max_batches`` before it ran out of work.
    """

    key_id: str
    dry_run: bool
    rotated: dict[str, int] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)
    batches: int = 0
    complete: bool = True

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())

    @property
    def total_failed(self) -> int:
        return sum(len(items) for items in self.failed.values())


class _BatchLimitError(Exception):
    """Internal: the run used up ``max_batches``."""


@dataclass
class _Run:
    report: RotationReport
    batch_size: int
    max_batches: int | None
    progress: Callable[[str], None]

    def start_batch(self) -> None:
        if self.max_batches is not None and self.report.batches >= self.max_batches:
            raise _BatchLimitError

    def fail(self, label: str, identifier: str) -> None:
        self.report.failed.setdefault(label, []).append(identifier)


def encrypted_fields() -> dict[type[models.Model], list[EncryptedTextField]]:
    """Every concrete model with encrypted fields (``EncryptedTextField`` or a subclass),
    mapped to those fields, across all installed apps, in a stable order."""
    found: dict[type[models.Model], list[EncryptedTextField]] = {}
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model._meta.proxy:
            # A proxy shares its concrete model's table, which is rotated once, there.
            continue
        # local_concrete_fields: a multi-table child's inherited fields live in the parent's
        # table and are rotated with the parent.
        local = [f for f in model._meta.local_concrete_fields if isinstance(f, EncryptedTextField)]
        if local:
            found[model] = local
    return found


def phi_keys_rotate(
    *,
    batch_size: int,
    dry_run: bool,
    progress: Callable[[str], None] | None,
    max_batches: int | None = None,
) -> RotationReport:
    """Re-encrypt every PHI value and PHI file that is not under the newest key.

    Database values are read and written as raw ciphertext (never decrypted into model
    instances), a batch of ``batch_size`` rows at a time in primary-key order, each batch in its
    own short transaction with its rows locked. Rows already under the newest key are never
    selected, so an interrupted run (or one stopped by ``max_batches``) continues where it
    stopped when started again. Values no configured key opens are reported in ``failed`` and
    left as they are. On ``dry_run`` nothing is written: the counts say what would be.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if max_batches is not None and max_batches < 0:
        raise ValueError("max_batches cannot be negative")
    run = _Run(
        report=RotationReport(key_id=keyring().current_key_id, dry_run=dry_run),
        batch_size=batch_size,
        max_batches=max_batches,
        progress=progress or (lambda _message: None),
    )
    try:
        for model, fields in encrypted_fields().items():
            if dry_run:
                _count_model(run, model, fields)
            else:
                _rotate_model(run, model, fields)
        if dry_run:
            _count_files(run)
        else:
            _rotate_files(run)
    except _BatchLimitError:
        run.report.complete = False
        run.progress(f"stopped after {run.report.batches} batches (--max-batches)")
    return run.report


# --- database ---------------------------------------------------------------------------------


def _label(model: type[models.Model], field_: EncryptedTextField) -> str:
    return f"{model._meta.label}.{field_.name}"


def _raw_alias(index: int) -> str:
    return f"phi_rotation_raw_{index}"


def _raw_queryset(
    model: type[models.Model], fields: list[EncryptedTextField]
) -> models.QuerySet[Any]:
    # ExpressionWrapper with a plain TextField output: the column comes back as the stored
    # ciphertext (no from_db_value decryption) and can be filtered with ordinary text lookups.
    # _base_manager: a default manager that hides rows must not hide them from rotation.
    queryset: models.QuerySet[Any] = model._base_manager.annotate(
        **{
            _raw_alias(index): ExpressionWrapper(F(f.attname), output_field=models.TextField())
            for index, f in enumerate(fields)
        }
    )
    return queryset


def _stale(alias: str, prefix: str) -> Q:
    # Empty and NULL values hold nothing to protect and are stored as they are.
    return (
        Q(**{f"{alias}__isnull": False})
        & ~Q(**{alias: ""})
        & ~Q(**{f"{alias}__startswith": prefix})
    )


def _count_model(run: _Run, model: type[models.Model], fields: list[EncryptedTextField]) -> None:
    prefix = keyring().current_prefix
    queryset = _raw_queryset(model, fields)
    for index, f in enumerate(fields):
        count = queryset.filter(_stale(_raw_alias(index), prefix)).count()
        run.report.rotated[_label(model, f)] = count
        run.progress(f"{_label(model, f)}: {count} values to re-encrypt")


def _rotate_model(run: _Run, model: type[models.Model], fields: list[EncryptedTextField]) -> None:
    ring = keyring()
    aliases = [_raw_alias(index) for index in range(len(fields))]
    any_stale = Q()
    for alias in aliases:
        any_stale |= _stale(alias, ring.current_prefix)
    candidates = _raw_queryset(model, fields).filter(any_stale).order_by("pk")
    for f in fields:
        run.report.rotated.setdefault(_label(model, f), 0)

    last_pk: Any = None
    while True:
        with transaction.atomic():
            page = candidates if last_pk is None else candidates.filter(pk__gt=last_pk)
            # FOR UPDATE on PostgreSQL: a value edited by the application meanwhile waits for
            # this short transaction instead of being overwritten by its old ciphertext. SQLite
            # runs IMMEDIATE transactions here, which hold the write lock from BEGIN.
            rows = list(page.select_for_update().values_list("pk", *aliases)[: run.batch_size])
            if not rows:
                return
            # Checked once there is work, so a run that stops here really had more to do.
            run.start_batch()
            for index, f in enumerate(fields):
                new_values = _rotated_column(
                    run, model, f, [(row[0], row[index + 1]) for row in rows]
                )
                if new_values:
                    _write_column(model, f, new_values)
                    run.report.rotated[_label(model, f)] += len(new_values)
        last_pk = rows[-1][0]
        run.report.batches += 1
        run.progress(f"{model._meta.label}: batch {run.report.batches} done, up to pk {last_pk}")


def _rotated_column(
    run: _Run,
    model: type[models.Model],
    field_: EncryptedTextField,
    values: Iterable[tuple[Any, str | None]],
) -> dict[Any, str]:
    ring = keyring()
    new_values: dict[Any, str] = {}
    for pk, stored in values:
        if not stored or ring.is_current(stored):
            continue
        try:
            new_values[pk] = ring.rotate(stored)
        except PhiDecryptionError:
            run.fail(_label(model, field_), str(pk))
    return new_values


def _write_column(
    model: type[models.Model], field_: EncryptedTextField, new_values: dict[Any, str]
) -> None:
    # One UPDATE per column and batch. Value(..., output_field=TextField()) writes the
    # ciphertext as it is: going through the field would encrypt it a second time.
    model._base_manager.filter(pk__in=list(new_values)).update(
        **{
            field_.attname: Case(
                *(
                    When(pk=pk, then=Value(ciphertext, output_field=models.TextField()))
                    for pk, ciphertext in new_values.items()
                ),
                output_field=models.TextField(),
            )
        }
    )


# --- files ------------------------------------------------------------------------------------


def _count_files(run: _Run) -> None:
    count = 0
    for name in phi_file_names():
        try:
            if not phi_file_is_current(name=name):
                count += 1
        except FileNotFoundError:
            continue
    run.report.rotated[FILES_LABEL] = count
    run.progress(f"{FILES_LABEL}: {count} files to re-encrypt")


def _rotate_files(run: _Run) -> None:
    run.report.rotated.setdefault(FILES_LABEL, 0)
    # Names are listed lazily and files already under the newest key are skipped, so a
    # stopped run picks up where it was; a file is replaced whole, never half-written.
    names = phi_file_names()
    while batch := list(islice(names, run.batch_size)):
        run.start_batch()
        for name in batch:
            try:
                if phi_file_rotate(name=name):
                    run.report.rotated[FILES_LABEL] += 1
            except FileNotFoundError:
                # Deleted while we walked the storage: nothing left to protect.
                continue
            except PhiDecryptionError:
                run.fail(FILES_LABEL, name)
        run.report.batches += 1
        run.progress(f"{FILES_LABEL}: batch {run.report.batches} done")
