#!/usr/bin/env python
"""Admin benchmark at scale (issue 5, "Scale"): ``.venv/bin/python bench/admin/run.py``.

1. Creates the PostgreSQL database ``bench_admin`` (127.0.0.1:5432, role postgres) if missing,
   migrates it with DEBUG off and seeds the payers. Its keys (secret key, PHI keys) are generated
   once into ``bench/admin/results/env.json`` (git-ignored), so a seeded database is reused.
2. Seeds ``--leads`` fake leads with ``manage.py seed_demo`` unless exactly that many submissions
   are already there (``--reseed`` empties the lead tables and seeds again), then ANALYZEs.
3. Logs in, in-process, with ``django.test.Client`` as an Admissions-like superuser with an
   OTP-verified session when django-otp is installed (a confirmed TOTPDevice, ``force_login``,
   ``session["otp_device_id"]``).
4. Times every page of ``CASES`` (below: the one table to adjust when the admin changes),
   interleaved run by run so the machine's noise falls on all of them alike: median and p95
   of ``--runs`` timed requests after one warm-up, server time as the client sees it in-process
   (no network, no browser). One more request per page under ``CaptureQueriesContext`` counts
   the SQL statements and names the slowest; ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS)
   of that statement.
5. Prints each page's ratio to the baseline (the admin index: same middleware, session, auth
   and templates, no lead query), and writes ``bench/admin/results/latest.json``.

Exit status: 0 every page under the target and answered 200, 1 otherwise, 2 setup failure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DB_NAME = "bench_admin"
PG = "postgres://postgres@127.0.0.1:5432"
TARGET_MS = 300.0
BENCH_USERNAME = "bench.admissions"


@dataclass(frozen=True)
class Case:
    """One page: a path under the admin and its query string. ``{name}`` placeholders are
    filled from ``sample_values`` (a real lead, payer, coordinator of the seeded data)."""

    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    baseline: bool = False


# The pages, with the triage admin's URLs and filter parameters (apps/admissions/queue.py).
# When the admin changes them, adjust them here and nowhere else.
QUEUE = "leads/submission/"
CASES: tuple[Case, ...] = (
    Case("baseline: admin index", "", baseline=True),
    Case("queue (changelist)", QUEUE),
    Case("filter: payer", QUEUE, {"payer": "{payer_id}"}),
    Case("filter: in-network", QUEUE, {"in_network": "yes"}),
    Case("filter: status", QUEUE, {"queue": "verifying"}),
    Case("filter: form", QUEUE, {"form": "verification"}),
    Case("filter: assignee", QUEUE, {"assignee": "{assignee_id}"}),
    Case("filter: SLA breached", QUEUE, {"sla": "breached"}),
    Case("filter: date range (7 days)", QUEUE, {"received": "7d"}),
    Case("filter: treatment interest", QUEUE, {"treatment": "alcohol"}),
    Case("search: phone", QUEUE, {"q": "{phone}"}),
    Case("search: email", QUEUE, {"q": "{email}"}),
    Case("search: reference", QUEUE, {"q": "{reference}"}),
    Case("lead page (change view)", QUEUE + "{submission_id}/change/"),
)


def bench_env(db_name: str) -> dict[str, str]:
    """The settings the bench runs under: DEBUG off, its own database and keys."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    keys_file = RESULTS / "env.json"
    if keys_file.exists():
        keys = json.loads(keys_file.read_text())
    else:
        from cryptography.fernet import Fernet

        keys = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "PHI_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PHI_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        }
        keys_file.write_text(json.dumps(keys))
        keys_file.chmod(0o600)
    return {
        **keys,
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{PG}/{db_name}",
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "asana_leads.settings",
        "LOG_LEVEL": "WARNING",
    }


def database_ensure(db_name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db_name}"')
            print(f"created database {db_name}")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def seed_ensure(leads: int, seed: int, reseed: bool) -> None:
    """Seed exactly ``leads`` demo leads once; reuse them on later runs."""
    from django.db import connection

    from apps.leads.models import Submission

    count = Submission.objects.count()
    if count == leads and not reseed:
        print(f"reusing {count:,} seeded leads")
        return
    if count:
        print(f"{count:,} leads present, {leads:,} wanted: emptying the lead tables")
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE leads_cardimage, leads_consent, leads_submission, leads_person CASCADE"
            )
    connection.close()
    started = time.monotonic()
    manage(
        "seed_demo",
        f"--leads={leads}",
        f"--seed={seed}",
        "--i-know-this-is-not-production",
    )
    print(f"seeded in {time.monotonic() - started:.0f}s; ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def sample_values() -> dict[str, str]:
    """Real values of the seeded data for the placeholders of ``CASES``."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from apps.leads.models import Submission
    from apps.payers.models import Payer

    # A lead from the middle of the table (not the first rows a cold cache would favour).
    bounds = Submission.objects.aggregate(low=Min("pk"), high=Max("pk"))
    middle = (bounds["low"] + bounds["high"]) // 2
    lead = (
        Submission.objects.exclude(email="")
        .filter(kind=Submission.Kind.VERIFICATION, assignee__isnull=False, pk__gte=middle)
        .order_by("pk")
        .only("pk", "reference", "email", "assignee_id")
        .first()
    )
    assert lead is not None, "no verification lead with an email and an assignee"
    # Fictional phone lines run out after ~79,000 people (apps/leads/demo.py): the latest
    # lead with one.
    phone = (
        Submission.objects.exclude(phone="").order_by("-pk").values_list("phone", flat=True)[:1]
    ).get()
    payer = Payer.objects.get(slug="bcbs") if Payer.objects.filter(slug="bcbs").exists() else None
    today = timezone.localdate()
    return {
        "submission_id": str(lead.pk),
        "reference": lead.reference,
        "phone": phone,
        "email": lead.email,
        "assignee_id": str(lead.assignee_id),
        "payer_id": str(payer.pk if payer else lead.payer_id),
        "week_ago": _midnight(today - datetime.timedelta(days=7)),
        "tomorrow": _midnight(today + datetime.timedelta(days=1)),
    }


def _midnight(day: datetime.date) -> str:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time())).isoformat()


def login() -> Any:
    """A client logged in as an Admissions-like superuser, its session OTP-verified when
    django-otp guards the admin."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=BENCH_USERNAME,
        defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.org"},
    )
    admissions = Group.objects.filter(name="Admissions").first()
    if admissions is not None:
        user.groups.add(admissions)
    client = Client()
    client.force_login(user)
    if apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@dataclass
