"""Prove the audit log's hash chain unbroken, or name the first row that breaks it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.privacy.services import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Recompute the audit log's hash chain. Exit 0 when every row fits; exit 1 naming the "
        "first row that was changed, removed or inserted out of order."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.intact:
            self.stderr.write(
                f"Audit log chain BROKEN at row id {report.broken_id}: {report.problem}. "
                f"{report.checked} rows before it are intact."
            )
            raise CommandError("audit log chain broken", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Audit log chain intact: {report.checked} rows."))
