"""Settings for the test suite: the real settings, with test-only keys and fast hashing.

``DATABASE_URL`` and ``REDIS_URL`` still decide the database and broker, so the same suite runs
on the embedded default and on PostgreSQL + Redis.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Test-only keys, never used outside the suite; setdefault lets CI override them.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault(
    "PHI_ENCRYPTION_KEYS",
    "dGVzdC1vbmx5LXBoaS1rZXktbmV3LTAxMjM0NTY3ODk=,dGVzdC1vbmx5LXBoaS1rZXktb2xkLTAxMjM0NTY3ODk=",
)
os.environ.setdefault("PHI_BLIND_INDEX_KEY", "test-only-blind-index-key")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="asana-leads-test-var-"))
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
os.environ.setdefault("TEST_SQLITE_DIR", tempfile.mkdtemp(prefix="asana-leads-test-db-"))

from asana_leads.settings import *  # noqa: F403
from asana_leads.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests post many times from 127.0.0.1; the throttle tests switch it back on.
API_THROTTLE = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The audit log's trigger refuses TRUNCATE; the flush between transactional tests is the
    # one TRUNCATE we allow (migration privacy 0002).
    options = str(DATABASES["default"]["OPTIONS"].get("options", ""))
    DATABASES["default"]["OPTIONS"]["options"] = (
        f"{options} -c asana_leads.audit_truncate=allow".strip()
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as in production, not shared-cache memory: concurrent tests then meet SQLite's
    # real locking (WAL, busy timeout) instead of shared-cache "table is locked" errors.
    # Outside VAR_DIR: tests read every file there (the no-PHI test), and a process that opens
    # and closes a SQLite file it also has a connection to loses its POSIX locks on it; with a
    # worker writing at the same time the file ends "database disk image is malformed"
    # (sqlite.org/howtocorrupt.html 2.2, reproduced: docs/decisions.md).
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(os.environ["TEST_SQLITE_DIR"]) / "test.sqlite3")
    }
