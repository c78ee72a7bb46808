"""Whether a VK user can be written to (Identity.reachable), for notifications."""
from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.events import Channel
from storage.models import Identity

log = logging.getLogger(__name__)


async def set_reachable(sessionmaker: async_sessionmaker, user_id: int | str, reachable: bool,
                        reason: str | None = None) -> bool:
    """Mark the VK identity of `user_id`; True when a row changed. Never raises."""
    try:
        async with sessionmaker() as session, session.begin():
            result = await session.execute(
                update(Identity)
                .where(Identity.channel == Channel.VK, Identity.external_id == str(user_id),
                       Identity.reachable == (not reachable))
                .values(reachable=reachable, unreachable_reason=None if reachable else (reason or "")[:200])
            )
            changed = result.rowcount > 0
    except Exception:
        log.exception("could not mark VK user %s reachable=%s", user_id, reachable)
        return False
    if changed:
        log.info("VK user %s marked %s%s", user_id, "reachable" if reachable else "unreachable",
                 f" ({reason})" if reason else "")
    return changed
