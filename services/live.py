"""Live conversations with a specialist (R-5.3, R-5.7, R-5.8): staff on the line, the queue,
taking, transfers (at most two), ending, and the idle timeout."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import texts as T
from core.events import Address, Reply
from services import notices, outbox
from services.consult import ask_two_questions
from services.profile import Profile
from storage.consult_models import Consultation, ConsultationStaff, StaffPresence
from storage.models import Citizen, Staff
from storage.repos import consult as rows

log = logging.getLogger(__name__)


class TooManyTransfers(Exception):
    """R-5.8: the conversation was transferred as many times as allowed."""

    def __init__(self, done: int) -> None:
        super().__init__(f"already transferred {done} times")
        self.done = done


async def set_line(session, staff: Staff, *, channel: str, user_id: str, available: bool, now: datetime) -> None:
    """A staff member goes on the line (gets new conversations, here) or leaves it."""
    row = await rows.presence(session, staff.id)
    if row is None:
        row = StaffPresence(staff_id=staff.id, channel=channel, user_id=user_id)
        session.add(row)
    row.available, row.channel, row.user_id, row.changed_at = available, channel, user_id, now
    await session.flush()


async def on_line(session, staff_id: int) -> bool:
    row = await rows.presence(session, staff_id)
    return bool(row and row.available)


async def staff_address(session, staff_id: int) -> Address | None:
    """Where a staff member gets conversations: where they went on the line, else their first identity."""
    row = await rows.presence(session, staff_id)
    if row is not None:
        return Address(row.channel, row.user_id)
    staff = await session.get(Staff, staff_id)
    ident = staff.identities[0] if staff and staff.identities else None
    return Address(ident.channel, ident.user_id) if ident else None


async def citizen_address(session, c: Consultation) -> Address | None:
    citizen = await session.get(Citizen, c.citizen_id) if c.citizen_id else None
    target = await outbox.channel_target(session, citizen, c.channel) if citizen else None
    return Address(*target) if target else None


async def open_for(session, citizen_id: int) -> Consultation | None:
    return await rows.open_live(session, citizen_id)


async def request(session, citizen_id: int, channel: str, *, now: datetime) -> tuple[Consultation, list[Address]]:
    """A new conversation in the queue, and the staff on the line to tell. The caller checks the
    working hours and that someone is on the line."""
    c = await rows.open_live(session, citizen_id)
    if c is None:
        c = Consultation(citizen_id=citizen_id, channel=channel, kind="live", status="waiting", started_at=now,
                         last_activity_at=now)
        session.add(c)
        await session.flush()
    return c, [Address(p.channel, p.user_id) for p in await rows.available_staff(session)]


async def anyone_on_line(session) -> bool:
    return bool(await rows.available_staff(session))


async def position(session, c: Consultation) -> int:
    return await rows.position(session, c)


async def count_waiting(session) -> int:
    return await rows.count_waiting(session)


async def waiting(session) -> list[Consultation]:
    return await rows.waiting(session)


async def mine(session, staff_id: int) -> list[Consultation]:
    return await rows.active_of_staff(session, staff_id)


async def get(session, consultation_id: int) -> Consultation | None:
    return await session.get(Consultation, consultation_id)


async def take(session, consultation_id: int, staff: Staff, *, now: datetime) -> Consultation | None:
    """The staff member takes a waiting conversation; None if a colleague was quicker."""
    c = await session.get(Consultation, consultation_id, with_for_update=True)
    if c is None or c.kind != "live" or c.status != "waiting":
        return None
    c.status, c.staff_id, c.last_activity_at = "active", staff.id, now
    session.add(ConsultationStaff(consultation_id=c.id, staff_id=staff.id, joined_at=now))
    await session.flush()
    return c


def touch(c: Consultation, now: datetime) -> None:
    c.last_activity_at = now


async def transfer(session, c: Consultation, to_staff: Staff, *, note: str | None, now: datetime,
                   max_transfers: int) -> None:
    if c.transfers >= max_transfers:
        raise TooManyTransfers(c.transfers)
    c.transfers += 1
    c.staff_id, c.last_activity_at = to_staff.id, now
    session.add(ConsultationStaff(consultation_id=c.id, staff_id=to_staff.id, joined_at=now, note=note))
    await session.flush()


async def end(session, c: Consultation, *, now: datetime) -> bool:
    """False if it had already ended."""
    if c.status == "ended":
        return False
    c.status, c.ended_at = "ended", now
    await session.flush()
    return True


async def colleagues(session, staff: Staff) -> list[tuple[Staff, bool]]:
    """Active colleagues, with whether each is on the line."""
    from storage.repos import staff as staff_rows

    return [(s, await on_line(session, s.id)) for s in await staff_rows.colleagues(session, staff)]


async def end_idle(sessionmaker, profile: Profile, *, now: datetime, files=None) -> int:
    """End conversations with no messages for the profile's idle time, telling both sides and
    asking the citizen the two questions (R-5.12). The periodic job calls it."""
    minutes = profile.consult.idle_minutes
    ended = 0
    async with sessionmaker() as session, session.begin():
        for c in await rows.idle(session, now - timedelta(minutes=minutes)):
            await end(session, c, now=now)
            text = T.LIVE_ENDED_IDLE.format(id=c.id, minutes=minutes)
            for to in (await citizen_address(session, c), await staff_address(session, c.staff_id)):
                if to is not None:
                    await notices.relay(session, Reply(text, to=to), now=now, files=files)
            await ask_two_questions(session, profile, c, now=now)
            ended += 1
    if ended:
        log.info("ended %s idle conversations", ended)
    return ended
