"""What an inbound text asks for: opt out, opt back in, help, or nothing we act on.

Two layers, both over the *whole* message:

1. **Keywords** (the carriers' and the FCC's): the message is exactly one of them, after trimming,
   lowercasing and dropping punctuation (``"Stop."``, ``" STOP!! "``, ``"opt-out"``).
   Opt-out: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, and REVOKE, OPTOUT ("opt out"), which
   the FCC's 2025 consent-revocation rules list. Opt-in: START, UNSTOP, YES. Help: HELP, INFO
   (and AYUDA). A keyword counts only as the whole message: "I quit my job" and "cancel my
   appointment" are not opt-outs.
2. **Revocation phrases**: consent may be revoked "by any reasonable means" (FCC, 2024 order), so
   free text such as "stop texting me" or "no me escriban" counts too. The list is small and
   every entry has test rows, including phrases that must *not* revoke ("don't stop", "can you
   stop by?", "stop drinking": people write to a treatment center about stopping things).

Which consent a revocation withdraws: a text about texting (STOP, "no more texts") withdraws
``sms``; a text about calls or contact in general ("don't call me again", "leave me alone")
withdraws ``sms`` and ``calls``, the two channels tied to the number it came from, unless
the same message asks for texts ("don't call me, text me": ``calls`` only). Email is never
withdrawn from a text: the number may have been reassigned ("wrong number"), and the email
belongs to whoever gave it; staff record that separately when they hear it.

Erring toward revocation is deliberate: a false positive costs a text we do not send (the
person can reply START), a false negative is a text sent against someone's wishes.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

SMS: tuple[str, ...] = ("sms",)
PHONE: tuple[str, ...] = ("sms", "calls")

OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
     "opt out"}
)  # fmt: skip
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})
HELP_KEYWORDS = frozenset({"help", "info", "ayuda"})

_NEG = r"(?:don't|dont|do not|never|pls don't|please don't)"
# After "don't call me ...": a time or place makes it a preference about *when* to reach them
# ("don't call me at work", "don't text me before 5"), not a revocation.
_WHEN = (
    r"(?! (?:at|before|after|until|till|til|during|today|tonight|tomorrow|now|this|on|in|"
    r"between|from|past|while|when|if|unless)\b)"
)
# "don't call me, text me instead": the calls go, the texts they asked for stay.
_WANTS_TEXTS = re.compile(
    r"\b(?:text|txt|message) me\b|\bjust text\b|\btexts? (?:instead|is fine|are fine|is ok|"
    r"are ok|is better|only)\b|\btext only\b|\bmandenme (?:un )?(?:mensaje|texto)"
)
CALLS: tuple[str, ...] = ("calls",)

# (pattern over the normalized text, channels withdrawn). Normalized text: lowercase, accents
# and punctuation removed (apostrophes kept), single spaces.
_PHRASES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), channels)
    for pattern, channels in (
        # "stop" with only politeness around it: "please stop", "stop it", "stop stop".
        (r"^(?:please |pls )?stop(?: (?:it|now|please|pls|thanks|thank you|all|stop|already))*$",
         SMS),
        (r"\bstop (?:texting|txting|messaging|msging|sending (?:me )?(?:texts|messages|msgs))\b",
         SMS),
        (rf"\bstop (?:contacting|calling|bothering|harassing|spamming)(?: me)?\b{_WHEN}", PHONE),
        (rf"\b{_NEG} (?:ever )?(?:text|txt|message|msg|sms) me\b{_WHEN}", SMS),
        (rf"\b{_NEG} (?:ever )?(?:call|contact|bother|reach out to|reach) me\b{_WHEN}", PHONE),
        (r"\b(?:don't|dont|do not) want (?:any )?(?:more )?(?:your |these |any )?"
         r"(?:texts|messages|msgs)\b", SMS),
        (r"\b(?:don't|dont|do not) want (?:any )?(?:more )?(?:your |these |any )?calls\b", PHONE),
        (r"\bno more (?:texts|text messages|messages|msgs|txts)\b", SMS),
        (r"\bno more (?:calls|contact)\b", PHONE),
        (r"\bremove (?:me|my number)\b", PHONE),
        (r"\btake (?:me|my number) off\b", PHONE),
        (r"\bleave me alone\b", PHONE),
        (r"\bunsubscribe\b", SMS),
        (r"\bopt (?:me )?out\b", SMS),
        (r"\bwrong number\b", PHONE),
        # Spanish.
        (r"\bno me (?:escriban|escribas|escriba|manden|mandes|mande|envien|envies|envie)\b", SMS),
        (r"\bno me (?:llamen|llames|llame|contacten|contactes|contacte|molesten|molestes)\b",
         PHONE),
        (r"\bno mas (?:mensajes|textos)\b", SMS),
        (r"\bdejen de (?:escribirme|mandarme|enviarme)\b", SMS),
        (r"\bdejen de (?:llamarme|molestarme|contactarme)\b", PHONE),
        (r"\b(?:quitenme|borrenme|saquenme|sacame|quitame|borrame) de\b", PHONE),
        (r"^(?:ya )?basta(?: ya)?(?: por favor)?$", SMS),
        (r"\bbasta de (?:mensajes|textos|llamadas)\b", PHONE),
        (r"^alto(?: por favor)?$", SMS),
    )
)  # fmt: skip


class Intent(enum.StrEnum):
    """What an inbound text asks for; the value is stored as ``InboundText.action``."""

    OPT_OUT = "stop"
    REVOCATION = "revocation"  # free text that withdraws consent; handled like STOP
    OPT_IN = "start"
    HELP = "help"
    NONE = ""


@dataclass(frozen=True)
class Reading:
    """How a message reads: its intent and, for a revocation, the channels it withdraws."""

    intent: Intent
    channels: tuple[str, ...] = ()
    keyword: str = ""


def text_normalize(text: str) -> str:
    """Lowercase, without accents or punctuation (apostrophes kept, curly ones straightened),
    single-spaced: ``"¡Ya NO me manden más mensajes!"`` -> ``"ya no me manden mas mensajes"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = plain.casefold().replace("\u2019", "'").replace("\u2018", "'")
    plain = re.sub(r"[^\w\s']|_", " ", plain)
    # Apostrophes inside words stay ("don't"); quotes around them go.
    plain = re.sub(r"(?<!\w)'|'(?!\w)", " ", plain)
    return " ".join(plain.split())


def revocation_channels(text: str) -> tuple[str, ...]:
    """The consent channels free text withdraws, or ``()`` when it is not a revocation."""
    normalized = text_normalize(text)
    wants_texts = bool(_WANTS_TEXTS.search(normalized))
    withdrawn: set[str] = set()
    for pattern, channels in _PHRASES:
        if pattern.search(normalized):
            withdrawn.update(CALLS if channels == PHONE and wants_texts else channels)
    # A fixed order, so evidence rows and tests read the same every time.
    return tuple(channel for channel in PHONE if channel in withdrawn)


def inbound_text_read(body: str) -> Reading:
    """Read one inbound text: a keyword (the whole message), else a revocation phrase, else
    nothing to act on."""
    normalized = text_normalize(body)
    if normalized in OPT_OUT_KEYWORDS:
        return Reading(Intent.OPT_OUT, SMS, keyword=normalized.upper())
    if normalized in OPT_IN_KEYWORDS:
        return Reading(Intent.OPT_IN, keyword=normalized.upper())
    if normalized in HELP_KEYWORDS:
        return Reading(Intent.HELP, keyword=normalized.upper())
    channels = revocation_channels(body)
    if channels:
        return Reading(Intent.REVOCATION, channels)
    return Reading(Intent.NONE)
