"""Admin forms: the export page and the attribution report's date range."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone

from apps.marketing.models import ExportDestination, ExportRun
from apps.marketing.selectors import CHANNELS, ContactFilters, SignupKind

# The last day whose next midnight exists: ``until``/``end`` are read up to the next day.
_LAST_DAY = datetime.date.max - datetime.timedelta(days=1)


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


class ExportForm(forms.Form):
    channel = forms.ChoiceField(choices=[(c, c) for c in CHANNELS])
    since = forms.DateField(required=False, help_text="Consented on or after (center's time).")
    until = forms.DateField(
        required=False,
        help_text="Consented on or before.",
        validators=[MaxValueValidator(_LAST_DAY)],
    )
    source = forms.CharField(required=False, max_length=255, help_text="First or latest source.")
    campaign = forms.CharField(required=False, max_length=255)
    signup_kind = forms.ChoiceField(choices=SignupKind.CHOICES, initial=SignupKind.BOOK)
    include_inquiries = forms.BooleanField(
        required=False,
        label="Include inquiries who consented (42 CFR Part 2)",
        help_text="People who asked about treatment. Their names tied to this center are "
        "protected health information; they go out only with the notice below acknowledged.",
    )
    acknowledge_part2_notice = forms.BooleanField(
        required=False, label="I have read the redisclosure notice and will pass it on"
    )
    destination = forms.ModelChoiceField(queryset=ExportDestination.objects.all(), required=False)
    incremental = forms.BooleanField(
        required=False, label="Only contacts since the last export to this destination"
    )
    format = forms.ChoiceField(
        choices=[(ExportRun.Format.CSV, "CSV"), (ExportRun.Format.XLSX, "Excel (XLSX)")]
    )
    bom = forms.BooleanField(required=False, label="Byte-order mark (CSV for Excel)")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        kind = cleaned.get("signup_kind")
        if kind and kind != SignupKind.BOOK and not cleaned.get("include_inquiries"):
            self.add_error("include_inquiries", "Inquiries need this option.")
        if cleaned.get("include_inquiries") and not cleaned.get("acknowledge_part2_notice"):
            self.add_error(
                "acknowledge_part2_notice",
                "Acknowledge the 42 CFR 2.32 notice to include inquiries.",
            )
        if cleaned.get("incremental") and not cleaned.get("destination"):
            self.add_error("destination", "An incremental export needs a destination.")
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end is before the start.")
        return cleaned

    def filters(self) -> ContactFilters:
        data = self.cleaned_data
        until = data.get("until")
        return ContactFilters(
            channel=data["channel"],
            since=_start_of(data["since"]) if data.get("since") else None,
            until=(
                _start_of(until + datetime.timedelta(days=1)) - datetime.timedelta(microseconds=1)
                if until
                else None
            ),
            source=data.get("source") or "",
            campaign=data.get("campaign") or "",
            signup_kind=data["signup_kind"],
            include_inquiries=bool(data.get("include_inquiries")),
        )


class ReportForm(forms.Form):
    start = forms.DateField()
    end = forms.DateField(help_text="Inclusive.", validators=[MaxValueValidator(_LAST_DAY)])

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end is before the start.")
        return cleaned

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        start: datetime.date = self.cleaned_data["start"]
        end: datetime.date = self.cleaned_data["end"]
        return _start_of(start), _start_of(end + datetime.timedelta(days=1))


class ExportTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    acknowledge_part2_notice = forms.BooleanField(
        required=False, label="I have read the redisclosure notice (needed with inquiries)"
    )

    class Meta:
        from apps.marketing.models import ExportToken

        model = ExportToken
        fields = ("name", "destination", "include_inquiries")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("include_inquiries") and not cleaned.get("acknowledge_part2_notice"):
            self.add_error(
                "acknowledge_part2_notice",
                "Acknowledge the 42 CFR 2.32 notice to include inquiries.",
            )
        return cleaned
