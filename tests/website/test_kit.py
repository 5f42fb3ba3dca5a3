"""The kit's markup: one source for the demo and the documented snippets, the demo's switch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.website.kit import FORM_KINDS, SNIPPET_BLOCK, consent_wording, docs_with_snippets

DOCS = Path(__file__).resolve().parents[2] / "docs" / "website.md"
pytestmark = pytest.mark.django_db


def test_the_documented_snippets_are_the_rendered_ones() -> None:
    markdown = DOCS.read_text(encoding="utf-8")

    assert {match.group("name") for match in SNIPPET_BLOCK.finditer(markdown)} == {
        *FORM_KINDS,
        "script",
    }
    assert docs_with_snippets(markdown) == markdown, (
        "docs/website.md is behind the form templates: run "
        "`manage.py forms_snippet all --write-docs docs/website.md`"
    )


def test_the_demo_page_is_off_unless_debug_or_enabled(client: Client, settings: Any) -> None:
    settings.DEBUG = False
    settings.FORMS_DEMO_ENABLED = False
    assert client.get("/forms/demo/").status_code == 404

    settings.FORMS_DEMO_ENABLED = True
    page = client.get("/forms/demo/")
    assert page.status_code == 200
    for kind in FORM_KINDS:
        assert f'data-asana-form="{kind}"' in page.content.decode()


def test_the_demo_renders_the_documented_markup(client: Client, settings: Any) -> None:
    settings.FORMS_DEMO_ENABLED = True
    demo = client.get("/forms/demo/").content.decode()
    documented = DOCS.read_text(encoding="utf-8")
    # The same lines, once the origin and the per-render values are set aside.
    contact = re.search(r'<form id="af-contact".*?</form>', demo, re.DOTALL)
    assert contact is not None
    lines = [
        line.strip()
        for line in contact.group(0).splitlines()
        if "action=" not in line and 'type="hidden"' not in line
    ]
    for line in lines:
        assert line in documented


def test_the_hidden_consent_text_is_the_wording_shown(client: Client, settings: Any) -> None:
    settings.FORMS_DEMO_ENABLED = True
    demo = client.get("/forms/demo/").content.decode()

    for kind in FORM_KINDS:
        wording = consent_wording(kind)
        assert f'name="consent_text" value="{wording["text"]}"'.replace("'", "&#x27;") in demo
        assert wording["text"].startswith(wording["legend"])


def test_the_demo_carries_the_landing_attribution_without_javascript(
    client: Client, settings: Any
) -> None:
    settings.FORMS_DEMO_ENABLED = True

    demo = client.get("/forms/demo/?utm_source=flyer&gclid=abc").content.decode()

    assert demo.count('name="utm_source" value="flyer"') == 3
    assert demo.count('name="gclid" value="abc"') == 3
    assert demo.count('name="form_token" value=""') == 0


def test_the_script_and_stylesheet_are_served_and_small(client: Client) -> None:
    from django.contrib.staticfiles import finders

    for name in ("website/asana-forms.v1.js", "website/asana-forms.v1.css"):
        path = finders.find(name)
        assert path is not None
        text = Path(str(path)).read_text(encoding="utf-8")
        assert len(text.encode()) < 24_000
        # No third party: nothing is fetched from anywhere but the forms' own API.
        assert "http://" not in text
        assert not re.search(r"https://(?!988lifeline)", text.replace("https:\\/\\/", ""))
