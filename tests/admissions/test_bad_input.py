"""Hand-edited or hostile query strings and URLs get a 4xx or a redirect, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.admissions.factories import lead_make
from tests.conftest import staff_client_for

pytestmark = pytest.mark.django_db
QUEUE = "/admin/leads/submission/"
HUGE = "9" * 25


@pytest.fixture
def client(coordinator: User) -> Client:
    lead_make()
    return staff_client_for(coordinator)


@pytest.mark.parametrize(
    "page",
    [
        "0",
        "-1",
        HUGE,
        "100000",  # an OFFSET of five million rows: refused rather than scanned
    ],
)
def test_a_page_out_of_range_sends_back_to_the_queue(client: Client, page: str) -> None:
    response = client.get(f"{QUEUE}?p={page}")

    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}?e=1"


@pytest.mark.parametrize(
    "query",
    [
        "payer=²",  # str.isdigit() says yes, int() says no
        "assignee=²",
        f"payer={HUGE}",  # larger than any database integer
        f"assignee={HUGE}",
    ],
)
def test_a_bad_queue_parameter_is_not_a_server_error(client: Client, query: str) -> None:
    response = client.get(f"{QUEUE}?{query}")

    assert response.status_code == 200, query
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("object_id", ["%C2%B2", "%D9%A1", HUGE])
def test_a_bad_lead_id_in_the_url_is_a_404(client: Client, object_id: str) -> None:
    assert client.get(f"{QUEUE}{object_id}/change/").status_code == 404
