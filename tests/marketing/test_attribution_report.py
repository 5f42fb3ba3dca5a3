"""The attribution report: submissions and where they stand (verified, admitted) by source /
medium / campaign and by landing page, groups under the threshold folded into "other", a
chart, a CSV; only for those with the permission."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from apps.leads.models import Submission
from apps.marketing.selectors import attribution_report
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

URL = "/admin/marketing/exportrun/attribution/"


@pytest.fixture
def traffic(post_person: PostPerson) -> None:
    for _ in range(5):
        post_person(
            utm_source="google",
            utm_medium="cpc",
            utm_campaign="rehab-oc",
            page_url="https://asanarecovery.com/verify/?gclid=abc",
        )
    for _ in range(2):
        post_person(
            utm_source="bing",
            utm_medium="cpc",
            utm_campaign="tiny",
            page_url="https://asanarecovery.com/rare-page/",
        )
    google = Submission.objects.filter(utm_source="google").order_by("pk")
    Submission.objects.filter(pk__in=list(google.values_list("pk", flat=True)[:2])).update(
        status=Submission.Status.VERIFIED_IN_NETWORK
    )
    Submission.objects.filter(pk=google.last().pk).update(status=Submission.Status.ADMITTED)  # type: ignore[union-attr]


def test_small_groups_fold_into_other(traffic: None) -> None:
    now = timezone.now()
    report = attribution_report(
        start=now - timezone.timedelta(days=1), end=now + timezone.timedelta(days=1), threshold=5
    )
    assert [(r.label, r.submissions, r.verified, r.admitted) for r in report.by_campaign] == [
        ("google / cpc / rehab-oc", 5, 2, 1),
        ("other", 2, 0, 0),
    ]
    # Query strings (click ids, anything typed) never become a group.
    assert [(r.label, r.submissions) for r in report.by_landing_page] == [
        ("asanarecovery.com/verify/", 5),
        ("other", 2),
    ]


def test_the_admin_page_shows_a_table_and_a_chart(traffic: None, marketer_client: Client) -> None:
    today = timezone.localdate().isoformat()
    page = marketer_client.get(URL, {"start": today, "end": today}).content.decode()
    assert "<svg" in page
    assert "google / cpc / rehab-oc" in page
    assert "tiny" not in page  # folded into "other"


def test_the_report_downloads_as_csv(traffic: None, marketer_client: Client) -> None:
    today = timezone.localdate().isoformat()
    response = marketer_client.get(URL, {"start": today, "end": today, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["group", "label", "submissions", "verified", "admitted"]
    assert ["campaign", "google / cpc / rehab-oc", "5", "2", "1"] in rows


@override_settings(ATTRIBUTION_MIN_GROUP=2)
def test_the_threshold_is_a_setting(traffic: None, marketer_client: Client) -> None:
    today = timezone.localdate().isoformat()
    page = marketer_client.get(URL, {"start": today, "end": today}).content.decode()
    assert "bing / cpc / tiny" in page


def test_a_backwards_range_is_a_form_error(marketer_client: Client) -> None:
    response = marketer_client.get(URL, {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 200
    assert "The end is before the start" in response.content.decode()


@override_settings(ATTRIBUTION_MIN_GROUP=1)
def test_a_page_url_the_parser_refuses_is_a_group_not_an_error(
    post_person: PostPerson, marketer_client: Client
) -> None:
    # The form takes any scheme://...; an unclosed IPv6 bracket made urlsplit raise (a 500).
    post_person(page_url="http://user:pass@[::1/landing")
    today = timezone.localdate().isoformat()

    response = marketer_client.get(URL, {"start": today, "end": today})

    assert response.status_code == 200
    assert "(unreadable)" in response.content.decode()
    assert "user:pass" not in response.content.decode()
