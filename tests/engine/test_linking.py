"""One person across channels (R-2.1): linking Telegram and VK with a one-time code."""
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


async def test_linking_shares_appeals_both_ways_R_2_1(app):
    tg, vk = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    await submit_appeal(tg)
    await submit_appeal(vk, name="Иванова Мария Петровна")  # written before linking, from VK
    code = await get_code(tg)
    text = await vk.command("link", code)
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


async def test_code_typed_in_the_settings_screen_works_too(app):
    tg, vk = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    code = await get_code(tg)
    await vk.command("start")
    await vk.press("Настройки")
    await vk.press("Связать мессенджеры")
    await vk.press("Ввести код из другого мессенджера")
    text = await vk.say(code.lower())
    assert "мессенджеры связаны" in text


async def test_bad_used_or_expired_codes_link_nothing(app, clock):
    owner, other, third = Chat(app, "100", "telegram"), Chat(app, "200", "vk"), Chat(app, "300", "vk")
    await submit_appeal(owner)
    assert "Код не подошёл" in await other.command("link", "AAAA-BBBB")
    code = await get_code(owner)
    assert "связаны" in await other.command("link", code)
    assert "Код не подошёл" in await third.command("link", code)  # single use
    code = await get_code(owner)
    clock.now += timedelta(minutes=16)
    assert "Код не подошёл" in await third.command("link", code)  # expired
    await third.command("start")
    await third.press("Мои обращения")
    assert "У вас пока нет обращений" in third.text  # nothing of the owner's leaked
