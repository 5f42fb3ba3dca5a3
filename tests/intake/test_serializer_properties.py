"""Whatever a browser, a bot or a broken CMS sends, the forms answer with a 201 or a 4xx naming
what is wrong, never a 500, and a refused post stores nothing (issue 3, section 3).

Hypothesis drives the three Input serializers directly and the three endpoints through DRF's
APIClient, JSON and urlencoded, with arbitrary text, unicode (lone surrogates sent as JSON
escapes, NUL bytes, bidi marks, emoji), values just over and far over the limits, empty values
and wrong types (lists, objects, numbers, null) in every field. Each example starts from a valid
body and replaces some of its fields, so that both 201s and 400s are explored.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.intake.models import IdempotencyKey
from apps.intake.serializers import (
    BookSignupInput,
    ContactRequestInput,
    InsuranceVerificationInput,
    SubmissionInput,
)
from apps.leads.models import CardImage, Consent, ConsentWording, Person, Submission
from tests.conftest import BOOK_PATH, CONTACT_PATH, VERIFICATION_PATH

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # Reproducible in CI; HYPOTHESIS_EXPLORE=1 draws new examples on every run.
    derandomize=not os.environ.get("HYPOTHESIS_EXPLORE"),
)

# --- What the forms send, valid -------------------------------------------------------------

COMMON = {
    "first_name": "Avery",
    "last_name": "Quinn",
    "email": "avery.quinn@example.org",
    "phone": "(949) 555-0117",
    "consent_email": True,
    "consent_sms": "on",
    "consent_calls": "no",
    "consent_text": "I agree to be contacted by email, text and phone.",
    "page_url": "https://asanarecovery.com/verify-insurance/",
    "referrer": "android-app://com.google.android.gm/",
    "utm_source": "google",
    "utm_medium": "cpc",
    "utm_campaign": "vob",
    "utm_term": "rehab near me",
    "utm_content": "ad-3",
    "gclid": "Cj0KCQ-prop",
    "fbclid": "IwAR-prop",
    "website": "",
}
VALID: dict[str, dict[str, Any]] = {
    "contact": {
        **COMMON,
        "message": "My son needs help; can someone call me?",
        "preferred_contact": "text",
        "best_time": "after 6pm",
    },
    "verification": {
        **COMMON,
        "seeking_treatment_for": "loved_one",
        "patient_first_name": "Jordan",
        "patient_last_name": "Quinn",
        "date_of_birth": "1999-01-31",
        "insurance_provider": "blue cross of texas",
        "member_id": "XKZ 123456-01",
        "group_number": "G-77",
        "policy_holder_name": "Avery Quinn",
        "policy_holder_dob": "1970-05-05",
        "relationship_to_policy_holder": "parent",
        "state": "tx",
        "treatment_interest": "dual_diagnosis",
        "message": "",
    },
    "book": {**COMMON, "last_name": ""},
}
# The contract's text limits, to probe the values at, just over and far over them.
LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "patient_first_name": 100,
    "patient_last_name": 100,
    "message": 5000,
    "consent_text": 2000,
    "member_id": 64,
    "group_number": 64,
    "insurance_provider": 255,
    "utm_source": 255,
    "utm_term": 255,
    "gclid": 255,
    "page_url": 2048,
}
SERIALIZERS: dict[str, type[SubmissionInput]] = {
    "contact": ContactRequestInput,
    "verification": InsuranceVerificationInput,
    "book": BookSignupInput,
}
PATHS = {"contact": CONTACT_PATH, "verification": VERIFICATION_PATH, "book": BOOK_PATH}
STORED_MODELS = (Submission, Person, Consent, ConsentWording, CardImage, IdempotencyKey)

# --- Arbitrary values -----------------------------------------------------------------------

NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: no database can store it
    "x\udfffy",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e",
    "\ufeff",
    "😀🏳️‍🌈",
    "ℌ𝔢𝔩𝔭",
    "null",
    "true",
    "on",
    "0",
    "-1",
    "1e309",
    "NaN",
    "1999-02-30",
    "9999-12-31",
    "0001-01-01",
    "+1",
    "+999 999 999 999 999",
    "555",
    "javascript:alert(1)",
    "http://",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%00",
    "\r\n\r\n",
    "a@b",
    "A@EXAMPLE.ORG ",
    "@",
    "self",
    "loved_one",
    "other",
]
WEIRD_CHARS = st.sampled_from(
    list("\x00\x01\x1f\x7f\ud800\udbff\udc00\udfff\u202e\u200f\ufeff\uffff😀𝔢 é-_.@+:/a0")
)


def _sized(limit: int) -> st.SearchStrategy[str]:
    return st.sampled_from([limit, limit + 1, 3 * limit]).map(lambda n: "9" * n)


TEXT = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=40),
    st.text(alphabet=WEIRD_CHARS, max_size=20),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Cf", "So"]), max_size=8),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
JSON_VALUES = st.recursive(
    st.one_of(TEXT, SCALARS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _value_for(field: str) -> st.SearchStrategy[Any]:
    strategies = [TEXT, JSON_VALUES]
    if field in LIMITS:
        strategies.append(_sized(LIMITS[field]))
    return st.one_of(*strategies)


def _fields(kind: str) -> list[str]:
    names = set(VALID[kind]) | set(SERIALIZERS[kind]().fields)
    return sorted(names)


@st.composite
def bodies(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A valid body with some fields replaced by arbitrary values and some removed."""
    body = dict(VALID[kind])
    names = _fields(kind)
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True)):
        body[name] = draw(_value_for(name))
    for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
        body.pop(name, None)
    return body


