"""Where one request's time goes, in-process: SQL statements, database round trips, timings.

Run by ``run.py`` against the freshly migrated bench database (same environment as gunicorn);
prints one ``QUERIES_RESULT {json}`` line. For each target (baseline, contact, verification):

- ``captured``: the statements Django's ``CaptureQueriesContext`` sees for one post;
- ``round_trips``: every message exchange with PostgreSQL for one post, from libpq's own
  trace, so it also counts what Django does not log: the ``CONN_HEALTH_CHECKS`` ping
  (``SELECT 1``) that starts every request under gunicorn (emulated here, since the test
  client skips ``close_old_connections``);
- ``ms_per_request`` / ``db_wait_ms``: the mean over ``--requests`` posts through Django's test
  client (no HTTP server, one process), and the part of it spent waiting for PostgreSQL
  (sum of libpq round trips, from the trace's timestamps).

- ``phases``: Python CPU per post (``time.process_time``, this process only: PostgreSQL's own
  CPU is not in it) spent inside each named step of the service, inclusive of the steps it
  calls, and for the whole post; no profiler, so the figures are not inflated by one.

``--profile DIR`` also writes a cProfile summary per target (``profile-<target>.txt``).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import importlib
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.intake.settings_bench")

import django  # noqa: E402

django.setup()

from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.intake import bodies  # noqa: E402

# Sequence numbers far above the ones wrk uses (offset + thread * 400k + n, offsets < 10M).
K_BASE = 90_000_000
WARMUP = 5
SQL_CHARS = 160


class Tracer:
    """libpq's protocol trace of Django's connection, parsed into round trips."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.pgconn: Any = None

    def start(self) -> None:
        connection.ensure_connection()
        self.file.seek(0)
        self.file.truncate()
        self.pgconn = connection.connection.pgconn
        self.pgconn.trace(self.file.fileno())

    def stop(self) -> list[tuple[str, float]]:
        """(first statement sent, seconds until ReadyForQuery) per round trip."""
        if self.pgconn is not None:
            self.pgconn.untrace()
        self.file.flush()
        self.file.seek(0)
        trips: list[tuple[str, float]] = []
        sent_at: float | None = None
        sent_what = ""
        for line in self.file.read().splitlines():
            fields = line.split("\t")
            if len(fields) < 4:
                continue
            stamp, direction, _length, message = fields[:4]
            rest = "\t".join(fields[4:]).strip()
            at = _stamp_seconds(stamp)
            if direction == "F" and sent_at is None and message in ("Query", "Parse"):
                sent_at, sent_what = at, rest.strip('"')[:SQL_CHARS]
            elif direction == "B" and message == "ReadyForQuery" and sent_at is not None:
                trips.append((sent_what, at - sent_at))
                sent_at = None
        return trips


# (label, module, attribute path): each is looked up where its caller finds it, so the wrapper
# sees every call. Nested steps are inclusive: "store" contains "person" and "consents".
PHASES: tuple[tuple[str, str, str], ...] = (
    ("DRF validation (is_valid)", "apps.intake.serializers", "SubmissionInput.is_valid"),
    ("crisis detection", "apps.intake.services", "crisis_assess"),
    ("payer matching", "apps.intake.services", "payer_match"),
    ("store: person, submission, consents", "apps.intake.services", "submission_store"),
    ("  of which person find-or-create", "apps.leads.services", "person_find_or_create"),
    ("  of which consent evidence", "apps.leads.services", "_consent_evidence_record"),
    ("follow-up planning (in the transaction)", "apps.followups.services", "followups_plan"),
    ("COMMIT", "django.db", "connection.commit"),
    ("Celery hand-over (after commit)", "apps.followups.services", "outbox_hand_over"),
)


