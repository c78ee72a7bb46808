"""Queries for mailings: recipients with a consent in force, letters claimed one by one,
e-mail confirmations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mailing_models import EmailConfirmation, Mailing, MailingLetter
from storage.models import Consent
from storage.upsert import insert_ignore


async def consenting(session: AsyncSession, kind: str) -> list[int]:
    """Citizens whose latest consent row of this kind is a grant."""
    latest = (select(Consent.citizen_id, func.max(Consent.id).label("id"))
              .where(Consent.kind == kind).group_by(Consent.citizen_id).subquery())
    stmt = (select(Consent.citizen_id).join(latest, latest.c.id == Consent.id)
            .where(Consent.withdrawal.is_(False), Consent.withdrawn_at.is_(None)).order_by(Consent.citizen_id))
    return list((await session.execute(stmt)).scalars())


async def add_letters(session: AsyncSession, mailing_id: int, citizen_ids: list[int]) -> int:
    added = 0
    for citizen_id in citizen_ids:
        added += await insert_ignore(session, MailingLetter, mailing_id=mailing_id, citizen_id=citizen_id,
                                     status="pending", attempts=0)
    return added


async def next_letter(session: AsyncSession, mailing_id: int) -> MailingLetter | None:
    """The next pending letter, locked (SKIP LOCKED on PostgreSQL, so two senders share the work)."""
    stmt = (select(MailingLetter).where(MailingLetter.mailing_id == mailing_id, MailingLetter.status == "pending")
            .order_by(MailingLetter.id).limit(1).with_for_update(skip_locked=True))
    return (await session.execute(stmt)).scalar_one_or_none()


async def take(session: AsyncSession, letter_id: int, status: str, **values) -> bool:
    """Move a pending letter on, only if it is still pending (two senders on SQLite, where there
    is no SKIP LOCKED, never both take it). True when this caller took it."""
    result = await session.execute(update(MailingLetter).where(MailingLetter.id == letter_id,
                                                               MailingLetter.status == "pending")
                                   .values(status=status, **values))
    return result.rowcount == 1


async def abandoned(session: AsyncSession, mailing_id: int, now: datetime) -> int:
    """Letters a stopped process left with the SMTP server: they may have gone, so they are
    never sent again (status unknown). The number marked."""
    result = await session.execute(
        update(MailingLetter).where(MailingLetter.mailing_id == mailing_id, MailingLetter.status == "sending",
                                    or_(MailingLetter.claimed_until.is_(None), MailingLetter.claimed_until < now))
        .values(status="unknown", last_error="the sender stopped while this letter was being sent"))
    return result.rowcount


async def counts(session: AsyncSession, mailing_id: int) -> dict[str, int]:
    rows = await session.execute(select(MailingLetter.status, func.count()).where(
        MailingLetter.mailing_id == mailing_id).group_by(MailingLetter.status))
    return dict(rows.all())


async def mailings(session: AsyncSession) -> list[Mailing]:
    return list((await session.execute(select(Mailing).order_by(Mailing.id))).scalars())


async def letters(session: AsyncSession, mailing_id: int, status: str | None = None) -> list[MailingLetter]:
    stmt = select(MailingLetter).where(MailingLetter.mailing_id == mailing_id)
    if status:
        stmt = stmt.where(MailingLetter.status == status)
    return list((await session.execute(stmt.order_by(MailingLetter.id))).scalars())


async def open_confirmation(session: AsyncSession, citizen_id: int, now: datetime) -> EmailConfirmation | None:
    stmt = (select(EmailConfirmation).where(EmailConfirmation.citizen_id == citizen_id,
                                            EmailConfirmation.confirmed_at.is_(None),
                                            EmailConfirmation.expires_at > now)
            .order_by(EmailConfirmation.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def letters_of(session: AsyncSession, citizen_id: int) -> list[MailingLetter]:
    stmt = select(MailingLetter).where(MailingLetter.citizen_id == citizen_id).order_by(MailingLetter.id)
    return list((await session.execute(stmt)).scalars())
