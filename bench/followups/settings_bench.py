"""The project's settings, plus one bench-only Celery task module (the no-op task).

Nothing else differs from ``asana_leads.settings``: database, broker, queues, acks_late,
prefetch, logging are the project's, read from the environment ``bench/followups/run.py`` sets.

``BENCH_WORKER_DB_CLOSE=1`` (the "what if" run only) puts back Celery's default, which the
project turns off: the worker closes every database connection before and after each task.
"""

from __future__ import annotations

import os

from asana_leads.settings import *  # noqa: F403

# Celery reads CELERY_IMPORTS (namespace "CELERY") and imports the modules in every worker.
CELERY_IMPORTS: tuple[str, ...] = ("bench.followups.noop_tasks",)

if os.environ.get("BENCH_WORKER_DB_CLOSE") == "1":
    # Unset, Celery's Django fixup closes every connection around every task, whatever
    # CONN_MAX_AGE says (asana_leads/celery.py's close_old_connections then finds none open).
    CELERY_DB_REUSE_MAX = None
