"""The contract of the website's forms (contract v1), and nothing more.

Field names, limits and rules are those of ``shared/contract/website-forms.md``. Validation
normalizes (E.164 phones, lowercased emails, upper-case states); deciding what a submission
means (payer, crisis, spam) is the intake service's job.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.utils.serializer_helpers import BindingDict

from apps.intake.card_images import (
    CardImageRejected,
    CardImageTooLarge,
    PreparedCard,
    card_image_prepare,
)
from apps.leads.contact import InvalidPhoneNumber, email_normalize, phone_normalize
from apps.leads.models import Submission

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

US_STATES = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    }
)
MEMBER_ID_PATTERN = re.compile(r"^[A-Za-z0-9 -]+$")
URL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
MAX_AGE_YEARS = 120


class CardTooLarge(exceptions.APIException):
    """413 naming the file field that is over the limit."""

    status_code = 413
    default_detail = "The file is too large."
    default_code = "file_too_large"


class FormText(serializers.CharField):
    """Text as people type it: trimmed; NUL bytes and lone surrogates (which no database can
    store) are a 400, not a 500."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "invalid_text": "Contains characters that are not valid text.",
    }

    def to_internal_value(self, data: Any) -> str:
        value: str = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("invalid_text")
        return value


class FormUrl(FormText):
    """A URL of any scheme (``android-app://`` referrers are real), at most 2048 characters."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "invalid_url": "Enter a full URL, such as https://example.org/page.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 2048)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value and not URL_PATTERN.match(value):
            self.fail("invalid_url")
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "boolean"},
            {
                "type": "string",
                "enum": ["on", "off", "true", "false", "1", "0", "yes", "no", ""],
            },
        ],
        "nullable": True,
        "default": False,
        "description": "A JSON boolean or a form string; absent or empty is false.",
    }
)
class FormBoolean(serializers.BooleanField):
    """JSON booleans or form strings: ``on``/``true``/``1``/``yes``; absent, empty or
    ``off``/``false``/``0``/``no`` are false."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if data == "" or data is None:
            return False
        return bool(super().to_internal_value(data))


class FormDate(serializers.DateField):
    """``YYYY-MM-DD``, not in the future, not more than 120 years ago."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "future": "Cannot be in the future.",
        "too_old": "Cannot be more than 120 years ago.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> datetime.date:
        date: datetime.date = super().to_internal_value(value)
        today = timezone.localdate()
        if date > today:
            self.fail("future")
        try:
            oldest = today.replace(year=today.year - MAX_AGE_YEARS)
        except ValueError:  # 29 February
            oldest = today.replace(year=today.year - MAX_AGE_YEARS, day=28)
        if date < oldest:
            self.fail("too_old")
        return date


class FormChoice(serializers.ChoiceField):
    """One of the listed values. The error names the allowed values, not what was sent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        allowed = ", ".join(str(choice) for choice in self.choices)
        self.error_messages["invalid_choice"] = f"Use one of: {allowed}."


_BOUND_FIELDS: dict[type[serializers.Serializer[Any]], BindingDict] = {}


def _optional_text(max_length: int) -> FormText:
    return FormText(max_length=max_length, required=False, allow_blank=True, default="")


class SubmissionInput(serializers.Serializer[dict[str, Any]]):
    """Fields every form may send."""

    @property
    def fields(self) -> BindingDict:  # type: ignore[override]
        # DRF deep-copies and binds every declared field for each serializer it creates: about
        # half of a post's validation CPU. These fields keep no per-request state (the values
        # and errors live in the serializer), so each form class binds one set, once, to an
        # instance that never sees a request body, and every request validates through it.
        shared = _BOUND_FIELDS.get(type(self))
        if shared is None:
            template = type(self)()
            shared = serializers.Serializer.fields.func(template)  # type: ignore[attr-defined]
            _BOUND_FIELDS[type(self)] = shared
        return shared

    first_name = FormText(max_length=100)
    last_name = _optional_text(100)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = _optional_text(32)
    consent_email = FormBoolean(help_text="Agrees to follow-up and marketing email.")
    consent_sms = FormBoolean(help_text="Agrees to text messages (TCPA).")
    consent_calls = FormBoolean(help_text="Agrees to phone calls, including automated (TCPA).")
    consent_text = _optional_text(2000)
    page_url = FormUrl(help_text="The page the form sat on.")
    referrer = FormUrl(help_text="Where the visitor came from.")
    utm_source = _optional_text(255)
    utm_medium = _optional_text(255)
    utm_campaign = _optional_text(255)
    utm_term = _optional_text(255)
    utm_content = _optional_text(255)
    gclid = _optional_text(255)
    fbclid = _optional_text(255)
    website = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="Honeypot: leave empty. Hidden from humans.",
    )

    def validate_email(self, value: str) -> str:
        return email_normalize(value) if value else ""

    def validate_phone(self, value: str) -> str:
        if not value:
            return ""
        try:
            return phone_normalize(value)
        except InvalidPhoneNumber:
            raise serializers.ValidationError(
                "Enter a phone number, such as (555) 123-4567 or +44 20 7946 0958."
            ) from None

    def validate_website(self, value: str) -> str:
        # Whatever a bot put there, we only need to know that it did.
        return "filled" if value.strip() else ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(
                {"non_field_errors": ["Give an email address or a phone number."]}
            )
        return attrs


