"""Citizens, their identities in channels, and their consents."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Citizen, Consent, Identity

PERSONAL_DATA = "personal_data"
MAILING = "mailing"


async def resolve(
    session: AsyncSession, channel: str, external_id: str, display_name: str | None = None
) -> Identity:
    """The identity for a channel user, creating the citizen on first contact."""
    stmt = (select(Identity).options(joinedload(Identity.citizen))
            .where(Identity.channel == channel, Identity.external_id == external_id))
    identity = (await session.execute(stmt)).scalar_one_or_none()
    if identity is None:
        try:
            async with session.begin_nested():
                citizen = Citizen()
                identity = Identity(
                    citizen=citizen, channel=channel, external_id=external_id,
                    display_name=display_name,
                )
                session.add_all([citizen, identity])
        except IntegrityError:  # created by a concurrent update of the same person
            identity = (await session.execute(stmt)).scalar_one()
    return identity


async def active_consent(session: AsyncSession, citizen_id: int, kind: str) -> Consent | None:
    stmt = (
        select(Consent)
        .where(Consent.citizen_id == citizen_id, Consent.kind == kind, Consent.withdrawn_at.is_(None))
        .order_by(Consent.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def grant(session: AsyncSession, citizen_id: int, kind: str, source: str, at: datetime) -> Consent:
    existing = await active_consent(session, citizen_id, kind)
    if existing:
        return existing
    consent = Consent(citizen_id=citizen_id, kind=kind, source=source, granted_at=at)
    session.add(consent)
    await session.flush()
    return consent


async def withdraw(session: AsyncSession, citizen_id: int, kind: str, at: datetime) -> bool:
    consent = await active_consent(session, citizen_id, kind)
    if consent is None:
        return False
    consent.withdrawn_at = at
    await session.flush()
    return True


async def identity_in(session: AsyncSession, citizen_id: int, channel: str) -> Identity | None:
    stmt = select(Identity).where(Identity.citizen_id == citizen_id, Identity.channel == channel)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()
