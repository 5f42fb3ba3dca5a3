"""Reading an inbound text: the carriers' keywords as the whole message, and the small list of
free-text revocations, including phrases that must not revoke (people write to a treatment
center about stopping things)."""

from __future__ import annotations

import pytest

from apps.followups.revocation import (
    Intent,
    inbound_text_read,
    revocation_channels,
    text_normalize,
)

SMS = ("sms",)
PHONE = ("sms", "calls")


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", " Stop. ", "STOP!!", "STOPALL", "Unsubscribe", "CANCEL", "end", "Quit",
     "REVOKE", "OPTOUT", "opt out", "Opt-Out"],
)  # fmt: skip
def test_an_opt_out_keyword_as_the_whole_message_opts_out(body: str) -> None:
    reading = inbound_text_read(body)

    assert reading.intent == Intent.OPT_OUT
    assert reading.channels == SMS


@pytest.mark.parametrize("body", ["START", "start", "Unstop", "YES", "yes."])
def test_an_opt_in_keyword_opts_in(body: str) -> None:
    assert inbound_text_read(body).intent == Intent.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help?", "Info", "AYUDA"])
def test_a_help_keyword_asks_for_help(body: str) -> None:
    assert inbound_text_read(body).intent == Intent.HELP


@pytest.mark.parametrize(
    ("body", "channels"),
    [
        ("stop texting me", SMS),
        ("Please stop texting me!", SMS),
        ("please stop", SMS),
        ("STOP STOP", SMS),
        ("stop sending me messages", SMS),
        ("no more texts", SMS),
        ("No more messages please", SMS),
        ("unsubscribe me", SMS),
        ("please unsubscribe me from this", SMS),
        ("opt me out", SMS),
        ("Don't text me", SMS),
        ("Don’t text me anymore", SMS),  # a phone's curly apostrophe
        ("I don't want any more texts", SMS),
        ("stop texting me, call me instead", SMS),
        ("please don't contact me", PHONE),
        ("Please do not contact me again.", PHONE),
        ("don't call me again", PHONE),
        ("stop calling me", PHONE),
        ("remove me from your list", PHONE),
        ("remove my number", PHONE),
        ("leave me alone", PHONE),
        ("take me off", PHONE),
        ("take me off your list please", PHONE),
        ("wrong number", PHONE),
        ("no me escriban", SMS),
        ("No me escriban más", SMS),
        ("ya no me manden mensajes", SMS),
        ("Ya no me manden más mensajes, gracias", SMS),
        ("basta", SMS),
        ("¡Basta ya!", SMS),
        ("alto", SMS),
        ("ALTO por favor", SMS),
        ("no me llamen", PHONE),
        ("Por favor no me llamen más", PHONE),
        ("dejen de escribirme", SMS),
        ("quítenme de su lista", PHONE),
        ("Don't call me, text me instead", ("calls",)),
    ],
)
def test_a_revocation_phrase_withdraws_consent(body: str, channels: tuple[str, ...]) -> None:
    reading = inbound_text_read(body)

    assert reading.intent == Intent.REVOCATION
    assert reading.channels == channels


@pytest.mark.parametrize(
    "body",
    [
        "don't stop",
        "Don't stop!",
        "can you stop by?",
        "Can someone stop by the house tomorrow?",
        "stop drinking",
        "I want to stop drinking",
        "How do I stop using?",
        "my brother can't stop",
        "the pain won't stop",
        "I need help to stop",
        "I quit my job last week",
        "Can I cancel my appointment?",
        "is this the end of the line",
        "don't call me at work",
        "please don't call me before 5",
        "Don't text me after 9pm",
        "can you call me back?",
        "Please call me",
        "yes please call me tomorrow",
        "el precio es alto",
        "con eso basta",
        "Quiero dejar de beber",
        "",
        "   ",
    ],
)
def test_a_message_that_is_not_a_revocation_is_left_alone(body: str) -> None:
    reading = inbound_text_read(body)

    assert reading.intent == Intent.NONE
    assert reading.channels == ()
    assert revocation_channels(body) == ()


def test_a_keyword_counts_only_as_the_whole_message() -> None:
    assert inbound_text_read("help me please").intent == Intent.NONE
    assert inbound_text_read("yes I would like a call").intent == Intent.NONE


def test_text_is_normalized_without_accents_punctuation_or_case() -> None:
    assert text_normalize("¡Ya NO me manden  más mensajes!") == "ya no me manden mas mensajes"
    assert text_normalize("Don’t  TEXT me.") == "don't text me"
    assert text_normalize("'stop'") == "stop"
