"""Scripted citizen journeys shared by the engine and channel tests."""
from __future__ import annotations

import re

NUMBER_RE = re.compile(r"ЖН-(\d{4})-(\d{6})")

ROOF_TEXT = "В подъезде дома 5 по улице Ленина течёт крыша, на пятом этаже плесень. Управляющая компания не реагирует."


async def submit_appeal(chat, *, text: str = ROOF_TEXT, name: str = "Иванова Мария Петровна",
                        email: str | None = "ivanova@example.ru", postal: str | None = None,
                        extra: str = "Да, дублировать сюда") -> str:
    """Walks the wizard from the main menu and returns the final reply text."""
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say(text)
    await chat.press("Далее")
    await chat.say(name)
    if postal:
        await chat.press("Почтовый адрес")
        await chat.say(postal)
    else:
        await chat.press("Электронная почта")
        await chat.say(email)
    await chat.press(extra)
    if "Понятно, дальше" in chat.labels:
        await chat.press("Понятно, дальше")
    assert "Проверьте обращение" in chat.text, chat.text
    return await chat.press("Отправить")
