from __future__ import annotations

from django.urls import path

from apps.intake import api

urlpatterns = [
    path("contact-requests/", api.ContactRequestApi.as_view(), name="contact-requests"),
    path(
        "insurance-verifications/",
        api.InsuranceVerificationApi.as_view(),
        name="insurance-verifications",
    ),
    path("book-signups/", api.BookSignupApi.as_view(), name="book-signups"),
    path("form-tokens/", api.FormTokenApi.as_view(), name="form-tokens"),
]
