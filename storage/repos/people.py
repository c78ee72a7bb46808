"""Queries for citizens, their identities, consents, link codes, and the intake records
(platform updates already handled, channel cursors)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified

from storage.models import (Appeal, Base, ChannelCursor, Citizen, Consent, DialogState, Identity, LinkAttempt,
                            LinkCode, ProcessedUpdate, Staff, StaffIdentity, Visit)
from storage.upsert import insert_ignore


async def resolve(session: AsyncSession, channel: str, external_id: str, display_name: str | None = None) -> Identity:
    """The identity for a channel user, creating the citizen on first contact."""
    stmt = (select(Identity).options(joinedload(Identity.citizen))
            .where(Identity.channel == channel, Identity.external_id == external_id))
    identity = (await session.execute(stmt)).scalar_one_or_none()
    if identity is None:
        try:
            async with session.begin_nested():
                citizen = Citizen()
                identity = Identity(citizen=citizen, channel=channel, external_id=external_id,
                                    display_name=display_name)
                session.add_all([citizen, identity])
        except IntegrityError:  # created by a concurrent update of the same person
            identity = (await session.execute(stmt)).scalar_one()
    return identity


async def person(session: AsyncSession, channel: str, user_id: str):
    """(identity with citizen, dialog state, active staff record) in one query, or None."""
    staff_join = and_(StaffIdentity.channel == channel, StaffIdentity.user_id == Identity.external_id)
    stmt = (select(Identity, DialogState, Staff)
            .options(joinedload(Identity.citizen))
            .outerjoin(DialogState, DialogState.identity_id == Identity.id)
            .outerjoin(StaffIdentity, staff_join)
            .outerjoin(Staff, and_(Staff.id == StaffIdentity.staff_id, Staff.active.is_(True)))
            .where(Identity.channel == channel, Identity.external_id == user_id)
            .with_for_update(of=Identity))  # PostgreSQL: one event of a person at a time, any worker
    return (await session.execute(stmt)).first()


def touch(citizen: Citizen) -> None:
    """Bump the citizen row's version in this transaction although no column changes: a fact
    about them that workers cache (identified or not, a text seen: dialogs/context.py `fact`)
    changed with it."""
    flag_modified(citizen, "created_at")


def columns(row) -> dict:
    """A mapped row's column values: the hot path's read-only copy of a citizen or an identity."""
    return {a.key: getattr(row, a.key) for a in inspect(row).mapper.column_attrs}


async def touch_dialogs(session: AsyncSession, pairs: list[tuple[str, str]]) -> None:
    """Bump these people's dialog state versions: a worker's cached copy of them is stale from
    now on, so their next event is read from the database (a staff record added or restored,
    a channel marked unreachable)."""
    for channel, user_id in pairs:
        ids = select(Identity.id).where(Identity.channel == channel, Identity.external_id == str(user_id))
        await session.execute(update(DialogState).where(DialogState.identity_id.in_(ids))
                              .values(version=DialogState.version + 1, updated_at=DialogState.updated_at)  # not activity
                              .execution_options(synchronize_session=False))


async def active_consent(session: AsyncSession, citizen_id: int, kind: str, *, lock: bool = False) -> Consent | None:
    """The grant in force: the person's latest row of this kind, unless it is a withdrawal.
    lock: hold the citizen's consent rows until the transaction ends (PostgreSQL)."""
    stmt = (select(Consent).where(Consent.citizen_id == citizen_id, Consent.kind == kind)
            .order_by(Consent.id.desc()).limit(1))
    if lock:
        stmt = stmt.with_for_update()
    latest = (await session.execute(stmt)).scalar_one_or_none()
    if latest is None or latest.withdrawal or latest.withdrawn_at is not None:
        return None
    return latest


async def consents(session: AsyncSession, citizen_id: int) -> list[Consent]:
    stmt = select(Consent).where(Consent.citizen_id == citizen_id).order_by(Consent.id)
    return list((await session.execute(stmt)).scalars())


