"""The SQLite test database, shared with the worker and web processes the worker tests start,
lives where no test reads files.

A process that opens and closes a SQLite database file (or its -wal/-shm) while it holds a
connection to it drops its POSIX locks on it; another process writing meanwhile then leaves it
"database disk image is malformed" (reproduced: docs/decisions.md). The no-PHI test reads every
file under VAR_DIR, the card folder and the text folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_the_sqlite_test_database_is_outside_every_folder_tests_read() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    database = Path(str(connection.settings_dict["NAME"])).resolve()
    for folder in (settings.VAR_DIR, settings.PHI_FILES_DIR, settings.SMS_FILE_PATH):
        assert not database.is_relative_to(Path(folder).resolve()), (database, folder)
