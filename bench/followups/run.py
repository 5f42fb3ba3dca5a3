#!/usr/bin/env python
"""Follow-ups benchmark (issue 4): ``.venv/bin/python bench/followups/run.py``.

One run, everything on this machine's loopback:

1. drops and recreates the PostgreSQL database ``asana_leads_bench_followups``, migrates it,
   seeds the payers; flushes a private Redis database (``redis://127.0.0.1:6379/14``), the
   broker and the cache; DJANGO_DEBUG=false, fresh keys, email and texts to files in a temp
   VAR_DIR;
2. starts gunicorn (4 sync workers) and, shape A = ``make run``'s: ONE Celery worker process
   exactly as ``asana_leads/devserver.py`` starts it (``--beat``, all queues, concurrency 2),
   with the outbox relay (``manage.py outbox_relay``) beside it;
   warms up with book signups (their people are the drip audience) and a few verifications;
3. (1) alert latency: posts 500 insurance verifications at a steady 20/s (open loop) and
   measures, per post, from the 201 arriving at the client to its staff alert row being marked
   sent (``OutboxMessage.sent_at``, topic staff_alert): p50, p99, max;
4. (2) isolation: plans 10,000 drip emails due now on ``followups`` (bulk_create) and hands
   them over with the app's ``outbox_hand_over``; while they drain, posts 500 more and
   measures the same latency;
5. (3) throughput: the worker's messages/s on ``followups`` delivering drip emails vs a no-op
   task with the same options, same broker, same worker (no-op, outbox, no-op); then the same
   with the worker closing its PostgreSQL connection after every task, Celery's default that
   ``asana_leads/celery.py`` turns off (bench-only what-if, ``BENCH_WORKER_DB_CLOSE=1`` in
   ``settings_bench.py``; ``--no-whatif`` skips it);
6. shape B = the Procfile's: ``alerts`` worker (-Q alerts -c 2), ``followups`` worker
   (-Q followups,default -c 4), the relay, a separate beat: (1) and (2) again (the drain is
   not waited for: shape A measured it);
7. prints the machine, the commands, a table, the verdicts; writes
   bench/followups/results/latest.json; stops every process it started; drops the database.

Also, before (1): an in-process probe of one delivery (``probe.py``: SQL statements, where the
time goes, a kept vs a new connection). Supplementary what-ifs, not in the default run:
``--whatif-latency`` (shape A's (1) and (2) again with the worker closing its connection),
``--backlog-queue default`` (the drips on a queue of their own, apart from confirmations).

Exit status: 0 targets met (by the first shape), 1 a target missed, 2 an invalid run or a
setup failure.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import http.client
import json
import os
import platform
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from asana_leads.devserver import QUEUES as MAKE_RUN_QUEUES  # noqa: E402

SETTINGS_MODULE = "bench.followups.settings_bench"
DB_NAME_PREFIX = "asana_leads_bench_followups"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
VERIFICATION_PATH = "/api/v1/insurance-verifications/"
BOOK_PATH = "/api/v1/book-signups/"
TARGET_P99_MS = 2000.0
# "Unchanged" under the backlog: p50 and p99 each within 1.5x of the idle figure, or within
# +100 ms of it, whichever is looser (a few ms of CPU contention is not "waiting behind
# drips"; 10,000 drips ahead of an alert would be tens of seconds), and p99 still < 2 s.
ISOLATION_FACTOR = 1.5
ISOLATION_SLACK_MS = 100.0
ALERT_WAIT_S = 120.0  # after the last post, how long alerts may take before they count missing
DRAIN_WAIT_S = 300.0  # how long a backlog may take to drain before the phase gives up
NOISY_SHARE = 0.10
PHASE_STRIDE = 1_000_000  # sequence numbers per posting phase: every post is a new person


class BenchError(Exception):
    """Setup failed or the run cannot be trusted: nothing was measured."""


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- processes -----------------------------------------------------------------------------


@dataclass
class Children:
    """Processes this run started, each in its own process group; all stopped on the way out."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, cmd: list[str], *, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            out.write(f"\n$ {shlex.join(cmd)}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        # A worker's pool children share its group: make sure none outlives it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


# --- the machine ---------------------------------------------------------------------------


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


def machine() -> dict[str, Any]:
    cpu, mem_gib = "?", 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
                break
    nproc = _first_line(["nproc"])
    return {
        "nproc": int(nproc) if nproc.isdigit() else os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "redis": _first_line(["redis-server", "--version"]).split(" sha=")[0],
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def git_state() -> dict[str, Any]:
    head = _first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    try:
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        status = ""
    return {"head": head, "uncommitted_paths": len(status.splitlines())}


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields[:8])


def wait_for_quiet(limit_s: int, threshold: float = 0.85) -> dict[str, Any]:
    """Others share this machine (test suites): wait up to ``limit_s`` for it to go quiet."""
    waited, idle = 0.0, 0.0
    while True:
        i0, t0 = _cpu_times()
        time.sleep(2)
        i1, t1 = _cpu_times()
        idle = (i1 - i0) / max(t1 - t0, 1)
        if idle >= threshold or waited >= limit_s:
            break
        if not waited:
            print(f"  the machine is busy (CPU {1 - idle:.0%} used); waiting", end="", flush=True)
        print(".", end="", flush=True)
        time.sleep(3)
        waited += 5
    if waited:
        print(f" {'quiet' if idle >= threshold else 'still busy'} after {waited:.0f} s")
    return {"cpu_idle_before_load": round(idle, 3), "waited_for_quiet_s": waited}


TICKS = os.sysconf("SC_CLK_TCK")


BENCH_DB_MARK = [""]  # " <bench database name> ": a PostgreSQL backend serving the bench


def cpu_snapshot() -> dict[int, tuple[str, int, int, int]]:
    """pid -> (command, process group, own CPU ticks, reaped children's CPU ticks).

    A PostgreSQL backend of the bench's database is named ``postgres-bench`` (its process title
    names the database), so the bench's share of the server is told from other clients'."""
    snap: dict[int, tuple[str, int, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        if comm.startswith("postgres") and BENCH_DB_MARK[0]:
            with contextlib.suppress(OSError):
                title = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                if BENCH_DB_MARK[0] in title:
                    comm = "postgres-bench"
                elif "bin/postgres" in title.split(" ", 1)[0]:
                    comm = "postmaster"
        fields = raw[raw.rindex(")") + 2 :].split()
        snap[int(entry.name)] = (
            comm,
            int(fields[2]),
            int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]),
        )
    return snap


