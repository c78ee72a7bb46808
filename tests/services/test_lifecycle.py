"""The appeal state machine and the notices it produces (R-3.4–R-3.9)."""
from __future__ import annotations

from datetime import date

import pytest

from services.notices import KINDS
from sqlalchemy import select

from services.lifecycle import IllegalMove
from storage.models import AppealEvent, Rating
from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import act, add_staff, appeal, outbox_rows


async def test_full_lifecycle_history_and_notices_R_3_6_R_3_8_R_3_9(chat, app):
    """Every move is recorded with actor and time; a clarifying question reaches the citizen and
    the reply is attached to the appeal (R-3.6); the answer goes to the mandatory e-mail AND the
    chosen messenger (R-3.8), and carries the survey and an in-bot rating (R-3.9)."""
    await submit_appeal(chat)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "ask", staff, note="Какой номер квартиры?")
    await chat.press_payload("clar:1")
    text = await chat.say("Квартира 12")
    assert "ваш ответ приложен к обращению ЖН-2026-000001" in text
    await act(app, "answer", staff, note="Управляющей компании выдано предписание починить крышу до 1 апреля.")
    a = await appeal(app)
    assert a.status == "answered" and a.assigned_staff_id == staff.id
    async with app.sessionmaker() as s:
        events = (await s.execute(select(AppealEvent).order_by(AppealEvent.id))).scalars().all()
    assert [(e.action, e.actor, e.status_to) for e in events] == [
        ("registered", "citizen", "registered"), ("take", "staff", "in_work"),
        ("ask", "staff", "clarification"), ("clarified", "citizen", "in_work"), ("answer", "staff", "answered")]
    assert events[3].note == "Квартира 12"
    rows = await outbox_rows(app)
    answer_rows = [r for r in rows if KINDS[r.kind].final]
    assert {(r.channel, r.address) for r in answer_rows} == {("email", "ivanova@example.ru"), ("telegram", "1001")}
    for r in answer_rows:
        assert "выдано предписание" in r.text
        assert "оцените" in r.text
        assert [b["payload"] for row in r.buttons for b in row] == ["rate:1:3", "rate:1:2", "rate:1:1"]
    # registration: only e-mail (the chat saw it); in work and the question: both channels
    status = [(r.channel, r.text.split("\n")[0]) for r in rows
              if (r.kind.startswith(("appeal.", "message.")) and not KINDS[r.kind].final)]
    assert status == [("email", "Сообщение ЖН-2026-000001 зарегистрировано. Ответ подготовим не позднее 02.04.2026."),
                      ("email", "Обращение ЖН-2026-000001 взято в работу. Ответ подготовим не позднее 02.04.2026."),
                      ("telegram", "Обращение ЖН-2026-000001 взято в работу. Ответ подготовим не позднее 02.04.2026."),
                      ("email", "По обращению ЖН-2026-000001 специалисту нужно уточнение:"),
                      ("telegram", "По обращению ЖН-2026-000001 специалисту нужно уточнение:")]
    assert "Какой номер квартиры?" in rows[-4].text
    staff_rows = [r for r in rows if r.kind.startswith("staff.")]
    # no staff existed at registration; the one at work is told the citizen answered
    assert [(r.kind, r.channel, r.address) for r in staff_rows] == [("staff.clarified", "telegram", "9001")]
    assert any(b["payload"] == "clar:1" for r in rows for row in r.buttons for b in row)


async def test_rating_is_stored_per_appeal_channel_and_staff_R_3_9(chat, app):
    await submit_appeal(chat)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "answer", staff, note="Ответ.")
    text = await chat.press_payload("rate:1:2")
    assert "Спасибо за оценку" in text
    await chat.press_payload("rate:1:3")  # a change of mind replaces the score
    async with app.sessionmaker() as s:
        [rating] = (await s.execute(select(Rating))).scalars().all()
    assert (rating.appeal_id, rating.channel, rating.staff_id, rating.score) == (1, "telegram", staff.id, 3)


async def test_forged_rating_and_clarification_buttons_are_refused(chat, app):
    await submit_appeal(chat)
    other = Chat(app, "2002")
    await other.command("start")
    assert "не найдено" in await other.press_payload("rate:1:3")  # not their appeal
    assert "устарела" in await other.press_payload("clar:1")
    assert "не найдено" in await chat.press_payload("rate:1:3")  # not final yet
    assert "уточнений не нужно" in await chat.press_payload("clar:1")  # no question asked
    assert "не найдено" in await chat.press_payload("rate:abc")


