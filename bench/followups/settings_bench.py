"""The project's settings, plus one bench-only Celery task module (the no-op task).

Nothing else differs from ``asana_leads.settings``: database, broker, queues, acks_late,
prefetch, logging are the project's, read from the environment ``bench/followups/run.py`` sets.
"""

from __future__ import annotations

from asana_leads.settings import *  # noqa: F403

# Celery reads CELERY_IMPORTS (namespace "CELERY") and imports the module in every worker.
CELERY_IMPORTS = ("bench.followups.noop_tasks",)
