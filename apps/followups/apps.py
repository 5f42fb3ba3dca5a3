from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "apps.followups"
    verbose_name = "Follow-ups"

    def ready(self) -> None:
        from apps.followups import receivers  # noqa: F401  (connects to intake's seam)
