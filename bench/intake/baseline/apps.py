from __future__ import annotations

from django.apps import AppConfig


class BaselineConfig(AppConfig):
    name = "bench.intake.baseline"
    label = "bench_baseline"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Benchmark baseline (bench only)"
