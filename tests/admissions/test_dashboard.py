"""The dashboard: leads by payer and status, speed to first touch, SLA breaches, conversion."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.admissions.selectors import dashboard_figures
from apps.payers.models import Payer
from tests.admissions.factories import lead_make
from tests.conftest import staff_client_for

pytestmark = pytest.mark.django_db


def _lead_touched_after(minutes: int, **fields: object) -> None:
    received = timezone.now() - datetime.timedelta(hours=2)
    lead_make(
        received_at=received,
        sla_due_at=received + datetime.timedelta(minutes=15),
        first_touched_at=received + datetime.timedelta(minutes=minutes),
        **fields,
    )


def test_figures_for_the_window() -> None:
    aetna, cigna = Payer.objects.get(slug="aetna"), Payer.objects.get(slug="cigna")
    for minutes in (2, 4, 6, 8, 10, 12, 14, 16, 18, 100):
        _lead_touched_after(minutes, payer=aetna)
    _lead_touched_after(3, payer=cigna, status="admitted")
    lead_make(payer=cigna, sla_due_at=timezone.now() - datetime.timedelta(minutes=1))
    lead_make(received_at=timezone.now() - datetime.timedelta(days=30))  # outside
    lead_make(is_spam=True)
    lead_make(kind="book")

    figures = dashboard_figures(since=timezone.now() - datetime.timedelta(days=1))

    assert figures.total == 12
    by_payer = {name: n for name, _, n in figures.by_payer}
    assert by_payer == {"Aetna": 10, "Cigna Healthcare": 2}
    assert figures.touched == 11
    assert figures.first_touch_median_minutes == 10
    assert figures.first_touch_p90_minutes == 18
    # Touched after the 15-minute SLA (16, 18, 100) plus one untouched past due.
    assert figures.sla_breaches == 4
    conversion = {
        name: (leads, admitted) for name, leads, admitted, _ in figures.conversion_by_payer
    }
    assert conversion["Cigna Healthcare"] == (2, 1)


def test_the_page_draws_inline_svg_charts(coordinator: User) -> None:
    _lead_touched_after(3, payer=Payer.objects.get(slug="aetna"))

    response = staff_client_for(coordinator).get("/admin/leads/submission/dashboard/?window=7d")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") >= 3
    assert "Aetna" in html
    assert "cdn" not in html.lower()


def test_p90_is_the_nearest_rank_whatever_the_number_of_leads() -> None:
    # Ten leads touched after 1..10 minutes: nine in ten were touched within 9 minutes.
    for minutes in range(1, 11):
        _lead_touched_after(minutes)

    figures = dashboard_figures(since=timezone.now() - datetime.timedelta(days=1))

    assert figures.first_touch_median_minutes == 5.5
    assert figures.first_touch_p90_minutes == 9


def test_the_histogram_buckets_time_to_first_touch() -> None:
    for minutes in (0, 5, 6, 15, 29, 45, 61, 240, 241, 600):
        _lead_touched_after(minutes)
    lead_make()  # not touched yet: in no bucket

    figures = dashboard_figures(since=timezone.now() - datetime.timedelta(days=1))

    assert figures.first_touch_histogram == [
        ("≤5 min", 2),
        ("5–15", 2),
        ("15–30", 1),
        ("30–60", 1),
        ("1–4 h", 2),
        ("> 4 h", 2),
    ]
    assert figures.touched == 10


@pytest.mark.skipif(connection.vendor != "postgresql", reason="percentiles in SQL: PostgreSQL")
def test_the_figures_are_computed_in_the_database_not_over_fetched_rows() -> None:
    # A 90-day window is hundreds of thousands of leads: none of them is read into Python.
    for minutes in (2, 4, 6):
        _lead_touched_after(minutes)

    with CaptureQueriesContext(connection) as queries:
        figures = dashboard_figures(since=timezone.now() - datetime.timedelta(days=90))

    assert figures.first_touch_median_minutes == 4
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        assert "COUNT(" in sql or "PERCENTILE_" in sql, sql
