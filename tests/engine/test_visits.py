"""Visit booking (R-6.1–R-6.8): slots, the booking wizard, reminders through the outbox,
cancel and move, closing a day, the calendar file, the after-visit rating.

The clock is Tue 2026-03-03 10:00 UTC = 14:00 in Astrakhan (UTC+4). Mon 2026-03-09 is a day off
(8 March fell on a Sunday), so slots for 04.03–13.03 skip 07.03–09.03.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.app import build_app
from services.sender import OutboxSender
from services import citizens, outbox
from services import visits as V
from services.icalendar import ics
import texts as T

from storage.models import Citizen, Identity, OutboxMessage, Visit, VisitSlot
from tests.conftest import Chat, make_settings
from tests.outbox_helpers import recorders

UTC = timezone.utc
THU_10 = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)  # Thu 05.03 10:00 local
THU_1030 = THU_10 + timedelta(minutes=30)


async def add_slots(app, first=date(2026, 3, 4), last=date(2026, 3, 13), desk="Окно 1", minutes=30):
    async with app.sessionmaker() as s, s.begin():
        return await V.create_slots(s, app.engine.deps.calendar, desk=desk, staff_id=None,
                                    length=timedelta(minutes=minutes), first=first, last=last,
                                    now=app.engine.deps.clock())


async def open_booking(chat: Chat) -> str:
    """«Записаться на приём» from the main menu."""
    await chat.command("start")
    return await chat.press("Записаться на приём")


NAME, PHONE = "Иванова Мария Петровна", "+7 917 123-45-67"


async def visitor(chat: Chat, name: str = NAME, phone: str = PHONE) -> str:
    """Step 4 (the newcomer issue, item 13): answer what the wizard asks about who is coming —
    the name, the phone, the consent — or confirm them when they are known; it ends at the
    reminder question."""
    if "На приём записываем" in chat.text:
        await chat.press("Всё верно")
    if "Как вас записать" in chat.text:
        await chat.say(name)
    if "Укажите номер телефона" in chat.text:
        await chat.say(phone)
    if "Даёте согласие" in chat.text:
        await chat.press("Даю согласие")
    assert "Напомнить о приёме" in chat.text, chat.text
    return chat.text


async def book(chat: Chat, *, day="Чт 05.03", time="10:00", remind="Не напоминать", dup: str | None = None) -> str:
    await open_booking(chat)
    await chat.press("Содержание дома")
    await chat.press(day)
    await chat.press(time)
    await visitor(chat)
    text = await chat.press(remind)
    if dup is not None:
        text = await chat.press(dup)
    return text


async def rows(app, kind: str | None = None) -> list[OutboxMessage]:
    async with app.sessionmaker() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list((await s.scalars(stmt)).all())


async def all_visits(app) -> list[Visit]:
    async with app.sessionmaker() as s:
        return list((await s.scalars(select(Visit).order_by(Visit.id))).all())


def sender(app, clock, *channels: str):
    deliverers = recorders(*(channels or ("telegram",)))
    return OutboxSender(app.sessionmaker, deliverers, limits={}, clock=clock), deliverers


# --- slots ---------------------------------------------------------------------------------------

async def test_slots_follow_working_hours_skip_days_off_and_lunch_R_6_1(app):
    """R-6.1: slots only in working hours of working days; lunch excluded; pre-holiday day shorter."""
    made = await add_slots(app)
    assert made.days_off == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    assert len(made.working_days) == 7 and made.slots == 7 * 16
    tz = app.engine.deps.calendar.tz
    async with app.sessionmaker() as s:
        slots = (await s.scalars(select(VisitSlot))).all()
    local = [(x.starts_at.astimezone(tz), x.ends_at.astimezone(tz)) for x in slots]
    assert all(a.date().isoformat() not in ("2026-03-07", "2026-03-08", "2026-03-09") for a, _ in local)
    assert not any(a.hour == 12 for a, _ in local), "no slot in the lunch break"
    assert min(a.time() for a, _ in local).isoformat() == "08:30:00"
    assert max(b.time() for _, b in local).isoformat() == "17:30:00"
    assert (await add_slots(app)).slots == 0, "creating again adds nothing"
    assert (await add_slots(app, minutes=20)).slots == 0, "no overlapping slots on one desk"
    # 30.04.2026 is the eve of 1 May: the day ends at 16:30.
    eve = await add_slots(app, first=date(2026, 4, 30), last=date(2026, 4, 30), desk="Окно 2")
    assert eve.slots == 14
    async with app.sessionmaker() as s:
        last = await s.scalar(select(VisitSlot.ends_at).where(VisitSlot.desk == "Окно 2")
                              .order_by(VisitSlot.ends_at.desc()).limit(1))
    assert f"{last.astimezone(tz):%H:%M}" == "16:30"


async def test_database_refuses_a_second_active_visit_on_a_slot_R_6_2(app):
    """R-6.2: no slot is ever booked twice — the partial unique index enforces it."""
    await add_slots(app, first=date(2026, 3, 5), last=date(2026, 3, 5))
    now = app.engine.deps.clock()
    async with app.sessionmaker() as s, s.begin():
        c = Citizen()
        s.add(c)
        await s.flush()
        slot = await s.scalar(select(VisitSlot).order_by(VisitSlot.id).limit(1))
        fields = dict(citizen_id=c.id, slot_id=slot.id, topic="other", starts_at=slot.starts_at,
                      ends_at=slot.ends_at, channel="telegram", remind="none", revision=0, booked_at=now)
        s.add(Visit(status="cancelled", **fields))
        s.add(Visit(status="booked", **fields))
        await s.flush()  # a cancelled visit does not hold the slot
        with pytest.raises(IntegrityError):
            async with s.begin_nested():
                s.add(Visit(status="booked", **fields))


# --- the wizard ----------------------------------------------------------------------------------

async def test_booking_with_a_day_before_reminder_and_the_office_facts_R_6_2_R_6_3_R_6_5_R_6_7(app, chat):
    """R-6.2 the citizen picks from free days and times; R-6.3 a reminder the day before goes to
    the outbox due 24 h ahead and expiring at the start; R-6.5 address and directions;
    R-6.7 accessibility, no unfilled fact shown, no emoji-only buttons; a calendar file."""
    await add_slots(app)
    await open_booking(chat)
    assert "По какому вопросу" in chat.text
    await chat.press("Содержание дома")
    assert chat.labels[:3] == ["Ср 04.03", "Чт 05.03", "Пт 06.03"] and "Пн 09.03" not in chat.labels
    await chat.press("Чт 05.03")
    assert "5 марта (четверг)" in chat.text and "12:00" not in chat.labels and "13:00" in chat.labels
    await chat.press("10:00")
    await visitor(chat)
    assert "5 марта 2026 г. (четверг) в 10:00" in chat.text
    assert chat.labels[:3] == ["За день", "За два часа", "Не напоминать"]
    text = await chat.press("За день")
    assert "Вы записаны на приём" in text and "ЗАПОЛНИТЬ" not in text
    assert "Адрес: уточните, пожалуйста, по телефону +7 (8512) 24-50-22" in text
    assert "Как добраться:" in text and "Доступность для людей с инвалидностью:" in text
    assert "за день до приёма, придёт в Telegram" in text
    [ics] = chat.last.files
    assert ics.mime == "text/calendar" and ics.name.endswith(".ics")
    assert b"DTSTART:20260305T060000Z" in ics.data
    [reminder] = await rows(app, V.REMINDER_KIND)
    assert (reminder.channel, reminder.address, reminder.status) == ("telegram", "1001", "pending")
    assert reminder.not_before == THU_10 - timedelta(days=1) and reminder.expires_at == THU_10
    assert "5 марта 2026 г. (четверг) в 10:00" in reminder.text
    [visit] = await all_visits(app)
    assert visit.reminder_notice == reminder.notice and visit.remind == "day"
    for label in chat.labels:
        assert re.search(r"[А-Яа-яA-Za-z0-9]", label), f"R-6.7: {label!r} says nothing without its emoji"
    await chat.say("спасибо")  # redrawn screens do not repeat the file
    assert chat.last.files == []


async def test_two_hours_reminder_is_delivered_on_time_and_once_R_6_3(app, chat, clock):
    """R-6.3: the «two hours before» reminder goes out when its time comes, exactly once."""
    await add_slots(app)
    await book(chat, remind="За два часа")
    [reminder] = await rows(app, V.REMINDER_KIND)
    assert reminder.not_before == THU_10 - timedelta(hours=2)
    send, out = sender(app, clock)
    clock.now = THU_10 - timedelta(hours=2, minutes=1)
    assert await send.drain() == 0 and out["telegram"].sent == []
    clock.now = THU_10 - timedelta(hours=2) + timedelta(seconds=1)
    await send.drain()
    [(address, text, _)] = out["telegram"].sent
    assert address == "1001" and "Напоминаем о записи на приём" in text
    clock.now += timedelta(minutes=5)
    await send.drain()
    assert len(out["telegram"].sent) == 1, "never sent twice"


async def test_reminders_survive_a_restart_and_late_ones_still_go_before_the_start_R_6_3(app, chat, clock, db_url, tmp_path):
    """R-6.3: a new process on the same database keeps the reminders; one that fell due while
    the bot was down is still sent if the visit has not begun, and dropped once it has."""
    await add_slots(app)
    await book(chat, remind="За два часа")
    await book(chat, time="11:00", remind="За два часа")
    await app.close()
    clock.now = THU_10 - timedelta(minutes=90)  # 08:30: the bot was down when the 08:00 reminder fell due
    again = await build_app(make_settings(db_url, tmp_path), clock=clock)
    try:
        send, out = sender(again, clock)
        await send.drain()
        [(_, text, _)] = out["telegram"].sent
        assert "в 10:00" in text  # the 11:00 reminder is not due until 09:00 local
        clock.now = THU_10 + timedelta(hours=1, minutes=1)  # down again past the 11:00 start
        await send.drain()
        assert len(out["telegram"].sent) == 1
        statuses = sorted(r.status for r in await rows(again, V.REMINDER_KIND))
        assert statuses == [outbox.DROPPED, outbox.SENT]
    finally:
        await again.close()


async def test_duplicate_reminder_on_another_channel_R_6_4(app, chat):
    """R-6.4: with e-mail known, the reminder can be duplicated there: one notice, two rows."""
    await add_slots(app)
    await chat.command("start")
    async with app.sessionmaker() as s, s.begin():
        identity = await s.scalar(select(Identity).where(Identity.external_id == "1001"))
        (await s.get(Citizen, identity.citizen_id)).email = "ivanova@example.ru"
    await open_booking(chat)
    await chat.press("Содержание дома")
    await chat.press("Чт 05.03")
    await chat.press("10:00")
    await visitor(chat)
    await chat.press("За день")
    assert "Продублировать напоминание" in chat.text
    assert chat.labels[:2] == ["Да, ещё на e-mail", "Не нужно"]
    text = await chat.press("Да, ещё на e-mail")
    assert "придёт в Telegram и на электронную почту" in text
    reminders = await rows(app, V.REMINDER_KIND)
    assert {(r.channel, r.address) for r in reminders} == {("telegram", "1001"), ("email", "ivanova@example.ru")}
    assert len({r.notice for r in reminders}) == 1


async def test_no_duplicate_offer_without_another_channel_R_6_4(app, chat):
    await add_slots(app)
    text = await book(chat, remind="За день")
    assert "Вы записаны" in text and "Продублировать" not in text


async def test_cancel_withdraws_the_reminder_and_frees_the_slot_R_6_3(app, chat, clock):
    """R-6.3: a cancelled visit never gets its reminder."""
    await add_slots(app)
    await book(chat, remind="За день")
    await chat.press("Мои записи")
    assert chat.labels[0] == "Чт 05.03 в 10:00"
    await chat.press("Чт 05.03 в 10:00")
    await chat.press("Отменить запись")
    assert "Отменить запись на 5 марта 2026 г. (четверг) в 10:00?" in chat.text
    text = await chat.press("Да, отменить")
    assert "отменена" in text and "У вас нет предстоящих записей" in text
    [reminder] = await rows(app, V.REMINDER_KIND)
    assert reminder.status == outbox.CANCELLED
    [visit] = await all_visits(app)
    assert (visit.status, visit.cancel_reason) == (V.CANCELLED, V.BY_CITIZEN)
    send, out = sender(app, clock)
    clock.now = THU_10 - timedelta(hours=1)
    await send.drain()
    assert out["telegram"].sent == []
    async with app.sessionmaker() as s:
        assert THU_10 in await V.free_times(s, app.engine.deps.calendar.tz, date(2026, 3, 5), THU_10 - timedelta(days=1))


async def test_move_cancels_the_old_reminder_and_queues_a_new_one_R_6_3(app, chat):
    """R-6.3: a moved visit gets only the new reminder; the calendar file updates the same event."""
    await add_slots(app)
    await book(chat, remind="За два часа")
    await chat.press("Мои записи")
    await chat.press("Чт 05.03 в 10:00")
    await chat.press("Перенести")
    assert "Перенос записи с 5 марта" in chat.text
    await chat.press("Пт 06.03")
    text = await chat.press("11:30")
    assert "Запись перенесена" in text and "6 марта 2026 г. (пятница) в 11:30" in text
    old, new = await rows(app, V.REMINDER_KIND)
    assert old.status == outbox.CANCELLED and new.status == outbox.PENDING
    start = datetime(2026, 3, 6, 7, 30, tzinfo=UTC)
    assert new.not_before == start - timedelta(hours=2) and new.expires_at == start
    [visit] = await all_visits(app)
    assert (visit.starts_at, visit.revision, visit.reminder_notice) == (start, 1, new.notice)
    [ics] = chat.last.files
    assert f"UID:visit-{visit.id}@".encode() in ics.data and b"SEQUENCE:1" in ics.data
    async with app.sessionmaker() as s:
        assert THU_10 in await V.free_times(s, app.engine.deps.calendar.tz, date(2026, 3, 5), visit.booked_at)


async def test_at_most_two_future_visits(app, chat):
    await add_slots(app)
    assert "Вы записаны" in await book(chat)
    assert "Вы записаны" in await book(chat, time="11:00")
    await chat.press_payload("vmine:open")
    assert "Записаться на приём" not in chat.labels
    async with app.sessionmaker() as s, s.begin():
        citizen = await s.scalar(select(Citizen).join(Identity).where(Identity.external_id == "1001"))
        with pytest.raises(V.BookingError) as e:
            await V.book(s, citizen, V.Choice("other", THU_1030, "telegram"), now=app.engine.deps.clock(),
                         profile=app.profile, tz=app.engine.deps.calendar.tz)
    assert e.value.reason == V.BookingError.LIMIT


# --- who is coming (the newcomer issue, item 13) --------------------------------------------------

async def to_step_four(chat: Chat, time: str = "10:00") -> str:
    await open_booking(chat)
    await chat.press("Содержание дома")
    await chat.press("Чт 05.03")
    return await chat.press(time)


async def person(app, external_id: str = "1001") -> Citizen:
    async with app.sessionmaker() as s:
        return await s.scalar(select(Citizen).join(Identity).where(Identity.external_id == external_id))


async def test_a_first_time_citizen_is_asked_name_phone_and_consent_item_13(app, chat):
    """Item 13: a visit is not booked without knowing who comes: the name, a phone and the consent
    to process them (152-FZ art. 9) are asked after the time; they are kept with the consent."""
    await add_slots(app)
    assert "Как вас записать? Напишите фамилию, имя" in await to_step_four(chat)
    assert "Укажите номер телефона" in await chat.say("  Иванова   Мария Петровна ")
    text = await chat.say("8 917 123 45 67")
    assert "Согласие на обработку персональных данных" in text and "+7 917 123-45-67" in text
    assert chat.labels[:2] == ["Даю согласие", "Не даю согласия"]
    assert await all_visits(app) == [], "nothing booked before the consent"
    assert "Напомнить о приёме" in await chat.press("Даю согласие")
    assert "Вы записаны" in await chat.press("Не напоминать")
    citizen = await person(app)
    assert (citizen.full_name, citizen.phone) == ("Иванова Мария Петровна", "+79171234567")
    async with app.sessionmaker() as s:
        consent = await citizens.active_consent(s, citizen.id, citizens.VISIT_CONTACTS)
    assert consent.text_version == T.VISIT_CONSENT_VERSION and consent.source == "telegram"


async def test_a_known_visitor_is_shown_not_asked_again_and_can_change_the_phone_item_13(app, chat):
    """Item 13: the second time the name and phone are shown with an offer to change them, and the
    consent is not asked again; a changed phone is what the reception desk sees."""
    await add_slots(app)
    await book(chat)
    text = await to_step_four(chat, "11:00")
    assert "На приём записываем:\nИванова Мария Петровна, телефон +7 917 123-45-67" in text
    assert chat.labels[:3] == ["Всё верно", "Изменить ФИО", "Изменить телефон"]
    await chat.press("Изменить ФИО")
    assert "Как вас записать" in chat.text and "Иванова Мария Петровна" in chat.labels
    assert "На приём записываем" in await chat.press("Назад")
    assert "Напомнить о приёме" in await chat.press("Всё верно"), "a change not made is no change"
    assert "На приём записываем" in await chat.press("Назад")
    await chat.press("Изменить телефон")
    assert "Укажите номер телефона" in chat.text and "+7 917 123-45-67" in chat.labels
    text = await chat.say("+7 927 555-66-77")
    assert "телефон +7 927 555-66-77" in text and "Всё верно" in chat.labels
    assert "Напомнить о приёме" in await chat.press("Всё верно")
    assert "Вы записаны" in await chat.press("Не напоминать")
    assert (await person(app)).phone == "+79275556677"


async def test_a_name_known_from_an_appeal_is_offered_and_only_the_phone_is_asked_item_13(app, chat):
    await add_slots(app)
    await chat.command("start")
    async with app.sessionmaker() as s, s.begin():
        (await s.get(Citizen, (await person(app)).id)).full_name = "Петров Пётр"
    assert "Укажите номер телефона" in await to_step_four(chat)
    await chat.say("+7 917 123-45-67")
    assert "Даёте согласие" in chat.text
    await chat.press("Назад")
    assert "Укажите номер телефона" in chat.text


async def test_refusing_consent_books_nothing_and_offers_the_way_back_item_13(app, chat):
    """Item 13: without consent no visit: said politely, with the phone and a way back."""
    await add_slots(app)
    await to_step_four(chat)
    await chat.say("Иванова Мария Петровна")
    await chat.say("+7 917 123-45-67")
    text = await chat.press("Не даю согласия")
    assert "Без согласия на обработку ФИО и телефона записать на приём через бота нельзя" in text
    assert "24-50-22" in text and chat.labels == ["Вернуться к согласию", "Главное меню"]
    assert await all_visits(app) == []
    citizen = await person(app)
    assert (citizen.full_name, citizen.phone) == (None, None), "nothing kept without consent"
    assert "Даёте согласие" in await chat.press("Вернуться к согласию")
    await chat.press("Даю согласие")
    assert "Вы записаны" in await chat.press("Не напоминать")


async def test_a_bad_phone_or_name_gets_a_polite_reply_and_the_step_again_item_13(app, chat):
    """Item 13: the phone is checked as for callbacks (phonenumbers), the name as in appeals."""
    await add_slots(app)
    await to_step_four(chat)
    assert "Нужны и фамилия, и имя" in await chat.say("Иванова")
    assert "Как вас записать" in chat.text
    assert "фамилию и имя буквами" in await chat.say("12345")
    await chat.say("Иванова Мария")
    for bad in ("12345", "+7 700 123 45 67", "позвоните мне"):  # short, Kazakhstan, words
        text = await chat.say(bad)
        assert "Не получилось распознать номер" in text and "Укажите номер телефона" in text, bad
    assert "Даёте согласие" in await chat.say("+7 (917) 123-45-67")
    assert await all_visits(app) == []


async def test_withdrawing_the_visit_consent_deletes_the_phone_152_fz_art_9(app, chat):
    """«Мои данные» withdraws the consent in one step; the phone goes, the next booking asks again."""
    await add_slots(app)
    await book(chat)
    await chat.command("start")
    await chat.press("Настройки")
    await chat.press("Мои данные")
    text = await chat.press("Отозвать согласие на ФИО и телефон")
    assert "Согласие отозвано, номер телефона удалён" in text
    assert "Отозвать согласие" not in " ".join(chat.labels)
    assert (await person(app)).phone is None
    [visit] = await all_visits(app)
    assert visit.status == V.BOOKED
    assert "Укажите номер телефона" in await to_step_four(chat, "11:00")
    await chat.say("+7 917 123-45-67")
    assert "Даёте согласие" in chat.text


# --- bad input -----------------------------------------------------------------------------------

async def test_slot_taken_while_choosing_gets_a_polite_message_and_fresh_times_R_6_2(app):
    """R-6.2: another citizen took the time while this one chose the reminder."""
    await add_slots(app)
    first, second = Chat(app, user_id="2001"), Chat(app, user_id="2002")
    await open_booking(first)
    await first.press("Содержание дома")
    await first.press("Чт 05.03")
    await first.press("10:00")
    await visitor(first)
    assert "Вы записаны" in await book(second)
    text = await first.press("Не напоминать")
    assert "только что заняли" in text
    assert "10:00" not in first.labels and "10:30" in first.labels
    await first.press("10:30")
    assert "Вы записаны" in await first.press("Не напоминать")


async def test_time_button_taken_meanwhile_is_refused_politely_R_6_2(app):
    await add_slots(app)
    first, second = Chat(app, user_id="2001"), Chat(app, user_id="2002")
    await open_booking(first)
    await first.press("Содержание дома")
    await first.press("Чт 05.03")
    await book(second)
    text = await first.press_payload("vt:202603050600")  # the 10:00 button still on their screen
    assert "только что заняли" in text and "10:00" not in first.labels


async def test_a_day_already_past_is_refused_politely_R_6_2(app, chat, clock):
    await add_slots(app)
    await open_booking(chat)
    await chat.press("Содержание дома")
    clock.now = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)  # the citizen came back on Friday
    text = await chat.press("Чт 05.03")
    assert "Этот день уже прошёл" in text
    assert "Чт 05.03" not in chat.labels and "Пт 06.03" in chat.labels


async def test_text_where_a_button_is_expected(app, chat):
    await add_slots(app)
    await open_booking(chat)
    await chat.press("Содержание дома")
    await chat.press("Чт 05.03")
    text = await chat.say("можно утром пораньше?")
    assert "выберите вариант кнопкой" in text and "10:00" in chat.labels
    assert "Как вас записать" in await chat.say("10:30"), "a typed label counts as the button"


async def test_cancel_in_the_wizard_books_nothing(app, chat):
    await add_slots(app)
    await open_booking(chat)
    await chat.press("Содержание дома")
    assert "запись не оформлена" in await chat.press("Отменить")
    assert await all_visits(app) == []


async def test_no_free_days_says_so_with_the_phone(app, chat):
    await open_booking(chat)
    text = await chat.press("Содержание дома")
    assert "свободного времени для приёма нет" in text and "24-50-22" in text


# --- closing a day, staff ------------------------------------------------------------------------

async def test_closing_a_day_cancels_visits_with_a_notice_R_6_1(app, chat, clock):
    """Closing a day closes its slots and cancels booked visits, telling each citizen."""
    await add_slots(app)
    await book(chat, remind="За день")
    tz = app.engine.deps.calendar.tz
    async with app.sessionmaker() as s, s.begin():
        closed, cancelled = await V.close_day(s, day=date(2026, 3, 5), profile=app.profile, tz=tz, now=clock.now)
    assert (closed, cancelled) == (16, 1)
    [visit] = await all_visits(app)
    assert (visit.status, visit.cancel_reason) == (V.CANCELLED, V.BY_OFFICE)
    [reminder] = await rows(app, V.REMINDER_KIND)
    [notice] = await rows(app, V.CLOSED_KIND)
    assert reminder.status == outbox.CANCELLED
    assert notice.status == outbox.PENDING and notice.address == "1001" and "отменён" in notice.text
    async with app.sessionmaker() as s:
        assert date(2026, 3, 5) not in await V.free_days(s, tz, clock.now)


async def test_staff_lists_today_and_tomorrow_and_marks_visits(app, chat, clock):
    await add_slots(app, first=date(2026, 3, 3))
    await book(chat, day="Ср 04.03", time="10:00")
    tz = app.engine.deps.calendar.tz
    async with app.sessionmaker() as s:
        today, tomorrow = await V.today_and_tomorrow(s, tz, clock.now)
    assert today == [] and [v.starts_at for v in tomorrow] == [datetime(2026, 3, 4, 6, 0, tzinfo=UTC)]
    assert tomorrow[0].slot.desk == "Окно 1"
    async with app.sessionmaker() as s, s.begin():
        with pytest.raises(ValueError, match="not begun"):
            await V.mark(s, tomorrow[0].id, V.ATTENDED, now=clock.now)
    async with app.sessionmaker() as s, s.begin():
        visit = await V.mark(s, tomorrow[0].id, V.NO_SHOW, now=datetime(2026, 3, 4, 7, 0, tzinfo=UTC))
    assert visit.status == V.NO_SHOW


# --- the calendar file ---------------------------------------------------------------------------

def unfold(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    assert "\n" not in text.replace("\r\n", ""), "lines end with CRLF"
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, f"line longer than 75 octets: {line!r}"
    return text.replace("\r\n ", "").split("\r\n")


async def test_calendar_file_R_6_5(app):
    """R-6.5: the .ics has UTC times, UID, LOCATION, SUMMARY; folded and escaped per RFC 5545."""
    office = app.profile.office.model_copy(update={"address": "г. Астрахань, ул. Примерная, д. 1; каб. 5",
                                                   "directions": "Остановка «Площадь Ленина», вход со двора"})
    profile = app.profile.model_copy(update={"office": office})
    visit = Visit(id=7, topic="heating", starts_at=THU_10, ends_at=THU_1030, remind="2h", revision=2,
                  channel="telegram")
    lines = unfold(ics(visit, profile, now=datetime(2026, 3, 3, 10, 0, tzinfo=UTC)))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "DTSTART:20260305T060000Z" in lines and "DTEND:20260305T063000Z" in lines
    assert "DTSTAMP:20260303T100000Z" in lines and "SEQUENCE:2" in lines
    assert "UID:visit-7@zhilnadzor.astrobl.ru" in lines
    assert "LOCATION:г. Астрахань\\, ул. Примерная\\, д. 1\\; каб. 5" in lines
    assert "SUMMARY:Приём: Служба жилищного надзора" in lines
    [description] = [x for x in lines if x.startswith("DESCRIPTION:Тема")]
    assert "Отопление и горячая вода.\\nКак добраться: Остановка «Площадь Ленина»\\, вход со двора" in description
    assert "TRIGGER:-PT2H" in lines and lines.count("BEGIN:VEVENT") == 1
    # An unfilled address is never written into the file.
    assert "ЗАПОЛНИТЬ" not in "\n".join(unfold(ics(visit, app.profile, now=THU_10)))


# --- ratings -------------------------------------------------------------------------------------

async def test_rating_requested_once_after_the_visit_and_stored_R_6_8(app, chat, clock):
    """R-6.8: after the visit a rating request goes out once; the answer is stored with the visit,
    and only the visit's own citizen can rate it."""
    await add_slots(app)
    await book(chat)
    await book(chat, time="11:00")
    [first, second] = await all_visits(app)
    async with app.sessionmaker() as s, s.begin():
        await V.mark(s, second.id, V.NO_SHOW, now=THU_10 + timedelta(hours=1, minutes=20))
    assert await V.ask_ratings(app.sessionmaker, THU_1030, profile=app.profile, tz=app.engine.deps.calendar.tz) == 0, "not before the end and a short pause"
    clock.now = THU_1030 + V.RATING_DELAY
    job = V.rating_job(app)
    assert await job() == 1
    assert await job() == 0, "asked once"
    [request] = await rows(app, V.RATING_KIND)
    assert "5 марта 2026 г. (четверг) в 10:00" in request.text and request.address == "1001"
    assert [b["payload"] for r in request.buttons for b in r] == [f"vrate:{first.id}:{s}" for s in (3, 2, 1)]
    assert [b["label"] for r in request.buttons for b in r][0] == "Всё устраивает"
    stranger = Chat(app, user_id="3003")
    assert "Не нашли этот приём" in await stranger.press_payload(f"vrate:{first.id}:1")
    assert "Спасибо за оценку" in await chat.press_payload(f"vrate:{first.id}:3")
    assert "уже оценили" in await chat.press_payload(f"vrate:{first.id}:1")
    assert "Не нашли" in await chat.press_payload(f"vrate:{first.id}:9")
    visit = (await all_visits(app))[0]
    assert (visit.rating, visit.rated_at) == (3, clock.now)


