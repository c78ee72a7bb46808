"""R-5.2–5.3: working hours 8:30–12:00 and 13:00–17:30 on working days of the Russian production
calendar (holidays, decree transfers, pre-holiday days); R-6.1: visit slots inside those hours.

Dates checked against: ст. 95, 112 ТК РФ; ПП РФ от 10.08.2023 № 1906 (2024), от 04.10.2024
№ 1335 (2025), 2026 decree (Jan 3 -> Jan 9, Jan 4 -> Dec 31); Mintrud norms 2024: 248 days /
1979 h, 2025: 247 days / 1972 h (40-hour week).
"""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from services.calendar import Hours, WorkCalendar

TZ = ZoneInfo("Europe/Astrakhan")
ASTRAKHAN_HOURS = Hours(time(8, 30), time(17, 30), ((time(12, 0), time(13, 0)),))


@pytest.fixture
def cal():
    return WorkCalendar(ASTRAKHAN_HOURS, TZ)


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def span(d, *pairs):
    """Expected intervals for day d: pairs of (h, m, h, m)."""
    return [(at(*d, a, b), at(*d, c, e)) for a, b, c, e in pairs]


FULL = ((8, 30, 12, 0), (13, 0, 17, 30))
SHORT = ((8, 30, 12, 0), (13, 0, 16, 30))


def test_r5_2_library_knows_decree_working_saturdays():
    """R-5.2–5.3: holidays RU carries the working Saturdays of the 2024–2026 decrees."""
    ww = lambda y: set(holidays.country_holidays("RU", years=y).weekend_workdays)  # noqa: E731
    assert ww(2024) == {date(2024, 4, 27), date(2024, 11, 2), date(2024, 12, 28)}
    assert ww(2025) == {date(2025, 11, 1)}
    assert ww(2026) == set()


def test_r5_2_new_year_holidays_2026(cal):
    """R-5.2–5.3: 1–8 Jan are holidays, 9 Jan is off by transfer, first working day 12 Jan."""
    for day in range(1, 12):
        assert not cal.is_working_day(date(2026, 1, day)), day
    assert cal.intervals(date(2026, 1, 5)) == []
    assert cal.is_working_day(date(2026, 1, 12))
    assert not cal.is_working_day(date(2026, 12, 31))  # transferred from Sun 4 Jan
    assert cal.is_working_day(date(2026, 12, 30)) and not cal.is_pre_holiday(date(2026, 12, 30))


def test_r5_2_holidays_2026_february_march(cal):
    """R-5.2–5.3: 23 Feb 2026 (Mon) off; 8 Mar (Sun) moves to Mon 9 Mar (ст. 112 ч. 2)."""
    assert not cal.is_working_day(date(2026, 2, 23))
    assert not cal.is_working_day(date(2026, 3, 9))
    assert cal.is_working_day(date(2026, 3, 10))
    # Fri 20 Feb and Fri 6 Mar precede a weekend, not the holiday itself: full days (ст. 95).
    assert cal.intervals(date(2026, 2, 20)) == span((2026, 2, 20), *FULL)
    assert cal.intervals(date(2026, 3, 6)) == span((2026, 3, 6), *FULL)


def test_r5_2_transferred_days_off(cal):
    """R-5.2–5.3: weekdays made days off by decree."""
    for d in (date(2024, 4, 29), date(2024, 4, 30), date(2024, 5, 10), date(2024, 12, 30),
              date(2024, 12, 31), date(2025, 5, 2), date(2025, 5, 8), date(2025, 6, 13),
              date(2025, 11, 3), date(2025, 12, 31)):
        assert not cal.is_working_day(d), d


def test_r5_2_working_saturday_full_day(cal):
    """R-5.2–5.3: Sat 2024-12-28 and 2024-04-27 were working days of full length."""
    for d in ((2024, 12, 28), (2024, 4, 27)):
        assert cal.is_working_day(date(*d))
        assert cal.intervals(date(*d)) == span(d, *FULL)
    assert cal.is_open(at(2024, 12, 28, 10))


def test_r5_2_working_saturday_before_holiday_is_short(cal):
    """R-5.2–5.3: Sat 2025-11-01 works instead of Mon 11-03, the eve of 4 Nov: closes 16:30.
    Same for Sat 2024-11-02 (its day off went to Tue 30 Apr, the eve of 1 May)."""
    for d in ((2025, 11, 1), (2024, 11, 2)):
        assert cal.is_working_day(date(*d)) and cal.is_pre_holiday(date(*d))
        assert cal.intervals(date(*d)) == span(d, *SHORT)


