"""Repeated failed logins lock a username on an address out (django-axes); an idle staff
session ends; cookies and the admin's address follow the settings."""

from __future__ import annotations

import datetime
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import clear_url_caches
from time_machine import TimeMachineFixture

from tests.conftest import staff_client_for
from tests.staff.conftest import current_code, device_of, login_post

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_five_wrong_passwords_lock_the_username_on_that_address(
    make_staff: Callable[..., User], time_machine: TimeMachineFixture
) -> None:
    user = make_staff("casey", "Admissions")
    time_machine.move_to(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC), tick=False)
    client = Client()
    for _ in range(5):
        login_post(client, "casey", password="wrong password guess")

    locked = login_post(client, "casey", code=current_code(device_of(user)))

    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert client.get("/admin/").status_code == 302
    # Another address is not locked out by these failures.
    elsewhere = login_post(
        Client(), "casey", code=current_code(device_of(user)), REMOTE_ADDR="198.51.100.7"
    )
    assert elsewhere.status_code == 302

    time_machine.move_to(datetime.datetime(2026, 3, 2, 10, 16, tzinfo=datetime.UTC), tick=False)
    user.totpdevice_set.update(last_t=-1)  # a fresh code in the new time window
    again = login_post(client, "casey", code=current_code(device_of(user)))
    assert again.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_wrong_authenticator_codes_count_towards_the_lockout(
    make_staff: Callable[..., User],
) -> None:
    user = make_staff("casey", "Admissions")
    right = current_code(device_of(user))
    wrong = str((int(right) + 7) % 1_000_000).zfill(6)
    client = Client()
    for _ in range(5):
        login_post(client, "casey", code=wrong)

    locked = login_post(client, "casey", code=right)

    assert locked.status_code == 429


def test_an_idle_staff_session_ends_and_activity_keeps_it_alive(
    make_staff: Callable[..., User], time_machine: TimeMachineFixture
) -> None:
    start = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    time_machine.move_to(start, tick=False)
    client = staff_client_for(make_staff("casey", "Admissions"))
    assert client.get("/admin/").status_code == 200

    time_machine.move_to(start + datetime.timedelta(minutes=10), tick=False)
    assert client.get("/admin/").status_code == 200
    time_machine.move_to(start + datetime.timedelta(minutes=24), tick=False)
    assert client.get("/admin/").status_code == 200  # 14 idle minutes

    time_machine.move_to(start + datetime.timedelta(minutes=40), tick=False)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_session_and_csrf_cookies_are_httponly_and_samesite_lax(
    make_staff: Callable[..., User],
) -> None:
    user = make_staff("casey", "Admissions")
    client = Client()
    client.get("/admin/login/")

    login_post(client, "casey", code=current_code(device_of(user)))

    session = client.cookies["sessionid"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["samesite"] == "Lax"


def _settings_in_process(**environ: str) -> dict[str, object]:
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_AGE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "ADMIN_URL",
        "AXES_FAILURE_LIMIT",
    ]
    code = (
        "import json, asana_leads.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SECURE_COOKIES", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "PHI_ENCRYPTION_KEYS": "dGVzdC1vbmx5LXBoaS1rZXktbmV3LTAxMjM0NTY3ODk=",
            "PHI_BLIND_INDEX_KEY": "k",
            **environ,
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_production_defaults_secure_cookies_and_the_documented_limits() -> None:
    values = _settings_in_process(DJANGO_DEBUG="false")

    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_AGE"] == 15 * 60
    assert values["AXES_FAILURE_LIMIT"] == 5
    assert values["ADMIN_URL"] == "admin/"
    # HTTPS redirect and HSTS are turned on per deployment, not by default.
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_the_embedded_default_keeps_plain_http_cookies() -> None:
    values = _settings_in_process(DJANGO_DEBUG="true")

    assert values["SESSION_COOKIE_SECURE"] is False


def test_settings_turn_on_hsts_and_the_https_redirect() -> None:
    values = _settings_in_process(
        DJANGO_DEBUG="false", DJANGO_SSL_REDIRECT="true", DJANGO_HSTS_SECONDS="31536000"
    )

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000


@pytest.fixture
def admin_at_back_office() -> Iterator[None]:
    import asana_leads.urls

    with override_settings(ADMIN_URL="back-office/"):
        importlib.reload(asana_leads.urls)
        clear_url_caches()
        yield
    importlib.reload(asana_leads.urls)
    clear_url_caches()


def test_the_admin_lives_at_the_configured_address(
    make_staff: Callable[..., User], admin_at_back_office: None
) -> None:
    user = make_staff("casey", "Admissions")
    client = Client()

    assert client.get("/admin/login/").status_code == 404
    assert client.get("/back-office/login/").status_code == 200
    response = client.post(
        "/back-office/login/",
        {
            "username": "casey",
            "password": "correct horse battery staple",
            "otp_token": current_code(device_of(user)),
        },
    )
    assert response.status_code == 302
    assert client.get("/back-office/").status_code == 200