any_top_level = st.one_of(st.lists(JSON_VALUES, max_size=3), TEXT, SCALARS)

# --- Posting --------------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED_MODELS}


def _post_json(client: APIClient, path: str, body: Any, **headers: Any) -> Any:
    # json.dumps escapes lone surrogates as "\ud800", which is what a broken client sends.
    return client.generic(
        "POST", path, json.dumps(body), content_type="application/json", **headers
    )


def _form_value(value: Any) -> list[str]:
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item) for item in value]
    if isinstance(value, str):
        return [value]
    return [json.dumps(value)]


def _post_form(client: APIClient, path: str, body: dict[str, Any], **headers: Any) -> Any:
    pairs = [(name, item) for name, value in body.items() for item in _form_value(value)]
    # surrogatepass: a lone surrogate goes out as the invalid UTF-8 bytes a broken client sends.
    encoded = urlencode(pairs, doseq=False, errors="surrogatepass")
    return client.generic(
        "POST", path, encoded, content_type="application/x-www-form-urlencoded", **headers
    )


def _assert_answer(response: Any, before: dict[str, int], *, allowed: set[int]) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:500])
    assert response.status_code in allowed, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    after = _counts()
    if response.status_code == 201:
        assert set(payload) >= {"reference", "received_at", "next_steps"}
        assert after["Submission"] == before["Submission"] + 1
        assert after["Consent"] == before["Consent"] + 3
    else:
        assert isinstance(payload, dict)
        assert payload, "an error names what is wrong"
        assert after == before, f"a {response.status_code} stored rows"


# --- The serializers ------------------------------------------------------------------------


def _check_serializer(kind: str, data: Any) -> None:
    serializer = SERIALIZERS[kind](data=data)
    valid = serializer.is_valid()
    assert valid is True or valid is False
    if valid:
        # Nothing that validated may be text a database cannot store.
        for name, value in serializer.validated_data.items():
            if isinstance(value, str):
                assert "\x00" not in value, name
                value.encode("utf-8")
    else:
        assert serializer.errors


@pytest.mark.parametrize("kind", sorted(SERIALIZERS))
def test_it_validates_any_body_without_raising(kind: str) -> None:
    @FUZZ
    @given(body=bodies(kind))
    def run(body: dict[str, Any]) -> None:
        _check_serializer(kind, body)

    run()


@pytest.mark.parametrize("kind", sorted(SERIALIZERS))
def test_it_validates_any_top_level_value_without_raising(kind: str) -> None:
    @FUZZ
    @given(data=any_top_level)
    def run(data: Any) -> None:
        _check_serializer(kind, data)

    run()


def test_it_accepts_the_valid_bodies() -> None:
    """The base bodies are valid, so the fuzzing around them explores 201s too."""
    for kind, serializer_class in SERIALIZERS.items():
        serializer = serializer_class(data=VALID[kind])
        assert serializer.is_valid(), (kind, serializer.errors)


# --- The API --------------------------------------------------------------------------------

ALLOWED = {201, 400, 413}
POSTERS: dict[str, Callable[..., Any]] = {"json": _post_json, "urlencoded": _post_form}


@pytest.mark.parametrize("kind", sorted(SERIALIZERS))
@pytest.mark.parametrize("encoding", sorted(POSTERS))
def test_the_api_answers_any_body_with_201_or_4xx_and_stores_nothing_on_4xx(
    kind: str, encoding: str
) -> None:
    client = APIClient()
    post = POSTERS[encoding]

    @FUZZ
    @given(body=bodies(kind))
    def run(body: dict[str, Any]) -> None:
        before = _counts()
        response = post(client, PATHS[kind], body)
        _assert_answer(response, before, allowed=ALLOWED)

    run()


@pytest.mark.parametrize("kind", sorted(SERIALIZERS))
def test_the_api_answers_any_json_document_with_400(kind: str) -> None:
    client = APIClient()

    @FUZZ
    @given(data=any_top_level)
    def run(data: Any) -> None:
        before = _counts()
        response = _post_json(client, PATHS[kind], data)
        _assert_answer(response, before, allowed={400})

    run()


LATIN1_HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
)