class Measured:
    case: Case
    url: str
    times_ms: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    queries: int = 0
    slowest_sql: str = ""
    slowest_ms: float = 0.0
    sql_ms: float = 0.0
    explain: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def case_url(case: Case, values: dict[str, str]) -> str:
    from django.conf import settings

    path = "/" + settings.ADMIN_URL + case.path.format(**values)
    params = {key: value.format(**values) for key, value in case.params.items()}
    return path + ("?" + urlencode(params) if params else "")


def measure(client: Any, cases: tuple[Case, ...], runs: int, explain: bool) -> list[Measured]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    values = sample_values()
    results = [Measured(case, case_url(case, values)) for case in cases]
    for item in results:  # warm-up: templates, caches, the database's buffers
        started = time.perf_counter()
        item.statuses.add(client.get(item.url).status_code)
        print(
            f"warm-up {item.case.name}: {(time.perf_counter() - started) * 1000:.0f} ms", flush=True
        )
    for round_number in range(1, runs + 1):
        for item in results:
            started = time.perf_counter()
            response = client.get(item.url)
            item.times_ms.append((time.perf_counter() - started) * 1000)
            item.statuses.add(response.status_code)
        print(f"round {round_number}/{runs} done", flush=True)
    for item in results:
        with CaptureQueriesContext(connection) as captured:
            client.get(item.url)
        item.queries = len(captured.captured_queries)
        timed = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
        item.sql_ms = sum(ms for ms, _ in timed)
        if timed:
            item.slowest_ms, item.slowest_sql = max(timed)
        if explain and item.slowest_sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + item.slowest_sql)
                item.explain = [row[0] for row in cursor.fetchall()]
    return results


def report(results: list[Measured], leads: int, runs: int) -> int:
    baseline = statistics.mean(r.median for r in results if r.case.baseline)
    print()
    print(f"Admin at {leads:,} leads: {runs} timed requests per page (after 1 warm-up)")
    header = (
        f"{'page':32} {'status':>6} {'median':>8} {'p95':>8} {'x base':>7} "
        f"{'queries':>7} {'sql ms':>7} {'slowest':>8}"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for r in results:
        status = ",".join(str(s) for s in sorted(r.statuses))
        ok = r.statuses == {200} and (r.case.baseline or r.p95 < TARGET_MS)
        failed |= not ok
        print(
            f"{r.case.name:32} {status:>6} {r.median:8.1f} {r.p95:8.1f} "
            f"{r.median / baseline:7.1f} {r.queries:7d} {r.sql_ms:7.1f} {r.slowest_ms:8.1f}"
            + ("" if ok else "  MISS")
        )
    print(f"\ntarget: every page p95 < {TARGET_MS:.0f} ms and 200; ms are wall time in-process")
    for r in results:
        if r.explain:
            print(f"\n== {r.case.name}: slowest statement {r.slowest_ms:.1f} ms\n{r.slowest_sql}")
            print("\n".join("   " + line for line in r.explain))
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--db-name", default=DEFAULT_DB_NAME, help="PostgreSQL database to use")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--runs", type=int, default=7, help="timed requests per page")
    parser.add_argument("--reseed", action="store_true", help="empty the lead tables, seed again")
    parser.add_argument("--seed-only", action="store_true", help="set up and seed, no timing")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest SQL")
    args = parser.parse_args()

    os.environ.update(bench_env(args.db_name))
    try:
        database_ensure(args.db_name)
        manage("migrate", "-v0")
        manage("seed_payers")
        import django

        django.setup()
        seed_ensure(args.leads, args.seed, args.reseed)
    except Exception as exc:  # noqa: BLE001 (any setup failure ends the run with status 2)
        print(f"setup failed: {exc!r}", file=sys.stderr)
        return 2
    if args.seed_only:
        return 0
    # A refused filter (the stock admin has no in-network filter) answers 400 and logs its
    # traceback; the table says 400, the traceback is noise here.
    logging.getLogger("django.security").setLevel(logging.CRITICAL)
    client = login()
    results = measure(client, CASES, args.runs, args.explain)
    code = report(results, args.leads, args.runs)
    out = {
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "leads": args.leads,
        "runs": args.runs,
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.strip(),
        "load_average": os.getloadavg(),
        "pages": [
            {
                "name": r.case.name,
                "url": r.url,
                "statuses": sorted(r.statuses),
                "median_ms": round(r.median, 1),
                "p95_ms": round(r.p95, 1),
                "queries": r.queries,
                "sql_ms": round(r.sql_ms, 1),
                "slowest_sql_ms": round(r.slowest_ms, 1),
                "slowest_sql": r.slowest_sql,
                "explain": r.explain,
            }
            for r in results
        ],
    }
    (RESULTS / "latest.json").write_text(json.dumps(out, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())
