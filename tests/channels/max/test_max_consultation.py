"""The consultation line in MAX against the fake MAX API: a question gets the right answer
(R-5.1), and outside working hours the citizen is told when staff are back and leaves a
callback request (R-5.3, R-5.9)."""
from __future__ import annotations

from datetime import datetime, timezone

from tests.channels.max.harness import USER, MaxChat, fake, max_app, polling  # noqa: F401
from tests.consult_helpers import callback_requests, consultations


async def test_question_in_max_gets_the_right_answer_R_5_1(max_app, fake, polling):
    citizen = MaxChat(fake, polling, USER)
    await citizen.command("start")
    text = await citizen.say("сколько ждать ответа на жалобу")
    assert "30" in text
    [c] = await consultations(max_app)
    assert (c.kind, c.entry_id, c.channel) == ("faq", "answer_deadline", "max")


async def test_outside_hours_in_max_callback_request_R_5_3_R_5_9(max_app, fake, polling, clock):
    clock.now = datetime(2026, 3, 3, 15, 0, tzinfo=timezone.utc)  # 19:00 in Astrakhan
    citizen = MaxChat(fake, polling, USER)
    await citizen.command("start")
    text = await citizen.press("Связаться со специалистом")
    assert "04.03.2026 в 08:30 по астраханскому времени" in text
    await citizen.press("Заказать обратный звонок")
    await citizen.say("+7 917 123-45-67")
    await citizen.press("Даю согласие")
    await citizen.press("04.03 08:30–12:00")
    assert "не позднее 05.03.2026 17:30" in await citizen.press("Готово")
    [req] = await callback_requests(max_app)
    assert (req.phone, req.channel) == ("+79171234567", "max")


async def test_live_conversation_with_a_transfer_in_max_R_5_3_R_5_7_R_5_12(max_app, fake, polling):
    from services.sender import OutboxSender
    from tests.consult_helpers import add_member

    staff_a, staff_b = 7001, 7002
    await add_member(max_app, "Петрова А. А.", "max", str(staff_a))
    await add_member(max_app, "Сидоров Б. Б.", "max", str(staff_b))
    citizen, first, second = MaxChat(fake, polling, USER), MaxChat(fake, polling, staff_a), MaxChat(fake, polling, staff_b)
    sender = OutboxSender(max_app.sessionmaker, {"max": polling.deliverer}, limits={},
                          clock=max_app.engine.deps.clock, files=max_app.engine.deps.files)
    await second.command("start")
    await first.command("start")
    await first.press("Встать на линию")
    await citizen.command("start")
    assert "ваш номер — 1" in await citizen.press("Связаться со специалистом")
    await sender.drain()
    await first.press("Принять разговор")
    await citizen.say("Не работает лифт уже неделю")
    await sender.drain()
    assert any(m.text == "Гражданин (разговор № 1): Не работает лифт уже неделю" for m in fake.sent_messages(staff_a))
    await first.command("start")
    await first.press("Мои разговоры (1)")
    await first.press("№ 1")
    await first.press("Передать коллеге")
    await first.press("Сидоров Б. Б.")
    await sender.drain()
    await second.press("Открыть разговор")
    await second.say("Лифт обязана чинить управляющая компания, подайте обращение.")
    await second.press("Завершить разговор")
    await sender.drain()
    texts = [m.text for m in fake.sent_messages(USER)]
    assert "Специалист: Лифт обязана чинить управляющая компания, подайте обращение." in texts
    assert texts[-1] == "Получен ли ответ на Ваш вопрос?"
    assert await citizen.press("Да") == "Оцените качество работы консультанта"
    await citizen.press("Всё устроило")
    [c] = await consultations(max_app)
    assert (c.status, c.transfers, c.answered, c.rating) == ("ended", 1, True, 3)
