"""``manage.py seed_demo --leads N``: fake leads for demos and load tests (never production)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.leads.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Generate N fake leads (people, submissions, consent evidence) with fake PHI encrypted "
        "like real PHI. COPY on PostgreSQL (1,000,000 in minutes), bulk_create elsewhere."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, required=True, help="How many submissions.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed (reproducible).")
        parser.add_argument(
            "--days", type=int, default=180, help="Spread received_at over this many days."
        )
        parser.add_argument("--batch-size", type=int, default=10_000)
        parser.add_argument("--staff", type=int, default=5, help="Demo coordinators to assign.")
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Run even though DEBUG is off.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["not_production"]:
            raise CommandError(
                "DEBUG is off: this looks like production, and fake leads would land among real "
                "ones. Set DJANGO_DEBUG=true, or pass --i-know-this-is-not-production."
            )
        leads: int = options["leads"]
        if leads < 1:
            raise CommandError("--leads must be at least 1.")
        if options["days"] < 1 or options["batch_size"] < 1 or options["staff"] < 0:
            raise CommandError("--days and --batch-size must be positive, --staff not negative.")

        def progress(done: int, total: int, seconds: float) -> None:
            rate = done / seconds if seconds else 0.0
            eta = (total - done) / rate if rate else 0.0
            self.stdout.write(
                f"\rseed_demo: {done:,}/{total:,} leads ({done / total:.0%}) "
                f"{rate:,.0f}/s, {seconds:.0f}s elapsed, eta {eta:.0f}s",
                ending="",
            )
            self.stdout.flush()

        result = demo_seed(
            leads=leads,
            seed=options["seed"],
            days=options["days"],
            batch_size=options["batch_size"],
            staff=options["staff"],
            progress=progress,
        )
        self.stdout.write("")
        self.stdout.write(
            f"seed_demo: {result.leads:,} leads, {result.people:,} people, "
            f"{result.consents:,} consent rows in {result.seconds:.1f}s"
        )
