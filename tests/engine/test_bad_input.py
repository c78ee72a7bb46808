"""Bad input gets a clear, polite reply, and nothing is lost."""
from __future__ import annotations

from sqlalchemy import select

from bot.app import build_app
from storage.models import Appeal, StoredFile
from tests.conftest import Chat, make_settings
from tests.journey import ROOF_TEXT


async def to_text_step(chat):
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")


async def test_empty_text_gets_a_hint(chat):
    await to_text_step(chat)
    text = await chat.say("   ")
    assert "Сообщение пустое" in text
    assert "Далее" not in chat.labels


async def test_20000_character_text_is_kept_as_a_file(chat, app):
    await to_text_step(chat)
    huge = ("Крыша течёт, вода в квартире. " * 700)[:20000]
    text = await chat.say(huge)
    assert "сохранили его целиком как файл" in text
    async with app.sessionmaker() as s:
        [stored] = (await s.execute(select(StoredFile))).scalars().all()
    assert app.engine.deps.files.get(stored.sha256).decode() == huge.strip()
    text = await chat.say("Течёт крыша, подробности в файле.")
    assert "Текст сохранён" in text


async def test_unknown_or_forged_button_is_out_of_date_and_keeps_the_step(chat):
    await to_text_step(chat)
    text = await chat.press_payload("topic:heating")  # from an earlier screen
    assert "Эта кнопка устарела" in text
    assert "Опишите проблему" in text  # still on the same step
    text = await chat.press_payload("x" * 300)
    assert "Эта кнопка устарела" in text


async def test_text_where_a_button_is_expected_gets_a_hint(chat):
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    text = await chat.say("не знаю")
    assert "выберите вариант кнопкой" in text
    assert "Чего вы хотите добиться" in text


async def test_first_message_without_start_shows_the_menu(chat):
    text = await chat.say("Здравствуйте")
    assert "Что вы хотите сделать?" in text


async def test_invalid_name_email_and_address_are_explained(chat):
    await to_text_step(chat)
    await chat.say(ROOF_TEXT)
    await chat.press("Далее")
    assert "Напишите, пожалуйста, фамилию и имя" in await chat.say("12345")
    await chat.say("Иванова Мария")
    await chat.press("Электронная почта")
    assert "в адресе ошибка" in await chat.say("ivanova at mail")
    await chat.press("Назад")
    await chat.press("Почтовый адрес")
    assert "Адрес слишком короткий" in await chat.say("Астрахань")


async def test_files_of_wrong_kind_or_too_big_are_refused_with_a_reason(chat, app):
    await to_text_step(chat)
    text = await chat.send_file("virus.exe", "application/x-msdownload", b"MZ")
    assert "такой тип файлов мы не принимаем" in text
    text = await chat.send_file("big.pdf", "application/pdf", None, size=50 * 1024 * 1024)
    assert "больше 20 МБ" in text
    text = await chat.send_file("lost.pdf", "application/pdf", None, size=100)
    assert "не удалось получить" in text
    async with app.sessionmaker() as s:
        assert (await s.execute(select(StoredFile))).scalars().all() == []


async def test_file_outside_the_wizard_is_explained(chat):
    await chat.command("start")
    text = await chat.send_file("a.pdf", "application/pdf", b"%PDF-1.4 act")
    assert "Файлы можно приложить при подаче обращения" in text


async def test_wizard_interrupted_by_a_restart_resumes(db_url, tmp_path, clock):
    """Dialog state is persisted: a new process continues where the citizen was."""
    settings = make_settings(db_url, tmp_path)
    first = await build_app(settings, clock=clock)
    chat = Chat(first)
    await to_text_step(chat)
    await chat.say(ROOF_TEXT)
    await chat.press("Далее")
    await first.close()

    second = await build_app(settings, clock=clock)
    try:
        chat = Chat(second)
        await chat.say("Иванова Мария")  # the name step, where the citizen was
        await chat.press("Электронная почта")
        await chat.say("ivanova@example.ru")
        await chat.press("Не нужно")
        text = await chat.press("Понятно, дальше")
        assert ROOF_TEXT in text and "Тема: Содержание дома" in text
        await chat.press("Отправить")
        async with second.sessionmaker() as s:
            [appeal] = (await s.execute(select(Appeal))).scalars().all()
        assert appeal.text == ROOF_TEXT
    finally:
        await second.close()


async def test_double_press_of_send_registers_once(chat, app):
    await to_text_step(chat)
    await chat.say(ROOF_TEXT)
    await chat.press("Далее")
    await chat.say("Иванова Мария")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Не нужно")
    await chat.press("Понятно, дальше")
    send = chat.payload("Отправить")
    await chat.press_payload(send)
    text = await chat.press_payload(send)
    assert "устарела" in text
    async with app.sessionmaker() as s:
        assert len((await s.execute(select(Appeal))).scalars().all()) == 1


async def test_a_redelivered_update_is_handled_once(app):
    from core.events import Inbound

    first = await app.engine.handle(Inbound("telegram", "5", command="start"), update_key="42")
    assert first and "Что вы хотите сделать?" in first[-1].text
    pressed = Inbound("telegram", "5", button="menu:appeal")
    assert await app.engine.handle(pressed, update_key="43")
    assert await app.engine.handle(pressed, update_key="43") is None
    assert await app.engine.handle(Inbound("vk", "5", command="start"), update_key="43")  # other channel


async def test_old_update_ids_are_forgotten_but_recent_ones_kept(app, clock):
    from datetime import timedelta

    from services.housekeeping import forget_old
    from core.events import Inbound

    await app.engine.handle(Inbound("telegram", "5", command="start"), update_key="1")
    assert await forget_old(app.sessionmaker, now=clock.now + timedelta(days=1)) == 0
    assert await app.engine.handle(Inbound("telegram", "5", command="start"), update_key="1") is None
    assert await forget_old(app.sessionmaker, now=clock.now + timedelta(days=30)) == 1


async def test_typed_number_presses_a_button_only_where_no_text_is_expected(chat):
    await chat.command("start")
    assert "О чём ваше обращение" in await chat.say("1")  # «Подать обращение»
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    text = await chat.say("2")  # the text step takes "2" as text, not as button 2
    assert "Текст сохранён, знаков: 1." in text
