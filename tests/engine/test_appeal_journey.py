"""The citizen's appeal journey through the engine, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

from storage.models import Appeal, AppealEvent, Consent, Identity, StoredFile
from storage.personal_data_models import TextShown
from tests.journey import ROOF_TEXT, submit_appeal


async def one(app, stmt):
    async with app.sessionmaker() as s:
        return (await s.execute(stmt)).scalars().all()


async def test_appeal_registered_with_number_deadline_and_channels_R_2_1_R_2_2_R_3_3(chat, app):
    """R-2.1, R-2.2, R-3.3: topic and need chosen, answer address is the mandatory channel,
    the messenger written from is the additional one; a registration number and deadline come back."""
    final = await submit_appeal(chat)
    assert "Обращение зарегистрировано" in final
    assert "ЖН-2026-000001" in final
    # Registered 3 March 2026; 30 days later is Thursday 2 April 2026, a working day.
    assert "02.04.2026" in final

    [appeal] = await one(app, select(Appeal))
    assert (appeal.topic, appeal.need) == ("common_property", "fix_violation")
    assert appeal.text == ROOF_TEXT
    assert (appeal.answer_channel, appeal.answer_address) == ("email", "ivanova@example.ru")
    assert appeal.extra_channel == "telegram"
    assert appeal.status == "registered"
    assert appeal.deadline == date(2026, 4, 2)
    assert appeal.full_name == "Иванова Мария Петровна"
    [event] = await one(app, select(AppealEvent))
    assert (event.action, event.actor, event.status_to) == ("registered", "citizen", "registered")
    assert await one(app, select(Consent)) == []  # the appeal rests on 59-FZ, not on consent


async def test_my_appeals_lists_status_and_history_R_5_1(chat, app):
    """R-5.1: status lookup of one's own appeals."""
    await submit_appeal(chat)
    listing = await chat.press("Мои обращения")
    assert "Ваши обращения" in listing and "ЖН-2026-000001" in " ".join(chat.labels)
    card = await chat.press("ЖН-2026-000001")
    assert "Статус: зарегистрировано" in card
    assert "Срок ответа: до 02.04.2026" in card
    assert "03.03.2026 14:00 — зарегистрировано" in card  # local Astrakhan time
    status = await chat.command("status", "жн-2026-000001")
    assert "Статус: зарегистрировано" in status


async def test_numbers_are_sequential_per_year_and_never_reused(chat, app, clock):
    await submit_appeal(chat)
    second = await submit_appeal(chat)
    assert "ЖН-2026-000002" in second
    clock.now = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)
    third = await submit_appeal(chat)
    assert "ЖН-2027-000001" in third
    numbers = [a.number for a in await one(app, select(Appeal).order_by(Appeal.id))]
    assert numbers == ["ЖН-2026-000001", "ЖН-2026-000002", "ЖН-2027-000001"]


async def test_privacy_notice_is_information_not_a_condition_and_shown_once_152_fz_art_18(chat, app):
    """59-FZ is the legal basis of an appeal (152-FZ art. 6 part 1 item 2): the wizard shows the
    privacy notice with the operator, purposes, retention and rights, asks no consent, and
    records which version the person saw; the next appeal does not show it again."""
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Провести проверку")
    await chat.say(ROOF_TEXT)
    await chat.press("Далее")
    await chat.say("Петров Пётр")
    await chat.press("Электронная почта")
    await chat.say("petrov@example.ru")
    text = await chat.press("Не нужно")
    assert "Оператор: Служба жилищного надзора Астраханской области" in text
    assert "№ 59-ФЗ" in text and "отдельное согласие не нужно" in text and "5 лет" in text
    assert "Мои данные" in text and "+7 (8512) 24-50-22" in text
    assert chat.labels[0] == "Понятно, дальше" and not [lbl for lbl in chat.labels if "огласен" in lbl]
    text = await chat.press("Понятно, дальше")
    assert "Проверьте обращение" in text
    await chat.press("Отправить")
    assert len(await one(app, select(Appeal))) == 1
    assert await one(app, select(Consent)) == []  # no consent where it is not the basis
    [seen] = await one(app, select(TextShown))
    assert (seen.text, seen.version, seen.channel) == ("privacy_notice", "p-2026-12", "telegram")
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Провести проверку")
    await chat.say(ROOF_TEXT)
    await chat.press("Далее")
    await chat.say("Петров Пётр")
    await chat.press("Электронная почта")
    await chat.say("petrov@example.ru")
    text = await chat.press("Не нужно")
    assert "Проверьте обращение" in text


async def test_postal_answer_address_and_no_duplicates_R_2_2(chat, app):
    final = await submit_appeal(chat, postal="414000, г. Астрахань, ул. Ленина, д. 5, кв. 12", extra="Не нужно")
    assert "зарегистрировано" in final
    [appeal] = await one(app, select(Appeal))
    assert appeal.answer_channel == "post"
    assert appeal.answer_address.startswith("414000")
    assert appeal.extra_channel is None


