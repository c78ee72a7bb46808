"""Helpers for the consultation-line tests: staff in any channel, a recorder that keeps whole
replies (with files), and an outbox drain."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from core.events import Reply
from services.sender import OutboxSender
from storage.consult_models import CallbackRequest, Consultation, ConsultationStaff
from storage.models import Staff, StaffIdentity


@dataclass
class Inbox:
    """A deliverer that keeps every reply, by address, in the order delivered."""

    channel: str
    sent: list[tuple[str, Reply]] = field(default_factory=list)

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        self.sent.append((external_id, reply))

    def replies(self, address: str) -> list[Reply]:
        return [r for a, r in self.sent if a == address]

    def texts(self, address: str) -> list[str]:
        return [r.text for r in self.replies(address)]


async def add_member(app, name: str, channel: str, user_id: str, role: str = "operator") -> Staff:
    async with app.sessionmaker() as s, s.begin():
        member = Staff(name=name, role=role, identities=[StaffIdentity(channel=channel, user_id=user_id)])
        s.add(member)
    return member


class Post:
    """Delivers the outbox to in-memory inboxes for every messenger and e-mail."""

    def __init__(self, app, files=True) -> None:
        self.boxes = {c: Inbox(c) for c in ("telegram", "vk", "email")}
        self.sender = OutboxSender(app.sessionmaker, self.boxes, limits={}, clock=app.engine.deps.clock,
                                   files=app.engine.deps.files if files else None)

    async def drain(self) -> Post:
        await self.sender.drain()
        return self

    def __getitem__(self, channel: str) -> Inbox:
        return self.boxes[channel]


async def consultations(app) -> list[Consultation]:
    async with app.sessionmaker() as s:
        return list((await s.execute(select(Consultation).order_by(Consultation.id))).scalars())


async def participants(app, consultation_id: int) -> list[int]:
    async with app.sessionmaker() as s:
        rows = await s.execute(select(ConsultationStaff.staff_id).where(
            ConsultationStaff.consultation_id == consultation_id).order_by(ConsultationStaff.id))
        return list(rows.scalars())


async def callback_requests(app) -> list[CallbackRequest]:
    async with app.sessionmaker() as s:
        return list((await s.execute(select(CallbackRequest).order_by(CallbackRequest.id))).scalars())
