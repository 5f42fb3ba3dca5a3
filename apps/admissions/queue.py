"""The lead queue's list machinery, built to cost the same at a thousand leads or a million.

- No COUNT(*): the change list fetches one row more than a page to know whether a next page
  exists (``LeadChangeList.get_results``).
- Filters read their choices from constants or small tables (payers, staff), never a DISTINCT
  over submissions, and each filter is served by an index in the queue's order (leads 0002).
- Search is exact or prefix on normalized columns (reference, email, E.164 phone, names), each
  with its own index; never ``icontains`` over the table.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.leads.contact import InvalidPhoneNumber, email_normalize, phone_normalize
from apps.leads.models import OPEN_QUEUE, Submission
from apps.leads.references import ALPHABET, reference_normalize

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.http import HttpRequest

Status = Submission.Status

QUEUE_ORDER = ("-urgency", "sla_due_at", "-id")
RECENT_ORDER = ("-received_at", "-id")
QUEUE_PARAM = "queue"
OPEN_STATUSES = {str(s) for s in Submission.OPEN_STATUSES}
# Deeper than this, an OFFSET walks hundreds of thousands of index entries: search or filter.
MAX_PAGE = 200
# The largest id any of our databases stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def id_from_param(value: str) -> int | None:
    """A row id typed in a URL or query string, or None when it cannot be one (``str.isdigit``
    also accepts "²", which ``int()`` refuses, and SQLite overflows above 64 bits)."""
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def ordering_for(request: HttpRequest) -> tuple[str, ...]:
    """Open leads in the queue's order (urgent first, then SLA due); anything else newest first."""
    queue = request.GET.get(QUEUE_PARAM)
    if queue is None and not request.GET.get("q"):
        return QUEUE_ORDER
    if queue in OPEN_STATUSES:
        return QUEUE_ORDER
    return RECENT_ORDER


class LeadChangeList(ChangeList):
    """A change list that never counts the table: it reads one row past the page instead."""

    def get_results(self, request: HttpRequest) -> None:
        if not 1 <= self.page_num <= MAX_PAGE:
            # The admin answers this with a redirect to the unfiltered list (``?e=1``).
            raise IncorrectLookupParameters
        per_page = self.list_per_page
        offset = (self.page_num - 1) * per_page
        rows = list(self.queryset[offset : offset + per_page + 1])
        has_next = len(rows) > per_page
        paginator = Paginator(self.queryset, per_page)
        # Known without counting: enough for "previous / next" and the page number.
        paginator.count = offset + len(rows)  # type: ignore[misc]
        self.result_list = rows[:per_page]
        # What the list knows it holds: this page. Equal to the page's length, so the admin
        # offers no "Select all N" (an action across the whole queue, see PageActionForm).
        self.result_count = len(self.result_list)
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.can_show_all = False
        self.multi_page = has_next or self.page_num > 1
        self.paginator = paginator
        self.has_next_page = has_next


class PageActionForm(helpers.ActionForm):
    """Actions work on the ticked rows of the page, never "across all pages": the list does not
    count, so nobody could see how many leads that would be (every open lead, a million rows)."""

    def clean_select_across(self) -> bool:
        return False


class _ConstantFilter(admin.SimpleListFilter):
    """A filter whose choices are known without reading submissions."""

    def choices(self, changelist: Any) -> Iterator[Any]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": self.all_label,
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    all_label = "All"


