"""What staff see: who is staff, the queues with counts, letters to post, failed notices."""
from __future__ import annotations

from datetime import date

from storage.models import Appeal, OutboxMessage, Staff
from storage.repos import outbox as outbox_rows
from storage.repos import staff as rows

QUEUES = ("new", "mine", "overdue", "soon", "flagged", "redirect")


async def staff_for(session, channel: str, external_id: str) -> Staff | None:
    return await rows.by_identity(session, channel, external_id)


async def counts(session, staff: Staff, today: date) -> dict[str, int]:
    out = {queue: await rows.queue_count(session, queue, staff, today) for queue in QUEUES}
    out["letters"] = await outbox_rows.count_letters(session)
    out["failed"] = await outbox_rows.count_failed(session)
    return out


async def queue(session, name: str, staff: Staff, today: date, limit: int = 20) -> list[Appeal]:
    return await rows.queue(session, name, staff, today, limit)


async def letters(session, limit: int = 10) -> list[OutboxMessage]:
    return await outbox_rows.letters(session, limit)


async def failed(session, limit: int = 15) -> list[OutboxMessage]:
    return await outbox_rows.failed(session, limit)


async def colleagues(session, staff: Staff) -> list[Staff]:
    return await rows.colleagues(session, staff)


async def get(session, staff_id: int | None) -> Staff | None:
    return await session.get(Staff, staff_id) if staff_id else None


async def mark_posted(session, ids: list[int], *, staff: Staff, now) -> None:
    await outbox_rows.mark_posted(session, ids, now, staff.id)


async def appeal_numbers(session, rows_: list[OutboxMessage]) -> dict[int, str]:
    return await outbox_rows.appeal_numbers(session, [r.appeal_id for r in rows_ if r.appeal_id])


async def failed_for_appeal(session, appeal_id: int) -> list[OutboxMessage]:
    return await outbox_rows.failed_for_appeal(session, appeal_id)
