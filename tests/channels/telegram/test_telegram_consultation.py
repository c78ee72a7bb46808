"""The consultation line in Telegram against the fake Bot API: a question gets the right answer
(R-5.1); a citizen talks to a staff member who transfers once and ends, and the citizen answers
the two questions (R-5.3, R-5.7, R-5.12)."""
from __future__ import annotations

from services.sender import OutboxSender
from tests.channels.telegram.test_telegram_harness import CHAT, TgChat, fake, polling, tg_app  # noqa: F401  (fixtures)
from tests.consult_helpers import add_member, consultations

STAFF_A, STAFF_B = 777001, 777002


async def test_question_in_telegram_gets_the_right_answer_R_5_1(tg_app, fake, polling):
    citizen = TgChat(fake, polling, CHAT)
    await citizen.command("start")
    text = await citizen.say("в подвале стоит вода, запах невозможный")
    assert text.startswith("Подвал затоплен") or "подвал" in text.lower()
    [c] = await consultations(tg_app)
    assert (c.kind, c.entry_id, c.channel) == ("faq", "basement_flood", "telegram")
    assert await citizen.press("Спасибо, ответ помог") == "Получен ли ответ на Ваш вопрос?"


async def test_live_conversation_with_a_transfer_in_telegram_R_5_3_R_5_7_R_5_12(tg_app, fake, polling):
    await add_member(tg_app, "Петрова А. А.", "telegram", str(STAFF_A))
    await add_member(tg_app, "Сидоров Б. Б.", "telegram", str(STAFF_B))
    citizen, first, second = TgChat(fake, polling, CHAT), TgChat(fake, polling, STAFF_A), TgChat(fake, polling, STAFF_B)
    sender = OutboxSender(tg_app.sessionmaker, {"telegram": polling.deliverer}, limits={},
                          clock=tg_app.engine.deps.clock, files=tg_app.engine.deps.files)
    await second.command("start")  # the colleague has a chat with the bot
    await first.command("start")
    await first.press("Встать на линию")
    await citizen.command("start")
    assert "ваш номер — 1" in await citizen.press("Связаться со специалистом")
    await sender.drain()
    assert any("Новый разговор в очереди" in (m.text or "") for m in fake.sent_messages(STAFF_A))
    await first.press("Принять разговор")
    await citizen.say("Не работает лифт уже неделю")
    await sender.drain()
    assert any(m.text == "Гражданин (разговор № 1): Не работает лифт уже неделю" for m in fake.sent_messages(STAFF_A))

    await first.command("start")
    await first.press("Мои разговоры (1)")
    await first.press("№ 1")
    await first.press("Передать коллеге")
    await first.press("Сидоров Б. Б.")
    await sender.drain()
    told = [m.text for m in fake.sent_messages(CHAT) if (m.text or "").startswith("Специалист передаёт")]
    assert told and "Сидоров Б. Б." in told[0]
    await second.press("Открыть разговор")
    await second.say("Лифт обязана чинить управляющая компания, подайте обращение.")
    await sender.drain()
    assert any(m.text == "Специалист: Лифт обязана чинить управляющая компания, подайте обращение."
               for m in fake.sent_messages(CHAT))
    await second.press("Завершить разговор")
    await sender.drain()
    assert [m.text for m in fake.sent_messages(CHAT)][-2:] == ["Специалист завершил разговор.",
                                                              "Получен ли ответ на Ваш вопрос?"]
    assert await citizen.press("Да") == "Оцените качество работы консультанта"
    await citizen.press("Всё устроило")
    [c] = await consultations(tg_app)
    assert (c.status, c.transfers, c.answered, c.rating) == ("ended", 1, True, 3)
