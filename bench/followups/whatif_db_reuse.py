"""What if the worker reused its PostgreSQL connection between tasks (bench-only)?

Celery 5.7's Django fixup calls ``connection.close()`` before and after every task, whatever
``CONN_MAX_AGE`` says, unless ``CELERY_DB_REUSE_MAX`` is set: every outbox delivery then opens
a new PostgreSQL connection. Loaded only when ``BENCH_WORKER_DB_REUSE=1`` (settings_bench.py
also sets ``CELERY_DB_REUSE_MAX``), this applies the rule Django applies around each request
instead: ``close_old_connections()`` closes a connection that is older than ``CONN_MAX_AGE``
or has seen an error, and keeps the others. The app could do the same in asana_leads/celery.py.
"""

from __future__ import annotations

from typing import Any

from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections


@task_prerun.connect(weak=False)
def _before_task(**_kwargs: Any) -> None:
    close_old_connections()


@task_postrun.connect(weak=False)
def _after_task(**_kwargs: Any) -> None:
    close_old_connections()
