"""Fake leads for demos and load tests (``manage.py seed_demo``).

Everything generated here is recognisably fake: emails at reserved domains (example.org,
example.com, example.net, .test), phones in the fictional 555-0100..0199 range, source IPs in the
documentation networks (RFC 5737), the user agent ``DEMO_USER_AGENT`` on every submission and
consent, and every free-text or identifier PHI value starting with ``FAKE`` (member IDs
``FAKE12345678``). PHI is encrypted by the same model fields as real PHI. Two PHI columns cannot
carry a text marker without losing their meaning: dates of birth (the field stores a date) and
``relationship_to_policy_holder`` (one of the form's choices); the row's user agent marks them.

Writing goes through a ``RowSink``: PostgreSQL's COPY (psycopg 3) or ``bulk_create`` elsewhere.
Ids are reserved up front (a PostgreSQL sequence range, or max(id) under SQLite's write lock), so
a batch's rows point at each other without reading anything back.

A batch is written table by table, in ``DEMO_TABLES`` order. To seed another table (the
admissions timeline: notes, calls, status changes, verification results), write a function
``<table>_rows(context, batch) -> list[dict]`` reading ``batch.submissions`` (each a dict of
Submission attnames: id, status, received_at, first_touched_at, assignee_id, ...) and append a
``DemoTable`` after the tables its rows point to.
"""

from __future__ import annotations

import datetime
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from apps.leads.models import Consent, Person, Submission
from apps.leads.references import ALPHABET, GROUP
from apps.leads.services import consent_wording_record
from apps.payers.models import SELF_PAY_SLUG
from apps.payers.selectors import payer_list_active
from apps.privacy.crypto import blind_index
from apps.privacy.fields import EncryptedTextField

DEMO_USER_AGENT = "seed_demo/1 (FAKE DATA, generated)"
FAKE = "FAKE"
DEMO_STAFF_PREFIX = "demo."
DEMO_CONSENT_WORDING = (
    "FAKE demo wording. By checking these boxes you agree that Asana Recovery may contact you by "
    "email, text message and phone, including automated calls. Consent is not a condition of "
    "treatment. Reply STOP to stop texts."
)

# Share of each form among all submissions (the website's mix: most people write or ask about
# insurance; the book is a smaller, separate funnel).
KIND_WEIGHTS: dict[str, float] = {
    Submission.Kind.CONTACT: 0.42,
    Submission.Kind.VERIFICATION: 0.43,
    Submission.Kind.BOOK: 0.15,
}

# Share of verification requests per payer. The directory has no market shares, so these are an
# estimate for a private-pay treatment center in Southern California: commercial PPO plans
# (Blues, Anthem, UHC/Optum, Aetna, Cigna) dominate; public plans and Kaiser members (who are
# treated in-house) ask less often. Keys are directory slugs; a slug missing from the directory
# is skipped and the rest renormalised.
PAYER_SHARES: dict[str, float] = {
    "bcbs": 0.17,
    "anthem": 0.14,
    "unitedhealthcare": 0.14,
    "aetna": 0.11,
    "cigna": 0.10,
    "beacon": 0.04,
    "magellan": 0.02,
    "humana": 0.03,
    "kaiser": 0.04,
    "tricare": 0.03,
    "medicaid": 0.06,
    "medicare": 0.03,
    "ambetter": 0.02,
    "molina": 0.02,
    "oscar": 0.01,
    SELF_PAY_SLUG: 0.04,
}
# Share of verification requests whose typed insurance name resolves to no payer (the mapping
# queue), and what such people type.
UNRESOLVED_SHARE = 0.04
UNRESOLVED_TEXTS = (
    "my work insurance",
    "not sure",
    "the one from my job",
    "Blue something",
    "PPO",
    "Covered California",
    "Health Net",
    "Sharp Health Plan",
    "LA Care",
    "IEHP",
)

URGENT_SHARE = 0.015  # crisis language (contact and verification only)
SPAM_SHARE = 0.03
REVOKED_SMS_SHARE = 0.02  # people who later texted STOP
SUBMISSIONS_PER_PERSON = ((1, 0.87), (2, 0.11), (3, 0.02))

