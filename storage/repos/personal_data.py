"""Queries for personal data (152-FZ): everything held about one person, data requests, and
what the purge deletes or anonymises."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.consult_models import CallbackRequest, Consultation
from storage.mailing_models import EmailConfirmation, MailingLetter
from storage.models import (Appeal, AppealEvent, Consent, DialogState, Identity, OutboxMessage, Rating, StoredFile,
                            Visit)
from storage.personal_data_models import DataRequest, TextShown


async def _all(session: AsyncSession, stmt) -> list:
    return list((await session.execute(stmt)).scalars())


async def held(session: AsyncSession, citizen_id: int) -> dict[str, list]:
    """Rows about one person, by area."""
    return {
        "identities": await _all(session, select(Identity).where(Identity.citizen_id == citizen_id).order_by(Identity.id)),
        "consents": await _all(session, select(Consent).where(Consent.citizen_id == citizen_id).order_by(Consent.id)),
        "appeals": await _all(session, select(Appeal).where(Appeal.citizen_id == citizen_id).order_by(Appeal.id)),
        "files": await _all(session, select(StoredFile).where(StoredFile.citizen_id == citizen_id).order_by(StoredFile.id)),
        "visits": await _all(session, select(Visit).where(Visit.citizen_id == citizen_id).order_by(Visit.id)),
        "consultations": await _all(session, select(Consultation).where(Consultation.citizen_id == citizen_id)
                                    .order_by(Consultation.id)),
        "callbacks": await _all(session, select(CallbackRequest).where(CallbackRequest.citizen_id == citizen_id)
                                .order_by(CallbackRequest.id)),
        "ratings": await _all(session, select(Rating).where(Rating.citizen_id == citizen_id).order_by(Rating.id)),
        "mailing_letters": await _all(session, select(MailingLetter).where(MailingLetter.citizen_id == citizen_id)
                                      .order_by(MailingLetter.id)),
        "texts_shown": await _all(session, select(TextShown).where(TextShown.citizen_id == citizen_id)
                                  .order_by(TextShown.id)),
        "data_requests": await _all(session, select(DataRequest).where(DataRequest.citizen_id == citizen_id)
                                    .order_by(DataRequest.id)),
    }


async def has_seen(session: AsyncSession, citizen_id: int, text: str, version: str) -> bool:
    return bool(await session.scalar(select(func.count(TextShown.id)).where(
        TextShown.citizen_id == citizen_id, TextShown.text == text, TextShown.version == version)))


async def requests(session: AsyncSession, open_only: bool = False) -> list[DataRequest]:
    stmt = select(DataRequest).order_by(DataRequest.due, DataRequest.id)
    if open_only:
        stmt = stmt.where(DataRequest.done_at.is_(None))
    return await _all(session, stmt)


# --- the purge ---


async def draft_files(session: AsyncSession, before: datetime) -> list[StoredFile]:
    """Files of drafts never sent (no appeal) older than `before`."""
    return await _all(session, select(StoredFile).where(StoredFile.appeal_id.is_(None), StoredFile.created_at < before))


async def delete_draft_files(session: AsyncSession, citizen_id: int, ids: list[int]) -> list[str]:
    mine = await _all(session, select(StoredFile.id).where(StoredFile.id.in_(ids), StoredFile.citizen_id == citizen_id,
                                                          StoredFile.appeal_id.is_(None)))
    return await delete_files(session, mine)


async def stale_drafts(session: AsyncSession, before: datetime) -> list[DialogState]:
    return await _all(session, select(DialogState).where(DialogState.step.like("appeal.%"),
                                                         DialogState.updated_at < before))


async def delete_files(session: AsyncSession, ids: list[int]) -> list[str]:
    """Delete file rows; the hashes no other row uses any more (their bytes can go)."""
    if not ids:
        return []
    shas = set(await _all(session, select(StoredFile.sha256).where(StoredFile.id.in_(ids))))
    await session.execute(delete(StoredFile).where(StoredFile.id.in_(ids)))
    still = set(await _all(session, select(StoredFile.sha256).where(StoredFile.sha256.in_(shas))))
    return sorted(shas - still)


async def left_identities(session: AsyncSession, before: datetime) -> list[Identity]:
    """Identities that cannot be reached (the person blocked the bot or left) and have been
    silent since `before`."""
    last = select(DialogState.updated_at).where(DialogState.identity_id == Identity.id).scalar_subquery()
    return await _all(session, select(Identity).where(
        Identity.reachable.is_(False), Identity.created_at < before, or_(last.is_(None), last < before)))


async def delete_identities(session: AsyncSession, ids: list[int]) -> None:
    if ids:
        await session.execute(delete(DialogState).where(DialogState.identity_id.in_(ids)))
        await session.execute(delete(Identity).where(Identity.id.in_(ids)))


async def old_consultations(session: AsyncSession, before: datetime) -> tuple[list[int], list[int]]:
    cons = await _all(session, select(Consultation.id).where(Consultation.citizen_id.is_not(None),
                                                             Consultation.started_at < before))
    calls = await _all(session, select(CallbackRequest.id).where(CallbackRequest.created_at < before))
    return cons, calls


async def forget_consultations(session: AsyncSession, cons: list[int], calls: list[int]) -> None:
    """Consultations keep their topic, kind and rating (statistics); the person and the phone go."""
    if cons:
        await session.execute(update(Consultation).where(Consultation.id.in_(cons)).values(citizen_id=None))
    if calls:
        await session.execute(delete(CallbackRequest).where(CallbackRequest.id.in_(calls)))


async def lapsed_mailing_addresses(session: AsyncSession) -> list[int]:
    """Citizens who hold no mailing consent but whose mailing address is still stored."""
    latest = (select(Consent.citizen_id, func.max(Consent.id).label("id")).where(Consent.kind == "mailing")
              .group_by(Consent.citizen_id).subquery())
    withdrawn = select(Consent.citizen_id).join(latest, latest.c.id == Consent.id).where(
        or_(Consent.withdrawal.is_(True), Consent.withdrawn_at.is_not(None)))
    has_address = or_(
        exists().where(Consent.citizen_id == latest.c.citizen_id, Consent.kind == "mailing", Consent.address.is_not(None)),
        exists().where(MailingLetter.citizen_id == latest.c.citizen_id, MailingLetter.address.is_not(None)))
    ids = await _all(session, withdrawn)
    if not ids:
        return []
    rows = await session.execute(select(latest.c.citizen_id).where(latest.c.citizen_id.in_(ids), has_address))
    return sorted(r[0] for r in rows)


async def forget_mailing_addresses(session: AsyncSession, citizen_ids: list[int], now: datetime) -> None:
    """The proof of consent and withdrawal (times, source, text version) stays; the address goes."""
    if citizen_ids:
        await session.execute(update(Consent).where(Consent.citizen_id.in_(citizen_ids), Consent.kind == "mailing")
                              .values(address=None))
        await session.execute(update(MailingLetter).where(MailingLetter.citizen_id.in_(citizen_ids)).values(address=None))
    await session.execute(delete(EmailConfirmation).where(EmailConfirmation.expires_at < now))


async def archived_appeals(session: AsyncSession, before: datetime, marker: str) -> list[Appeal]:
    return await _all(session, select(Appeal).where(Appeal.registered_at < before, Appeal.full_name != marker))


async def anonymise_appeals(session: AsyncSession, ids: list[int], marker: str) -> list[int]:
    """Appeals keep number, topic, need, status, dates and ratings; the name, text, address,
    notes, notices and files go. Returns the appeal files' ids (to delete with their bytes)."""
    if not ids:
        return []
    await session.execute(update(Appeal).where(Appeal.id.in_(ids)).values(
        full_name=marker, text=marker, answer_address=marker, abuse_fragment=None))
    await session.execute(update(AppealEvent).where(AppealEvent.appeal_id.in_(ids), AppealEvent.note.is_not(None))
                          .values(note=marker))
    await session.execute(update(OutboxMessage).where(OutboxMessage.appeal_id.in_(ids)).values(
        text=marker, address=marker, params=None, subject=None))
    return await _all(session, select(StoredFile.id).where(StoredFile.appeal_id.in_(ids)))


async def citizens_only_in_archive(session: AsyncSession, citizen_ids: list[int], marker: str) -> list[int]:
    """Of these, the citizens with no live appeal, no visit and no consent in force left."""
    out = []
    for cid in citizen_ids:
        live = await session.scalar(select(func.count(Appeal.id)).where(Appeal.citizen_id == cid,
                                                                        Appeal.full_name != marker))
        visits = await session.scalar(select(func.count(Visit.id)).where(Visit.citizen_id == cid, Visit.status == "booked"))
        if not live and not visits:
            out.append(cid)
    return out


async def blank_citizens(session: AsyncSession, citizen_ids: list[int]) -> None:
    from storage.models import Citizen

    if citizen_ids:
        await session.execute(update(Citizen).where(Citizen.id.in_(citizen_ids)).values(
            full_name=None, email=None, phone=None, postal_address=None, version=Citizen.version + 1))

