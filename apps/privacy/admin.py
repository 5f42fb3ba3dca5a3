"""The audit log for Compliance: browse, filter, search, export. Nobody adds, edits or deletes."""

from __future__ import annotations

import csv
import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.privacy.models import AuditEvent
from apps.privacy.services import audit_record
from asana_leads.admin_base import ReadOnlyAdmin

EXPORT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_username",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "fields",
    "ip_address",
    "user_agent",
    "reason",
    "details",
    "prev_hash",
    "hash",
)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "actor_username",
        "action",
        "target_label",
        "field_list",
        "ip_address",
    )
    list_filter = ("action", ("actor", admin.RelatedOnlyFieldListFilter), "occurred_at")
    date_hierarchy = "occurred_at"
    search_fields = ("=target_label", "=actor_username")
    search_help_text = "Exact submission reference (or other record label), or username."
    list_select_related = ("target_type",)
    show_full_result_count = False
    list_per_page = 100
    actions = ("export_csv",)
    # Every column of the export, with the actor as a link instead of the row id.
    readonly_fields = ("occurred_at", "actor", *EXPORT_COLUMNS[2:])
    fields = readonly_fields

    @admin.display(description="Fields")
    def field_list(self, event: AuditEvent) -> str:
        return ", ".join(event.fields)

    @admin.action(description="Export the selected rows as CSV (audited)", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> HttpResponse:
        rows = list(queryset.select_related("target_type").order_by("id"))
        filters = {key: value for key, value in request.GET.items() if key not in ("o", "p")}
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditEvent.Action.AUDIT_EXPORT,
            request=request,
            details={
                "rows": len(rows),
                "first_id": rows[0].pk if rows else None,
                "last_id": rows[-1].pk if rows else None,
                "filters": filters,
            },
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(EXPORT_COLUMNS)
        for event in rows:
            target_type = (
                f"{event.target_type.app_label}.{event.target_type.model}"
                if event.target_type
                else ""
            )
            writer.writerow(
                [
                    event.pk,
                    event.occurred_at.isoformat(),
                    event.actor_username,
                    event.action,
                    target_type,
                    event.target_id,
                    _cell(event.target_label),
                    ";".join(event.fields),
                    event.ip_address or "",
                    _cell(event.user_agent),
                    _cell(event.reason),
                    _cell(json.dumps(event.details, sort_keys=True)),
                    event.prev_hash,
                    event.hash,
                ]
            )
        return response


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: quote it.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
