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
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Awaitable, Callable

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from services.profile import Profile, filled, Limits
from services import outbox
import texts as T
from core.events import Button
from storage.models import Citizen, Staff, Visit, VisitSlot
from storage.upsert import insert_ignore

OPEN, CLOSED = "open", "closed"
BOOKED, ATTENDED, NO_SHOW, CANCELLED = "booked", "attended", "no_show", "cancelled"
BY_CITIZEN, BY_OFFICE = "citizen", "office"
REMINDER_KIND, RATING_KIND, CLOSED_KIND = "visit_reminder", "visit_rating", "visit_cancelled"

# Booking limits come from the profile (limits.visits_max_future, visit_min_lead_hours,
# visit_booking_days); these are its defaults, for callers without a profile.
DEFAULT_LIMITS = Limits()

REMIND_BEFORE = {"day": timedelta(days=1), "2h": timedelta(hours=2)}
NO_REMINDER = "none"

# "where a reminder is mandatory by law, offer to duplicate it on another channel".
# No law makes a reminder of this reception mandatory, so the rule itself never forces the
# offer; we make it whenever the citizen has a second reachable channel, which satisfies
# in every case. False turns the offer off.
OFFER_DUPLICATE = True
DUPLICATE_CHANNELS = ("telegram", "vk", "email")

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


# --- dates and words -------------------------------------------------------------------------

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


def channels_text(channels: list[str]) -> str:
    return " и ".join(T.VISIT_CHANNEL_NAMES.get(c, c) for c in channels)


def remind_text(visit: Visit) -> str:
    title = T.VISIT_REMIND_TITLES.get(visit.remind, visit.remind)
    if visit.remind == NO_REMINDER:
        return title
    channels = [c for c in (visit.channel, visit.extra_channel) if c]
    return T.VISIT_REMIND_WHERE.format(when=title, channels=channels_text(channels))


def details_text(visit: Visit, profile: Profile, tz: tzinfo) -> str:
    return T.VISIT_DETAILS.format(when=when_text(visit.starts_at, tz), topic=topic_title(profile, visit.topic),
                                  remind=remind_text(visit), **office_facts(profile))


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
        rows = await session.execute(select(VisitSlot.starts_at, VisitSlot.ends_at)
                                     .where(VisitSlot.desk == desk, VisitSlot.starts_at >= lo,
                                            VisitSlot.starts_at < hi))
        taken = list(rows.all())
        for start in calendar.working_slots(day, length):
            end = start + length
            if start <= now:
                continue
            if any(s < end and start < e for s, e in taken):
                result.existing += 1
                continue
            added = await insert_ignore(session, VisitSlot, desk=desk, staff_id=staff_id, status=OPEN,
                                        starts_at=start.astimezone(timezone.utc),
                                        ends_at=end.astimezone(timezone.utc), created_at=now)
            result.slots += added
            result.existing += not added
        day += timedelta(days=1)
    return result


async def list_slots(session: AsyncSession, *, start: datetime, end: datetime,
                     desk: str | None = None) -> list[tuple[VisitSlot, Visit | None]]:
    stmt = (select(VisitSlot, Visit)
            .outerjoin(Visit, (Visit.slot_id == VisitSlot.id) & (Visit.status != CANCELLED))
            .where(VisitSlot.starts_at >= start, VisitSlot.starts_at < end)
            .order_by(VisitSlot.starts_at, VisitSlot.desk))
    if desk:
        stmt = stmt.where(VisitSlot.desk == desk)
    return [(slot, visit) for slot, visit in (await session.execute(stmt)).all()]


async def close_day(session: AsyncSession, *, day: date, profile: Profile, tz: tzinfo, now: datetime,
                    desk: str | None = None) -> tuple[int, int]:
    """Close a day's slots. Visits booked on it that have not begun are cancelled, and each
    citizen gets a notice through the outbox, so nobody comes to a closed office.
    Returns (slots closed, visits cancelled)."""
    lo, hi = day_bounds(day, tz)
    stmt = select(VisitSlot).where(VisitSlot.starts_at >= lo, VisitSlot.starts_at < hi, VisitSlot.status == OPEN)
    if desk:
        stmt = stmt.where(VisitSlot.desk == desk)
    slots = (await session.scalars(stmt.order_by(VisitSlot.id).with_for_update())).all()
    for slot in slots:
        slot.status = CLOSED
    ids = [s.id for s in slots]
    visits = (await session.scalars(
        select(Visit).where(Visit.slot_id.in_(ids), Visit.status == BOOKED, Visit.starts_at > now)
        .order_by(Visit.id).with_for_update())).all() if ids else []
    for visit in visits:
        await cancel(session, visit, now=now, reason=BY_OFFICE)
        citizen = await session.get(Citizen, visit.citizen_id)
        targets = await visit_targets(session, citizen, visit)
        local = visit.starts_at.astimezone(tz)
        await outbox.enqueue(
            session, citizen_id=citizen.id, kind=CLOSED_KIND, targets=targets,
            subject=T.VISIT_OFFICE_CLOSED_SUBJECT.format(date=f"{local:%d.%m.%Y}"),
            text=T.VISIT_OFFICE_CLOSED.format(when=when_text(visit.starts_at, tz), phone=profile.agency.phone),
            buttons=[[Button(T.MENU_VISIT, "vmine:new")]], not_before=now)
    await session.flush()
    return len(slots), len(visits)


