"""Book downloads, read-only: each fetch of a signed link, and the counts per day."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from apps.books.models import BookDownload
from apps.books.selectors import book_download_count, book_download_counts_per_day
from asana_leads.admin_base import ReadOnlyAdmin

PER_DAY_DAYS = 30


@admin.register(BookDownload)
class BookDownloadAdmin(ReadOnlyAdmin):
    change_list_template = "admin/books/bookdownload/change_list.html"
    list_display = ("downloaded_at", "signup", "user_agent")
    list_select_related = ("submission",)
    date_hierarchy = "downloaded_at"
    fields = ("signup", "downloaded_at", "user_agent")
    readonly_fields = fields
    list_per_page = 100

    @admin.display(description="Signup", ordering="submission__reference")
    def signup(self, download: BookDownload) -> str:
        url = reverse("admin:leads_submission_change", args=[download.submission_id])
        return format_html('<a href="{}">{}</a>', url, download.submission.reference)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            response.context_data["per_day"] = book_download_counts_per_day(days=PER_DAY_DAYS)
            response.context_data["per_day_days"] = PER_DAY_DAYS
            response.context_data["total_downloads"] = book_download_count()
        return response
