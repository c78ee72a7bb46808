"""Limits per citizen and grouped staff announcements (issue 10 item 8): appeals per hour and per
day from the profile, a polite wait with the draft kept; many new appeals reach staff as one notice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.profile import ProfileError, load_profile
from services.sender import OutboxSender
from bot.settings import DEFAULT_PROFILE
from storage.models import Appeal
from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import add_staff, outbox_rows, recorders


async def appeal_count(app) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count(Appeal.id)))


def set_limits(app, **values) -> None:
    profile = app.engine.deps.profile
    app.engine.deps.profile = profile.model_copy(update={"limits": profile.limits.model_copy(update=values)})


async def test_sixth_appeal_in_an_hour_waits_with_the_draft_kept_issue_10_item_8(chat, app, clock):
    """issue 10 item 8: 5 appeals an hour by default; the 6th is not registered, the reply says
    when it can go (an hour after the first of the five), and «Отправить» then works."""
    for _ in range(5):
        assert "зарегистрировано" in await submit_appeal(chat)
        clock.now += timedelta(minutes=1)
    text = await submit_appeal(chat, text="Шестое обращение: в подвале стоит вода.")
    assert "Обращений за последний час отправлено: 5" in text
    assert "можно будет отправить сегодня в 15:00 по астраханскому времени" in text  # 14:00 + 1 hour
    assert "Черновик сохранён" in text and "Шестое обращение" in text and "Отправить" in chat.labels
    assert await appeal_count(app) == 5
    clock.now += timedelta(minutes=55)  # 15:00 local
    assert "Номер: ЖН-2026-000006" in await chat.press("Отправить")


async def test_daily_limit_names_tomorrow_issue_10_item_8(chat, app, clock):
    """issue 10 item 8: the per-day limit counts the last 24 hours and names the day and time."""
    set_limits(app, appeals_per_hour=2, appeals_per_day=3)
    await submit_appeal(chat)
    await submit_appeal(chat)
    assert "за последний час" in await submit_appeal(chat)  # the hour's limit first
    clock.now += timedelta(hours=1)
    assert "зарегистрировано" in await chat.press("Отправить")
    clock.now += timedelta(hours=2)
    text = await submit_appeal(chat)
    assert "Обращений за последние сутки отправлено: 3" in text
    assert "завтра в 14:00 по астраханскому времени" in text
    assert await appeal_count(app) == 3


def test_profile_limits_are_checked_issue_10_item_8(tmp_path):
    profile = load_profile(DEFAULT_PROFILE)
    assert (profile.limits.appeals_per_hour, profile.limits.appeals_per_day) == (5, 20)
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8").replace("appeals_per_day = 20", "appeals_per_day = 2"),
                   encoding="utf-8")
    with pytest.raises(ProfileError, match="limits: .*appeals_per_day is less than appeals_per_hour"):
        load_profile(bad)
    bad.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8").replace("appeals_per_hour = 5", "appeals_per_hour = 0"),
                   encoding="utf-8")
    with pytest.raises(ProfileError, match="limits.appeals_per_hour"):
        load_profile(bad)


async def announcements(app, address: str = "9001"):
    return [r for r in await outbox_rows(app) if r.kind.startswith("staff.new") and r.address == address]


async def test_many_new_appeals_reach_staff_as_one_notice_issue_10_item_8(app):
    """issue 10 item 8: 12 appeals before the sender runs give each staff member one message,
    «Новых обращений: 12» with ten numbers, and a button to the queue of new appeals."""
    await add_staff(app)
    await add_staff(app, name="Сидоров Б. Б.", telegram_id="9002")
    for i in range(12):
        await submit_appeal(Chat(app, str(100 + i), "telegram"))
    for address in ("9001", "9002"):
        [note] = await announcements(app, address)
        assert note.text.startswith("Новых обращений: 12. Номера: ЖН-2026-000001, ЖН-2026-000002")
        assert "ЖН-2026-000010 и ещё 2." in note.text and "ЖН-2026-000011" not in note.text
        assert [[b["label"] for b in row] for row in note.buttons] == [["Открыть новые обращения"]]
    staff = Chat(app, "9001", "telegram")
    text = await staff.press_payload("sqn:new")
    assert "Новые" in text and sum("ЖН-2026-" in label for label in staff.labels) == 12
    citizen = Chat(app, "100", "telegram")
    text = await citizen.press_payload("sqn:new")
    assert "доступен только сотрудникам" in text and "ЖН-2026-000002" not in text


async def test_after_one_is_sent_the_next_ones_gather_for_a_while_issue_10_item_8(app, clock):
    """issue 10 item 8: the first announcement goes at once; those in the next two minutes wait
    and go as one; a new sender (a restart) finds them in the outbox."""
    await add_staff(app)
    d = recorders("telegram", "email")
    sender = OutboxSender(app.sessionmaker, d, limits={}, clock=app.engine.deps.clock)
    await submit_appeal(Chat(app, "100", "telegram"))
    await sender.drain()
    assert len(d["telegram"].texts("9001")) == 1
    assert d["telegram"].texts("9001")[0].startswith("Новое обращение ЖН-2026-000001")
    clock.now += timedelta(seconds=30)
    for i in range(3):
        await submit_appeal(Chat(app, str(200 + i), "telegram"))
    await sender.drain()
    assert len(d["telegram"].texts("9001")) == 1  # held until two minutes after the first
    clock.now += timedelta(seconds=90)
    restarted = OutboxSender(app.sessionmaker, d, limits={}, clock=app.engine.deps.clock)
    await restarted.drain()
    assert d["telegram"].texts("9001")[1:] == [
        "Новых обращений: 3. Номера: ЖН-2026-000002, ЖН-2026-000003, ЖН-2026-000004."]
    clock.now += timedelta(minutes=5)  # quiet for a while: the next one goes at once again
    await submit_appeal(Chat(app, "300", "telegram"))
    await restarted.drain()
    assert d["telegram"].texts("9001")[-1].startswith("Новое обращение ЖН-2026-000005")
