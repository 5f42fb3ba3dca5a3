"""Read-only views of people and their consent evidence.

Submissions are worked in the admissions team's admin (``apps.admissions.admin``: the lead
queue, the lead page, reveal with audit), which registers the Submission model.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.leads.attribution import url_without_userinfo
from apps.leads.models import Consent, Person
from asana_leads.admin_base import ReadOnlyAdmin, ReadOnlyInline


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ("channel", "action", "source", "recorded_at", "wording", "ip_address", "page")
    readonly_fields = fields

    @admin.display(description="page URL")
    def page(self, consent: Consent) -> str:
        # Kept as posted (evidence); shown without a user:password@ part anyone could fill.
        return url_without_userinfo(consent.page_url)


def _revocation_action(channels: tuple[str, ...], label: str) -> Any:
    @admin.action(
        description=f"Record a revocation heard on the phone: {label}",
        permissions=["record_revocation"],
    )
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

    def has_record_revocation_permission(self, request: HttpRequest) -> bool:
        # Recording what a person said on the phone is staff working a lead; Compliance and
        # Marketing only look.
        return request.user.has_perm("leads.change_person")
