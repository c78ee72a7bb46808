"""python -m admin_cli slots create|list|visitors|close-day|reopen-day: reception slots (R-6.1).

  slots create --desk "Окно 1" --length 30 --from 2026-03-02 --to 2026-03-13
  slots create --staff-id 3 --length 20 --from 2026-03-02 --to 2026-03-06
  slots list [--from DATE] [--to DATE] [--desk NAME | --staff-id N]
  slots visitors 2026-03-05              (the day's visitor list for the reception desk)
  slots close-day 2026-03-05 [--desk NAME | --staff-id N] [--yes]
  slots reopen-day 2026-03-05 [--desk NAME | --staff-id N]

Slots follow the agency's working hours from the profile and the production calendar:
lunch excluded, pre-holiday days an hour shorter, days off skipped. Creating again adds only
what is missing. Closing a day cancels its booked visits and notifies each citizen.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone

from storage.db import Session as AsyncSession

from services.calendar import WorkCalendar
from services.profile import load_profile
from services import visits
from services.addresses import phone_text
import texts as T
from bot.settings import Settings
from storage.models import Citizen, Staff
from storage.repos import staff as staff_rows

LIST_DAYS = 14


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-04, got {value!r}") from None


def _minutes(value: str) -> int:
    if not value.isdigit() or not 5 <= int(value) <= 240:
        raise argparse.ArgumentTypeError(f"slot length must be 5 to 240 minutes, got {value!r}")
    return int(value)


def _who(parser: argparse.ArgumentParser, required: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--desk", help="reception desk name, e.g. «Окно 1»")
    group.add_argument("--staff-id", type=int, help="staff member who receives (see: staff list)")


def add_parser(subparsers) -> None:
    slots = subparsers.add_parser("slots", help="reception slots for visit booking")
    sub = slots.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create slots in working hours over a date range")
    _who(create, required=True)
    create.add_argument("--length", type=_minutes, default=30, help="slot length in minutes (default 30)")
    create.add_argument("--from", dest="first", type=_date, required=True, help="first day, YYYY-MM-DD")
    create.add_argument("--to", dest="last", type=_date, required=True, help="last day, YYYY-MM-DD")
    listing = sub.add_parser("list", help=f"list slots (default: today and {LIST_DAYS} days ahead)")
    _who(listing, required=False)
    listing.add_argument("--from", dest="first", type=_date)
    listing.add_argument("--to", dest="last", type=_date)
    close = sub.add_parser("close-day", help="close a day: free slots closed, booked visits cancelled with a notice")
    close.add_argument("day", type=_date)
    close.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _who(close, required=False)
    reopen = sub.add_parser("reopen-day", help="open a closed day's slots again (cancelled visits stay cancelled)")
    reopen.add_argument("day", type=_date)
    _who(reopen, required=False)
    who = sub.add_parser("visitors", help="the day's visitors: time, desk, name, phone, topic")
    who.add_argument("day", type=_date)


async def _desk(session: AsyncSession, args: argparse.Namespace) -> str | None:
    """The desk key from --desk or --staff-id; prints the problem and returns None if invalid."""
    if getattr(args, "staff_id", None) is not None:
        member = await session.get(Staff, args.staff_id)
        if member is None or not member.active:
            print(f"no active staff member #{args.staff_id}", file=sys.stderr)
            return None
        return visits.desk_name(None, member.id)
    desk = (getattr(args, "desk", None) or "").strip()
    if len(desk) > 64 or desk.startswith("staff:"):
        print("--desk must be up to 64 characters and not start with 'staff:'", file=sys.stderr)
        return None
    return desk


def ask(question: str) -> bool:
    """Yes only for an explicit yes typed at a terminal; no terminal means no."""
    if not sys.stdin.isatty():
        print(question.rstrip() + " — no terminal to answer; add --yes", file=sys.stderr)
        return False
    return input(question).strip().casefold() in ("y", "yes", "д", "да")


async def run(args: argparse.Namespace, session: AsyncSession) -> int:
    profile = load_profile(Settings().agency_profile)
    calendar = WorkCalendar.of(profile)
    now = datetime.now(timezone.utc)
    if args.action == "create":
        return await _create(args, session, calendar, now)
    if args.action == "list":
        return await _list(args, session, calendar, now)
    if args.action == "close-day":
        return await _close(args, session, profile, calendar, now, ask)
    if args.action == "reopen-day":
        return await _reopen(args, session, calendar, now)
    if args.action == "visitors":
        return await _visitors(args, session, profile, calendar)
    print(f"unknown action {args.action}", file=sys.stderr)
    return 2


async def _create(args, session, calendar, now) -> int:
    if args.last < args.first:
        print("--to is before --from", file=sys.stderr)
        return 2
    if (args.last - args.first).days > 366:
        print("at most a year at a time", file=sys.stderr)
        return 2
    desk = await _desk(session, args)
    if not desk:
        return 2 if desk is None else _needs_desk()
    done = await visits.create_slots(session, calendar, desk=desk, staff_id=args.staff_id,
                                     length=timedelta(minutes=args.length), first=args.first,
                                     last=args.last, now=now)
    print(f"created {done.slots} slots of {args.length} min for {desk} on {len(done.working_days)} working days "
          f"{args.first:%d.%m.%Y}–{args.last:%d.%m.%Y}; {done.existing} already there")
    if done.days_off:
        print("skipped days off: " + ", ".join(f"{d:%d.%m}" for d in done.days_off))
    return 0


def _needs_desk() -> int:
    print("give --desk NAME or --staff-id N", file=sys.stderr)
    return 2


async def _list(args, session, calendar, now) -> int:
    desk = None
    if args.desk is not None or args.staff_id is not None:
        desk = await _desk(session, args)
        if not desk:
            return 2
    today = now.astimezone(calendar.tz).date()
    first = args.first or today
    last = args.last or first + timedelta(days=LIST_DAYS)
    start, _ = visits.day_bounds(first, calendar.tz)
    _, end = visits.day_bounds(last, calendar.tz)
    rows = await visits.list_slots(session, start=start, end=end, desk=desk)
    if not rows:
        print("no slots")
        return 0
    names = {s.id: s.name for s in await staff_rows.everyone(session)}
    for slot, visit in rows:
        s, e = slot.starts_at.astimezone(calendar.tz), slot.ends_at.astimezone(calendar.tz)
        if slot.status == visits.CLOSED:
            state = "closed"
        elif visit is not None:
            state = f"{visit.status} (visit #{visit.id}): {await _visitor(session, visit)}"
        else:
            state = "free"
        who = f"{names.get(slot.staff_id, '?')} (staff #{slot.staff_id})" if slot.staff_id else slot.desk
        print(f"#{slot.id}\t{s:%d.%m.%Y} {T.WEEKDAYS_SHORT[s.weekday()]} {s:%H:%M}–{e:%H:%M}\t{who}\t{state}")
    return 0


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


async def _visitor(session, visit) -> str:
    citizen = await session.get(Citizen, visit.citizen_id)
    name = citizen.full_name if citizen and citizen.full_name else "name not given"
    return f"{name}, {phone_text(citizen.phone) if citizen and citizen.phone else 'no phone'}"


async def _close(args, session, profile, calendar, now, confirm) -> int:
    desk = None
    if args.desk is not None or args.staff_id is not None:
        desk = await _desk(session, args)
        if not desk:
            return 2
    today = now.astimezone(calendar.tz).date()
    if args.day < today:
        print(f"{args.day:%d.%m.%Y} is in the past: nothing to close", file=sys.stderr)
        return 2
    if not calendar.is_working_day(args.day):
        print(f"{args.day:%d.%m.%Y} is a day off in the production calendar: no reception to close", file=sys.stderr)
        return 2
    start, end = visits.day_bounds(args.day, calendar.tz)
    rows = [(s, v) for s, v in await visits.list_slots(session, start=start, end=end, desk=desk)
            if s.status != visits.CLOSED]
    booked = sum(1 for _, v in rows if v is not None and v.status == visits.BOOKED and v.starts_at > now)
    if not rows:
        print(f"no open slots on {args.day:%d.%m.%Y}")
        return 0
    question = (f"Close {plural(len(rows), 'slot')} on {args.day:%d.%m.%Y} and cancel "
                f"{plural(booked, 'booked visit')} (each citizen gets a notice)? [y/N] ")
    if not args.yes and not confirm(question):
        print("nothing changed")
        return 1
    closed, cancelled = await visits.close_day(session, day=args.day, profile=profile, tz=calendar.tz,
                                               now=now, desk=desk)
    print(f"closed {plural(closed, 'slot')} on {args.day:%d.%m.%Y}; cancelled {plural(cancelled, 'booked visit')}, "
          "each citizen gets a notice")
    return 0


async def _reopen(args, session, calendar, now) -> int:
    desk = None
    if args.desk is not None or args.staff_id is not None:
        desk = await _desk(session, args)
        if not desk:
            return 2
    if args.day < now.astimezone(calendar.tz).date():
        print(f"{args.day:%d.%m.%Y} is in the past", file=sys.stderr)
        return 2
    opened = await visits.reopen_day(session, day=args.day, tz=calendar.tz, desk=desk)
    print(f"reopened {plural(opened, 'slot')} on {args.day:%d.%m.%Y}")
    return 0


async def _visitors(args, session, profile, calendar) -> int:
    day = await visits.day_visits(session, args.day, calendar.tz)
    if not day:
        print(f"no visitors on {args.day:%d.%m.%Y}")
        return 0
    for v in day:
        print(f"{v.starts_at.astimezone(calendar.tz):%H:%M}\t{visits.desk_name(v.slot.desk, v.slot.staff_id)}\t"
              f"{await _visitor(session, v)}\t{visits.topic_title(profile, v.topic)}\t{v.status}")
    return 0
