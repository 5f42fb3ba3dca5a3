"""The database down or locked answers 503 with Retry-After, never a 500, and the same process
serves again once the database is back (contract: "503 with Retry-After when the submission
cannot be stored"; issue 3, section 3).

Each case runs a real asana_leads process (``scripts/database_faults.py``) against a database of
its own and takes that database away for real: an exclusive lock held on the SQLite file, the
SQLite file's directory gone, a PostgreSQL port where nothing listens, a TCP forwarder to
PostgreSQL cut under the live process and restored, a PostgreSQL table locked by another session
(``DATABASE_LOCK_TIMEOUT_MS``). /readyz/ names the database meanwhile.

The last section takes away the other server a post touches, the shared cache (in-process).
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.leads.models import Submission

SCRIPT = Path(__file__).parent / "scripts" / "database_faults.py"
ROOT = Path(__file__).resolve().parents[2]
CONTACT_PATH = "/api/v1/contact-requests/"
FAULTS_DATABASE = "asana_leads_faults"
# A refused connection must turn into a 503 well inside a browser's patience.
MAX_SECONDS_TO_ANSWER_503 = 5.0
STARTUP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 60.0


def _contact(n: int) -> dict[str, Any]:
    return {
        "first_name": "Robin",
        "last_name": f"Faults{n}",
        "email": f"robin.faults{n}@example.org",
        "message": "Please call me about the outpatient program.",
        "consent_email": True,
        "consent_text": "I agree to be contacted by email.",
    }


class AppProcess:
    """The script as a child process, driven one JSON command at a time."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.stderr_lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.started = self._next(STARTUP_TIMEOUT)

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr_lines.extend(self.proc.stderr)

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no answer within {timeout}s; stderr:\n{self.stderr}")
        if line is None:
            pytest.fail(f"the app process exited ({self.proc.wait()}); stderr:\n{self.stderr}")
        answer: dict[str, Any] = json.loads(line)
        assert "error" not in answer, (
            f"{answer['error']}\n{answer.get('traceback', '')}\nstderr:\n{self.stderr}"
        )
        return answer

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines[-80:])

    def do(self, op: str, **kwargs: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **kwargs}) + "\n")
        self.proc.stdin.flush()
        return self._next(COMMAND_TIMEOUT)

    def post_contact(self, n: int) -> dict[str, Any]:
        return self.do("post", path=CONTACT_PATH, body=_contact(n))

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.do("quit")
            finally:
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


def _assert_unavailable(answer: dict[str, Any]) -> None:
    """The contract's 503: Retry-After, a JSON ``detail``, nothing about the database."""
    assert answer["status"] == 503, answer
    assert answer["retry_after"] is not None, answer
    assert int(answer["retry_after"]) > 0
    assert answer["content_type"].startswith("application/json"), answer
    assert isinstance(answer["body"], dict), answer
    assert set(answer["body"]) == {"detail"}, answer
    assert answer["body"]["detail"]
    # No driver message (host names, file paths, credentials) reaches the visitor.
    text = json.dumps(answer["body"]).lower()
    for leak in ("sqlite", "postgres", "psycopg", "operationalerror", "locked", "127.0.0.1"):
        assert leak not in text, answer


def _assert_stored(answer: dict[str, Any]) -> None:
    assert answer["status"] == 201, answer
    assert answer["body"]["reference"], answer


