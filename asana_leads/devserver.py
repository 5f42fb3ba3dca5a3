"""``make run``: prepare the embedded defaults and run web, relay, Celery worker and beat.

Migrates, seeds the payer directory, creates a local staff login if there is none (printing its
password once), then supervises the web server, the outbox relay and a Celery worker with
beat; Ctrl-C (or SIGTERM) stops all of them, and if one dies the others are stopped too, so a
half-running stack never passes for a working one.
Production runs the same pieces as separate processes (see the Procfile).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUEUES = "alerts,followups,default,exports"


def _manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True)  # noqa: S603


def _start(name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    print(f"starting {name}: {' '.join(argv[1:])}", flush=True)  # noqa: T201
    return subprocess.Popen(argv, cwd=ROOT)  # noqa: S603


def main() -> int:
    """Prepare, start and supervise the local stack until interrupted."""
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asana_leads.settings")
    port = os.environ.get("PORT", "8000")
    _manage("migrate", "--noinput", "-v", "0")
    _manage("seed_payers")
    _manage("ensure_local_staff")
    var_dir = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    processes = {
        "web": _start("web", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
        "relay": _start("relay", [PYTHON, "manage.py", "outbox_relay"]),
        "worker": _start(
            "worker",
            [
                PYTHON, "-m", "celery", "-A", "asana_leads", "worker", "--beat",
                "-Q", QUEUES, "--concurrency", "2", "--loglevel", "INFO",
                "--schedule", str(var_dir / "celerybeat-schedule"),
            ],
        ),
    }  # fmt: skip
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(  # noqa: T201
        f"\nasana_leads is running: http://127.0.0.1:{port}/  (admin: /admin/, API docs: "
        "/api/docs/). Press Ctrl-C to stop.\n",
        flush=True,
    )
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping", flush=True)  # noqa: T201
                exit_code = 1
                stopping = True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