def test_the_api_answers_any_idempotency_key_without_a_5xx() -> None:
    """Header values reach WSGI as latin-1 text; keys repeat across examples with other
    bodies (422) and may be blank or too long (400). A replay answers 201 with the first
    reference and stores nothing."""
    client = APIClient()
    first_answers: dict[str, str] = {}

    @FUZZ
    @given(
        key=st.one_of(st.sampled_from(["k", " ", "", "k" * 255, "k" * 256]), LATIN1_HEADER_TEXT),
        body=bodies("contact"),
    )
    def run(key: str, body: dict[str, Any]) -> None:
        before = _counts()
        response = _post_json(client, CONTACT_PATH, body, HTTP_IDEMPOTENCY_KEY=key)
        replayed = first_answers.get(key.strip())
        if response.status_code == 201 and replayed is not None:
            assert response.json()["reference"] == replayed
            assert _counts() == before, "a replay stored rows"
            return
        _assert_answer(response, before, allowed={201, 400, 413, 422})
        if response.status_code == 201:
            first_answers[key.strip()] = response.json()["reference"]

    run()


@override_settings(API_THROTTLE=True)
@pytest.mark.parametrize("encoding", sorted(POSTERS))
def test_the_throttled_api_answers_any_body_without_a_5xx(encoding: str) -> None:
    """With the throttles on, as in production: they read the email and phone before the
    serializer has judged them, so they meet the raw values first."""
    client = APIClient()
    post = POSTERS[encoding]

    @FUZZ
    @given(body=bodies("contact"))
    def run(body: dict[str, Any]) -> None:
        cache.clear()
        before = _counts()
        response = post(client, CONTACT_PATH, body)
        _assert_answer(response, before, allowed={*ALLOWED, 429})

    run()


# --- A systematic sweep: every field of every form, each nasty value, both encodings --------

SWEEP_VALUES: list[Any] = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\u202eevil\u202c",
    "😀",
    None,
    [],
    {},
    ["a", "b"],
    {"a": 1},
    0,
    -1,
    1.5,
    True,
    2**64,
]


def _sweep_cases() -> list[Any]:
    cases = []
    for kind in sorted(SERIALIZERS):
        for name in _fields(kind):
            values = [*SWEEP_VALUES, "9" * (LIMITS.get(name, 5000) + 1)]
            cases.append(pytest.param(kind, name, values, id=f"{kind}-{name}"))
    return cases


@pytest.mark.parametrize(("kind", "name", "values"), _sweep_cases())
@pytest.mark.parametrize("encoding", sorted(POSTERS))
def test_the_api_answers_every_nasty_value_in_every_field_without_a_5xx(
    kind: str, name: str, values: list[Any], encoding: str
) -> None:
    client = APIClient()
    post = POSTERS[encoding]
    for value in values:
        body = {**VALID[kind], name: value}
        before = _counts()
        response = post(client, PATHS[kind], body)
        _assert_answer(response, before, allowed=ALLOWED)


@override_settings(API_THROTTLE=True)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("email", "\ud800"),
        ("email", "jo\udfff@example.org"),
        ("email", "a\x00b@example.org"),
        ("email", ["a@example.org"]),
        ("email", {"a": 1}),
        ("email", 12),
        ("phone", "\ud800"),
        ("phone", "+1 949 555 0117\udfff"),
        ("phone", "\x00"),
        ("phone", "9" * 5000),
        ("phone", ["(949) 555-0117"]),
        ("phone", None),
    ],
)
def test_the_throttles_meet_raw_contact_details_without_a_5xx(name: str, value: Any) -> None:
    """The throttles read email and phone from the raw body, before the serializer has judged
    them (DRF checks throttles first), so they must survive any value."""
    body = {**VALID["contact"], name: value}
    before = _counts()
    response = _post_json(APIClient(), CONTACT_PATH, body)
    _assert_answer(response, before, allowed={201, 400, 429})


# --- Headers a proxy passes on --------------------------------------------------------------


@pytest.mark.parametrize(
    "forwarded_for",
    [
        "203.0.113.5",
        "198.51.100.1, 203.0.113.5",
        "2001:db8::1",
        "",
        "203.0.113.5:51234",  # Azure and others add ports
        "[2001:db8::1]:443",
        "unknown",  # RFC 7239 proxies' placeholder
        "<script>",
    ],
)
def test_the_client_ip_kept_as_consent_evidence_is_an_ip_whatever_the_proxy_sends(
    forwarded_for: str,
) -> None:
    rest_framework = {**django_settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient(raise_request_exception=False)
    with override_settings(REST_FRAMEWORK=rest_framework):
        response = _post_json(
            client, CONTACT_PATH, VALID["contact"], HTTP_X_FORWARDED_FOR=forwarded_for
        )
    assert response.status_code == 201, (response.status_code, response.content[:300])
    submission = Submission.objects.get(reference=response.json()["reference"])
    addresses = {submission.source_ip, *submission.consents.values_list("ip_address", flat=True)}
    for address in addresses - {None}:
        ipaddress.ip_address(address)
