"""The dialog store: who is writing (identity, citizen, staff record) and where they are in a
dialog, loaded in one query and saved in the same transaction as the event's effects.

The hot path (issue 18): after a citizen's event commits, their state is kept in process
(`Cached`, keyed by channel and user id, with read-only copies of their citizen and identity
rows). An ordinary step of that citizen then needs no read
and one short write (`save_light`): the new state, only if the row's version is still the cached
one and the citizen's row and identity are as cached — a write by another worker, the staff
CLI, linking, a changed name or erasure bumps a version or moves the identity, the write
reports "stale" and the event is handled again the ordinary way, from the database."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from dataclasses import dataclass

from storage import hot
from storage.db import writer_gate
from storage.models import DialogState, Identity, Staff
from storage.repos import people as rows
from storage.repos import staff as staff_rows

log = logging.getLogger(__name__)
CACHE_SIZE = 20_000  # people; the oldest is dropped first


@dataclass
class Person:
    identity: Identity
    staff: Staff | None
    step: str | None
    data: dict
    _state: DialogState
    citizen_as_read: tuple | None = None  # (id, version) before this event's changes


@dataclass(frozen=True)
class Cached:
    identity_id: int
    step: str | None
    data: dict  # never changed in place: the engine works on a copy
    version: int
    citizen: dict  # the citizen's and the identity's columns, read-only on the hot path
    identity: dict
    facts: dict = dataclasses.field(default_factory=dict)  # Context.fact's; valid at citizen_version only

    @property
    def citizen_version(self) -> int:
        return self.citizen["version"]


class DialogStore:
    def __init__(self, writer: hot.HotWriter | None = None, gate: asyncio.Semaphore | None = None) -> None:
        self.writer = writer  # None: no hot path (an in-memory database)
        self.gate = gate or asyncio.Semaphore(16)
        self.cache: OrderedDict[tuple[str, str], Cached] = OrderedDict()

    @classmethod
    def for_sessionmaker(cls, sessionmaker, gate: asyncio.Semaphore | None = None) -> DialogStore:
        engine = sessionmaker.kw["bind"]
        gate = gate or writer_gate(engine)
        return cls(hot.HotWriter.for_engine(engine, gate), gate)

    async def load(self, session, channel: str, user_id: str, display_name: str | None = None) -> Person:
        row = await rows.person(session, channel, user_id)
        if row is None:  # first contact
            identity = await rows.resolve(session, channel, user_id, display_name)
            state, staff = None, await staff_rows.by_identity(session, channel, user_id)
        else:
            identity, state, staff = row
            if not identity.reachable:  # they wrote to us: the channel works again
                identity.reachable, identity.unreachable_reason = True, None
        if state is None:
            state = DialogState(identity_id=identity.id, step=None, data={})
            session.add(state)
        return Person(identity, staff, state.step, state.data or {}, state, _citizen_key(identity))

    async def save(self, session, person: Person, step: str, data: dict) -> None:
        person._state.step, person._state.data = step, data

    # ---- the hot path
    def cached(self, channel: str, user_id: str) -> Cached | None:
        return self.cache.get((channel, user_id)) if self.writer is not None else None

    def facts(self, channel: str, user_id: str, person: Person) -> dict:
        """The cached facts about a person the ordinary path has just read, while still true:
        their citizen row is at the version they were learned at."""
        cached = self.cache.get((channel, user_id))
        if cached is None or cached.identity_id != person.identity.id or person.citizen_as_read is None \
                or (cached.citizen["id"], cached.citizen_version) != person.citizen_as_read:
            return {}
        return dict(cached.facts)

    def committed(self, channel: str, user_id: str, person: Person, facts: dict | None = None) -> None:
        """After the ordinary path committed: a citizen is cached, with the facts about them
        known in this event; staff never (their screens read the database anyway, and a staff
        record can change from the CLI)."""
        state = person._state
        if self.writer is None or person.staff is not None or state.version is None:
            self.forget(channel, user_id)
            return
        identity = person.identity
        if _citizen_key(identity) != person.citizen_as_read:  # this event changed the citizen (or which
            facts = None  # one it is): a fact may have changed with it; the next steps learn them again
        self._put((channel, user_id), Cached(identity.id, state.step, state.data or {}, state.version,
                                             rows.columns(identity.citizen), rows.columns(identity), facts or {}))

    def forget(self, channel: str, user_id: str) -> None:
        self.cache.pop((channel, user_id), None)

    async def save_light(self, channel: str, user_id: str, cached: Cached, step: str, data: dict,
                         update_key: str | None, replies: list | None, now, facts: dict | None = None,
                         records: list | None = None) -> bool:
        """One write, with the step's `records` (dialogs/context.py `record`: each bumps the
        citizen's version); True when done (and the cache follows). False when the row changed
        since it was cached (dropped from the cache) or the update was handled before, or the
        write failed: the engine then handles the event the ordinary way."""
        try:
            outcome = await self.writer.step(
                identity_id=cached.identity_id, version=cached.version, citizen_id=cached.citizen["id"],
                citizen_version=cached.citizen_version, step=step, data=data, channel=channel,
                update_key=update_key, replies=replies, now=now, records=records)
        except Exception:
            log.exception("the hot path's write failed; the event is handled the ordinary way")
            outcome = hot.STALE
        if outcome == hot.OK:
            citizen = cached.citizen if not records else {**cached.citizen, "version": cached.citizen_version + 1}
            self._put((channel, user_id), dataclasses.replace(cached, step=step, data=data, version=cached.version + 1,
                                                              citizen=citizen,
                                                              facts=cached.facts if facts is None else facts))
        elif outcome == hot.STALE:
            self.forget(channel, user_id)
        return outcome == hot.OK

    async def read_fact(self, name: str, citizen_id: int) -> tuple[bool, object]:
        """A fact about a citizen read for the hot path with one plain statement: (found, value)."""
        return await self._read("a fact", self.writer.fact, name, citizen_id)

    async def read_listing(self, name: str, citizen_id: int) -> tuple[bool, object]:
        """A short list about a citizen read fresh for the hot path: (found, rows)."""
        return await self._read("a list", self.writer.listing, name, citizen_id)

    @staticmethod
    async def _read(what: str, read, name: str, citizen_id: int) -> tuple[bool, object]:
        try:
            return await read(name, citizen_id)
        except Exception:
            log.warning("the hot path could not read %s; the event is handled the ordinary way", what, exc_info=True)
            return False, None

    def _put(self, key: tuple[str, str], value: Cached) -> None:
        self.cache[key] = value
        self.cache.move_to_end(key)
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)

    async def close(self) -> None:
        if self.writer is not None:
            await self.writer.close()


def _citizen_key(identity: Identity) -> tuple | None:
    citizen = identity.citizen
    return None if citizen is None or citizen.version is None else (citizen.id, citizen.version)
