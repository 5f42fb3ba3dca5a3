"""Writes of the marketing app: export runs (create, write, expire), their download links, sync
API tokens and pages, and importing a suppression list.

An export run is created in the request (filters checked, the Part 2 acknowledgement recorded,
the count taken), written by a Celery task on the ``exports`` queue (or in-process by the
command), and audited when it is done: who, when, filters, rows, format, SHA-256. Each download
of its file through the signed link is audited again, naming who downloaded it.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import io
import logging
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone

from apps.marketing.models import ExportDestination, ExportRun, ExportToken
from apps.marketing.pg_copy import copy_available, csv_copy_write
from apps.marketing.selectors import (
    CONTACT_COLUMNS,
    CONTACT_SOURCES,
    TIMESTAMP_SOURCES,
    ContactFilters,
    Part2AcknowledgementRequired,
    export_last_cutoff,
    marketable_contacts,
    marketable_contacts_count,
    marketable_contacts_iter,
)
from apps.marketing.writers import Progress, WriteResult, csv_write, xlsx_write
from apps.privacy.models import AuditEvent
from apps.privacy.services import audit_record

logger = logging.getLogger(__name__)

EXPORTS_STORAGE = "exports"
DOWNLOAD_SALT = "marketing.export_download"
EXPORT_PERMISSION = "marketing.export_contacts"
CURSOR_SALT = "marketing.sync_cursor"
TOKEN_PREFIX = "mkx_"  # noqa: S105 - a public marker, not a secret

# 42 CFR 2.32(a)(1), the notice that must accompany a disclosure made with consent.
PART2_NOTICE = (
    "This record which has been disclosed to you is protected by federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or "
    "testimony that describes the information contained in this record, for any purpose unless "
    "authorized by the patient. The federal rules restrict any use of the information to "
    "investigate or prosecute with regard to a crime any patient with a substance use disorder, "
    "except as provided at 42 CFR 2.12(c)(5) and 2.65."
)


class ExportError(ValueError):
    """An export was asked for in a way the rules do not allow (named in the message)."""


def _exports_storage() -> Storage:
    return storages[EXPORTS_STORAGE]


def _audit(
    *,
    run: ExportRun,
    actor: User | None,
    request: HttpRequest | None = None,
) -> None:
    """The export's audit row. Details are filters, counts and the hash: never a contact."""
    details = {
        "export_run": run.pk,
        "via": run.via,
        "channel": run.channel,
        "format": run.format,
        "filters": run.filters,
        "include_inquiries": run.include_inquiries,
        "part2_notice_acknowledged_at": (
            run.part2_notice_acknowledged_at.isoformat()
            if run.part2_notice_acknowledged_at
            else None
        ),
        "destination": run.destination.name if run.destination else None,
        "token": run.token.key_prefix if run.token else None,
        "rows": run.rows_written,
        "sha256": run.sha256,
        "size_bytes": run.size_bytes,
        "status": run.status,
    }
    audit_record(
        actor=actor,
        action="export",
        target=run,
        fields=CONTACT_COLUMNS,
        request=request,
        reason="marketing export",
        details=details,
    )


# --- Creating and writing runs ----------------------------------------------------------------


@dataclass(frozen=True)
class ExportWindow:
    """The consent times a run covers. ``filters`` are the effective ones (``after`` the
    previous incremental cutoff, ``until`` the upper bound the run lists); ``cutoff_at`` is
    where the next incremental run starts."""

    filters: ContactFilters
    since_at: datetime.datetime | None
    cutoff_at: datetime.datetime


