"""Forms of the lead page. They validate shapes; the services decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from apps.admissions.models import CallLog, VerificationResult
from apps.admissions.pipeline import REASON_REQUIRED, transitions_from
from apps.admissions.services import NOTE_MAX_LENGTH, REASON_MAX_LENGTH, Benefits
from apps.leads.models import Submission
from apps.staff.selectors import staff_who_work_leads


class StatusChangeForm(forms.Form):
    # The status the page showed: the move is refused if the lead has left it meanwhile.
    from_status = forms.ChoiceField(choices=Submission.Status.choices, widget=forms.HiddenInput)
    to_status = forms.ChoiceField(label="New status")
    reason = forms.CharField(
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for lost and not admitted.",
    )

    def __init__(self, *args: Any, submission: Submission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_status"].initial = submission.status
        field = self.fields["to_status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (value, Submission.Status(value).label) for value in transitions_from(submission.status)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to_status") in REASON_REQUIRED and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the lead is closed.")
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note", max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class CallLogForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallLog.Outcome.choices)
    direction = forms.ChoiceField(choices=CallLog.Direction.choices, initial="outbound")
    minutes = forms.IntegerField(min_value=0, max_value=360, initial=0)
    seconds = forms.IntegerField(min_value=0, max_value=59, initial=0, required=False)

    @property
    def duration_seconds(self) -> int:
        return int(self.cleaned_data["minutes"]) * 60 + int(self.cleaned_data.get("seconds") or 0)


_MONEY = {"min_value": 0, "max_digits": 10, "decimal_places": 2, "required": False}


class VerificationForm(forms.Form):
    network = forms.ChoiceField(choices=VerificationResult.Network.choices)
    plan_type = forms.ChoiceField(
        choices=[("", "—"), *VerificationResult.PlanType.choices], required=False
    )
    deductible_met = forms.DecimalField(label="Deductible met ($)", **_MONEY)  # type: ignore[arg-type]
    deductible_total = forms.DecimalField(label="Deductible total ($)", **_MONEY)  # type: ignore[arg-type]
    out_of_pocket_met = forms.DecimalField(label="Out-of-pocket met ($)", **_MONEY)  # type: ignore[arg-type]
    out_of_pocket_total = forms.DecimalField(label="Out-of-pocket max ($)", **_MONEY)  # type: ignore[arg-type]
    coinsurance_percent = forms.DecimalField(
        label="Coinsurance (%)", min_value=0, max_value=100, decimal_places=2, required=False
    )
    preauthorization_required = forms.TypedChoiceField(
        label="Pre-authorization needed",
        choices=[("", "Unknown"), ("yes", "Yes"), ("no", "No")],
        coerce={"yes": True, "no": False}.get,
        empty_value=None,
        required=False,
    )
    covered_levels_of_care = forms.MultipleChoiceField(
        choices=[
            ("detox", "Detox"),
            ("residential", "Residential"),
            ("php", "PHP"),
            ("iop", "IOP"),
            ("outpatient", "Outpatient"),
            ("ketamine", "Ketamine"),
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    payer_call_reference = forms.CharField(max_length=100, required=False)

    def benefits(self) -> Benefits:
        data = self.cleaned_data

        def text(name: str) -> str:
            value = data.get(name)
            return "" if value is None else str(value)

        return Benefits(
            network=data["network"],
            plan_type=data.get("plan_type") or "",
            deductible_met=text("deductible_met"),
            deductible_total=text("deductible_total"),
            out_of_pocket_met=text("out_of_pocket_met"),
            out_of_pocket_total=text("out_of_pocket_total"),
            coinsurance_percent=text("coinsurance_percent"),
            preauthorization_required=data.get("preauthorization_required"),
            covered_levels_of_care=tuple(data.get("covered_levels_of_care") or ()),
            payer_call_reference=data.get("payer_call_reference") or "",
        )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, empty_label="Nobody"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        # Only people who can open and work a lead are offered.
        field.queryset = staff_who_work_leads().order_by("username")


class PayerMapForm(forms.Form):
    text = forms.CharField(max_length=255)
    payer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)  # type: ignore[arg-type]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from apps.payers.models import Payer

        super().__init__(*args, **kwargs)
        field = self.fields["payer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Payer.objects.order_by("-in_network", "name")
