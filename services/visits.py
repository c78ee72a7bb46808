"""Visits: reception slots, bookings, reminders and rating requests (R-6.1–R-6.8).

The database is the source of truth. A slot is held by at most one visit that is not cancelled
(the partial unique index `uq_visits_active_slot`), so no slot is ever booked twice whatever
the number of bot processes. Reminders and rating requests are outbox rows written in the
same transaction as the booking; the sender delivers them when `not_before` comes and drops
them once `expires_at` has passed. There are no per-visit scheduler jobs.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Awaitable, Callable

from core import channels
from services import notices, outbox
from services.profile import Limits, Profile
from services.visit_texts import (NO_REMINDER, day_bounds, office_facts, topic_title,  # noqa: F401
                                  when_text, day_label, details_text, remind_text)
from storage.db import Session as AsyncSession
from storage.models import Citizen, Staff, Visit
from storage.repos import visits as rows

OPEN, CLOSED = "open", "closed"
BOOKED, ATTENDED, NO_SHOW, CANCELLED = "booked", "attended", "no_show", "cancelled"
BY_CITIZEN, BY_OFFICE = "citizen", "office"
REMINDER_KIND, RATING_KIND, CLOSED_KIND = "visit.reminder", "visit.rating", "visit.office_closed"

# Booking limits come from the profile (limits.visits_max_future, visit_min_lead_hours,
# visit_booking_days); these are its defaults, for callers without a profile.
DEFAULT_LIMITS = Limits()

REMIND_BEFORE = {"day": timedelta(days=1), "2h": timedelta(hours=2)}

# "where a reminder is mandatory by law, offer to duplicate it on another channel".
# No law makes a reminder of this reception mandatory, so the rule itself never forces the
# offer; we make it whenever the citizen has a second reachable channel, which satisfies
# in every case. False turns the offer off.
OFFER_DUPLICATE = True


def duplicate_candidates() -> list[str]:
    """Where a duplicate reminder can go: every messenger, then e-mail."""
    return [*channels.messengers(), "email"]

MARK_EARLY = timedelta(hours=1)        # staff may mark a visitor who came this much early
RATING_DELAY = timedelta(minutes=30)   # asked this long after the end: time for staff to mark a no-show
RATING_WINDOW = timedelta(days=3)      # visits that ended longer ago are not asked any more
RATING_EXPIRES = timedelta(days=7)     # an unsent request is dropped after this
RATING_SCORES = (3, 2, 1)              # satisfied / partly / not satisfied, the scale of


class BookingError(Exception):
    TAKEN, TOO_SOON, LIMIT, GONE, SAME_TIME = "taken", "too_soon", "limit", "gone", "same_time"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Choice:
    """What the citizen chose in the booking wizard."""

    topic: str
    start: datetime
    channel: str
    remind: str = NO_REMINDER
    extra_channel: str | None = None


# --- slots (admin CLI) -----------------------------------------------------------------------

@dataclass
class Created:
    slots: int = 0
    existing: int = 0  # already there, or overlapping a slot of the same desk
    working_days: list[date] = field(default_factory=list)
    days_off: list[date] = field(default_factory=list)


def desk_name(desk: str | None, staff_id: int | None) -> str:
    return desk if desk else f"staff:{staff_id}"


async def create_slots(session: AsyncSession, calendar, *, desk: str, staff_id: int | None,
                       length: timedelta, first: date, last: date, now: datetime) -> Created:
    """Back-to-back slots in the agency's working hours (lunch excluded, pre-holiday days an hour
    shorter), skipping the production calendar's days off. Running it again adds nothing."""
    result, day = Created(), first
    while day <= last:
        if not calendar.is_working_day(day):
            result.days_off.append(day)
            day += timedelta(days=1)
            continue
        result.working_days.append(day)
        lo, hi = day_bounds(day, calendar.tz)
        taken = await rows.slot_times(session, desk, lo, hi)
        for start in calendar.working_slots(day, length):
            end = start + length
            if start <= now:
                continue
            if any(s < end and start < e for s, e in taken):
                result.existing += 1
                continue
            added = await rows.add_slot(session, desk=desk, staff_id=staff_id, status=OPEN,
                                        starts_at=start.astimezone(timezone.utc),
                                        ends_at=end.astimezone(timezone.utc), created_at=now)
            result.slots += added
            result.existing += not added
        day += timedelta(days=1)
    return result