@contextmanager
def _phase_clocks(totals: dict[str, float]) -> Iterator[None]:
    """Wrap each PHASES callable with a process-time accumulator; restore them after."""
    restore: list[tuple[Any, str, Any]] = []

    def clocked(label: str, inner: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                totals[label] += time.process_time() - began

        return wrapper

    try:
        for label, module_name, path in PHASES:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            # Own attribute (restored as it was) or inherited / a method of a connection
            # (restored by deleting the shadowing attribute).
            own = name in vars(owner) if isinstance(owner, type) else not parents
            restore.append((owner, name, getattr(owner, name) if own else None))
            setattr(owner, name, clocked(label, getattr(owner, name)))
        yield
    finally:
        for owner, name, original in reversed(restore):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def _stamp_seconds(stamp: str) -> float:
    return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()  # noqa: DTZ007


def _post(client: Client, kind: str, k: int) -> int:
    path, _ = bodies.TARGETS[kind]
    # What request_started does under gunicorn (the test client skips it): with
    # CONN_HEALTH_CHECKS the request's first query is preceded by a "SELECT 1".
    close_old_connections()
    response = client.post(path, data=bodies.fill(kind, k), content_type="application/json")
    return int(response.status_code)


def _bad(kind: str, status: int) -> None:
    raise SystemExit(f"{kind}: the probe post answered {status}, not 201")


def measure(kind: str, client: Client, requests: int, profile_dir: Path | None) -> dict[str, Any]:
    k = K_BASE + {"baseline": 0, "contact": 10_000_000, "verification": 20_000_000}[kind]
    for _ in range(WARMUP):
        k += 1
        status = _post(client, kind, k)
        if status != 201:
            _bad(kind, status)

    # One post, statements as Django sees them.
    k += 1
    with CaptureQueriesContext(connection) as captured:
        _post(client, kind, k)
    statements = [q["sql"][:SQL_CHARS] for q in captured.captured_queries]

    # Round trips of one post, as PostgreSQL sees them. The trace is attached to the
    # connection object: make sure the request kept it (CONN_MAX_AGE), or the count is wrong.
    tracer = Tracer()
    k += 1
    tracer.start()
    before = connection.connection
    _post(client, kind, k)
    trips = tracer.stop()
    if connection.connection is not before:
        trips = []

    # Timing: untraced, then traced (db wait from the trace's timestamps).
    started = time.perf_counter()
    for _ in range(requests):
        k += 1
        _post(client, kind, k)
    wall_ms = (time.perf_counter() - started) * 1000 / requests
    db_wait = 0.0
    traced = max(requests // 2, 1)
    per_trip: list[list[float]] = [[] for _ in trips]
    for _ in range(traced):
        k += 1
        tracer.start()
        _post(client, kind, k)
        seen = tracer.stop()
        db_wait += sum(seconds for _, seconds in seen)
        if len(seen) == len(per_trip):
            for slot, (_, seconds) in zip(per_trip, seen, strict=True):
                slot.append(seconds)

    # Python CPU per phase, no profiler (the baseline has none of these steps).
    phases: dict[str, float] = {}
    if kind != "baseline":
        totals = dict.fromkeys((label for label, _, _ in PHASES), 0.0)
        began = time.process_time()
        with _phase_clocks(totals):
            for _ in range(requests):
                k += 1
                _post(client, kind, k)
        whole = time.process_time() - began
        phases = {label: round(seconds * 1000 / requests, 3) for label, seconds in totals.items()}
        phases["the whole post (Python, in-process)"] = round(whole * 1000 / requests, 3)

    result: dict[str, Any] = {
        "phases": phases,
        "captured_count": len(statements),
        "captured": statements,
        "round_trips_count": len(trips),
        "round_trips": [
            {"sql": what, "median_ms": round(statistics.median(slot) * 1000, 3) if slot else None}
            for (what, _), slot in zip(trips, per_trip, strict=True)
        ],
        "ms_per_request": round(wall_ms, 3),
        "db_wait_ms": round(db_wait * 1000 / traced, 3),
    }
    if profile_dir is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            k += 1
            _post(client, kind, k)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
        out.write(f"{kind}: {requests} posts in-process (test client), sorted by cumulative\n")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        profile_dir.mkdir(parents=True, exist_ok=True)
        (profile_dir / f"profile-{kind}.txt").write_text(out.getvalue())
        result["profile"] = str(profile_dir / f"profile-{kind}.txt")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="posts per target (<= 2000)")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile text here")
    args = parser.parse_args()
    requests = max(1, min(args.requests, 2000))
    client = Client(SERVER_NAME="127.0.0.1", HTTP_USER_AGENT=bodies.USER_AGENT)
    results = {kind: measure(kind, client, requests, args.profile) for kind in bodies.TARGETS}
    print("QUERIES_RESULT " + json.dumps({"requests": requests, "targets": results}))


if __name__ == "__main__":
    main()
