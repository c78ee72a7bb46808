"""An in-memory deliverer with scripted failures, and helpers to move appeals through staff actions."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import select

from services import lifecycle
from core.ports import RetryLater, Unreachable
from core.events import Reply
from storage.models import Appeal, OutboxMessage, Staff, StaffIdentity


@dataclass
class Recorder:
    channel: str
    sent: list[tuple[str, str, int]] = field(default_factory=list)  # (address, text, key)
    fail: list[Exception] = field(default_factory=list)  # raised one per call, in order
    blocked: set[str] = field(default_factory=set)
    delay: float = 0.0

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if external_id in self.blocked:
            raise Unreachable("blocked by the user")
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((external_id, reply.text, key))

    def texts(self, address: str | None = None) -> list[str]:
        return [t for a, t, _ in self.sent if address is None or a == address]


def recorders(*channels: str) -> dict[str, Recorder]:
    return {c: Recorder(c) for c in channels}


async def add_staff(app, name="Петрова А. А.", role="operator", telegram_id="9001") -> Staff:
    async with app.sessionmaker() as s, s.begin():
        member = Staff(name=name, role=role, identities=[StaffIdentity(channel="telegram", user_id=telegram_id)])
        s.add(member)
    return member


async def act(app, action: str, staff: Staff | None, appeal_id: int = 1, **kw) -> None:
    cal = app.engine.deps.calendar
    async with app.sessionmaker() as s, s.begin():
        appeal = await lifecycle.load(s, appeal_id)
        staff_row = await s.get(Staff, staff.id) if staff else None
        if "to_staff" in kw and kw["to_staff"] is not None:
            kw["to_staff"] = await s.get(Staff, kw["to_staff"].id)
        await lifecycle.act(s, appeal, action, profile=app.profile, now=app.engine.deps.clock(),
                            staff=staff_row, deadline_for=cal.deadline, **kw)


async def outbox_rows(app) -> list[OutboxMessage]:
    async with app.sessionmaker() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def appeal(app, appeal_id: int = 1) -> Appeal:
    async with app.sessionmaker() as s:
        return await s.get(Appeal, appeal_id)


RETRY = RetryLater
