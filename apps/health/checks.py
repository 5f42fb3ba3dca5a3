"""Checks of the services a submission depends on, each answering None or a short problem."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.db import connection
from kombu.transport import filesystem

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def database_problem() -> str | None:
    """None when a trivial query round-trips, else the kind of failure (never credentials)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; its type is reported
        logger.warning("readiness: database check failed: %s", type(exc).__name__)
        return f"database did not answer ({type(exc).__name__})"
    return None


def broker_problem() -> str | None:
    """None when the Celery broker accepts a connection within the timeout."""
    from asana_leads.celery import app

    try:
        with app.connection_for_write() as conn:
            if isinstance(conn.transport, filesystem.Transport):
                # The embedded broker "connects" without touching disk: prove the queue folder
                # is there and writable instead.
                folder = Path((conn.transport_options or {})["data_folder_out"])
                if not (folder.is_dir() and os.access(folder, os.W_OK)):
                    return "broker queue folder is missing or not writable"
                return None
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; its type is reported
        logger.warning("readiness: broker check failed: %s", type(exc).__name__)
        return f"broker did not answer ({type(exc).__name__})"
    return None