def test_r5_2_pre_holiday_days_close_at_1630(cal):
    """R-5.2–5.3, ст. 95 ТК РФ: 2024-05-08, 2025-03-07 (eve of Sat 8 Mar), 2026-05-08."""
    for d in ((2024, 5, 8), (2025, 3, 7), (2026, 5, 8), (2026, 4, 30), (2026, 11, 3)):
        assert cal.is_pre_holiday(date(*d)), d
        assert cal.intervals(date(*d)) == span(d, *SHORT)
    assert not cal.is_open(at(2024, 5, 8, 16, 45))
    assert cal.is_open(at(2024, 5, 8, 16, 29))


def test_r5_2_not_pre_holiday(cal):
    """R-5.2–5.3: eve of a transferred day off or of a weekend is a full day; a day off is
    never pre-holiday. 2025-12-31 is a day off; 2025-12-30 and 2025-05-07 are full."""
    assert not cal.is_working_day(date(2025, 12, 31))
    assert not cal.is_pre_holiday(date(2025, 12, 31))
    for d in ((2025, 12, 30), (2025, 5, 7), (2025, 10, 17)):
        assert not cal.is_pre_holiday(date(*d)), d
        assert cal.intervals(date(*d)) == span(d, *FULL)
    assert not cal.is_pre_holiday(date(2025, 2, 21))  # 23 Feb 2025 was a Sunday


@pytest.mark.parametrize("year, days, hours", [(2024, 248, 1979), (2025, 247, 1972), (2026, 247, 1972)])
def test_r5_2_yearly_norm_matches_production_calendar(cal, year, days, hours):
    """R-5.2–5.3: working days and hours per year match the production calendar (8-hour day)."""
    d, n, total = date(year, 1, 1), 0, timedelta()
    while d.year == year:
        ivs = cal.intervals(d)
        n += bool(ivs)
        total += sum((e - s for s, e in ivs), timedelta())
        d += timedelta(days=1)
    assert (n, total) == (days, timedelta(hours=hours))


def test_r5_3_lunch_break_is_closed(cal):
    """R-5.2–5.3: closed 12:00–13:00; next opening at 13:00."""
    assert cal.is_open(at(2025, 10, 15, 11, 59))
    assert not cal.is_open(at(2025, 10, 15, 12, 0))
    assert not cal.is_open(at(2025, 10, 15, 12, 30))
    assert cal.next_opening(at(2025, 10, 15, 12, 30)) == at(2025, 10, 15, 13, 0)
    assert cal.is_open(at(2025, 10, 15, 13, 0))
    assert not cal.is_open(at(2025, 10, 15, 17, 30))


def test_r5_3_next_opening(cal):
    """R-5.2–5.3: open -> now; early morning -> 8:30; Friday evening -> Monday 8:30;
    before the New Year holidays -> 12 Jan; after a pre-holiday 16:30 close -> next working day."""
    now = at(2025, 10, 15, 10, 5)
    assert cal.next_opening(now) == now
    assert cal.next_opening(at(2025, 10, 15, 7)) == at(2025, 10, 15, 8, 30)
    assert cal.next_opening(at(2025, 10, 17, 18)) == at(2025, 10, 20, 8, 30)
    assert cal.next_opening(at(2025, 12, 30, 18)) == at(2026, 1, 12, 8, 30)
    assert cal.next_opening(at(2026, 5, 8, 16, 45)) == at(2026, 5, 12, 8, 30)
    assert cal.next_opening(at(2025, 10, 31, 18)) == at(2025, 11, 1, 8, 30)  # working Saturday


def test_r5_3_timezones(cal):
    """R-5.2–5.3: naive datetimes are rejected; aware ones are read in Astrakhan time (UTC+4)."""
    with pytest.raises(ValueError):
        cal.is_open(datetime(2025, 10, 15, 10, 0))
    with pytest.raises(ValueError):
        cal.next_opening(datetime(2025, 10, 15, 10, 0))
    assert cal.is_open(datetime(2025, 10, 15, 4, 30, tzinfo=timezone.utc))  # 8:30 local
    assert not cal.is_open(datetime(2025, 10, 15, 4, 29, tzinfo=timezone.utc))
    opening = cal.next_opening(datetime(2025, 10, 15, 1, 0, tzinfo=timezone.utc))
    assert opening == at(2025, 10, 15, 8, 30) and opening.tzinfo is TZ
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2025, 10, 15, 10, tzinfo=TZ))