def export_window(
    *,
    filters: ContactFilters,
    destination: ExportDestination | None = None,
    incremental: bool = False,
    now: datetime.datetime | None = None,
) -> ExportWindow:
    """The window an export made at ``now`` covers.

    A consent time is the intake's ``received_at``, taken before its transaction commits, so
    people stamped in the last ``EXPORT_SETTLING_SECONDS`` may still be on their way in. The
    cutoff stays that far in the past: an incremental run lists (previous cutoff, cutoff] and
    whoever commits late with an earlier stamp is listed by the next one. A full run lists
    everyone up to ``now`` but records the same settled cutoff, so an incremental run after it
    misses no one (it may list again the few who consented within the margin before it).
    """
    now = now or timezone.now()
    settled = now - datetime.timedelta(seconds=settings.EXPORT_SETTLING_SECONDS)
    since_at = (
        export_last_cutoff(destination=destination, channel=filters.channel)
        if incremental and destination is not None
        else None
    )
    cutoff_at = min(filters.until, settled) if filters.until else settled
    if since_at is not None and cutoff_at < since_at:
        cutoff_at = since_at  # an empty window (a clock or setting moved): never go back
    until = cutoff_at if incremental else (min(filters.until, now) if filters.until else now)
    return ExportWindow(
        filters=dataclasses.replace(filters, until=until, after=since_at),
        since_at=since_at,
        cutoff_at=cutoff_at,
    )


def export_run_create(
    *,
    filters: ContactFilters,
    fmt: str,
    via: str,
    actor: User | None,
    destination: ExportDestination | None = None,
    incremental: bool = False,
    part2_acknowledged: bool = False,
    bom: bool = False,
    token: ExportToken | None = None,
    count: bool = True,
) -> ExportRun:
    """A queued export of the contacts ``filters`` select, in the window ``export_window``
    gives: up to now for a full export, up to ``EXPORT_SETTLING_SECONDS`` ago for an
    incremental one.

    Incremental runs start after the last completed run's cutoff for the same destination and
    channel (everyone, the first time). Inquiries need ``part2_acknowledged``. ``count`` takes
    the expected row count (progress); it costs about as much as the export's own query, so a
    script without a progress bar skips it.
    """
    if filters.include_inquiries and not part2_acknowledged:
        raise Part2AcknowledgementRequired(
            "Including inquiries requires acknowledging the 42 CFR 2.32 redisclosure notice."
        )
    if incremental and destination is None:
        raise ExportError("An incremental export needs a destination.")
    if fmt not in ExportRun.Format.values:
        raise ExportError(f"format must be one of {', '.join(ExportRun.Format.values)}")
    now = timezone.now()
    window = export_window(
        filters=filters, destination=destination, incremental=incremental, now=now
    )
    return ExportRun.objects.create(
        destination=destination,
        requested_by=actor,
        token=token,
        via=via,
        channel=filters.channel,
        filters=window.filters.as_audit(),
        include_inquiries=filters.include_inquiries,
        part2_notice_acknowledged_at=now if filters.include_inquiries else None,
        format=fmt,
        include_bom=bom,
        cutoff_at=window.cutoff_at,
        since_at=window.since_at,
        rows_expected=marketable_contacts_count(filters=window.filters) if count else None,
    )


def export_run_filters(*, run: ExportRun) -> ContactFilters:
    """The filters a run was created with, as the selector takes them."""
    data: dict[str, Any] = dict(run.filters)
    for key in ("since", "until", "after"):
        if data.get(key):
            data[key] = datetime.datetime.fromisoformat(data[key])
    return ContactFilters(**data)


def export_run_enqueue(*, run: ExportRun) -> None:
    """Hand the run to the ``exports`` queue once the transaction that created it commits."""
    from apps.marketing.tasks import export_run_write as export_run_write_task

    transaction.on_commit(
        partial(export_run_write_task.apply_async, args=(run.pk,), queue="exports")
    )


def _claim(run_id: int) -> bool:
    # A task delivered twice writes once: only the first moves the run out of QUEUED.
    claimed = ExportRun.objects.filter(pk=run_id, status=ExportRun.Status.QUEUED).update(
        status=ExportRun.Status.RUNNING, started_at=timezone.now()
    )
    return claimed == 1


def _progress_recorder(run_id: int, also: Progress | None) -> Progress:
    def record(rows: int) -> None:
        ExportRun.objects.filter(pk=run_id).update(rows_written=rows)
        if also is not None:
            also(rows)

    return record


