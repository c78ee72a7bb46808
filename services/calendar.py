"""Working-time calendar: the Russian production calendar plus the agency's overrides (R-5.2–5.3).

Days off and transferred days (переносы) come from the ``holidays`` package (RU): it knows the
holidays of ст. 112 ТК РФ, the government decrees' transfers, and the Saturdays/Sundays that
became working days (``weekend_workdays``). It does not know pre-holiday days; they are computed
here (ст. 95 ТК РФ). Whatever the library lacks or gets wrong, the profile overrides fix.

Datetimes: naive datetimes are rejected with ValueError; aware ones in any zone are converted
to the calendar's zone. Dates must be plain ``date`` objects, not datetimes (TypeError).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable

import holidays

# Нерабочие праздничные дни, ст. 112 ТК РФ (current list, since 2013).
_ART_112 = {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
_ONE_DAY = timedelta(days=1)
_SEARCH_DAYS = 400  # how far ahead to look for a working day before giving up


@dataclass(frozen=True)
class Hours:
    """The agency's regular schedule on a working day."""

    opens: time
    closes: time
    breaks: tuple[tuple[time, time], ...] = ()


def _swapped_weekday(day: date) -> date | None:
    """For a weekend day made working by decree: the weekday that got its day off.

    Read from the library's substitution table (internal, so any failure means "unknown").
    """
    try:
        from holidays.countries.russia import RussiaStaticHolidays

        table = RussiaStaticHolidays.special_public_holidays
        for year in (day.year, day.year + 1):
            rows = table.get(year, ())
            rows = (rows,) if rows and isinstance(rows[0], int) else rows
            for to_m, to_d, from_m, from_d, *from_y in rows:
                if date(from_y[0] if from_y else year, from_m, from_d) == day:
                    return date(year, to_m, to_d)
    except Exception:  # pragma: no cover - library layout changed
        return None
    return None


class WorkCalendar:
    @classmethod
    def of(cls, profile) -> WorkCalendar:
        """The calendar of an agency profile (services.profile.Profile): its hours and overrides."""
        h, cal = profile.hours, profile.calendar
        return cls(Hours(h.opens, h.closes, tuple(tuple(b) for b in h.breaks)), zoneinfo.ZoneInfo(profile.agency.timezone),
                   extra_days_off=cal.extra_days_off, extra_working_days=cal.extra_working_days,
                   shortened_days=cal.shortened_days)

    def __init__(
        self,
        hours: Hours,
        tz: zoneinfo.ZoneInfo,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        shortened_days: Iterable[date] = (),
    ):
        self.hours = hours
        self.tz = tz
        self._off = frozenset(extra_days_off)
        self._work = frozenset(extra_working_days)
        self._short = frozenset(shortened_days)
        if self._off & self._work:
            raise ValueError(f"dates both off and working: {sorted(self._off & self._work)}")
        self._ru = holidays.country_holidays("RU")  # fills years lazily
        self._intervals: dict[date, tuple] = {}

    # --- days -------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        d = _day(d)
        if d in self._off:
            return False
        if d in self._work:
            return True
        return self._ru.is_working_day(d)

    def is_pre_holiday(self, d: date) -> bool:
        """A working day right before a ст. 112 holiday works an hour less (ст. 95 ТК РФ).

        A weekend day made working by decree takes the length of the weekday it was swapped
        with (e.g. Sat 2025-11-01 works as Mon 11-03, the eve of 11-04). Profile
        ``shortened_days`` are always shortened.
        """
        d = _day(d)
        if not self.is_working_day(d):
            return False
        if d in self._short:
            return True
        if d.weekday() >= 5 and d in self._ru.weekend_workdays:
            d = _swapped_weekday(d) or d
        nxt = d + _ONE_DAY
        return (nxt.month, nxt.day) in _ART_112

    def next_working_day(self, d: date) -> date:
        """``d`` itself if working, else the first working day after it."""
        d = _day(d)
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(d):
                return d
            d += _ONE_DAY
        raise ValueError(f"no working day within {_SEARCH_DAYS} days")

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after ``d`` (before it if n < 0); ``d`` itself when n == 0."""
        d, step = _day(d), (_ONE_DAY if n >= 0 else -_ONE_DAY)
        for _ in range(abs(n)):
            d += step
            while not self.is_working_day(d):
                d += step
        return d

    def deadline(self, start: date, calendar_days: int) -> date:
        """Last day of a term in calendar days (59-ФЗ), counted from the day after ``start``
        (ГК РФ ст. 191); if it falls on a non-working day it moves to the next working day
        (ГК РФ ст. 193). The agency's own days off count as non-working too."""
        return self.next_working_day(_day(start) + timedelta(days=calendar_days))

    # --- hours ------------------------------------------------------------

    def intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """Open intervals of the day as aware datetimes in ``tz``; empty on days off."""
        d = _day(d)
        known = self._intervals.get(d)
        if known is None:  # a day's hours never change while the process runs (the profile is read at start)
            if len(self._intervals) > 4096:
                self._intervals.clear()
            known = self._intervals[d] = tuple(self._count_intervals(d))
        return list(known)

    def _count_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(d):
            return []
        at = lambda t: datetime.combine(d, t, tzinfo=self.tz)  # noqa: E731
        spans, cur = [], at(self.hours.opens)
        for b_start, b_end in sorted(self.hours.breaks):
            spans.append((cur, at(b_start)))
            cur = at(b_end)
        spans.append((cur, at(self.hours.closes)))
        spans = [(s, e) for s, e in spans if e > s]
        if self.is_pre_holiday(d):  # cut one hour off the end of the day
            cut = timedelta(hours=1)
            while spans and cut:
                s, e = spans.pop()
                if e - s > cut:
                    spans.append((s, e - cut))
                    break
                cut -= e - s
        return spans

    def is_open(self, moment: datetime) -> bool:
        m = self._local(moment)
        return any(s <= m < e for s, e in self.intervals(m.date()))

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` (in ``tz``) if open now, else the start of the next open interval."""
        m = self._local(moment)
        d = m.date()
        for _ in range(_SEARCH_DAYS):
            for s, e in self.intervals(d):
                if s <= m < e:
                    return m
                if s > m:
                    return s
            d += _ONE_DAY
        raise ValueError(f"no opening within {_SEARCH_DAYS} days")

    def working_slots(self, d: date, length: timedelta) -> list[datetime]:
        """Back-to-back slot starts, each slot lying wholly inside one open interval (R-6.1)."""
        if length <= timedelta(0):
            raise ValueError("slot length must be positive")
        slots = []
        for s, e in self.intervals(d):
            while s + length <= e:
                slots.append(s)
                s += length
        return slots

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
        return moment.astimezone(self.tz)


def _day(d: date) -> date:
    if isinstance(d, datetime):
        raise TypeError("expected a date, got a datetime; use .astimezone(tz).date() first")
    return d
