"""Terms of 59-FZ: the statutory day, the date shown for it, the 7-day limits.

Art. 12 p. 1: an appeal is considered within 30 days of its registration; p. 2: the head may
extend the term by at most 30 days, once, telling the citizen. The law counts calendar days;
the date shown when the statutory day is a day off is a profile choice: the next working day
(the Civil Code's rule, art. 193) or the previous one (answer before the day off). An extension
adds to the statutory day, never to a date already moved."""
from __future__ import annotations

from datetime import date, timedelta

from services.calendar import WorkCalendar

MAX_EXTENSION_DAYS = 30
SEARCH_DAYS = 400


def previous_working_day(calendar: WorkCalendar, day: date) -> date:
    for _ in range(SEARCH_DAYS):
        if calendar.is_working_day(day):
            return day
        day -= timedelta(days=1)
    raise ValueError(f"no working day within {SEARCH_DAYS} days")


def shown(calendar: WorkCalendar, statutory: date, rule: str = "next") -> date:
    """The date told to the citizen for a statutory day."""
    if rule == "previous":
        return previous_working_day(calendar, statutory)
    return calendar.next_working_day(statutory)


def statutory(registered: date, days: int) -> date:
    """Registration day + `days` calendar days (counted from the next day, Civil Code art. 191)."""
    return registered + timedelta(days=days)


def extended(statutory_day: date, days: int) -> date:
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(days)
    return statutory_day + timedelta(days=days)
