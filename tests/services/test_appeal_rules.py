"""59-FZ as amended by 547-FZ: kinds of message, the answer address, the abuse screen decided by
an official, terms and their extension, the 7-day limits, repeats, withdrawal, court decisions,
clarifications. Each test names the article it proves; storage tests run on both databases."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.lifecycle import IllegalMove
from storage.appeal_rules_models import Verification
from storage.models import AppealEvent, Citizen
from storage.repos import people
from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import act, add_staff, appeal, outbox_rows

ABUSE = "Вы там все идиоты и дебилы, почините крышу, иначе пожалеете"


def set_limits(app, **limits):
    profile = app.profile.model_copy(update={"limits": app.profile.limits.model_copy(update=limits)})
    app.profile = app.engine.deps.profile = profile


async def verify(app, citizen_id=1, name="Иванова Мария Петровна"):
    async with app.sessionmaker() as s, s.begin():
        s.add(Verification(citizen_id=citizen_id, subject="esia-1", full_name=name, assurance_level="trusted"))
        people.touch(await s.get(Citizen, citizen_id))  # as the identity page does (services/verification.py)


async def kinds_of_notices(app):
    return [r.kind for r in await outbox_rows(app)]


# ------------------------------------------------------------------ kinds, art. 4, 7
async def test_unidentified_submission_is_a_message_and_told_how_to_make_it_formal_59_FZ_art_4_547_FZ(chat, app):
    final = await submit_appeal(chat)
    assert "Это сообщение, а не обращение по закону № 59-ФЗ" in final
    assert "Подтвердить личность" in chat.labels
    assert (await appeal(app)).kind == "message"
    staff = await add_staff(app)
    card = await Chat(app, staff.identities[0].user_id, "telegram").press_payload("sc:1")
    assert "Вид: сообщение" in card


async def test_identified_submission_is_an_appeal_under_59_FZ_art_4_art_7(chat, app):
    await chat.command("start")
    await verify(app)
    final = await submit_appeal(chat)
    assert "Это обращение по закону № 59-ФЗ" in final
    assert (await appeal(app)).kind == "appeal"
    assert "appeal.registered" in await kinds_of_notices(app)


async def test_foreign_answer_email_refused_for_a_59_FZ_appeal_art_7_p_3_547_FZ(chat, app):
    """Art. 7 p. 3: the answer address of an appeal is in .ru/.рф/.su; a postal address is fine;
    a message may use any valid address."""
    await chat.command("start")
    await verify(app)
    await chat.press("Подать обращение")
    for label in ("Содержание дома", "Устранить нарушение"):
        await chat.press(label)
    await chat.say("В подъезде дома 5 течёт крыша.")
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    text = await chat.say("ivanova@gmail.com")
    assert "российской зоне — .ru, .рф или .su" in text
    text = await chat.say("Иван Петров ivan@mail.ru")
    assert "только адрес" in text
    text = await chat.say("ivanova@почта.рф")
    assert "дублировать" in text.lower() or "уведомления" in text.lower()


async def test_the_profile_may_give_a_message_its_own_term_547_FZ(chat, app):
    set_limits(app, message_answer_days=15)
    await submit_appeal(chat)
    assert (await appeal(app)).deadline == date(2026, 3, 18)
    await verify(app)
    await submit_appeal(chat, text="Во дворе дома 9 не вывозят мусор третью неделю.")
    assert (await appeal(app, 2)).deadline == date(2026, 4, 2)


async def test_message_may_answer_to_any_valid_email_547_FZ(chat, app):
    final = await submit_appeal(chat, email="ivanova@gmail.com")
    assert "зарегистрировано" in final and (await appeal(app)).answer_address == "ivanova@gmail.com"


# ------------------------------------------------------------------ abuse, art. 11 p. 3
async def test_screen_only_flags_and_an_official_confirms_with_the_inadmissibility_notice_59_FZ_art_11_p_3(chat, app):
    final = await submit_appeal(chat, text=ABUSE)
    assert "не может быть рассмотрено" not in final and "по существу" not in final
    rows = await outbox_rows(app)
    assert not any(r.kind == "appeal.not_considered" for r in rows)
    a = await appeal(app)
    assert a.status == "registered" and a.screen_state == "flagged"
    staff = await add_staff(app)
    staff_chat = Chat(app, "9001", "telegram")
    await staff_chat.command("start")
    assert "Отмечены проверкой (1)" in staff_chat.labels
    card = await staff_chat.press_payload("sc:1")
    assert "Гражданину ничего не сообщено" in card
    await act(app, "confirm_abuse", staff)
    a = await appeal(app)
    assert a.status == "not_considered" and a.screen_state == "confirmed"
    [notice, *_] = [r for r in await outbox_rows(app) if r.kind == "appeal.not_considered"]
    assert "злоупотреблять" in notice.text and "статье 11" in notice.text
    with pytest.raises(IllegalMove, match="^status$"):
        await act(app, "override", staff)


async def test_citizen_history_never_shows_the_screen_before_an_official_decides_59_FZ_art_11_p_3(chat, app):
    await submit_appeal(chat, text=ABUSE)
    await chat.press("Мои обращения")
    card = await chat.press("ЖН-2026-000001 · зарегистрировано")
    assert "по существу" not in card and "Отозвать обращение" in chat.labels


# ------------------------------------------------------------------ terms, art. 12
async def test_statutory_day_is_kept_and_the_shown_date_follows_the_profile_rule_59_FZ_art_12(chat, app, clock):
    """Registration Thu 05.03.2026 + 30 days = Sat 04.04.2026: shown as Mon 06.04 (next working
    day) or Fri 03.04 (previous), the statutory day is kept as it is."""
    clock.now = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
    await submit_appeal(chat)
    a = await appeal(app)
    assert (a.statutory_deadline, a.deadline) == (date(2026, 4, 4), date(2026, 4, 6))
    set_limits(app, deadline_shift="previous")
    await submit_appeal(chat)
    a = await appeal(app, 2)
    assert (a.statutory_deadline, a.deadline) == (date(2026, 4, 4), date(2026, 4, 3))


async def test_extension_adds_at_most_30_days_to_the_statutory_day_once_by_the_head_59_FZ_art_12_p_2(chat, app, clock):
    clock.now = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
    await submit_appeal(chat)
    operator = await add_staff(app)
    boss = await add_staff(app, name="Руководитель", role="supervisor", telegram_id="9002")
    with pytest.raises(IllegalMove, match="^extend_role$"):
        await act(app, "extend", operator, days=30, note="выездная проверка")
    with pytest.raises(IllegalMove, match="^extend_days$"):
        await act(app, "extend", boss, days=31, note="выездная проверка")
    await act(app, "extend", boss, days=30, note="выездная проверка")
    a = await appeal(app)
    # 04.04 + 30 = 04.05.2026 (a working Monday), not 06.04 + 30 = 06.05: at most 60 days in total.
    assert (a.statutory_deadline, a.deadline, a.extended) == (date(2026, 5, 4), date(2026, 5, 4), True)
    assert "продлён до 04.05.2026" in (await outbox_rows(app))[-1].text
    with pytest.raises(IllegalMove, match="^extended$"):
        await act(app, "extend", boss, days=5, note="ещё")


async def test_extension_refused_after_the_deadline_and_the_role_comes_from_the_profile_59_FZ_art_12_p_2(chat, app, clock):
    await submit_appeal(chat)
    operator = await add_staff(app)
    clock.now += timedelta(days=31)  # past 02.04.2026
    set_limits(app, extend_role="operator")
    with pytest.raises(IllegalMove, match="^extend_late$"):
        await act(app, "extend", operator, days=10, note="поздно")
    clock.now -= timedelta(days=10)
    await act(app, "extend", operator, days=10, note="нужен ответ УК")
    assert (await appeal(app)).extended


# ------------------------------------------------------------------ redirects, art. 8 p. 3
async def test_redirect_limit_queue_warning_and_a_late_redirect_needs_a_reason_59_FZ_art_8_p_3(chat, app, clock):
    await submit_appeal(chat)  # registered 03.03.2026; the 7 days run to 10.03
    staff = await add_staff(app)
    staff_chat = Chat(app, "9001", "telegram")
    await staff_chat.command("start")
    assert "7 дней истекают (0)" in staff_chat.labels
    clock.now += timedelta(days=6)
    await staff_chat.command("start")
    assert "7 дней истекают (1)" in staff_chat.labels
    card = await staff_chat.press_payload("sc:1")
    assert "переадресовать или вернуть можно до 10.03.2026" in card
    clock.now += timedelta(days=2)  # 11.03: late
    card = await staff_chat.press_payload("sc:1")
    assert "7 дней на переадресацию прошли 10.03.2026" in card
    with pytest.raises(IllegalMove, match="^late_reason$"):
        await act(app, "redirect", staff, agency="Роспотребнадзор", note="Вода — их вопрос.")
    await staff_chat.press("Переадресовать")
    await staff_chat.press("Роспотребнадзор")
    text = await staff_chat.say("Качество воды проверяет Роспотребнадзор.")
    assert "Напишите, почему переадресация или возврат позже срока" in text
    await staff_chat.say("Заявитель уточнил суть вопроса только 9 марта.")
    await staff_chat.press("Подтвердить")
    a = await appeal(app)
    assert a.status == "redirected"
    async with app.sessionmaker() as s:
        ev = (await s.execute(select(AppealEvent).where(AppealEvent.action == "redirect"))).scalar_one()
    assert "после 7 дней: Заявитель уточнил" in ev.note


async def test_redirect_in_time_asks_no_late_reason_59_FZ_art_8_p_3(chat, app):
    await submit_appeal(chat)
    await add_staff(app)
    staff_chat = Chat(app, "9001", "telegram")
    await staff_chat.command("start")
    await staff_chat.press_payload("sc:1")
    await staff_chat.press("Переадресовать")
    await staff_chat.press("Роспотребнадзор")
    text = await staff_chat.say("Качество воды проверяет Роспотребнадзор.")
    assert "Проверьте и подтвердите" in text


# ------------------------------------------------------------------ repeats, art. 11 p. 5
async def test_repeat_is_linked_and_the_head_stops_correspondence_59_FZ_art_11_p_5(chat, app):
    await submit_appeal(chat)
    operator = await add_staff(app)
    boss = await add_staff(app, name="Руководитель", role="supervisor", telegram_id="9002")
    with pytest.raises(IllegalMove, match="^not_repeated$"):
        await act(app, "stop", boss, note="—")
    await act(app, "take", operator)
    await act(app, "answer", operator, note="Предписание выдано, крышу починят до 1 апреля.")
    await submit_appeal(chat)
    second = await appeal(app, 2)
    assert second.repeat_of_id == 1
    boss_chat = Chat(app, "9002", "telegram")
    card = await boss_chat.press_payload("sc:2")
    assert "Повторное: ранее ЖН-2026-000001 (дан ответ)" in card and "Прекратить переписку" in boss_chat.labels
    with pytest.raises(IllegalMove, match="^supervisor$"):
        await act(app, "stop", operator, appeal_id=2, note="Ответ дан 03.03.2026, новых доводов нет.")
    await act(app, "stop", boss, appeal_id=2, note="Ответ дан 03.03.2026, новых доводов нет.")
    assert (await appeal(app, 2)).status == "stopped"
    told = [r for r in await outbox_rows(app) if r.kind == "appeal.stopped"]
    assert told and all("прекратить переписку" in r.text for r in told)


async def test_a_different_matter_is_not_linked_59_FZ_art_11_p_5(chat, app):
    await submit_appeal(chat)
    await submit_appeal(chat, text="Во дворе дома 9 по улице Кирова третью неделю не вывозят мусор с площадки.")
    assert (await appeal(app, 2)).repeat_of_id is None


# ------------------------------------------------------------------ withdrawal, art. 11 p. 5 and practice
async def test_citizen_withdraws_before_an_answer_and_it_is_in_the_history(chat, app):
    await submit_appeal(chat)
    await chat.press("Мои обращения")
    await chat.press("ЖН-2026-000001 · зарегистрировано")
    await chat.press("Отозвать обращение")
    text = await chat.press("Да, отозвать")
    assert "Обращение ЖН-2026-000001 отозвано." in text
    a = await appeal(app)
    assert a.status == "withdrawn"
    async with app.sessionmaker() as s:
        ev = (await s.execute(select(AppealEvent).where(AppealEvent.action == "withdraw"))).scalar_one()
    assert (ev.actor, ev.actor_id) == ("citizen", a.citizen_id)
    staff = await add_staff(app)
    with pytest.raises(IllegalMove):
        await act(app, "answer", staff, note="поздно")


async def test_withdrawal_refused_after_an_answer(chat, app):
    await submit_appeal(chat)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "answer", staff, note="Ответ по существу.")
    text = await chat.press_payload("wd:1")
    assert "отозвать нельзя" in text


# ------------------------------------------------------------------ court decisions, art. 11 p. 2
async def test_court_decision_appeal_is_returned_with_how_to_appeal_within_7_days_59_FZ_art_11_p_2(chat, app, clock):
    await submit_appeal(chat)
    staff = await add_staff(app)
    await act(app, "court", staff, note="Речь о решении мирового судьи по делу о долге за ЖКУ.")
    assert (await appeal(app)).status == "returned"
    [row, *_] = [r for r in await outbox_rows(app) if r.kind == "appeal.court_returned"]
    assert "через суд, который вынес решение" in row.text and "мирового судьи" in row.text
    await submit_appeal(chat, text="Прошу отменить решение суда о взыскании долга за отопление.")
    clock.now += timedelta(days=8)
    with pytest.raises(IllegalMove, match="^late_reason$"):
        await act(app, "court", staff, appeal_id=2, note="Решение суда о долге.")


# ------------------------------------------------------------------ clarifications
async def test_staff_told_when_the_citizen_answers_and_the_card_shows_both_R_3_6(chat, app):
    await submit_appeal(chat)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "ask", staff, note="Какой номер квартиры?")
    await chat.press_payload("clar:1")
    await chat.say("Квартира 12")
    [told] = [r for r in await outbox_rows(app) if r.kind == "staff.clarified"]
    assert (told.channel, told.address) == ("telegram", "9001")
    assert "гражданин ответил на уточняющий вопрос" in told.text
    card = await Chat(app, "9001", "telegram").press_payload("sc:1")
    assert "Вопрос: Какой номер квартиры?\nОтвет: Квартира 12" in card
