"""Staff in Telegram, end to end: take and answer an appeal; the citizen gets the answer with the
survey in Telegram and at the e-mail answer address through a real SMTP server (R-3.8, R-3.9)."""
from __future__ import annotations

from sqlalchemy import select

from services.sender import OutboxSender
from channels.email import EmailDeliverer
from storage.models import Appeal, OutboxMessage, Staff, StaffIdentity
from tests.journey import submit_appeal
from tests.channels.email.test_email import settings as smtp_settings
from tests.channels.email.test_email import smtp  # noqa: F401  (fixture)
from tests.channels.telegram.test_telegram_harness import CHAT, TgChat, fake, polling, tg_app  # noqa: F401  (fixtures)

STAFF_CHAT = 777001


async def test_staff_answers_in_telegram_and_the_answer_arrives_everywhere_R_3_8_R_3_9(tg_app, fake, polling, smtp):
    inbox, port = smtp
    async with tg_app.sessionmaker() as s, s.begin():
        s.add(Staff(name="Петрова А. А.", role="operator", identities=[StaffIdentity(channel="telegram", user_id=str(STAFF_CHAT))]))
    citizen, staff = TgChat(fake, polling, CHAT), TgChat(fake, polling, STAFF_CHAT)
    assert "Обращение зарегистрировано" in await submit_appeal(citizen, email="ivanova@example.ru")

    assert "Режим сотрудника" in await staff.command("start")
    await staff.press("Новые (1)")
    assert "Иванова Мария Петровна" in await staff.press("ЖН-2026-000001")
    await staff.press("Взять в работу")
    await staff.press("Ответить")
    await staff.press("Выдано предписание УК")
    assert "Готово: ответ отправлен" in await staff.press("Подтвердить")

    deliverers = {"telegram": polling.deliverer, "email": EmailDeliverer(smtp_settings(port))}
    await OutboxSender(tg_app.sessionmaker, deliverers, limits={}, clock=tg_app.engine.deps.clock).drain()
    answers = [m for m in fake.sent_messages(CHAT) if "предписание" in (m.text or "")]
    assert len(answers) == 1 and "оцените" in answers[0].text
    assert [b["callback_data"] for b in answers[0].buttons] == ["rate:1:3", "rate:1:2", "rate:1:1"]
    letters = [m for m in inbox.messages if "дан ответ" in m["Subject"]]
    assert len(letters) == 1 and "предписание" in letters[0].get_body(("plain",)).get_content()
    announced = [m for m in fake.sent_messages(STAFF_CHAT) if "Новое обращение" in (m.text or "")]
    assert announced and "Иванова" not in announced[0].text
    async with tg_app.sessionmaker() as s:
        assert {r.status for r in (await s.execute(select(OutboxMessage))).scalars()} == {"sent"}

    # the citizen rates the answer from the notice
    await citizen.press("Всё устраивает")
    assert "Спасибо за оценку" in citizen.text


async def test_forged_staff_callbacks_from_a_citizen_do_nothing(tg_app, fake, polling):
    citizen = TgChat(fake, polling, CHAT)
    await submit_appeal(citizen)
    for data in ("sq:new", "sc:1", "sa:take:1", "sa:answer:1", "sv:confirm", "st:letters", "svm:1:a"):
        text = await citizen.press_payload(data)
        assert "Режим сотрудника" not in text and "Исполнитель" not in text
    async with tg_app.sessionmaker() as s:
        appeal = (await s.execute(select(Appeal))).scalar_one()
    assert appeal.status == "registered" and appeal.assigned_staff_id is None
