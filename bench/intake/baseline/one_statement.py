"""Floor ``floor_one_statement`` (``run.py --floors``): step 2 of the plan, measured before it
is built.

The contact endpoint up to validation (the real serializer), then the same Python work the
intake does for a new person (crisis detection, reference, the real model instances of the
person, the submission with its PHI encrypted by its own fields, the consent wording and the
three consent rows, the four outbox rows the planner makes), written in ONE statement: a
data-modifying CTE in autocommit, values handed to psycopg as they are (Django's per-value
preparation only for the fields that need it: encryption, JSON). PostgreSQL only.

What it leaves out, so that it is a floor and not a second intake: returning people (it
looks them up in the same statement, and always finds none in the bench), idempotency keys,
spam, card images, the retry on a reference collision, and reading the sequence steps (taken
once per process here; the product would check a revision token in the same statement).
Nothing in the product calls this.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.db import connection, models
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from apps.followups.models import OutboxMessage
from apps.followups.selectors import sequence_steps_active
from apps.intake.api import ContactRequestApi
from apps.intake.crisis import crisis_assess
from apps.leads.models import Consent, ConsentWording, Person, Submission
from apps.leads.references import reference_new

# Field types psycopg adapts as they are (exact types: the encrypted fields subclass
# TextField); every other type goes through Django's own preparation.
PLAIN = {
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.DateTimeField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.FloatField,
    models.GenericIPAddressField,
    models.ForeignKey,
}
_columns: dict[type[models.Model], list[tuple[models.Field[Any, Any], bool, str]]] = {}
_steps: list[Any] | None = None


def _fields(model: type[models.Model]) -> list[tuple[models.Field[Any, Any], bool, str]]:
    """(field, adapt as is, SQL type) of the model's inserted columns, computed once."""
    if model not in _columns:
        _columns[model] = [
            (field, type(field) in PLAIN, str(field.db_type(connection)))
            for field in model._meta.concrete_fields
            if not field.primary_key
        ]
    return _columns[model]


def _values(obj: models.Model, *, skip: set[str]) -> list[Any]:
    row = []
    for field, plain, _ in _fields(type(obj)):
        if field.attname in skip:
            continue
        value = field.pre_save(obj, True)
        row.append(value if plain else field.get_db_prep_save(value, connection))
    return row


def _insert(name: str, objs: list[models.Model], links: dict[str, str], params: list[Any]) -> str:
    """``name AS (INSERT ... SELECT ... FROM (VALUES ...) JOIN links RETURNING ...)``."""
    model = type(objs[0])
    table = model._meta.db_table
    own = [(f, t) for f, _, t in _fields(model) if f.attname not in links]
    columns = [f.column for f, _ in own] + [
        model._meta.get_field(a.removesuffix("_id")).column  # type: ignore[union-attr]
        for a in links
    ]
    rows = []
    for obj in objs:
        values = _values(obj, skip=set(links))
        params.extend(values)
        rows.append("(" + ", ".join(["%s"] * len(values)) + ")")
    v_names = [f"c{i}" for i in range(len(own))]
    select = [f"v.{n}::{t}" for n, (_, t) in zip(v_names, own, strict=True)]
    select += list(links.values())
    sources = sorted({expr.split(".")[0] for expr in links.values()})
    return (
        f"{name} AS (INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(select)} FROM (VALUES {', '.join(rows)}) AS v({', '.join(v_names)})"
        + "".join(f" CROSS JOIN {source}" for source in sources)
        + " RETURNING id)"
    )


