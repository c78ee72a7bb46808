"""Queries of identification and the 59-FZ rules: login attempts, verifications, earlier appeals."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.appeal_rules_models import LoginAttempt, Verification
from storage.models import Appeal, AppealEvent


async def put_attempt(session: AsyncSession, row: LoginAttempt, now: datetime, keep_after) -> None:
    """Store an attempt and forget those expired for longer than `keep_after`."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.expires_at < now - keep_after))
    await session.merge(row)


async def take_attempt(session: AsyncSession, state: str) -> LoginAttempt | None:
    """The attempt, deleted in the same statement: a second take of the state finds nothing."""
    row = (await session.execute(delete(LoginAttempt).where(LoginAttempt.state == state).returning(
        LoginAttempt.state, LoginAttempt.citizen_ref, LoginAttempt.nonce, LoginAttempt.code_verifier,
        LoginAttempt.authorize_url, LoginAttempt.expires_at))).one_or_none()
    if row is None:
        return None
    return LoginAttempt(state=row.state, citizen_ref=row.citizen_ref, nonce=row.nonce,
                        code_verifier=row.code_verifier, authorize_url=row.authorize_url, expires_at=row.expires_at)


async def latest_verification(session: AsyncSession, citizen_id: int) -> Verification | None:
    stmt = (select(Verification).where(Verification.citizen_id == citizen_id)
            .order_by(Verification.verified_at.desc(), Verification.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def earlier_on_topic(session: AsyncSession, citizen_id: int, topic: str, limit: int = 10) -> list:
    """The person's latest appeals on a topic, newest first: rows of (id, number, text) only."""
    stmt = (select(Appeal.id, Appeal.number, Appeal.text).where(Appeal.citizen_id == citizen_id, Appeal.topic == topic)
            .order_by(Appeal.id.desc()).limit(limit))
    return list((await session.execute(stmt)).all())


async def by_ids(session: AsyncSession, ids: list[int]) -> list[Appeal]:
    if not ids:
        return []
    return list((await session.execute(select(Appeal).where(Appeal.id.in_(ids)).order_by(Appeal.id))).scalars())


async def last_event(session: AsyncSession, appeal_id: int, action: str) -> AppealEvent | None:
    stmt = (select(AppealEvent).where(AppealEvent.appeal_id == appeal_id, AppealEvent.action == action)
            .order_by(AppealEvent.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()
