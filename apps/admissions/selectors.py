"""Reads for the admissions team: a lead's whole timeline, and the dashboard's figures."""

from __future__ import annotations

import datetime
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.admissions.models import CallLog, Note, PayerTeam, StatusChange, VerificationResult
from apps.followups.selectors import followups_for_submissions
from apps.leads.models import Submission

Status = Submission.Status


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a person's leads, for the lead page."""

    at: datetime.datetime
    kind: str  # submission, followup, note, call, status, verification
    title: str
    submission_reference: str
    by: str = ""
    obj: Any = None


@dataclass
class LeadTimeline:
    submissions: list[Submission]
    notes: list[Note]
    calls: list[CallLog]
    status_changes: list[StatusChange]
    verifications: list[VerificationResult]
    followups: list[Any]
    entries: list[TimelineEntry] = field(default_factory=list)


def lead_timeline(*, submission: Submission) -> LeadTimeline:
    """Everything about the person behind ``submission``: each of their submissions, the
    follow-ups planned for them (sent or pending), notes, calls, status changes and verification
    results, newest first. A fixed number of queries, whatever the person's history."""
    submissions = list(
        Submission.objects.filter(person_id=submission.person_id)
        .select_related("payer")
        .only(
            "pk",
            "reference",
            "kind",
            "status",
            "received_at",
            "urgency",
            "is_spam",
            "payer__name",
            "payer__in_network",
        )
        .order_by("-received_at")
    )
    ids = [s.pk for s in submissions]
    references = {s.pk: s.reference for s in submissions}
    notes = list(
        Note.objects.filter(submission_id__in=ids).select_related("created_by").order_by("-pk")
    )
    calls = list(
        CallLog.objects.filter(submission_id__in=ids).select_related("created_by").order_by("-pk")
    )
    changes = list(
        StatusChange.objects.filter(submission_id__in=ids)
        .select_related("created_by")
        .order_by("-pk")
    )
    verifications = list(
        VerificationResult.objects.filter(submission_id__in=ids)
        .select_related("created_by")
        .order_by("-pk")
    )
    followups = followups_for_submissions(submission_ids=ids)
    entries: list[TimelineEntry] = [
        TimelineEntry(
            at=s.received_at,
            kind="submission",
            title=f"{s.get_kind_display()} received",
            submission_reference=s.reference,
            obj=s,
        )
        for s in submissions
    ]
    for message in followups:
        at = message.sent_at or message.due_at
        entries.append(
            TimelineEntry(
                at=at,
                kind="followup",
                title=f"{message.get_topic_display()} by {message.get_channel_display()}: "
                f"{message.get_status_display().lower()}",
                submission_reference=references.get(message.submission_id or 0, ""),
                obj=message,
            )
        )
    for kind, rows in (
        ("note", notes),
        ("call", calls),
        ("status", changes),
        ("verification", verifications),
    ):
        entries.extend(
            TimelineEntry(
                at=row.created_at,
                kind=kind,
                title=_title(kind, row),
                submission_reference=references.get(row.submission_id, ""),
                by=row.created_by.get_username() if row.created_by else "system",
                obj=row,
            )
            for row in rows
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return LeadTimeline(
        submissions=submissions,
        notes=notes,
        calls=calls,
        status_changes=changes,
        verifications=verifications,
        followups=followups,
        entries=entries,
    )


def _title(kind: str, row: Any) -> str:
    if kind == "note":
        return "Note"
    if kind == "call":
        minutes, seconds = divmod(row.duration_seconds, 60)
        direction = row.get_direction_display().lower()
        return f"Call ({direction}): {row.get_outcome_display()}, {minutes}:{seconds:02d}"
    if kind == "status":
        return f"Status: {_label(row.from_status)} → {_label(row.to_status)}"
    return f"Verification of benefits: {row.get_network_display()}"


def _label(status: str) -> str:
    return Status(status).label if status in Status.values else status


def payer_team_exists(*, payer_id: int | None) -> bool:
    """Whether the payer has a round-robin team (the lead page offers the button then)."""
    return (
        payer_id is not None
        and PayerTeam.objects.filter(payer_id=payer_id, round_robin=True).exists()
    )


# --- Dashboard ------------------------------------------------------------------------------------

LEAD_KINDS = (Submission.Kind.CONTACT, Submission.Kind.VERIFICATION)
CONVERTED = Status.ADMITTED
P90 = 0.9
HISTOGRAM_BUCKETS = ((5, "≤5 min"), (15, "5–15"), (30, "15–30"), (60, "30–60"), (240, "1–4 h"))


@dataclass(frozen=True)
class Dashboard:
    since: datetime.datetime
    total: int
    by_payer: list[tuple[str, bool, int]]  # name, in network, count
    by_status: list[tuple[str, int]]  # label, count
    by_payer_status: dict[str, dict[str, int]]
    first_touch_median_minutes: float | None
    first_touch_p90_minutes: float | None
    touched: int
    sla_breaches: int
    conversion_by_payer: list[tuple[str, int, int, float]]  # name, leads, admitted, rate
    first_touch_histogram: list[tuple[str, int]]


def dashboard_figures(*, since: datetime.datetime) -> Dashboard:
    """Leads received since ``since`` (not spam, not book signups): by payer and status, speed to
    first touch (median, p90), SLA breaches, conversion to admitted by payer.

    The window bounds the work (index ``submission_recent`` on received_at), and the database
    reduces it: grouped counts, one row of conditional counts (touched, breaches, histogram) and,
    on PostgreSQL, the percentiles. SQLite has no percentile aggregate, so there the durations
    are read and reduced in Python (development data is small).
    """
    now = timezone.now()
    window = Submission.objects.filter(received_at__gte=since, is_spam=False, kind__in=LEAD_KINDS)
    grouped = list(
        window.values("payer__name", "payer__in_network", "status").annotate(n=Count("pk"))
    )
    by_payer_counter: Counter[tuple[str, bool]] = Counter()
    by_status_counter: Counter[str] = Counter()
    by_payer_status: dict[str, dict[str, int]] = defaultdict(dict)
    for row in grouped:
        name = row["payer__name"] or "Not resolved"
        key = (name, bool(row["payer__in_network"]))
        by_payer_counter[key] += row["n"]
        by_status_counter[row["status"]] += row["n"]
        by_payer_status[name][row["status"]] = row["n"]
    touched = Q(first_touched_at__isnull=False)
    counts = window.aggregate(
        touched=Count("pk", filter=touched),
        breaches=Count(
            "pk",
            filter=Q(first_touched_at__isnull=True, sla_due_at__lt=now)
            | Q(first_touched_at__gt=F("sla_due_at")),
        ),
        # Touched within each bucket's limit (cumulative; a touch logged before the lead's
        # received time counts as immediate).
        **{
            f"within_{limit}": Count(
                "pk",
                filter=Q(
                    first_touched_at__lte=F("received_at") + datetime.timedelta(minutes=limit)
                ),
            )
            for limit, _ in HISTOGRAM_BUCKETS
        },
    )
    median, p90 = (
        _first_touch_percentiles(window.filter(touched)) if counts["touched"] else (None, None)
    )
    conversion = []
    for (name, _), leads in by_payer_counter.most_common():
        admitted = by_payer_status[name].get(CONVERTED, 0)
        conversion.append((name, leads, admitted, admitted / leads if leads else 0.0))
    return Dashboard(
        since=since,
        total=sum(by_status_counter.values()),
        by_payer=[(name, in_net, n) for (name, in_net), n in by_payer_counter.most_common()],
        by_status=[
            (label, by_status_counter[value])
            for value, label in Status.choices
            if by_status_counter[value]
        ],
        by_payer_status=dict(by_payer_status),
        first_touch_median_minutes=median,
        first_touch_p90_minutes=p90,
        touched=counts["touched"],
        sla_breaches=counts["breaches"],
        conversion_by_payer=conversion,
        first_touch_histogram=_histogram(counts),
    )


class _Percentile(Aggregate):
    """PostgreSQL's ordered-set aggregates: ``percentile_cont`` (interpolated, as
    ``statistics.median``) and ``percentile_disc`` (nearest rank)."""

    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, *, function: str, fraction: float) -> None:
        super().__init__(expression, function=function, fraction=fraction)


