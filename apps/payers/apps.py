from django.apps import AppConfig


class PayersConfig(AppConfig):
    name = "apps.payers"
    verbose_name = "Payers"