def test_r5_2_next_and_add_working_days(cal):
    """R-5.2–5.3: stepping over weekends, holidays and working Saturdays."""
    assert cal.next_working_day(date(2025, 10, 15)) == date(2025, 10, 15)
    assert cal.next_working_day(date(2025, 10, 18)) == date(2025, 10, 20)
    assert cal.next_working_day(date(2026, 1, 1)) == date(2026, 1, 12)
    assert cal.add_working_days(date(2024, 12, 27), 1) == date(2024, 12, 28)
    assert cal.add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)
    assert cal.add_working_days(date(2025, 10, 17), 0) == date(2025, 10, 17)
    assert cal.add_working_days(date(2025, 10, 17), 5) == date(2025, 10, 24)
    assert cal.add_working_days(date(2026, 1, 12), -1) == date(2025, 12, 30)


def test_deadline_calendar_days_moves_off_non_working_day(cal):
    """59-FZ terms in calendar days; a last day on a non-working day moves (ГК РФ ст. 193)."""
    assert cal.deadline(date(2025, 9, 1), 30) == date(2025, 10, 1)  # Wednesday, unchanged
    assert date(2025, 9, 21).weekday() == 6
    assert cal.deadline(date(2025, 8, 22), 30) == date(2025, 9, 22)  # Sunday -> Monday
    assert cal.deadline(date(2025, 10, 3), 30) == date(2025, 11, 5)  # Sun 2 Nov, 3–4 Nov off
    assert cal.deadline(date(2025, 12, 5), 30) == date(2026, 1, 12)  # New Year holidays


def test_r5_2_profile_overrides(cal):
    """R-5.2–5.3: the agency profile adds days off, working days and shortened days."""
    c = WorkCalendar(
        ASTRAKHAN_HOURS, TZ,
        extra_days_off=[date(2025, 10, 20)],
        extra_working_days=[date(2025, 10, 25), date(2028, 1, 9)],
        shortened_days=[date(2025, 10, 22)],
    )
    assert cal.is_working_day(date(2025, 10, 20)) and not c.is_working_day(date(2025, 10, 20))
    assert c.intervals(date(2025, 10, 20)) == []
    assert c.next_opening(at(2025, 10, 17, 18)) == at(2025, 10, 21, 8, 30)
    assert c.deadline(date(2025, 9, 20), 30) == date(2025, 10, 21)
    assert not cal.is_working_day(date(2025, 10, 25))
    assert c.intervals(date(2025, 10, 25)) == span((2025, 10, 25), *FULL)
    assert c.intervals(date(2025, 10, 22)) == span((2025, 10, 22), *SHORT)
    assert c.is_working_day(date(2028, 1, 9))  # a future decree the library doesn't know yet
    with pytest.raises(ValueError):
        WorkCalendar(ASTRAKHAN_HOURS, TZ, extra_days_off=[date(2025, 1, 9)],
                     extra_working_days=[date(2025, 1, 9)])


def test_r6_1_working_slots(cal):
    """R-6.1, R-5.2–5.3: 30-min slots fit wholly inside open hours: 7 + 9 = 16 on a normal day,
    7 + 7 = 14 on a pre-holiday day, none on a day off."""
    slots = cal.working_slots(date(2025, 10, 15), timedelta(minutes=30))
    assert len(slots) == 16
    assert slots[0] == at(2025, 10, 15, 8, 30) and slots[6] == at(2025, 10, 15, 11, 30)
    assert slots[7] == at(2025, 10, 15, 13, 0) and slots[-1] == at(2025, 10, 15, 17, 0)
    short = cal.working_slots(date(2024, 5, 8), timedelta(minutes=30))
    assert len(short) == 14 and short[-1] == at(2024, 5, 8, 16, 0)
    assert cal.working_slots(date(2026, 1, 5), timedelta(minutes=30)) == []
    assert len(cal.working_slots(date(2025, 10, 15), timedelta(minutes=45))) == 4 + 6
    with pytest.raises(ValueError):
        cal.working_slots(date(2025, 10, 15), timedelta(0))
