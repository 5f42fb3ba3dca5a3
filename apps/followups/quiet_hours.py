"""When a text may reach someone: 8 am to 9 pm in the recipient's own time (TCPA).

The recipient's time zone comes from the patient's state, else from the phone number
(phonenumbers' time-zone data, when the number has exactly one zone), else the center's.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from phonenumbers import timezone as phone_timezone

# Where a state spans zones, the zone most of its people live in.
STATE_TIME_ZONES = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
    "PR": "America/Puerto_Rico", "GU": "Pacific/Guam", "VI": "America/St_Thomas",
    "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}  # fmt: skip


def recipient_time_zone(*, state: str = "", phone: str = "") -> ZoneInfo:
    """The recipient's zone: from the state, else the phone number, else the center's."""
    if state.upper() in STATE_TIME_ZONES:
        return ZoneInfo(STATE_TIME_ZONES[state.upper()])
    if phone:
        try:
            zones = phone_timezone.time_zones_for_number(phonenumbers.parse(phone, "US"))
        except phonenumbers.NumberParseException:
            zones = ()
        if len(zones) == 1 and zones[0] != "Etc/Unknown":
            return ZoneInfo(zones[0])
    return ZoneInfo(settings.TIME_ZONE)


def next_allowed_send_time(*, now: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """``now`` when it is within the allowed hours in ``zone``, else the next opening (UTC)."""
    local = now.astimezone(zone)
    opens, closes = settings.SMS_ALLOWED_FROM_HOUR, settings.SMS_ALLOWED_UNTIL_HOUR
    if opens <= local.hour < closes:
        return now
    day = local.date() if local.hour < opens else local.date() + datetime.timedelta(days=1)
    opening = datetime.datetime.combine(day, datetime.time(opens), tzinfo=zone)
    return opening.astimezone(datetime.UTC)


def within_staffed_hours(*, now: datetime.datetime) -> bool:
    """Whether admissions staff are at their desks (``STAFFED_HOURS`` on ``STAFFED_WEEKDAYS``,
    in the center's time zone)."""
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    start_text, end_text = settings.STAFFED_HOURS.split("-")
    start = datetime.time.fromisoformat(start_text.strip())
    end = datetime.time.fromisoformat(end_text.strip())
    return local.isoweekday() in settings.STAFFED_WEEKDAYS and start <= local.time() < end
