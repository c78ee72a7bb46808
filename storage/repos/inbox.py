"""Queries of the durable inbox (storage.inbox_models.InboxUpdate)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inbox_models import InboxUpdate
from storage.upsert import insert_ignore


async def keep(session: AsyncSession, channel: str, key: str, chat: str, body: str, now: datetime) -> bool:
    """Store a raw update unless it is stored already; True when new."""
    return await insert_ignore(session, InboxUpdate, channel=channel, update_key=key[:64], chat=chat[:64],
                               body=body, received_at=now)


async def unfinished(session: AsyncSession, channel: str, limit: int) -> list[InboxUpdate]:
    rows = await session.execute(select(InboxUpdate).where(InboxUpdate.channel == channel)
                                 .order_by(InboxUpdate.id).limit(limit))
    return list(rows.scalars())


async def owe(session: AsyncSession, channel: str, key: str, replies: list) -> None:
    await session.execute(update(InboxUpdate).where(InboxUpdate.channel == channel,
                                                    InboxUpdate.update_key == key[:64]).values(replies=replies)
                          .execution_options(synchronize_session=False))  # no inbox row is loaded here


async def owed(session: AsyncSession, channel: str, key: str) -> list | None:
    rows = await session.execute(select(InboxUpdate.replies).where(InboxUpdate.channel == channel,
                                                                   InboxUpdate.update_key == key[:64]))
    return rows.scalar_one_or_none()


async def finish(session: AsyncSession, channel: str, key: str) -> None:
    await session.execute(delete(InboxUpdate).where(InboxUpdate.channel == channel,
                                                    InboxUpdate.update_key == key[:64]))


async def earlier(session: AsyncSession, channel: str, chat: str, key: str) -> bool:
    mine = select(InboxUpdate.id).where(InboxUpdate.channel == channel, InboxUpdate.update_key == key[:64])
    found = await session.execute(select(InboxUpdate.id).where(
        InboxUpdate.channel == channel, InboxUpdate.chat == chat[:64], InboxUpdate.id < mine.scalar_subquery())
        .limit(1))
    return found.first() is not None
