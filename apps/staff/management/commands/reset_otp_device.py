"""Remove a staff user's two-factor devices (a lost phone): they enrol again at next login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.staff.services import otp_devices_reset


class Command(BaseCommand):
    help = (
        "Delete every two-factor device of USERNAME (audited as device_reset). At their next "
        "login, after the password, they set up an authenticator app again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(options["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"no user named {options['username']!r}") from None
        removed = otp_devices_reset(user=user, actor=None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed {removed} two-factor device(s) of {user.get_username()}. "
                "They set up an authenticator app again at their next login."
            )
        )