def _assert_readyz_names_database(answer: dict[str, Any]) -> None:
    assert answer["status"] == 503, answer
    assert "database" in answer["body"]["failed"], answer
    assert "broker" not in answer["body"]["failed"], answer


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))
    }
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env.update(
        DJANGO_SETTINGS_MODULE="asana_leads.settings_test",
        VAR_DIR=str(var_dir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def app_processes() -> Iterator[list[AppProcess]]:
    started: list[AppProcess] = []
    yield started
    for app in started:
        app.close()


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_env(tmp_path: Path, db_file: Path) -> dict[str, str]:
    env = _base_env(tmp_path)
    env["DATABASE_URL"] = f"sqlite:///{db_file}"
    env["SQLITE_BUSY_TIMEOUT"] = "0.3"
    return env


def test_it_answers_503_while_the_sqlite_file_is_locked_and_201_once_released(
    tmp_path: Path, app_processes: list[AppProcess]
) -> None:
    db_file = tmp_path / "db" / "leads.sqlite3"
    db_file.parent.mkdir()
    app = AppProcess(_sqlite_env(tmp_path, db_file))
    app_processes.append(app)
    app.do("migrate")
    _assert_stored(app.post_contact(1))

    # Another process (this test) takes the write lock, as a long write by the worker would.
    holder = sqlite3.connect(db_file, isolation_level=None, timeout=5)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        locked = app.post_contact(2)
        _assert_unavailable(locked)
        assert locked["elapsed"] < MAX_SECONDS_TO_ANSWER_503
        readyz = app.do("get", path="/readyz/")
        # WAL readers are not blocked by a writer: ready or not, never a 500.
        assert readyz["status"] in {200, 503}, readyz
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    _assert_stored(app.post_contact(3))
    assert app.do("count", model="leads.Submission")["count"] == 2
    assert app.do("count", model="leads.Person")["count"] == 2


def test_it_answers_503_while_the_sqlite_file_is_gone_and_201_once_back(
    tmp_path: Path, app_processes: list[AppProcess]
) -> None:
    db_dir = tmp_path / "db"
    db_dir.mkdir()
    db_file = db_dir / "leads.sqlite3"
    app = AppProcess(_sqlite_env(tmp_path, db_file))
    app_processes.append(app)
    app.do("migrate")
    _assert_stored(app.post_contact(1))

    # The volume holding the database is gone (unmounted, moved): nothing can be opened.
    away = tmp_path / "db-away"
    db_dir.rename(away)
    try:
        _assert_unavailable(app.post_contact(2))
        _assert_readyz_names_database(app.do("get", path="/readyz/"))
    finally:
        away.rename(db_dir)

    _assert_stored(app.post_contact(3))
    assert app.do("get", path="/readyz/")["status"] == 200
    assert app.do("count", model="leads.Submission")["count"] == 2


# --- PostgreSQL -----------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
needs_postgres = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://", "pgsql://")),
    reason="DATABASE_URL does not point at PostgreSQL",
)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def faults_database() -> Iterator[str]:
    """A database of its own on the server of DATABASE_URL, dropped afterwards."""
    import psycopg
    from psycopg import sql

    admin_url = _with_database(DATABASE_URL, "postgres").replace("pgsql://", "postgresql://")
    admin_url = admin_url.replace("postgres://", "postgresql://", 1)
    name = sql.Identifier(FAULTS_DATABASE)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield _with_database(DATABASE_URL, FAULTS_DATABASE)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@needs_postgres
def test_it_answers_503_quickly_when_nothing_listens_on_the_postgres_port(
    tmp_path: Path, app_processes: list[AppProcess]
) -> None:
    env = _base_env(tmp_path)
    env["DATABASE_URL"] = urlunsplit(
        urlsplit(_with_database(DATABASE_URL, FAULTS_DATABASE))._replace(
            netloc="postgres@127.0.0.1:1"
        )
    )
    app = AppProcess(env)
    app_processes.append(app)

    answer = app.post_contact(1)
    _assert_unavailable(answer)
    assert answer["elapsed"] < MAX_SECONDS_TO_ANSWER_503, answer
    _assert_readyz_names_database(app.do("get", path="/readyz/"))
    # Still a 503 the second time (no half-open connection state turns it into a 500).
    _assert_unavailable(app.post_contact(2))


@needs_postgres
def test_it_answers_503_while_postgres_is_cut_off_and_201_once_it_is_back(
    tmp_path: Path, app_processes: list[AppProcess], faults_database: str
) -> None:
    server = urlsplit(DATABASE_URL)
    env = _base_env(tmp_path)
    env["DATABASE_URL"] = faults_database
    app = AppProcess(env, "--forward-to", f"{server.hostname}:{server.port or 5432}")
    app_processes.append(app)
    app.do("migrate")
    _assert_stored(app.post_contact(1))  # a persistent connection now exists (CONN_MAX_AGE)

    app.do("forwarder_stop")  # the server goes away: every open connection is cut
    cut = app.post_contact(2)
    _assert_unavailable(cut)
    assert cut["elapsed"] < MAX_SECONDS_TO_ANSWER_503, cut
    _assert_readyz_names_database(app.do("get", path="/readyz/"))
    _assert_unavailable(app.post_contact(3))

    app.do("forwarder_start")  # the server is back
    _assert_stored(app.post_contact(4))
    assert app.do("get", path="/readyz/")["status"] == 200
    assert app.do("count", model="leads.Submission")["count"] == 2


@needs_postgres
def test_it_answers_503_while_a_table_is_locked_and_201_once_released(
    tmp_path: Path, app_processes: list[AppProcess], faults_database: str
) -> None:
    import psycopg

    env = _base_env(tmp_path)
    env["DATABASE_URL"] = faults_database
    env["DATABASE_LOCK_TIMEOUT_MS"] = "1000"
    app = AppProcess(env)
    app_processes.append(app)
    app.do("migrate")
    _assert_stored(app.post_contact(1))

    admin_url = faults_database.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url) as holder:
        # What a long migration does: every read and write of the table waits behind it.
        holder.execute("LOCK TABLE leads_person IN ACCESS EXCLUSIVE MODE")
        locked = app.post_contact(2)
        _assert_unavailable(locked)
        assert locked["elapsed"] < MAX_SECONDS_TO_ANSWER_503, locked
        holder.rollback()

    _assert_stored(app.post_contact(3))
    assert app.do("count", model="leads.Submission")["count"] == 2


# --- The shared cache -----------------------------------------------------------------------
# Not the database, but the other server every post touches: the throttles count posts in the
# shared cache (Redis in production). Losing it must not lose a submission that the database
# could store.

CACHE_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/contact-requests/", "/api/v1/insurance-verifications/"])
def test_a_post_is_not_a_500_while_the_shared_cache_is_down(
    path: str, contact_body: dict[str, Any], verification_body: dict[str, Any]
) -> None:
    body = contact_body if "contact" in path else verification_body
    client = APIClient(raise_request_exception=False)
    with override_settings(API_THROTTLE=True, CACHES=CACHE_DOWN):
        response = client.post(path, body, format="json")
    # Either stored anyway (the throttle fails open) or the contract's 503 with Retry-After.
    assert response.status_code in {201, 503}, (response.status_code, response.content[:300])
    if response.status_code == 503:
        assert response["Retry-After"]
        assert Submission.objects.count() == 0
    else:
        assert Submission.objects.count() == 1
