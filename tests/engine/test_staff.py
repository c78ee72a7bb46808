"""Staff mode through the engine: queue, card, actions; nobody else gets in (R-3.4–R-3.9)."""
from __future__ import annotations

import pytest

from services.notices import KINDS
from sqlalchemy import select

from storage.models import Appeal, AppealEvent
from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import add_staff, outbox_rows


@pytest.fixture
async def staff_chat(app):
    await add_staff(app, name="Петрова А. А.", telegram_id="9001")
    return Chat(app, "9001", "telegram")


async def test_staff_take_and_answer_from_the_queue_R_3_8_R_3_9(chat, app, staff_chat):
    await submit_appeal(chat)
    text = await staff_chat.command("start")
    assert "Режим сотрудника: Петрова А. А." in text and "новые — 1" in text
    await staff_chat.press("Новые (1)")
    card = await staff_chat.press("ЖН-2026-000001")
    assert "Иванова Мария Петровна" in card and "течёт крыша" in card
    assert "Переадресовать можно до 10.03.2026" in card
    text = await staff_chat.press("Взять в работу")
    assert "Готово: взято в работу" in text and "Исполнитель: Петрова А. А." in text
    await staff_chat.press("Ответить")
    await staff_chat.press("Выдано предписание УК")
    text = await staff_chat.say("Срок исполнения — до 1 апреля.")
    assert "Проверьте и подтвердите" in text and "Срок исполнения — до 1 апреля." in text
    text = await staff_chat.press("Подтвердить")
    assert "Готово: ответ отправлен" in text and "дан ответ" in text
    rows = [r for r in await outbox_rows(app) if KINDS[r.kind].final]
    assert {r.channel for r in rows} == {"email", "telegram"}
    assert all("предписание" in r.text and "до 1 апреля" in r.text and "оцените" in r.text for r in rows)


async def test_refuse_with_template_redirect_and_extend(chat, app, staff_chat):
    """59-FZ art. 12 p. 2: the head extends the term (the operator is refused)."""
    await add_staff(app, name="Руководитель", role="supervisor", telegram_id="9009")
    await submit_appeal(chat)
    await submit_appeal(chat)
    await staff_chat.command("start")
    await staff_chat.press("Новые (2)")
    await staff_chat.press("ЖН-2026-000001")
    await staff_chat.press("Отказать")
    await staff_chat.press("Нарушение не подтвердилось")
    await staff_chat.press("Без пояснения")
    text = await staff_chat.press("Подтвердить")
    assert "отказ отправлен" in text
    refusal = [r for r in await outbox_rows(app) if KINDS[r.kind].final][0]
    assert "Нарушений, которые служба вправе требовать устранить, не найдено" in refusal.text

    await staff_chat.command("start")
    await staff_chat.press("Новые (1)")
    await staff_chat.press("ЖН-2026-000002")
    await staff_chat.press("Продлить срок")
    await staff_chat.press("+14 дн.")
    await staff_chat.say("Нужен ответ управляющей компании")
    text = await staff_chat.press("Подтвердить")
    assert "Продлить срок может только руководитель" in text
    boss = Chat(app, "9009", "telegram")
    await boss.command("start")
    await boss.press_payload("sc:2")
    await boss.press("Продлить срок")
    await boss.press("+14 дн.")
    await boss.say("Нужен ответ управляющей компании")
    text = await boss.press("Подтвердить")
    assert "срок продлён" in text and "Продлить срок" not in boss.labels
    await staff_chat.press("Переадресовать")
    await staff_chat.press("Роспотребнадзор")
    await staff_chat.say("Качество воды проверяет Роспотребнадзор.")
    text = await staff_chat.press("Подтвердить")
    assert "переадресовано" in text
    async with app.sessionmaker() as s:
        statuses = [a.status for a in (await s.execute(select(Appeal).order_by(Appeal.id))).scalars()]
    assert statuses == ["refused", "redirected"]


async def test_transfer_to_colleague_is_recorded_and_announced(chat, app, staff_chat):
    await add_staff(app, name="Сидоров Б. Б.", telegram_id="9002")
    await submit_appeal(chat)
    await staff_chat.command("start")
    await staff_chat.press("Новые (1)")
    await staff_chat.press("ЖН-2026-000001")
    await staff_chat.press("Передать коллеге")
    await staff_chat.press("Сидоров Б. Б.")
    await staff_chat.say("Это по капремонту")
    text = await staff_chat.press("Подтвердить")
    assert "передано коллеге" in text and "Исполнитель: Сидоров Б. Б." in text
    async with app.sessionmaker() as s:
        ev = (await s.execute(select(AppealEvent).where(AppealEvent.action == "transfer"))).scalar_one()
    assert ev.note == "→ Сидоров Б. Б.: Это по капремонту" and ev.actor == "staff"
    told = [r for r in await outbox_rows(app) if r.kind.startswith("staff.") and r.address == "9002"]
    assert any("передал(а) вам обращение ЖН-2026-000001" in r.text for r in told)


