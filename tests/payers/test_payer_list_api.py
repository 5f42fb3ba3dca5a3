"""GET /api/v1/payers/: the website's insurance dropdown."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from apps.payers.models import Payer

pytestmark = pytest.mark.django_db

PATH = "/api/v1/payers/"


def _payers(client: APIClient) -> list[dict[str, Any]]:
    response = client.get(PATH)
    assert response.status_code == 200
    body: list[dict[str, Any]] = response.json()
    return body


def _rates(payers: str | None) -> dict[str, Any]:
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])  # type: ignore[call-overload]
    return {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "payers": payers}}


def test_it_lists_each_payer_as_slug_name_and_in_network(api_client: APIClient) -> None:
    body = _payers(api_client)

    assert {"slug": "cigna", "name": "Cigna Healthcare", "in_network": True} in body
    assert {"slug": "humana", "name": "Humana", "in_network": False} in body
    assert all(set(entry) == {"slug", "name", "in_network"} for entry in body)


def test_it_lists_every_active_payer(api_client: APIClient) -> None:
    slugs = {entry["slug"] for entry in _payers(api_client)}

    assert slugs == set(Payer.objects.values_list("slug", flat=True))


def test_it_hides_an_inactive_payer(api_client: APIClient) -> None:
    Payer.objects.filter(slug="molina").update(active=False)

    slugs = [entry["slug"] for entry in _payers(api_client)]

    assert "molina" not in slugs
    assert len(slugs) == Payer.objects.count() - 1


def test_it_lists_in_network_payers_first_then_by_name(api_client: APIClient) -> None:
    body = [entry for entry in _payers(api_client) if entry["slug"] != "self-pay"]

    in_network = [entry["name"] for entry in body if entry["in_network"]]
    others = [entry["name"] for entry in body if not entry["in_network"]]
    assert [entry["name"] for entry in body] == in_network + others
    assert in_network == sorted(in_network)
    assert others == sorted(others)


def test_it_lists_self_pay_last(api_client: APIClient) -> None:
    Payer.objects.filter(slug="self-pay").update(in_network=True, name="A self-pay")

    assert _payers(api_client)[-1]["slug"] == "self-pay"


def test_it_answers_visitors_without_login_or_csrf_token(api_client: APIClient) -> None:
    api_client.cookies["sessionid"] = "not-a-session"

    assert api_client.get(PATH).status_code == 200


def test_it_lets_browsers_and_caches_keep_it_for_five_minutes(api_client: APIClient) -> None:
    response = api_client.get(PATH)

    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=300"}


def test_it_refuses_a_post(api_client: APIClient) -> None:
    assert api_client.post(PATH, {}, format="json").status_code == 405


def test_it_throttles_at_the_payers_rate_when_throttling_is_on(api_client: APIClient) -> None:
    with override_settings(API_THROTTLE=True, REST_FRAMEWORK=_rates("2/hour")):
        codes = [api_client.get(PATH).status_code for _ in range(3)]
        last = api_client.get(PATH)

    assert codes == [200, 200, 429]
    assert int(last["Retry-After"]) > 0


def test_it_does_not_throttle_when_throttling_is_off(api_client: APIClient) -> None:
    with override_settings(API_THROTTLE=False, REST_FRAMEWORK=_rates("2/hour")):
        codes = {api_client.get(PATH).status_code for _ in range(4)}

    assert codes == {200}


def test_it_is_described_in_the_openapi_schema(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    get = schema["paths"][PATH]["get"]
    assert "in-network" in get["description"]
    assert set(get["responses"]) >= {"200", "429"}
    listed = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["type"] == "array"
    component = listed["items"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][component]["properties"]) == {
        "slug",
        "name",
        "in_network",
    }
    assert get["security"] == [{}]  # anonymous