FIRST_NAMES = tuple(
    """
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
    Susan Joseph Jessica Thomas Sarah Christopher Karen Daniel Lisa Matthew Nancy Anthony Betty
    Mark Sandra Steven Ashley Andrew Kimberly Joshua Emily Kevin Donna Brian Michelle Ryan Carol
    Jacob Amanda Gary Melissa Nicholas Deborah Eric Stephanie Jonathan Rebecca Maria Jose Ana Luis
    Sofia Carlos Camila Diego Valeria Minh Linh Wei Mei Priya Arjun
    """.split()  # noqa: SIM905 (a paragraph of names reads better than a list)
)
LAST_NAMES = tuple(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Tran Kim Patel
    Chen Wong Reyes Cruz Morales Ortiz Gutierrez Chavez Ramos Diaz
    """.split()  # noqa: SIM905 (a paragraph of names reads better than a list)
)
EMAIL_DOMAINS = ("example.org", "example.com", "example.net", "mail.test", "inbox.test")
MESSAGES = (
    "I would like to know about detox for my brother.",
    "Do you take my insurance for residential treatment?",
    "My daughter needs help with alcohol. What are the next steps?",
    "I'm interested in ketamine therapy for depression.",
    "Can someone call me about outpatient programs?",
    "How long is the residential program?",
    "Looking for dual diagnosis treatment for my husband.",
    "Is there a waitlist right now?",
    "Please call me after work.",
    "What does IOP look like day to day?",
)
CRISIS_MESSAGES = (
    ("overdose", "He overdosed last night and we need help now."),
    ("suicide", "She says she does not want to live anymore."),
    ("self_harm", "I keep hurting myself and I can't stop."),
)
BEST_TIMES = ("mornings", "afternoons", "evenings", "after 5pm", "weekends", "any time")
STATES = (("CA", 0.58), ("AZ", 0.06), ("NV", 0.05), ("TX", 0.05), ("WA", 0.04), ("OR", 0.03))
STATE_OTHERS = ("NY", "FL", "IL", "CO", "UT", "NM", "ID", "HI", "MA", "NJ", "GA", "PA")
TREATMENT_INTERESTS = (
    (Submission.TreatmentInterest.SUBSTANCE_USE, 0.34),
    (Submission.TreatmentInterest.ALCOHOL, 0.24),
    (Submission.TreatmentInterest.MENTAL_HEALTH, 0.16),
    (Submission.TreatmentInterest.DUAL_DIAGNOSIS, 0.14),
    (Submission.TreatmentInterest.KETAMINE_THERAPY, 0.07),
    (Submission.TreatmentInterest.OTHER, 0.05),
)
RELATIONSHIPS = (("spouse", 0.45), ("parent", 0.4), ("child", 0.1), ("other", 0.05))
PAGES: dict[str, str] = {
    Submission.Kind.CONTACT: "https://demo.asana-recovery.test/contact-us/",
    Submission.Kind.VERIFICATION: "https://demo.asana-recovery.test/verify-insurance/",
    Submission.Kind.BOOK: "https://demo.asana-recovery.test/free-book/",
}


@dataclass(frozen=True)
class Channel:
    """One way visitors arrive, with the UTM parameters and click ids it brings."""

    weight: float
    source: str = ""
    medium: str = ""
    campaigns: tuple[str, ...] = ("",)
    referrer: str = ""
    gclid: bool = False
    fbclid: bool = False


# The attribution mix of a treatment center's paid and organic traffic.
CHANNELS = (
    Channel(0.34, "google", "cpc", ("rehab-brand", "detox-near-me", "insurance-ppo"),
            "https://www.google.com/", gclid=True),
    Channel(0.22, referrer="https://www.google.com/"),  # organic search: no UTM
    Channel(0.12, "facebook", "paid_social", ("family-help", "ketamine-awareness"),
            "https://l.facebook.com/", fbclid=True),
    Channel(0.05, "bing", "cpc", ("rehab-brand",), "https://www.bing.com/"),
    Channel(0.04, "newsletter", "email", ("monthly-recovery-tips",)),
    Channel(0.05, "psychologytoday", "referral", ("directory-listing",),
            "https://www.psychologytoday.test/"),
    Channel(0.18),  # direct: no referrer, no UTM
)  # fmt: skip

# People write during the day (Pacific); weights per UTC hour (Pacific = UTC-8/-7).
_HOUR_WEIGHTS_PACIFIC = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 9, 9, 9, 8, 8, 8, 9, 9, 8, 6, 4, 2)
HOUR_WEIGHTS_UTC = tuple(_HOUR_WEIGHTS_PACIFIC[(hour - 8) % 24] for hour in range(24))

# Open share and terminal outcomes of leads old enough to be worked (contact and verification).
OUTCOMES = (
    (Submission.Status.NEW, 0.01),
    (Submission.Status.CONTACTED, 0.03),
    (Submission.Status.VERIFYING, 0.01),
    ("verified", 0.27),  # in or out of network, or no coverage: decided by the payer below
    (Submission.Status.ADMITTED, 0.12),
    (Submission.Status.NOT_ADMITTED, 0.16),
    (Submission.Status.LOST, 0.40),
)
CONTACT_VERIFIED = (
    (Submission.Status.VERIFIED_IN_NETWORK, 0.55),
    (Submission.Status.VERIFIED_OUT_OF_NETWORK, 0.3),
    (Submission.Status.NO_COVERAGE, 0.15),
)
RECENT_STATUSES = (
    (Submission.Status.NEW, 0.55),
    (Submission.Status.CONTACTED, 0.30),
    (Submission.Status.VERIFYING, 0.15),
)

# Phones: +1 <area> 555 01xx. Only 100 fictional lines per area code exist, so the person with id
# i gets a phone only while i fits in (area codes x 100); beyond that people give email only.
_LOCAL_AREA_CODES = (
    949, 714, 562, 310, 213, 323, 818, 626, 909, 951, 760, 619, 858, 805, 661, 408, 415,
    510, 650, 916, 702, 602, 480, 520, 206, 503, 512, 214, 713, 212, 305, 312, 303, 801,
)  # fmt: skip
_RESERVED_MIDDLE_DIGIT = 9  # N9X area codes are reserved for expansion
_SERVICE_CODE = 11  # N11 codes are service numbers (411, 911)
AREA_CODES = _LOCAL_AREA_CODES + tuple(
    code
    for code in range(201, 990)
    if code // 10 % 10 != _RESERVED_MIDDLE_DIGIT
    and code % 100 != _SERVICE_CODE
    and code not in _LOCAL_AREA_CODES
)
PHONE_CAPACITY = len(AREA_CODES) * 100


def demo_phone(*, person_id: int) -> str | None:
    """The fictional phone number of the person with this id, or None beyond the capacity."""
    if not 1 <= person_id <= PHONE_CAPACITY:
        return None
    index = person_id - 1
    return f"+1{AREA_CODES[index % len(AREA_CODES)]}55501{index // len(AREA_CODES):02d}"


# References: a bijection of the submission id (unique ids give unique references without a
# lookup; 1,000,000 random ones would collide about once). The multiplier is coprime with 30.
_REF_SPACE = len(ALPHABET) ** (GROUP * 2)
_REF_MULTIPLIER = 982_451_653
_REF_OFFSET = 318_309_886_183


def demo_reference(*, submission_id: int) -> str:
    """A reference in the intake's format (``K7MQ-4T9R``), unique per submission id."""
    number = (submission_id * _REF_MULTIPLIER + _REF_OFFSET) % _REF_SPACE
    chars = []
    for _ in range(GROUP * 2):
        number, digit = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return f"{''.join(chars[:GROUP])}-{''.join(chars[GROUP:])}"


# --- writing rows ------------------------------------------------------------------------------
class RowSink(Protocol):
    """Where generated rows go: ids reserved first, then rows by column attname."""

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]: ...

    def write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None: ...