def _write(
    run: ExportRun, out_path: Path, progress: Progress, terminal: Progress | None
) -> WriteResult:
    filters = export_run_filters(run=run)
    if run.format == ExportRun.Format.XLSX:
        rows = marketable_contacts_iter(filters=filters)
        return xlsx_write(rows=rows, header=CONTACT_COLUMNS, path=out_path, progress=progress)
    with out_path.open("wb") as out:
        if copy_available():
            return csv_copy_write(
                rows=marketable_contacts(filters=filters),
                sources=CONTACT_SOURCES,
                timestamp_sources=TIMESTAMP_SOURCES,
                header=CONTACT_COLUMNS,
                out=out,
                bom=run.include_bom,
                # Not the recorder: its UPDATE would wait on the connection COPY holds. A
                # COPY export is done in seconds; the run shows 100% when it is.
                progress=terminal,
            )
        return csv_write(
            rows=marketable_contacts_iter(filters=filters),
            header=CONTACT_COLUMNS,
            out=out,
            bom=run.include_bom,
            progress=progress,
        )


def export_run_write(
    *, run_id: int, out_path: Path | None = None, progress: Progress | None = None
) -> ExportRun | None:
    """Write a queued run's file: to ``out_path`` (the command), else to the exports storage
    with an expiry. Returns None when the run was not queued (already written or running)."""
    if not _claim(run_id):
        return None
    run = ExportRun.objects.select_related("destination", "token", "requested_by").get(pk=run_id)
    record = _progress_recorder(run_id, progress)
    try:
        if out_path is not None:
            result = _write(run, out_path, record, progress)
            file_name = out_path.name
            stored = False
        else:
            tmp_dir = Path(settings.VAR_DIR) / "tmp"
            tmp_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=tmp_dir) as work:
                local = Path(work) / f"export.{run.format}"
                result = _write(run, local, record, progress)
                stamp = run.created_at.strftime("%Y%m%d-%H%M%S")
                name = f"contacts-{run.channel}-{stamp}-{run.pk}-{secrets.token_hex(4)}"
                with local.open("rb") as written:
                    file_name = _exports_storage().save(
                        f"{name}.{run.format}", File(written, name=local.name)
                    )
            stored = True
    except BaseException as exc:
        # BaseException too: a Ctrl-C on the command or a worker's shutdown would otherwise
        # leave the run "running" for good. Re-raised either way.
        ExportRun.objects.filter(pk=run_id).update(
            status=ExportRun.Status.FAILED,
            error=type(exc).__name__[:255],
            finished_at=timezone.now(),
        )
        raise
    finished = timezone.now()
    run.status = ExportRun.Status.DONE
    run.rows_written = result.rows
    run.size_bytes = result.size_bytes
    run.sha256 = result.sha256
    run.file_name = file_name
    run.finished_at = finished
    run.expires_at = (
        finished + datetime.timedelta(hours=settings.EXPORT_LINK_MAX_AGE_HOURS) if stored else None
    )
    with transaction.atomic():
        run.save(
            update_fields=[
                "status",
                "rows_written",
                "size_bytes",
                "sha256",
                "file_name",
                "finished_at",
                "expires_at",
            ]
        )
        _audit(run=run, actor=run.requested_by)
    return run


