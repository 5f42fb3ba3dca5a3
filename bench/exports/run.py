#!/usr/bin/env python
"""Marketing export benchmark (issue 6): ``.venv/bin/python bench/exports/run.py``.

One run, on this machine's PostgreSQL (127.0.0.1:5432):

1. drops and recreates its own database (``h_exports_bench`` unless ``--database`` says
   otherwise), migrates it, and seeds ``--rows`` (default 1,000,000) marketable contacts with
   COPY: one person each (email consent, first/latest UTM), one book submission, one granted
   consent row with its wording; then VACUUM ANALYZE;
2. measures, each as a child process (wall time, and peak RSS from the child's own rusage):
   (a) ``psql \\copy`` of the selector's exact query to CSV (the physical floor),
   (b) ``manage.py export_contacts --channel email --format csv``,
   (c) ``manage.py export_contacts --channel email --format xlsx``;
   each is run ``--repeat`` times (default 2) and the best time is kept (the machine is shared);
3. checks the three files hold the same number of rows, prints time and peak RSS per step, the
   ratios to (a), and the targets (CSV <= 3x COPY, XLSX <= 10x COPY, peak RSS < 200 MB);
4. writes bench/exports/results/latest.json and drops the database (``--keep`` keeps it).

Exit status: 0 targets met, 1 a target missed, 2 a setup failure.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"
TARGET_CSV = 3.0
TARGET_XLSX = 10.0
TARGET_RSS_MB = 200.0
CAMPAIGNS = ("spring-book", "summer-book", "newsletter-q3", "=formula-test", "podcast")
SOURCES = ("newsletter", "google", "facebook", "podcast", "")


@dataclass
class Step:
    label: str
    seconds: float
    peak_rss_mb: float
    rows: int
    size_bytes: int


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="true",
        DJANGO_SETTINGS_MODULE="asana_leads.settings",
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    return env


def _psql(database: str, *args: str, db: str = "postgres") -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process, from its own rusage."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"failed ({child.returncode}): {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports KiB


def _seed(database_url: str, rows: int) -> None:
    import psycopg

    wording = "Send me the book and the newsletter."
    sha = hashlib.sha256(wording.encode()).hexdigest()
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO leads_consentwording (sha256, text, first_seen_at) VALUES (%s, %s, now())",
            (sha, wording),
        )
        columns = (
            "id, first_name, last_name, email, phone, created_at, updated_at, last_submission_at,"
            " consent_email, consent_email_at, consent_sms, consent_calls, do_not_contact,"
            " part2_restricted, is_inquiry, first_touch_at, first_utm_source, first_utm_medium,"
            " first_utm_campaign, latest_touch_at, latest_utm_source, latest_utm_medium,"
            " latest_utm_campaign"
        )
        with conn.cursor() as cur, cur.copy(f"COPY leads_person ({columns}) FROM STDIN") as copy:
            for n in range(1, rows + 1):
                at = start + datetime.timedelta(seconds=n * 17)
                source = SOURCES[n % len(SOURCES)]
                campaign = CAMPAIGNS[n % len(CAMPAIGNS)]
                copy.write_row(
                    (
                        n,
                        f"Reader{n}",
                        f"Lastname{n}",
                        f"reader{n}@example.org",
                        None,
                        at,
                        at,
                        at,
                        True,
                        at,
                        False,
                        False,
                        False,
                        False,
                        False,
                        at,
                        source,
                        "email",
                        campaign,
                        at,
                        source,
                        "email",
                        campaign,
                    )
                )
        conn.execute("SELECT setval(pg_get_serial_sequence('leads_person', 'id'), %s)", (rows,))
        # One book submission and one granted consent per person, built by the server itself.
        conn.execute(
            """
            INSERT INTO leads_submission (reference, kind, received_at, status, urgency,
                crisis_signals, is_spam, spam_reason, first_name, last_name, email, phone,
                preferred_contact, best_time, message, seeking_treatment_for,
                patient_first_name, patient_last_name, insurance_provider_text, member_id,
                member_id_index, group_number, policy_holder_name,
                relationship_to_policy_holder, state, treatment_interest, page_url, referrer,
                utm_source, utm_medium, utm_campaign, utm_term, utm_content, gclid, fbclid,
                user_agent, person_id)
            SELECT 'B' || lpad(to_hex(id), 8, '0'), 'book', consent_email_at, 'new', 'routine',
                '[]', false, '', first_name, last_name, email, '', '', '', '', 'self', '', '',
                '', '', '', '', '', '', '', '', 'https://asanarecovery.com/free-book/', '',
                first_utm_source, first_utm_medium, first_utm_campaign, '', '', '', '', '', id
            FROM leads_person
            """
        )
        conn.execute(
            """
            INSERT INTO leads_consent (channel, action, source, recorded_at, user_agent,
                page_url, person_id, wording_id)
            SELECT 'email', 'granted', 'web_form', consent_email_at, '', '', id, %s
            FROM leads_person
            """,
            (sha,),
        )
        conn.execute("VACUUM ANALYZE")


def _floor_sql(env: dict[str, str]) -> str:
    """The selector's query as one SQL string (parameters bound), for psql's \\copy."""
    code = (
        "import django; django.setup()\n"
        "import psycopg\n"
        "from django.db import connection\n"
        "from apps.marketing.selectors import ContactFilters, marketable_contacts\n"
        "qs = marketable_contacts(filters=ContactFilters(channel='email'))\n"
        "sql, params = qs.query.sql_with_params()\n"
        "connection.ensure_connection()\n"
        "print(psycopg.ClientCursor(connection.connection).mogrify(sql, params))\n"
    )
    out = subprocess.run(
        [str(PYTHON), "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def _count_csv_rows(path: Path) -> int:
    import csv

    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _ in csv.reader(handle))


def _count_xlsx_rows(path: Path) -> int:
    """Rows of the (only) sheet, counted in its XML as it streams out of the zip."""
    import zipfile

    count = 0
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as sheet:
        for block in iter(lambda: sheet.read(1 << 20), b""):
            data = tail + block
            count += data.count(b"<row ")
            tail = data[-4:]
            count -= tail.count(b"<row ")  # counted again with the next block
        count += tail.count(b"<row ")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database", default="h_exports_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--skip-seed", action="store_true", help="reuse a kept database")
    args = parser.parse_args()
    database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    env = _env(database_url)
    work = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    if not args.skip_seed:
        print(f"seeding {args.rows:,} marketable contacts into {args.database} ...", flush=True)
        _psql(args.database, "-c", f"DROP DATABASE IF EXISTS {args.database}")
        _psql(args.database, "-c", f"CREATE DATABASE {args.database}")
    subprocess.run([str(PYTHON), "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    if not args.skip_seed:
        started = time.perf_counter()
        _seed(database_url, args.rows)
        print(f"seeded in {time.perf_counter() - started:.1f}s", flush=True)

    floor_sql = _floor_sql(env).replace("\n", " ")
    copy_file = work / "floor.csv"
    steps: list[tuple[str, list[str], Path]] = [
        (
            "(a) psql \\copy of the selector's query (floor)",
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                args.database,
                "-c",
                f"\\copy ({floor_sql}) TO '{copy_file}' WITH (FORMAT csv, HEADER)",
            ],
            copy_file,
        ),
    ]
    for fmt in ("csv", "xlsx"):
        out = work / f"contacts.{fmt}"
        steps.append(
            (
                f"({'b' if fmt == 'csv' else 'c'}) export_contacts --format {fmt}",
                [
                    str(PYTHON),
                    "manage.py",
                    "export_contacts",
                    "--channel",
                    "email",
                    "--format",
                    fmt,
                    "--no-progress",
                    "-o",
                    str(out),
                ],
                out,
            )
        )
    results: list[Step] = []
    for label, command, out in steps:
        best: tuple[float, float] | None = None
        peak = 0.0
        for _ in range(args.repeat):
            seconds, rss = _measure(command, env)
            peak = max(peak, rss)
            best = (seconds, rss) if best is None or seconds < best[0] else best
        assert best is not None
        rows = _count_xlsx_rows(out) - 1 if out.suffix == ".xlsx" else _count_csv_rows(out) - 1
        results.append(Step(label, best[0], peak, rows, out.stat().st_size))
        print(f"{label}: {best[0]:.2f}s, peak RSS {peak:.0f} MB, {rows:,} rows", flush=True)

    floor = results[0].seconds
    csv_ratio = results[1].seconds / floor
    xlsx_ratio = results[2].seconds / floor
    peak_rss = max(step.peak_rss_mb for step in results[1:])
    same_rows = len({step.rows for step in results}) == 1
    checks = {
        f"CSV within {TARGET_CSV:g}x of COPY ({csv_ratio:.2f}x)": csv_ratio <= TARGET_CSV,
        f"XLSX within {TARGET_XLSX:g}x of COPY ({xlsx_ratio:.2f}x)": xlsx_ratio <= TARGET_XLSX,
        f"peak RSS under {TARGET_RSS_MB:g} MB ({peak_rss:.0f} MB)": peak_rss < TARGET_RSS_MB,
        f"same rows in every file ({results[0].rows:,})": same_rows,
    }
    print()
    print(f"{'step':<52} {'seconds':>8} {'x floor':>8} {'peak RSS MB':>12} {'MB out':>8}")
    for step in results:
        print(
            f"{step.label:<52} {step.seconds:>8.2f} {step.seconds / floor:>8.2f}"
            f" {step.peak_rss_mb:>12.0f} {step.size_bytes / 1e6:>8.1f}"
        )
    print()
    for text, ok in checks.items():
        print(f"{'PASS' if ok else 'MISS'} {text}")
    RESULTS.mkdir(exist_ok=True)
    record: dict[str, Any] = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "repeat": args.repeat,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "steps": [asdict(step) for step in results],
        "checks": checks,
    }
    (RESULTS / "latest.json").write_text(json.dumps(record, indent=2) + "\n")
    for _, _, out in steps:
        out.unlink(missing_ok=True)
    work.rmdir()
    if not args.keep:
        _psql(args.database, "-c", f"DROP DATABASE IF EXISTS {args.database}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
