"""Who a list holds: consented for the channel (the latest decision deciding), not suppressed,
not do-not-contact, not Part 2 restricted, not spam; book signups unless inquiries are asked
for with the 42 CFR 2.32 acknowledgement."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from apps.followups.models import Suppression
from apps.followups.optout import suppression_add
from apps.leads.models import Person
from apps.leads.services import consent_revoke
from apps.marketing.selectors import (
    CONTACT_COLUMNS,
    ContactFilters,
    Part2AcknowledgementRequired,
    marketable_contacts,
    marketable_contacts_count,
)
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db


def _emails(**kwargs: object) -> set[str]:
    filters = ContactFilters(channel=kwargs.pop("channel", "email"), **kwargs)  # type: ignore[arg-type]
    column = CONTACT_COLUMNS.index("email")
    return {row[column] for row in marketable_contacts(filters=filters)}


def test_it_lists_a_consenting_book_signup_with_its_columns(post_person: PostPerson) -> None:
    person = post_person()
    rows = list(marketable_contacts(filters=ContactFilters(channel="email")))
    assert len(rows) == 1
    row = dict(zip(CONTACT_COLUMNS, rows[0], strict=True))
    assert row["email"] == person.email
    assert row["phone"] == ""
    assert row["consent_channel"] == "email"
    assert row["consented_at"] == person.consent_email_at
    assert len(row["consent_wording_id"]) == 64
    assert row["first_source"] == row["latest_source"] == "newsletter"
    assert row["first_campaign"] == "spring-book"


def test_it_leaves_out_people_who_did_not_consent(post_person: PostPerson) -> None:
    post_person(consent_email=False)
    assert _emails() == set()


def test_the_latest_consent_decides(post_person: PostPerson) -> None:
    person = post_person()
    consent_revoke(person_id=person.pk, channels=("email",), source="unsubscribe_link")
    assert _emails() == set()
    post_person(email=person.email)  # signs up again, ticking the box
    assert _emails() == {person.email}
    consent_revoke(person_id=person.pk, channels=("email",), source="unsubscribe_link")
    assert _emails() == set()


def test_it_leaves_out_suppressed_addresses(post_person: PostPerson) -> None:
    person = post_person()
    post_person(email="kept@example.org")
    suppression_add(kind=Suppression.Kind.EMAIL, value=person.email or "", reason="imported")
    assert _emails() == {"kept@example.org"}


@pytest.mark.parametrize("flag", ["do_not_contact", "part2_restricted"])
def test_it_leaves_out_flagged_people(post_person: PostPerson, flag: str) -> None:
    person = post_person()
    Person.objects.filter(pk=person.pk).update(**{flag: True})
    assert _emails() == set()
    assert _emails(signup_kind="all", include_inquiries=True) == set()


def test_inquiries_only_with_the_part2_option(post_person: PostPerson) -> None:
    book = post_person()
    inquiry = post_person("contact")
    assert _emails() == {book.email}
    assert _emails(signup_kind="all", include_inquiries=True) == {book.email, inquiry.email}
    assert _emails(signup_kind="inquiry", include_inquiries=True) == {inquiry.email}
    with pytest.raises(Part2AcknowledgementRequired):
        ContactFilters(channel="email", signup_kind="all")


def test_a_book_signup_who_later_inquires_leaves_the_book_list(post_person: PostPerson) -> None:
    person = post_person()
    post_person("contact", email=person.email)
    assert _emails() == set()


def test_spam_only_people_are_not_subscribers(post_person: PostPerson) -> None:
    post_person(website="http://spam.example")
    assert _emails() == set()


def test_the_sms_list_holds_phones_of_people_who_consented_to_texts(
    post_person: PostPerson,
) -> None:
    texter = post_person(phone="(949) 555-0101", consent_sms=True)
    post_person(phone="(949) 555-0102", consent_sms=False)
    rows = list(marketable_contacts(filters=ContactFilters(channel="sms")))
    assert [(r[2], r[3]) for r in rows] == [("", texter.phone)]
    suppression_add(kind=Suppression.Kind.PHONE, value=texter.phone or "", reason="sms_stop")
    assert marketable_contacts_count(filters=ContactFilters(channel="sms")) == 0


def test_it_filters_by_consent_time_source_and_campaign(post_person: PostPerson) -> None:
    old = post_person(utm_source="facebook", utm_campaign="winter")
    Person.objects.filter(pk=old.pk).update(
        consent_email_at=timezone.now() - datetime.timedelta(days=30)
    )
    new = post_person()
    since = timezone.now() - datetime.timedelta(days=1)
    assert _emails(since=since) == {new.email}
    assert _emails(until=since) == {old.email}
    assert _emails(source="facebook") == {old.email}
    assert _emails(campaign="spring-book") == {new.email}
    assert marketable_contacts_count(filters=ContactFilters(channel="email", since=since)) == 1
