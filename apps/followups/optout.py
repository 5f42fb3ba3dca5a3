"""Who must not be contacted: the suppression list and signed unsubscribe links."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from apps.followups.models import Suppression
from apps.leads.contact import InvalidPhoneNumber, email_normalize, phone_normalize

UNSUBSCRIBE_SALT = "followups.unsubscribe"


def unsubscribe_token(*, person_id: int, channel: str = "email") -> str:
    """A signed, non-guessable token naming the person and channel (no expiry: an old email's
    link must still work, as the law expects)."""
    return signing.dumps({"p": person_id, "c": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    """The (person id, channel) a token names, or None when it was not signed by us."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    return data["p"], str(data.get("c", "email"))


def unsubscribe_url(*, person_id: int, channel: str = "email") -> str:
    """The absolute one-click unsubscribe link for a person's emails."""
    path = reverse(
        "followups:unsubscribe", args=[unsubscribe_token(person_id=person_id, channel=channel)]
    )
    return f"{settings.PUBLIC_BASE_URL}{path}"


def contact_is_suppressed(*, email: str | None = None, phone: str | None = None) -> bool:
    """Whether this normalized email or E.164 phone is on the suppression list."""
    if email and Suppression.objects.filter(kind=Suppression.Kind.EMAIL, value=email).exists():
        return True
    return bool(
        phone and Suppression.objects.filter(kind=Suppression.Kind.PHONE, value=phone).exists()
    )


@transaction.atomic
def suppression_add(
    *, kind: str, value: str, reason: str, source: str = "", created_by_id: int | None = None
) -> tuple[Suppression, bool]:
    """Put a normalized email or phone on the suppression list (idempotent); the row, and
    whether it is new."""
    return Suppression.objects.get_or_create(
        kind=kind,
        value=value,
        defaults={"reason": reason, "source": source[:100], "created_by_id": created_by_id},
    )


def suppression_entry(text: str) -> tuple[str, str] | None:
    """(kind, normalized value) of one email address or phone number as someone typed it,
    or None when it is neither (an address without a domain, a number that is not one)."""
    text = text.strip()
    if "@" in text:
        if text.count("@") == 1 and "." in text.split("@")[1]:
            return Suppression.Kind.EMAIL, email_normalize(text)
        return None
    if any(ch.isdigit() for ch in text):
        try:
            return Suppression.Kind.PHONE, phone_normalize(text)
        except InvalidPhoneNumber:
            return None
    return None