async def list_slots(session: AsyncSession, *, start: datetime, end: datetime,
                     desk: str | None = None) -> list:
    return await rows.list_slots(session, start, end, desk)


async def close_day(session: AsyncSession, *, day: date, profile: Profile, tz: tzinfo, now: datetime,
                    desk: str | None = None) -> tuple[int, int]:
    """Close a day's slots. Visits booked on it that have not begun are cancelled, and each
    citizen gets a notice through the outbox, so nobody comes to a closed office.
    Returns (slots closed, visits cancelled)."""
    lo, hi = day_bounds(day, tz)
    slots = await rows.open_slots_locked(session, lo, hi, desk)
    for slot in slots:
        slot.status = CLOSED
    visits = await rows.booked_on_locked(session, [s.id for s in slots], now)
    for visit in visits:
        await cancel(session, visit, now=now, reason=BY_OFFICE)
        citizen = await session.get(Citizen, visit.citizen_id)
        targets = await visit_targets(session, citizen, visit)
        params = {"date": f"{visit.starts_at.astimezone(tz):%d.%m.%Y}", "when": when_text(visit.starts_at, tz),
                  "phone": profile.agency.phone, "visit_id": visit.id}
        notices.add(session, notices.Renderer(profile), CLOSED_KIND, targets=targets, params=params,
                    citizen_id=citizen.id, not_before=now)
    await session.flush()
    return len(slots), len(visits)


async def desk_of(session: AsyncSession, visit: Visit) -> str | None:
    """The window (desk) of a visit's slot, to name it in the confirmation (R-6.5)."""
    from storage.models import VisitSlot

    slot = await session.get(VisitSlot, visit.slot_id)
    return slot.desk if slot else None


async def reopen_day(session: AsyncSession, *, day: date, tz: tzinfo, desk: str | None = None) -> int:
    """Open a closed day's slots again; visits cancelled when it was closed stay cancelled."""
    lo, hi = day_bounds(day, tz)
    return await rows.reopen(session, lo, hi, desk)


# --- what a citizen can book -----------------------------------------------------------------

def earliest(now: datetime, limits: Limits = DEFAULT_LIMITS) -> datetime:
    return now + timedelta(hours=limits.visit_min_lead_hours)


async def free_days(session: AsyncSession, tz: tzinfo, now: datetime,
                    limits: Limits = DEFAULT_LIMITS) -> list[date]:
    """Local days within the horizon that still have a free slot (R-6.1)."""
    today = now.astimezone(tz).date()
    last, _ = day_bounds(today + timedelta(days=limits.visit_booking_days + 1), tz)
    starts = await rows.free_starts(session, earliest(now, limits), last)
    return sorted({s.astimezone(tz).date() for s in starts})


async def free_times(session: AsyncSession, tz: tzinfo, day: date, now: datetime,
                     limits: Limits = DEFAULT_LIMITS) -> list[datetime]:
    """Free start times of one local day, each once however many desks are free then (R-6.2)."""
    lo, hi = day_bounds(day, tz)
    return await rows.free_starts(session, max(lo, earliest(now, limits)), hi)


async def future_visits(session: AsyncSession, citizen_id: int, now: datetime) -> list[Visit]:
    return await rows.future_visits(session, citizen_id, now)


async def owned(session: AsyncSession, citizen_id: int, visit_id: int | None) -> Visit | None:
    """A visit only if it is this citizen's: never another person's."""
    if visit_id is None:
        return None
    return await rows.owned(session, citizen_id, visit_id)


def remind_options(start: datetime, now: datetime) -> list[str]:
    """Reminder choices whose moment is still ahead (R-6.3)."""
    return [k for k, before in REMIND_BEFORE.items() if start - before > now] + [NO_REMINDER]


async def duplicate_channels(session: AsyncSession, citizen: Citizen, here: str) -> list[str]:
    """Other channels that can reach the citizen, for a duplicate reminder (R-6.4)."""
    if not OFFER_DUPLICATE:
        return []
    found = []
    for channel in duplicate_candidates():
        if channel != here and await outbox.channel_target(session, citizen, channel):
            found.append(channel)
    return found


