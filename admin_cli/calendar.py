"""`calendar show --year 2026`: the production calendar the assistant uses, to check against the
official one: days off besides Saturdays and Sundays, working weekends, shortened days, and the
yearly norm of working days and hours; the profile's overrides are marked as such."""
from __future__ import annotations

import argparse
from datetime import date, timedelta

from services.calendar import WorkCalendar
from services.profile import Profile

WEEK_HOURS = (40, 36, 24)


def add_parser(sub) -> None:
    cal = sub.add_parser("calendar", help="the production calendar in use")
    cal_sub = cal.add_subparsers(dest="action", required=True)
    show = cal_sub.add_parser("show", help="days off, working weekends, shortened days, the yearly norm")
    show.add_argument("--year", type=int, required=True)


def report(profile: Profile, year: int) -> str:
    calendar = WorkCalendar.of(profile)
    overrides = profile.calendar
    mark = lambda d, own: f"{d:%Y-%m-%d} {d:%a}" + ("  (profile)" if d in own else "")  # noqa: E731
    days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    off = [d for d in days if not calendar.is_working_day(d) and (d.weekday() < 5 or d in overrides.extra_days_off)]
    weekends_worked = [d for d in days if d.weekday() >= 5 and calendar.is_working_day(d)]
    short = [d for d in days if calendar.is_pre_holiday(d)]
    working = [d for d in days if calendar.is_working_day(d)]
    lines = [f"Production calendar {year} ({profile.agency.short_name}, {profile.agency.timezone})", "",
             f"Days off besides Saturdays and Sundays ({len(off)}):"]
    lines += [f"  {mark(d, overrides.extra_days_off)}" for d in off] or ["  none"]
    lines += ["", f"Working Saturdays and Sundays ({len(weekends_worked)}):"]
    lines += [f"  {mark(d, overrides.extra_working_days)}" for d in weekends_worked] or ["  none"]
    lines += ["", f"Shortened days, one hour less ({len(short)}):"]
    lines += [f"  {mark(d, overrides.shortened_days)}" for d in short] or ["  none"]
    lines += ["", f"Calendar days {len(days)}, working days {len(working)}, days off {len(days) - len(working)}"]
    for week in WEEK_HOURS:
        hours = week / 5 * len(working) - len(short)
        lines.append(f"Norm of hours at a {week}-hour week: {hours:g}")
    return "\n".join(lines)


def run(args: argparse.Namespace, profile: Profile) -> int:
    print(report(profile, args.year))
    return 0
