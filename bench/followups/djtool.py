#!/usr/bin/env python
"""The Django side of bench/followups: run by ``run.py`` with the bench environment.

``backlog --n N --tag T``
    Plans N drip emails due now on the ``followups`` queue (``OutboxMessage.bulk_create``,
    spread over the book signups the bench posted) and hands them to Celery through the app's
    own ``outbox_hand_over``, as the post-commit hook and the sweep do.

``throughput --kind outbox|noop --n N --tag T``
    Worker throughput on the ``followups`` queue: the worker stops consuming ``followups``
    (Celery's ``cancel_consumer`` control command), N tasks are queued (N drip deliveries
    through ``outbox_hand_over``, or N calls of the bench's no-op task), the worker resumes
    (``add_consumer``) and the queue is watched until it is empty and nothing is unacked.
    Messages per second = N / (resume -> drained).

Each command prints one line ``DJTOOL_RESULT {json}``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.followups.settings_bench")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.followups.models import OutboxMessage, SequenceStep  # noqa: E402
from apps.followups.services import outbox_hand_over  # noqa: E402
from apps.leads.models import Submission  # noqa: E402
from asana_leads.celery import app  # noqa: E402

QUEUE = "followups"
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
DRAIN_LIMIT_S = 300.0  # a drain that takes longer is reported as unfinished
POLL_S = 0.002


def drip_rows(n: int, tag: str, queue: str = QUEUE) -> list[OutboxMessage]:
    """N drip emails, due now, over the bench's book signups (they consented to email)."""
    books = list(
        Submission.objects.filter(kind=Submission.Kind.BOOK, is_spam=False)
        .select_related("person")
        .order_by("pk")
    )
    if not books:
        raise SystemExit("no book signups to attach drips to: post some first")
    steps = list(
        SequenceStep.objects.filter(purpose=SequenceStep.Purpose.DRIP, active=True).order_by(
            "position"
        )
    )
    if not steps:
        raise SystemExit("no drip steps are seeded")
    now = timezone.now()
    rows = []
    for i in range(n):
        submission = books[i % len(books)]
        step = steps[i % len(steps)]
        rows.append(
            OutboxMessage(
                topic=OutboxMessage.Topic.DRIP,
                channel=step.channel,
                queue=queue,
                recipient=OutboxMessage.Recipient.PERSON,
                template=step.template,
                submission=submission,
                person=submission.person,
                step=step,
                dedupe_key=f"{tag}:{i}",
                due_at=now,
                max_attempts=settings.OUTBOX_MAX_ATTEMPTS,
                # Handed over now, as followups_plan marks rows due at once: the sweep leaves
                # them alone unless the broker lost them (OUTBOX_REHAND_SECONDS).
                handed_at=now,
            )
        )
    return rows


def _create_and_hand_over(n: int, tag: str, queue: str = QUEUE) -> dict[str, Any]:
    t0 = time.monotonic()
    rows = OutboxMessage.objects.bulk_create(drip_rows(n, tag, queue), batch_size=2000)
    t1 = time.monotonic()
    # As the sweep hands drips over: at the lowest priority.
    handed = outbox_hand_over(
        messages=[(row.pk, row.queue) for row in rows], drips=[row.pk for row in rows]
    )
    t2 = time.monotonic()
    return {
        "created": len(rows),
        "handed": handed,
        "create_s": round(t1 - t0, 3),
        "hand_over_s": round(t2 - t1, 3),
        "hand_over_per_s": round(handed / max(t2 - t1, 1e-9), 1),
        "hand_over_done_at": time.time(),
        "first_id": rows[0].pk if rows else None,
        "last_id": rows[-1].pk if rows else None,
    }


def backlog(args: argparse.Namespace) -> dict[str, Any]:
    return _create_and_hand_over(args.n, args.tag, args.queue)


def _control(command: str, workers: int) -> list[Any]:
    # ``limit``: return as soon as every worker has answered (else it waits out the timeout).
    # A worker on a busy machine may answer late: ask again (both commands are idempotent).
    for _attempt in range(3):
        replies: list[Any] = getattr(app.control, command)(
            QUEUE, reply=True, timeout=10.0, limit=workers
        )
        if replies:
            return replies
    raise SystemExit(f"no worker answered {command}({QUEUE!r}) three times")