@dataclass
class CpuMeter:
    """CPU seconds per group between ``begin`` and ``end``: our process groups by name,
    PostgreSQL and Redis (shared with anyone else using them), this process, and the rest."""

    groups: dict[str, int]
    before: dict[int, tuple[str, int, int, int]] = field(default_factory=dict)
    stat0: tuple[int, int] = (0, 0)
    self0: float = 0.0
    wall0: float = 0.0

    def _group(self, comm: str, pgrp: int) -> str:
        for name, pgid in self.groups.items():
            if pgrp == pgid:
                return name
        if comm == "postgres-bench":
            return "postgres"
        if comm == "postmaster":
            return "postgres_others"
        if comm.startswith("postgres"):
            return "postgres_others"
        if comm.startswith("redis-server"):
            return "redis"
        return "others"

    def begin(self) -> None:
        self.before, self.stat0, self.wall0 = cpu_snapshot(), _cpu_times(), time.monotonic()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.self0 = usage.ru_utime + usage.ru_stime

    def end(self) -> dict[str, Any]:
        after, stat1 = cpu_snapshot(), _cpu_times()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        names = [*self.groups, "postgres", "postgres_others", "redis"]
        spent: dict[str, float] = dict.fromkeys(names, 0.0)
        # Backends that exited (a worker task's connection) are found only in the postmaster's
        # reaped-children time, for every database on the server (others' clients too).
        spent["postgres_exited_backends_all_dbs"] = 0.0
        for pid, (comm, _pgrp, _own, reaped) in after.items():
            if comm == "postmaster" and pid in self.before:
                spent["postgres_exited_backends_all_dbs"] += (reaped - self.before[pid][3]) / TICKS
        spent["others"] = 0.0
        me = os.getpid()
        for pid, (comm, pgrp, own, reaped) in after.items():
            if pid == me:
                continue
            name = self._group(comm, pgrp)
            # Our groups and Redis: reaped children count too. PostgreSQL backends are
            # counted while alive (a backend that exits during the phase is not: lower bound).
            exact = name not in {"others", "postgres", "postgres_others"}
            total = own + (reaped if exact else 0)
            if pid in self.before:
                _, _, own0, reaped0 = self.before[pid]
                total -= own0 + (reaped0 if exact else 0)
            if total > 0:
                spent[name] += total / TICKS
        for pid, (comm, pgrp, own, _reaped) in self.before.items():
            name = self._group(comm, pgrp)
            if pid not in after and name not in {"others", "postgres", "postgres_others"}:
                spent[name] -= own / TICKS
        spent["bench_client"] = usage.ru_utime + usage.ru_stime - self.self0
        wall = time.monotonic() - self.wall0
        busy = 1 - (stat1[0] - self.stat0[0]) / max(stat1[1] - self.stat0[1], 1)
        ncpu = os.cpu_count() or 1
        return {
            "seconds": round(wall, 2),
            **{name: round(max(value, 0.0), 2) for name, value in spent.items()},
            "machine_busy": round(busy, 3),
            "others_share": round(spent["others"] / max(wall * ncpu, 1e-9), 3),
        }


# --- database, broker, environment ---------------------------------------------------------


def _check_loopback(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise BenchError(f"{what} must be on this machine's loopback, not {host!r}")


def database_recreate(admin_url: str, name: str, *, create: bool) -> str:
    """Drop ``name`` (and recreate it when ``create``); returns the server's version."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_flush(url: str) -> None:
    try:
        client = redis_client(url)
        client.flushdb()
        client.close()
    except Exception as exc:  # noqa: BLE001
        print(f"  (could not flush {url}: {type(exc).__name__})")


def fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def bench_env(*, database_url: str, redis_url: str, var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "PHI_ENCRYPTION_KEYS": fernet_key(),
            "PHI_BLIND_INDEX_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "API_THROTTLE": "off",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VAR_DIR": var_dir,
            # make run's shape: email and texts to files under VAR_DIR (mail/, sms/).
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(Path(var_dir) / "mail"),
            "SMS_BACKEND": "apps.followups.sms.FileSmsBackend",
            "OUTBOX_SWEEP_SECONDS": "5",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("ON_CALL_SMS_NUMBER", "CHAT_WEBHOOK_URL", "EMAIL_URL"):
        env.pop(name, None)  # the default routes: the admissions inbox by email
    return env


def manage(env: dict[str, str], *args: str, log: Path, timeout: float = 300) -> None:
    cmd = [sys.executable, str(ROOT / "manage.py"), *args]
    with log.open("a") as out:
        out.write(f"\n$ {shlex.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-25:])
        raise BenchError(f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{tail}")


def djtool(env: dict[str, str], *args: str, log: Path, timeout: float = 400) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "djtool.py"), *args]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    with log.open("a") as out:
        out.write(f"\n$ {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}")
    for line in proc.stdout.splitlines():
        if line.startswith("DJTOOL_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("DJTOOL_RESULT "))
            return result
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
    raise BenchError(f"djtool {' '.join(args)} failed ({proc.returncode}):\n{tail}")


# --- the stack -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def gunicorn_start(
    children: Children, env: dict[str, str], *, port: int, workers: int, log: Path
) -> tuple[subprocess.Popen[bytes], list[str]]:
    exe = Path(sys.executable).with_name("gunicorn")
    if not exe.exists():
        raise BenchError("gunicorn is not installed in this virtualenv")
    cmd = [
        str(exe),
        "asana_leads.wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--log-level",
        "warning",
    ]
    proc = children.start(cmd, log=log, env=env)
    for _ in range(240):
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited ({proc.returncode}); see {log}")
        with contextlib.suppress(OSError):
            if http_request(port, "GET", "/healthz/", timeout=2)[0] == 200:
                return proc, cmd
        time.sleep(0.25)
    raise BenchError("gunicorn did not answer /healthz/ within 60 s")


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "asana_leads", *args]


RELAY_COMMAND = [sys.executable, "manage.py", "outbox_relay"]


def shape_a_commands(schedule: Path) -> dict[str, list[str]]:
    """``make run``'s worker, as asana_leads/devserver.py starts it: one process, embedded beat,
    and the outbox relay beside it."""
    return {
        "relay": RELAY_COMMAND,
        "worker": _celery(
            "worker",
            "--beat",
            "-Q",
            MAKE_RUN_QUEUES,
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--schedule",
            str(schedule),
        ),
    }


def shape_b_commands(schedule: Path) -> dict[str, list[str]]:
    """The Procfile's alerts and followups workers, relay and beat (node names added: one
    machine)."""
    procfile: dict[str, list[str]] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == "relay":
            if shlex.split(command)[1:] != RELAY_COMMAND[1:]:
                raise BenchError(f"Procfile relay: expected outbox_relay, got {command!r}")
        elif sep and name.strip() in {"alerts", "followups", "beat"}:
            argv = shlex.split(command)
            if argv[:1] != ["celery"]:
                raise BenchError(f"Procfile {name}: expected a celery command, got {command!r}")
            procfile[name.strip()] = argv[1:]
    if set(procfile) != {"alerts", "followups", "beat"}:
        raise BenchError(f"Procfile lacks alerts/followups/beat lines (found {sorted(procfile)})")
    commands: dict[str, list[str]] = {"relay": RELAY_COMMAND}
    for name in ("alerts", "followups"):
        argv = procfile[name]
        a_index = argv.index("-A") if "-A" in argv else None
        rest = argv[a_index + 2 :] if a_index is not None else argv
        commands[name] = _celery(*rest, "-n", f"{name}@%h")
    argv = procfile["beat"]
    a_index = argv.index("-A") if "-A" in argv else None
    rest = argv[a_index + 2 :] if a_index is not None else argv
    commands["beat"] = _celery(*rest, "--schedule", str(schedule))
    return commands


READY_MARKERS = {"worker": " ready.", "beat": "beat: Starting", "relay": "outbox relay started"}


def celery_start(
    children: Children,
    env: dict[str, str],
    commands: dict[str, list[str]],
    *,
    logs: Path,
    stamp: str,
    shape: str,
) -> dict[str, tuple[subprocess.Popen[bytes], Path]]:
    started: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for name, cmd in commands.items():
        log = logs / f"celery-{shape}-{name}-{stamp}.log"
        started[name] = (children.start(cmd, log=log, env=env), log)
    deadline = time.monotonic() + 90
    for name, (proc, log) in started.items():
        marker = READY_MARKERS[name if name in {"beat", "relay"} else "worker"]
        while True:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited ({proc.returncode}); see {log}")
            if marker in log.read_text(errors="replace"):
                break
            if time.monotonic() > deadline:
                raise BenchError(f"{name} was not ready within 90 s; see {log}")
            time.sleep(0.2)
        if name == "worker" and "--beat" in commands[name]:
            while READY_MARKERS["beat"] not in log.read_text(errors="replace"):
                if time.monotonic() > deadline:
                    raise BenchError(f"the embedded beat did not start within 90 s; see {log}")
                time.sleep(0.2)
    return started


def log_counts(logs: list[Path], offsets: dict[Path, int] | None = None) -> dict[str, Any]:
    """Task outcomes logged by the workers since ``offsets`` (Celery's INFO 'succeeded' lines)."""
    counts: dict[str, int] = {}
    sizes: dict[Path, int] = {}
    for log in logs:
        with log.open("rb") as fh:
            fh.seek((offsets or {}).get(log, 0))
            data = fh.read()
            sizes[log] = fh.tell()
        for raw in data.splitlines():
            line = raw.decode(errors="replace")
            if "succeeded in" in line and ": '" in line:
                task = line.split("Task ", 1)[-1].split("[", 1)[0]
                outcome = line.rsplit(": '", 1)[-1].rstrip("'")
                key = f"{task}:{outcome}"
                counts[key] = counts.get(key, 0) + 1
            elif "followups.outbox_sweep[" in line and "succeeded in" in line:
                # The sweep returns how many due rows it handed over (again).
                handed = line.rsplit(": ", 1)[-1].strip()
                counts["sweeps"] = counts.get("sweeps", 0) + 1
                if handed.isdigit():
                    counts["sweep_handed"] = counts.get("sweep_handed", 0) + int(handed)
            elif " ERROR " in line or "Traceback" in line:
                counts["errors"] = counts.get("errors", 0) + 1
    return {"counts": counts, "offsets": sizes}


# --- what the forms post -------------------------------------------------------------------

USER_AGENT = "Mozilla/5.0 (bench/followups) AppleWebKit/605.1.15 Safari/604.1"
CONSENT_TEXT = (
    "By checking these boxes and submitting this form, I agree that Asana Recovery and its "
    "admissions team may contact me at the email address and phone number I provided, "
    "including by automated calls and text messages, about treatment options and my "
    "insurance benefits. Consent is not a condition of treatment. Message and data rates may "
    "apply; message frequency varies. Reply STOP to opt out of texts at any time."
)
PAYERS = ("Signa", "aetna", "Blue Cross of Texas", "UHC Choice Plus")
AREA_CODES = (949, 714, 657, 562, 310, 213, 626, 818, 909, 951, 760, 619, 858, 415, 510, 408)


def phone(k: int) -> str:
    """A valid US number as people type it, unique per ``k`` < 128M."""
    area = AREA_CODES[k // 8_000_000 % len(AREA_CODES)]
    rest = k % 8_000_000
    return f"({area}) {200 + rest // 10_000}-{rest % 10_000:04d}"


def verification_body(k: int) -> bytes:
    """An insurance verification (JSON, no card), a new person for each ``k``."""
    return json.dumps(
        {
            "first_name": "Jordan",
            "last_name": "Rivera",
            "email": f"fu.{k}@example.org",
            "phone": phone(k),
            "seeking_treatment_for": "self",
            "date_of_birth": "1988-04-12",
            "insurance_provider": PAYERS[k % len(PAYERS)],
            "member_id": f"W{k}",
            "group_number": "0081234",
            "policy_holder_name": "Jordan Rivera",
            "policy_holder_dob": "1988-04-12",
            "relationship_to_policy_holder": "self",
            "state": "CA",
            "treatment_interest": "substance_use",
            "message": "Does my plan cover residential treatment?",
            "consent_email": True,
            "consent_sms": True,
            "consent_calls": True,
            "consent_text": CONSENT_TEXT,
            "website": "",
            "page_url": "https://asanarecovery.com/verify-insurance/",
            "referrer": "https://www.google.com/",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "brand",
            "gclid": f"Cj0-bench-{k}",
        },
        separators=(",", ":"),
    ).encode()


def book_body(k: int) -> bytes:
    """A free-book signup that consented to email: the drip audience."""
    return json.dumps(
        {
            "first_name": "Sam",
            "email": f"book.{k}@example.org",
            "consent_email": True,
            "consent_sms": False,
            "consent_calls": False,
            "consent_text": CONSENT_TEXT,
            "website": "",
            "page_url": "https://asanarecovery.com/free-book/",
        },
        separators=(",", ":"),
    ).encode()


@dataclass
class Posted:
    index: int
    due: float  # when the open-loop schedule wanted it sent (monotonic)
    sent: float  # wall clock, time.time()
    answered: float  # wall clock when the whole response had arrived
    status: int
    reference: str = ""
    error: str = ""


def post_paced(
    port: int, path: str, make_body: Any, *, n: int, rate: float, first_k: int, threads: int = 16
) -> list[Posted]:
    """POST ``n`` bodies at a steady ``rate``/s (open loop: a slow answer does not delay the
    next post's schedule, as real visitors would not wait for each other)."""
    results: list[Posted | None] = [None] * n
    lock = threading.Lock()
    next_index = [0]
    start = time.monotonic() + 0.2
    deadline = start + n / rate + 60

    def run() -> None:
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= n:
                return
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if time.monotonic() > deadline:
                results[i] = Posted(i, due, time.time(), time.time(), 0, error="not sent: late")
                continue
            body = make_body(first_k + i)
            sent = time.time()
            try:
                status, raw = http_request(port, "POST", path, body, timeout=10)
                answered = time.time()
                reference = ""
                if status == 201:
                    reference = str(json.loads(raw).get("reference", ""))
                results[i] = Posted(
                    i,
                    due,
                    sent,
                    answered,
                    status,
                    reference,
                    "" if status == 201 else raw[:300].decode(errors="replace"),
                )
            except (OSError, ValueError) as exc:
                results[i] = Posted(i, due, sent, time.time(), 0, error=type(exc).__name__)

    pool = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 15))
    return [r for r in results if r is not None]