def export_files_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete stored files past their expiry (their runs stay, marked expired), fail runs
    whose worker died mid-write or never came, and abandon syncs left idle. Returns how many
    files were deleted."""
    now = now or timezone.now()
    deleted = 0
    expired = ExportRun.objects.filter(status=ExportRun.Status.DONE, expires_at__lte=now)
    for run_id, file_name in expired.values_list("pk", "file_name"):
        if file_name:
            _exports_storage().delete(file_name)
            deleted += 1
        ExportRun.objects.filter(pk=run_id, status=ExportRun.Status.DONE).update(
            status=ExportRun.Status.EXPIRED
        )
    stale = now - datetime.timedelta(seconds=settings.EXPORT_TASK_TIME_LIMIT * 2)
    ExportRun.objects.filter(
        status=ExportRun.Status.RUNNING, via__in=[ExportRun.Via.ADMIN], started_at__lt=stale
    ).update(status=ExportRun.Status.FAILED, error="worker lost", finished_at=now)
    # A lost hand-off (broker down at commit, message dropped) leaves a run nothing will claim;
    # failing it also stops a very late delivery from writing it (the claim needs QUEUED).
    ExportRun.objects.filter(
        status=ExportRun.Status.QUEUED, via=ExportRun.Via.ADMIN, created_at__lt=stale
    ).update(status=ExportRun.Status.FAILED, error="never started", finished_at=now)
    export_syncs_abandon(now=now)
    return deleted


def export_syncs_abandon(*, now: datetime.datetime | None = None) -> int:
    """End the sync API runs no page was asked of for ``EXPORT_SYNC_IDLE_MINUTES``: marked
    abandoned, their cursors stop working, and, unlike a completed run, they set no cutoff for
    the next incremental sync. The pages they served went out, so each is audited. Returns how
    many runs were abandoned."""
    now = now or timezone.now()
    idle_since = now - datetime.timedelta(minutes=settings.EXPORT_SYNC_IDLE_MINUTES)
    idle = Q(status__in=(ExportRun.Status.QUEUED, ExportRun.Status.RUNNING), via=ExportRun.Via.API)
    idle &= Q(active_at__lt=idle_since) | Q(active_at__isnull=True, created_at__lt=idle_since)
    abandoned = 0
    for run_id in ExportRun.objects.filter(idle).values_list("pk", flat=True):
        with transaction.atomic():
            # Conditional: a page served meanwhile moved active_at, and the run stays open.
            if not ExportRun.objects.filter(idle, pk=run_id).update(
                status=ExportRun.Status.ABANDONED, finished_at=now
            ):
                continue
            run = ExportRun.objects.select_related("destination", "token").get(pk=run_id)
            _audit(run=run, actor=None)
        abandoned += 1
    return abandoned


# --- Download links -----------------------------------------------------------------------------


def export_download_token(*, run_id: int) -> str:
    """A signed token for one run's file, valid ``EXPORT_LINK_MAX_AGE_HOURS``."""
    return signing.dumps({"r": run_id}, salt=DOWNLOAD_SALT)


def export_download_run(*, token: str) -> ExportRun | None:
    """The run a download token names, if the token is ours, unexpired, and the file is there."""
    try:
        data = signing.loads(
            token,
            salt=DOWNLOAD_SALT,
            max_age=datetime.timedelta(hours=settings.EXPORT_LINK_MAX_AGE_HOURS),
        )
    except signing.BadSignature:
        return None
    run_id = data.get("r") if isinstance(data, dict) else None
    if not isinstance(run_id, int) or isinstance(run_id, bool):
        return None
    return (
        ExportRun.objects.filter(
            pk=run_id,
            status=ExportRun.Status.DONE,
            expires_at__gt=timezone.now(),
            via=ExportRun.Via.ADMIN,
        )
        .select_related("requested_by", "destination")
        .first()
    )


@dataclass(frozen=True)
class ExportDownload:
    """One download of a run's file: the file, opened, and its row on the audit log."""

    run: ExportRun
    file: IO[bytes]
    audit_event: AuditEvent


def export_file_download(
    *, token: str, actor: User, request: HttpRequest | None = None
) -> ExportDownload | None:
    """Open the file a download link names for ``actor`` and put the download on the audit log
    (who, the run, the file's SHA-256 and row count) before anyone reads a byte of it.

    Anyone with ``marketing.export_contacts`` may download any run's file while its link is
    valid, so each download is its own audit row, beside the run's ``export`` row. None, and no
    audit row, when the link is not ours or has expired, the run is no longer done, or the file
    is gone; ``PermissionDenied`` (no row either) for an actor without the permission.
    """
    if not actor.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    run = export_download_run(token=token)
    if run is None or not run.file_name:
        return None
    try:
        opened: IO[bytes] = _exports_storage().open(run.file_name, "rb")
    except FileNotFoundError:
        # Deleted by the expiry task (or by hand) since the run's page was drawn.
        return None
    try:
        event = audit_record(
            actor=actor,
            action=AuditEvent.Action.EXPORT_DOWNLOAD,
            target=run,
            fields=CONTACT_COLUMNS,
            request=request,
            reason="marketing export download",
            details={
                "export_run": run.pk,
                "requested_by": run.requested_by.get_username() if run.requested_by else None,
                "destination": run.destination.name if run.destination else None,
                "channel": run.channel,
                "format": run.format,
                "include_inquiries": run.include_inquiries,
                "rows": run.rows_written,
                "sha256": run.sha256,
                "size_bytes": run.size_bytes,
            },
        )
    except BaseException:
        # No audit row, no file: never hand out what the log does not show.
        opened.close()
        raise
    return ExportDownload(run=run, file=opened, audit_event=event)


