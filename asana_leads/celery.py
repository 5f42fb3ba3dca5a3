"""The Celery app (cookiecutter-django's bootstrap): settings under the ``CELERY_`` namespace,
tasks discovered in each app's ``tasks.py``, logging configured by Django's ``LOGGING``."""

from __future__ import annotations

import os
from logging.config import dictConfig
from typing import Any

from celery import Celery
from celery.signals import setup_logging
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


@setup_logging.connect
def config_loggers(*args: Any, **kwargs: Any) -> None:
    from django.conf import settings

    dictConfig(settings.LOGGING)
