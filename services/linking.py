"""One person, several channels (R-2.1): a one-time code shown in one channel and typed in another
moves the second identity to the first citizen, with everything that citizen had."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Citizen, Identity, LinkCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=15)
# 32**8 ≈ 10**12 codes alive for 15 minutes: guessing one through a messenger is hopeless.


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


async def issue(session: AsyncSession, citizen_id: int, now: datetime) -> LinkCode:
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    row = LinkCode(code=code, citizen_id=citizen_id, expires_at=now + CODE_TTL)
    session.add(row)
    await session.flush()
    return row


async def redeem(session: AsyncSession, identity: Identity, code: str, now: datetime) -> Citizen | None:
    """Attach `identity` (and its citizen's records) to the code's citizen; None if the code is bad."""
    row = await session.get(LinkCode, normalise(code), with_for_update=True)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    target_id, source_id = row.citizen_id, identity.citizen_id
    if target_id != source_id:
        await merge(session, source_id, target_id)
    await session.flush()
    target = await session.get(Citizen, target_id)
    identity.citizen = target
    return target


async def merge(session: AsyncSession, source_id: int, target_id: int) -> None:
    """Move every record of citizen `source_id` to `target_id`; keep target's own details first."""
    source, target = await session.get(Citizen, source_id), await session.get(Citizen, target_id)
    for table in Base.metadata.sorted_tables:  # every table that refers to a citizen
        if "citizen_id" in table.c:
            await session.execute(update(table).where(table.c.citizen_id == source_id).values(citizen_id=target_id))
    for field in ("full_name", "email", "phone", "postal_address", "notify_channel"):
        if getattr(target, field) is None:
            setattr(target, field, getattr(source, field))
    await session.execute(delete(Citizen).where(Citizen.id == source_id))


async def linked_channels(session: AsyncSession, citizen_id: int) -> list[str]:
    rows = await session.execute(select(Identity.channel).where(Identity.citizen_id == citizen_id))
    return sorted({r[0] for r in rows})
