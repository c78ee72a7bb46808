"""Dates and words for visits, from the text catalogue (R-6.5, R-6.7: dates in words)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

import texts as T
from core import channels as channels_
from services.profile import Profile, filled
from storage.models import Visit

NO_REMINDER = "none"


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def when_text(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return T.VISIT_WHEN.format(day=local.day, month=T.MONTHS_GENITIVE[local.month - 1], year=local.year,
                               weekday=T.WEEKDAYS[local.weekday()], time=f"{local:%H:%M}")


def day_label(day: date) -> str:
    return T.VISIT_DAY_BUTTON.format(weekday=T.WEEKDAYS_SHORT[day.weekday()], date=f"{day:%d.%m}")


def topic_title(profile: Profile, topic: str) -> str:
    found = profile.topic(topic)
    return found.title if found else topic


def office_facts(profile: Profile) -> dict[str, str]:
    """Address, directions, map and accessibility; a fact not filled in is never shown (R-6.5, R-6.7)."""
    office, ask = profile.office, T.VISIT_CHECK_PHONE.format(phone=profile.agency.phone)
    return {
        "address": office.address if filled(office.address) else ask,
        "directions": office.directions if filled(office.directions) else ask,
        "map": T.VISIT_MAP.format(url=office.map_url) if filled(office.map_url) else "",
        "access": office.accessibility if filled(office.accessibility) else ask,
    }


def channels_text(names: list[str]) -> str:
    return " и ".join(channels_.to_phrase(c) for c in names)


def remind_text(visit: Visit) -> str:
    title = T.VISIT_REMIND_TITLES.get(visit.remind, visit.remind)
    if visit.remind == NO_REMINDER:
        return title
    channels = [c for c in (visit.channel, visit.extra_channel) if c]
    return T.VISIT_REMIND_WHERE.format(when=title, channels=channels_text(channels))


def details_text(visit: Visit, profile: Profile, tz: tzinfo, desk: str | None = None) -> str:
    """R-6.5: when, which window, what about, where and how to get there."""
    desk = T.VISIT_DESK_STAFF if not desk or desk.startswith("staff:") else desk
    return T.VISIT_DETAILS.format(when=when_text(visit.starts_at, tz), topic=topic_title(profile, visit.topic),
                                  remind=remind_text(visit), desk=desk, **office_facts(profile))
