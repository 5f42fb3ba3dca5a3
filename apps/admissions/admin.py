"""The admissions team's admin: the lead queue, the lead page, payer mapping and the dashboard.

Django admin is the product here. Everything a coordinator does goes through
``apps.admissions.services``; this module only shows and asks. The queue is built to cost the
same at any table size (see ``apps.admissions.queue``).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.options import ShowFacets
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelMultipleChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from apps.admissions import charts, forms, selectors, services
from apps.admissions.models import PayerTeam
from apps.admissions.queue import (
    AssigneeFilter,
    FormFilter,
    InNetworkFilter,
    LeadChangeList,
    PageActionForm,
    PayerFilter,
    QueueFilter,
    ReceivedFilter,
    SlaFilter,
    TreatmentFilter,
    id_from_param,
    lead_search,
    ordering_for,
)
from apps.leads.attribution import url_without_userinfo
from apps.leads.models import CardImage, Submission
from apps.leads.selectors import submission_payer_mapping_queue
from apps.privacy.masking import mask_all, mask_tail
from apps.staff.selectors import staff_who_work_leads
from asana_leads.exceptions import ApplicationError

if TYPE_CHECKING:
    from django.contrib.admin.views.main import ChangeList

Status = Submission.Status

# (field, label, masking): what the lead page shows of the submission's PHI, masked until
# revealed. Tail masking ("•••• 4821") where the last digits help match a card on the phone.
PHI_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("member_id", "Member ID", "tail"),
    ("group_number", "Group number", "tail"),
    ("date_of_birth", "Date of birth", "all"),
    ("patient_first_name", "Patient first name", "all"),
    ("patient_last_name", "Patient last name", "all"),
    ("policy_holder_name", "Policy holder", "all"),
    ("policy_holder_dob", "Policy holder date of birth", "all"),
    ("relationship_to_policy_holder", "Relationship to policy holder", "all"),
    ("message", "Message", "all"),
    ("best_time", "Best time to call", "all"),
)

STATUS_TONE = {
    Status.NEW: "new",
    Status.CONTACTED: "working",
    Status.VERIFYING: "working",
    Status.VERIFIED_IN_NETWORK: "good",
    Status.VERIFIED_OUT_OF_NETWORK: "warn",
    Status.NO_COVERAGE: "bad",
    Status.ADMITTED: "good",
    Status.NOT_ADMITTED: "closed",
    Status.LOST: "closed",
}


def _age(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:  # noqa: PLR2004
        return f"{max(minutes, 0)}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h {minutes % 60:02d}m"
    return f"{minutes // (24 * 60)}d"


def sla_tone(submission: Submission, now: datetime.datetime) -> str:
    """ok / soon / breached / met / none: the age column's colour."""
    if submission.sla_due_at is None:
        return "none"
    if submission.first_touched_at is not None:
        return "met" if submission.first_touched_at <= submission.sla_due_at else "late"
    if now > submission.sla_due_at:
        return "breached"
    if submission.sla_due_at - now < datetime.timedelta(minutes=5):
        return "soon"
    return "ok"