async def visit_targets(session: AsyncSession, citizen: Citizen, visit: Visit) -> list[outbox.Target]:
    targets: list[outbox.Target] = []
    for channel in (visit.channel, visit.extra_channel):
        target = await outbox.channel_target(session, citizen, channel) if channel else None
        if target and target not in targets:
            targets.append(target)
    if not targets:  # the channel became unreachable: the next one that works
        fallback = await outbox.fallback_target(session, citizen, exclude=[], final=False)
        targets += [fallback] if fallback else []
    return targets


# --- booking, cancelling, moving -------------------------------------------------------------

async def book(session: AsyncSession, citizen: Citizen, choice: Choice, *, now: datetime,
               profile: Profile, tz: tzinfo) -> Visit:
    """Book a free slot at `choice.start`. Raises BookingError(TAKEN) when every slot at that
    time is held: the unique index decides, so two sessions can never both win."""
    if choice.start < earliest(now, profile.limits):
        raise BookingError(BookingError.TOO_SOON)
    # One booking at a time per citizen (PostgreSQL), so the limit holds under double presses.
    await rows.lock_citizen(session, citizen.id)
    future = await future_visits(session, citizen.id, now)
    if len(future) >= profile.limits.visits_max_future:
        raise BookingError(BookingError.LIMIT)
    if any(v.starts_at == choice.start for v in future):  # two desks, one person
        raise BookingError(BookingError.SAME_TIME)
    for slot in await rows.free_slots_at(session, choice.start):
        visit = Visit(citizen_id=citizen.id, slot_id=slot.id, topic=choice.topic, status=BOOKED,
                      starts_at=slot.starts_at, ends_at=slot.ends_at, channel=choice.channel,
                      extra_channel=choice.extra_channel, remind=choice.remind, revision=0, booked_at=now)
        if not await rows.try_add(session, visit):  # another session took this slot a moment ago
            continue
        visit.reminder_notice = await _schedule_reminder(session, visit, citizen, now=now, profile=profile, tz=tz)
        await session.flush()
        return visit
    raise BookingError(BookingError.TAKEN)


async def cancel(session: AsyncSession, visit: Visit, *, now: datetime, reason: str = BY_CITIZEN) -> None:
    """Cancel a visit and withdraw its reminder in the same transaction."""
    if visit.reminder_notice:
        await outbox.cancel(session, notice=visit.reminder_notice)
    visit.status, visit.cancelled_at, visit.cancel_reason = CANCELLED, now, reason
    await session.flush()


async def reschedule(session: AsyncSession, visit: Visit, citizen: Citizen, start: datetime, *,
                     now: datetime, profile: Profile, tz: tzinfo) -> Visit:
    """Move a visit to a free slot at `start`; the old reminder is withdrawn, a new one queued."""
    if visit.status != BOOKED or visit.starts_at <= now:
        raise BookingError(BookingError.GONE)
    if start < earliest(now, profile.limits):
        raise BookingError(BookingError.TOO_SOON)
    if start == visit.starts_at:
        return visit
    for slot in await rows.free_slots_at(session, start):
        if not await rows.try_move(session, visit, slot):
            continue
        if visit.reminder_notice:
            await outbox.cancel(session, notice=visit.reminder_notice)
        if visit.remind not in remind_options(visit.starts_at, now):  # «за день» is already past
            visit.remind = "2h" if "2h" in remind_options(visit.starts_at, now) else NO_REMINDER
        visit.reminder_notice = await _schedule_reminder(session, visit, citizen, now=now, profile=profile, tz=tz)
        await session.flush()
        return visit
    raise BookingError(BookingError.TAKEN)


async def _schedule_reminder(session: AsyncSession, visit: Visit, citizen: Citizen, *, now: datetime,
                             profile: Profile, tz: tzinfo) -> str | None:
    """R-6.3: an outbox notice due at the reminder moment that expires when the visit begins,
    so a reminder missed while the bot was down still goes if the visit has not started."""
    before = REMIND_BEFORE.get(visit.remind)
    if before is None or visit.starts_at - before <= now:
        return None
    targets = await visit_targets(session, citizen, visit)
    if not targets:
        return None
    params = {"visit_id": visit.id, "date": f"{visit.starts_at.astimezone(tz):%d.%m.%Y}",
              "when": when_text(visit.starts_at, tz), "topic": topic_title(profile, visit.topic),
              "address": office_facts(profile)["address"]}
    return notices.add(session, notices.Renderer(profile), REMINDER_KIND, targets=targets, params=params,
                       citizen_id=citizen.id, not_before=visit.starts_at - before, expires_at=visit.starts_at)


