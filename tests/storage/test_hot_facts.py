"""The hot path reads a fact about a citizen itself, with one plain statement (storage/hot.py
`fact`): whether and as whom they are identified (59-FZ art. 4, 7 p. 3 decide the kind of a
submission and the answer address on it) and whether they saw a version of the privacy notice
(152-FZ art. 18). Its answers must be the ORM loaders' answers, on both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services import appeal_rules, appeals, personal_data
from storage.appeal_rules_models import Verification
from storage.models import Appeal, Citizen

T0 = datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc)


async def test_the_hot_paths_reads_of_facts_answer_as_the_orm_does(hot):
    db, writer = hot
    async with db() as s, s.begin():
        people = [Citizen(full_name=f"Житель {i}") for i in range(4)]
        s.add_all(people)
        await s.flush()
        none, once, twice, nameless = (c.id for c in people)
        s.add_all([
            Verification(citizen_id=once, subject="a", full_name="Иванова Мария Петровна", verified_at=T0),
            Verification(citizen_id=twice, subject="b", full_name="Петров Пётр", verified_at=T0),
            Verification(citizen_id=twice, subject="c", full_name="Петров Пётр Ильич",
                         verified_at=T0 + timedelta(days=1)),  # the latest counts
            Verification(citizen_id=nameless, subject="d", full_name="", verified_at=T0),
        ])
        await personal_data.shown(s, once, personal_data.PRIVACY_NOTICE, "p-2026-12", "telegram", T0)
        await personal_data.shown(s, twice, personal_data.PRIVACY_NOTICE, "p-2025-01", "vk", T0)  # an old version

    expected = {}
    async with db() as s:
        for cid in (none, once, twice, nameless):
            expected[("verified_as", cid)] = await appeal_rules.verified_as(s, cid)
            for version in ("p-2026-12", "p-2025-01"):
                name = f"seen:{personal_data.PRIVACY_NOTICE}:{version}"
                expected[(name, cid)] = await personal_data.has_seen(s, cid, personal_data.PRIVACY_NOTICE, version)
    read = {key: await writer.fact(*key) for key in expected}

    assert read == {key: (True, value) for key, value in expected.items()}
    assert expected[("verified_as", none)] is None and expected[("verified_as", nameless)] == ""
    assert expected[("verified_as", twice)] == "Петров Пётр Ильич"
    assert [cid for (name, cid), seen in expected.items() if seen is True and name.startswith("seen")] == [once, twice]
    assert await writer.fact("something else", once) == (False, None)  # unknown: the ordinary way


async def test_the_hot_paths_list_of_appeals_is_the_orms(hot):
    """«Мои обращения» on the hot path (storage/hot.py `list_query`): the newest 20 of the
    citizen's own appeals, newest first (equal times by id), and nobody else's."""
    db, writer = hot
    async with db() as s, s.begin():
        people = [Citizen(full_name=f"Житель {i}") for i in range(3)]
        s.add_all(people)
        await s.flush()
        many, one, none = (c.id for c in people)

        def appeal(n: int, citizen: int, at: datetime, status: str = "registered") -> Appeal:
            return Appeal(number=f"01-{n:04d}/26", citizen_id=citizen, source_channel="vk", topic="house",
                          need="fix", text="Текст", full_name="Житель", answer_channel="vk", answer_address="1",
                          status=status, registered_at=at, deadline=(at + timedelta(days=30)).date())
        s.add_all([appeal(n, many, T0 + timedelta(hours=n % 7), "answered" if n % 3 else "registered")
                   for n in range(22)] + [appeal(100, one, T0)])

    async with db() as s:
        expected = {cid: await appeals.listed(s, cid) for cid in (many, one, none)}
    assert {cid: await writer.listing("appeals", cid) for cid in expected} == \
        {cid: (True, rows) for cid, rows in expected.items()}
    newest = expected[many]
    assert len(newest) == 20 and [a.number for a in expected[one]] == ["01-0100/26"] and expected[none] == []
    assert newest[0].number == "01-0020/26"  # 20 % 7 = 6 hours: the latest, then 13 (the same hour, lower id)
    assert newest[1].number == "01-0013/26"
    assert await writer.listing("something else", one) == (False, None)
