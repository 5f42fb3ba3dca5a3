"""Read-only views of people and submissions, PHI masked.

The triage admin (queue by payer, pipeline, reveal with audit) replaces this in a later issue;
until then nobody can change a submission here and no PHI is shown in clear.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.leads.models import CardImage, Consent, Person, Submission
from apps.leads.services import submission_touch
from apps.privacy.masking import mask_all, mask_tail


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ("channel", "action", "source", "recorded_at", "wording", "ip_address", "page_url")
    readonly_fields = fields


class CardImageInline(ReadOnlyInline):
    model = CardImage
    fields = ("side", "content_type", "size_bytes", "created_at")
    readonly_fields = fields


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "kind",
        "first_name",
        "payer",
        "urgency",
        "status",
        "is_spam",
        "received_at",
    )
    list_filter = ("kind", "urgency", "status", "is_spam")
    list_select_related = ("payer",)
    search_fields = ("=reference", "=email", "=phone")
    show_full_result_count = False
    date_hierarchy = "received_at"
    inlines = (ConsentInline, CardImageInline)
    actions = ("log_touch",)
    fieldsets = (
        (None, {"fields": ("reference", "kind", "received_at", "status", "urgency")}),
        ("Spam", {"fields": ("is_spam", "spam_reason")}),
        (
            "Contact",
            {
                "fields": (
                    "person",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "preferred_contact",
                )
            },
        ),
        (
            "Health information (masked)",
            {
                "fields": (
                    "masked_message",
                    "seeking_treatment_for",
                    "masked_patient",
                    "masked_date_of_birth",
                    "insurance_provider_text",
                    "payer",
                    "payer_match_score",
                    "masked_member_id",
                    "masked_group_number",
                    "state",
                    "treatment_interest",
                )
            },
        ),
        (
            "Attribution",
            {
                "classes": ("collapse",),
                "fields": (
                    "page_url",
                    "referrer",
                    "utm_source",
                    "utm_medium",
                    "utm_campaign",
                    "utm_term",
                    "utm_content",
                    "gclid",
                    "fbclid",
                ),
            },
        ),
    )
    readonly_fields = (
        "masked_message",
        "masked_patient",
        "masked_date_of_birth",
        "masked_member_id",
        "masked_group_number",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        return super().get_queryset(request).select_related("payer", "person")

    @admin.action(description="Log a touch (I have reached out): stops escalations")
    def log_touch(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        for submission_id in queryset.values_list("pk", flat=True):
            submission_touch(submission_id=submission_id, actor_id=request.user.pk)
        self.message_user(request, "Touch logged.", messages.SUCCESS)

    @admin.display(description="Message")
    def masked_message(self, obj: Submission) -> str:
        return mask_all(obj.message)

    @admin.display(description="Patient")
    def masked_patient(self, obj: Submission) -> str:
        return mask_all(obj.patient_first_name)

    @admin.display(description="Date of birth")
    def masked_date_of_birth(self, obj: Submission) -> str:
        return mask_all(obj.date_of_birth)

    @admin.display(description="Member ID")
    def masked_member_id(self, obj: Submission) -> str:
        return mask_tail(obj.member_id)

    @admin.display(description="Group number")
    def masked_group_number(self, obj: Submission) -> str:
        return mask_tail(obj.group_number)


def _revocation_action(channels: tuple[str, ...], label: str) -> Any:
    @admin.action(description=f"Record a revocation heard on the phone: {label}")
    def action(model_admin: PersonAdmin, request: HttpRequest, queryset: QuerySet[Person]) -> None:
        from apps.followups.inbound import consent_revocation_record_by_staff

        actor_id = request.user.pk
        assert actor_id is not None  # the admin only serves logged-in staff
        for person_id in queryset.values_list("pk", flat=True):
            consent_revocation_record_by_staff(
                person_id=person_id, channels=channels, actor_id=actor_id
            )
        model_admin.message_user(request, f"Revocation recorded ({label}).", messages.SUCCESS)

    action.__name__ = "revoke_" + "_".join(channels)
    return action


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "email", "phone", "consent_email", "consent_sms", "created_at")
    search_fields = ("=email", "=phone", "last_name")
    show_full_result_count = False
    inlines = (ConsentInline,)
    actions = (
        _revocation_action(("sms",), "texts"),
        _revocation_action(("email",), "email"),
        _revocation_action(("calls",), "calls"),
        _revocation_action(("email", "sms", "calls"), "all contact"),
    )
