"""Two-factor devices (django-otp TOTP): checking a code, enrolling an authenticator app."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.privacy.models import AuditEvent
from apps.privacy.services import audit_record

DEVICE_NAME = "Authenticator app"


@dataclass(frozen=True)
class CodeCheck:
    device: Any | None = None  # the device that accepted the code
    needs_enrolment: bool = False
    message: str = ""


def otp_code_check(*, user: AbstractBaseUser, token: str) -> CodeCheck:
    """Check ``token`` against the user's confirmed devices; say when they have none."""
    devices = list(devices_for_user(user, confirmed=True))
    if not devices:
        return CodeCheck(needs_enrolment=True)
    if not token:
        return CodeCheck()
    message = ""
    for candidate in devices:
        with transaction.atomic():
            # Locked: the throttle counter and the replay guard (last_t) are read-modify-write.
            device = type(candidate).objects.select_for_update().get(pk=candidate.pk)
            allowed, _extra = device.verify_is_allowed()
            if not allowed:
                message = "Too many wrong codes: wait a little and try the current one again."
                continue
            if device.verify_token(token):
                return CodeCheck(device=device)
    return CodeCheck(message=message)


def enrolment_device(*, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled for ``user`` (created the first time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def enrolment_secret(*, device: TOTPDevice) -> str:
    """The device's key in base32, grouped in fours, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enrolment_qr_svg(*, device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request, nothing leaves the page)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: str = image.to_string(encoding="unicode")
    # Drop the XML declaration: the markup sits inside the HTML page.
    return svg.split("?>", 1)[-1].strip() if svg.startswith("<?xml") else svg


def enrolment_confirm(*, device: TOTPDevice, token: str, request: Any = None) -> bool:
    """Confirm the device with one code from the app; audited as ``device_enrolled``."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _extra = device.verify_is_allowed()
        if not allowed or not device.verify_token(token):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(
            actor=device.user,
            action=AuditEvent.Action.DEVICE_ENROLLED,
            target=device.user,
            request=request,
            details={"device": "totp"},
        )
    return True
