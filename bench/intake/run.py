#!/usr/bin/env python
"""Intake API benchmark (issue 3, section 4): ``.venv/bin/python bench/intake/run.py``.

One run, everything on this machine's loopback:

1. drops and recreates the PostgreSQL database ``asana_leads_bench`` (127.0.0.1:5432), migrates
   it with the bench settings (the project plus a bench-only baseline app) and seeds the payers;
2. counts the SQL statements and PostgreSQL round trips of one post per target (queries.py);
3. starts gunicorn, 4 sync workers, on a free 127.0.0.1 port, serving ``asana_leads.wsgi``
   with ``bench.intake.settings_bench``;
4. drives it with wrk, 2 threads x 16 connections, each post a new person, in this order:
   (a) the baseline view (parse JSON, insert one row), (b) POST /api/v1/contact-requests/,
   (c) POST /api/v1/insurance-verifications/ (JSON, no card), (a) again; each run is a
   warm-up (discarded) then a measured run;
5. prints req/s, p50, p99 per target, the ratios of (b) and (c) to the mean of the two
   baseline runs, and whether the targets hold ((b), (c) >= 0.4 of (a); p99 < 40 ms); a run
   with any non-2xx answer or socket error is INVALID, not fast. For each run it also prints
   the CPU spent per request by gunicorn, PostgreSQL and wrk, and the share of the machine
   that other processes took (over 10%: NOISY; this machine is shared);
6. runs each target once more at 1 connection (supplementary: latency without queueing);
7. writes bench/intake/results/latest.json (and a timestamped copy), stops gunicorn, drops the
   database and empties its Redis database.

Before loading it waits (up to --wait-quiet seconds) for other processes to leave the CPU idle.

Exit status: 0 targets met, 1 a target missed, 2 an invalid run or a setup failure.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
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
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LUA = HERE / "post_json.lua"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.intake import bodies  # noqa: E402

TARGET_RATIO = 0.4
TARGET_P99_MS = 40.0
NOISY_SHARE = 0.10  # other processes used more than this share of the machine during a run
LOOPBACK = ("127.0.0.1", "localhost", "::1")
DB_NAME_PREFIX = "asana_leads_bench"
RUN_STRIDE = 1_000_000  # sequence numbers per wrk run (threads x 400k stride fit below it)
SETTINGS_MODULE = "bench.intake.settings_bench"
MAX_SECONDS = 120  # per wrk run: keeps the whole bench bounded
MAX_WAIT_QUIET = 900

# The order of the issue: (a), (b), (c), then (a) again (the machine is shared and noisy).
SEQUENCE = ("baseline", "contact", "verification", "baseline")
# --floors: the floors run between (c) and the second (a), inside the same pair of baselines.
SEQUENCE_WITH_FLOORS = ("baseline", "contact", "verification", *bodies.FLOORS, "baseline")
LABELS = {
    "baseline": "(a) baseline: bare Django view, JSON parse + 1 INSERT",
    "contact": "(b) POST /api/v1/contact-requests/",
    "verification": "(c) POST /api/v1/insurance-verifications/ (JSON, no card)",
    "floor_drf": "floor: DRF parses the contact body, answers 201",
    "floor_validate": "floor: + the contact contract validated, no storage",
    "floor_one_statement": "floor: + stored as a new person in ONE statement (plan step 2)",
}


class BenchError(Exception):
    """Setup failed: nothing was measured."""


@dataclass
class Children:
    """Processes this run started; all of them are stopped on the way out."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        # Own process group: a stop reaches gunicorn's workers too, and nothing else.
        proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            self.stop(proc)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- the machine ---------------------------------------------------------------------------


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
                break
    except OSError:
        pass
    nproc = _first_line(["nproc"])
    return {
        "nproc": int(nproc) if nproc.isdigit() else os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": _first_line(["wrk", "--version"]).split(" [")[0],
        "loadavg_at_start": list(os.getloadavg()),
    }


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields[:8])


def cpu_idle(seconds: float = 2.0) -> float:
    """Share of the machine's CPU left idle over ``seconds`` (1.0 = nothing running)."""
    idle0, total0 = _cpu_times()
    time.sleep(seconds)
    idle1, total1 = _cpu_times()
    return (idle1 - idle0) / max(total1 - total0, 1)