def _db_default(field: models.Field[Any, Any], now: datetime.datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if isinstance(field, models.JSONField):
        return json.dumps(field.get_default())
    return field.get_default()


class PostgresCopySink:
    """COPY ... FROM STDIN through psycopg 3: one round trip per table and batch.

    Values are handed over as Python objects; encrypted fields are sealed by the field itself
    (``get_db_prep_save``), JSON is serialised here, everything else is already a database value.
    """

    def __init__(self, db: BaseDatabaseWrapper, now: datetime.datetime) -> None:
        self.db = db
        self.now = now

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        pk = model._meta.pk
        assert pk is not None
        with self.db.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        fields = [
            f
            for f in model._meta.concrete_fields
            if not (f.primary_key and f.attname not in rows[0])
        ]
        plan: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for f in fields:
            convert: Callable[[Any], Any] | None = None
            if isinstance(f, EncryptedTextField):
                convert = _encrypter(f, self.db)
            elif isinstance(f, models.JSONField):
                convert = json.dumps
            plan.append((f.attname, _db_default(f, self.now), convert))
        columns = ", ".join(self.db.ops.quote_name(f.column) for f in fields)
        table = self.db.ops.quote_name(model._meta.db_table)
        with (
            self.db.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for row in rows:
                write_row(
                    [
                        (row[attname] if convert is None else convert(row[attname]))
                        if attname in row
                        else default
                        for attname, default, convert in plan
                    ]
                )


def _encrypter(f: EncryptedTextField, db: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    # The field's own preparation (what a save does): same format, same key, same empty rule.
    prepare = f.get_db_prep_save

    def convert(value: Any) -> Any:
        return prepare(value, db)

    return convert


class BulkCreateSink:
    """``bulk_create`` with explicit ids (SQLite and other databases): model fields encrypt.

    Ids continue from the table's largest; SQLite's write lock, taken at the batch's BEGIN
    (IMMEDIATE), keeps another writer from taking the same ones.
    """

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        top = model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0
        return list(range(top + 1, top + 1 + count))

    def write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        objs = [model(**row) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=500)
        # bulk_create stamps auto_now(_add) fields with the current time; a generated history
        # keeps its own (a person created with their first submission, months ago).
        stamped = [
            f.attname
            for f in model._meta.concrete_fields
            if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
            and f.attname in rows[0]
        ]
        if stamped:
            for obj, row in zip(objs, rows, strict=True):
                for attname in stamped:
                    setattr(obj, attname, row[attname])
            model._default_manager.bulk_update(objs, stamped, batch_size=500)


def sink_for_connection(now: datetime.datetime) -> RowSink:
    """COPY on PostgreSQL, bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        return PostgresCopySink(connection, now)
    return BulkCreateSink()


# --- generating a batch ------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoPayer:
    id: int
    slug: str
    name: str
    in_network: bool


@dataclass
class DemoContext:
    """What every batch of one run shares: the random source, the clock, staff and payers."""

    rng: random.Random
    now: datetime.datetime
    days: int
    staff_ids: tuple[int, ...]
    payers: tuple[DemoPayer, ...]
    payer_weights: tuple[float, ...]
    wording_sha256: str
    taken_phones: frozenset[str] = frozenset()


@dataclass
class DemoBatch:
    """One batch of generated rows by table, each a dict of column attnames."""

    people: list[dict[str, Any]] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _ in pairs], weights=[w for _, w in pairs])[0]


def _received_at(ctx: DemoContext) -> datetime.datetime:
    rng = ctx.rng
    day = rng.randrange(ctx.days)
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS_UTC)[0]
    moment = (ctx.now - datetime.timedelta(days=day)).replace(
        hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0
    )
    if moment > ctx.now:
        moment -= datetime.timedelta(days=1)
    return moment


def _sla_minutes(kind: str, urgent: bool) -> int | None:
    minutes: dict[str, int] = settings.LEAD_SLA_MINUTES
    if kind == Submission.Kind.BOOK:
        return None
    return minutes["urgent"] if urgent else minutes[kind]


def demo_batch_generate(*, ctx: DemoContext, sink: RowSink, count: int) -> DemoBatch:
    """Generate ``count`` submissions with their people and consent evidence."""
    rng = ctx.rng
    sizes: list[int] = []
    planned = 0
    while planned < count:
        sizes.append(min(_weighted(rng, SUBMISSIONS_PER_PERSON), count - planned))
        planned += sizes[-1]
    person_ids = sink.reserve_ids(Person, len(sizes))
    submission_ids = iter(sink.reserve_ids(Submission, count))
    batch = DemoBatch()
    for person_id, size in zip(person_ids, sizes, strict=True):
        _person_generate(ctx, batch, person_id, [next(submission_ids) for _ in range(size)])
    return batch


def _person_generate(
    ctx: DemoContext, batch: DemoBatch, person_id: int, submission_ids: list[int]
) -> None:
    rng = ctx.rng
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    times = sorted(_received_at(ctx) for _ in submission_ids)
    kinds = [_weighted(rng, tuple(KIND_WEIGHTS.items())) for _ in submission_ids]
    only_books = all(kind == Submission.Kind.BOOK for kind in kinds)
    # Draw every number whatever the branch, so that a seed gives the same people whatever ids
    # the database hands out.
    wants_phone = rng.random() < (0.3 if only_books else 0.88)
    wants_email = rng.random() < 0.9  # noqa: PLR2004
    phone = demo_phone(person_id=person_id) if wants_phone else None
    if phone in ctx.taken_phones:
        phone = None
    email: str | None = None
    if only_books or phone is None or wants_email:
        domain = rng.choice(EMAIL_DOMAINS)
        email = f"{first}.{last}.{person_id}@{domain}".lower()
    channel = rng.choices(CHANNELS, weights=[c.weight for c in CHANNELS])[0]
    granted: dict[str, tuple[bool, datetime.datetime | None]] = {
        "email": (False, None),
        "sms": (False, None),
        "calls": (False, None),
    }
    attributions: list[tuple[str, str, str]] = []
    for submission_id, kind, received_at in zip(submission_ids, kinds, times, strict=True):
        # A returning person mostly comes back the same way.
        if attributions and rng.random() < 0.3:  # noqa: PLR2004
            channel = rng.choices(CHANNELS, weights=[c.weight for c in CHANNELS])[0]
        utm = _submission_generate(
            ctx,
            batch,
            submission_id=submission_id,
            person_id=person_id,
            kind=kind,
            received_at=received_at,
            first=first,
            last=last,
            email=email,
            phone=phone,
            channel=channel,
            granted=granted,
        )
        attributions.append(utm)
    # A few people later texted STOP: evidence row, and the channel is off.
    if granted["sms"][0] and phone and rng.random() < REVOKED_SMS_SHARE:
        at = min(times[-1] + datetime.timedelta(days=rng.uniform(0.1, 20)), ctx.now)
        batch.consents.append(
            {
                "person_id": person_id,
                "submission_id": None,
                "channel": Consent.Channel.SMS,
                "action": Consent.Action.REVOKED,
                "source": Consent.Source.SMS_REPLY,
                "wording_id": None,
                "recorded_at": at,
                "ip_address": None,
                "user_agent": DEMO_USER_AGENT,
                "page_url": "",
                "recorded_by_id": None,
            }
        )
        granted["sms"] = (False, at)
    batch.people.append(
        {
            "id": person_id,
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "created_at": times[0],
            "updated_at": max(times[-1], granted["sms"][1] or times[-1]),
            "last_submission_at": times[-1],
            "consent_email": granted["email"][0],
            "consent_email_at": granted["email"][1],
            "consent_sms": granted["sms"][0],
            "consent_sms_at": granted["sms"][1],
            "consent_calls": granted["calls"][0],
            "consent_calls_at": granted["calls"][1],
            "do_not_contact": False,
            "part2_restricted": rng.random() < 0.01,  # noqa: PLR2004
            "is_inquiry": not only_books,
            "first_touch_at": times[0],
            "first_utm_source": attributions[0][0],
            "first_utm_medium": attributions[0][1],
            "first_utm_campaign": attributions[0][2],
            "latest_touch_at": times[-1],
            "latest_utm_source": attributions[-1][0],
            "latest_utm_medium": attributions[-1][1],
            "latest_utm_campaign": attributions[-1][2],
        }
    )


def _submission_generate(
    ctx: DemoContext,
    batch: DemoBatch,
    *,
    submission_id: int,
    person_id: int,
    kind: str,
    received_at: datetime.datetime,
    first: str,
    last: str,
    email: str | None,
    phone: str | None,
    channel: Channel,
    granted: dict[str, tuple[bool, datetime.datetime | None]],
) -> tuple[str, str, str]:
    rng = ctx.rng
    is_book = kind == Submission.Kind.BOOK
    is_spam = rng.random() < SPAM_SHARE
    urgent = not is_book and not is_spam and rng.random() < URGENT_SHARE
    campaign = rng.choice(channel.campaigns)
    ip = f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randrange(1, 255)}"
    row: dict[str, Any] = {
        "id": submission_id,
        "reference": demo_reference(submission_id=submission_id),
        "kind": kind,
        "person_id": person_id,
        "received_at": received_at,
        "first_name": first,
        "last_name": last,
        "email": email or "",
        "phone": phone or "",
        "is_spam": is_spam,
        "spam_reason": rng.choice(Submission.SpamReason.values[1:]) if is_spam else "",
        "urgency": Submission.Urgency.URGENT if urgent else Submission.Urgency.ROUTINE,
        "crisis_signals": [],
        "page_url": PAGES[kind],
        "referrer": channel.referrer,
        "utm_source": channel.source,
        "utm_medium": channel.medium,
        "utm_campaign": campaign,
        "utm_term": "",
        "utm_content": "",
        "gclid": f"FAKE-gclid-{rng.getrandbits(48):012x}" if channel.gclid else "",
        "fbclid": f"FAKE-fbclid-{rng.getrandbits(48):012x}" if channel.fbclid else "",
        "source_ip": ip,
        "user_agent": DEMO_USER_AGENT,
    }
    message = f"{FAKE} demo message: {rng.choice(MESSAGES)}"
    if urgent:
        signal, text = rng.choice(CRISIS_MESSAGES)
        row["crisis_signals"] = [signal]
        message = f"{FAKE} demo message: {text}"
    payer: DemoPayer | None = None
    if kind == Submission.Kind.CONTACT:
        row["message"] = message
        row["preferred_contact"] = rng.choice(Submission.PreferredContact.values)
        if rng.random() < 0.5:  # noqa: PLR2004
            row["best_time"] = f"{FAKE}: {rng.choice(BEST_TIMES)}"
    elif kind == Submission.Kind.VERIFICATION:
        payer = _verification_fill(ctx, row, message, urgent)
    minutes = None if is_spam else _sla_minutes(kind, urgent)
    if minutes is not None:
        row["sla_due_at"] = received_at + datetime.timedelta(minutes=minutes)
    if not is_book and not is_spam:
        _pipeline_fill(ctx, row, payer, urgent)
    batch.submissions.append(row)

    # Consent evidence: one row per channel and form, as intake records it.
    offered = {
        "email": 0.72 if not is_book else 0.8,
        "sms": 0.48 if not is_book else 0.15,
        "calls": 0.62 if not is_book else 0.1,
    }
    for channel_name, chance in offered.items():
        given = rng.random() < chance
        batch.consents.append(
            {
                "person_id": person_id,
                "submission_id": submission_id,
                "channel": channel_name,
                "action": Consent.Action.GRANTED if given else Consent.Action.WITHHELD,
                "source": Consent.Source.WEB_FORM,
                "wording_id": ctx.wording_sha256,
                "recorded_at": received_at,
                "ip_address": ip,
                "user_agent": DEMO_USER_AGENT,
                "page_url": PAGES[kind],
                "recorded_by_id": None,
            }
        )
        if given:
            granted[channel_name] = (True, received_at)
    return channel.source, channel.medium, campaign


def _verification_fill(
    ctx: DemoContext, row: dict[str, Any], message: str, urgent: bool
) -> DemoPayer | None:
    rng = ctx.rng
    payer: DemoPayer | None = None
    if rng.random() < UNRESOLVED_SHARE:
        text = rng.choice(UNRESOLVED_TEXTS)
        row["payer_id"] = None
        row["payer_match_score"] = round(rng.uniform(40, 85), 1)
        key = text.strip().casefold()
    else:
        payer = rng.choices(ctx.payers, weights=ctx.payer_weights)[0]
        typed = rng.random()
        if typed < 0.7:  # noqa: PLR2004 picked from the dropdown
            text, score = payer.slug, 100.0
        else:
            text, score = payer.name.lower(), round(rng.uniform(90, 100), 1)
        row["payer_id"] = payer.id
        row["payer_match_score"] = score
        key = payer.slug
    member_id = f"{FAKE}{rng.randrange(10**8):08d}"
    row["insurance_provider_text"] = text
    row["member_id"] = member_id
    row["member_id_index"] = blind_index("member", member_id, key)
    if rng.random() < 0.6:  # noqa: PLR2004
        row["group_number"] = f"{FAKE}-GRP-{rng.randrange(10**5):05d}"
    age_years = rng.randint(18, 70)
    row["date_of_birth"] = (
        ctx.now - datetime.timedelta(days=age_years * 365 + rng.randrange(365))
    ).date()
    if rng.random() < 0.35:  # noqa: PLR2004 asking for a loved one
        row["seeking_treatment_for"] = Submission.SeekingFor.LOVED_ONE
        row["patient_first_name"] = f"{FAKE} {rng.choice(FIRST_NAMES)}"
        row["patient_last_name"] = f"{FAKE} {row['last_name']}"
    relationship = "self" if rng.random() < 0.65 else _weighted(rng, RELATIONSHIPS)  # noqa: PLR2004
    row["relationship_to_policy_holder"] = relationship
    if relationship != "self":
        row["policy_holder_name"] = f"{FAKE} {rng.choice(FIRST_NAMES)} {row['last_name']}"
        holder_age = rng.randint(25, 75)
        row["policy_holder_dob"] = (
            ctx.now - datetime.timedelta(days=holder_age * 365 + rng.randrange(365))
        ).date()
    state = _weighted(rng, STATES) if rng.random() < 0.81 else rng.choice(STATE_OTHERS)  # noqa: PLR2004
    row["state"] = state
    row["treatment_interest"] = _weighted(rng, TREATMENT_INTERESTS)
    if urgent or rng.random() < 0.4:  # noqa: PLR2004
        row["message"] = message
    return payer


def _pipeline_fill(
    ctx: DemoContext, row: dict[str, Any], payer: DemoPayer | None, urgent: bool
) -> None:
    """Status, touches and assignee, by the lead's age: recent leads are open, old ones decided."""
    rng = ctx.rng
    received_at: datetime.datetime = row["received_at"]
    age = ctx.now - received_at
    if age < datetime.timedelta(days=3):
        status = _weighted(rng, RECENT_STATUSES)
        if age < datetime.timedelta(hours=1) and rng.random() < 0.6:  # noqa: PLR2004
            status = Submission.Status.NEW
    else:
        status = _weighted(rng, OUTCOMES)
    if status == "verified":
        if payer is None and row["kind"] == Submission.Kind.CONTACT:
            # Staff took the insurance details on the phone; the payer is not on this row.
            status = _weighted(rng, CONTACT_VERIFIED)
        elif payer is None or payer.slug == SELF_PAY_SLUG:
            status = Submission.Status.NO_COVERAGE
        elif payer.in_network:
            status = Submission.Status.VERIFIED_IN_NETWORK
        else:
            status = Submission.Status.VERIFIED_OUT_OF_NETWORK
    if status == Submission.Status.VERIFYING and row["kind"] != Submission.Kind.VERIFICATION:
        status = Submission.Status.CONTACTED
    row["status"] = status
    if status != Submission.Status.NEW:
        # Minutes to first touch: lognormal, median ~9 (urgent ~2), capped by the lead's age.
        median = 2.0 if urgent else 9.0
        minutes = min(rng.lognormvariate(0, 1.1) * median, age.total_seconds() / 60)
        first_touch = received_at + datetime.timedelta(minutes=minutes)
        row["first_touched_at"] = first_touch
        remaining = (ctx.now - first_touch).total_seconds()
        changed = first_touch + datetime.timedelta(seconds=remaining * rng.random() ** 3)
        row["status_changed_at"] = changed
        row["last_touched_at"] = changed
    if ctx.staff_ids and rng.random() < (0.25 if status == Submission.Status.NEW else 0.9):
        row["assignee_id"] = rng.choice(ctx.staff_ids)


# --- the tables, in foreign-key order ----------------------------------------------------------
@dataclass(frozen=True)
class DemoTable:
    """One table written per batch: its model and the function giving its rows."""

    model: type[models.Model]
    rows: Callable[[DemoContext, DemoBatch], list[dict[str, Any]]]


def person_rows(ctx: DemoContext, batch: DemoBatch) -> list[dict[str, Any]]:
    """People of the batch."""
    return batch.people


def submission_rows(ctx: DemoContext, batch: DemoBatch) -> list[dict[str, Any]]:
    """Submissions of the batch (the leads)."""
    return batch.submissions


def consent_rows(ctx: DemoContext, batch: DemoBatch) -> list[dict[str, Any]]:
    """Consent evidence: three rows per form post, and the STOP revocations."""
    return batch.consents


DEMO_TABLES: tuple[DemoTable, ...] = (
    DemoTable(Person, person_rows),
    DemoTable(Submission, submission_rows),
    DemoTable(Consent, consent_rows),
)


# --- a run -------------------------------------------------------------------------------------
@transaction.atomic
def demo_staff_ensure(*, count: int = 5) -> tuple[int, ...]:
    """A few demo coordinators (no usable password), in the Admissions group when it exists."""
    user_model = get_user_model()
    admissions = Group.objects.filter(name="Admissions").first()
    ids = []
    for number in range(1, count + 1):
        username = f"{DEMO_STAFF_PREFIX}coordinator{number}"
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": FIRST_NAMES[number * 7 % len(FIRST_NAMES)],
                "last_name": f"Demo{number}",
                "email": f"{username}@example.org",
                "is_staff": True,
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if admissions is not None:
            user.groups.add(admissions)
        ids.append(user.pk)
    return tuple(ids)


def _payers() -> tuple[tuple[DemoPayer, ...], tuple[float, ...]]:
    payers = []
    weights = []
    for payer in payer_list_active():
        share = PAYER_SHARES.get(payer.slug)
        if share:
            payers.append(DemoPayer(payer.pk, payer.slug, payer.name, payer.in_network))
            weights.append(share)
    if not payers:
        raise ValueError("No payers in the directory: run `manage.py seed_payers` first.")
    return tuple(payers), tuple(weights)


@dataclass(frozen=True)
class DemoSeedResult:
    leads: int
    people: int
    consents: int
    seconds: float


def demo_seed(
    *,
    leads: int,
    seed: int | None = None,
    days: int = 180,
    batch_size: int = 10_000,
    staff: int = 5,
    progress: Callable[[int, int, float], None] | None = None,
) -> DemoSeedResult:
    """Write ``leads`` fake submissions (with people and consent evidence) in batches, each in
    its own transaction: an interrupted run keeps whole batches only."""
    started = time.monotonic()
    now = timezone.now().replace(microsecond=0)
    payers, weights = _payers()
    wording = consent_wording_record(text=DEMO_CONSENT_WORDING)
    assert wording is not None
    taken = frozenset(
        phone
        for phone in Person.objects.filter(phone__regex=r"^\+1[0-9]{3}55501[0-9]{2}$").values_list(
            "phone", flat=True
        )
        if phone
    )
    ctx = DemoContext(
        rng=random.Random(seed),  # noqa: S311 (fake data, not secrets)
        now=now,
        days=days,
        staff_ids=demo_staff_ensure(count=staff),
        payers=payers,
        payer_weights=weights,
        wording_sha256=wording.sha256,
        taken_phones=taken,
    )
    sink = sink_for_connection(now)
    done = people = consents = 0
    while done < leads:
        size = min(batch_size, leads - done)
        with transaction.atomic():
            batch = demo_batch_generate(ctx=ctx, sink=sink, count=size)
            for table in DEMO_TABLES:
                sink.write(table.model, table.rows(ctx, batch))
        done += size
        people += len(batch.people)
        consents += len(batch.consents)
        if progress is not None:
            progress(done, leads, time.monotonic() - started)
    return DemoSeedResult(
        leads=done, people=people, consents=consents, seconds=time.monotonic() - started
    )