async def test_illegal_transitions_are_refused_with_a_clear_message(chat, app):
    await submit_appeal(chat)
    staff = await add_staff(app)
    with pytest.raises(IllegalMove, match="^status$"):
        await act(app, "answer", staff, note="x")
    with pytest.raises(IllegalMove, match="^text$"):
        await act(app, "refuse", staff, note="")
    await act(app, "take", staff)
    await act(app, "refuse", staff, note="Нарушение не подтвердилось: проверка 2 марта нарушений не нашла.")
    with pytest.raises(IllegalMove, match="^supervisor$"):
        await act(app, "reopen", staff)
    boss = await add_staff(app, name="Руководитель", role="supervisor", telegram_id="9002")
    await act(app, "reopen", boss)
    assert (await appeal(app)).status == "in_work"


async def test_deadline_extension_once_with_reason_told_to_citizen_59_FZ_art_12(chat, app):
    await submit_appeal(chat)
    staff = await add_staff(app, role="supervisor")
    await act(app, "take", staff)
    await act(app, "extend", staff, days=30, note="нужна выездная проверка")
    a = await appeal(app)
    # 2 April 2026 + 30 days = 2 May 2026 (Saturday) -> next working day after the May holidays.
    assert a.deadline == date(2026, 5, 4) and a.extended
    notice = (await outbox_rows(app))[-1]
    assert "продлён до 04.05.2026" in notice.text and "выездная проверка" in notice.text
    with pytest.raises(IllegalMove, match="^extended$"):
        await act(app, "extend", staff, days=5, note="ещё")


async def test_redirect_notice_goes_by_chosen_and_mandatory_channels_R_3_5(chat, app):
    await submit_appeal(chat)
    staff = await add_staff(app)
    await act(app, "redirect", staff, agency="Роспотребнадзор", note="Качество воды проверяет Роспотребнадзор.")
    rows = [r for r in await outbox_rows(app) if KINDS[r.kind].final]
    assert {r.channel for r in rows} == {"email", "telegram"}
    assert all("передано в Роспотребнадзор" in r.text for r in rows)


async def test_abuse_screen_override_keeps_the_appeal_without_a_word_to_the_citizen_R_3_4(chat, app):
    """R-3.4, 59-FZ art. 11 p. 3: a flagged appeal is registered; staff override a false positive
    and the citizen, never told anything negative, gets no notice of it."""
    final = await submit_appeal(chat, text="Вы там все идиоты и дебилы, почините крышу, иначе пожалеете")
    assert "зарегистрировано" in final and "по существу" not in final
    a = await appeal(app)
    assert a.status == "registered" and a.abuse_category and a.screen_state == "flagged"
    before = len(await outbox_rows(app))
    staff = await add_staff(app)
    await act(app, "override", staff)
    a = await appeal(app)
    assert a.status == "registered" and a.screen_state == "overridden"
    assert len(await outbox_rows(app)) == before


async def test_transfer_is_recorded_and_told_to_the_citizen_without_the_colleague_R_5_7(chat, app):
    await submit_appeal(chat)
    a1 = await add_staff(app)
    a2 = await add_staff(app, name="Сидоров", telegram_id="9003")
    await act(app, "take", a1)
    before = len(await outbox_rows(app))
    await act(app, "transfer", a1, to_staff=a2, note="вопрос по капремонту, это к Сидорову")
    assert (await appeal(app)).assigned_staff_id == a2.id
    new = (await outbox_rows(app))[before:]
    told = [r for r in new if r.kind == "appeal.transferred"]
    assert told and {r.channel for r in told} == {"email", "telegram"}  # the citizen hears of it
    assert all("передано другому специалисту" in r.text and "Сидоров" not in r.text for r in told)
    assert len(told) == len(new)
    await chat.command("start")
    await chat.press("Мои обращения")
    card = await chat.press("ЖН-2026-000001")
    assert "Сидоров" not in card


async def test_clarification_reply_with_a_photo_is_attached_to_the_appeal_R_3_6(chat, app):
    from storage.models import StoredFile

    await submit_appeal(chat)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "ask", staff, note="Пришлите фото потолка.")
    await chat.press_payload("clar:1")
    assert "приложен" in await chat.send_file("потолок.jpg", "image/jpeg", b"\xff\xd8\xff\xe0photo")
    assert "ваш ответ приложен" in await chat.say("Вот фото, течёт над кухней.")
    async with app.sessionmaker() as s:
        [photo] = (await s.execute(select(StoredFile))).scalars().all()
    assert photo.appeal_id == 1 and photo.file_name == "потолок.jpg"
    assert (await appeal(app)).status == "in_work"


async def test_a_colleague_taking_over_does_not_tell_the_citizen_again(chat, app):
    await submit_appeal(chat)
    first = await add_staff(app)
    second = await add_staff(app, name="Сидоров", telegram_id="9003")
    await act(app, "take", first)
    await act(app, "take", second)
    assert sum("взято в работу" in r.text for r in await outbox_rows(app)) == 2  # e-mail + Telegram, once
    assert (await appeal(app)).assigned_staff_id == second.id
