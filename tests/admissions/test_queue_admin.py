"""The lead queue: what it lists and in which order, its filters and search, and a query count
that does not grow with the number of leads (no COUNT(*), no DISTINCT over submissions)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.leads.models import Submission
from apps.payers.models import Payer
from tests.admissions.factories import lead_make
from tests.conftest import staff_client_for

pytestmark = pytest.mark.django_db
QUEUE = "/admin/leads/submission/"
# The request's own: session, user, the verified TOTP device, the user's permissions (user and
# group), and the idle-logout session write (UPDATE between SAVEPOINT/RELEASE): 8. The queue's:
# the payer filter's choices, the assignee filter's choices and the page of rows with payer and
# assignee joined: 3. A search for a name or a status adds none. The count must not grow with N.
QUEUE_QUERY_BOUND = 11


@pytest.fixture
def client(coordinator: User) -> Client:
    return staff_client_for(coordinator)


def _references(response: object) -> list[str]:
    cl = response.context["cl"]  # type: ignore[attr-defined]
    return [row.reference for row in cl.result_list]


def test_it_lists_open_leads_urgent_first_then_by_sla(client: Client) -> None:
    now = timezone.now()
    later = lead_make(sla_due_at=now + datetime.timedelta(minutes=20))
    sooner = lead_make(sla_due_at=now + datetime.timedelta(minutes=5))
    urgent = lead_make(urgency="urgent", sla_due_at=now + datetime.timedelta(minutes=30))
    lead_make(status="admitted")
    lead_make(is_spam=True)

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert _references(response) == [urgent.reference, sooner.reference, later.reference]


def test_columns_show_the_triage_facts(client: Client, coordinator: User) -> None:
    aetna = Payer.objects.get(slug="aetna")
    lead = lead_make(payer=aetna, assignee=coordinator, first_name="Jordan")

    html = client.get(QUEUE).content.decode()

    for text in (lead.reference, "Jordan", "Verify", "Aetna", "in network", "New", "casey"):
        assert text in html
    assert lead.member_id not in html


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries), url
    assert not any("DISTINCT" in q["sql"].upper() for q in queries.captured_queries), url
    return len(queries.captured_queries)


URLS = [
    QUEUE,
    QUEUE + "?payer=1",
    QUEUE + "?in_network=yes",
    QUEUE + "?queue=verifying",
    QUEUE + "?queue=all",
    QUEUE + "?form=verification",
    QUEUE + "?assignee=mine",
    QUEUE + "?assignee=unassigned",
    QUEUE + "?sla=breached",
    QUEUE + "?received=7d",
    QUEUE + "?treatment=alcohol",
    QUEUE + "?q=lead7%40example.org",
    QUEUE + "?q=%2B17145550007",
    QUEUE + "?q=Alex",
    QUEUE + "?q=K7MQ",
    QUEUE + "?p=2",
]


@pytest.mark.parametrize("url", URLS)
def test_queries_are_bounded_and_do_not_grow_with_the_leads(client: Client, url: str) -> None:
    aetna = Payer.objects.get(slug="aetna")
    for _ in range(3):
        lead_make(payer=aetna, treatment_interest="alcohol")
    few = _count_queries(client, url)
    for _ in range(57):
        lead_make(payer=aetna, treatment_interest="alcohol")
    many = _count_queries(client, url)

    assert few == many
    assert many <= QUEUE_QUERY_BOUND


def test_it_pages_without_counting(client: Client) -> None:
    leads = [lead_make() for _ in range(60)]

    first = client.get(QUEUE)
    second = client.get(QUEUE + "?p=2")

    assert len(first.context["cl"].result_list) == 50
    assert "Next ›" in first.content.decode()
    assert len(second.context["cl"].result_list) == 10
    assert "Next ›" not in second.content.decode()
    assert len(set(_references(first)) | set(_references(second))) == len(leads)


def test_filter_by_payer(client: Client) -> None:
    aetna, cigna = Payer.objects.get(slug="aetna"), Payer.objects.get(slug="cigna")
    mine = lead_make(payer=aetna)
    lead_make(payer=cigna)

    assert _references(client.get(f"{QUEUE}?payer={aetna.pk}")) == [mine.reference]


def test_the_payer_filter_lists_in_network_payers_first(client: Client) -> None:
    lead_make()
    response = client.get(QUEUE)
    payer_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "payer"
    )
    names = [title for _, title in payer_filter.lookup_choices]
    in_network = [name.endswith("✓") for name in names[:-1]]
    assert in_network == sorted(in_network, reverse=True)
    assert any(in_network)
    assert not all(in_network)


def test_filter_in_network(client: Client) -> None:
    in_network = lead_make(payer=Payer.objects.filter(in_network=True).first())
    lead_make(payer=Payer.objects.filter(in_network=False).first())
    unknown = lead_make(payer=None)

    assert _references(client.get(QUEUE + "?in_network=yes")) == [in_network.reference]
    assert _references(client.get(QUEUE + "?in_network=unknown")) == [unknown.reference]


def test_filter_mine_and_unassigned(client: Client, coordinator: User, colleague: User) -> None:
    mine = lead_make(assignee=coordinator)
    lead_make(assignee=colleague)
    free = lead_make()

    assert _references(client.get(QUEUE + "?assignee=mine")) == [mine.reference]
    assert _references(client.get(QUEUE + "?assignee=unassigned")) == [free.reference]
    assert _references(client.get(f"{QUEUE}?assignee={colleague.pk}")) != [free.reference]


def test_filter_sla_breached(client: Client) -> None:
    now = timezone.now()
    breached = lead_make(sla_due_at=now - datetime.timedelta(minutes=1))
    lead_make(sla_due_at=now + datetime.timedelta(minutes=10))
    lead_make(sla_due_at=now - datetime.timedelta(minutes=1), first_touched_at=now)

    assert _references(client.get(QUEUE + "?sla=breached")) == [breached.reference]


def test_filter_status_form_date_and_treatment(client: Client) -> None:
    old = lead_make(received_at=timezone.now() - datetime.timedelta(days=40))
    lost = lead_make(status="lost")
    contact = lead_make(kind="contact")
    ketamine = lead_make(treatment_interest="ketamine_therapy")

    assert _references(client.get(QUEUE + "?queue=lost")) == [lost.reference]
    assert _references(client.get(QUEUE + "?form=contact")) == [contact.reference]
    assert old.reference not in _references(client.get(QUEUE + "?received=30d"))
    assert _references(client.get(QUEUE + "?received=older")) == [old.reference]
    assert _references(client.get(QUEUE + "?treatment=ketamine_therapy")) == [ketamine.reference]


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ("reference", "reference"),
        ("reference_lower_spaced", "reference"),
        ("(714) 555-9001", "phone"),
        ("714555", "phone"),
        ("Jordan.Lee@Example.org", "email"),
        ("jordan.lee@", "email"),
        ("jord", "name"),
        ("Jordan Le", "name"),
    ],
)
def test_search_finds_by_reference_phone_email_or_name(
    client: Client, typed: str, field: str
) -> None:
    target = lead_make(
        first_name="Jordan",
        last_name="Lee",
        email="jordan.lee@example.org",
        phone="+17145559001",
        status="lost",  # search looks beyond the open queue
    )
    lead_make(first_name="Sam", last_name="Ortiz", email="sam@example.org", phone="+19495550000")
    if typed == "reference":
        typed = target.reference
    elif typed == "reference_lower_spaced":
        typed = target.reference.lower().replace("-", " ")

    assert _references(client.get(QUEUE, {"q": typed})) == [target.reference]


def test_search_never_uses_a_contains_match(client: Client) -> None:
    lead_make(first_name="Jordan", email="jordan.lee@example.org")
    with CaptureQueriesContext(connection) as queries:
        client.get(QUEUE, {"q": "ordan"})
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "'%ordan%'" not in sql.lower()
    assert "%ordan" not in sql.lower()


def test_admissions_land_on_the_queue(coordinator: User, manager: User) -> None:
    response = staff_client_for(coordinator).get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    assert staff_client_for(manager).get("/admin/").status_code == 200


def test_bulk_assign_to_me(client: Client, coordinator: User) -> None:
    lead = lead_make()
    client.post(QUEUE, {"action": "assign_to_me", "_selected_action": [lead.pk]})
    assert Submission.objects.get(pk=lead.pk).assignee_id == coordinator.pk


def test_an_action_works_on_the_ticked_leads_only_never_across_the_queue(client: Client) -> None:
    # The list never counts, so "select all" cannot say how many leads it means: with it, one
    # click would log a touch on (and stop the escalations of) every lead the filters match.
    leads = [lead_make() for _ in range(60)]

    client.post(
        QUEUE,
        {"action": "log_touch", "_selected_action": [leads[0].pk], "select_across": "1"},
    )

    touched = Submission.objects.filter(first_touched_at__isnull=False)
    assert list(touched.values_list("pk", flat=True)) == [leads[0].pk]
    assert "objects across all pages" not in client.get(QUEUE + "?p=2").content.decode()
