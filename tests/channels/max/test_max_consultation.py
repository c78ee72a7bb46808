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
