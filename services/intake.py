"""What channel adapters record through the host: updates already handled, whether a person
can be reached, and long-poll positions. One place, so no adapter touches the database."""
from __future__ import annotations

import logging
from datetime import datetime

from storage.repos import outbox as outbox_rows
from storage.repos import people as rows

log = logging.getLogger(__name__)


async def first_time(session, channel: str, update_key: str, now: datetime) -> bool:
    """Record an update as handled in this transaction; False if it was handled before."""
    return await rows.first_time(session, channel, update_key, now)


async def set_reachable(db, gate, channel: str, user_id: str, reachable: bool, reason: str | None = None) -> bool:
    try:
        async with gate, db() as session, session.begin():
            changed = await outbox_rows.set_reachable(session, channel, str(user_id), reachable, reason)
    except Exception:
        log.exception("could not mark a %s user reachable=%s", channel, reachable)
        return False
    if changed:
        log.info("%s user marked %s", channel, "reachable" if reachable else "unreachable")
    return changed


async def cursor(db, gate, channel: str, name: str) -> str | None:
    async with gate, db() as session:
        return await rows.cursor(session, channel, name)


async def save_cursor(db, gate, channel: str, name: str, value: str, now: datetime) -> None:
    async with gate, db() as session, session.begin():
        await rows.save_cursor(session, channel, name, value, now)
