#!/usr/bin/env python
"""In-process probe of one outbox delivery: SQL statements and where the time goes.

Run by ``run.py`` with the bench environment (after the book signups exist): plans N drip
emails (``djtool.drip_rows``) and delivers them one by one through
``apps.followups.services.outbox_deliver`` in this process, no broker, no worker:

- the SQL statements one delivery runs (Django's query capture);
- milliseconds per delivery, and the share spent in rendering, in sending (the email backend)
  and in the database (cursor time), measured by wrapping those functions;
- the cost of opening a PostgreSQL connection, which Celery's Django fixup does for every task
  (it closes the connection before and after each task whatever ``CONN_MAX_AGE`` says, unless
  ``CELERY_DB_REUSE_MAX`` is set): deliveries with a fresh connection each vs one kept open.

Prints one line ``PROBE_RESULT {json}``; ``--profile FILE`` also writes a cProfile dump.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.followups.settings_bench")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.followups import services  # noqa: E402
from apps.followups.models import OutboxMessage  # noqa: E402
from bench.followups.djtool import drip_rows  # noqa: E402


class Timer:
    """Accumulates the wall time spent inside one wrapped function."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        return wrapped


def _deliver_all(ids: list[int], *, reconnect: bool) -> list[float]:
    took = []
    for message_id in ids:
        if reconnect:
            connection.close()  # what the Celery fixup does before and after each task
        began = time.perf_counter()
        if reconnect:
            connection.ensure_connection()
        outcome = services.outbox_deliver(message_id=message_id, worker="probe")
        took.append(time.perf_counter() - began)
        if outcome != "sent":
            raise SystemExit(f"delivery of {message_id} returned {outcome!r}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    if not 10 <= args.n <= 5000:
        parser.error("--n must be 10..5000")

    rows = OutboxMessage.objects.bulk_create(
        drip_rows(args.n * 2 + 1, f"bench-probe-{time.time_ns()}")
    )
    ids = [row.pk for row in rows]
    # Warm: templates compiled, URL resolver loaded, connection open.
    services.outbox_deliver(message_id=ids.pop(), worker="probe")

    with CaptureQueriesContext(connection) as captured:
        services.outbox_deliver(message_id=ids.pop(), worker="probe")
    statements = [q["sql"][:160] for q in captured.captured_queries]

    render, send = Timer(), Timer()
    original_render, original_send = services.message_render, services.transport_send
    services.message_render = render.wrap(original_render)  # type: ignore[assignment]
    services.transport_send = send.wrap(original_send)  # type: ignore[assignment]
    db_seconds = [0.0]
    per_statement: dict[str, list[float]] = {}

    def db_timer(execute: Callable[..., Any], sql: str, *a: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, *a)
        finally:
            took = time.perf_counter() - began
            db_seconds[0] += took
            match = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
            kind = f"{sql.split(maxsplit=1)[0]} {match.group(1) if match else '?'}"
            per_statement.setdefault(kind, []).append(took)

    half = args.n
    kept_ids, fresh_ids = ids[:half], ids[half : 2 * half]
    profiler = cProfile.Profile() if args.profile else None
    with connection.execute_wrapper(db_timer):
        if profiler:
            profiler.enable()
        kept = _deliver_all(kept_ids, reconnect=False)
        if profiler:
            profiler.disable()
        in_db, in_render, in_send = db_seconds[0], render.seconds, send.seconds
        fresh = _deliver_all(fresh_ids, reconnect=True)
    services.message_render, services.transport_send = original_render, original_send
    if profiler and args.profile:
        profiler.dump_stats(str(args.profile))

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 3)

    total = sum(kept)
    result = {
        "n": half,
        "statements_per_delivery": len(statements),
        "statements": statements,
        "kept_connection_ms_median": ms(kept),
        "kept_connection_ms_mean": round(total / len(kept) * 1000, 3),
        "fresh_connection_ms_median": ms(fresh),
        "fresh_connection_ms_mean": round(sum(fresh) / len(fresh) * 1000, 3),
        "share_db": round(in_db / total, 3),
        "share_render": round(in_render / total, 3),
        "share_send": round(in_send / total, 3),
        "ms_db": round(in_db / half * 1000, 3),
        "ms_render": round(in_render / half * 1000, 3),
        "ms_send": round(in_send / half * 1000, 3),
        # Median ms per statement kind (autocommit: each UPDATE and INSERT is its own commit).
        "statement_ms_median": {
            kind: round(statistics.median(values) * 1000, 3)
            for kind, values in sorted(per_statement.items())
        },
    }
    print("PROBE_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
