"""Citizens, their identities in channels, and their consents."""
from __future__ import annotations

from datetime import datetime

from storage.models import Citizen, Consent, Identity, StoredFile
from storage.repos import appeals as appeal_rows
from storage.repos import people as rows

PERSONAL_DATA = "personal_data"
MAILING = "mailing"
VISIT_CONTACTS = "visit_contacts"  # the name and phone for a visit (152-FZ art. 9)


async def resolve(session, channel: str, external_id: str, display_name: str | None = None) -> Identity:
    """The identity for a channel user, creating the citizen on first contact."""
    return await rows.resolve(session, channel, external_id, display_name)


async def active_consent(session, citizen_id: int, kind: str) -> Consent | None:
    return await rows.active_consent(session, citizen_id, kind)


async def grant(session, citizen_id: int, kind: str, source: str, at: datetime, *,
                text_version: str | None = None, address: str | None = None) -> Consent:
    """Record a consent with the version of the text the person was shown (152-FZ art. 9).
    A new row every time; an unchanged grant in force is returned as it is."""
    existing = await active_consent(session, citizen_id, kind)
    if existing and existing.text_version == text_version and existing.address == address:
        return existing
    consent = Consent(citizen_id=citizen_id, kind=kind, source=source, granted_at=at,
                      text_version=text_version, address=address)
    session.add(consent)
    await session.flush()
    return consent


async def withdraw(session, citizen_id: int, kind: str, at: datetime, source: str = "bot") -> bool:
    """Withdraw at once (152-FZ art. 9 part 2, R-4.1): a withdrawal row of its own; the grant
    row is never changed. False when nothing was in force."""
    consent = await active_consent(session, citizen_id, kind)
    if consent is None:
        return False
    session.add(Consent(citizen_id=citizen_id, kind=kind, source=source[:16], granted_at=consent.granted_at,
                        withdrawn_at=at, withdrawal=True, text_version=consent.text_version,
                        address=consent.address))
    await session.flush()
    return True


async def consent_history(session, citizen_id: int) -> list[Consent]:
    return await rows.consents(session, citizen_id)


async def identity_in(session, citizen_id: int, channel: str) -> Identity | None:
    return await rows.identity_in(session, citizen_id, channel)


async def identities(session, citizen_id: int) -> list[Identity]:
    return await rows.identities(session, citizen_id)


async def get(session, citizen_id: int) -> Citizen | None:
    return await session.get(Citizen, citizen_id)


async def save(session) -> None:
    """Write the changes made to the person's records in this transaction."""
    await session.flush()


async def save_file(session, files, citizen_id: int, name: str, mime: str, data: bytes) -> int:
    """Keep a citizen's file (bytes in the file store, a row here); its id."""
    row = StoredFile(citizen_id=citizen_id, file_name=name[:255], mime=mime, size=len(data),
                     sha256=files.put(data))
    session.add(row)
    await session.flush()
    return row.id


async def remember_contacts(session, citizen: Citizen, draft) -> None:
    """After an appeal: its name, answer address and chosen channel become the person's."""
    citizen.full_name = draft.full_name
    if draft.answer_channel == "email":
        citizen.email = draft.answer_address
    else:
        citizen.postal_address = draft.answer_address
    if draft.extra_channel:
        citizen.notify_channel = draft.extra_channel
    await session.flush()


OPEN_APPEALS = ("registered", "in_work", "clarification")


async def set_notify(session, citizen: Citizen, channel: str | None) -> None:
    """Where notices go (R-2.1): for the person, and for their appeals under consideration."""
    citizen.notify_channel = channel
    await appeal_rows.set_notify_open(session, citizen.id, channel, OPEN_APPEALS)
    await session.flush()


# --- who comes to a visit (the newcomer issue, item 13) ---

async def visit_consent(session, citizen_id: int, version: str) -> bool:
    """Whether the person agreed to this version of the visit consent and has not withdrawn it."""
    consent = await active_consent(session, citizen_id, VISIT_CONTACTS)
    return consent is not None and consent.text_version == version


async def remember_visitor(session, citizen: Citizen, *, name: str, phone: str, version: str,
                           channel: str, at: datetime) -> None:
    """After a booking: the name and phone the reception desk sees, and the consent they rest on."""
    await grant(session, citizen.id, VISIT_CONTACTS, channel[:16], at, text_version=version)
    citizen.full_name, citizen.phone = name, phone
    await session.flush()


async def withdraw_visit_consent(session, citizen: Citizen, at: datetime, source: str) -> bool:
    """Withdraw the visit consent; the phone it was the ground for goes at once."""
    if not await withdraw(session, citizen.id, VISIT_CONTACTS, at, source):
        return False
    citizen.phone = None
    await session.flush()
    return True