# --- measuring in the database -------------------------------------------------------------


class Db:
    """Read-only queries on the bench database (psycopg, autocommit)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True, connect_timeout=5)

    def close(self) -> None:
        self.conn.close()

    def one(self, query: str, params: Any = None) -> tuple[Any, ...]:
        row = self.conn.execute(query, params).fetchone()
        return tuple(row) if row else ()

    def sessions(self) -> int:
        """Connections ever opened to the bench database (PostgreSQL 14+; flushed within ~1 s)."""
        row = self.one("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(row[0]) if row and row[0] is not None else -1

    def outbox_busy(self) -> int:
        """Messages due now that are not finished yet (pending or being sent)."""
        return int(
            self.one(
                "SELECT count(*) FROM followups_outboxmessage "
                "WHERE (status = 'pending' AND due_at <= now()) OR status = 'sending'"
            )[0]
        )

    def alerts_sent(self, references: list[str]) -> int:
        return int(
            self.one(
                "SELECT count(DISTINCT s.id) FROM leads_submission s "
                "JOIN followups_outboxmessage o ON o.submission_id = s.id "
                "AND o.topic = 'staff_alert' AND o.status = 'sent' "
                "WHERE s.reference = ANY(%s)",
                (references,),
            )[0]
        )

    def timings(self, references: list[str], topic: str, channel: str) -> dict[str, dict[str, Any]]:
        """reference -> received_at, claimed (attempt started), sent_at, status of ``topic``."""
        rows = self.conn.execute(
            "SELECT s.reference, extract(epoch FROM s.received_at), o.status, "
            "extract(epoch FROM o.sent_at), "
            "(SELECT extract(epoch FROM max(a.started_at)) FROM followups_outboxattempt a "
            " WHERE a.message_id = o.id AND a.outcome = 'sent') "
            "FROM leads_submission s JOIN followups_outboxmessage o ON o.submission_id = s.id "
            "WHERE s.reference = ANY(%s) AND o.topic = %s AND o.channel = %s",
            (references, topic, channel),
        ).fetchall()
        out: dict[str, dict[str, Any]] = {}
        for reference, received, status, sent, claimed in rows:
            previous = out.get(reference)
            if previous and (previous["sent"] or 0) >= (float(sent) if sent else 0):
                continue  # several routes: the alert is out when the last of them is
            out[reference] = {
                "received": float(received),
                "status": status,
                "sent": float(sent) if sent is not None else None,
                "claimed": float(claimed) if claimed is not None else None,
            }
        return out

    def backlog_state(self, tag: str) -> dict[str, Any]:
        left, sent, first_sent, last_sent = self.one(
            "SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')), "
            "count(*) FILTER (WHERE status = 'sent'), "
            "extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at)) "
            "FROM followups_outboxmessage WHERE dedupe_key LIKE %s",
            (f"{tag}:%",),
        )
        return {
            "at": time.time(),
            "left": int(left),
            "sent": int(sent),
            "first_sent": float(first_sent) if first_sent is not None else None,
            "last_sent": float(last_sent) if last_sent is not None else None,
        }


# kombu keeps each priority of a Redis queue in its own list: "<queue>" for priority 0, then
# "<queue>\x06\x16<n>" (drips are handed over at priority 9).
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def queue_lengths(client: Any) -> dict[str, int]:
    names = ("alerts", "followups", "default")
    pipe = client.pipeline(transaction=False)
    for name in names:
        for suffix in PRIORITY_SUFFIXES:
            pipe.llen(name + suffix)
    pipe.hlen("unacked")
    *lengths, unacked = pipe.execute()
    step = len(PRIORITY_SUFFIXES)
    sizes = {name: sum(lengths[i * step : (i + 1) * step]) for i, name in enumerate(names)}
    return {**sizes, "unacked": unacked}


def wait_idle(db: Db, client: Any, *, limit_s: float = 120) -> float:
    """Wait until nothing due is unsent and the queues are empty; returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < limit_s:
        if db.outbox_busy() == 0 and not any(queue_lengths(client).values()):
            return time.monotonic() - began
        time.sleep(0.25)
    raise BenchError(f"the outbox did not go idle within {limit_s:.0f} s")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 500 = the 495th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def stats_ms(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p90_ms": round(percentile(values, 90) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
        "min_ms": round(min(values) * 1000, 1),
        "mean_ms": round(sum(values) / len(values) * 1000, 1),
    }


