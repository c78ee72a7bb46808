"""The durable inbox shared by every channel adapter (through core.ports.Host):

1. `keep` stores the raw update before the adapter acknowledges it to the platform (polling
   offset, `ok` to a callback, 200 to a webhook);
2. the engine, handling it with its update key, records it as processed and stores its
   replies on the inbox row, both in the transaction of its effects (`owe`);
3. the adapter shows the replies and `finish`es the row; a reply it cannot show after retries
   goes to the outbox (`defer`), which keeps trying;
4. after a restart the adapter asks for `unfinished` rows and handles them again, in arrival
   order per chat: an update never handled is handled now; one handled but not shown gets the
   replies stored with it (the engine returns them instead of None), once.
"""
from __future__ import annotations

import base64
import logging
from datetime import datetime

from core.events import Button, OutFile, Reply
from services import outbox
from services.notices import ANSWERS
from storage.repos import inbox as rows

log = logging.getLogger(__name__)


def dump_replies(replies: list[Reply]) -> list[dict]:
    return [{"text": r.text, "buttons": [[[b.label, b.payload] for b in row] for row in r.buttons],
             "files": [[f.name, f.mime, base64.b64encode(f.data).decode()] for f in r.files],
             "replace": r.replace, "subject": r.subject} for r in replies]


def load_replies(data: list[dict]) -> list[Reply]:
    return [Reply(d["text"], [[Button(label, payload) for label, payload in row] for row in d["buttons"]],
                  [OutFile(n, m, base64.b64decode(b)) for n, m, b in d["files"]], d["replace"], d["subject"])
            for d in data]


async def keep(db, gate, channel: str, key: str, chat: str, body: str, now: datetime) -> bool:
    async with gate, db() as session, session.begin():
        return await rows.keep(session, channel, key, chat, body, now)


async def unfinished(db, gate, channel: str, limit: int = 10_000) -> list[tuple[str, str, str]]:
    async with gate, db() as session:
        return [(r.update_key, r.chat, r.body) for r in await rows.unfinished(session, channel, limit)]


async def earlier(db, channel: str, chat: str, key: str) -> bool:
    """True while an update of this chat stored before `key` is not finished."""
    async with db() as session:
        return await rows.earlier(session, channel, chat, key)


async def finish(db, gate, channel: str, key: str) -> None:
    async with gate, db() as session, session.begin():
        await rows.finish(session, channel, key)


async def owe(session, channel: str, key: str, replies: list[Reply]) -> None:
    """In the engine's transaction: the replies this update is owed until it is finished."""
    await rows.owe(session, channel, key, dump_replies(replies))


async def owed(session, channel: str, key: str) -> list[Reply] | None:
    """The replies of an update handled before but never finished (a crash after the commit)."""
    data = await rows.owed(session, channel, key)
    return load_replies(data) if data else None


async def defer(db, gate, channel: str, key: str, user_id: str, skip: int, now: datetime) -> None:
    """The replies that could not be shown go through the outbox (retries with backoff), so
    the citizen still gets their registration number; the row is finished."""
    async with gate, db() as session, session.begin():
        data = await rows.owed(session, channel, key)
        for reply in load_replies(data or [])[skip:]:
            await outbox.enqueue(session, citizen_id=None, kind="relay", lane=ANSWERS, text=reply.text,
                                 subject=reply.subject, buttons=reply.buttons, not_before=now,
                                 targets=[(channel, user_id)])
        await rows.finish(session, channel, key)
    log.info("%s update %s: %d replies handed to the outbox", channel, key, len((data or [])[skip:]))
