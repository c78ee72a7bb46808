"""Outside working hours (R-5.3) the citizen is told when staff are back and leaves a callback
request (R-5.9) that staff see, take and close; then the two questions (R-5.12)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from storage.models import Consent
from tests.conftest import Chat
from tests.consult_helpers import Post, add_member, callback_requests, consultations


async def test_outside_hours_callback_then_staff_closes_it_and_the_two_questions_R_5_3_R_5_9_R_5_12(app, clock):
    member = await add_member(app, "Петрова А. А.", "telegram", "9001")
    staff = Chat(app, "9001", "telegram")
    citizen = Chat(app, "1001", "vk")
    clock.now = datetime(2026, 3, 3, 15, 0, tzinfo=timezone.utc)  # Tuesday 19:00 in Astrakhan: closed
    await citizen.command("start")
    text = await citizen.press("Связаться со специалистом")
    assert "Они снова на связи 04.03.2026 в 08:30 по астраханскому времени" in text
    assert await consultations(app) == []

    assert "Укажите номер телефона" in await citizen.press("Заказать обратный звонок")
    assert "Не получилось распознать номер" in await citizen.say("позвоните мне")
    assert "+79171234567" in await citizen.say("8 917 123-45-67")
    text = await citizen.press("Даю согласие")
    assert "по астраханскому времени" in text
    # the working hours of the next three working days (lunch excluded)
    assert citizen.labels[:6] == ["04.03 08:30–12:00", "04.03 13:00–17:30", "05.03 08:30–12:00",
                                  "05.03 13:00–17:30", "06.03 08:30–12:00", "06.03 13:00–17:30"]
    assert "Выберите хотя бы один" in await citizen.press("Готово")
    await citizen.press("04.03 13:00–17:30")
    assert "Выбрано: 04.03 13:00–17:30" in citizen.labels
    await citizen.press("05.03 08:30–12:00")
    text = await citizen.press("Готово")
    assert "Мы позвоним на номер +79171234567 не позднее 05.03.2026 17:30 по астраханскому времени" in text
    assert "04.03 13:00–17:30, 05.03 08:30–12:00" in text
    [req] = await callback_requests(app)
    assert (req.phone, req.status, req.channel) == ("+79171234567", "new", "vk")
    assert req.windows == [["2026-03-04T13:00:00+04:00", "2026-03-04T17:30:00+04:00"],
                           ["2026-03-05T08:30:00+04:00", "2026-03-05T12:00:00+04:00"]]
    async with app.sessionmaker() as s:
        [consent] = (await s.execute(select(Consent).where(Consent.kind == "callback_phone"))).scalars()
        assert consent.withdrawn_at is None and consent.source == "vk"

    clock.now = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)  # next morning
    text = await staff.command("start")
    assert "Обратные звонки — 1, просроченные — 0" in text
    await staff.press("Обратные звонки (1, просрочено 0)")
    card = await staff.press("+79171234567")
    assert "Удобное время: 04.03 13:00–17:30, 05.03 08:30–12:00" in card and "Позвонить до: 05.03.2026 17:30" in card
    await staff.press("Взять")
    assert "Не дозвонились" in staff.labels
    await staff.press("Не дозвонились")  # not reached, stays in the queue for another try
    assert "Заявка осталась в очереди" in staff.text
    [req] = await callback_requests(app)
    assert (req.status, req.attempts, req.staff_id) == ("not_reached", 1, member.id)

    clock.now = datetime(2026, 3, 5, 14, 0, tzinfo=timezone.utc)  # after the promised time: overdue
    text = await staff.command("start")
    assert "Обратные звонки — 1, просроченные — 1" in text
    await staff.press("Обратные звонки (1, просрочено 1)")
    card = await staff.press("+79171234567")
    assert "просрочено" in card and "Попыток дозвониться: 1" in card
    await staff.press("Дозвонились")
    text = await staff.say("Объяснили, как подать жалобу на УК.")
    assert "Готово: звонок выполнен" in text
    assert "Обратные звонки — 0, просроченные — 0" in await staff.command("start")

    post = await Post(app).drain()
    [question] = post["vk"].replies("1001")
    assert question.text == "Получен ли ответ на Ваш вопрос?"
    assert await citizen.press_payload(question.buttons[0][0].payload) == "Оцените качество работы консультанта"
    await citizen.press("Всё устроило")
    [c] = await consultations(app)
    assert (c.kind, c.channel, c.staff_id, c.status, c.answered, c.rating) == ("callback", "vk", member.id, "ended",
                                                                               True, 3)
    [req] = await callback_requests(app)
    assert (req.status, req.note, req.consultation_id, req.attempts) == ("done", "Объяснили, как подать жалобу на УК.",
                                                                         c.id, 2)


async def test_callback_due_date_skips_days_off_R_5_9(app, clock):
    """Asked on a Friday evening: the windows and the promise are on the next working days."""
    citizen = Chat(app, "1001", "telegram")
    clock.now = datetime(2026, 3, 6, 15, 0, tzinfo=timezone.utc)  # Friday 19:00; 9 March is a holiday (8 March on a Sunday)
    await citizen.command("start")
    text = await citizen.press("Связаться со специалистом")
    assert "10.03.2026 в 08:30" in text
    await citizen.press("Заказать обратный звонок")
    await citizen.say("+7 (8512) 22-33-44")
    await citizen.press("Даю согласие")
    assert citizen.labels[0] == "10.03 08:30–12:00"
    await citizen.press("10.03 08:30–12:00")
    assert "не позднее 11.03.2026 17:30" in await citizen.press("Готово")
    clock.now += timedelta(days=1)
    assert [r.status for r in await callback_requests(app)] == ["new"]
