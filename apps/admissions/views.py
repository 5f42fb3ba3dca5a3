"""The admin's front page: the lead queue for Admissions, the usual index for everyone else."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

ADMISSIONS_GROUP = "Admissions"


def admin_home(request: HttpRequest) -> HttpResponse:
    """Coordinators live in the queue: send them there; the admin's own index otherwise (it
    also handles the login redirect and, with two factors, the verification)."""
    user = request.user
    if (
        user.is_authenticated
        and user.is_staff
        and not user.is_superuser
        and user.has_perm("leads.view_submission")
        and user.groups.filter(name=ADMISSIONS_GROUP).exists()
    ):
        return admin.site.admin_view(_to_queue)(request)
    return admin.site.admin_view(admin.site.index)(request)  # type: ignore[no-untyped-call]


def _to_queue(request: HttpRequest) -> HttpResponse:
    return redirect("admin:leads_submission_changelist")
