from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "apps.followups"
    verbose_name = "Follow-ups"

    def ready(self) -> None:
        from apps.followups import (  # noqa: F401  (the seam's receivers; start-up checks)
            checks,
            receivers,
        )
