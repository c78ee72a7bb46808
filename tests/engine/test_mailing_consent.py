"""The mailing consent in settings (R-4.1): a new address is confirmed by a code sent to it
through the outbox; the consent row keeps the address and the text version (152-FZ art. 9)."""
from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import Consent, OutboxMessage


async def test_new_address_is_confirmed_by_a_code_before_consent_R_4_1(chat, app):
    await chat.command("start")
    await chat.press("Настройки")
    text = await chat.press("Подписаться на рассылку")
    assert "Для неё нужно ваше согласие" in text and "Напишите адрес e-mail" in text
    assert "Это не похоже" in await chat.say("не адрес")
    text = await chat.say("new@example.ru")
    assert "Мы отправили код на new@example.ru" in text
    async with app.sessionmaker() as s:
        [row] = (await s.execute(select(OutboxMessage))).scalars()
        assert (await s.execute(select(Consent))).scalars().all() == []
    assert (row.kind, row.channel, row.address, row.lane) == ("mailing.confirm_email", "email", "new@example.ru", 9)
    code = re.search(r"\b(\d{6})\b", row.text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    assert "Код не подходит" in await chat.say(wrong)
    text = await chat.say(code)
    assert "подписаны на рассылку новостей службы на new@example.ru" in text
    async with app.sessionmaker() as s:
        [consent] = (await s.execute(select(Consent))).scalars()
    assert (consent.kind, consent.address, consent.text_version, consent.source) == (
        "mailing", "new@example.ru", "m-2026-12", "telegram")