async def identity_in(session: AsyncSession, citizen_id: int, channel: str) -> Identity | None:
    stmt = select(Identity).where(Identity.citizen_id == citizen_id, Identity.channel == channel)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def identities(session: AsyncSession, citizen_id: int) -> list[Identity]:
    stmt = select(Identity).where(Identity.citizen_id == citizen_id).order_by(Identity.id)
    return list((await session.execute(stmt)).scalars())


async def merge(session: AsyncSession, source_id: int, target_id: int) -> None:
    """Move every record of citizen `source_id` to `target_id`; keep target's own details first."""
    source, target = await session.get(Citizen, source_id), await session.get(Citizen, target_id)
    for table in Base.metadata.sorted_tables:  # every table that refers to a citizen
        if "citizen_id" in table.c:
            await session.execute(update(table).where(table.c.citizen_id == source_id).values(citizen_id=target_id))
    for field in ("full_name", "email", "phone", "postal_address", "notify_channel"):
        if getattr(target, field) is None:
            setattr(target, field, getattr(source, field))
    touch(target)  # the source's verifications and texts seen are the target's now
    await session.execute(delete(Citizen).where(Citizen.id == source_id))


async def link_code(session: AsyncSession, code: str) -> LinkCode | None:
    return await session.get(LinkCode, code, with_for_update=True)


async def drop_live_codes(session: AsyncSession, citizen_id: int) -> None:
    """A new code replaces the citizen's earlier unused ones."""
    await session.execute(delete(LinkCode).where(LinkCode.citizen_id == citizen_id, LinkCode.used_at.is_(None)))


async def failed_links(session: AsyncSession, citizen_id: int, since: datetime) -> list[datetime]:
    """When this citizen typed a code that did not fit, after `since`, oldest first."""
    found = await session.execute(select(LinkAttempt.at).where(LinkAttempt.citizen_id == citizen_id,
                                                               LinkAttempt.at > since).order_by(LinkAttempt.at))
    return list(found.scalars())


async def add_failed_link(session: AsyncSession, citizen_id: int, at: datetime) -> None:
    session.add(LinkAttempt(citizen_id=citizen_id, at=at))
    await session.flush()


async def record_counts(session: AsyncSession, citizen_id: int) -> tuple[int, int]:
    """How many appeals and visits a citizen has (what a link would hand over)."""
    appeals = await session.scalar(select(func.count(Appeal.id)).where(Appeal.citizen_id == citizen_id))
    visits = await session.scalar(select(func.count(Visit.id)).where(Visit.citizen_id == citizen_id,
                                                                   Visit.status != "cancelled"))
    return appeals or 0, visits or 0


# --- intake ----------------------------------------------------------------------------------

async def first_time(session: AsyncSession, channel: str, update_key: str, now: datetime) -> bool:
    """Record a platform update as handled; False if it was already."""
    return await insert_ignore(session, ProcessedUpdate, channel=channel, update_key=update_key[:64],
                               processed_at=now)


async def cursor(session: AsyncSession, channel: str, name: str) -> str | None:
    row = await session.get(ChannelCursor, (channel, name))
    return row.value if row else None


async def save_cursor(session: AsyncSession, channel: str, name: str, value: str, now: datetime) -> None:
    values = {"value": value, "updated_at": now}
    if not await insert_ignore(session, ChannelCursor, channel=channel, name=name, **values):
        await session.execute(update(ChannelCursor).where(
            ChannelCursor.channel == channel, ChannelCursor.name == name).values(**values))


async def forget_old(session: AsyncSession, updates_before: datetime, codes_before: datetime) -> int:
    done = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < updates_before))
    await session.execute(delete(LinkCode).where(LinkCode.expires_at < codes_before))
    await session.execute(delete(LinkAttempt).where(LinkAttempt.at < codes_before))
    return done.rowcount or 0




