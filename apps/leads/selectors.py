"""Reads of people and submissions for other apps."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.leads.models import Person, Submission


def submission_for_followups(*, submission_id: int) -> Submission | None:
    """The submission with its person and payer, or None if it no longer exists."""
    return Submission.objects.select_related("person", "payer").filter(pk=submission_id).first()


def person_get(*, person_id: int) -> Person | None:
    """A person by id, or None."""
    return Person.objects.filter(pk=person_id).first()


def people_with_contact(*, email: str | None = None, phone: str | None = None) -> QuerySet[Person]:
    """People reachable at this normalized email or E.164 phone."""
    if email:
        return Person.objects.filter(email=email)
    if phone:
        return Person.objects.filter(phone=phone)
    return Person.objects.none()


def person_email_addresses(*, person_id: int) -> set[str]:
    """Every address we may have emailed this person at: their own, and the ones their forms
    gave (a later form may carry another address, and confirmations go to the form's)."""
    person = Person.objects.filter(pk=person_id).only("email").first()
    addresses = {person.email} if person is not None and person.email else set()
    addresses.update(
        Submission.objects.filter(person_id=person_id)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    return addresses


def submission_latest_for_person(*, person_id: int) -> Submission | None:
    """The person's most recent submission (what staff open when they write again)."""
    return Submission.objects.filter(person_id=person_id).order_by("-received_at").first()
