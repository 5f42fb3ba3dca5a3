"""A whole asana_leads process whose database a test takes away and gives back.

Run by ``tests/intake/test_database_unavailable.py`` as a subprocess, so that the faults are real
(a locked SQLite file, a refused TCP connection, connections cut under a live process) and touch
nothing of the test process's own database connections.

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
import json
import os
import selectors
import socket
import sys
import threading
import time
import traceback
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
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            sockets, self._sockets = set(self._sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
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
                try:
                    sock.close()
                except OSError:
                    pass
            with self._lock:
                self._sockets.difference_update((a, b))


def _answer(**payload: Any) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _response_payload(response: Any, elapsed: float) -> dict[str, Any]:
    try:
        body: Any = json.loads(response.content or b"null")
    except ValueError:
        body = response.content.decode("utf-8", "replace")[:2000]
    return {
        "status": response.status_code,
        "retry_after": response.headers.get("Retry-After"),
        "content_type": response.headers.get("Content-Type"),
        "body": body,
        "elapsed": round(elapsed, 3),
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
        url = urlsplit(os.environ["DATABASE_URL"])
        netloc = url.netloc.rsplit("@", 1)
        userinfo = f"{netloc[0]}@" if len(netloc) == 2 else ""  # noqa: PLR2004
        os.environ["DATABASE_URL"] = urlunsplit(
            url._replace(netloc=f"{userinfo}127.0.0.1:{forwarder.port}")
        )

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asana_leads.settings_test")
    import django

    django.setup()

    from django.apps import apps
    from django.core.management import call_command
    from django.test import Client

    client = Client()
    _answer(op="started", forwarder_port=forwarder.port if forwarder else None)
    for line in sys.stdin:
        if not line.strip():
            continue
        command: dict[str, Any] = json.loads(line)
        op = command["op"]
        try:
            if op == "quit":
                _answer(op=op)
                break
            if op == "migrate":
                call_command("migrate", verbosity=0, interactive=False)
                _answer(op=op, ok=True)
            elif op == "post":
                started = time.monotonic()
                response = client.post(
                    command["path"], data=command["body"], content_type="application/json"
                )
                _answer(op=op, **_response_payload(response, time.monotonic() - started))
            elif op == "get":
                started = time.monotonic()
                response = client.get(command["path"])
                _answer(op=op, **_response_payload(response, time.monotonic() - started))
            elif op == "count":
                model = apps.get_model(command["model"])
                _answer(op=op, count=model.objects.count())
            elif op == "forwarder_stop":
                assert forwarder is not None
                forwarder.stop()
                _answer(op=op, ok=True)
            elif op == "forwarder_start":
                assert forwarder is not None
                forwarder.start()
                _answer(op=op, ok=True)
            else:
                _answer(op=op, error=f"unknown op {op!r}")
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            _answer(op=op, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    if forwarder is not None:
        forwarder.stop()


if __name__ == "__main__":
    main()
