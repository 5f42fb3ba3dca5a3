"""Read-mostly admin for the payer directory.

The directory itself comes from ``data/payers.csv`` (``seed_payers``), so names and network status
are read-only here: a change there goes through review, and the next seed would overwrite an edit
made here anyway. Staff may hide a payer from the dropdown and add or remove aliases; both go
through the services, which move the directory revision so every process's matcher sees them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from apps.payers.models import Payer, PayerAlias
from apps.payers.selectors import payer_alias_rival
from apps.payers.services import payer_active_set, payer_alias_add, payer_alias_remove


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class PayerAliasInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PayerAlias
    fields = ("alias", "source", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("alias",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "in_network", "active", "alias_count")
    list_filter = ("in_network", "active")
    search_fields = ("name", "slug")
    fields = ("name", "slug", "in_network", "active", "known_as", "created_at", "updated_at")
    readonly_fields = ("name", "slug", "in_network", "known_as", "created_at", "updated_at")
    inlines = (PayerAliasInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payer]:
        payers: QuerySet[Payer] = super().get_queryset(request)
        return payers.annotate(alias_total=Count("aliases"))

    @admin.display(description="aliases", ordering="alias_total")
    def alias_count(self, obj: Payer) -> int:
        return int(getattr(obj, "alias_total", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Submissions point at payers (PROTECT); hiding one is what "remove" means here.
        return False

    def save_model(self, request: HttpRequest, obj: Payer, form: Any, change: bool) -> None:
        payer_active_set(payer=obj, active=obj.active, actor=_actor(request))


class PayerAliasAddForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PayerAlias
        fields = ("payer", "alias")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        payer, alias = cleaned.get("payer"), cleaned.get("alias")
        if isinstance(payer, Payer) and alias:
            rival = payer_alias_rival(text=str(alias), payer=payer)
            if rival is not None:
                self.add_error("alias", f"That name already resolves to {rival.name}.")
        return cleaned


@admin.register(PayerAlias)
class PayerAliasAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("alias", "payer", "source", "created_by", "created_at")
    list_filter = ("source", "payer")
    search_fields = ("alias", "normalized")
    list_select_related = ("payer", "created_by")
    readonly_fields = ("normalized", "source", "created_by", "created_at")
    form = PayerAliasAddForm

    def get_fields(self, request: HttpRequest, obj: PayerAlias | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("payer", "alias")
        return ("payer", "alias", "normalized", "source", "created_by", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An alias is added or removed, never edited in place: a changed mapping is a new decision.
        return False

    def save_model(self, request: HttpRequest, obj: PayerAlias, form: Any, change: bool) -> None:
        created = payer_alias_add(
            payer=obj.payer,
            alias=obj.alias,
            source=PayerAlias.Source.STAFF,
            actor=_actor(request),
        )
        # The admin logs and redirects with ``obj``: make it the row the service wrote.
        obj.pk, obj.normalized, obj.source = created.pk, created.normalized, created.source
        obj.created_by, obj.created_at = created.created_by, created.created_at

    def delete_model(self, request: HttpRequest, obj: PayerAlias) -> None:
        payer_alias_remove(alias=obj, actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PayerAlias]) -> None:
        for alias in queryset.select_related("payer"):
            payer_alias_remove(alias=alias, actor=_actor(request))
