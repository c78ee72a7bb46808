"""The hot path's writes (storage/hot.py): jobs queued together are committed together on
SQLite (group commit), and one that stops — a state changed since it was cached, an update
handled before — leaves no trace, while the others in its batch take effect. Durability per
event rests on this: a step is saved with its update recorded and its replies kept, or not at
all (issue 18)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from sqlalchemy import select

from storage.hot import OK, STALE
from storage.inbox_models import InboxUpdate
from storage.models import Citizen, DialogState, Identity, ProcessedUpdate

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc)


async def test_a_stopped_job_leaves_nothing_and_the_rest_of_its_batch_is_kept(hot):
    db, writer = hot
    async with db() as s, s.begin():
        people = [Identity(citizen=Citizen(), channel="telegram", external_id=str(n)) for n in (1, 2)]
        s.add_all(people)
        await s.flush()
        s.add_all([DialogState(identity_id=p.id, step="menu", data={}) for p in people])
    async with db() as s:
        states = {st.identity_id: st for st in (await s.execute(select(DialogState))).scalars()}
        citizen = {c.id: c.version for c in (await s.execute(select(Citizen))).scalars()}
    (one, two), cid = [p.id for p in people], {p.id: p.citizen_id for p in people}
    for key in ("u1", "u2", "u3"):
        assert await writer.keep("telegram", key, "1", "{}", NOW)

    def step(identity: int, key: str, to: str, version: int | None = None):
        return writer.step(identity_id=identity, version=states[identity].version if version is None else version,
                           citizen_id=cid[identity], citizen_version=citizen[cid[identity]], step=to, data={"at": to},
                           channel="telegram", update_key=key, replies=[{"text": to}], now=NOW)

    results = await asyncio.gather(
        step(one, "u1", "help"),  # saved
        step(two, "u2", "help", version=states[two].version + 5),  # a stale copy: nothing of it
        writer.keep("telegram", "u1", "1", "{}", NOW),  # stored already
        step(two, "u3", "settings"),  # saved, in the same batch as the stale one
    )
    assert results == [OK, STALE, False, OK]
    again = await step(one, "u1", "mine", version=states[one].version + 1)  # the same update again
    assert again == STALE  # handled before: the ordinary path answers it from the inbox

    async with db() as s:
        saved = {st.identity_id: (st.step, st.data) for st in (await s.execute(select(DialogState))).scalars()}
        done = set((await s.execute(select(ProcessedUpdate.update_key))).scalars())
        owed = dict((await s.execute(select(InboxUpdate.update_key, InboxUpdate.replies))).all())
    assert saved == {one: ("help", {"at": "help"}), two: ("settings", {"at": "settings"})}
    assert done == {"u1", "u3"}
    assert owed == {"u1": [{"text": "help"}], "u2": None, "u3": [{"text": "settings"}]}
    await writer.finish("telegram", "u1")
    async with db() as s:
        assert set((await s.execute(select(InboxUpdate.update_key))).scalars()) == {"u2", "u3"}
