"""Attribution URLs (a submission's form page and referrer) are shown to staff without their
``user:password@`` part: a visitor can put anything there, credentials or an email address."""

from __future__ import annotations

import pytest

from apps.leads.attribution import url_without_userinfo


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pass@asanarecovery.com/verify/", "https://asanarecovery.com/verify/"),
        ("https://jane@example.org@host.example/a?b=c#d", "https://host.example/a?b=c#d"),
        ("https://user:pass@host.example:8443/x", "https://host.example:8443/x"),
        ("https://u:p@[2001:db8::1]:8080/x", "https://[2001:db8::1]:8080/x"),
        ("http://:secret@host.example/", "http://host.example/"),
        ("https://@host.example/", "https://host.example/"),
        ("android-app://user:pw@com.google.android.gm/", "android-app://com.google.android.gm/"),
        # Not a valid URL for the parser (unclosed IPv6 bracket): stripped all the same.
        ("http://user:pass@[::1/x", "http://[::1/x"),
    ],
)
def test_it_strips_the_userinfo(url: str, shown: str) -> None:
    assert url_without_userinfo(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://asanarecovery.com/verify/?gclid=abc",
        "https://asanarecovery.com",
        # An @ after the host is not userinfo: a path or a query keeps it.
        "https://medium.example/@asana/post",
        "https://host.example/page?email=a@b.example",
        "https://host.example#a@b",
        "https://host.example/Mixed/Case/?Q=1&",
    ],
)
def test_a_url_without_userinfo_is_left_exactly_as_it_is(url: str) -> None:
    assert url_without_userinfo(url) == url