# --- what a citizen can book -----------------------------------------------------------------

def earliest(now: datetime, limits: Limits = DEFAULT_LIMITS) -> datetime:
    return now + timedelta(hours=limits.visit_min_lead_hours)


def _free(stmt):
    held = exists().where(Visit.slot_id == VisitSlot.id, Visit.status != CANCELLED)
    return stmt.where(VisitSlot.status == OPEN, ~held)


async def free_days(session: AsyncSession, tz: tzinfo, now: datetime,
                    limits: Limits = DEFAULT_LIMITS) -> list[date]:
    """Local days within the horizon that still have a free slot (R-6.1)."""
    today = now.astimezone(tz).date()
    last, _ = day_bounds(today + timedelta(days=limits.visit_booking_days + 1), tz)
    stmt = _free(select(VisitSlot.starts_at).where(VisitSlot.starts_at >= earliest(now, limits),
                                                   VisitSlot.starts_at < last)).distinct()
    return sorted({s.astimezone(tz).date() for s in (await session.scalars(stmt)).all()})


async def free_times(session: AsyncSession, tz: tzinfo, day: date, now: datetime,
                     limits: Limits = DEFAULT_LIMITS) -> list[datetime]:
    """Free start times of one local day, each once however many desks are free then (R-6.2)."""
    lo, hi = day_bounds(day, tz)
    stmt = _free(select(VisitSlot.starts_at).where(VisitSlot.starts_at >= max(lo, earliest(now, limits)),
                                                   VisitSlot.starts_at < hi)).distinct()
    return sorted(set((await session.scalars(stmt)).all()))


async def future_visits(session: AsyncSession, citizen_id: int, now: datetime) -> list[Visit]:
    stmt = (select(Visit).where(Visit.citizen_id == citizen_id, Visit.status == BOOKED, Visit.starts_at > now)
            .order_by(Visit.starts_at))
    return list((await session.scalars(stmt)).all())


async def owned(session: AsyncSession, citizen_id: int, visit_id: int | None) -> Visit | None:
    """A visit only if it is this citizen's: never another person's."""
    if visit_id is None:
        return None
    return await session.scalar(select(Visit).where(Visit.id == visit_id, Visit.citizen_id == citizen_id))


def remind_options(start: datetime, now: datetime) -> list[str]:
    """Reminder choices whose moment is still ahead (R-6.3)."""
    return [k for k, before in REMIND_BEFORE.items() if start - before > now] + [NO_REMINDER]


async def duplicate_channels(session: AsyncSession, citizen: Citizen, here: str) -> list[str]:
    """Other channels that can reach the citizen, for a duplicate reminder (R-6.4)."""
    if not OFFER_DUPLICATE:
        return []
    found = []
    for channel in DUPLICATE_CHANNELS:
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

async def _candidates(session: AsyncSession, start: datetime) -> list[VisitSlot]:
    """Free open slots starting at `start`, locked on PostgreSQL so closing a day waits for us."""
    stmt = _free(select(VisitSlot).where(VisitSlot.starts_at == start)).order_by(VisitSlot.id).with_for_update()
    return list((await session.scalars(stmt)).all())


async def book(session: AsyncSession, citizen: Citizen, choice: Choice, *, now: datetime,
               profile: Profile, tz: tzinfo) -> Visit:
    """Book a free slot at `choice.start`. Raises BookingError(TAKEN) when every slot at that
    time is held: the unique index decides, so two sessions can never both win."""
    if choice.start < earliest(now, profile.limits):
        raise BookingError(BookingError.TOO_SOON)
    # One booking at a time per citizen (PostgreSQL), so the limit holds under double presses.
    await session.execute(select(Citizen.id).where(Citizen.id == citizen.id).with_for_update())
    future = await future_visits(session, citizen.id, now)
    if len(future) >= profile.limits.visits_max_future:
        raise BookingError(BookingError.LIMIT)
    if any(v.starts_at == choice.start for v in future):  # two desks, one person
        raise BookingError(BookingError.SAME_TIME)
    for slot in await _candidates(session, choice.start):
        visit = Visit(citizen_id=citizen.id, slot_id=slot.id, topic=choice.topic, status=BOOKED,
                      starts_at=slot.starts_at, ends_at=slot.ends_at, channel=choice.channel,
                      extra_channel=choice.extra_channel, remind=choice.remind, revision=0, booked_at=now)
        try:
            async with session.begin_nested():
                session.add(visit)
        except IntegrityError:  # another session took this slot a moment ago
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
    for slot in await _candidates(session, start):
        try:
            async with session.begin_nested():
                await session.execute(
                    update(Visit).where(Visit.id == visit.id)
                    .values(slot_id=slot.id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                            revision=Visit.revision + 1)
                    .execution_options(synchronize_session=False))
        except IntegrityError:
            continue
        await session.refresh(visit)
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
    local = visit.starts_at.astimezone(tz)
    return await outbox.enqueue(
        session, citizen_id=citizen.id, kind=REMINDER_KIND, targets=targets,
        subject=T.VISIT_REMINDER_SUBJECT.format(date=f"{local:%d.%m.%Y}"),
        text=T.VISIT_REMINDER.format(when=when_text(visit.starts_at, tz), topic=topic_title(profile, visit.topic),
                                     address=office_facts(profile)["address"]),
        buttons=[[Button(T.MENU_VISITS, "vmine:open")]],
        not_before=visit.starts_at - before, expires_at=visit.starts_at)


