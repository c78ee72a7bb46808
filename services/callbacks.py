"""Callback requests (R-5.9): time windows from the working hours of the next working days, the
date we call by, the staff queue (take, done with a note, not reached), overdue counts."""
from __future__ import annotations

from datetime import datetime

from services import citizens
from services.calendar import WorkCalendar
from services.consult import ask_two_questions
from services.profile import Profile
from storage.consult_models import CallbackRequest, Consultation, ConsultationStaff
from storage.models import Staff
from storage.repos import consult as rows

CONSENT = "callback_phone"  # the consent kind for the phone number (152-FZ)


def windows(calendar: WorkCalendar, now: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """The open intervals of the next `days` working days after today, in local time."""
    d = now.astimezone(calendar.tz).date()
    out: list[tuple[datetime, datetime]] = []
    for _ in range(days):
        d = calendar.add_working_days(d, 1)
        out += calendar.intervals(d)
    return out


def due_by(calendar: WorkCalendar, now: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after today: the promise «we will call you by …»."""
    d = calendar.add_working_days(now.astimezone(calendar.tz).date(), days)
    return calendar.intervals(d)[-1][1]


async def create(session, *, citizen_id: int, channel: str, phone: str, chosen: list[list[str]],
                 due: datetime, now: datetime) -> CallbackRequest:
    """The request, with the consent to keep the phone for it (given in this channel)."""
    if await citizens.active_consent(session, citizen_id, CONSENT) is None:
        await citizens.grant(session, citizen_id, CONSENT, channel, now)
    req = CallbackRequest(citizen_id=citizen_id, channel=channel, phone=phone, windows=chosen, due_by=due,
                          status="new", created_at=now)
    session.add(req)
    await session.flush()
    return req


async def queue(session) -> list[CallbackRequest]:
    return await rows.callbacks(session)


async def counts(session, now: datetime) -> tuple[int, int]:
    return await rows.callback_counts(session, now)


async def get(session, request_id: int) -> CallbackRequest | None:
    return await session.get(CallbackRequest, request_id)


async def take(session, req: CallbackRequest, staff: Staff) -> bool:
    if req.status not in rows.OPEN_CALLBACKS:
        return False
    req.status, req.staff_id = "taken", staff.id
    return True


async def not_reached(session, req: CallbackRequest, staff: Staff, *, note: str | None = None) -> bool:
    """Nobody answered: it stays in the queue for another try."""
    if req.status not in rows.OPEN_CALLBACKS:
        return False
    req.status, req.staff_id, req.attempts = "not_reached", staff.id, req.attempts + 1
    if note:
        req.note = note
    return True


async def done(session, profile: Profile, req: CallbackRequest, staff: Staff, *, note: str,
               now: datetime) -> Consultation | None:
    """The call took place: a consultation (kind callback), and the two questions to the citizen."""
    if req.status not in rows.OPEN_CALLBACKS:
        return None
    req.status, req.staff_id, req.note, req.done_at = "done", staff.id, note, now
    req.attempts += 1
    c = Consultation(citizen_id=req.citizen_id, channel=req.channel, kind="callback", topic=req.topic,
                     status="ended", staff_id=staff.id, started_at=req.created_at, ended_at=now,
                     last_activity_at=now)
    session.add(c)
    await session.flush()
    session.add(ConsultationStaff(consultation_id=c.id, staff_id=staff.id, joined_at=now, note=note))
    req.consultation_id = c.id
    await ask_two_questions(session, profile, c, now=now)
    return c
