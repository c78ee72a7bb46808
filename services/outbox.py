"""Routing of notices (R-2.1, R-2.2, R-3.5, R-3.8): the mandatory channel under 59-FZ plus the
channel the citizen chose, with fallback over the registered channels. Rows are written by
`services.notices.add` in the same transaction as their cause."""
from __future__ import annotations

from core import channels
from storage.models import Citizen
from storage.repos import outbox as rows

PENDING, SENT, DEAD, TASK, CANCELLED, DROPPED = "pending", "sent", "dead", "task", "cancelled", "dropped"
Target = tuple[str, str]  # (channel, address)


async def channel_target(session, citizen: Citizen, channel: str | None) -> Target | None:
    if channels.is_messenger(channel):
        identity = await rows.reachable_identity(session, citizen.id, channel)
        return (channel, identity.external_id) if identity else None
    if channel == "email" and citizen.email:
        return ("email", citizen.email)
    return None


async def route(session, citizen: Citizen, *, mandatory: Target | None, final: bool,
                chosen: str | None = None) -> list[Target]:
    """The mandatory channel (e-mail; post only for final letters) plus the chosen one (the
    citizen's setting unless given). A chosen messenger that is unreachable falls back to the
    next reachable channel."""
    chosen_channel = citizen.notify_channel if chosen is None else chosen
    targets: list[Target] = []
    if mandatory and (mandatory[0] != "post" or final):
        targets.append(mandatory)
    target = await channel_target(session, citizen, chosen_channel)
    if target is None and chosen_channel:
        target = await fallback_target(session, citizen, exclude=targets, final=final)
    if target and target not in targets:
        targets.append(target)
    return targets


async def fallback_target(session, citizen: Citizen, *, exclude: list[Target], final: bool) -> Target | None:
    """The next reachable channel: the messengers in registry order, then e-mail, then (final
    only) a letter."""
    order = [*channels.messengers(), "email"]
    candidates = [await channel_target(session, citizen, c) for c in order]
    if final and citizen.postal_address:
        candidates.append(("post", citizen.postal_address))
    return next((c for c in candidates if c and c not in exclude), None)


async def cancel(session, *, notice: str) -> None:
    await rows.withdraw(session, notice)


def files_of(row, store) -> list:
    """The files a relayed row carries (references into the file store)."""
    from core.events import OutFile

    refs = (row.params or {}).get("files") or [] if row.kind == "relay" else []
    if not refs or store is None:
        return []
    return [OutFile(f["name"], f["mime"], store.get(f["sha"])) for f in refs]


def buttons_of(row):
    from core.events import Button

    return [[Button(b["label"], b["payload"]) for b in r] for r in row.buttons or []]


async def enqueue(session, *, citizen_id: int | None, kind: str, targets: list[Target], text: str,
                  subject: str | None = None, buttons=None, appeal_id: int | None = None,
                  not_before=None, expires_at=None, notice: str | None = None, lane: int = 1,
                  params: dict | None = None) -> str:
    """A message whose text is already written (a relayed reply, a staff member's words): one
    row per channel. Notices of the program's own go through `services.notices.add`."""
    import uuid

    from storage.models import OutboxMessage, utcnow

    notice = notice or uuid.uuid4().hex
    rows_ = [[{"label": b.label, "payload": b.payload} for b in row] for row in (buttons or [])]
    for channel, address in targets:
        session.add(OutboxMessage(
            citizen_id=citizen_id, appeal_id=appeal_id, notice=notice, kind=kind, lane=lane, channel=channel,
            address=address, params=params, subject=subject, text=text, buttons=rows_ if channel != "post" else [],
            status=TASK if channel == "post" else PENDING, not_before=not_before or utcnow(),
            expires_at=expires_at))
    await session.flush()
    return notice