@admin.register(Submission)
class LeadAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The lead queue (change list) and the lead page (change view)."""

    list_display = (
        "reference_link",
        "first_name",
        "form_kind",
        "payer_name",
        "in_network_badge",
        "status_badge",
        "age",
        "assignee_name",
    )
    list_display_links = None
    list_select_related = ("payer", "assignee")
    list_filter = (
        QueueFilter,
        PayerFilter,
        InNetworkFilter,
        FormFilter,
        AssigneeFilter,
        SlaFilter,
        ReceivedFilter,
        TreatmentFilter,
    )
    search_fields = ("reference",)  # shows the search box; the search itself is lead_search
    search_help_text = (
        "Reference (K7MQ-4T9R), email, phone or name — exact or beginning of the value."
    )
    sortable_by = ()
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    list_per_page = 50
    actions = ("assign_to_me", "assign_round_robin", "log_touch")
    action_form = PageActionForm
    change_list_template = "admissions/queue.html"

    # --- The queue --------------------------------------------------------------------------------

    # The queue reads only what its columns show: narrow rows sort faster, and no PHI column is
    # fetched (or decrypted) to draw the list.
    QUEUE_COLUMNS = (
        "reference",
        "kind",
        "first_name",
        "received_at",
        "status",
        "urgency",
        "is_spam",
        "insurance_provider_text",
        "sla_due_at",
        "first_touched_at",
        "payer__name",
        "payer__in_network",
        "assignee__username",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "leads_submission_changelist":
            return queryset.select_related("payer", "assignee").only(*self.QUEUE_COLUMNS)
        return queryset

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LeadChangeList

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        return ordering_for(request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return lead_search(queryset, search_term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "now": timezone.now(),
            "can_map_payers": request.user.has_perm("payers.add_payeralias"),
            "title": "Lead queue",
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    @admin.display(description="Reference")
    def reference_link(self, obj: Submission) -> str:
        url = reverse("admin:leads_submission_change", args=[obj.pk])
        urgent = (
            mark_safe('<span class="badge urgent" title="Crisis language">urgent</span> ')
            if obj.urgency == Submission.Urgency.URGENT
            else ""
        )
        return format_html('{}<a href="{}"><code>{}</code></a>', urgent, url, obj.reference)

    @admin.display(description="Form")
    def form_kind(self, obj: Submission) -> str:
        return {"contact": "Contact", "verification": "Verify", "book": "Book"}.get(obj.kind, "")

    @admin.display(description="Payer")
    def payer_name(self, obj: Submission) -> str:
        if obj.payer is None:
            return format_html('<span class="quiet">{}</span>', obj.insurance_provider_text or "—")
        return obj.payer.name

    @admin.display(description="Network")
    def in_network_badge(self, obj: Submission) -> str:
        if obj.payer is None:
            return mark_safe('<span class="badge unknown">?</span>')
        if obj.payer.in_network:
            return mark_safe('<span class="badge good">in network</span>')
        return mark_safe('<span class="badge closed">out</span>')

    @admin.display(description="Status")
    def status_badge(self, obj: Submission) -> str:
        tone = STATUS_TONE.get(Status(obj.status), "new")
        return format_html('<span class="badge {}">{}</span>', tone, obj.get_status_display())

    @admin.display(description="Age")
    def age(self, obj: Submission) -> str:
        now = timezone.now()
        tone = sla_tone(obj, now)
        title = (
            f"SLA due {timezone.localtime(obj.sla_due_at):%b %d %H:%M}" if obj.sla_due_at else ""
        )
        return format_html(
            '<span class="sla sla-{}" title="{}">{}</span>',
            tone,
            title,
            _age(now - obj.received_at),
        )

    @admin.display(description="Assignee")
    def assignee_name(self, obj: Submission) -> str:
        return obj.assignee.get_username() if obj.assignee else "—"

    def has_work_permission(self, request: HttpRequest) -> bool:
        # Working a lead (taking it, logging a touch) is a change; Compliance only looks.
        return request.user.has_perm("leads.change_submission")

    @admin.action(description="Assign to me", permissions=["work"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        done = 0
        for submission in queryset.select_related(None).only("pk", "reference", "assignee_id"):
            try:
                services.lead_assign_to_me(submission=submission, actor=request.user)
                done += 1
            except ApplicationError as error:
                self.message_user(
                    request, f"{submission.reference}: {error.message}", messages.ERROR
                )
        if done:
            self.message_user(request, f"{done} lead(s) assigned to you.", messages.SUCCESS)

    @admin.action(description="Assign by payer team (round-robin)", permissions=["assign"])
    def assign_round_robin(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        assigned = skipped = 0
        for submission in queryset.select_related(None).only("pk", "payer_id", "assignee_id"):
            if services.lead_assign_round_robin(submission=submission, actor=request.user):
                assigned += 1
            else:
                skipped += 1
        self.message_user(
            request,
            f"{assigned} lead(s) assigned in turn; "
            f"{skipped} without a payer team left as they were.",
            messages.SUCCESS,
        )

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("leads.assign_submission")

    @admin.action(
        description="Log a touch (I have reached out): stops escalations", permissions=["work"]
    )
    def log_touch(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        from apps.leads.services import submission_touch

        for submission_id in queryset.values_list("pk", flat=True):
            submission_touch(submission_id=submission_id, actor_id=request.user.pk)
        self.message_user(request, "Touch logged.", messages.SUCCESS)

    # --- The lead page ----------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="admissions_dashboard"),
            path("payer-mapping/", wrap(self.payer_mapping_view), name="admissions_payer_mapping"),
            path("<int:object_id>/act/<str:action>/", wrap(self.act_view), name="admissions_act"),
            path(
                "<int:object_id>/card/<int:card_id>/",
                wrap(self.card_view),
                name="admissions_card_image",
            ),
            *super().get_urls(),
        ]

    def _lead(self, request: HttpRequest, object_id: int | str) -> Submission:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(
            Submission.objects.select_related("person", "payer", "assignee"), pk=object_id
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        lead_id = id_from_param(str(object_id))
        if lead_id is None:
            raise Http404
        submission = self._lead(request, lead_id)
        return self._render_lead(request, submission)

    def _render_lead(
        self,
        request: HttpRequest,
        submission: Submission,
        *,
        revealed: dict[str, str] | None = None,
        revealed_groups: frozenset[str] = frozenset(),
        bound: dict[str, Any] | None = None,
        status: int = 200,
    ) -> HttpResponse:
        revealed = revealed or {}
        bound = bound or {}
        user = request.user
        can_change = self.has_change_permission(request, submission)
        can_reveal = user.has_perm("leads.reveal_phi")
        can_assign = user.has_perm("leads.assign_submission")
        timeline = selectors.lead_timeline(submission=submission)
        phi_rows = []
        for name, label, masking in PHI_FIELDS:
            value = getattr(submission, name)
            if value in (None, ""):
                continue
            masked = mask_tail(str(value)) if masking == "tail" else mask_all(value)
            phi_rows.append(
                {"name": name, "label": label, "masked": masked, "clear": revealed.get(name)}
            )
        cards = list(
            CardImage.objects.filter(submission=submission).only("pk", "side", "content_type")
        )
        access_log = None
        if user.has_perm("privacy.view_auditevent"):
            from apps.privacy.selectors import audit_events_for_target

            access_log = audit_events_for_target(target=submission, limit=20)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Lead {submission.reference}",
            "access_log": access_log,
            "subtitle": None,
            "submission": submission,
            # As posted, less any user:password@ part (credentials, an email address).
            "page_url": url_without_userinfo(submission.page_url),
            "referrer": url_without_userinfo(submission.referrer),
            "person": submission.person,
            "timeline": timeline,
            "phi_rows": phi_rows,
            "revealed_groups": revealed_groups,
            "cards": cards,
            "now": timezone.now(),
            "sla_tone": sla_tone(submission, timezone.now()),
            "status_tone": STATUS_TONE.get(Status(submission.status), "new"),
            "can_change": can_change,
            "can_reveal": can_reveal,
            "can_assign": can_assign,
            "has_team": can_assign and selectors.payer_team_exists(payer_id=submission.payer_id),
            "status_form": bound.get("status") or forms.StatusChangeForm(submission=submission),
            "note_form": bound.get("note") or forms.NoteForm(),
            "call_form": bound.get("call") or forms.CallLogForm(),
            "verification_form": bound.get("verification") or forms.VerificationForm(),
            "assign_form": forms.AssignForm(initial={"assignee": submission.assignee_id})
            if can_assign
            else None,
        }
        return TemplateResponse(request, "admissions/lead.html", context, status=status)

    def act_view(self, request: HttpRequest, object_id: int, action: str) -> HttpResponse:
        """Every change to a lead, posted from its page: one service call each."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:leads_submission_change", args=[object_id]))
        submission = self._lead(request, object_id)
        if action == "reveal":
            return self._reveal(request, submission)
        if not self.has_change_permission(request, submission):
            raise PermissionDenied
        handler = {
            "assign_to_me": self._assign_to_me,
            "assign": self._assign,
            "round_robin": self._round_robin,
            "status": self._status,
            "note": self._note,
            "call": self._call,
            "verification": self._verification,
        }.get(action)
        if handler is None:
            raise Http404
        try:
            outcome = handler(request, submission)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return self._render_lead(request, submission, status=error.status_code)
        if isinstance(outcome, HttpResponse):
            return outcome
        self.message_user(request, outcome, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:leads_submission_change", args=[submission.pk]))

    def _reveal(self, request: HttpRequest, submission: Submission) -> HttpResponse:
        fields = request.POST.getlist("field")
        try:
            revealed = services.lead_phi_reveal(
                submission=submission,
                actor=request.user,
                fields=fields,
                request=request,
                reason=request.POST.get("reason", "")[:200],
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return self._render_lead(request, submission, status=error.status_code)
        # Shown in this response only: reloading the page masks it again.
        return self._render_lead(
            request,
            submission,
            revealed=revealed,
            revealed_groups=frozenset(f for f in fields if f in services.TIMELINE_PHI),
        )

    def _assign_to_me(self, request: HttpRequest, submission: Submission) -> str:
        services.lead_assign_to_me(submission=submission, actor=request.user)
        return f"{submission.reference} is yours."

    def _assign(self, request: HttpRequest, submission: Submission) -> str | HttpResponse:
        form = forms.AssignForm(request.POST)
        if not form.is_valid():
            raise ApplicationError("Choose a staff member.")
        assignee = form.cleaned_data["assignee"]
        services.lead_assign(submission=submission, assignee=assignee, actor=request.user)
        return f"{submission.reference} assigned to {assignee or 'nobody'}."

    def _round_robin(self, request: HttpRequest, submission: Submission) -> str:
        chosen = services.lead_assign_round_robin(submission=submission, actor=request.user)
        if chosen is None:
            raise ApplicationError("This payer has no team with active members.")
        return f"{submission.reference} assigned to the next member of the payer team."

    def _status(self, request: HttpRequest, submission: Submission) -> str | HttpResponse:
        form = forms.StatusChangeForm(request.POST, submission=submission)
        if not form.is_valid():
            return self._render_lead(request, submission, bound={"status": form}, status=400)
        services.lead_status_change(
            submission=submission,
            to_status=form.cleaned_data["to_status"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
            from_status=form.cleaned_data["from_status"],
        )
        return f"{submission.reference} is now {submission.get_status_display().lower()}."

    def _note(self, request: HttpRequest, submission: Submission) -> str | HttpResponse:
        form = forms.NoteForm(request.POST)
        if not form.is_valid():
            return self._render_lead(request, submission, bound={"note": form}, status=400)
        services.note_add(submission=submission, actor=request.user, text=form.cleaned_data["text"])
        return "Note added."

    def _call(self, request: HttpRequest, submission: Submission) -> str | HttpResponse:
        form = forms.CallLogForm(request.POST)
        if not form.is_valid():
            return self._render_lead(request, submission, bound={"call": form}, status=400)
        services.call_log(
            submission=submission,
            actor=request.user,
            outcome=form.cleaned_data["outcome"],
            direction=form.cleaned_data["direction"],
            duration_seconds=form.duration_seconds,
        )
        return "Call logged."

    def _verification(self, request: HttpRequest, submission: Submission) -> str | HttpResponse:
        form = forms.VerificationForm(request.POST)
        if not form.is_valid():
            return self._render_lead(request, submission, bound={"verification": form}, status=400)
        services.verification_result_record(
            submission=submission, actor=request.user, benefits=form.benefits()
        )
        return "Verification result recorded."

    def card_view(self, request: HttpRequest, object_id: int, card_id: int) -> HttpResponse:
        """A card image, decrypted on the fly for a user who may see it; audited. Never cached,
        and sent as an attachment in a sandbox (a PDF can carry scripts)."""
        submission = self._lead(request, object_id)
        card = get_object_or_404(CardImage, pk=card_id, submission=submission)
        try:
            data = services.card_image_open(card_image=card, actor=request.user, request=request)
        except ApplicationError as error:
            raise PermissionDenied(error.message) from error
        extension = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(
            card.content_type, "bin"
        )
        response = HttpResponse(data, content_type=card.content_type)
        disposition = "inline" if card.content_type.startswith("image/") else "attachment"
        response["Content-Disposition"] = (
            f'{disposition}; filename="{submission.reference}-{card.side}.{extension}"'
        )
        response["Cache-Control"] = "no-store, private"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    # --- Payer mapping ----------------------------------------------------------------------------

    def payer_mapping_view(self, request: HttpRequest) -> HttpResponse:
        """Typed insurance names the matcher could not resolve, most leads first; mapping one
        teaches the matcher and resolves every waiting lead it now reads."""
        if not request.user.has_perm("payers.add_payeralias"):
            raise PermissionDenied
        form = forms.PayerMapForm()
        status = 200
        if request.method == "POST":
            form = forms.PayerMapForm(request.POST)
            if form.is_valid():
                try:
                    resolved = services.payer_text_map(
                        text=form.cleaned_data["text"],
                        payer=form.cleaned_data["payer"],
                        actor=request.user,
                    )
                except ApplicationError as error:
                    self.message_user(request, error.message, messages.ERROR)
                    status = error.status_code
                else:
                    self.message_user(
                        request,
                        f"Mapped to {form.cleaned_data['payer']}: {resolved} waiting lead(s) "
                        "resolved; new leads with that name resolve at once.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:admissions_payer_mapping"))
            else:
                status = 400
        from apps.payers.models import Payer

        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Payer mapping",
            "rows": submission_payer_mapping_queue(),
            "payers": list(
                Payer.objects.order_by("-in_network", "name").only("pk", "name", "in_network")
            ),
            "form": form,
        }
        return TemplateResponse(request, "admissions/payer_mapping.html", context, status=status)

    # --- Dashboard --------------------------------------------------------------------------------

    DASHBOARD_WINDOWS = {
        "today": "Today",
        "7d": "Last 7 days",
        "30d": "Last 30 days",
        "90d": "Last 90 days",
    }

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = request.GET.get("window", "7d")
        if window not in self.DASHBOARD_WINDOWS:
            window = "7d"
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        days = {"today": 0, "7d": 6, "30d": 29, "90d": 89}[window]
        figures = selectors.dashboard_figures(since=today - datetime.timedelta(days=days))
        status_series = [(value, label) for value, label in Status.choices]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Admissions dashboard",
            "window": window,
            "windows": self.DASHBOARD_WINDOWS,
            "figures": figures,
            "payer_chart": charts.stacked_bars(
                [
                    (name, figures.by_payer_status.get(name, {}))
                    for name, _, _ in figures.by_payer[:15]
                ],
                series=status_series,
                title="Leads by payer and status",
            ),
            "status_chart": charts.bar_chart(figures.by_status, title="Leads by status"),
            "conversion_chart": charts.bar_chart(
                [(name, rate * 100) for name, leads, _, rate in figures.conversion_by_payer[:15]],
                title="Admitted, % of leads, by payer",
                value_format="{:.1f}%",
            ),
            "touch_chart": charts.bar_chart(
                figures.first_touch_histogram, title="Time to first touch"
            ),
        }
        return TemplateResponse(request, "admissions/dashboard.html", context)


@admin.register(PayerTeam)
class PayerTeamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("payer", "round_robin", "member_names")
    list_select_related = ("payer",)
    filter_horizontal = ("members",)
    autocomplete_fields = ("payer",)
    readonly_fields = ("next_position",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PayerTeam]:
        return super().get_queryset(request).prefetch_related("members")

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:  # type: ignore[type-arg]
        if db_field.name == "members":
            # A team member receives leads in turn: only people who can work them.
            kwargs["queryset"] = staff_who_work_leads().order_by("username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Members")
    def member_names(self, obj: PayerTeam) -> str:
        return ", ".join(member.get_username() for member in obj.members.all()) or "—"
