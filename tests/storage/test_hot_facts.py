"""The hot path reads a fact about a citizen itself, with one plain statement (storage/hot.py
`fact`): whether and as whom they are identified (59-FZ art. 4, 7 p. 3 decide the kind of a
submission and the answer address on it) and whether they saw a version of the privacy notice
(152-FZ art. 18). Its answers must be the ORM loaders' answers, on both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services import appeal_rules, personal_data
from storage.appeal_rules_models import Verification
from storage.models import Citizen

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
