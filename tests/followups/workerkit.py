"""Real processes for the worker and fault tests: Celery workers, a web server, private Redis.

Everything here starts a real process with ``subprocess.Popen(start_new_session=True)``, so a
process and its children (Celery's pool, gunicorn's workers) form one process group that the
test ends by its id, whatever state it is in. Every wait is bounded by a deadline.

The processes run the production settings module (``asana_leads.settings``) configured only
through the environment, as production is: the database is pytest-django's test database
(``database_url()``), email goes to the file backend under ``VAR_DIR/mail``, texts through the
``SMS_BACKEND`` the test names. ``asana_leads.settings_test`` cannot serve here: it pins the
locmem email backend, which a test cannot read across processes.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
QUEUES = "alerts,followups,default"
DEADLINE_SECONDS = 20.0
T = TypeVar("T")
MESSAGE_ID = re.compile(rb"^Message-ID: <outbox-(\d+)@asana-leads>\s*$", re.MULTILINE | re.I)


# --- Waiting ----------------------------------------------------------------------------------


def wait_for(
    probe: Callable[[], T], *, timeout: float = DEADLINE_SECONDS, interval: float = 0.1,
    what: str = "condition",
) -> T:  # fmt: skip
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- Environment ------------------------------------------------------------------------------


def database_url() -> str:
    """A ``DATABASE_URL`` for the database this test runs on: pytest-django's test database
    (the SQLite file, or ``test_<name>`` on PostgreSQL), for processes the test starts."""
    from django.db import connection

    settings_dict = connection.settings_dict
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("an in-memory SQLite database cannot be shared with a worker")
        return f"sqlite:///{Path(name).resolve()}"
    suite_url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(suite_url._replace(path=f"/{name}"))


def sequences_seed() -> None:
    """The default sequences, as their migration seeds them (idempotent).

    A ``transaction=True`` test flushes every table, the migration's seed data included, and
    ``--reuse-db`` keeps that emptied database for the next run; without the sequences a
    submission plans no confirmation.
    """
    from django.apps import apps

    migration = importlib.import_module("apps.followups.migrations.0002_seed_sequences")
    migration.seed(apps, None)


def on_redis() -> bool:
    """Whether the suite runs on Redis (else on the embedded filesystem broker)."""
    from django.conf import settings

    return bool(settings.REDIS_URL)


def suite_var_dir() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR)


def process_env(*, var_dir: Path, redis_url: str | None, **overrides: str) -> dict[str, str]:
    """The environment of a web or worker process of this test.

    Inherits the suite's secrets (``settings_test`` put them into ``os.environ``), so every
    process encrypts and signs with the same keys. ``redis_url=None`` means the embedded
    filesystem broker under ``var_dir/broker``, which is then shared by every process given
    the same ``var_dir``.
    """
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "asana_leads.settings",
            "DATABASE_URL": database_url(),
            "VAR_DIR": str(var_dir),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            # Texts may go at any hour in these tests: quiet hours have their own tests
            # (time-machine, in-process).
            "SMS_ALLOWED_FROM_HOUR": "0",
            "SMS_ALLOWED_UNTIL_HOUR": "24",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(overrides)
    return env


# --- Processes --------------------------------------------------------------------------------


def _end_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the process group this test started (the process and its children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _stop(process: subprocess.Popen[bytes] | None, *, grace: float) -> None:
    if process is None:
        return
    if process.poll() is None:
        # The leader alone: it shuts its children down in order (a signal to the whole group
        # would kill Celery's pool under it and leave the warm shutdown waiting).
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    # Children may outlive their parent (a pool process): end the whole group.
    _end_group(process, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def process_gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (absent, or a zombie waiting for its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] in {"Z", "X"}


@dataclass
class OutboxRelay:
    """``manage.py outbox_relay`` in its own process group."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> OutboxRelay:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "outbox_relay"], cwd=REPO_ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        return self

    def stop(self) -> None:
        if self.process is not None:
            _end_group(self.process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)

    def died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@dataclass