class ContactRequestInput(SubmissionInput):
    """ "Send Us a Message"."""

    last_name = FormText(max_length=100)

    message = FormText(max_length=5000)
    preferred_contact = FormChoice(
        choices=Submission.PreferredContact.choices, required=False, allow_blank=True, default=""
    )
    best_time = _optional_text(200)


def _card_field(side: str) -> serializers.FileField:
    return serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text=f"Insurance card {side}: JPEG, PNG, HEIC or PDF, at most 10 MB (multipart).",
    )


class InsuranceVerificationInput(SubmissionInput):
    """ "Verify Insurance for Free": a verification-of-benefits request."""

    last_name = FormText(max_length=100)

    seeking_treatment_for = FormChoice(
        choices=Submission.SeekingFor.choices, required=False, default=Submission.SeekingFor.SELF
    )
    patient_first_name = _optional_text(100)
    patient_last_name = _optional_text(100)
    date_of_birth = FormDate(help_text="The patient's date of birth, YYYY-MM-DD.")
    insurance_provider = FormText(
        max_length=255,
        help_text="A slug from /api/v1/payers/ or whatever the person typed.",
    )
    member_id = FormText(
        max_length=64,
        validators=[
            RegexValidator(MEMBER_ID_PATTERN, "Use only letters, digits, spaces and dashes.")
        ],
    )
    group_number = _optional_text(64)
    policy_holder_name = _optional_text(200)
    policy_holder_dob = FormDate(required=False, allow_null=True, default=None)
    relationship_to_policy_holder = FormChoice(
        choices=Submission.Relationship.choices, required=False, allow_blank=True, default=""
    )
    state = _optional_text(2)
    treatment_interest = FormChoice(
        choices=Submission.TreatmentInterest.choices, required=False, allow_blank=True, default=""
    )
    message = _optional_text(5000)
    card_front = _card_field("front")
    card_back = _card_field("back")

    def validate_state(self, value: str) -> str:
        state = value.upper()
        if state and state not in US_STATES:
            raise serializers.ValidationError("Use the two-letter US state code, such as CA.")
        return state

    def _prepare_card(self, upload: UploadedFile | None, field_name: str) -> PreparedCard | None:
        if upload is None:
            return None
        try:
            return card_image_prepare(upload=upload, field_name=field_name)
        except CardImageTooLarge as exc:
            raise CardTooLarge({field_name: [str(exc)]}) from None
        except CardImageRejected as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_card_front(self, value: UploadedFile | None) -> PreparedCard | None:
        return self._prepare_card(value, "card_front")

    def validate_card_back(self, value: UploadedFile | None) -> PreparedCard | None:
        return self._prepare_card(value, "card_back")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("seeking_treatment_for") == Submission.SeekingFor.LOVED_ONE:
            errors = {
                name: ["Required when seeking treatment for a loved one."]
                for name in ("patient_first_name", "patient_last_name")
                if not attrs.get(name)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class BookSignupInput(SubmissionInput):
    """ "Get the free book": the book is sent whatever ``consent_email`` says."""

    email = serializers.EmailField(max_length=254)


class SubmissionReceipt(serializers.Serializer[dict[str, Any]]):
    """The 201 answer. A reference to quote on the phone; never anything the person sent."""

    reference = serializers.CharField(help_text="Short, read-aloud friendly, e.g. K7MQ-4T9R.")
    received_at = serializers.DateTimeField()
    next_steps = serializers.CharField()
    crisis_resources = serializers.DictField(
        required=False,
        help_text="Present only when the text reads like a crisis: 988 and 911.",
    )
