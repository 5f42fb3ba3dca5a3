"""Admin for marketing: the export page (filters, count preview, format, the Part 2 option with
its notice), export runs with their progress and signed download link, destinations, sync API
tokens (shown once), and the attribution report.

Pages check ``marketing.export_contacts`` / ``marketing.view_attribution_report``; nothing
here shows a submission, a message or any other PHI.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from apps.marketing.forms import ExportForm, ExportTokenForm, ReportForm
from apps.marketing.models import ExportDestination, ExportRun, ExportToken
from apps.marketing.report import attribution_csv, attribution_svg
from apps.marketing.selectors import attribution_report, marketable_contacts_count
from apps.marketing.services import (
    EXPORT_PERMISSION,
    PART2_NOTICE,
    ExportWindow,
    export_download_token,
    export_file_download,
    export_run_create,
    export_run_enqueue,
    export_token_create,
    export_tokens_revoke,
    export_window,
)
from asana_leads.admin_base import ReadOnlyAdmin

REPORT_PERMISSION = "marketing.view_attribution_report"


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _stamp(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@admin.register(ExportRun)
class ExportRunAdmin(ReadOnlyAdmin):
    """Every export made: who, when, filters, rows, format, SHA-256; a run's page shows its
    progress and, once written, the download link until it expires."""

    list_display = (
        "id",
        "created_at",
        "requested_by",
        "via",
        "channel",
        "format",
        "status",
        "progress",
        "rows_written",
        "include_inquiries",
    )
    list_filter = ("status", "via", "format", "channel")
    list_select_related = ("requested_by",)
    show_full_result_count = False
    ordering = ("-created_at",)
    fields = (
        "status",
        "progress",
        "download",
        "via",
        "requested_by",
        "token",
        "destination",
        "channel",
        "format",
        "include_bom",
        "filters",
        "include_inquiries",
        "part2_notice_acknowledged_at",
        "window",
        "since_at",
        "cutoff_at",
        "rows_expected",
        "rows_written",
        "size_bytes",
        "sha256",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
    )
    readonly_fields = fields

    @admin.display(description="progress")
    def progress(self, obj: ExportRun) -> str:
        if obj.status == ExportRun.Status.DONE:
            return "100%"
        if not obj.rows_expected:
            return "—"
        return f"{min(100, 100 * obj.rows_written // obj.rows_expected)}%"

    @admin.display(description="window (consent time)")
    def window(self, obj: ExportRun) -> str:
        until = obj.filters.get("until") if isinstance(obj.filters, dict) else None
        listed_until = datetime.datetime.fromisoformat(until) if until else obj.cutoff_at
        text = f"through {_stamp(listed_until)}"
        if obj.since_at is not None:
            text = f"after {_stamp(obj.since_at)} {text}"
        if obj.cutoff_at < listed_until:
            text += f"; the next incremental export starts after {_stamp(obj.cutoff_at)}"
        return text

    @admin.display(description="download")
    def download(self, obj: ExportRun) -> SafeString | str:
        if (
            obj.status != ExportRun.Status.DONE
            or obj.via != ExportRun.Via.ADMIN
            or obj.expires_at is None
            or obj.expires_at <= timezone.now()
        ):
            return "—"
        url = reverse(
            "admin:marketing_exportrun_download",
            args=[export_download_token(run_id=obj.pk)],
        )
        return format_html(
            '<a href="{}">Download ({} rows)</a> · link expires {}',
            url,
            obj.rows_written,
            timezone.localtime(obj.expires_at).strftime("%Y-%m-%d %H:%M"),
        )

    def get_urls(self) -> list[URLPattern]:  # type: ignore[override]
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="marketing_exportrun_export"),
            path(
                "download/<str:token>/",
                wrap(self.download_view),
                name="marketing_exportrun_download",
            ),
            path(
                "attribution/", wrap(self.attribution_view), name="marketing_exportrun_attribution"
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {
            **(extra_context or {}),
            "can_export": request.user.has_perm(EXPORT_PERMISSION),
            "can_report": request.user.has_perm(REPORT_PERMISSION),
        }
        return super().changelist_view(request, extra)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # get_object: an id that is not a number is "not found" (Django redirects), not a 500.
        run = self.get_object(request, unquote(object_id))
        running = run is not None and run.status in (
            ExportRun.Status.QUEUED,
            ExportRun.Status.RUNNING,
        )
        extra = {**(extra_context or {}), "refresh_seconds": 3 if running else None}
        return super().change_view(request, object_id, form_url, extra)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        _require(request, EXPORT_PERMISSION)
        form = ExportForm(request.POST or None)
        count: int | None = None
        window: ExportWindow | None = None
        if request.method == "POST" and form.is_valid():
            filters = form.filters()
            if "preview" in request.POST:
                # The window the export would cover now (incremental: since the last one).
                incremental = bool(form.cleaned_data.get("incremental"))
                window = export_window(
                    filters=filters,
                    destination=form.cleaned_data.get("destination"),
                    incremental=incremental,
                )
                count = marketable_contacts_count(filters=window.filters)
                window = window if incremental else None
            else:
                with transaction.atomic():
                    run = export_run_create(
                        filters=filters,
                        fmt=form.cleaned_data["format"],
                        via=ExportRun.Via.ADMIN,
                        actor=_user(request),
                        destination=form.cleaned_data.get("destination"),
                        incremental=bool(form.cleaned_data.get("incremental")),
                        part2_acknowledged=bool(form.cleaned_data.get("acknowledge_part2_notice")),
                        bom=bool(form.cleaned_data.get("bom")),
                    )
                    export_run_enqueue(run=run)
                messages.success(request, f"Export {run.pk} queued: {run.rows_expected} contacts.")
                return HttpResponseRedirect(
                    reverse("admin:marketing_exportrun_change", args=[run.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Export marketable contacts",
            "opts": self.model._meta,
            "form": form,
            "count": count,
            "window": window,
            "settling_seconds": settings.EXPORT_SETTLING_SECONDS,
            "part2_notice": PART2_NOTICE,
        }
        return TemplateResponse(request, "admin/marketing/export_form.html", context)

    def download_view(self, request: HttpRequest, token: str) -> FileResponse:
        _require(request, EXPORT_PERMISSION)
        actor = _user(request)
        if actor is None:
            raise PermissionDenied
        # Audited in the service before the response exists: who downloaded which file.
        download = export_file_download(token=token, actor=actor, request=request)
        if download is None:
            raise Http404("This download link is not valid or has expired, or its file is gone.")
        response = FileResponse(download.file, as_attachment=True, filename=download.run.file_name)
        response["Cache-Control"] = "no-store"
        return response

    def attribution_view(self, request: HttpRequest) -> HttpResponse:
        _require(request, REPORT_PERMISSION)
        today = timezone.localdate()
        form = ReportForm(
            request.GET
            or {
                "start": (today - datetime.timedelta(days=29)).isoformat(),
                "end": today.isoformat(),
            }
        )
        report = None
        charts: list[SafeString] = []
        if form.is_valid():
            start, end = form.window()
            report = attribution_report(
                start=start, end=end, threshold=settings.ATTRIBUTION_MIN_GROUP
            )
            if request.GET.get("format") == "csv":
                response = HttpResponse(
                    attribution_csv(report), content_type="text/csv; charset=utf-8"
                )
                response["Content-Disposition"] = (
                    f'attachment; filename="attribution-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
                )
                return response
            # The SVG is built from escaped labels and numbers only.
            charts = [
                mark_safe(attribution_svg(report.by_campaign, "Submissions by campaign")),  # noqa: S308
                mark_safe(attribution_svg(report.by_landing_page, "Submissions by page")),  # noqa: S308
            ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Attribution report",
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "charts": charts,
            "csv_query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/marketing/attribution.html", context)


@admin.register(ExportDestination)
class ExportDestinationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "description", "created_at")
    fields = ("name", "description")


@admin.register(ExportToken)
class ExportTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Sync API tokens: created here, the secret shown once; revoked, never edited."""

    list_display = (
        "name",
        "key_prefix",
        "destination",
        "include_inquiries",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("destination",)
    actions = ("revoke",)
    form = ExportTokenForm

    def get_fields(self, request: HttpRequest, obj: ExportToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "destination", "include_inquiries", "acknowledge_part2_notice")
        return (
            "name",
            "key_prefix",
            "destination",
            "include_inquiries",
            "part2_notice_acknowledged_at",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: ExportToken | None = None
    ) -> tuple[str, ...]:
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        _require(request, EXPORT_PERMISSION)
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = ExportTokenForm(request.POST)
            if form.is_valid():
                token, raw = export_token_create(
                    name=form.cleaned_data["name"],
                    destination=form.cleaned_data["destination"],
                    actor=_user(request),
                    include_inquiries=bool(form.cleaned_data.get("include_inquiries")),
                    part2_acknowledged=bool(form.cleaned_data.get("acknowledge_part2_notice")),
                    request=request,
                )
                # Rendered here, not put in a message: a message would sit in the session.
                context = {
                    **self.admin_site.each_context(request),
                    "title": "Sync token created",
                    "opts": self.model._meta,
                    "token": token,
                    "raw": raw,
                }
                response = TemplateResponse(request, "admin/marketing/token_created.html", context)
                response["Cache-Control"] = "no-store"
                return response
        return super().add_view(
            request, form_url, {**(extra_context or {}), "part2_notice": PART2_NOTICE}
        )

    @admin.action(description="Revoke the selected tokens", permissions=["add"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        revoked = export_tokens_revoke(
            token_ids=queryset.values_list("pk", flat=True), actor=_user(request), request=request
        )
        messages.success(request, f"{revoked} token(s) revoked.")
