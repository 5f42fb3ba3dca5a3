"""The real settings, plus the bench-only baseline app and URL (never used outside bench/).

Everything else (middleware, database options, DRF, logging) is exactly the project's, read
from the environment that ``bench/intake/run.py`` sets.
"""

from __future__ import annotations

from asana_leads.settings import *  # noqa: F403
from asana_leads.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.intake.baseline.apps.BaselineConfig"]
ROOT_URLCONF = "bench.intake.urls_bench"
