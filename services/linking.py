"""One person, several channels (R-2.1): a one-time code shown in one channel and typed in another
moves the second identity to the first citizen, with everything that citizen had."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from storage.db import Session as AsyncSession
from storage.models import Citizen, Identity, LinkCode
from storage.repos import people as rows

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


OWN = "own"  # redeem's answer to a person typing their own code


async def redeem(session: AsyncSession, identity: Identity, code: str, now: datetime) -> Citizen | None:
    """Attach `identity` (and its citizen's records) to the code's citizen; None if the code is bad."""
    row = await rows.link_code(session, normalise(code))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    if row.citizen_id == identity.citizen_id:  # one's own code: nothing to link, the code stays valid
        return OWN
    row.used_at = now
    target_id, source_id = row.citizen_id, identity.citizen_id
    if target_id != source_id:
        await merge(session, source_id, target_id)
    await session.flush()
    target = await session.get(Citizen, target_id)
    identity.citizen = target
    return target


async def merge(session: AsyncSession, source_id: int, target_id: int) -> None:
    await rows.merge(session, source_id, target_id)


async def linked_channels(session: AsyncSession, citizen_id: int) -> list[str]:
    return sorted({i.channel for i in await rows.identities(session, citizen_id)})
