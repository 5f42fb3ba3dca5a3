"""WSGI entry point (gunicorn asana_leads.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asana_leads.settings")

application = get_wsgi_application()