def _queued(client: redis.Redis) -> tuple[int, int]:
    pipe = client.pipeline(transaction=False)
    for suffix in PRIORITY_SUFFIXES:  # kombu: one list per priority of the queue
        pipe.llen(QUEUE + suffix)
    pipe.hlen("unacked")
    *queued, unacked = pipe.execute()
    return sum(int(n) for n in queued), int(unacked)


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
    if _queued(client) != (0, 0):
        # Something else is still in flight: wait for it (bounded) so it is not counted.
        deadline = time.monotonic() + 60
        while _queued(client) != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.05)
    cancelled = _control("cancel_consumer", args.workers)
    time.sleep(0.3)  # let the worker's consumer settle before we fill the queue
    info: dict[str, Any] = {"kind": args.kind, "n": args.n, "cancel_replies": len(cancelled)}
    t_fill = time.monotonic()
    if args.kind == "outbox":
        info["fill"] = _create_and_hand_over(args.n, args.tag)
    else:
        from bench.followups.noop_tasks import noop

        for i in range(args.n):
            noop.apply_async(args=(i,), queue=QUEUE, retry=False)
    info["fill_s"] = round(time.monotonic() - t_fill, 3)
    queued_before, unacked_before = _queued(client)
    info["queued_before"] = queued_before
    info["unacked_before"] = unacked_before
    resumed = time.monotonic()
    _control("add_consumer", args.workers)
    # The clock starts when the worker takes the first message, not at add_consumer: the
    # worker picks up a newly added queue only at its next BRPOP (after the running one
    # returns), which has nothing to do with how fast it works through a queue.
    first = drained = None
    wall_started = 0.0
    while time.monotonic() - resumed < DRAIN_LIMIT_S:
        queued, unacked = _queued(client)
        now = time.monotonic()
        if first is None and queued < queued_before:
            first, wall_started = now, time.time()
        if first is not None and (queued, unacked) == (0, 0):
            drained = now
            break
        time.sleep(POLL_S)
    info["consume_started_after_s"] = round(first - resumed, 3) if first is not None else None
    info["started_at"] = wall_started
    if first is None or drained is None:
        info["drained"] = False
        info["seconds"] = round(time.monotonic() - resumed, 3)
        return info
    seconds = drained - first
    info.update(
        drained=True,
        seconds=round(seconds, 3),
        per_s=round(queued_before / seconds, 1) if seconds > 0 else None,
    )
    if args.kind == "outbox":
        rows = OutboxMessage.objects.filter(dedupe_key__startswith=f"{args.tag}:")
        by_status = dict(
            rows.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        last_sent = rows.order_by("-sent_at").values_list("sent_at", flat=True).first()
        info["by_status"] = by_status
        if last_sent is not None:
            db_seconds = (
                last_sent - datetime.datetime.fromtimestamp(wall_started, tz=datetime.UTC)
            ).total_seconds()
            info["db_seconds_to_last_sent"] = round(db_seconds, 3)
    return info


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p_backlog = sub.add_parser("backlog")
    p_backlog.add_argument("--n", type=int, default=10_000)
    p_backlog.add_argument("--tag", default="bench-backlog")
    p_backlog.add_argument("--queue", choices=("followups", "default"), default=QUEUE)
    p_tput = sub.add_parser("throughput")
    p_tput.add_argument("--kind", choices=("outbox", "noop"), required=True)
    p_tput.add_argument("--n", type=int, default=3000)
    p_tput.add_argument("--tag", default="bench-tput")
    p_tput.add_argument("--workers", type=int, default=1, help="worker nodes consuming followups")
    args = parser.parse_args()
    if not 1 <= args.n <= 50_000:
        parser.error("--n must be 1..50000")
    result = backlog(args) if args.command == "backlog" else throughput(args)
    print("DJTOOL_RESULT " + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