# --- staff -----------------------------------------------------------------------------------

async def day_visits(session: AsyncSession, day: date, tz: tzinfo) -> list[Visit]:
    """A day's visits that are not cancelled, by time, with their slot (desk) loaded."""
    lo, hi = day_bounds(day, tz)
    return await rows.between(session, lo, hi)


async def today_and_tomorrow(session: AsyncSession, tz: tzinfo, now: datetime) -> tuple[list[Visit], list[Visit]]:
    today = now.astimezone(tz).date()
    return await day_visits(session, today, tz), await day_visits(session, today + timedelta(days=1), tz)


async def mark(session: AsyncSession, visit_id: int, status: str, *, now: datetime,
               staff_id: int | None = None) -> Visit:
    """Staff mark a visit attended or no-show. ValueError says why it cannot be marked."""
    if status not in (ATTENDED, NO_SHOW):
        raise ValueError(f"status must be {ATTENDED} or {NO_SHOW}")
    visit = await session.get(Visit, visit_id, with_for_update=True)
    if visit is None or visit.status == CANCELLED:
        raise ValueError("no such visit, or it was cancelled")
    if now < visit.starts_at - MARK_EARLY:
        raise ValueError("the visit has not begun")
    if staff_id is not None and await session.get(Staff, staff_id) is None:
        raise ValueError("no such staff member")
    visit.status, visit.marked_by, visit.marked_at = status, staff_id, now
    await session.flush()
    return visit


# --- ratings (R-6.8) -------------------------------------------------------------------------

async def ask_ratings(sessionmaker, now: datetime, *, profile: Profile, tz: tzinfo, batch: int = 500) -> int:
    """Queue the after-visit rating request for visits that ended and were not asked yet.

    Idempotent and safe with several processes: a visit is claimed by a conditional UPDATE of
    `rating_notice` in the same transaction as its outbox row. Returns how many were queued.
    """
    queued, renderer = 0, notices.Renderer(profile)
    async with sessionmaker() as session, session.begin():
        for visit in await rows.ended_unasked(session, now - RATING_DELAY, now - RATING_WINDOW, batch):
            notice = uuid.uuid4().hex
            if not await rows.claim_rating(session, visit.id, notice):
                continue  # another process asked first
            citizen = await session.get(Citizen, visit.citizen_id)
            targets = await visit_targets(session, citizen, visit)
            if not targets:
                continue
            params = {"visit_id": visit.id, "when": when_text(visit.starts_at, tz), "survey_url": profile.survey_url}
            notices.add(session, renderer, RATING_KIND, targets=targets, params=params, citizen_id=citizen.id,
                        notice=notice, not_before=now, expires_at=now + RATING_EXPIRES)
            queued += 1
    return queued


def rating_job(app) -> Callable[[], Awaitable[int]]:
    """`ask_ratings` bound to an App, for `bot.scheduler.make_scheduler`."""
    deps = app.engine.deps

    async def job() -> int:
        return await ask_ratings(app.sessionmaker, deps.clock(), profile=app.profile, tz=deps.calendar.tz)
    job.__name__ = "ask_visit_ratings"
    return job


SAVED, ALREADY, UNKNOWN, EARLY = "saved", "already", "unknown", "early"


async def rate(session: AsyncSession, citizen_id: int, visit_id: int, score: int, *, now: datetime) -> str:
    """Store a rating of the citizen's own visit that has ended; the first rating stands."""
    if score not in RATING_SCORES:
        return UNKNOWN
    if await rows.save_rating(session, citizen_id, visit_id, score, now):
        return SAVED
    visit = await owned(session, citizen_id, visit_id)
    if visit is None or visit.status not in (BOOKED, ATTENDED):
        return UNKNOWN
    return ALREADY if visit.rating is not None else EARLY
