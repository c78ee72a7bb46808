"""No personal data through foreign messengers (41-FZ of 01.04.2025; 152-FZ): with the default
Astrakhan profile (`foreign_messengers = "no_personal_data"`), everything the assistant sends
into Telegram — dialog screens in every flow and every notice kind — carries none of the
citizen's data, while the full texts reach the e-mail address and a national messenger."""
from __future__ import annotations

import pytest

from core.events import Reply
from services.notices import KINDS
from services.profile import load_profile
from bot.settings import DEFAULT_PROFILE
from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import act, add_staff, outbox_rows

pytestmark = pytest.mark.default_privacy

NAME = "Колокольцева Ефросинья Тимофеевна"
EMAIL = "kolokoltseva.e@example.ru"
TEXT = "Во дворе дома 7 по улице Пузырёвской квартира 41 третий месяц заливает подвал."
FILE = "pasport_kolokoltsevoy.pdf"
QUESTION = "Уточните, пожалуйста, номер подъезда Жмыхова."
CLARIFIED = "Подъезд номер четыре, рядом с аптекой Шафрановой."
ANSWER = "Управляющей компании Рассохиной выдано предписание откачать воду."
REASONS = ["Продлеваем из-за экспертизы Тарабукиной.", "Отказ по причине Кривошеиной.",
           "Передаём в связи с компетенцией Голохвастова."]
SECRETS = [NAME, "Колокольцева", EMAIL, "Пузырёвской", "квартира 41", FILE, "Жмыхова", "Шафрановой",
           "Рассохиной", "Тарабукиной", "Кривошеиной", "Голохвастова"]


class Transcript(Chat):
    """A chat that keeps everything it was shown."""

    async def _send(self, **kw) -> list[Reply]:
        replies = await super()._send(**kw)
        self.__dict__.setdefault("seen", []).extend(replies)
        return replies


def leaks(texts: list[str]) -> list[str]:
    return [s for s in SECRETS for t in texts if s.casefold() in t.casefold()]


def test_the_default_profile_keeps_personal_data_out_of_foreign_messengers():
    assert load_profile(DEFAULT_PROFILE).privacy.foreign_messengers == "no_personal_data"


async def test_a_whole_journey_in_telegram_sends_no_personal_data_into_it(app):
    staff = await add_staff(app, name="Петрова А. А.", telegram_id="9001")
    boss = await add_staff(app, name="Руководитель", role="supervisor", telegram_id="9002")
    tg = Transcript(app, "1001", "telegram")
    await tg.command("start")
    await tg.press("Подать обращение")
    await tg.press("Содержание дома")
    await tg.press("Устранить нарушение")
    await tg.say(TEXT)
    await tg.send_file(FILE, "application/pdf", b"%PDF-1.4 scan")
    await tg.press("Далее")
    await tg.say(NAME)
    await tg.press("Электронная почта")
    await tg.say(EMAIL)
    await tg.press("Да, дублировать сюда")
    if "Понятно, дальше" in tg.labels:  # the privacy notice (152-FZ)
        await tg.press("Понятно, дальше")
    summary = tg.last.text
    assert "ФИО: указано" in summary and "k***@example.ru" in summary and "знаков" in summary
    await tg.press("Отправить")
    await tg.command("start")
    await tg.press("Мои обращения")
    await tg.press("ЖН-2026-000001")
    await tg.command("menu")
    await tg.press("Настройки")
    await tg.press("Подписаться")

    await act(app, "take", staff)
    await act(app, "ask", staff, note=QUESTION)
    await tg.press_payload("clar:1")
    await tg.say(CLARIFIED)
    await act(app, "extend", boss, days=10, note=REASONS[0])
    await act(app, "answer", staff, note=ANSWER)
    await act(app, "reopen", boss)
    await act(app, "refuse", staff, note=REASONS[1])
    await act(app, "reopen", boss)
    await act(app, "redirect", staff, agency="Администрация города", note=REASONS[2])
    await act(app, "reopen", boss)
    await act(app, "not_consider", staff, note="insult")

    # The staff member in Telegram sees the queues, but no card with personal data.
    clerk = Transcript(app, "9001", "telegram")
    menu = await clerk.command("start")
    assert "Режим сотрудника" in menu
    card = await clerk.press_payload("sc:1")  # the button on the new-appeal announcement
    assert "не показываем" in card

    rows = await outbox_rows(app)
    kinds = {r.kind for r in rows if r.channel == "telegram"}
    assert {"appeal.in_work", "appeal.clarification", "appeal.extended", "appeal.answered", "appeal.refused",
            "appeal.redirected", "appeal.not_considered", "appeal.reopened", "staff.new_appeal"} <= kinds
    sent_to_telegram = [r.text for r in rows if r.channel == "telegram"] + [r.subject or "" for r in rows
                                                                            if r.channel == "telegram"]
    shown_in_telegram = [r.text for r in tg.seen + clerk.seen] + [f.name for r in tg.seen + clerk.seen for f in r.files]
    assert leaks(sent_to_telegram) == []
    assert leaks(shown_in_telegram) == []
    # Neutral notices still tell what happened, and where the full text is.
    answered = next(r for r in rows if r.channel == "telegram" and r.kind == "appeal.answered")
    assert "готов ответ" in answered.text and "k***@example.ru" in answered.text
    assert [b["payload"] for row in answered.buttons for b in row] == ["rate:1:3", "rate:1:2", "rate:1:1"]
    # The mandatory channel gets everything.
    email = {r.kind: r.text for r in rows if r.channel == "email"}
    assert ANSWER in email["appeal.answered"] and QUESTION in email["appeal.clarification"]
    assert REASONS[1] in email["appeal.refused"] and REASONS[2] in email["appeal.redirected"]


async def test_a_national_messenger_gets_the_full_answer(app):
    """VK is national: the citizen who writes there reads the whole answer (41-FZ applies to
    foreign messengers only)."""
    vk = Chat(app, "200", "vk")
    await submit_appeal(vk, email=EMAIL)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "answer", staff, note=ANSWER)
    rows = [r for r in await outbox_rows(app) if KINDS[r.kind].final]
    assert {r.channel for r in rows} == {"email", "vk"}
    assert all(ANSWER in r.text for r in rows)


async def test_booking_a_visit_in_telegram_shows_neither_name_nor_phone(app):
    """The newcomer issue, item 13, under 41-FZ: the name and phone asked for a visit are not
    echoed into Telegram — not in the texts, not on the buttons that offer the known values."""
    from tests.engine.test_visits import add_slots, open_booking, visitor

    await add_slots(app)
    tg = Transcript(app, "1001", "telegram")
    for time in ("10:00", "11:00"):
        await open_booking(tg)
        await tg.press("Содержание дома")
        await tg.press("Чт 05.03")
        text = await tg.press(time)
        if time == "10:00":  # name, phone, consent, booked
            await visitor(tg, NAME, "+7 927 555-66-77")
            assert "Вы записаны" in await tg.press("Не напоминать")
    assert "На приём записываем" in text and "указано" in text
    await tg.press("Изменить ФИО")
    assert "Оставить прежнее" in tg.labels
    await tg.press("Оставить прежнее")
    await tg.press("Изменить телефон")
    assert "Оставить прежнее" in tg.labels
    shown = [r.text for r in tg.seen] + [b.label for r in tg.seen for row in r.buttons for b in row]
    assert leaks(shown) == [] and not [t for t in shown if "555-66" in t or "5556677" in t]
