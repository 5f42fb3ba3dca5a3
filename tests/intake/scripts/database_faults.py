"""A whole asana_leads process whose database a test takes away and gives back.

Run by ``tests/intake/test_database_unavailable.py`` as a subprocess, so that the faults are real
(a locked SQLite file, a refused TCP connection, connections cut under a live process) and touch
nothing of the test process's own database connections.

The application is served over real HTTP by a single-threaded WSGI server in this process, as one
gunicorn sync worker serves it: Django's per-request connection handling (``CONN_MAX_AGE``,
``CONN_HEALTH_CHECKS``, closing connections after errors) runs as in production. Django's test
client would not do: it switches that handling off between requests.

The environment says which database (``DATABASE_URL``, ``VAR_DIR``, ``SQLITE_BUSY_TIMEOUT``,
...). With ``--forward-to HOST:PORT`` the script first starts a TCP forwarder on a free local
port, points ``DATABASE_URL`` at it, and can later cut and restore it.

The script reads one JSON command per line on stdin and answers one JSON line per command on
stdout (logs go to stderr):

- ``{"op": "migrate"}``
- ``{"op": "post", "path": "/api/v1/contact-requests/", "body": {...}}``
- ``{"op": "get", "path": "/readyz/"}``
- ``{"op": "forwarder_stop"}`` / ``{"op": "forwarder_start"}``
- ``{"op": "count", "model": "leads.Submission"}``
- ``{"op": "quit"}``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import socket
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[3]


class TcpForwarder:
    """Listens on 127.0.0.1:<port> and pipes every connection to ``target``.

    ``stop()`` closes the listener and every forwarded connection, as a database server that
    goes away would; ``start()`` listens again on the same port.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone may not.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            sockets, self._sockets = set(self._sockets), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(a, selectors.EVENT_READ, b)
            sel.register(b, selectors.EVENT_READ, a)
            while True:
                for key, _ in sel.select():
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            sel.close()
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._sockets.difference_update((a, b))


def _answer(**payload: Any) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _serve(application: Any) -> int:
    """Serve ``application`` on a free local port from one background thread."""
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, application, WSGIServer, QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return int(server.server_address[1])


def _request(url: str, body: dict[str, Any] | None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    method = "GET" if body is None else "POST"
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http://127.0.0.1
    if data is not None:
        request.add_header("Content-Type", "application/json")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, headers, content = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, content = error.code, error.headers, error.read()
    elapsed = time.monotonic() - started
    try:
        parsed: Any = json.loads(content or b"null")
    except ValueError:
        parsed = content.decode("utf-8", "replace")[:2000]
    return {
        "status": status,
        "retry_after": headers.get("Retry-After"),
        "content_type": headers.get("Content-Type"),
        "body": parsed,
        "elapsed": round(elapsed, 3),
    }


def _point_database_url_at(port: int) -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    userinfo, _, _ = url.netloc.rpartition("@")
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(netloc=netloc))


def _commands(base_url: str, forwarder: TcpForwarder | None) -> dict[str, Any]:
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connections

    def migrate(command: dict[str, Any]) -> dict[str, Any]:
        call_command("migrate", verbosity=0, interactive=False)
        connections.close_all()  # this thread's own connection: no lock, no fd kept
        return {"ok": True}

    def count(command: dict[str, Any]) -> dict[str, Any]:
        total = apps.get_model(command["model"]).objects.count()
        connections.close_all()
        return {"count": total}

    def forwarder_switch(on: bool) -> Any:
        def switch(command: dict[str, Any]) -> dict[str, Any]:
            if forwarder is None:
                raise RuntimeError("started without --forward-to")
            if on:
                forwarder.start()
            else:
                forwarder.stop()
            return {"ok": True}

        return switch

    return {
        "migrate": migrate,
        "post": lambda command: _request(base_url + command["path"], command["body"]),
        "get": lambda command: _request(base_url + command["path"], None),
        "count": count,
        "forwarder_stop": forwarder_switch(on=False),
        "forwarder_start": forwarder_switch(on=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forward-to", help="HOST:PORT of the real database server")
    args = parser.parse_args()

    forwarder: TcpForwarder | None = None
    if args.forward_to:
        host, _, port = args.forward_to.rpartition(":")
        forwarder = TcpForwarder((host, int(port)))
        forwarder.start()
        _point_database_url_at(forwarder.port)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asana_leads.settings_test")
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    commands = _commands(f"http://127.0.0.1:{_serve(get_wsgi_application())}", forwarder)
    _answer(op="started", forwarder_port=forwarder.port if forwarder else None)
    for line in sys.stdin:
        if not line.strip():
            continue
        command: dict[str, Any] = json.loads(line)
        op = command["op"]
        if op == "quit":
            _answer(op=op)
            break
        try:
            _answer(op=op, **commands[op](command))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            _answer(op=op, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    if forwarder is not None:
        forwarder.stop()


if __name__ == "__main__":
    main()
