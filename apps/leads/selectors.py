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


def _waiting_for_payer() -> QuerySet[Submission]:
    # Served by the partial index ``submission_needs_payer``.
    return Submission.objects.filter(payer__isnull=True, kind=Submission.Kind.VERIFICATION).exclude(
        insurance_provider_text=""
    )


def submission_payer_texts_waiting() -> list[str]:
    """Every distinct typed insurance name the matcher left for a human."""
    return list(
        _waiting_for_payer()
        .order_by("insurance_provider_text")
        .values_list("insurance_provider_text", flat=True)
        .distinct()
    )


def submission_ids_waiting_for_payer(*, text: str) -> list[int]:
    """The submissions still waiting for a payer whose typed name is exactly ``text``."""
    return list(
        _waiting_for_payer().filter(insurance_provider_text=text).values_list("pk", flat=True)
    )


def submission_payer_mapping_queue(*, limit: int = 200) -> list[dict[str, object]]:
    """Typed insurance names waiting for a human, grouped by text, most leads first, with the
    oldest and newest time each was seen."""
    from django.db.models import Count, Max, Min

    return list(
        _waiting_for_payer()
        .values("insurance_provider_text")
        .annotate(leads=Count("pk"), first_seen=Min("received_at"), last_seen=Max("received_at"))
        .order_by("-leads", "insurance_provider_text")[:limit]
    )
