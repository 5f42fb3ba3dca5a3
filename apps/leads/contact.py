"""How contact details are normalized, so the same person is found again however they type."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number we could call or text."""


def email_normalize(email: str) -> str:
    """Trimmed and lowercased: mailbox names are case-insensitive in practice, and people type
    ``Jane.Doe@Gmail.com`` one day and ``jane.doe@gmail.com`` the next."""
    return email.strip().lower()


def phone_normalize(text: str) -> str:
    """E.164 (``+15551234567``) from any common US format or a ``+`` international number.

    A number only has to be *possible* (right length for its country), not assigned: reserved
    ranges such as 555 still reach a human at admissions, who can tell.
    """
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(str(exc)) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
