"""The durable outbox: notices are rows written in the same transaction as their cause,
routed to the channels the citizen chose (R-2.1, R-2.2, R-3.5, R-3.8)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import Button
from storage.models import Citizen, Identity, OutboxMessage, utcnow

PENDING, SENT, DEAD, TASK, CANCELLED, DROPPED = "pending", "sent", "dead", "task", "cancelled", "dropped"
MESSENGER_CHANNELS = ("telegram", "vk", "console")
FINAL_KIND = "final"  # answers, refusals, redirects: a postal letter is a fallback for these
Target = tuple[str, str]  # (channel, address)


async def reachable_identity(session: AsyncSession, citizen_id: int, channel: str) -> Identity | None:
    stmt = select(Identity).where(Identity.citizen_id == citizen_id, Identity.channel == channel,
                                  Identity.reachable.is_(True)).order_by(Identity.id.desc())
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def channel_target(session: AsyncSession, citizen: Citizen, channel: str | None) -> Target | None:
    if channel in MESSENGER_CHANNELS:
        identity = await reachable_identity(session, citizen.id, channel)
        return (channel, identity.external_id) if identity else None
    if channel == "email" and citizen.email:
        return ("email", citizen.email)
    return None


async def route(session: AsyncSession, citizen: Citizen, *, mandatory: Target | None,
                final: bool) -> list[Target]:
    """The mandatory channel (e-mail; post only for final letters) plus the citizen's chosen one.
    A chosen messenger that is unreachable falls back to the next reachable channel."""
    targets: list[Target] = []
    if mandatory and (mandatory[0] != "post" or final):
        targets.append(mandatory)
    chosen = await channel_target(session, citizen, citizen.notify_channel)
    if chosen is None and citizen.notify_channel:
        chosen = await fallback_target(session, citizen, exclude=targets, final=final)
    if chosen and chosen not in targets:
        targets.append(chosen)
    return targets


async def fallback_target(session: AsyncSession, citizen: Citizen, *, exclude: list[Target],
                          final: bool) -> Target | None:
    """The next reachable channel: another messenger, then e-mail, then (final only) a letter."""
    candidates = [await channel_target(session, citizen, c) for c in (*MESSENGER_CHANNELS, "email")]
    if final and citizen.postal_address:
        candidates.append(("post", citizen.postal_address))
    return next((c for c in candidates if c and c not in exclude), None)


async def enqueue(session: AsyncSession, *, citizen_id: int | None, kind: str, targets: list[Target],
                  text: str, subject: str | None = None, buttons: list[list[Button]] | None = None,
                  appeal_id: int | None = None, not_before: datetime | None = None,
                  expires_at: datetime | None = None, notice: str | None = None) -> str:
    """One notice, one row per channel. Postal letters become tasks for staff."""
    notice = notice or uuid.uuid4().hex
    rows = [[{"label": b.label, "payload": b.payload} for b in row] for row in (buttons or [])]
    for channel, address in targets:
        session.add(OutboxMessage(
            citizen_id=citizen_id, appeal_id=appeal_id, notice=notice, kind=kind, channel=channel,
            address=address, subject=subject, text=text, buttons=rows if channel != "post" else [],
            status=TASK if channel == "post" else PENDING, not_before=not_before or utcnow(),
            expires_at=expires_at,
        ))
    await session.flush()
    return notice


async def cancel(session: AsyncSession, *, notice: str) -> None:
    """Withdraw the not yet sent rows of a notice (a cancelled visit's reminder)."""
    await session.execute(update(OutboxMessage).where(OutboxMessage.notice == notice,
                                                      OutboxMessage.status == PENDING)
                          .values(status=CANCELLED))


def buttons_of(row: OutboxMessage) -> list[list[Button]]:
    return [[Button(b["label"], b["payload"]) for b in r] for r in row.buttons or []]