# --- staff -----------------------------------------------------------------------------------

async def day_visits(session: AsyncSession, day: date, tz: tzinfo) -> list[Visit]:
    """A day's visits that are not cancelled, by time, with their slot (desk) loaded."""
    lo, hi = day_bounds(day, tz)
    stmt = (select(Visit).options(selectinload(Visit.slot))
            .where(Visit.starts_at >= lo, Visit.starts_at < hi, Visit.status != CANCELLED)
            .order_by(Visit.starts_at, Visit.id))
    return list((await session.scalars(stmt)).all())


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

async def ask_ratings(sessionmaker: async_sessionmaker, now: datetime, *, tz: tzinfo | None = None,
                      survey_url: str = "", batch: int = 500) -> int:
    """Queue the after-visit rating request for visits that ended and were not asked yet.

    Idempotent and safe with several processes: a visit is claimed by a conditional UPDATE of
    `rating_notice` in the same transaction as its outbox row. Returns how many were queued.
    """
    queued = 0
    async with sessionmaker() as session, session.begin():
        stmt = (select(Visit).where(Visit.status.in_((BOOKED, ATTENDED)), Visit.rating_notice.is_(None),
                                    Visit.ends_at <= now - RATING_DELAY, Visit.ends_at > now - RATING_WINDOW)
                .order_by(Visit.ends_at, Visit.id).limit(batch))
        for visit in (await session.scalars(stmt)).all():
            notice = uuid.uuid4().hex
            claimed = await session.execute(
                update(Visit).where(Visit.id == visit.id, Visit.rating_notice.is_(None))
                .values(rating_notice=notice).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                continue  # another process asked first
            citizen = await session.get(Citizen, visit.citizen_id)
            targets = await visit_targets(session, citizen, visit)
            if not targets:
                continue
            text = T.VISIT_RATE_ASK.format(when=when_text(visit.starts_at, tz)) if tz else T.VISIT_RATE_ASK_PLAIN
            if filled(survey_url):
                text += T.VISIT_RATE_SURVEY.format(url=survey_url)
            buttons = [[Button(T.VISIT_RATE_LABELS[s], f"vrate:{visit.id}:{s}")] for s in RATING_SCORES]
            await outbox.enqueue(session, citizen_id=citizen.id, kind=RATING_KIND, targets=targets,
                                 subject=T.VISIT_RATE_SUBJECT, text=text, buttons=buttons, notice=notice,
                                 not_before=now, expires_at=now + RATING_EXPIRES)
            queued += 1
    return queued


def rating_job(app) -> Callable[[], Awaitable[int]]:
    """`ask_ratings` bound to an App, for `bot.scheduler.make_scheduler`."""
    deps = app.engine.deps

    async def job() -> int:
        return await ask_ratings(app.sessionmaker, deps.clock(), tz=deps.calendar.tz,
                                 survey_url=app.profile.survey_url)
    job.__name__ = "ask_visit_ratings"
    return job


SAVED, ALREADY, UNKNOWN, EARLY = "saved", "already", "unknown", "early"


async def rate(session: AsyncSession, citizen_id: int, visit_id: int, score: int, *, now: datetime) -> str:
    """Store a rating of the citizen's own visit that has ended; the first rating stands."""
    if score not in RATING_SCORES:
        return UNKNOWN
    done = await session.execute(
        update(Visit).where(Visit.id == visit_id, Visit.citizen_id == citizen_id, Visit.rating.is_(None),
                            Visit.status.in_((BOOKED, ATTENDED)), Visit.ends_at <= now)
        .values(rating=score, rated_at=now).execution_options(synchronize_session=False))
    if done.rowcount == 1:
        return SAVED
    visit = await owned(session, citizen_id, visit_id)
    if visit is None or visit.status not in (BOOKED, ATTENDED):
        return UNKNOWN
    return ALREADY if visit.rating is not None else EARLY


# --- calendar file (R-6.5) -------------------------------------------------------------------
