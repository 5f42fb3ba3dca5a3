"""Staff login forms: password and authenticator code on one page; the enrolment code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

from apps.staff.otp import otp_code_check

CODE_DIGITS = 6
CODE_WIDGET = forms.TextInput(
    attrs={
        "autocomplete": "one-time-code",
        "inputmode": "numeric",
        "pattern": "[0-9 ]*",
        "maxlength": "8",
    }
)


def code_failed(request: HttpRequest | None, username: str) -> None:
    """A wrong authenticator code counts as a failed login, so django-axes locks out a
    guesser exactly as it does for passwords."""
    user_login_failed.send(
        sender=__name__, credentials={"username": username, "otp_stage": True}, request=request
    )


class StaffLoginForm(AdminAuthenticationForm):
    """Username, password and the 6-digit code of the authenticator app.

    A staff user who has not enrolled a device yet passes with the password alone and is sent
    on to enrolment (``needs_enrolment``), never logged in before a code is confirmed.
    """

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        widget=CODE_WIDGET,
        help_text="The 6-digit code your authenticator app shows. Leave empty on your first "
        "login: you will set up the app next.",
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "token_required": "Enter the 6-digit code from your authenticator app.",
        "invalid_token": (
            "That authenticator code is not right (or has expired). Try the current one."
        ),
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.needs_enrolment = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # password (counted by django-axes), active staff
        user = self.get_user()
        if user is None:
            return cleaned
        token = (cleaned.get("otp_token") or "").replace(" ", "")
        outcome = otp_code_check(user=user, token=token)
        if outcome.needs_enrolment:
            self.needs_enrolment = True
            return cleaned
        if outcome.device is None:
            if not token:
                raise forms.ValidationError(
                    self.error_messages["token_required"], code="token_required"
                )
            code_failed(self.request, user.get_username())
            raise forms.ValidationError(
                outcome.message or self.error_messages["invalid_token"], code="invalid_token"
            )
        # django_otp's user_logged_in receiver stores it in the session: the user is verified.
        user.otp_device = outcome.device  # type: ignore[union-attr,attr-defined]
        return cleaned


class EnrolForm(forms.Form):
    otp_token = forms.CharField(label="Code from the app", widget=CODE_WIDGET)

    def clean_otp_token(self) -> str:
        token: str = self.cleaned_data["otp_token"].replace(" ", "")
        if not token.isdigit() or len(token) != CODE_DIGITS:
            raise forms.ValidationError("Enter the 6 digits the app shows.")
        return token
