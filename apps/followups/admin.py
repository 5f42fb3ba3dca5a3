"""Admin for follow-ups: the outbox (read-mostly, failed messages retried by an action),
sequences (editable: they are data), the suppression list (searched and added to), and inbound
texts (read-only, the words masked: a reply to a treatment center may be health information).

Every change goes through a service (``outbox_retry``, ``suppression_add``). List filters use
fields with fixed choices, so no filter runs a DISTINCT over a large table.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from apps.followups.inbound import START_HELD
from apps.followups.models import (
    Channel,
    InboundText,
    OutboxAttempt,
    OutboxMessage,
    Sequence,
    SequenceStep,
    Suppression,
)
from apps.followups.optout import suppression_add
from apps.followups.revocation import Intent
from apps.followups.services import outbox_retry
from apps.leads.contact import InvalidPhoneNumber, email_normalize, phone_normalize
from apps.privacy.masking import mask_all
from asana_leads.admin_base import ReadOnlyAdmin

ERROR_PREVIEW_CHARS = 80
READ_ONLY_SUBMIT = {
    "show_save": False,
    "show_save_and_continue": False,
    "show_save_and_add_another": False,
    "show_delete": False,
}


def _contact_normalize(text: str) -> str:
    """A typed email or phone as the suppression list stores it (search and add)."""
    text = text.strip()
    if "@" in text:
        return email_normalize(text)
    try:
        return phone_normalize(text)
    except InvalidPhoneNumber:
        return text


# --- Outbox ---------------------------------------------------------------------------------


class OutboxAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OutboxAttempt
    fields = ("started_at", "duration_ms", "outcome", "error", "provider_message_id", "worker")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every message planned, where it stands, and each try. Nothing is edited here: a failed
    message is retried (the action), the rest is history."""

    list_display = (
        "id",
        "topic",
        "channel",
        "recipient",
        "status",
        "queue",
        "due_at",
        "attempts",
        "sent_at",
        "error_preview",
    )
    list_filter = ("status", "topic", "channel", "queue")
    search_fields = ("=id", "=dedupe_key", "=provider_message_id", "=submission__reference")
    list_select_related = False
    show_full_result_count = False
    ordering = ("-created_at",)
    actions = ("retry",)
    inlines = (OutboxAttemptInline,)
    fields = (
        "topic",
        "channel",
        "queue",
        "recipient",
        "address",
        "template",
        "submission",
        "person",
        "step",
        "status",
        "skip_reason",
        "due_at",
        "attempts",
        "max_attempts",
        "handed_at",
        "lease_expires_at",
        "last_error",
        "provider_message_id",
        "sent_at",
        "dedupe_key",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="last error")
    def error_preview(self, obj: OutboxMessage) -> str:
        return obj.last_error[:ERROR_PREVIEW_CHARS]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The outbox is the record of what was (or was not) sent.
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().changeform_view(
            request, object_id, form_url, {**(extra_context or {}), **READ_ONLY_SUBMIT}
        )

    def save_model(self, request: HttpRequest, obj: OutboxMessage, form: Any, change: bool) -> None:
        # Every field is read-only; a crafted POST must not write a row behind the services.
        return

    @admin.action(description="Retry (failed or skipped messages, due now)", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        count = outbox_retry(message_ids=ids)
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(
            request,
            f"{count} of {len(ids)} message(s) will be sent again "
            "(only failed or skipped messages are retried).",
            level,
        )


# --- Sequences --------------------------------------------------------------------------------


def _required_templates(channel: str, name: str) -> list[str]:
    if channel == Channel.EMAIL:
        return [f"followups/{name}.subject.txt", f"followups/{name}.txt"]
    if channel == Channel.SMS:
        return [f"followups/{name}.sms.txt"]
    return [f"followups/{name}.txt"]


class SequenceStepForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SequenceStep
        fields = ("position", "delay_minutes", "channel", "purpose", "template", "active")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        # Checked when changed only: a step whose templates are missing would fail at send time,
        # but an untouched row must not block saving its neighbours.
        if {"channel", "template"} & set(self.changed_data):
            channel, name = cleaned.get("channel"), cleaned.get("template")
            if channel and name:
                for path in _required_templates(str(channel), str(name)):
                    try:
                        get_template(path)
                    except TemplateDoesNotExist:
                        self.add_error("template", f"No template {path}.")
        return cleaned


class SequenceStepInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SequenceStep
    form = SequenceStepForm
    fields = ("position", "delay_minutes", "channel", "purpose", "template", "active")
    extra = 0
    ordering = ("position",)


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Which messages each form's submissions get, after which delays (minutes), on which
    channel. Changes apply to submissions that arrive after the save."""

    list_display = ("name", "submission_kind", "active")
    list_filter = ("active",)
    fields = ("name", "submission_kind", "active", "description")
    inlines = (SequenceStepInline,)


# --- Suppression list -------------------------------------------------------------------------


class SuppressionImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV with email addresses and/or phone numbers, in any columns.",
    )
    source = forms.CharField(max_length=60, required=False, help_text="e.g. the list's name")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > SUPPRESSION_IMPORT_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB.")
        return upload


SUPPRESSION_IMPORT_MAX_BYTES = 20 * 1024 * 1024


class SuppressionAddForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Suppression
        fields = ("kind", "value", "reason", "source")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        kind, value = cleaned.get("kind"), str(cleaned.get("value") or "")
        if not kind or not value:
            return cleaned
        if kind == Suppression.Kind.EMAIL:
            if "@" not in value:
                self.add_error("value", "Enter an email address.")
            else:
                cleaned["value"] = email_normalize(value)
        else:
            try:
                cleaned["value"] = phone_normalize(value)
            except InvalidPhoneNumber:
                self.add_error("value", "Enter a phone number.")
        return cleaned


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Email addresses and phone numbers never to be contacted, checked at send time. Entries
    are added here and never edited or removed: lifting one is a new consent, recorded by the
    person themselves (START by text) or by a documented decision, not a click in admin."""

    list_display = ("value", "kind", "reason", "source", "created_at", "created_by")
    list_filter = ("kind", "reason")
    search_fields = ("=value",)
    list_select_related = ("created_by",)
    show_full_result_count = False
    ordering = ("-created_at",)
    form = SuppressionAddForm
    readonly_fields = ("created_at", "created_by")
    change_list_template = "admin/marketing/suppression_change_list.html"

    def get_urls(self) -> list[URLPattern]:  # type: ignore[override]
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="followups_suppression_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Import a list (CSV of emails and/or phones); every entry is normalized and added by
        the same service as one typed here."""
        from apps.marketing.services import suppression_file_lines, suppression_list_import

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SuppressionImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = suppression_list_import(
                lines=suppression_file_lines(form.cleaned_data["file"]),
                actor=request.user if isinstance(request.user, User) else None,
                source=form.cleaned_data.get("source") or "import",
            )
            summary = f"{report.added} added, {report.already} already on the list."
            if report.invalid_lines:
                shown = ", ".join(str(n) for n in report.invalid_lines[:20])
                more = "…" if len(report.invalid_lines) > 20 else ""  # noqa: PLR2004
                summary += f" No email or phone on line(s) {shown}{more}."
            messages.success(request, summary)
            return HttpResponseRedirect(reverse("admin:followups_suppression_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a suppression list",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/marketing/suppression_import.html", context)

    def get_fields(self, request: HttpRequest, obj: Suppression | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("kind", "value", "reason", "source")
        return ("kind", "value", "reason", "source", "created_at", "created_by")

    def get_readonly_fields(
        self, request: HttpRequest, obj: Suppression | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("kind", "value", "reason", "source", "created_at", "created_by")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        return {"reason": Suppression.Reason.STAFF, "source": "admin"}

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Suppression], search_term: str
    ) -> tuple[QuerySet[Suppression], bool]:
        # Staff type "(949) 555-0142" or "Jane@Example.org"; the list holds normalized values.
        return super().get_search_results(request, queryset, _contact_normalize(search_term))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Suppression, form: Any, change: bool) -> None:
        user = request.user if isinstance(request.user, User) else None
        source = obj.source or "admin"
        if user is not None:
            source = f"{source} ({user.get_username()})"
        saved, _ = suppression_add(kind=obj.kind, value=obj.value, reason=obj.reason, source=source)
        # The admin logs and redirects with ``obj``: make it the row the service kept.
        obj.pk, obj.reason, obj.source = saved.pk, saved.reason, saved.source
        obj.created_at, obj.created_by = saved.created_at, saved.created_by


# --- Inbound texts ----------------------------------------------------------------------------


class InboundActionFilter(admin.SimpleListFilter):
    """Fixed choices: ``action`` has none on the model, and a DISTINCT over it would scan."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (Intent.OPT_OUT.value, "STOP"),
            (Intent.REVOCATION.value, "Revocation (free text)"),
            (Intent.OPT_IN.value, "START"),
            (START_HELD, "START held (other suppression)"),
            (Intent.HELP.value, "HELP"),
            ("none", "Other text"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[InboundText]
    ) -> QuerySet[InboundText]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(action="" if value == "none" else value)


@admin.register(InboundText)
class InboundTextAdmin(ReadOnlyAdmin):
    """Texts people sent us, read-only. The words are masked until the triage admin's audited
    reveal exists: someone may text their diagnosis back."""

    list_display = ("received_at", "from_phone", "action_display", "masked_body")
    list_filter = (InboundActionFilter,)
    search_fields = ("=from_phone", "=provider_message_id")
    show_full_result_count = False
    ordering = ("-received_at",)
    fields = ("received_at", "from_phone", "action", "masked_body", "provider_message_id")
    readonly_fields = fields

    @admin.display(description="action")
    def action_display(self, obj: InboundText) -> str:
        return obj.action or "-"

    @admin.display(description="message")
    def masked_body(self, obj: InboundText) -> str:
        return mask_all(obj.body)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[InboundText], search_term: str
    ) -> tuple[QuerySet[InboundText], bool]:
        return super().get_search_results(request, queryset, _contact_normalize(search_term))
