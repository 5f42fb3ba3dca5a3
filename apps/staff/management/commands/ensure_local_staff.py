"""Create the local staff login if none exists, and print it (the password only once) with
what the first login asks for: an authenticator app."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.staff.services import local_staff_ensure


class Command(BaseCommand):
    help = "Create a local staff login (random password, printed once) if none exists."

    def handle(self, *args: Any, **options: Any) -> None:
        staff = local_staff_ensure()
        port = os.environ.get("PORT", "8000")
        admin_url = f"http://127.0.0.1:{port}/{settings.ADMIN_URL}"
        if staff.password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created staff login  username: {staff.username}  password: {staff.password}"
                    "\n(shown once; change it with: python manage.py changepassword "
                    f"{staff.username})"
                )
            )
        else:
            self.stdout.write(
                f"Staff login: {staff.username} (password as set; reset with "
                f"`python manage.py changepassword {staff.username}`)"
            )
        if staff.needs_enrolment:
            self.stdout.write(
                f"Two-factor login: open {admin_url}, enter the username and password and leave "
                "the code empty; then scan the QR code with an authenticator app (or type the "
                "key shown) and confirm one 6-digit code."
            )
        else:
            self.stdout.write(
                f"Log in at {admin_url} with the password and the code from your authenticator "
                f"app (lost it? python manage.py reset_otp_device {staff.username})."
            )