async def test_back_and_cancel_at_every_step(chat, app):
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Отопление и горячая вода")
    text = await chat.press("Назад")
    assert "О чём ваше обращение" in text
    await chat.press("Отопление и горячая вода")
    await chat.press("Пересчитать плату")
    await chat.say("Батареи холодные, а в квитанции полная сумма за отопление.")
    await chat.press("Далее")
    text = await chat.press("Назад")
    assert "Текст сохранён" in text  # the text is kept when going back
    await chat.press("Далее")
    await chat.say("Сидорова Анна")
    text = await chat.press("Отменить")
    assert "Черновик сохранён" in text and "Что вы хотите сделать?" in text  # cancelling keeps the draft
    assert await one(app, select(Appeal)) == []
    # After cancel the draft is gone.
    await chat.press("Подать обращение")
    await chat.press("Отопление и горячая вода")
    text = await chat.press("Пересчитать плату")
    assert "Опишите проблему" in text


async def test_edit_from_summary_returns_to_summary(chat, app):
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say(ROOF_TEXT)
    await chat.press("Далее")
    await chat.say("Иванова Мария")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Не нужно")
    await chat.press("Понятно, дальше")
    await chat.press("Изменить ФИО")
    text = await chat.say("Иванова Мария Петровна")
    assert "Проверьте обращение" in text and "ФИО: Иванова Мария Петровна" in text
    await chat.press("Изменить тему")
    await chat.press("Капитальный ремонт")
    text = await chat.press("Провести проверку")
    assert "Проверьте обращение" in text and "Тема: Капитальный ремонт" in text


async def test_typed_story_at_topic_step_suggests_a_topic_R_3_3(chat, app):
    """R-3.3: the system suggests a topic from the text; the citizen still picks."""
    await chat.command("start")
    await chat.press("Подать обращение")
    text = await chat.say("Уже неделю холодные батареи, отопление не работает")
    assert "Похоже, подходит тема «Отопление и горячая вода»" in text
    assert chat.labels[0] == "Отопление и горячая вода"
    await chat.press("Отопление и горячая вода")
    text = await chat.press("Устранить нарушение")
    assert "Текст сохранён" in text  # the story typed first is kept


async def test_button_label_typed_as_text_counts_as_press(chat):
    await chat.command("start")
    text = await chat.say("подать обращение")
    assert "О чём ваше обращение" in text


async def test_attachments_are_stored_with_the_appeal(chat, app):
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say(ROOF_TEXT)
    text = await chat.send_file("крыша.jpg", "image/jpeg", b"\xff\xd8\xff\xe0jpegdata")
    assert "Файл «крыша.jpg» приложен" in text
    await chat.press("Далее")
    await chat.say("Иванова Мария")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Не нужно")
    text = await chat.press("Понятно, дальше")
    assert "Файлов: 1" in text
    await chat.press("Отправить")
    [appeal] = await one(app, select(Appeal))
    [stored] = await one(app, select(StoredFile))
    assert stored.appeal_id == appeal.id and stored.file_name == "крыша.jpg"
    assert app.engine.deps.files.get(stored.sha256) == b"\xff\xd8\xff\xe0jpegdata"


async def test_settings_change_channel_and_withdraw_mailing_consent_R_2_1_R_4_1(chat, app, clock):
    """R-2.1: the notification channel can be changed later; R-4.1: consent withdrawal is timestamped."""
    await submit_appeal(chat)
    await chat.command("start")
    text = await chat.press("Настройки")
    assert "дублируются в Telegram" in text
    text = await chat.press("Уведомлять на e-mail")
    assert "электронную почту" in text
    text = await chat.press("Подписаться на рассылку")
    assert "Для неё нужно ваше согласие" in text and "ivanova@example.ru" in text
    text = await chat.press("Даю согласие")
    assert "подписаны" in text
    clock.now = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
    text = await chat.press("Отписаться от рассылки")
    assert "отписаны" in text
    mailing = [c for c in await one(app, select(Consent)) if c.kind == "mailing"]
    # Two rows: the grant is never overwritten; the withdrawal is its own row.
    assert [(c.withdrawal, c.withdrawn_at) for c in mailing] == [(False, None), (True, clock.now)]
    assert mailing[0].text_version == mailing[1].text_version == "m-2026-12"


async def test_one_citizen_cannot_see_another_ones_appeal(app):
    from tests.conftest import Chat

    alice, bob = Chat(app, "1"), Chat(app, "2")
    await submit_appeal(alice)
    text = await bob.command("status", "ЖН-2026-000001")
    assert "не найдено" in text
    await bob.command("start")
    await bob.press("Мои обращения")
    [appeal] = await one(app, select(Appeal))
    text = await bob.press_payload(f"ap:{appeal.id}")
    assert "устарела" in text and "Иванова" not in text
    identities = await one(app, select(Identity))
    assert len({i.citizen_id for i in identities}) == 2
