"""Reads for marketing: the one selector every export goes through, and the attribution report.

``marketable_contacts`` names its columns (``CONTACT_COLUMNS``); nothing else reaches a file, an
API page or a report, so "no health data in exports" holds by construction: no column below
comes from a submission's PHI, payer, status, urgency or message, and the only join is to the
consent wording's id. The rules (consent for the channel, the latest decision deciding; not
suppressed; not do-not-contact; not Part 2 restricted; not spam; book signups unless inquiries
are asked for with the 42 CFR 2.32 acknowledgement) are filters of the same query, never a
post-filter in Python.

This selector reads the leads and follow-ups tables directly (Person, Consent, Submission,
Suppression): one SQL statement is what makes a million rows stream at COPY-like speed, and it
is read-only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from apps.followups.models import Suppression
from apps.leads.attribution import url_without_userinfo
from apps.leads.models import Consent, Person, Submission
from apps.marketing.models import ExportDestination, ExportRun

EMAIL = "email"
SMS = "sms"
CHANNELS = (EMAIL, SMS)


class SignupKind:
    """Which people a list holds: book signups (the default), inquiries (Part 2), or both."""

    BOOK = "book"
    INQUIRY = "inquiry"
    ALL = "all"
    CHOICES = ((BOOK, "Book signups"), (INQUIRY, "Inquiries (42 CFR Part 2)"), (ALL, "Both"))


# The export's columns, in order. Header names are what marketing tools see.
CONTACT_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "consent_channel",
    "consented_at",
    "consent_wording_id",
    "first_source",
    "first_medium",
    "first_campaign",
    "latest_source",
    "latest_medium",
    "latest_campaign",
)
# ORM names behind each column (annotations may not reuse the model's own field names).
TIMESTAMP_SOURCES: tuple[str, ...] = ("x_consented_at",)
CONTACT_SOURCES: tuple[str, ...] = (
    "first_name",
    "last_name",
    "x_email",
    "x_phone",
    "x_channel",
    "x_consented_at",
    "x_wording",
    "first_utm_source",
    "first_utm_medium",
    "first_utm_campaign",
    "latest_utm_source",
    "latest_utm_medium",
    "latest_utm_campaign",
)


class Part2AcknowledgementRequired(ValueError):
    """Inquiries were asked for without acknowledging the 42 CFR 2.32 redisclosure notice."""


@dataclass(frozen=True)
class ContactFilters:
    """What a list holds. Times are aware datetimes on the channel's consent time.

    ``after`` is exclusive (incremental exports: after the previous run's cutoff) and
    ``until`` inclusive (this run's cutoff), so consecutive runs neither skip nor repeat anyone.
    """

    channel: str
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    after: datetime.datetime | None = None
    source: str = ""
    campaign: str = ""
    signup_kind: str = SignupKind.BOOK
    include_inquiries: bool = False

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
        if self.signup_kind not in (SignupKind.BOOK, SignupKind.INQUIRY, SignupKind.ALL):
            raise ValueError("signup kind must be book, inquiry or all")
        if self.signup_kind != SignupKind.BOOK and not self.include_inquiries:
            raise Part2AcknowledgementRequired(
                "Inquiries are exported only with include_inquiries and the 42 CFR 2.32 "
                "redisclosure notice acknowledged."
            )

    def as_audit(self) -> dict[str, Any]:
        """The filters for the audit row and the run (no contact data in them)."""
        data = asdict(self)
        for key in ("since", "until", "after"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


def _marketable_people(filters: ContactFilters) -> QuerySet[Person]:
    channel = filters.channel
    address = "email" if channel == EMAIL else "phone"
    consent_at = f"consent_{channel}_at"
    people = Person.objects.filter(
        **{
            f"consent_{channel}": True,
            f"{address}__isnull": False,
            "do_not_contact": False,
            "part2_restricted": False,
        }
    )
    if filters.signup_kind == SignupKind.BOOK:
        people = people.filter(is_inquiry=False)
    elif filters.signup_kind == SignupKind.INQUIRY:
        people = people.filter(is_inquiry=True)
    if filters.since is not None:
        people = people.filter(**{f"{consent_at}__gte": filters.since})
    if filters.until is not None:
        people = people.filter(**{f"{consent_at}__lte": filters.until})
    if filters.after is not None:
        people = people.filter(**{f"{consent_at}__gt": filters.after})
    if filters.source:
        people = people.filter(
            Q(first_utm_source=filters.source) | Q(latest_utm_source=filters.source)
        )
    if filters.campaign:
        people = people.filter(
            Q(first_utm_campaign=filters.campaign) | Q(latest_utm_campaign=filters.campaign)
        )
    suppression_kind = Suppression.Kind.EMAIL if channel == EMAIL else Suppression.Kind.PHONE
    return people.filter(
        ~Exists(Suppression.objects.filter(kind=suppression_kind, value=OuterRef(address))),
        # A person known only from spam (honeypot, inhumanly fast) is a bot, not a subscriber.
        Exists(Submission.objects.filter(person=OuterRef("pk"), is_spam=False)),
    )


def marketable_contacts(
    *, filters: ContactFilters, with_key: bool = False, after_pk: int | None = None
) -> QuerySet[Person, tuple[Any, ...]]:
    """The contacts a list may hold, as tuples in ``CONTACT_COLUMNS`` order, by person id.

    ``with_key`` prepends the person id (the sync API's cursor; never written to a file).
    """
    channel = filters.channel
    wording = (
        Consent.objects.filter(
            person=OuterRef("pk"), channel=channel, action=Consent.Action.GRANTED
        )
        .order_by("-recorded_at")
        .values("wording_id")[:1]
    )
    people = _marketable_people(filters)
    if after_pk is not None:
        people = people.filter(pk__gt=after_pk)
    # Only the channel's own address goes out: an email list has no business with a phone.
    rows = people.annotate(
        x_email=F("email") if channel == EMAIL else Value("", output_field=CharField()),
        x_phone=F("phone") if channel == SMS else Value("", output_field=CharField()),
        x_channel=Value(channel, output_field=CharField()),
        x_consented_at=F(f"consent_{channel}_at"),
        x_wording=Coalesce(Subquery(wording), Value(""), output_field=CharField()),
    ).order_by("pk")
    columns = ("pk", *CONTACT_SOURCES) if with_key else CONTACT_SOURCES
    return rows.values_list(*columns)


def marketable_contacts_count(*, filters: ContactFilters) -> int:
    """How many contacts ``marketable_contacts`` would yield (the admin's preview)."""
    return _marketable_people(filters).count()


def marketable_contacts_iter(
    *, filters: ContactFilters, chunk_size: int = 5000
) -> Iterator[tuple[Any, ...]]:
    """Stream the contacts (a server-side cursor on PostgreSQL): memory stays flat at any size."""
    return marketable_contacts(filters=filters).iterator(chunk_size=chunk_size)


def export_last_cutoff(*, destination: ExportDestination, channel: str) -> datetime.datetime | None:
    """Where the last completed export of ``channel`` to ``destination`` stopped, if any.

    A completed run whose file has since expired still counts: its contacts went out."""
    cutoff: datetime.datetime | None = (
        ExportRun.objects.filter(
            destination=destination, channel=channel, status__in=ExportRun.COMPLETED
        )
        .order_by("-cutoff_at")
        .values_list("cutoff_at", flat=True)
        .first()
    )
    return cutoff


# --- Attribution report ---------------------------------------------------------------------

OTHER = "other"
UNREADABLE = "(unreadable)"
VERIFIED_STATUSES = (
    Submission.Status.VERIFIED_IN_NETWORK,
    Submission.Status.VERIFIED_OUT_OF_NETWORK,
)


@dataclass(frozen=True)
class AttributionRow:
    label: str
    submissions: int
    verified: int
    admitted: int


@dataclass(frozen=True)
class AttributionReport:
    by_campaign: list[AttributionRow]
    by_landing_page: list[AttributionRow]
    threshold: int


def _landing_page(url: str) -> str:
    # Host and path only: a query string can carry anything a visitor typed (even an email),
    # and so can a user:password@ part (dropped before anything else).
    if not url:
        return "(none)"
    try:
        parts = urlsplit(url_without_userinfo(url))
    except ValueError:
        # Posted but unreadable as a URL (an unclosed IPv6 bracket): one group, never a 500.
        return UNREADABLE
    return f"{parts.netloc}{parts.path or '/'}" or "(none)"


def _fold(groups: dict[str, list[int]], threshold: int) -> list[AttributionRow]:
    rows: list[AttributionRow] = []
    other = [0, 0, 0]
    for label, (submissions, verified, admitted) in groups.items():
        if submissions < threshold or label == OTHER:
            other = [other[0] + submissions, other[1] + verified, other[2] + admitted]
        else:
            rows.append(AttributionRow(label, submissions, verified, admitted))
    rows.sort(key=lambda row: (-row.submissions, row.label))
    if other[0]:
        rows.append(AttributionRow(OTHER, *other))
    return rows


def _aggregate(
    submissions: QuerySet[Submission], keys: Sequence[str]
) -> Iterator[tuple[tuple[str, ...], int, int, int]]:
    grouped = (
        submissions.order_by()
        .values_list(*keys)
        .annotate(
            n=Count("pk"),
            verified=Count("pk", filter=Q(status__in=VERIFIED_STATUSES)),
            admitted=Count("pk", filter=Q(status=Submission.Status.ADMITTED)),
        )
    )
    for row in grouped:
        yield tuple(row[: len(keys)]), row[-3], row[-2], row[-1]


def attribution_report(
    *, start: datetime.datetime, end: datetime.datetime, threshold: int
) -> AttributionReport:
    """Submissions (spam aside) received in [start, end) and where they stand now (verified,
    admitted), by source / medium / campaign and by landing page. Aggregates only: a group
    smaller than ``threshold`` is folded into "other" so no person can be singled out."""
    submissions = Submission.objects.filter(
        received_at__gte=start, received_at__lt=end, is_spam=False
    )
    by_campaign: dict[str, list[int]] = {}
    for (source, medium, campaign), n, verified, admitted in _aggregate(
        submissions, ("utm_source", "utm_medium", "utm_campaign")
    ):
        label = " / ".join(part or "(none)" for part in (source, medium, campaign))
        by_campaign[label] = [n, verified, admitted]
    by_page: dict[str, list[int]] = {}
    for (page,), n, verified, admitted in _aggregate(submissions, ("page_url",)):
        label = _landing_page(page)
        current = by_page.setdefault(label, [0, 0, 0])
        by_page[label] = [current[0] + n, current[1] + verified, current[2] + admitted]
    return AttributionReport(
        by_campaign=_fold(by_campaign, threshold),
        by_landing_page=_fold(by_page, threshold),
        threshold=threshold,
    )
