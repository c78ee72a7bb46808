"""One person across channels (R-2.1): linking Telegram and VK with a one-time code; the person
whose records would move confirms first, codes are one per person and guesses are limited
(issue 10 item 7)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from storage.models import Citizen, Identity
from tests.conftest import Chat
from tests.journey import submit_appeal


async def get_code(chat: Chat) -> str:
    await chat.command("start")
    await chat.press("Настройки")
    text = await chat.press("Связать мессенджеры")
    return re.search(r"/link (\S+)", text).group(1)


async def citizens_count(app) -> int:
    async with app.sessionmaker() as s:
        return len((await s.execute(select(Citizen))).scalars().all())


async def test_linking_shares_appeals_both_ways_R_2_1(app):
    tg, vk = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    await submit_appeal(tg)
    await submit_appeal(vk, name="Иванова Мария Петровна")  # written before linking, from VK
    code = await get_code(tg)
    await vk.command("link", code)
    text = await vk.press("Связать")
    assert "мессенджеры связаны" in text and "Telegram, ВКонтакте" in text
    for chat in (tg, vk):
        await chat.command("start")
        await chat.press("Мои обращения")
        assert sum("ЖН-2026-" in label for label in chat.labels) == 2
    async with app.sessionmaker() as s:
        citizens = (await s.execute(select(Citizen))).scalars().all()
        identities = (await s.execute(select(Identity))).scalars().all()
    assert len(citizens) == 1
    assert {i.channel for i in identities} == {"telegram", "vk"}


async def test_the_person_handing_over_sees_what_joins_and_confirms_issue_10_item_7(app):
    """issue 10 item 7: /link CODE merges nothing until the person whose records would move
    presses «Связать»; the screen says how many of their appeals and visits and which channels
    are joined, and nothing of the code owner's appeals or name."""
    owner, victim = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    await submit_appeal(owner, name="Петров Пётр Петрович", text="Сосед затопил квартиру, потолок в пятнах.")
    await submit_appeal(victim)
    code = await get_code(owner)
    text = await victim.command("link", code)
    assert "Связать этот чат (ВКонтакте) с мессенджером, где показан код (Telegram)?" in text
    assert "обращения: 1, записи на приём: 0" in text and "нажмите «Отмена»" in text
    assert "Петров" not in text and "затопил" not in text and "ЖН-2026-000001" not in text
    assert victim.labels == ["Связать", "Отмена"]
    assert await citizens_count(app) == 2  # nothing merged yet
    text = await victim.press("Отмена")
    assert "ничего не связано" in text and "Что вы хотите сделать?" in text
    assert await citizens_count(app) == 2
    await victim.command("start")
    await victim.press("Мои обращения")
    assert sum("ЖН-2026-" in label for label in victim.labels) == 1  # still only their own


async def test_a_stale_or_forged_confirmation_is_refused_politely_issue_10_item_7(app):
    """issue 10 item 7: «Связать» pressed after the code was replaced, or forged without a
    confirmation screen, links nothing and gets a polite reply."""
    owner, other = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    code = await get_code(owner)
    await other.command("link", code)
    confirm = other.last
    await get_code(owner)  # a new code replaces the one typed
    text = await other.press("Связать")
    assert "Этот код больше не действует" in text
    assert await citizens_count(app) == 2
    other.last = confirm
    text = await other.press("Связать")  # the old screen's button again
    assert "Эта кнопка устарела" in text
    assert await citizens_count(app) == 2
    await other.command("start")
    text = await other.press_payload("link:yes")  # forged, never offered here
    assert "Эта кнопка устарела" in text and await citizens_count(app) == 2


async def test_code_typed_in_the_settings_screen_works_too(app):
    tg, vk = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    code = await get_code(tg)
    await vk.command("start")
    await vk.press("Настройки")
    await vk.press("Связать мессенджеры")
    await vk.press("Ввести код из другого мессенджера")
    assert "Связать этот чат" in await vk.say(code.lower())
    assert "мессенджеры связаны" in await vk.press("Связать")


async def test_bad_used_or_expired_codes_link_nothing(app, clock):
    owner, other, third = Chat(app, "100", "telegram"), Chat(app, "200", "vk"), Chat(app, "300", "vk")
    await submit_appeal(owner)
    assert "Код не подошёл" in await other.command("link", "AAAA-BBBB")
    code = await get_code(owner)
    await other.command("link", code)
    assert "связаны" in await other.press("Связать")
    assert "Код не подошёл" in await third.command("link", code)  # single use
    code = await get_code(owner)
    clock.now += timedelta(minutes=16)
    assert "Код не подошёл" in await third.command("link", code)  # expired
    await third.command("start")
    await third.press("Мои обращения")
    assert "У вас пока нет обращений" in third.text  # nothing of the owner's leaked


async def test_one_live_code_per_person_issue_10_item_7(app):
    """issue 10 item 7: showing a new code makes the previous one stop working."""
    owner, other = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    first = await get_code(owner)
    second = await get_code(owner)
    assert first != second
    assert "Код не подошёл" in await other.command("link", first)
    assert "Связать этот чат" in await other.command("link", second)


async def test_own_code_is_refused(app):
    owner = Chat(app, "100", "telegram")
    code = await get_code(owner)
    assert "Это код этого же чата" in await owner.command("link", code)
    assert owner.labels != ["Связать", "Отмена"]


async def test_wrong_codes_are_limited_per_person_and_hour_issue_10_item_7(app, clock):
    """issue 10 item 7: after 5 codes that did not fit within an hour, even a right code is not
    looked up; the reply says when to try again; an hour after the first miss it works."""
    owner, guesser, bystander = Chat(app, "100", "telegram"), Chat(app, "200", "vk"), Chat(app, "300", "vk")
    code = await get_code(owner)
    for i in range(5):
        assert "Код не подошёл" in await guesser.command("link", f"AAAA-BBB{i + 2}")
        clock.now += timedelta(minutes=1)
    text = await guesser.command("link", code)  # 10:05 UTC = 14:05 in Astrakhan
    assert "Слишком много неподходящих кодов" in text
    assert "сегодня в 15:00 по астраханскому времени" in text  # the first miss at 14:00 + 1 hour
    assert "Связать этот чат" not in text
    assert "Связать этот чат" in await bystander.command("link", code)  # the limit is per person
    clock.now += timedelta(minutes=55)  # 15:00
    code = await get_code(owner)
    assert "Связать этот чат" in await guesser.command("link", code)