class _FieldChoicesFilter(_ConstantFilter):
    """One submission field, filtered to one of its choices."""

    field: ClassVar[str]
    field_choices: ClassVar[list[tuple[str, str]]]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(self.field_choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


class QueueFilter(_ConstantFilter):
    """Open (the default), a single status, every lead, or spam."""

    title = "status"
    parameter_name = QUEUE_PARAM
    all_label = "Open queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*Status.choices, ("all", "All leads"), ("spam", "Spam")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            # Searching looks for a person wherever their lead is in the pipeline.
            if request.GET.get("q"):
                return queryset.filter(is_spam=False)
            return queryset.filter(OPEN_QUEUE)
        if value == "all":
            return queryset.filter(is_spam=False)
        if value == "spam":
            return queryset.filter(is_spam=True)
        if value in Status.values:
            return queryset.filter(status=value, is_spam=False)
        return queryset.none()


class PayerFilter(_ConstantFilter):
    """Payers in network first (the directory is a small table)."""

    title = "payer"
    parameter_name = "payer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from apps.payers.models import Payer

        rows = Payer.objects.order_by("-in_network", "name").values_list("pk", "name", "in_network")
        return [
            *((str(pk), f"{name} ✓" if in_network else name) for pk, name, in_network in rows),
            ("none", "Not resolved yet"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if value == "none":
            return queryset.filter(payer__isnull=True)
        payer_id = id_from_param(value)
        return queryset.none() if payer_id is None else queryset.filter(payer_id=payer_id)


class InNetworkFilter(_ConstantFilter):
    title = "in network"
    parameter_name = "in_network"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "In network"), ("no", "Out of network"), ("unknown", "Payer unknown")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "yes":
            return queryset.filter(payer__in_network=True)
        if value == "no":
            return queryset.filter(payer__in_network=False)
        if value == "unknown":
            return queryset.filter(payer__isnull=True)
        return queryset


class FormFilter(_FieldChoicesFilter):
    title = "form"
    parameter_name = "form"
    field = "kind"
    field_choices = Submission.Kind.choices


class AssigneeFilter(_ConstantFilter):
    """Mine, unassigned, or a colleague (staff accounts: a small table)."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from django.contrib.auth import get_user_model

        staff = (
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(pk=request.user.pk or 0)
            .order_by("username")
            .values_list("pk", "username")
        )
        return [("mine", "Mine"), ("unassigned", "Unassigned"), *((str(pk), n) for pk, n in staff)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if value == "mine":
            return queryset.filter(assignee_id=request.user.pk)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        assignee_id = id_from_param(value)
        return queryset.none() if assignee_id is None else queryset.filter(assignee_id=assignee_id)


class SlaFilter(_ConstantFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("breached", "Breached (untouched past due)"), ("due", "Due, not yet breached")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "breached":
            return queryset.filter(sla_due_at__lt=now, first_touched_at__isnull=True)
        if self.value() == "due":
            return queryset.filter(sla_due_at__gte=now, first_touched_at__isnull=True)
        return queryset


class ReceivedFilter(_ConstantFilter):
    """Date range in the center's time zone."""

    title = "received"
    parameter_name = "received"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("today", "Today"),
            ("yesterday", "Yesterday"),
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
            ("older", "Older than 30 days"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        day = datetime.timedelta(days=1)
        ranges: dict[str, tuple[datetime.datetime | None, datetime.datetime | None]] = {
            "today": (today, None),
            "yesterday": (today - day, today),
            "7d": (today - 6 * day, None),
            "30d": (today - 29 * day, None),
            "older": (None, today - 29 * day),
        }
        value = self.value()
        if value not in ranges:
            return queryset
        start, end = ranges[value]
        if start is not None:
            queryset = queryset.filter(received_at__gte=start)
        if end is not None:
            queryset = queryset.filter(received_at__lt=end)
        return queryset


class TreatmentFilter(_FieldChoicesFilter):
    title = "treatment interest"
    parameter_name = "treatment"
    field = "treatment_interest"
    field_choices = Submission.TreatmentInterest.choices


_PHONE_TEXT = re.compile(r"^[\d\s()+.\-]+$")
_REFERENCE_TEXT = re.compile(rf"^[{ALPHABET}]{{1,4}}(-[{ALPHABET}]{{0,4}})?$")
MIN_PHONE_DIGITS = 3


def lead_search(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:  # noqa: PLR0911
    """Exact or prefix matches on indexed, normalized columns only.

    ``jane@`` / ``jane@x.org``: email prefix or exact. ``(949) 555-0142`` / ``949555``: E.164
    phone exact or prefix. ``K7MQ-4T9R`` / ``k7mq``: reference. ``Dana`` / ``Dana Riv``: first
    name prefix (and last name prefix for the second word); a single word also matches a last
    name or reference prefix.
    """
    term = " ".join(term.split())
    if not term:
        return queryset
    if "@" in term:
        email = email_normalize(term)
        return (
            queryset.filter(email=email)
            if "." in email.split("@")[1]
            else (queryset.filter(email__startswith=email))
        )
    if _PHONE_TEXT.match(term):
        digits = re.sub(r"\D", "", term)
        if len(digits) < MIN_PHONE_DIGITS:
            return queryset.none()
        try:
            return queryset.filter(phone=phone_normalize(term))
        except InvalidPhoneNumber:
            prefix = digits if term.startswith("+") else ("1" + digits.removeprefix("1"))
            return queryset.filter(phone__startswith="+" + prefix)
    words = term.split(" ")
    reference = reference_normalize(term)
    if re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", reference):
        return queryset.filter(reference=reference)
    if len(words) >= 2:  # noqa: PLR2004
        return queryset.filter(
            first_name__istartswith=words[0], last_name__istartswith=" ".join(words[1:])
        )
    condition = Q(first_name__istartswith=term) | Q(last_name__istartswith=term)
    if _REFERENCE_TEXT.match(term.upper()):
        condition |= Q(reference__startswith=term.upper())
    return queryset.filter(condition)