class CeleryWorker:
    """``celery -A asana_leads worker`` in its own process group, optionally with beat, and
    beside it an outbox relay (``manage.py outbox_relay``), as a worker machine runs them."""

    name: str
    env: dict[str, str]
    workdir: Path
    beat: bool = False
    relay: bool = True
    concurrency: int = 2
    queues: str = QUEUES
    process: subprocess.Popen[bytes] | None = None
    outbox_relay: OutboxRelay | None = None
    killed: bool = False
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / f"{self.name}.log"

    @property
    def hostname(self) -> str:
        # The test process's id keeps two suites on one machine from sharing worker names.
        return f"{self.name}-{os.getpid()}@{socket.gethostname()}"

    def start(self, *, ready_timeout: float = 40.0) -> CeleryWorker:
        argv = [
            sys.executable, "-m", "celery", "-A", "asana_leads", "worker",
            "-Q", self.queues, "-c", str(self.concurrency), "-n", self.hostname,
            "--without-heartbeat", "--without-gossip", "--without-mingle",
            "--loglevel", "INFO",
        ]  # fmt: skip
        if self.beat:
            argv += ["--beat", "--schedule", str(self.workdir / f"{self.name}-beat-schedule")]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        if self.relay:
            log_path = self.workdir / f"{self.name}-relay.log"
            self.outbox_relay = OutboxRelay(env=self.env, log_path=log_path).start()
        self.wait_ready(timeout=ready_timeout)
        return self

    def wait_ready(self, *, timeout: float) -> None:
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited early:\n{self.log_tail()}")
            return f"{self.hostname} ready." in self.log()

        try:
            wait_for(ready, timeout=timeout, interval=0.2, what=f"worker {self.name} ready")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.log_tail()}") from exc

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: a machine that lost power."""
        self.killed = True
        if self.process is not None:
            _end_group(self.process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        if self.outbox_relay is not None:
            self.outbox_relay.stop()

    def stop(self) -> None:
        """Ends the worker at once. The test has read what it needed, and a warm shutdown
        costs 3 to 5 s a worker (the filesystem transport's drain) without proving anything."""
        self.kill()

    def died(self) -> bool:
        """Whether the worker (or its relay) exited without the test ending it."""
        worker_gone = self.process is not None and self.process.poll() is not None
        return not self.killed and (
            worker_gone or (self.outbox_relay is not None and self.outbox_relay.died())
        )

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        relay = self.outbox_relay.log().splitlines()[-10:] if self.outbox_relay else []
        return "\n".join([*self.log().splitlines()[-lines:], "--- relay:", *relay])


@dataclass
class WebServer:
    """``gunicorn asana_leads.wsgi`` (the Procfile's web process) in its own process group."""

    env: dict[str, str]
    workdir: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_timeout: float = 30.0) -> WebServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable, "-m", "gunicorn", "asana_leads.wsgi",
            "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
            "--timeout", "120", "--graceful-timeout", "5",
        ]  # fmt: skip
        with (self.workdir / "web.log").open("ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

        def live() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"web server exited early:\n{self.log()}")
            with contextlib.suppress(OSError):
                status, _, _ = self.request("GET", "/healthz/", timeout=2)
                return status == 200
            return False

        wait_for(live, timeout=ready_timeout, interval=0.2, what="the web server")
        return self

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, timeout: float = 30
    ) -> tuple[int, float, dict[str, Any]]:
        """(status, seconds, JSON body) of one request."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
            self.base_url + path, data=data, method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )  # fmt: skip
        began = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status, raw = int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        elapsed = time.monotonic() - began
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"raw": raw[:500].decode(errors="replace")}
        return status, elapsed, payload

    def stop(self) -> None:
        _stop(self.process, grace=10)

    def log(self) -> str:
        path = self.workdir / "web.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""


@dataclass
class RedisServer:
    """A private ``redis-server`` on a free port, without persistence: stopping it loses
    whatever it held, as a crashed Redis without AOF does."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
            "--logfile", str(self.workdir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            argv, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(self.answers, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        _stop(self.process, grace=5)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers (a hung server)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


# --- The suite's broker ----------------------------------------------------------------------

BROKER_QUEUES = ("alerts", "followups", "default")


def broker_queue_sizes() -> dict[str, int]:
    """Messages waiting in each of the suite broker's outbox queues."""
    from asana_leads.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        return {name: channel.queue_declare(queue=name).message_count for name in BROKER_QUEUES}


def broker_queues_purge() -> None:
    from asana_leads.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for name in BROKER_QUEUES:
            channel.queue_declare(queue=name)
            channel.queue_purge(name)


# --- What was sent ----------------------------------------------------------------------------


def emails_by_outbox_id(var_dir: Path) -> collections.Counter[int]:
    """How many times each outbox message was written by the file email backend (one
    ``Message-ID: <outbox-N@asana-leads>`` header per send)."""
    counts: collections.Counter[int] = collections.Counter()
    folder = var_dir / "mail"
    if folder.is_dir():
        for path in folder.iterdir():
            with contextlib.suppress(FileNotFoundError):
                counts.update(int(m) for m in MESSAGE_ID.findall(path.read_bytes()))
    return counts


def emails_for(var_dir: Path, outbox_id: int) -> list[bytes]:
    """The raw emails sent for one outbox message."""
    found: list[bytes] = []
    folder = var_dir / "mail"
    separator = b"\n" + b"-" * 79 + b"\n"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        for raw in path.read_bytes().split(separator):
            ids = [int(m) for m in MESSAGE_ID.findall(raw)]
            if ids == [outbox_id]:
                found.append(raw)
    return found


def texts_by_outbox_id(journal: Path) -> collections.Counter[int]:
    """How many times each outbox message was texted (``worker_backends`` journal lines)."""
    counts: collections.Counter[int] = collections.Counter()
    if journal.exists():
        for line in journal.read_text().splitlines():
            record = json.loads(line) if line.strip() else {}
            if record.get("event") == "sent":
                counts[int(record["outbox_id"])] += 1
    return counts


def text_file(var_dir: Path, outbox_id: int) -> dict[str, Any] | None:
    """The text ``FileSmsBackend`` wrote for one outbox message, if any."""
    path = var_dir / "sms" / f"{outbox_id}.json"
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    return record


# --- One test's set of processes --------------------------------------------------------------


@dataclass
class Stack:
    """The processes of one test and where they write.

    ``var_dir`` is the workers' ``VAR_DIR``: the suite's own when the test process hands work
    to the workers through the suite's broker (the filesystem broker lives under it), a
    private one when every party of the test is a process it started. ``baseline`` holds the
    email counts found before the test, so a shared mail folder still yields this test's sends.
    """

    root: Path
    var_dir: Path
    redis_url: str | None
    started: list[CeleryWorker | WebServer | RedisServer | OutboxRelay] = field(
        default_factory=list
    )
    baseline: collections.Counter[int] = field(default_factory=collections.Counter)

    def __post_init__(self) -> None:
        self.baseline = emails_by_outbox_id(self.var_dir)

    @property
    def journal(self) -> Path:
        return self.root / "sms-journal.jsonl"

    def env(self, **overrides: str) -> dict[str, str]:
        defaults = {
            "SMS_BACKEND": "tests.followups.worker_backends.JournalSmsBackend",
            "SMS_JOURNAL": str(self.journal),
        }
        return process_env(var_dir=self.var_dir, redis_url=self.redis_url, **(defaults | overrides))

    def worker(self, name: str, *, beat: bool = False, **env: str) -> CeleryWorker:
        worker = CeleryWorker(name=name, env=self.env(**env), workdir=self.root, beat=beat)
        self.started.append(worker)
        return worker.start()

    def relay(self, **env: str) -> OutboxRelay:
        """An outbox relay of its own, without a worker (a worker starts its own relay)."""
        relay = OutboxRelay(env=self.env(**env), log_path=self.root / "relay.log")
        self.started.append(relay)
        return relay.start()

    def web(self, **env: str) -> WebServer:
        web = WebServer(env=self.env(**env), workdir=self.root / "web")
        self.started.append(web)
        return web.start()

    def emails(self) -> collections.Counter[int]:
        """Emails sent during this test, by outbox id."""
        return emails_by_outbox_id(self.var_dir) - self.baseline

    def texts(self) -> collections.Counter[int]:
        """Texts sent during this test, by outbox id."""
        return texts_by_outbox_id(self.journal)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            with contextlib.suppress(Exception):
                process.stop()

    def wait(
        self, probe: Callable[[], T], *, what: str, timeout: float = DEADLINE_SECONDS,
        interval: float = 0.1,
    ) -> T:  # fmt: skip
        """``wait_for``, failing at once if a worker dies on its own, with the workers' logs."""

        def checked() -> T:
            for worker in self.started:
                if isinstance(worker, CeleryWorker) and worker.died():
                    raise AssertionError(
                        f"worker {worker.name} died (exit {worker.process.returncode}) "  # type: ignore[union-attr]
                        f"while waiting for {what}:\n{worker.log_tail(60)}"
                    )
            return probe()

        try:
            return wait_for(checked, timeout=timeout, interval=interval, what=what)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from exc

    def logs(self) -> str:
        """The tails of every worker's log, for a failing assertion's message."""
        return "\n".join(
            f"--- {p.name}\n{p.log_tail()}" for p in self.started if isinstance(p, CeleryWorker)
        )
