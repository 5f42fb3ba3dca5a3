"""The admin app, served by the two-factor admin site (``apps.staff.admin_site``).

Listed in INSTALLED_APPS in place of ``django.contrib.admin``: every ``@admin.register`` in the
project then lands on the two-factor site without knowing about it.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "apps.staff.admin_site.StaffAdminSite"