# --- Sync API tokens and pages ------------------------------------------------------------------


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _audit_token(
    *, token: ExportToken, change: str, actor: User | None, request: HttpRequest | None
) -> None:
    # A token is standing access to a destination's lists: granting or ending it is audited
    # like any other permission change. Its prefix only, never the secret.
    audit_record(
        actor=actor,
        action="permission_change",
        target=token,
        request=request,
        reason="marketing sync token",
        details={
            "change": change,
            "token": token.key_prefix,
            "destination": token.destination.name,
            "include_inquiries": token.include_inquiries,
        },
    )


@transaction.atomic
def export_token_create(
    *,
    name: str,
    destination: ExportDestination,
    actor: User | None,
    include_inquiries: bool = False,
    part2_acknowledged: bool = False,
    request: HttpRequest | None = None,
) -> tuple[ExportToken, str]:
    """A new sync token and its secret, which is returned here once and never stored."""
    if include_inquiries and not part2_acknowledged:
        raise Part2AcknowledgementRequired(
            "Including inquiries requires acknowledging the 42 CFR 2.32 redisclosure notice."
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ExportToken.objects.create(
        name=name,
        destination=destination,
        key_prefix=raw[:12],
        key_sha256=_token_hash(raw),
        include_inquiries=include_inquiries,
        part2_notice_acknowledged_at=timezone.now() if include_inquiries else None,
        created_by=actor,
    )
    _audit_token(token=token, change="sync token created", actor=actor, request=request)
    return token, raw


def export_tokens_revoke(
    *, token_ids: Iterable[int], actor: User | None, request: HttpRequest | None = None
) -> int:
    """Revoke the live tokens among ``token_ids`` (each audited). Returns how many."""
    revoked = 0
    for token in ExportToken.objects.select_related("destination").filter(
        pk__in=list(token_ids), revoked_at__isnull=True
    ):
        with transaction.atomic():
            if not ExportToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            ):
                continue  # revoked meanwhile by someone else
            _audit_token(token=token, change="sync token revoked", actor=actor, request=request)
        revoked += 1
    return revoked


