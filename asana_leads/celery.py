"""The Celery app (cookiecutter-django's bootstrap): settings under the ``CELERY_`` namespace,
tasks discovered in each app's ``tasks.py``, logging configured by Django's ``LOGGING``."""

from __future__ import annotations

import os
from logging.config import dictConfig
from typing import Any

from celery import Celery, Task
from celery.signals import setup_logging, task_postrun, task_prerun
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asana_leads.settings")

app = Celery("asana_leads")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Queues by urgency (DESIGN.md): staff alerts and crisis pages never wait behind drips or exports.
app.conf.task_queues = (
    Queue("alerts"),
    Queue("followups"),
    Queue("default"),
    Queue("exports"),
)
app.autodiscover_tasks()


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def database_connections_tidy(sender: Task[Any, Any] | None = None, **kwargs: Any) -> None:
    """Around each task, what Django does around each request: close a connection that saw an
    error or outlived ``CONN_MAX_AGE``, keep the others (``CONN_HEALTH_CHECKS`` pings a kept
    one before its first use).

    Celery's Django fixup would close every connection before and after every task, whatever
    ``CONN_MAX_AGE`` says (a new PostgreSQL connection per delivery, half the worker's
    throughput, docs/benchmarks.md); ``CELERY_DB_REUSE_MAX`` in settings turns that off and
    this takes its place. Eager tasks run inside the caller's request or transaction: theirs.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@setup_logging.connect
def config_loggers(*args: Any, **kwargs: Any) -> None:
    from django.conf import settings

    dictConfig(settings.LOGGING)
