"""Every staff login takes a password and a code from an authenticator app; a user without a
device enrols one after the password; a lost device is reset by a command."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.privacy.models import AuditEvent
from tests.conftest import staff_client_for
from tests.staff.conftest import current_code, device_of, login_post

pytestmark = pytest.mark.django_db


def test_password_and_code_open_the_admin(make_staff: Callable[..., User]) -> None:
    user = make_staff("casey", "Admissions")
    client = Client()

    response = login_post(client, "casey", code=current_code(device_of(user)))

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    login = AuditEvent.objects.filter(action="login", actor=user).get()
    assert login.details == {"second_factor": "TOTPDevice"}


def test_a_password_without_the_code_is_not_enough(make_staff: Callable[..., User]) -> None:
    make_staff("casey", "Admissions")
    client = Client()

    response = login_post(client, "casey")

    assert response.status_code == 200
    assert "Enter the 6-digit code" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_is_refused_and_audited_without_the_password(
    make_staff: Callable[..., User],
) -> None:
    user = make_staff("casey", "Admissions")
    right = current_code(device_of(user))
    wrong = str((int(right) + 1) % 1_000_000).zfill(6)
    client = Client()

    response = login_post(client, "casey", code=wrong)

    assert response.status_code == 200
    assert "not right" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.details == {"username": "casey", "stage": "second_factor"}
    assert "correct horse" not in str(failed.details) + failed.reason


def test_a_wrong_password_is_audited_without_the_password(make_staff: Callable[..., User]) -> None:
    make_staff("casey", "Admissions")

    login_post(Client(), "casey", password="hunter2-wrong-guess")

    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.details == {"username": "casey"}
    assert failed.actor is None
    assert failed.ip_address == "127.0.0.1"


def test_a_session_with_a_password_only_never_reaches_the_admin(
    make_staff: Callable[..., User],
) -> None:
    user = make_staff("casey", "Admissions")
    client = Client()
    client.force_login(user)  # authenticated, but no device verified this session

    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/leads/submission/").status_code == 302
    assert staff_client_for(user, client).get("/admin/").status_code == 200


def _enrol(client: Client, username: str) -> tuple[TOTPDevice, str]:
    response = login_post(client, username)
    assert response.status_code == 302
    assert response["Location"] == "/admin/enrol/"
    page = client.get("/admin/enrol/")
    assert page.status_code == 200
    return TOTPDevice.objects.get(user__username=username, confirmed=False), page.content.decode()


def test_a_new_user_enrols_after_the_password(make_staff: Callable[..., User]) -> None:
    user = make_staff("newbie", "Admissions", enrolled=False)
    client = Client()

    device, html = _enrol(client, "newbie")

    assert "<svg" in html
    secret = re.search(r'id="enrol-secret">([A-Z2-7 ]+)<', html)
    assert secret is not None
    assert len(secret.group(1).replace(" ", "")) == 32
    # Not logged in yet: the password alone opens nothing.
    assert client.get("/admin/").status_code == 302

    confirmed = client.post("/admin/enrol/", {"otp_token": current_code(device)})

    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="device_enrolled", actor=user).exists()
    assert AuditEvent.objects.filter(action="login", actor=user).exists()


def test_enrolment_refuses_a_wrong_code(make_staff: Callable[..., User]) -> None:
    make_staff("newbie", "Admissions", enrolled=False)
    client = Client()
    device, _html = _enrol(client, "newbie")
    wrong = str((int(current_code(device)) + 1) % 1_000_000).zfill(6)

    response = client.post("/admin/enrol/", {"otp_token": wrong})

    assert response.status_code == 200
    assert "not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302


def test_enrolment_is_closed_without_the_password_step(make_staff: Callable[..., User]) -> None:
    make_staff("newbie", "Admissions", enrolled=False)

    response = Client().get("/admin/enrol/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/"
    assert not TOTPDevice.objects.exists()


def test_a_user_with_a_device_cannot_enrol_another_with_the_password(
    make_staff: Callable[..., User],
) -> None:
    make_staff("casey", "Admissions")
    client = Client()

    response = login_post(client, "casey")

    assert response.status_code == 200  # asked for the code, not sent to enrolment
    assert client.get("/admin/enrol/").status_code == 302
    assert TOTPDevice.objects.filter(user__username="casey").count() == 1


def test_reset_otp_device_sends_the_user_back_to_enrolment(make_staff: Callable[..., User]) -> None:
    user = make_staff("casey", "Admissions")
    out = StringIO()

    call_command("reset_otp_device", "casey", stdout=out)

    assert "Removed 1" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=user).exists()
    reset = AuditEvent.objects.get(action="device_reset")
    assert reset.actor is None
    assert reset.target_label == "casey"
    assert reset.details == {"devices_removed": 1}
    response = login_post(Client(), "casey")
    assert response["Location"] == "/admin/enrol/"


def test_reset_otp_device_names_an_unknown_user() -> None:
    with pytest.raises(Exception, match="no user named 'ghost'"):
        call_command("reset_otp_device", "ghost")


def test_a_reset_device_no_longer_verifies_an_open_session(make_staff: Callable[..., User]) -> None:
    user = make_staff("casey", "Admissions")
    client = staff_client_for(user)
    assert client.get("/admin/").status_code == 200

    call_command("reset_otp_device", "casey", stdout=StringIO())

    assert client.get("/admin/").status_code == 302


def test_the_local_staff_login_is_printed_with_what_its_first_login_asks(
    django_user_model: type[User],
) -> None:
    out = StringIO()

    call_command("ensure_local_staff", stdout=out)

    text = out.getvalue()
    password = re.search(r"password: (\S+)", text)
    assert password is not None
    assert "authenticator app" in text
    assert "/admin/" in text
    response = login_post(Client(), "admin", password=password.group(1))
    assert response["Location"] == "/admin/enrol/"


def test_the_local_staff_login_says_what_to_do_once_it_exists(
    make_staff: Callable[..., User],
) -> None:
    call_command("ensure_local_staff", stdout=StringIO())
    out = StringIO()
    call_command("ensure_local_staff", stdout=out)
    assert "leave the code empty" in out.getvalue()
    assert "password: " not in out.getvalue()

    TOTPDevice.objects.create(user=User.objects.get(username="admin"), confirmed=True)
    out = StringIO()
    call_command("ensure_local_staff", stdout=out)
    assert "reset_otp_device admin" in out.getvalue()
