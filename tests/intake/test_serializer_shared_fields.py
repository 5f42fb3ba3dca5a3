"""The form serializers bind their fields once per class (DRF would deep-copy them for every
request): validation must stay per request, and no request body may stay behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from apps.intake.serializers import ContactRequestInput, InsuranceVerificationInput


def _body(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "first_name": f"Person{n}",
        "last_name": "Rivera",
        "email": f"Person{n}@Example.org",
        "message": f"message {n}",
        "consent_email": True,
        "consent_sms": False,
        "consent_calls": False,
    } | changes


def test_each_serializer_keeps_its_own_values_and_errors() -> None:
    bad = ContactRequestInput(data=_body(1, phone="not a phone", email=""))
    good = ContactRequestInput(data=_body(2))

    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert set(bad.errors) == {"phone"}
    assert good.errors == {}
    assert good.validated_data["email"] == "person2@example.org"
    assert bad.fields is good.fields  # shared, which is the point


def test_the_shared_fields_hold_no_request_body() -> None:
    serializer = InsuranceVerificationInput(data={"member_id": "SECRET-123"})
    serializer.is_valid()

    root = serializer.fields["member_id"].root
    assert root is not serializer
    assert not hasattr(root, "initial_data")


def test_concurrent_validations_do_not_mix() -> None:
    start = threading.Barrier(8)

    def validate(n: int) -> tuple[int, str, set[str]]:
        body = _body(n, phone="nope", email="") if n % 2 else _body(n)
        serializer = ContactRequestInput(data=body)
        start.wait()
        valid = serializer.is_valid()
        name = serializer.validated_data["first_name"] if valid else ""
        return n, name, set(serializer.errors)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(validate, range(8)))

    for n, name, errors in results:
        assert (name, errors) == (("", {"phone"}) if n % 2 else (f"Person{n}", set()))
