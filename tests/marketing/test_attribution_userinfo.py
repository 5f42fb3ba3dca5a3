"""The attribution report never shows the ``user:password@`` part of a landing page: a visitor
can fill it with anything (credentials, an email address). The rest of the label (host, port,
path) is what the report showed before, and a page with and without it is one group."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from apps.marketing.selectors import attribution_report
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

URL = "/admin/marketing/exportrun/attribution/"
SECRETS = ("user:pass", "pass@", "jane.doe@mail.example", "jane.doe%40mail.example")


@pytest.fixture
def traffic(post_person: PostPerson) -> None:
    for page_url in (
        "https://user:pass@asanarecovery.com/verify/?gclid=abc",
        "https://jane.doe%40mail.example:hunter2@asanarecovery.com/verify/",
        "https://asanarecovery.com/verify/",
        "https://user:pass@asanarecovery.com:8443/rare-page/",
    ):
        post_person(page_url=page_url, referrer="https://user:pass@www.google.com/")


def _range() -> dict[str, str]:
    today = timezone.localdate().isoformat()
    return {"start": today, "end": today}


def test_the_report_groups_pages_without_their_userinfo(traffic: None) -> None:
    now = timezone.now()

    report = attribution_report(
        start=now - timezone.timedelta(days=1), end=now + timezone.timedelta(days=1), threshold=1
    )

    assert [(r.label, r.submissions) for r in report.by_landing_page] == [
        ("asanarecovery.com/verify/", 3),
        ("asanarecovery.com:8443/rare-page/", 1),
    ]


@override_settings(ATTRIBUTION_MIN_GROUP=1)
def test_the_report_page_and_chart_never_show_userinfo(
    traffic: None, marketer_client: Client
) -> None:
    page = marketer_client.get(URL, _range()).content.decode()

    assert "asanarecovery.com/verify/" in page
    assert "asanarecovery.com:8443/rare-page/" in page
    for secret in SECRETS:
        assert secret not in page


@override_settings(ATTRIBUTION_MIN_GROUP=1)
def test_the_report_csv_never_shows_userinfo(traffic: None, marketer_client: Client) -> None:
    response = marketer_client.get(URL, {**_range(), "format": "csv"})

    content = response.content.decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert ["landing_page", "asanarecovery.com/verify/", "3", "0", "0"] in rows
    assert ["landing_page", "asanarecovery.com:8443/rare-page/", "1", "0", "0"] in rows
    for secret in SECRETS:
        assert secret not in content
