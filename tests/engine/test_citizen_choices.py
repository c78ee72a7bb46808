"""What a citizen chose is what happens (the newcomer issue): «Не нужно» at the duplicate step
holds for that appeal even when the settings say «Уведомлять сюда» (R-2.1, R-2.2); a later
change in the settings applies to the appeals under consideration."""
from __future__ import annotations

from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import act, add_staff, outbox_rows


async def test_no_duplicates_for_this_appeal_means_none_R_2_2(app):
    chat = Chat(app)
    await chat.command("start")
    await chat.press("Настройки")
    await chat.press("Уведомлять сюда")
    await submit_appeal(chat, postal="414000, Астрахань, ул. Ленина, д. 5, кв. 12", extra="Не нужно")
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "answer", staff, note="Предписание выдано.")
    rows = await outbox_rows(app)
    assert [r for r in rows if r.channel == "telegram"] == []
    assert [r.channel for r in rows if r.kind == "appeal.answered"] == ["post"]


async def test_a_later_settings_change_applies_to_open_appeals_R_2_1(app):
    chat = Chat(app)
    await submit_appeal(chat, email="a@example.ru", extra="Не нужно")
    await chat.command("start")
    await chat.press("Настройки")
    await chat.press("Уведомлять сюда")
    staff = await add_staff(app)
    await act(app, "take", staff)
    rows = [r for r in await outbox_rows(app) if r.kind == "appeal.in_work"]
    assert {r.channel for r in rows} == {"email", "telegram"}


async def test_back_after_another_day_never_loops_R_6_2(app):
    """Записаться → topic → a day → «Другой день» → another day → Назад → Назад reaches the topic
    step, not the time step again (the newcomer issue, item 7)."""
    from tests.engine.test_visits import add_slots, open_booking

    await add_slots(app)
    chat = Chat(app)
    await open_booking(chat)
    await chat.press("Содержание дома")
    await chat.press("Чт 05.03")
    await chat.press("Другой день")
    await chat.press("Пт 06.03")
    await chat.press("Назад")
    assert "Шаг 2 из 4" in chat.text
    await chat.press("Назад")
    assert "Шаг 1 из 4" in chat.text and "Содержание дома" in chat.labels


async def test_a_one_word_name_is_told_what_is_missing_R_3_2(chat):
    """«Иванов» is letters: the reply says what is missing, not «write it in letters»."""
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say("В подъезде не работает освещение уже неделю, управляющая компания не отвечает.")
    await chat.press("Далее")
    text = await chat.say("Иванов")
    assert "Нужны и фамилия, и имя" in text and "буквами" not in text


async def test_commands_never_become_appeal_text(chat, app):
    """The newcomer issue, item 11: «/foo» and «/file» typed in the text step get a hint."""
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    hint = await chat.say("/foo")
    assert "Такой команды нет" in hint
    await chat.say("/file")
    await chat.say("Во дворе не вывозят мусор вторую неделю, контейнеры переполнены.")
    summary = await chat.press("Далее")
    assert "/foo" not in summary and "/file" not in summary


async def test_status_understands_short_numbers_and_questions_R_5_1(chat, app):
    """/status 1 and /status 000001 find one's own appeal; a question lists one's appeals."""
    await submit_appeal(chat)
    for short in ("1", "000001", "2026-1", "жн-2026-000001"):
        assert "Статус: зарегистрировано" in await chat.command("status", short), short
    listed = await chat.command("status", "Где мой ответ?")
    assert "Вот ваши обращения" in listed and "ЖН-2026-000001" in " ".join(chat.labels)
    assert "Статус:" in await chat.press("ЖН-2026-000001")
    stranger = Chat(app, "2002")
    assert "не найдено" in await stranger.command("status", "1")