async def test_rating_button_before_the_visit_is_refused_R_6_8(app, chat):
    await add_slots(app)
    await book(chat)
    [visit] = await all_visits(app)
    assert "после того, как он состоится" in await chat.press_payload(f"vrate:{visit.id}:3")


# --- the scheduler -------------------------------------------------------------------------------

async def test_scheduler_runs_interval_jobs_that_never_pile_up_or_get_dropped(app):
    """The periodic jobs: coalesced, one instance at a time, never dropped for being late,
    and run right at start so a restart catches up at once."""
    import asyncio

    from bot.scheduler import make_scheduler

    ran = {"plain": asyncio.Event(), "ratings": asyncio.Event()}
    rating_job = V.rating_job(app)

    async def plain():
        ran["plain"].set()

    async def ratings():
        await rating_job()
        ran["ratings"].set()

    scheduler = make_scheduler(app, [(plain, 60), (ratings, 60)])
    for j in scheduler.get_jobs():
        assert (j.coalesce, j.max_instances, j.misfire_grace_time) == (True, 1, None)
    assert len(scheduler.get_jobs()) == 2
    scheduler.start()
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ran.values())), 5)
    finally:
        await scheduler.stop()


# --- the channel-neutral contract ---------------------------------------------------------------

async def test_the_wizard_works_the_same_in_vk_and_the_console(app):
    await add_slots(app)
    for channel in ("vk", "console"):
        person = Chat(app, user_id=f"{channel}-1", channel=channel)
        text = await book(person, time="10:00" if channel == "vk" else "10:30", remind="За день")
        assert "Вы записаны" in text and person.last.files
    assert {r.channel for r in await rows(app, V.REMINDER_KIND)} == {"vk", "console"}


async def test_one_person_cannot_hold_two_desks_at_the_same_time(app, chat):
    """With two desks free at 10:00, a citizen who has 10:00 is not booked a second time at 10:00."""
    await add_slots(app)
    await add_slots(app, desk="Окно 2")
    assert "Вы записаны" in await book(chat)
    text = await book(chat)  # 10:00 is still offered: «Окно 2» is free then
    assert "уже есть запись на это время" in text and "10:30" in chat.labels
    assert len(await all_visits(app)) == 1


async def test_office_closed_notice_button_opens_the_booking_R_6_1(app, chat, clock):
    await add_slots(app)
    await book(chat)
    async with app.sessionmaker() as s, s.begin():
        await V.close_day(s, day=date(2026, 3, 5), profile=app.profile, tz=app.engine.deps.calendar.tz, now=clock.now)
    [notice] = await rows(app, V.CLOSED_KIND)
    [[button]] = notice.buttons
    assert button["label"] == "Записаться на приём"
    assert "По какому вопросу" in await chat.press_payload(button["payload"])
