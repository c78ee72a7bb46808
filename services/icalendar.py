"""The .ics calendar file for a booked visit (RFC 5545), sent with the confirmation (R-6.5)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from services.profile import Profile, filled
from services.visits import REMIND_BEFORE, office_facts, topic_title
import texts as T
from storage.models import Visit


def _ics_escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _ics_fold(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued with CRLF and a space; a UTF-8
    character is never split."""
    out, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def ics(visit: Visit, profile: Profile, *, now: datetime) -> bytes:
    """A one-event calendar file: UTC times, the office as LOCATION, the reminder as an alarm."""
    host = urlparse(profile.agency.site).hostname or "assistant.invalid"
    facts = office_facts(profile)
    location = profile.office.address if filled(profile.office.address) else profile.agency.name
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//zhilnadzor-assistant//visits//RU", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:visit-{visit.id}@{host}", f"SEQUENCE:{visit.revision}", f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(visit.starts_at)}", f"DTEND:{_utc(visit.ends_at)}",
        f"SUMMARY:{_ics_escape(T.VISIT_ICS_SUMMARY.format(agency=profile.agency.short_name))}",
        f"LOCATION:{_ics_escape(location)}",
        "DESCRIPTION:" + _ics_escape(T.VISIT_ICS_DESCRIPTION.format(
            topic=topic_title(profile, visit.topic), directions=facts["directions"], access=facts["access"],
            phone=profile.agency.phone)),
    ]
    before = REMIND_BEFORE.get(visit.remind)
    if before is not None:
        trigger = "-P1D" if before == timedelta(days=1) else f"-PT{int(before.total_seconds() // 3600)}H"
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:{trigger}",
                  f"DESCRIPTION:{_ics_escape(T.VISIT_ICS_SUMMARY.format(agency=profile.agency.short_name))}",
                  "END:VALARM"]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_ics_fold(line) for line in lines) + "\r\n").encode("utf-8")