def export_token_authenticate(*, raw: str) -> ExportToken | None:
    """The live token this secret belongs to, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ExportToken.objects.select_related("destination")
        .filter(key_sha256=_token_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        ExportToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


class SyncCursorInvalid(ExportError):
    """The cursor is not one we issued for this token, or its export has ended."""


@dataclass(frozen=True)
class SyncPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    run: ExportRun


def export_sync_page(
    *,
    token: ExportToken,
    cursor: str | None,
    page_size: int,
    channel: str = "",
    incremental: bool = False,
    signup_kind: str = "",
    request: HttpRequest | None = None,
) -> SyncPage:
    """One page of a list sync. The first page (no cursor) opens a run that fixes the filters
    and the cutoff, so later pages read the same snapshot; the last page completes it, and
    the next incremental sync starts after its cutoff."""
    if cursor is None:
        filters = ContactFilters(
            channel=channel,
            signup_kind=signup_kind or "book",
            include_inquiries=token.include_inquiries,
        )
        run = export_run_create(
            filters=filters,
            fmt=ExportRun.Format.API,
            via=ExportRun.Via.API,
            actor=None,
            destination=token.destination,
            incremental=incremental,
            part2_acknowledged=token.part2_notice_acknowledged_at is not None,
            token=token,
        )
        now = timezone.now()
        ExportRun.objects.filter(pk=run.pk).update(
            status=ExportRun.Status.RUNNING, started_at=now, active_at=now
        )
        after_pk, served = None, 0
    else:
        try:
            data = signing.loads(cursor, salt=CURSOR_SALT)
            run_id, after_pk, served = int(data["r"]), int(data["k"]), int(data["n"])
        except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
            raise SyncCursorInvalid("This cursor is not valid.") from exc
        found = ExportRun.objects.filter(
            pk=run_id, token=token, status=ExportRun.Status.RUNNING
        ).first()
        if found is None:
            raise SyncCursorInvalid("This cursor's export has ended; start again without one.")
        run = found
    fetched = list(
        marketable_contacts(filters=export_run_filters(run=run), with_key=True, after_pk=after_pk)[
            : page_size + 1
        ]
    )
    page = fetched[:page_size]
    rows = [
        {
            column: (value.isoformat() if isinstance(value, datetime.datetime) else value)
            for column, value in zip(CONTACT_COLUMNS, row[1:], strict=True)
        }
        for row in page
    ]
    last = len(fetched) <= page_size
    now = timezone.now()
    # The rows served before this page travel in the cursor: a page asked for twice (a client
    # retrying) is counted once, and an early page asked for again never lowers the count.
    served += len(page)
    changes: dict[str, Any] = {"rows_written": Greatest("rows_written", served), "active_at": now}
    if last:
        changes.update(status=ExportRun.Status.DONE, finished_at=now)
    # Conditional on RUNNING: a run abandoned meanwhile serves nothing more, and of two
    # requests racing for the last page only one completes (and audits) the run.
    with transaction.atomic():
        if not ExportRun.objects.filter(pk=run.pk, status=ExportRun.Status.RUNNING).update(
            **changes
        ):
            raise SyncCursorInvalid("This cursor's export has ended; start again without one.")
        if last:
            run.refresh_from_db()
            _audit(run=run, actor=None, request=request)
    cursor_data = {"r": run.pk, "k": page[-1][0], "n": served} if not last else None
    next_cursor = signing.dumps(cursor_data, salt=CURSOR_SALT) if cursor_data else None
    return SyncPage(rows=rows, next_cursor=next_cursor, run=run)


# --- Suppression list import --------------------------------------------------------------------


@dataclass
class SuppressionImportReport:
    added: int = 0
    already: int = 0
    invalid_lines: list[int] = dataclasses.field(default_factory=list)


def suppression_list_import(
    *, lines: Iterable[str], actor: User | None, source: str = "import"
) -> SuppressionImportReport:
    """Put every email and phone of a CSV (any columns; a header row is skipped as invalid
    text) on the follow-ups suppression list, normalized as follow-ups normalize them.

    Invalid cells are reported by line number only, never echoed."""
    from apps.followups.models import Suppression
    from apps.followups.optout import suppression_add, suppression_entry

    report = SuppressionImportReport()
    actor_id = actor.pk if actor is not None else None
    label = f"{source} ({actor.get_username()})" if actor is not None else source
    with transaction.atomic():
        for number, row in enumerate(csv.reader(lines), start=1):
            cells = [cell.strip() for cell in row if cell.strip()]
            if not cells:
                continue
            line_ok = False
            for cell in cells:
                entry = suppression_entry(cell)
                if entry is None:
                    continue
                line_ok = True
                kind, value = entry
                _, created = suppression_add(
                    kind=kind,
                    value=value,
                    reason=Suppression.Reason.IMPORTED,
                    source=label,
                    created_by_id=actor_id,
                )
                if created:
                    report.added += 1
                else:
                    report.already += 1
            if not line_ok:
                report.invalid_lines.append(number)
    return report


def suppression_file_lines(upload: IO[bytes]) -> Iterable[str]:
    """Text lines of an uploaded CSV (UTF-8, a byte-order mark tolerated)."""
    return io.TextIOWrapper(upload, encoding="utf-8-sig", errors="replace", newline="")
