"""One person, several channels (R-2.1): a one-time code shown in one channel and typed in another
moves the second identity to the first citizen, with everything that citizen had. The person
whose records would move sees what will be joined and confirms first (issue 10 item 7)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.db import Session as AsyncSession
from storage.models import Citizen, Identity, LinkCode
from storage.repos import people as rows

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=15)
# 32**8 ≈ 10**12 codes alive for 15 minutes, one per person, 5 wrong tries an hour: hopeless to guess.
FAILS_PER_HOUR = 5
FAIL_WINDOW = timedelta(hours=1)


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


async def issue(session: AsyncSession, citizen_id: int, now: datetime) -> LinkCode:
    """A fresh code; the citizen's earlier unused codes stop working (one live code per person)."""
    await rows.drop_live_codes(session, citizen_id)
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    row = LinkCode(code=code, citizen_id=citizen_id, expires_at=now + CODE_TTL)
    session.add(row)
    await session.flush()
    return row


OWN, BAD, LIMITED, OK = "own", "bad", "limited", "ok"


@dataclass
class Check:
    """What a typed code would do: `status` is OK (then the counts of what would move), OWN,
    BAD, or LIMITED (then `retry_at`, when a try is allowed again)."""

    status: str
    code: str = ""
    appeals: int = 0
    visits: int = 0
    here: list[str] = field(default_factory=list)  # the typing person's channels
    there: list[str] = field(default_factory=list)  # the code owner's channels
    retry_at: datetime | None = None


async def _live(session: AsyncSession, code: str, now: datetime) -> LinkCode | None:
    row = await rows.link_code(session, normalise(code)[:16])
    return row if row is not None and row.used_at is None and row.expires_at > now else None


async def check(session: AsyncSession, identity: Identity, code: str, now: datetime) -> Check:
    """Look a typed code up without linking anything. A code that does not fit counts against
    the person; after FAILS_PER_HOUR of them in an hour no code is looked up until the oldest
    of them is an hour old."""
    citizen_id = identity.citizen_id
    fails = await rows.failed_links(session, citizen_id, now - FAIL_WINDOW)
    if len(fails) >= FAILS_PER_HOUR:
        return Check(LIMITED, retry_at=fails[-FAILS_PER_HOUR] + FAIL_WINDOW)
    row = await _live(session, code, now)
    if row is None:
        await rows.add_failed_link(session, citizen_id, now)
        return Check(BAD)
    if row.citizen_id == citizen_id:  # one's own code: nothing to link, the code stays valid
        return Check(OWN)
    appeals, visits = await rows.record_counts(session, citizen_id)
    return Check(OK, code=row.code, appeals=appeals, visits=visits,
                 here=await linked_channels(session, citizen_id), there=await linked_channels(session, row.citizen_id))


async def redeem(session: AsyncSession, identity: Identity, code: str, now: datetime) -> Citizen | str | None:
    """Attach `identity` (and its citizen's records) to the code's citizen, once confirmed;
    None if the code stopped working meanwhile, OWN for one's own code."""
    row = await _live(session, code, now)
    if row is None:
        return None
    if row.citizen_id == identity.citizen_id:
        return OWN
    row.used_at = now
    target_id, source_id = row.citizen_id, identity.citizen_id
    await rows.drop_live_codes(session, source_id)  # the joined person keeps one live code
    await merge(session, source_id, target_id)
    await session.flush()
    target = await session.get(Citizen, target_id)
    identity.citizen = target
    return target


async def merge(session: AsyncSession, source_id: int, target_id: int) -> None:
    await rows.merge(session, source_id, target_id)


async def linked_channels(session: AsyncSession, citizen_id: int) -> list[str]:
    return sorted({i.channel for i in await rows.identities(session, citizen_id)})
