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
    assert "Шаг 2 из 5" in chat.text
    await chat.press("Назад")
    assert "Шаг 1 из 5" in chat.text and "Содержание дома" in chat.labels


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


async def test_edit_text_can_replace_as_well_as_add(chat):
    """The newcomer issue, item 10."""
    await submit_to_summary(chat, "Первый вариант текста про протечку крыши в подъезде номер два.")
    await chat.press("Изменить текст")
    await chat.press("Заменить текст")
    await chat.say("Новый текст: крыша течёт над квартирой 12, управляющая компания не приходит.")
    summary = await chat.press("Далее")
    while "Проверьте обращение" not in summary:
        summary = await chat.press(chat.labels[0])
    assert "Новый текст" in summary and "Первый вариант" not in summary


async def test_the_summary_warns_about_words_that_stop_consideration_R_3_4(chat):
    """The newcomer issue, item 14: the warning comes before sending, with a way to edit."""
    await submit_to_summary(chat, "Вы там все бездельники и дармоеды, крыша течёт уже месяц!")
    assert "может быть оставлено без ответа по существу" in chat.text and "Изменить текст" in chat.labels


async def submit_to_summary(chat, text: str) -> None:
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say(text)
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Да, дублировать сюда")
    if "Понятно, дальше" in chat.labels:  # the privacy notice (152-FZ)
        await chat.press("Понятно, дальше")
    assert "Проверьте обращение" in chat.text


async def test_a_draft_survives_menu_help_and_cancel_and_deleting_asks_first(chat, app):
    """The newcomer issue, item 9: the typed text is never lost silently."""
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say("Сломан лифт во втором подъезде дома 3, третью неделю никто не чинит.")
    await chat.command("help")
    menu = await chat.command("menu")
    assert "неотправленное обращение" in menu
    resumed = await chat.press("Продолжить обращение")
    assert "Сломан лифт" in resumed or "знаков" in resumed
    await chat.press("Далее")
    await chat.press("Отменить")
    assert "Черновик сохранён" in chat.text
    await chat.press("Удалить черновик")
    assert "Удалить неотправленное обращение?" in chat.text
    await chat.press("Нет, оставить")
    assert "неотправленное обращение" in chat.text
    await chat.press("Удалить черновик")
    await chat.press("Да, удалить")
    assert "Черновик удалён" in chat.text and "Продолжить обращение" not in chat.labels


async def test_the_draft_is_gone_once_the_appeal_is_sent(chat):
    await submit_appeal(chat)
    assert "неотправленное" not in await chat.command("menu")


async def test_long_time_lists_come_in_pages_and_the_window_is_named_R_6_2_R_6_5(app):
    """The newcomer issue, item 16 and 19: 5-minute slots give pages, not 99 buttons; the
    confirmation names the window and says the time is Astrakhan time."""
    from tests.engine.test_visits import add_slots, open_booking, visitor

    await add_slots(app, minutes=5)
    chat = Chat(app)
    await open_booking(chat)
    await chat.press("Содержание дома")
    await chat.press("Чт 05.03")
    times = [label for label in chat.labels if ":" in label]
    assert len(times) == 24 and "Позже" in chat.labels and "Раньше" not in chat.labels
    await chat.press("Позже")
    later = [label for label in chat.labels if ":" in label]
    assert later and later[0] > times[-1] and "Раньше" in chat.labels
    await chat.press(later[0])
    await visitor(chat)
    text = await chat.press("Не напоминать")
    assert "Где: Окно 1" in text and "по астраханскому времени" in text
