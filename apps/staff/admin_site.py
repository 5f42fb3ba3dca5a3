"""The staff admin: two factors for every login, enrolment for a user without a device.

Logging in takes username, password and the authenticator code on one page. A staff user who
has no device yet (a new account, or one whose device was reset) passes the password step only
into enrolment: a QR code and the secret for the app, then one code to confirm. They are logged
in only after that. The admin serves nobody whose session is not verified by a device.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from apps.staff.forms import EnrolForm, StaffLoginForm, code_failed
from apps.staff.otp import enrolment_confirm, enrolment_device, enrolment_qr_svg, enrolment_secret
from apps.staff.selectors import staff_has_confirmed_device

ENROL_USER_KEY = "staff_enrol_user_id"
ENROL_BACKEND_KEY = "staff_enrol_backend"
ENROL_STARTED_KEY = "staff_enrol_started"
ENROL_NEXT_KEY = "staff_enrol_next"
# The password step is good for this long; after it, enrolment starts again at the login.
ENROL_WINDOW_SECONDS = 10 * 60


class StaffLoginView(LoginView):
    def form_valid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        if form.needs_enrolment:
            user = form.get_user()
            request = self.request
            # A fresh session key: nothing from before the password step carries over.
            request.session.cycle_key()
            request.session[ENROL_USER_KEY] = user.pk
            request.session[ENROL_BACKEND_KEY] = user.backend  # type: ignore[attr-defined]
            request.session[ENROL_STARTED_KEY] = time.time()
            request.session[ENROL_NEXT_KEY] = self.get_success_url()
            return redirect(reverse("admin:staff_enrol", current_app=request.current_app))  # type: ignore[attr-defined]
        return super().form_valid(form)


class StaffAdminSite(admin.AdminSite):
    site_header = "Asana Recovery admissions"
    site_title = "Admissions admin"
    index_title = "Admissions"
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return (
            super().has_permission(request)
            and callable(getattr(user, "is_verified", None))
            and bool(user.is_verified())  # type: ignore[union-attr]
        )

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [path("enrol/", self.enrol_view, name="staff_enrol"), *super().get_urls()]

    @method_decorator(never_cache)
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name  # type: ignore[attr-defined]
        return StaffLoginView.as_view(  # type: ignore[return-value]
            extra_context=context,
            authentication_form=self.login_form,
            template_name=self.login_template,
        )(request)

    @method_decorator(sensitive_post_parameters("otp_token"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def enrol_view(self, request: HttpRequest) -> HttpResponse:
        """Set up an authenticator app after the password step, confirm it with one code."""
        user = self._enrolling_user(request)
        login_url = reverse("admin:login", current_app=self.name)
        if user is None:
            return redirect(login_url)
        if staff_has_confirmed_device(user=user):
            # Enrolled meanwhile (another tab): a code is needed, as for every login.
            self._enrolment_forget(request)
            return redirect(login_url)
        device = enrolment_device(user=user)
        form = EnrolForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if enrolment_confirm(
                device=device, token=form.cleaned_data["otp_token"], request=request
            ):
                backend = request.session[ENROL_BACKEND_KEY]
                next_url = request.session.get(ENROL_NEXT_KEY) or ""
                self._enrolment_forget(request)
                user.otp_device = device  # type: ignore[attr-defined]
                auth_login(request, user, backend=backend)
                if not url_has_allowed_host_and_scheme(
                    next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ):
                    next_url = reverse("admin:index", current_app=self.name)
                return redirect(next_url)
            code_failed(request, user.get_username())
            if getattr(request, "axes_locked_out", False):
                self._enrolment_forget(request)
            form.add_error(
                "otp_token", "That code is not right (or has expired). Try the current one."
            )
        context = {
            **self.each_context(request),
            "title": "Set up two-factor login",
            "subtitle": None,
            "form": form,
            "enrol_username": user.get_username(),
            "qr_svg": mark_safe(enrolment_qr_svg(device=device)),  # noqa: S308 - our own SVG
            "secret": enrolment_secret(device=device),
        }
        request.current_app = self.name  # type: ignore[attr-defined]
        return TemplateResponse(request, "staff/enrol.html", context)

    def _enrolling_user(self, request: HttpRequest) -> Any:
        user_id = request.session.get(ENROL_USER_KEY)
        started = request.session.get(ENROL_STARTED_KEY) or 0
        if user_id is None or time.time() - float(started) > ENROL_WINDOW_SECONDS:
            self._enrolment_forget(request)
            return None
        user = (
            get_user_model()
            ._default_manager.filter(pk=user_id, is_active=True, is_staff=True)
            .first()
        )
        if user is None:
            self._enrolment_forget(request)
        return user

    @staticmethod
    def _enrolment_forget(request: HttpRequest) -> None:
        for key in (ENROL_USER_KEY, ENROL_BACKEND_KEY, ENROL_STARTED_KEY, ENROL_NEXT_KEY):
            request.session.pop(key, None)
