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


async def test_keeps_arriving_together_are_stored_once_each_in_arrival_order(hot):
    """The updates of one getUpdates answer are kept in the turn they arrive (on PostgreSQL in
    one statement): each caller learns whether its update was new, and the inbox's order — the
    order a chat's updates are handled in, across workers — is the arrival order."""
    db, writer = hot
    assert await writer.keep("telegram", "5", "7", '{"n": 5}', NOW)  # stored by an earlier batch
    keys = ["10", "11", "5", "12", "11", "13"]  # "5" stored before, "11" twice in this batch
    results = await asyncio.gather(*(writer.keep("telegram", k, "7", f'{{"n": {k}}}', NOW) for k in keys))
    assert results == [True, True, False, True, False, True]
    async with db() as s:
        rows = (await s.execute(select(InboxUpdate.update_key, InboxUpdate.body).order_by(InboxUpdate.id))).all()
    assert [key for key, _ in rows] == ["5", "10", "11", "12", "13"]
    assert all(body == f'{{"n": {key}}}' for key, body in rows)


async def test_an_update_the_database_refuses_does_not_fail_the_others_kept_with_it(pg_url):
    """PostgreSQL refuses a NUL in text. Kept in one batch with it, the other updates are still
    stored, and only its caller hears of the error (and keeps trying, channels/*)."""
    import pytest

    from storage.db import make_engine, make_sessionmaker, writer_gate
    from storage.hot import HotWriter

    engine = make_engine(pg_url)
    writer = HotWriter.for_engine(engine, writer_gate(engine))
    try:
        results = await asyncio.gather(writer.keep("vk", "1", "3", "{}", NOW), writer.keep("vk", "2", "3", "\x00", NOW),
                                       writer.keep("vk", "3", "3", "{}", NOW), return_exceptions=True)
        assert results[0] is True and results[2] is True
        assert isinstance(results[1], Exception)
        async with make_sessionmaker(engine)() as s:
            kept = (await s.execute(select(InboxUpdate.update_key).order_by(InboxUpdate.id))).scalars().all()
        assert kept == ["1", "3"]
        with pytest.raises(Exception):
            await writer.keep("vk", "2", "3", "\x00", NOW)  # alone, the same
    finally:
        await writer.close()
        await engine.dispose()
