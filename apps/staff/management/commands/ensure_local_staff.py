"""Create the local staff login if none exists, and print it (the password only once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.staff.services import local_staff_ensure


class Command(BaseCommand):
    help = "Create a local staff login (random password, printed once) if none exists."

    def handle(self, *args: Any, **options: Any) -> None:
        staff = local_staff_ensure()
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