def store_in_one_statement(data: dict[str, Any], *, ip: str, agent: str) -> str:
    """Write a new person's contact request, its consent evidence and its outbox rows in one
    statement; return the reference."""
    global _steps  # noqa: PLW0603 - a bench-only per-process cache
    if _steps is None:
        _steps = list(sequence_steps_active(kind=Submission.Kind.CONTACT))
    now = timezone.now()
    assessment = crisis_assess(data.get("message", ""), data.get("best_time", ""))
    reference = reference_new()
    attribution = {
        name: data.get(name, "")
        for name in (
            "page_url", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term",
            "utm_content", "gclid", "fbclid",
        )
    }  # fmt: skip
    channels = {"email": data["consent_email"], "sms": data["consent_sms"],
                "calls": data["consent_calls"]}  # fmt: skip
    person = Person(
        first_name=data["first_name"], last_name=data.get("last_name", ""),
        email=data.get("email") or None, phone=data.get("phone") or None,
        last_submission_at=now, is_inquiry=True, first_touch_at=now, latest_touch_at=now,
        first_utm_source=attribution["utm_source"], latest_utm_source=attribution["utm_source"],
        first_utm_medium=attribution["utm_medium"], latest_utm_medium=attribution["utm_medium"],
        first_utm_campaign=attribution["utm_campaign"],
        latest_utm_campaign=attribution["utm_campaign"],
        **{f"consent_{c}": True for c, granted in channels.items() if granted},
        **{f"consent_{c}_at": now for c, granted in channels.items() if granted},
    )  # fmt: skip
    urgent = assessment.is_crisis
    submission = Submission(
        reference=reference, kind=Submission.Kind.CONTACT, received_at=now,
        urgency=Submission.Urgency.URGENT if urgent else Submission.Urgency.ROUTINE,
        crisis_signals=[str(s) for s in assessment.signals],
        first_name=data["first_name"], last_name=data.get("last_name", ""),
        email=data.get("email") or "", phone=data.get("phone") or "", source_ip=ip,
        user_agent=agent[:512], sla_due_at=now + datetime.timedelta(minutes=30),
        message=data["message"], preferred_contact=data.get("preferred_contact", ""),
        best_time=data.get("best_time", ""), **attribution,
    )  # fmt: skip
    text = data.get("consent_text", "")
    wording = ConsentWording(sha256=hashlib.sha256(text.encode()).hexdigest(), text=text)
    consents = [
        Consent(
            channel=channel, wording_id=wording.sha256,
            action=Consent.Action.GRANTED if granted else Consent.Action.WITHHELD,
            source=Consent.Source.WEB_FORM, recorded_at=now, ip_address=ip,
            user_agent=agent[:512], page_url=attribution["page_url"],
        )
        for channel, granted in channels.items()
    ]  # fmt: skip
    outbox = [
        OutboxMessage(topic="staff_alert", channel="email", recipient="admissions_inbox",
                      template="staff_alert", queue="alerts", due_at=now, max_attempts=6),
        OutboxMessage(topic="escalation", channel="email", recipient="manager",
                      template="escalation", queue="alerts", due_at=submission.sla_due_at,
                      max_attempts=6),
    ] + [
        OutboxMessage(topic=step.purpose, channel=step.channel, recipient="person",
                      template=step.template, queue="followups", step_id=step.pk,
                      due_at=now + datetime.timedelta(minutes=step.delay_minutes),
                      max_attempts=6)
        for step in _steps
    ]  # fmt: skip
    for row in outbox:
        row.dedupe_key = f"{reference}:{row.topic}:{row.channel}"
    params: list[Any] = [person.email, person.phone]
    found = "found AS (SELECT id FROM leads_person WHERE email = %s OR phone = %s LIMIT 1)"
    created = _insert("created", [person], {}, params)
    created = created.replace(
        " RETURNING id)", " WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING id)"
    )
    who = "who AS (SELECT id FROM found UNION ALL SELECT id FROM created)"
    sub = _insert("sub", [submission], {"person_id": "who.id"}, params)
    params.extend([wording.sha256, wording.text, now])
    words = (
        "words AS (INSERT INTO leads_consentwording (sha256, text, first_seen_at) "
        "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING)"
    )
    cons = _insert("cons", consents, {"person_id": "who.id", "submission_id": "sub.id"}, params)
    out = _insert("out", outbox, {"person_id": "who.id", "submission_id": "sub.id"}, params)
    sql = "WITH " + ", ".join([found, created, who, sub, words, cons, out]) + " SELECT 1"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return reference


class ContactOneStatementFloor(ContactRequestApi):
    """Validation (the real serializer), then ``store_in_one_statement``."""

    def post(self, request: Request) -> Response:
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reference = store_in_one_statement(
            serializer.validated_data,
            ip=request.META.get("REMOTE_ADDR", ""),
            agent=request.headers.get("User-Agent", ""),
        )
        return Response({"reference": reference}, status=201)