async def test_new_appeal_is_announced_to_staff_without_personal_data(chat, app, staff_chat):
    await submit_appeal(chat)
    [note] = [r for r in await outbox_rows(app) if r.kind.startswith("staff.")]
    assert note.address == "9001" and "ЖН-2026-000001" in note.text
    for private in ("Иванова", "ivanova@example.ru", "течёт крыша"):
        assert private not in note.text
    text = await staff_chat.press_payload(note.buttons[0][0]["payload"])
    assert "Иванова Мария Петровна" in text  # the card, for staff only


@pytest.mark.parametrize("payload", ["sq:new", "sc:1", "sa:answer:1", "sa:take:1", "sv:confirm", "st:letters",
                                     "menu:staff"])
async def test_citizens_cannot_reach_any_staff_screen(chat, app, payload):
    """Forged callback data from a non-staff user never opens a staff screen or acts."""
    await submit_appeal(chat)
    text = await chat.press_payload(payload)
    assert "Иванова Мария Петровна" not in text or "Проверьте обращение" in text
    assert "Режим сотрудника" not in text
    async with app.sessionmaker() as s:
        appeal = (await s.execute(select(Appeal))).scalar_one()
    assert appeal.status == "registered" and appeal.assigned_staff_id is None


async def test_removed_staff_member_loses_access_mid_action(chat, app, staff_chat):
    await submit_appeal(chat)
    await staff_chat.command("start")
    await staff_chat.press("Новые (1)")
    await staff_chat.press("ЖН-2026-000001")
    await staff_chat.press("Взять в работу")
    await staff_chat.press("Ответить")
    await staff_chat.say("Ответ")
    async with app.sessionmaker() as s, s.begin():
        from storage.models import Staff

        member = (await s.execute(select(Staff))).scalar_one()
        member.active = False
    text = await staff_chat.press("Подтвердить")
    assert "только сотрудникам" in text
    async with app.sessionmaker() as s:
        assert (await s.execute(select(Appeal))).scalar_one().status == "in_work"


async def test_illegal_action_is_refused_with_a_clear_message(chat, app, staff_chat):
    await submit_appeal(chat)
    await staff_chat.command("start")
    await staff_chat.press("Новые (1)")
    await staff_chat.press("ЖН-2026-000001")
    text = await staff_chat.press_payload("sa:answer:1")  # not offered: registered, not in work
    assert "устарела" in text
    await staff_chat.press("Отказать")
    await staff_chat.press("Уже отвечали")
    await staff_chat.press("Без пояснения")
    # meanwhile a colleague refuses it from another session
    other = await add_staff(app, name="Другой", telegram_id="9005")
    from tests.outbox_helpers import act

    await act(app, "not_consider", other, note="insult")
    text = await staff_chat.press("Подтвердить")
    assert "Так нельзя: обращение ЖН-2026-000001 сейчас в статусе «не рассматривается по существу»" in text


async def test_staff_group_chat_gets_announcements_when_configured(chat, app, staff_chat):
    app.engine.deps.staff_chat = ("telegram", "-100500")
    await submit_appeal(chat)
    notes = [r for r in await outbox_rows(app) if r.kind.startswith("staff.")]
    assert {r.address for r in notes} == {"9001", "-100500"}
    assert all("Иванова" not in r.text for r in notes)


async def test_staff_see_todays_visits_and_mark_them_R_6_1(chat, app, staff_chat, clock):
    from datetime import date, timedelta

    from tests.engine.test_visits import add_slots, book

    await add_slots(app, first=date(2026, 3, 3))
    await book(chat, day="Ср 04.03", time="10:00")
    await chat.command("start")  # keep the citizen's name on the visit
    clock.now += timedelta(days=1)  # Wed 4 March, 14:00 local: the visit was at 10:00
    await staff_chat.command("start")
    text = await staff_chat.press("Приём сегодня и завтра")
    assert "Сегодня:\n10:00 · Окно 1" in text and "записан на приём" in text
    # the newcomer issue, item 13: reception sees who is coming
    assert "10:00 · Окно 1 · Иванова Мария Петровна, +7 917 123-45-67 · " in text
    text = await staff_chat.press("10:00 неявка")
    assert "Отмечено: 10:00 — неявка." in text
    assert "10:00 явка" not in staff_chat.labels
    forged = await chat.press_payload("svm:1:a")  # a citizen cannot mark visits
    assert "Приём сегодня" not in forged
    from storage.models import Visit

    async with app.sessionmaker() as s:
        visit = (await s.execute(select(Visit))).scalar_one()
    assert visit.status == "no_show"