# --- the phases ----------------------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    env: dict[str, str]
    children: Children
    port: int
    db: Db
    redis: Any
    log: Path
    stamp: str
    phase_no: int = 0
    groups: dict[str, int] = field(default_factory=dict)
    worker_logs: list[Path] = field(default_factory=list)

    def next_k(self) -> int:
        self.phase_no += 1
        return self.phase_no * PHASE_STRIDE

    def warm_up(self) -> dict[str, Any]:
        """Book signups (the drip audience) and a few verifications; then wait for quiet."""
        books = post_paced(
            self.port, BOOK_PATH, book_body, n=self.args.books, rate=50, first_k=self.next_k()
        )
        bad = [p for p in books if p.status != 201]
        if bad:
            raise BenchError(
                f"{len(bad)} book signups failed, first: {bad[0].status} {bad[0].error}"
            )
        posts = post_paced(
            self.port, VERIFICATION_PATH, verification_body, n=30, rate=10, first_k=self.next_k()
        )
        bad = [p for p in posts if p.status != 201]
        if bad:
            raise BenchError(
                f"{len(bad)} verifications failed, first: {bad[0].status} {bad[0].error}"
            )
        waited = wait_idle(self.db, self.redis)
        return {
            "book_signups": len(books),
            "verifications": len(posts),
            "idle_after_s": round(waited, 1),
        }

    def latency_phase(self, label: str, *, during_backlog: str | None = None) -> dict[str, Any]:
        """Post ``--posts`` verifications at ``--rate``/s; time each 201 to its alert sent."""
        meter = CpuMeter(self.groups)
        offsets = log_counts(self.worker_logs)["offsets"]
        samples: list[tuple[float, dict[str, int]]] = []
        stop = threading.Event()
        sampler_redis = redis_client(self.args.redis_url)

        def sample() -> None:
            while not stop.is_set():
                with contextlib.suppress(Exception):
                    samples.append((time.time(), queue_lengths(sampler_redis)))
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        quiet = {} if during_backlog else self.quiet()
        backlog_at_start = self.db.backlog_state(during_backlog) if during_backlog else None
        meter.begin()
        posts = post_paced(
            self.port,
            VERIFICATION_PATH,
            verification_body,
            n=self.args.posts,
            rate=self.args.rate,
            first_k=self.next_k(),
        )
        posted_until = time.time()
        backlog_at_last_post = self.db.backlog_state(during_backlog) if during_backlog else None
        ok = [p for p in posts if p.status == 201 and p.reference]
        references = [p.reference for p in ok]
        deadline = time.monotonic() + ALERT_WAIT_S
        while self.db.alerts_sent(references) < len(references) and time.monotonic() < deadline:
            time.sleep(0.25)
        cpu = meter.end()
        alerts_done = time.time()
        backlog_at_alerts_done = self.db.backlog_state(during_backlog) if during_backlog else None
        stop.set()
        sampler.join(timeout=2)
        sampler_redis.close()
        timings = self.db.timings(references, "staff_alert", "email")
        from_201, from_received, request, queue_wait, send = [], [], [], [], []
        # Per post, in order: [s after the first post, 201 -> alert sent ms, 201 -> claim ms].
        series: list[list[float]] = []
        missing = 0
        t0 = posts[0].sent if posts else 0.0
        for p in ok:
            t = timings.get(p.reference)
            if not t or t["sent"] is None:
                missing += 1
                continue
            series.append(
                [
                    round(p.sent - t0, 3),
                    round((t["sent"] - p.answered) * 1000, 1),
                    round((t["claimed"] - p.answered) * 1000, 1) if t["claimed"] else -1.0,
                ]
            )
            from_201.append(t["sent"] - p.answered)
            from_received.append(t["sent"] - t["received"])
            request.append(p.answered - t["received"])
            if t["claimed"] is not None:
                queue_wait.append(t["claimed"] - p.answered)
                send.append(t["sent"] - t["claimed"])
        lateness = [max(0.0, (p.sent - posts[0].sent) - (p.due - posts[0].due)) for p in posts]
        span = (posts[-1].sent - posts[0].sent) if len(posts) > 1 else 0.0
        statuses: dict[str, int] = {}
        for p in posts:
            statuses[str(p.status)] = statuses.get(str(p.status), 0) + 1
        counts = log_counts(self.worker_logs, offsets)["counts"]
        max_queued = {
            name: max((s[1][name] for s in samples), default=0)
            for name in ("alerts", "followups", "unacked")
        }
        result: dict[str, Any] = {
            "label": label,
            "posts": len(posts),
            "ok": len(ok),
            "statuses": statuses,
            "first_error": next((p.error for p in posts if p.status != 201), ""),
            "offered_rate": self.args.rate,
            "achieved_rate": round((len(posts) - 1) / span, 1) if span > 0 else None,
            "client_max_lateness_ms": round(max(lateness, default=0) * 1000, 1),
            "alerts_missing": missing,
            "alert_from_201": stats_ms(from_201),
            "alert_from_received_at": stats_ms(from_received),
            "request_received_to_201": stats_ms(request),
            "broker_wait_201_to_claim": stats_ms(queue_wait),
            "claim_to_sent": stats_ms(send),
            "alerts_done_after_last_post_s": round(alerts_done - posted_until, 2),
            "max_queued_during_phase": max_queued,
            "worker_task_outcomes": counts,
            "cpu": cpu,
            "quiet_before": quiet,
            "noisy": cpu["others_share"] > NOISY_SHARE,
            "alert_series": series,
        }
        if during_backlog:
            result["backlog_at_first_post"] = backlog_at_start
            result["backlog_at_last_post"] = backlog_at_last_post
            result["backlog_at_alerts_done"] = backlog_at_alerts_done
            result["queue_samples"] = [
                [round(t, 2), q["followups"], q["alerts"], q["unacked"]] for t, q in samples
            ]
        result["_references"] = references
        return result

    def backlog_phase(self, shape: str, *, full_drain: bool) -> dict[str, Any]:
        """(2): 10,000 drips due now on followups, handed over; 500 posts while they drain."""
        tag = f"bench-backlog-{shape}"
        quiet = self.quiet()
        offsets = log_counts(self.worker_logs)["offsets"]
        meter = CpuMeter(self.groups)
        meter.begin()
        handed = djtool(
            self.env,
            "backlog",
            "--n",
            str(self.args.backlog),
            "--tag",
            tag,
            "--queue",
            self.args.backlog_queue,
            log=self.log,
        )
        print(
            f"    {handed['created']} drips planned in {handed['create_s']:.1f} s, handed over in "
            f"{handed['hand_over_s']:.1f} s ({handed['hand_over_per_s']:.0f}/s); "
            f"queued now: {queue_lengths(self.redis)['followups']}",
            flush=True,
        )
        latency = self.latency_phase(
            f"{shape}: during a {self.args.backlog}-drip backlog", during_backlog=tag
        )
        # Let the rest drain, bounded, to measure the drain and the confirmations behind it
        # (the first shape only: the drain takes minutes and the next shape drains the same).
        began = time.monotonic()
        state = self.db.backlog_state(tag)
        while full_drain and state["left"] and time.monotonic() - began < DRAIN_WAIT_S:
            time.sleep(0.5)
            state = self.db.backlog_state(tag)
        gave_up_at = time.time()
        # Tasks still queued once every drip is out: the sweep's re-hand-overs of rows that
        # waited in the queue longer than OUTBOX_REHAND_SECONDS (they will find nothing to do).
        queued_after = queue_lengths(self.redis)[self.args.backlog_queue]
        references = latency["_references"]
        if full_drain:
            # The confirmations of the posts made meanwhile queued behind the drips: wait for
            # them too (bounded), to say how long a person waited for theirs.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                sent = self.db.timings(references, "confirmation", "email")
                if sum(1 for t in sent.values() if t["sent"]) >= len(references):
                    break
                time.sleep(0.5)
        cpu = meter.end()
        hand_over_started = handed["hand_over_done_at"] - handed["hand_over_s"]
        drained = state["left"] == 0 and state["last_sent"] is not None
        drain_s = (state["last_sent"] - hand_over_started) if drained else None
        partial_rate = (
            round(state["sent"] / (gave_up_at - hand_over_started), 1) if not drained else None
        )
        confirmations = self.db.timings(references, "confirmation", "email")
        conf_lat = [t["sent"] - t["received"] for t in confirmations.values() if t["sent"]]
        counts = log_counts(self.worker_logs, offsets)["counts"]
        return {
            "tag": tag,
            "quiet_before": quiet,
            "hand_over": handed,
            "drained": drained,
            "left_when_given_up": state["left"],
            "drain_s": round(drain_s, 1) if drain_s else None,
            "drain_per_s": round(state["sent"] / drain_s, 1) if drain_s else None,
            "partial_drain_per_s": partial_rate,
            "drips_per_s_while_posting": _window_rate(latency),
            "queued_after_last_drip": queued_after,
            "queue": self.args.backlog_queue,
            "latency": latency,
            "confirmation_email_from_received_at": stats_ms(conf_lat),
            "worker_task_outcomes": counts,
            "cpu": cpu,
        }

    def quiet(self) -> dict[str, Any]:
        """Before a measured phase: wait (bounded) while other processes use the CPU."""
        return wait_for_quiet(max(5, self.args.wait_quiet // 4), threshold=0.8)

    def throughput_phase(self, shape: str) -> dict[str, Any]:
        """(3): outbox deliveries vs no-op tasks on followups, same worker: noop, outbox, noop."""
        runs = []
        for i, kind in enumerate(("noop", "outbox", "noop")):
            wait_idle(self.db, self.redis)
            quiet = self.quiet()
            meter = CpuMeter(self.groups)
            offsets = log_counts(self.worker_logs)["offsets"]
            sessions0 = self.db.sessions()
            meter.begin()
            result = djtool(
                self.env,
                "throughput",
                "--kind",
                kind,
                "--n",
                str(self.args.tput_n),
                "--tag",
                f"bench-tput-{shape}-{i}",
                log=self.log,
            )
            result["cpu"] = meter.end()
            result["quiet_before"] = quiet
            result["noisy"] = result["cpu"]["others_share"] > NOISY_SHARE
            time.sleep(1.2)  # backends flush their statistics at most once a second
            # Less the djtool process's own connection (one) and this process's (none new).
            opened = self.db.sessions() - sessions0 - 1
            result["pg_connections_opened_per_message"] = round(opened / self.args.tput_n, 3)
            result["worker_task_outcomes"] = log_counts(self.worker_logs, offsets)["counts"]
            worker_cpu = sum(result["cpu"].get(name, 0.0) for name in self.groups if name != "web")
            result["worker_cpu_ms_per_message"] = round(worker_cpu * 1000 / self.args.tput_n, 3)
            result["postgres_cpu_ms_per_message"] = round(
                result["cpu"]["postgres"] * 1000 / self.args.tput_n, 3
            )
            result["postgres_exited_backends_cpu_ms_per_message"] = round(
                result["cpu"]["postgres_exited_backends_all_dbs"] * 1000 / self.args.tput_n, 3
            )
            print(
                f"    {kind:<6} {result['n']} messages: "
                + (
                    f"{result['per_s']:.0f}/s in {result['seconds']:.2f} s (consuming began "
                    f"{result.get('consume_started_after_s')} s after add_consumer)"
                    if result.get("drained") and result.get("per_s")
                    else f"NOT MEASURED ({result})"
                )
                + f"; worker CPU {result['worker_cpu_ms_per_message']:.2f} ms/msg, "
                f"postgres {result['postgres_cpu_ms_per_message']:.2f} ms/msg; PostgreSQL "
                f"connections opened per message {result['pg_connections_opened_per_message']}",
                flush=True,
            )
            runs.append(result)
        noop = [r["per_s"] for r in runs if r["kind"] == "noop" and r.get("per_s")]
        outbox = [r["per_s"] for r in runs if r["kind"] == "outbox" and r.get("per_s")]
        noop_mean = sum(noop) / len(noop) if noop else None
        return {
            "runs": runs,
            "noop_per_s_mean": round(noop_mean, 1) if noop_mean else None,
            "outbox_per_s": outbox[0] if outbox else None,
            "ratio": round(outbox[0] / noop_mean, 3) if outbox and noop_mean else None,
            "noop_spread": round(abs(noop[0] - noop[-1]) / noop_mean, 3)
            if len(noop) > 1 and noop_mean
            else None,
        }


def _window_rate(latency: dict[str, Any]) -> float | None:
    """Drips delivered per second between the first post and the last alert sent."""
    first, last = latency.get("backlog_at_first_post"), latency.get("backlog_at_alerts_done")
    if not first or not last or last["at"] <= first["at"]:
        return None
    return round((last["sent"] - first["sent"]) / (last["at"] - first["at"]), 1)


def print_latency(label: str, r: dict[str, Any]) -> None:
    a = r["alert_from_201"]
    if not a.get("n"):
        print(f"    {label}: no alert measured ({r['alerts_missing']} missing)")
        return
    print(
        f"    {label}: {r['ok']}/{r['posts']} answered 201 at {r['achieved_rate']}/s; alert sent "
        f"after the 201: p50 {a['p50_ms']:.0f} ms, p99 {a['p99_ms']:.0f} ms, max "
        f"{a['max_ms']:.0f} ms; missing {r['alerts_missing']}; worker outcomes "
        f"{r['worker_task_outcomes']}",
        flush=True,
    )


def cancel_backlogs(bench: Bench) -> None:
    """End whatever is still queued or due (a partly drained backlog) before the next phase."""
    bench.db.conn.execute(
        "UPDATE followups_outboxmessage SET status = 'cancelled' "
        "WHERE status IN ('pending', 'sending') AND due_at <= now()"
    )
    for name in ("alerts", "followups", "default"):
        bench.redis.delete(name)
    wait_idle(bench.db, bench.redis, limit_s=60)


def use_processes(bench: Bench, procs: dict[str, tuple[subprocess.Popen[bytes], Path]]) -> None:
    """Account CPU and read task outcomes for these Celery processes from now on."""
    bench.groups = {"web": bench.groups["web"]}
    bench.groups.update({f"celery_{name}": proc.pid for name, (proc, _) in procs.items()})
    bench.worker_logs = [log for name, (_, log) in procs.items() if name != "beat"]


def probe(env: dict[str, str], *, n: int, log: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "probe.py"), "--n", str(n)]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    with log.open("a") as out:
        out.write(f"\n$ {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}")
    for line in proc.stdout.splitlines():
        if line.startswith("PROBE_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("PROBE_RESULT "))
            return result
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
    raise BenchError(f"probe.py failed ({proc.returncode}):\n{tail}")


def run_shape(bench: Bench, shape: str, commands: dict[str, list[str]]) -> dict[str, Any]:
    logs = RESULTS
    procs = celery_start(
        bench.children, bench.env, commands, logs=logs, stamp=bench.stamp, shape=shape
    )
    use_processes(bench, procs)
    out: dict[str, Any] = {
        "commands": {
            name: shlex.join([os.path.relpath(cmd[0], ROOT), *cmd[1:]])
            for name, cmd in commands.items()
        },
    }
    try:
        print(f"  [{shape}] warm-up: {bench.args.books} book signups + 30 verifications")
        out["warm_up"] = bench.warm_up()
        if shape == bench.args.shapes[0] and bench.args.probe_n:
            print(f"  [{shape}] in-process probe: {bench.args.probe_n} deliveries, no broker")
            out["probe"] = probe(bench.env, n=bench.args.probe_n, log=bench.log)
            pr = out["probe"]
            print(
                f"    {pr['statements_per_delivery']} SQL statements per delivery; "
                f"{pr['kept_connection_ms_median']:.1f} ms per delivery on a kept connection, "
                f"{pr['fresh_connection_ms_median']:.1f} ms with a new connection each "
                f"(as the Celery fixup does); db {pr['share_db']:.0%}, render "
                f"{pr['share_render']:.0%}, send {pr['share_send']:.0%}",
                flush=True,
            )
            wait_idle(bench.db, bench.redis)
        print(f"  [{shape}] (1) {bench.args.posts} verifications at {bench.args.rate}/s, idle")
        out["idle"] = bench.latency_phase(f"{shape}: idle")
        print_latency("idle", out["idle"])
        wait_idle(bench.db, bench.redis)
        print(f"  [{shape}] (2) {bench.args.backlog} drips due now, then {bench.args.posts} posts")
        full = shape == bench.args.shapes[0]
        out["backlog"] = bench.backlog_phase(shape, full_drain=full)
        print_latency("backlog", out["backlog"]["latency"])
        b = out["backlog"]
        print(
            f"    backlog: drained {b['drained']} in {b['drain_s']} s ({b['drain_per_s']}/s; "
            f"partial rate {b['partial_drain_per_s']}/s); "
            f"left at the last post {b['latency']['backlog_at_last_post']['left']}, when the "
            f"last alert was out {b['latency']['backlog_at_alerts_done']['left']}; "
            f"confirmations behind it: p50 "
            f"{b['confirmation_email_from_received_at'].get('p50_ms')} ms, max "
            f"{b['confirmation_email_from_received_at'].get('max_ms')} ms",
            flush=True,
        )
        cancel_backlogs(bench)
        if shape == "A" and bench.args.tput_n:
            print(f"  [{shape}] (3) throughput on followups, {bench.args.tput_n} messages each")
            out["throughput"] = bench.throughput_phase(shape)
        for name, (proc, log) in procs.items():
            if proc.poll() is not None:
                raise BenchError(f"{name} died during the run; see {log}")
        whatif_tput = bool(bench.args.tput_n and bench.args.whatif)
        if shape == "A" and (whatif_tput or bench.args.whatif_latency):
            for proc, _log in procs.values():
                bench.children.stop(proc)
            env = {**bench.env, "BENCH_WORKER_DB_CLOSE": "1"}
            print(
                f"  [{shape}] what if the worker closed its PostgreSQL connection after every "
                "task (BENCH_WORKER_DB_CLOSE=1, bench-only: Celery's default)"
            )
            procs = celery_start(
                bench.children,
                env,
                commands,
                logs=RESULTS,
                stamp=bench.stamp,
                shape=f"{shape}-db-close",
            )
            use_processes(bench, procs)
            if whatif_tput:
                out["throughput_db_close"] = bench.throughput_phase(f"{shape}-db-close")
            if bench.args.whatif_latency:
                wait_idle(bench.db, bench.redis)
                idle = bench.latency_phase(f"{shape}-db-close: idle")
                print_latency("idle (db close)", idle)
                wait_idle(bench.db, bench.redis)
                backlog = bench.backlog_phase(f"{shape}-db-close", full_drain=False)
                print_latency("backlog (db close)", backlog["latency"])
                cancel_backlogs(bench)
                idle.pop("_references", None)
                backlog["latency"].pop("_references", None)
                out["latency_db_close"] = {"idle": idle, "backlog": backlog}
    finally:
        for proc, _log in procs.values():
            bench.children.stop(proc)
        with contextlib.suppress(Exception):
            bench.redis.flushdb()  # nothing of this shape may leak into the next
    for phase in ("idle",):
        out[phase].pop("_references", None)
    out["backlog"]["latency"].pop("_references", None)
    return out


# --- verdicts and report -------------------------------------------------------------------


def _unchanged(idle: dict[str, Any], loaded: dict[str, Any]) -> bool:
    for key in ("p50_ms", "p99_ms"):
        base, now = idle.get(key), loaded.get(key)
        if base is None or now is None:
            return False
        if now > max(base * ISOLATION_FACTOR, base + ISOLATION_SLACK_MS):
            return False
    return True


def shape_verdict(shape: dict[str, Any]) -> dict[str, Any]:
    idle, backlog = shape["idle"], shape["backlog"]["latency"]
    ia, ba = idle["alert_from_201"], backlog["alert_from_201"]
    valid = (
        idle["ok"] == idle["posts"]
        and backlog["ok"] == backlog["posts"]
        and not idle["alerts_missing"]
        and not backlog["alerts_missing"]
    )
    overlapped = bool(
        backlog.get("backlog_at_alerts_done") and backlog["backlog_at_alerts_done"]["left"] > 0
    )
    p99_idle_ok = bool(ia.get("n")) and ia["p99_ms"] < TARGET_P99_MS and not idle["alerts_missing"]
    p99_backlog_ok = (
        bool(ba.get("n")) and ba["p99_ms"] < TARGET_P99_MS and not backlog["alerts_missing"]
    )
    unchanged = bool(ia.get("n") and ba.get("n")) and _unchanged(ia, ba)
    return {
        "valid": valid,
        "backlog_still_draining_when_last_alert_sent": overlapped,
        "p99_under_2s_idle": p99_idle_ok,
        "p99_under_2s_during_backlog": p99_backlog_ok,
        "unchanged_during_backlog": unchanged and p99_backlog_ok and overlapped,
        "p99_ratio_backlog_to_idle": round(ba["p99_ms"] / ia["p99_ms"], 2)
        if ia.get("p99_ms") and ba.get("p99_ms")
        else None,
        "p50_ratio_backlog_to_idle": round(ba["p50_ms"] / ia["p50_ms"], 2)
        if ia.get("p50_ms") and ba.get("p50_ms")
        else None,
    }


def _print_latency_table(result: dict[str, Any]) -> None:
    print(
        f"\n== alert latency: 201 at the client -> staff alert marked sent "
        f"({result['config']['posts']} verifications at {result['config']['rate']}/s)"
    )
    header = (
        f"  {'shape / phase':<30} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'broker p99':>10} {'201 p99':>8} {'missing':>7} {'CPU busy':>8} {'others':>6}"
    )
    print(header)
    for shape, data in result["shapes"].items():
        backlog_label = f"{result['config']['backlog']} drips queued"
        rows = [
            (f"{shape}: idle", data["idle"]),
            (f"{shape}: {backlog_label}", data["backlog"]["latency"]),
        ]
        if "latency_db_close" in data:
            closing = data["latency_db_close"]
            rows += [
                (f"{shape}+close: idle", closing["idle"]),
                (f"{shape}+close: {backlog_label}", closing["backlog"]["latency"]),
            ]
        for label, r in rows:
            a = r["alert_from_201"]
            if not a.get("n"):
                print(f"  {label:<30} (no alert measured)")
                continue
            print(
                f"  {label:<30} {a['p50_ms']:>7.0f} {a['p99_ms']:>7.0f} {a['max_ms']:>7.0f} "
                f"{r['broker_wait_201_to_claim'].get('p99_ms', 0):>10.0f} "
                f"{r['request_received_to_201'].get('p99_ms', 0):>8.0f} {r['alerts_missing']:>7} "
                f"{r['cpu']['machine_busy']:>8.0%} {r['cpu']['others_share']:>6.0%}"
                + (" NOISY" if r["cpu"]["others_share"] > NOISY_SHARE else "")
            )
    print(
        "  (broker p99: 201 -> the worker claiming the alert row; 201 p99: received_at -> 201;\n"
        "   CPU busy: the whole machine during the phase; others: processes not of this bench,\n"
        f"   NOISY: they used more than {NOISY_SHARE:.0%} of the machine: read that row with care)"
    )


def print_report(result: dict[str, Any]) -> None:
    m = result["machine"]
    print("\n== machine")
    print(f"  nproc {m['nproc']}, CPU {m['cpu_model']}, memory {m['memory_gib']} GiB")
    print(
        f"  kernel {m['kernel']}, Python {m['python']}, PostgreSQL {m.get('postgres')}, "
        f"{m['redis']}"
    )
    print(
        f"  load average at start {m['loadavg_at_start']}, at end {m.get('loadavg_at_end')}; "
        f"CPU idle before the load {m.get('cpu_idle_before_load', 0):.0%}"
    )
    for warning in result.get("warnings", []):
        print(f"  WARNING: {warning}")
    print("\n== commands")
    print(f"  {result['command']}")
    print(f"  web: {result['gunicorn_command']}")
    for shape, data in result["shapes"].items():
        for name, cmd in data["commands"].items():
            print(f"  shape {shape} {name}: {cmd}")
    _print_latency_table(result)
    print("\n== backlog drain")
    for shape, data in result["shapes"].items():
        b = data["backlog"]
        c = b["confirmation_email_from_received_at"]
        drain = (
            f"drained in {b['drain_s']} s ({b['drain_per_s']}/s)"
            if b["drained"]
            else "drain not waited for"
        )
        drain += f", {b['drips_per_s_while_posting']} drips/s while the posts ran"
        outcomes = b["worker_task_outcomes"]
        print(
            f"  {shape}: {result['config']['backlog']} drips on {b['queue']} handed over in "
            f"{b['hand_over']['hand_over_s']:.1f} s, {drain}; confirmations of the posts made "
            f"meanwhile: p50 {c.get('p50_ms')} ms, max {c.get('max_ms')} ms after received_at "
            f"({c.get('n', 0)} sent); the sweep handed over again "
            f"{outcomes.get('sweep_handed', 0)} rows still queued (OUTBOX_REHAND_SECONDS), "
            f"{b['queued_after_last_drip']} tasks left queued after the last drip"
        )
    probe_result = next((d["probe"] for d in result["shapes"].values() if "probe" in d), None)
    if probe_result:
        pr = probe_result
        print("\n== one delivery, in-process (no broker, no worker)")
        kept, fresh = pr["kept_connection_ms_median"], pr["fresh_connection_ms_median"]
        print(
            f"  {pr['statements_per_delivery']} SQL statements; {kept:.1f} ms median on a kept "
            f"connection, {fresh:.1f} ms with a new connection each; database "
            f"{pr['ms_db']:.1f} ms, render {pr['ms_render']:.1f} ms, email backend "
            f"{pr['ms_send']:.1f} ms"
        )
        print(f"  statement medians (ms): {pr['statement_ms_median']}")
    for key, title in (
        ("throughput", "worker throughput on followups (shape A worker, same broker, settings)"),
        ("throughput_db_close", "the same, what if the worker closed its connection per task"),
    ):
        tput = result["shapes"].get("A", {}).get(key)
        if not tput:
            continue
        print(f"\n== {title}")
        for run in tput["runs"]:
            print(
                f"  {run['kind']:<7} {run['n']:>6} messages  {run.get('per_s') or 0:>8.1f}/s  "
                f"CPU ms/msg: worker {run['worker_cpu_ms_per_message']:.2f}, postgres "
                f"{run['postgres_cpu_ms_per_message']:.2f} + exited backends "
                f"{run['postgres_exited_backends_cpu_ms_per_message']:.2f}; new PostgreSQL "
                f"connections {run.get('pg_connections_opened_per_message')}/msg"
                + (f"  NOISY (others {run['cpu']['others_share']:.0%})" if run.get("noisy") else "")
            )
        print(
            f"  ratio outbox / no-op: {tput['ratio']} (no-op runs differ by {tput['noop_spread']})"
        )
    print("\n== targets")
    for shape, v in result["verdicts"].items():
        print(
            f"  shape {shape}: p99 < 2 s idle {'ok' if v['p99_under_2s_idle'] else 'MISSED'}; "
            f"during the backlog {'ok' if v['p99_under_2s_during_backlog'] else 'MISSED'}; "
            f"unchanged by the backlog {'yes' if v['unchanged_during_backlog'] else 'NO'} "
            f"(p50 x{v['p50_ratio_backlog_to_idle']}, "
            f"p99 x{v['p99_ratio_backlog_to_idle']}; backlog still draining at the last alert: "
            f"{v['backlog_still_draining_when_last_alert_sent']}); "
            f"{'valid' if v['valid'] else 'INVALID'}"
        )
    print(f"\n  results: {result['results_file']}")


# --- main ----------------------------------------------------------------------------------


def run_shapes(
    bench: Bench,
    result: dict[str, Any],
    *,
    schedule_dir: Path,
    gunicorn: subprocess.Popen[bytes],
) -> int:
    """Each shape in turn; fills ``result``; returns the exit status."""
    args = bench.args
    shapes = {
        "A": (
            "make run: one worker process, all queues, embedded beat",
            shape_a_commands(schedule_dir / "beat-a"),
        ),
        "B": (
            "Procfile: alerts worker, followups worker, separate beat",
            shape_b_commands(schedule_dir / "beat-b"),
        ),
    }
    for shape in args.shapes:
        title, commands = shapes[shape]
        print(f"== shape {shape}: {title}")
        result["shapes"][shape] = {"title": title, **run_shape(bench, shape, commands)}
        result["verdicts"][shape] = shape_verdict(result["shapes"][shape])
        cancel_backlogs(bench)  # nothing of one shape may be pending when the next starts
    if gunicorn.poll() is not None:
        raise BenchError("gunicorn died during the run")
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    valid = all(v["valid"] for v in result["verdicts"].values())
    first = result["verdicts"].get(args.shapes[0], {})
    met = valid and first.get("p99_under_2s_idle") and first.get("unchanged_during_backlog")
    result["targets_met_by_first_shape"] = bool(met)
    return 0 if met else (1 if valid else 2)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=500, help="verifications per latency phase")
    parser.add_argument("--rate", type=float, default=20.0, help="posts per second (open loop)")
    parser.add_argument("--backlog", type=int, default=10_000, help="drips in the backlog")
    parser.add_argument("--tput-n", type=int, default=3000, help="messages per throughput run")
    parser.add_argument("--books", type=int, default=200, help="book signups (drip audience)")
    parser.add_argument(
        "--backlog-queue",
        choices=("followups", "default"),
        default="followups",
        help="queue of the drip backlog: followups (the issue's case) or default (what if "
        "drips had a queue of their own, apart from confirmations)",
    )
    parser.add_argument("--probe-n", type=int, default=200, help="in-process deliveries (0: no)")
    parser.add_argument(
        "--whatif-latency",
        action="store_true",
        help="shape A: also measure (1) and (2) with the worker closing its PostgreSQL connection "
        "after every task (Celery's default)",
    )
    parser.add_argument(
        "--no-whatif",
        dest="whatif",
        action="store_false",
        help="skip the throughput re-run with the worker closing its connection after every task",
    )
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--shapes", default="A,B", help="A (make run), B (Procfile), or both")
    parser.add_argument("--db-name", default=DB_NAME_PREFIX)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_FOLLOWUPS_REDIS_URL", "redis://127.0.0.1:6379/14"),
    )
    parser.add_argument(
        "--wait-quiet", type=int, default=120, help="wait up to this for a quiet CPU"
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if not 10 <= args.posts <= 2000 or not 1 <= args.rate <= 100:
        parser.error("--posts 10..2000, --rate 1..100 /s (bounded load)")
    if not 100 <= args.backlog <= 50_000 or not 0 <= args.tput_n <= 20_000:
        parser.error("--backlog 100..50000, --tput-n 0..20000")
    if not 0 <= args.probe_n <= 2000:
        parser.error("--probe-n 0..2000")
    if not 10 <= args.books <= 2000 or not 1 <= args.web_workers <= 8:
        parser.error("--books 10..2000, --web-workers 1..8")
    args.shapes = [s.strip().upper() for s in args.shapes.split(",") if s.strip()]
    if not args.shapes or set(args.shapes) - {"A", "B"}:
        parser.error("--shapes: A, B or A,B")
    if not args.db_name.startswith(DB_NAME_PREFIX) or not args.db_name.replace("_", "").isalnum():
        parser.error(f"--db-name must start with {DB_NAME_PREFIX} (it is dropped)")
    return args


def main() -> int:
    args = parse_args()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    _check_loopback(args.pg_admin_url, "PostgreSQL")
    _check_loopback(args.redis_url, "Redis")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    log = RESULTS / f"run-{stamp}.log"
    database_url = urlsplit(args.pg_admin_url)._replace(path=f"/{args.db_name}").geturl()
    var_dir = tempfile.mkdtemp(prefix="asana-leads-bench-followups-")
    env = bench_env(database_url=database_url, redis_url=args.redis_url, var_dir=var_dir)
    children = Children()
    command = shlex.join(
        [os.path.relpath(sys.executable, ROOT), os.path.relpath(__file__, ROOT), *sys.argv[1:]]
    )
    result: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "command": command,
        "machine": machine(),
        "git": git_state(),
        "settings": {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DJANGO_DEBUG": "false",
            "API_THROTTLE": "off",
            "DATABASE_URL": database_url,
            "REDIS_URL": args.redis_url,
            "EMAIL_BACKEND": env["EMAIL_BACKEND"],
            "SMS_BACKEND": env["SMS_BACKEND"],
            "OUTBOX_SWEEP_SECONDS": env["OUTBOX_SWEEP_SECONDS"],
        },
        "config": {
            "posts": args.posts,
            "rate": args.rate,
            "backlog": args.backlog,
            "tput_n": args.tput_n,
            "books": args.books,
            "web_workers": args.web_workers,
            "shapes": args.shapes,
            "backlog_queue": args.backlog_queue,
            "isolation_rule": (
                f"p50 and p99 during the backlog <= max({ISOLATION_FACTOR} x idle, idle + "
                f"{ISOLATION_SLACK_MS:.0f} ms), p99 < 2 s, backlog still draining at the last alert"
            ),
        },
        "shapes": {},
        "verdicts": {},
    }
    created_db = False
    db: Db | None = None
    client = None
    code = 2
    try:
        BENCH_DB_MARK[0] = f" {args.db_name} "
        print(f"== setup: database {args.db_name}, Redis {args.redis_url}, log {log}")
        result["machine"]["postgres"] = database_recreate(
            args.pg_admin_url, args.db_name, create=True
        )
        created_db = True
        redis_flush(args.redis_url)
        client = redis_client(args.redis_url)
        manage(env, "check", log=log, timeout=120)
        manage(env, "migrate", "--noinput", log=log)
        manage(env, "seed_payers", log=log, timeout=120)
        db = Db(database_url)
        port = free_port()
        gunicorn, gunicorn_cmd = gunicorn_start(
            children, env, port=port, workers=args.web_workers, log=log
        )
        result["gunicorn_command"] = shlex.join(
            [os.path.relpath(gunicorn_cmd[0], ROOT), *gunicorn_cmd[1:]]
        )
        print(f"== gunicorn on 127.0.0.1:{port}, {args.web_workers} sync workers")
        result["machine"].update(wait_for_quiet(args.wait_quiet))
        if result["machine"]["cpu_idle_before_load"] < 0.85:
            result.setdefault("warnings", []).append("other processes were using the CPU")
        bench = Bench(
            args=args,
            env=env,
            children=children,
            port=port,
            db=db,
            redis=client,
            log=log,
            stamp=stamp,
            groups={"web": gunicorn.pid},
        )
        code = run_shapes(bench, result, schedule_dir=Path(var_dir), gunicorn=gunicorn)
    except BenchError as exc:
        result["error"] = str(exc)
        print(f"\nBENCH FAILED: {exc}")
    except Exception as exc:  # noqa: BLE001 - record it, clean up, exit 2
        result["error"] = f"{type(exc).__name__}: {exc}"
        print(f"\nBENCH FAILED: {type(exc).__name__}: {exc}")
    except KeyboardInterrupt as exc:
        result["error"] = f"interrupted ({exc})"
        print(f"\ninterrupted ({exc}); cleaning up")
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()
        if db is not None:
            db.close()
        if client is not None:
            client.close()
        if created_db and not args.keep_db:
            try:
                database_recreate(args.pg_admin_url, args.db_name, create=False)
            except Exception as exc:  # noqa: BLE001
                print(f"  could not drop {args.db_name}: {exc}")
        redis_flush(args.redis_url)
        shutil.rmtree(var_dir, ignore_errors=True)
        result["results_file"] = str((RESULTS / "latest.json").relative_to(ROOT))
        text = json.dumps(result, indent=2, default=str)
        (RESULTS / "latest.json").write_text(text)
        (RESULTS / f"followups-{stamp}.json").write_text(text)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if result["verdicts"]:
        print_report(result)
    return code


if __name__ == "__main__":
    sys.exit(main())