def _first_touch_percentiles(touched: QuerySet[Submission]) -> tuple[float, float]:
    """Median and p90 of minutes from received to first touch (negative durations count as 0)."""
    if connection.vendor == "postgresql":
        minutes = Greatest(
            F("first_touched_at") - F("received_at"),
            Value(datetime.timedelta(0)),
            output_field=DurationField(),
        )
        result = touched.aggregate(
            median=_Percentile(minutes, function="percentile_cont", fraction=0.5),
            p90=_Percentile(minutes, function="percentile_disc", fraction=P90),
        )
        return result["median"].total_seconds() / 60, result["p90"].total_seconds() / 60
    ordered = sorted(
        max((first - received).total_seconds(), 0) / 60
        for received, first in touched.values_list("received_at", "first_touched_at")
        if first is not None
    )
    return statistics.median(ordered), _percentile(ordered, P90)


def _percentile(ordered: list[float], fraction: float) -> float:
    # Nearest rank on sorted values, as percentile_disc: what staff read as "9 in 10 leads
    # within". Rounded before the ceiling so 0.9 * 70 (63.00000000000001) is rank 63.
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[max(rank, 1) - 1]


def _histogram(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Leads per bucket, from the cumulative "touched within" counts."""
    rows = []
    below = 0
    for limit, label in HISTOGRAM_BUCKETS:
        within = counts[f"within_{limit}"]
        rows.append((label, within - below))
        below = within
    rows.append(("> 4 h", counts["touched"] - below))
    return rows
