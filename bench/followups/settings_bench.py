"""The project's settings, plus one bench-only Celery task module (the no-op task).

Nothing else differs from ``asana_leads.settings``: database, broker, queues, acks_late,
prefetch, logging are the project's, read from the environment ``bench/followups/run.py`` sets.

``BENCH_WORKER_DB_REUSE=1`` (the "what if" run only) makes the worker keep its PostgreSQL
connection between tasks the way Django does between requests: see ``whatif_db_reuse.py``.
"""

from __future__ import annotations

import os

from asana_leads.settings import *  # noqa: F403

# Celery reads CELERY_IMPORTS (namespace "CELERY") and imports the modules in every worker.
CELERY_IMPORTS: tuple[str, ...] = ("bench.followups.noop_tasks",)

if os.environ.get("BENCH_WORKER_DB_REUSE") == "1":
    # Celery's Django fixup closes every connection before and after each task unless this is
    # set; with it set, it closes them only every DB_REUSE_MAX tasks (effectively never here),
    # and whatif_db_reuse.py applies Django's own rule instead (CONN_MAX_AGE, broken links).
    CELERY_DB_REUSE_MAX = 1_000_000
    CELERY_IMPORTS = (*CELERY_IMPORTS, "bench.followups.whatif_db_reuse")
