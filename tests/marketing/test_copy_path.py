"""On PostgreSQL, CSV goes through COPY wrapped around the selector's SQL; it must give the same
file as the Python writer: same rows, same neutralized cells, same bytes."""

from __future__ import annotations

import io

import pytest
from django.db import connection

from apps.leads.models import Person
from apps.marketing.pg_copy import csv_copy_write
from apps.marketing.selectors import (
    CONTACT_COLUMNS,
    CONTACT_SOURCES,
    TIMESTAMP_SOURCES,
    ContactFilters,
    marketable_contacts,
    marketable_contacts_iter,
)
from apps.marketing.writers import csv_write
from tests.marketing.conftest import PostPerson

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the COPY path exists on PostgreSQL only"
    ),
]


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_copy_and_python_write_the_same_bytes(post_person: PostPerson, channel: str) -> None:
    tricky = [
        ('=HYPERLINK("x")', 'O"Neil, Jr'),
        ("+1234", "-minus"),
        ("@at", "\tTab"),
        ("José", ""),
        ("Line\nbreak", "\rcr"),
    ]
    for index, (first, last) in enumerate(tricky):
        person = post_person(phone=f"(949) 555-01{index:02d}", consent_sms=True)
        Person.objects.filter(pk=person.pk).update(
            first_name=first, last_name=last, latest_utm_campaign="=evil()" if index else ""
        )
    filters = ContactFilters(channel=channel)
    python_out, copy_out = io.BytesIO(), io.BytesIO()
    python = csv_write(
        rows=marketable_contacts_iter(filters=filters),
        header=CONTACT_COLUMNS,
        out=python_out,
        bom=True,
    )
    copied = csv_copy_write(
        rows=marketable_contacts(filters=filters),
        sources=CONTACT_SOURCES,
        timestamp_sources=TIMESTAMP_SOURCES,
        header=CONTACT_COLUMNS,
        out=copy_out,
        bom=True,
    )
    assert copied.rows == python.rows == len(tricky)
    assert copy_out.getvalue() == python_out.getvalue()
    assert copied.sha256 == python.sha256
    assert b"'=HYPERLINK" in copy_out.getvalue()