def wait_for_quiet(limit_s: int, threshold: float = 0.85) -> dict[str, Any]:
    """Others share this machine (test suites): wait up to ``limit_s`` for it to go quiet."""
    waited = 0.0
    idle = cpu_idle()
    while idle < threshold and waited < limit_s:
        if waited == 0:
            print(f"  the machine is busy (CPU {1 - idle:.0%} used by others); waiting", end="")
        print(".", end="", flush=True)
        time.sleep(3)
        waited += 5
        idle = cpu_idle()
    if waited:
        print(f" {'quiet' if idle >= threshold else 'still busy'} after {waited:.0f} s")
    return {"cpu_idle_before_load": round(idle, 3), "waited_s": waited}


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_snapshot() -> dict[int, tuple[str, int, int, int]]:
    """pid -> (command, process group, own CPU ticks, reaped children's CPU ticks)."""
    snap: dict[int, tuple[str, int, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # From the state field on (0-based): pgrp 2, utime 11, stime 12, cutime 13, cstime 14.
        snap[int(entry.name)] = (
            comm,
            int(fields[2]),
            int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]),
        )
    return snap


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_account(
    before: dict[int, tuple[str, int, int, int]],
    after: dict[int, tuple[str, int, int, int]],
    *,
    server_pgid: int,
    wrk_seconds: float,
) -> dict[str, Any]:
    """CPU seconds used between two snapshots by gunicorn, wrk, PostgreSQL and everyone else.

    PostgreSQL's backends serve the bench and any other client alike: they are counted
    together. A backend or worker that exits is found again in its parent's reaped-children
    time (postmaster, gunicorn master), so those two groups are exact. wrk has exited by then:
    its time comes from its rusage. "others" counts only processes alive at the second
    snapshot (their own time): a lower bound."""
    spent: dict[str, float] = {"gunicorn": 0.0, "wrk": wrk_seconds, "postgres": 0.0, "others": 0.0}
    others: dict[str, float] = {}

    def group(comm: str, pgrp: int) -> str:
        if pgrp == server_pgid:
            return "gunicorn"
        return "postgres" if comm.startswith("postgres") else "others"

    for pid, (comm, pgrp, own, reaped) in after.items():
        name = group(comm, pgrp)
        if pid == os.getpid():
            continue
        total = own + (reaped if name != "others" else 0)
        if pid in before:
            _, _, own0, reaped0 = before[pid]
            total -= own0 + (reaped0 if name != "others" else 0)
        if total <= 0:
            continue
        spent[name] += total / TICKS
        if name == "others":
            others[comm] = others.get(comm, 0.0) + total / TICKS
    # Processes of the two exact groups that exited: their time is in their parents' reaped
    # time now, and what they had used before the first snapshot must come off again.
    for pid, (comm, pgrp, own, _reaped) in before.items():
        name = group(comm, pgrp)
        if pid not in after and name != "others":
            spent[name] -= own / TICKS
    top = sorted(others.items(), key=lambda item: -item[1])[:3]
    return {
        **{name: round(value, 2) for name, value in spent.items()},
        "others_top": [[name, round(value, 2)] for name, value in top],
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


# --- database ------------------------------------------------------------------------------


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
        return str(row[0]) if row else "?"


def redis_flush(url: str) -> None:
    """Empty the bench's own Redis database (the broker may have queued follow-up tasks)."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        client.flushdb()
        client.close()
    except Exception as exc:  # noqa: BLE001 - Redis is optional for the figures
        print(f"  (could not flush {url}: {type(exc).__name__})")


# --- environment, setup --------------------------------------------------------------------


def fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def bench_env(*, database_url: str, redis_url: str, var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            # Newest first, as after one rotation: the first encrypts.
            "PHI_ENCRYPTION_KEYS": f"{fernet_key()},{fernet_key()}",
            "PHI_BLIND_INDEX_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "API_THROTTLE": "off",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VAR_DIR": var_dir,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }
    )
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


def query_counts(env: dict[str, str], *, requests: int, profile: Path | None) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "queries.py"), "--requests", str(requests)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    for line in proc.stdout.splitlines():
        if line.startswith("QUERIES_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("QUERIES_RESULT "))
            return result
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
    raise BenchError(f"queries.py failed ({proc.returncode}):\n{tail}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: str | None = None, timeout: float = 10) -> tuple[int, str]:
    _check_loopback(url, "the server")
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        url,
        data=body.encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "User-Agent": bodies.USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode(errors="replace")


def gunicorn_start(
    children: Children, env: dict[str, str], *, port: int, workers: int, log: Path
) -> tuple[subprocess.Popen[bytes], list[str]]:
    exe = Path(sys.executable).with_name("gunicorn")
    if not exe.exists():
        found = shutil.which("gunicorn")
        if not found:
            raise BenchError("gunicorn is not installed in this virtualenv")
        exe = Path(found)
    cmd = [
        str(exe),
        "asana_leads.wsgi:application",
        "--workers", str(workers),
        "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "30",
        "--graceful-timeout", "10",
        "--log-level", "warning",
    ]  # fmt: skip
    out = log.open("ab")
    proc = children.start(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):  # at most ~60 s
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise BenchError(f"gunicorn exited ({proc.returncode}):\n{tail}")
        try:
            status, _ = http("GET", f"{base}/healthz/", timeout=2)
            if status == 200:
                return proc, cmd
        except OSError:
            pass
        time.sleep(0.25)
    raise BenchError("gunicorn did not answer /healthz/ within 60 s")


def _ensure_alive(proc: subprocess.Popen[bytes], kind: str) -> None:
    if proc.poll() is not None:
        raise BenchError(f"gunicorn died during the {kind} run ({proc.returncode})")


def preflight(base: str) -> dict[str, Any]:
    """One post per target before any load: a misconfigured body fails here, loudly."""
    answers: dict[str, Any] = {}
    for index, kind in enumerate(bodies.BODIES):
        path, _ = bodies.BODIES[kind]
        status, text = http("POST", base + path, bodies.fill(kind, 99_000_000 + index))
        if status != 201:
            raise BenchError(f"preflight POST {path} answered {status}: {text[:500]}")
        answers[kind] = json.loads(text)
    return answers


# --- wrk -----------------------------------------------------------------------------------


def wrk_command(
    url: str, *, template: Path, offset: int, seconds: int, threads: int, connections: int
) -> list[str]:
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout", "5s",
        "--latency",
        "-s", str(LUA),
        url,
        "--", str(template), str(offset), "|".join(bodies.PAYERS),
    ]  # fmt: skip


def wrk_run(
    children: Children, cmd: list[str], seconds: int, *, server_pgid: int
) -> tuple[dict[str, Any], str]:
    before, before_children, stat0 = cpu_snapshot(), children_cpu_seconds(), _cpu_times()
    proc = children.start(cmd, cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired as exc:
        children.stop(proc, grace=2)
        raise BenchError(f"wrk did not finish within {seconds + 30} s") from exc
    after, wrk_seconds = cpu_snapshot(), children_cpu_seconds() - before_children
    stat1 = _cpu_times()
    machine_busy = 1 - (stat1[0] - stat0[0]) / max(stat1[1] - stat0[1], 1)
    children.procs.remove(proc)
    text = out.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("BENCH_RESULT "):
            parsed: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
            parsed["cpu"] = cpu_account(
                before, after, server_pgid=server_pgid, wrk_seconds=wrk_seconds
            )
            parsed["cpu"]["machine_busy"] = round(machine_busy, 3)
            return parsed, text
    raise BenchError(f"wrk printed no result ({proc.returncode}):\n{text[-2000:]}")


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    seconds = raw["duration_us"] / 1e6
    statuses = {str(code): int(count) for code, count in raw["statuses"].items()}
    ok = sum(count for code, count in statuses.items() if code.startswith("2"))
    non_2xx = sum(statuses.values()) - ok
    socket_errors = {k: v for k, v in raw["errors"].items() if k != "status" and v}
    lat = raw["latency_us"]
    problems = []
    if non_2xx:
        problems.append(f"{non_2xx} non-2xx answers {statuses}")
    if socket_errors:
        problems.append(f"socket errors {socket_errors}")
    if not ok:
        problems.append("no successful request")
    cpu = dict(raw.get("cpu", {}))
    requests = max(int(raw["requests"]), 1)
    ncpu = os.cpu_count() or 1
    for name in ("gunicorn", "postgres", "wrk"):
        if name in cpu:
            cpu[f"{name}_ms_per_request"] = round(cpu[name] * 1000 / requests, 3)
    capacity = max(seconds * ncpu, 1e-9)
    cpu["others_share"] = round(cpu.get("others", 0.0) / capacity, 3)
    if "machine_busy" in cpu:
        # Busy time nobody alive at the end accounts for (short-lived processes of others).
        ours = sum(cpu.get(name, 0.0) for name in ("gunicorn", "postgres", "wrk")) / capacity
        unexplained = max(cpu["machine_busy"] - ours, 0.0)
        cpu["others_share"] = round(max(cpu["others_share"], unexplained), 3)
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(lat["p50"] / 1000, 2),
        "p75_ms": round(lat["p75"] / 1000, 2),
        "p90_ms": round(lat["p90"] / 1000, 2),
        "p99_ms": round(lat["p99"] / 1000, 2),
        "mean_ms": round(lat["mean"] / 1000, 2),
        "max_ms": round(lat["max"] / 1000, 2),
        "statuses": statuses,
        "non_2xx": non_2xx,
        "socket_errors": socket_errors,
        "valid": not problems,
        "problems": problems,
        "bad_sample": raw.get("bad_sample", ""),
        "cpu": cpu,
        "noisy": cpu["others_share"] > NOISY_SHARE,
    }


# --- report --------------------------------------------------------------------------------


def _cpu_per_request(run: dict[str, Any]) -> float:
    cpu = run.get("cpu", {})
    names = ("gunicorn", "postgres", "wrk")
    return float(sum(cpu.get(f"{name}_ms_per_request", 0.0) for name in names))


def verdict(runs: list[dict[str, Any]]) -> dict[str, Any]:
    baselines = [r for r in runs if r["target"] == "baseline"]
    base_rps = sum(r["rps"] for r in baselines) / len(baselines) if baselines else 0.0
    spread = (
        abs(baselines[0]["rps"] - baselines[-1]["rps"]) / base_rps
        if len(baselines) > 1 and base_rps
        else 0.0
    )
    base_cpus = [_cpu_per_request(r) for r in baselines if _cpu_per_request(r)]
    base_cpu = sum(base_cpus) / len(base_cpus) if base_cpus else 0.0
    targets: dict[str, Any] = {}
    floors: dict[str, Any] = {}
    for run in runs:
        if run["target"] == "baseline":
            continue
        ratio = run["rps"] / base_rps if base_rps else 0.0
        if run["target"] in bodies.FLOORS:
            floors[run["target"]] = {
                "cpu_ratio": round(base_cpu / _cpu_per_request(run), 3) if base_cpu else None,
                "ratio": round(ratio, 3),
            }
            continue
        targets[run["target"]] = {
            # Noise-robust cross-check: the ratio of CPU per request (gunicorn + PostgreSQL +
            # wrk), which is what decides req/s on a saturated 2-core machine.
            "cpu_ratio": round(base_cpu / _cpu_per_request(run), 3) if base_cpu else None,
            "rps": run["rps"],
            "p50_ms": run["p50_ms"],
            "p99_ms": run["p99_ms"],
            "ratio": round(ratio, 3),
            "ratio_ok": ratio >= TARGET_RATIO,
            "p99_ok": run["p99_ms"] < TARGET_P99_MS,
        }
    valid = all(r["valid"] for r in runs)
    met = valid and all(t["ratio_ok"] and t["p99_ok"] for t in targets.values())
    return {
        "baseline_rps_mean": round(base_rps, 1),
        "baseline_spread": round(spread, 3),
        "targets": targets,
        "floors": floors,
        "valid": valid,
        "targets_met": met,
    }


def print_report(result: dict[str, Any]) -> None:
    m = result["machine"]
    print("\n== machine")
    print(f"  nproc {m['nproc']}, CPU {m['cpu_model']}, memory {m['memory_gib']} GiB")
    print(f"  kernel {m['kernel']}, Python {m['python']}, {m['wrk']}, PostgreSQL {m['postgres']}")
    print(f"  load average at start {m['loadavg_at_start']}, at end {m['loadavg_at_end']}")
    print(f"  CPU idle just before the load: {m.get('cpu_idle_before_load', 0):.0%}")
    for warning in result.get("warnings", []):
        print(f"  WARNING: {warning}")
    print("\n== command")
    print(f"  {result['command']}")
    print(f"  gunicorn: {result['gunicorn_command']}")
    print(f"  wrk (each run): {result['wrk_command_example']}")
    _print_queries(result["queries"])
    _print_load(result)
    connections = result["config"]["connections"]
    print(
        f"\n  note: wrk is a closed loop, so mean latency = {connections} connections / req/s; "
        f"p99 < {TARGET_P99_MS:.0f} ms at {connections} connections needs well over "
        f"{connections / TARGET_P99_MS * 1000:.0f} req/s."
    )
    print(f"\n  results: {result['results_file']}")


def _print_queries(queries: dict[str, Any]) -> None:
    print("\n== SQL per post (one post, in-process)")
    for kind, q in queries["targets"].items():
        print(
            f"  {kind:<13} {q['captured_count']:>2} statements seen by Django, "
            f"{q['round_trips_count']:>2} PostgreSQL round trips; in-process "
            f"{q['ms_per_request']:.2f} ms/post, of which waiting for PostgreSQL "
            f"{q['db_wait_ms']:.2f} ms"
        )
    print("\n== Python CPU per post by step (in-process, no profiler; steps are inclusive)")
    for kind, q in queries["targets"].items():
        if q.get("phases"):
            print(f"  {kind}:")
            whole = q["phases"].get("the whole post (Python, in-process)") or 0.0
            for label, ms in q["phases"].items():
                share = f"{ms / whole:5.0%}" if whole else ""
                print(f"    {ms:7.3f} ms {share}  {label}")
    print("\n== PostgreSQL round trips of one post (median ms each, in-process)")
    for kind, q in queries["targets"].items():
        print(f"  {kind}:")
        for trip in q["round_trips"]:
            median = f"{trip['median_ms']:.3f}" if trip["median_ms"] is not None else "?"
            print(f"    {median:>7} ms  {trip['sql'][:90]}")


def _print_load(result: dict[str, Any]) -> None:
    print("\n== load (measured runs; warm-ups discarded)")
    header = f"  {'run':<62} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}  valid"
    print(header)
    v = result["verdict"]
    for run in result["runs"]:
        mean = v["baseline_rps_mean"]
        ratio_text = f"{run['rps'] / mean:.2f}" if mean else "-"
        if run["target"] == "baseline":
            ratio_text += "*"
        print(
            f"  {LABELS[run['target']]:<62} {run['rps']:>8.1f} {run['p50_ms']:>8.2f} "
            f"{run['p99_ms']:>8.2f} {ratio_text:>6}  {'yes' if run['valid'] else 'NO'}"
        )
        for problem in run["problems"]:
            print(f"      INVALID: {problem}")
        if run["bad_sample"]:
            print(f"      first non-2xx body: {run['bad_sample'][:200]}")
    print(
        f"  baseline mean {v['baseline_rps_mean']:.1f} req/s "
        f"(the two baseline runs differ by {v['baseline_spread']:.0%}; * = run / mean)"
    )
    print("\n== targets: (b), (c) >= 0.4 x (a); p99 < 40 ms")
    for kind, t in v["targets"].items():
        print(
            f"  {kind:<13} ratio {t['ratio']:.2f} {'ok' if t['ratio_ok'] else 'MISSED'}; "
            f"p99 {t['p99_ms']:.1f} ms {'ok' if t['p99_ok'] else 'MISSED'}"
            + (f"  (CPU-per-request ratio {t['cpu_ratio']:.2f})" if t.get("cpu_ratio") else "")
        )
    if not v["valid"]:
        print("  INVALID RUN: errors above; these figures are not a measurement.")
    else:
        print(f"  targets {'MET' if v['targets_met'] else 'NOT MET'}")
    if v.get("floors"):
        print("\n== floors (not targets): the ratio a contact post could reach at best")
        for kind, f in v["floors"].items():
            print(
                f"  {LABELS[kind]:<62} ratio {f['ratio']:.2f}"
                + (f"  (CPU-per-request ratio {f['cpu_ratio']:.2f})" if f.get("cpu_ratio") else "")
            )
    if result.get("unloaded"):
        print("\n== supplementary: 1 connection (no queueing), not part of the targets")
        for kind, run in result["unloaded"].items():
            print(
                f"  {LABELS[kind]:<62} {run['rps']:>8.1f} {run['p50_ms']:>8.2f} "
                f"{run['p99_ms']:>8.2f}  {'yes' if run['valid'] else 'NO'}"
            )


# --- the load runs -------------------------------------------------------------------------


@dataclass
class Loader:
    """Runs wrk against one server, numbering runs so that no two posts share a person."""

    children: Children
    gunicorn: subprocess.Popen[bytes]
    base: str
    work: Path
    run_index: int = 0
    last_command: str = ""

    def run(
        self, kind: str, *, seconds: int, threads: int, connections: int, phase: str
    ) -> tuple[dict[str, Any], str]:
        path, _ = bodies.BODIES[kind]
        template = self.work / f"{kind}.json"
        if not template.exists():
            template.write_text(bodies.template(kind))
        self.run_index += 1
        cmd = wrk_command(
            self.base + path,
            template=template,
            offset=self.run_index * RUN_STRIDE,
            seconds=seconds,
            threads=threads,
            connections=connections,
        )
        self.last_command = shlex.join(
            [f"<{Path(c).name}>" if c.startswith(str(self.work)) else c for c in cmd]
        )
        print(f"  {phase:<8} {kind:<13} {seconds:>3} s  ...", end="", flush=True)
        raw, text = wrk_run(self.children, cmd, seconds, server_pgid=self.gunicorn.pid)
        summary = summarize(raw)
        cpu = summary["cpu"]
        print(
            f" {summary['rps']:>8.1f} req/s  p50 {summary['p50_ms']:6.2f} ms"
            f"  p99 {summary['p99_ms']:6.2f} ms   CPU/req: gunicorn "
            f"{cpu.get('gunicorn_ms_per_request', 0):.2f} ms, postgres "
            f"{cpu.get('postgres_ms_per_request', 0):.2f} ms, wrk "
            f"{cpu.get('wrk_ms_per_request', 0):.2f} ms; others {cpu['others_share']:.0%}; "
            f"machine busy {cpu.get('machine_busy', 0):.0%}"
            + (" NOISY" if summary["noisy"] else "")
            + ("" if summary["valid"] else "  INVALID: " + "; ".join(summary["problems"]))
        )
        _ensure_alive(self.gunicorn, kind)
        return summary, text


def load(
    children: Children,
    gunicorn: subprocess.Popen[bytes],
    *,
    base: str,
    args: argparse.Namespace,
    work: Path,
    result: dict[str, Any],
) -> list[dict[str, Any]]:
    """(a), (b), (c), (a) at the configured load, each warmed up first; then the supplementary
    1-connection runs. Fills ``result`` and returns the measured runs."""
    loader = Loader(children=children, gunicorn=gunicorn, base=base, work=work)
    runs: list[dict[str, Any]] = []
    raw_outputs: dict[str, str] = {}
    shape = {"threads": args.threads, "connections": args.connections}
    for position, kind in enumerate(SEQUENCE_WITH_FLOORS if args.floors else SEQUENCE):
        if args.warmup:
            loader.run(kind, seconds=args.warmup, phase="warmup", **shape)
        summary, text = loader.run(kind, seconds=args.duration, phase="measured", **shape)
        runs.append(
            {"target": kind, "position": position, "path": bodies.BODIES[kind][0], **summary}
        )
        raw_outputs[f"{position}-{kind}"] = text
        result["wrk_command_example"] = loader.last_command
    result["runs"] = runs
    result["wrk_output"] = raw_outputs
    # Supplementary: the same posts one at a time (no queueing), what a visitor sees at real
    # traffic. Not part of the targets, which are defined at 16 connections.
    unloaded: dict[str, Any] = {}
    if args.unloaded:
        print(f"  supplementary: 1 connection, {args.unloaded} s per target")
        for kind in bodies.TARGETS:
            unloaded[kind], _ = loader.run(
                kind, seconds=args.unloaded, phase="1 conn", threads=1, connections=1
            )
    result["unloaded"] = unloaded
    return runs


# --- main ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=10, help="discarded seconds per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--floors",
        action="store_true",
        help="also measure the floors: the contact endpoint reduced to DRF alone, and to DRF "
        "plus validation (no storage), between (c) and the second (a)",
    )
    parser.add_argument("--db-name", default=DB_NAME_PREFIX)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a role that may create databases; loopback only",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="the bench's own Redis database (flushed before and after)",
    )
    parser.add_argument(
        "--probe-requests", type=int, default=100, help="posts per target, in-process"
    )
    parser.add_argument(
        "--unloaded",
        type=int,
        default=5,
        help="seconds of a supplementary 1-connection run per target (0: none)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=60,
        help="wait up to this many seconds for other processes to leave the CPU idle",
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile the in-process posts")
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    args = parser.parse_args()
    for name in ("duration", "warmup", "unloaded"):
        value = getattr(args, name)
        if not 0 <= value <= MAX_SECONDS or (name == "duration" and value < 1):
            parser.error(f"--{name.replace('_', '-')} must be within 0..{MAX_SECONDS} s")
    if not 0 <= args.wait_quiet <= MAX_WAIT_QUIET:
        parser.error(f"--wait-quiet must be within 0..{MAX_WAIT_QUIET} s")
    if not 1 <= args.threads <= 2 or not args.threads <= args.connections <= 256:
        parser.error("--threads must be 1 or 2 (2 cores), --connections threads..256")
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be 1..16")
    if not args.db_name.startswith(DB_NAME_PREFIX) or not args.db_name.replace("_", "").isalnum():
        parser.error(f"--db-name must start with {DB_NAME_PREFIX} (it is dropped)")
    return args


def main() -> int:
    args = parse_args()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)")
        return 2
    _check_loopback(args.pg_admin_url, "PostgreSQL")
    _check_loopback(args.redis_url, "Redis")

    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    log = RESULTS / f"run-{stamp}.log"
    admin = urlsplit(args.pg_admin_url)
    database_url = admin._replace(path=f"/{args.db_name}").geturl()
    var_dir = tempfile.mkdtemp(prefix="asana-leads-bench-var-")
    env = bench_env(database_url=database_url, redis_url=args.redis_url, var_dir=var_dir)
    children = Children()
    created_db = False
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
        },
        "config": {
            "workers": args.workers,
            "threads": args.threads,
            "connections": args.connections,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "sequence": list(SEQUENCE_WITH_FLOORS if args.floors else SEQUENCE),
            "payers_cycled": list(bodies.PAYERS),
        },
    }
    code = 2
    try:
        print(f"== setup: database {args.db_name}, log {log}")
        result["machine"]["postgres"] = database_recreate(
            args.pg_admin_url, args.db_name, create=True
        )
        created_db = True
        redis_flush(args.redis_url)
        manage(env, "check", log=log, timeout=120)
        manage(env, "migrate", "--noinput", log=log)
        try:
            manage(env, "seed_payers", log=log, timeout=120)
        except BenchError as exc:
            if "Unknown command" not in str(exc):
                raise
            # The payer data migration seeds the same directory; say so rather than stop.
            result.setdefault("warnings", []).append("manage.py seed_payers does not exist yet")
            print("  WARNING: manage.py seed_payers does not exist yet (migrations seed payers)")

        print("== SQL per post (in-process probe)")
        result["queries"] = query_counts(
            env, requests=args.probe_requests, profile=RESULTS if args.profile else None
        )

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn, gunicorn_cmd = gunicorn_start(
            children, env, port=port, workers=args.workers, log=log
        )
        result["gunicorn_command"] = shlex.join(
            [os.path.relpath(gunicorn_cmd[0], ROOT), *gunicorn_cmd[1:]]
        )
        print(f"== gunicorn on {base} (pid {gunicorn.pid}), {args.workers} sync workers")
        result["preflight"] = preflight(base)
        result["machine"].update(wait_for_quiet(args.wait_quiet))
        if result["machine"]["cpu_idle_before_load"] < 0.85:
            result.setdefault("warnings", []).append(
                "other processes were using the CPU when the load started"
            )

        runs = load(children, gunicorn, base=base, args=args, work=Path(var_dir), result=result)
        result["verdict"] = verdict(runs)
        result["machine"]["loadavg_at_end"] = list(os.getloadavg())
        code = 0 if result["verdict"]["targets_met"] else (1 if result["verdict"]["valid"] else 2)
    except BenchError as exc:
        result["error"] = str(exc)
        print(f"\nBENCH FAILED: {exc}")
    except KeyboardInterrupt as exc:
        result["error"] = f"interrupted ({exc})"
        print(f"\ninterrupted ({exc}); cleaning up")
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()
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
        (RESULTS / f"intake-{stamp}.json").write_text(text)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if "verdict" in result:
        print_report(result)
    return code


if __name__ == "__main__":
    sys.exit(main())
