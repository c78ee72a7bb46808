"""A live specialist (R-5.3, R-5.7, R-5.8, R-5.12): a citizen in Telegram talks to a staff member
in VK through the outbox, the conversation is transferred, the third transfer is refused, idle
conversations end, and the citizen answers the two questions."""
from __future__ import annotations

from datetime import timedelta

import pytest

import texts as T

from bot.runner import periodic_jobs
from tests.conftest import Chat
from tests.consult_helpers import Post, add_member, consultations, participants
from tests.journey import submit_appeal

PHOTO = b"\xff\xd8\xff\xe0" + b"roof photo" * 50


@pytest.fixture
async def people(app):
    petrova = await add_member(app, "Петрова А. А.", "vk", "5001")
    sidorov = await add_member(app, "Сидоров Б. Б.", "telegram", "9002")
    return Chat(app, "1001", "telegram"), Chat(app, "5001", "vk"), Chat(app, "9002", "telegram"), petrova, sidorov


async def on_line(staff: Chat) -> str:
    await staff.command("start")
    return await staff.press("Встать на линию")


async def test_citizen_and_staff_in_different_channels_talk_through_the_outbox_R_5_3(app, people):
    citizen, officer, _, petrova, _ = people
    await submit_appeal(citizen)
    assert "вы не на линии" in await officer.command("start")
    assert "вы на линии" in await officer.press("Встать на линию")

    await citizen.command("start")
    assert "ваш номер — 1" in await citizen.press("Связаться со специалистом")
    other = Chat(app, "1002", "telegram")
    await other.command("start")
    assert "ваш номер — 2" in await other.press("Связаться со специалистом")
    post = await Post(app).drain()
    assert [t for t in post["vk"].texts("5001") if "Новый разговор" in t] == [
        "Новый разговор в очереди, ждут: 1.", "Новый разговор в очереди, ждут: 2."]

    text = await officer.command("start")
    assert "ждут разговора — 2" in text
    await officer.press("Ждут разговора (2)")
    card = await officer.press("№ 1")
    assert "Разговор № 1" in card and "ЖН-2026-000001 (зарегистрировано)" in card  # earlier appeals
    await post.drain()
    assert post["telegram"].texts("1001")[-1] == "Специалист на связи (Петрова А. А.). Напишите ваш вопрос, можно отправить фото или документ."
    assert "ваш номер — 1" in await other.say("я ещё жду")  # the second one moved up

    assert "Передано специалисту" in await citizen.say("Течёт крыша над кухней")
    await citizen.send_file("roof.jpg", "image/jpeg", PHOTO, caption="Вот фото")
    assert "Отправлено гражданину" in await officer.say("Спасибо, вижу. Управляющая компания обязана починить.")
    await officer.send_file("memo.pdf", "application/pdf", b"%PDF-1.4 memo")
    await post.drain()

    to_staff = [r for r in post["vk"].replies("5001") if r.text.startswith("Гражданин")]
    assert [r.text for r in to_staff] == ["Гражданин (разговор № 1): Течёт крыша над кухней",
                                          "Гражданин (разговор № 1): Вот фото\nфайлы: roof.jpg"]
    assert [(f.name, f.data) for f in to_staff[1].files] == [("roof.jpg", PHOTO)]
    to_citizen = post["telegram"].replies("1001")[-2:]
    assert to_citizen[0].text == "Специалист: Спасибо, вижу. Управляющая компания обязана починить."
    assert [(f.name, f.data) for f in to_citizen[1].files] == [("memo.pdf", b"%PDF-1.4 memo")]
    [c, _] = await consultations(app)
    assert (c.kind, c.status, c.staff_id, c.channel) == ("live", "active", petrova.id, "telegram")


async def test_relayed_files_survive_a_restart_of_the_sender_R_5_3(app, people):
    """The outbox row keeps a reference to the stored file: a sender started later sends it."""
    citizen, officer, *_ = people
    await on_line(officer)
    await citizen.command("start")
    await citizen.press("Связаться со специалистом")
    await officer.press_payload("lc:take:1")
    await citizen.send_file("leak.jpg", "image/jpeg", PHOTO)
    post = await Post(app).drain()  # a fresh sender, as after a restart
    [msg] = [r for r in post["vk"].replies("5001") if r.files]
    assert msg.files[0].data == PHOTO


async def test_transfer_tells_the_citizen_first_then_end_and_the_two_questions_R_5_7_R_5_12(app, people):
    citizen, officer, colleague, petrova, sidorov = people
    await on_line(officer)
    await citizen.command("start")
    await citizen.press("Связаться со специалистом")
    await officer.press_payload("lc:take:1")
    await citizen.say("Вопрос про перерасчёт за отопление")

    await officer.press("Передать коллеге")
    assert "Разговор № 1 передан коллеге (Сидоров Б. Б.)." in await officer.press("Сидоров Б. Б.")
    post = await Post(app).drain()
    told = post["telegram"].texts("1001")[-1]
    assert told.startswith("Специалист передаёт ваш вопрос коллеге") and "Сидоров Б. Б." in told
    [note] = post["telegram"].replies("9002")
    assert note.text == "Коллега (Петрова А. А.) передаёт вам разговор № 1."
    assert "Передач: 1 из 2" in await colleague.press_payload(note.buttons[0][0].payload)
    await officer.say("ещё слово")  # the first staff member no longer reaches the citizen
    await colleague.say("Перерасчёт делает управляющая компания по вашему заявлению.")
    await citizen.say("Спасибо, понятно")
    await post.drain()
    assert "Гражданин (разговор № 1): Спасибо, понятно" in post["telegram"].texts("9002")
    assert not any("Спасибо, понятно" in t for t in post["vk"].texts("5001"))
    assert not any("ещё слово" in t for t in post["telegram"].texts("1001"))

    assert "Разговор завершён" in await colleague.press("Завершить разговор")
    await post.drain()
    last = post["telegram"].replies("1001")[-2:]
    assert last[0].text == "Специалист завершил разговор."
    assert last[1].text == "Получен ли ответ на Ваш вопрос?"
    assert [b.label for row in last[1].buttons for b in row] == ["Да", "Нет"]
    assert await citizen.press_payload(last[1].buttons[0][0].payload) == "Оцените качество работы консультанта"
    assert citizen.labels == ["Всё устроило", "Устроило частично", "Не устроило"]
    assert "Спасибо за ответы" in await citizen.press("Устроило частично")
    [c] = await consultations(app)
    assert (c.status, c.transfers, c.staff_id, c.answered, c.rating) == ("ended", 1, sidorov.id, True, 2)
    assert await participants(app, c.id) == [petrova.id, sidorov.id]
    assert "уже оценена" in await citizen.press_payload(f"cq:{c.id}:r:1")  # once only
    assert (await consultations(app))[0].rating == 2


async def test_third_transfer_is_refused_with_the_reason_R_5_8(app, people):
    citizen, officer, colleague, *_ = people
    await add_member(app, "Орлова В. В.", "telegram", "9003")
    third = Chat(app, "9003", "telegram")
    await on_line(officer)
    await citizen.command("start")
    await citizen.press("Связаться со специалистом")
    await officer.press_payload("lc:take:1")
    await officer.press("Передать коллеге")
    await officer.press("Сидоров Б. Б.")
    await colleague.press_payload("lc:open:1")
    await colleague.press("Передать коллеге")
    await colleague.press("Орлова В. В.")
    assert "Передач: 2 из 2" in await third.press_payload("lc:open:1")
    text = await third.press("Передать коллеге")
    assert "Передать нельзя: разговор уже передавали 2 раза" in text and "п. 5.8" in text
    assert "Передать коллеге" in third.labels  # still in the conversation, it can answer
    [c] = await consultations(app)
    assert c.transfers == 2 and c.status == "active"
    # a colleague may not open a conversation that is no longer theirs
    assert "уже принят коллегой или завершён" in await colleague.press_payload("lc:open:1")


async def test_either_side_ends_citizen_side_R_5_3(app, people):
    citizen, officer, *_ = people
    await on_line(officer)
    await citizen.command("start")
    await citizen.press("Связаться со специалистом")
    await officer.press_payload("lc:take:1")
    text = await citizen.press("Завершить разговор")
    assert "Разговор завершён" in text and "Получен ли ответ на Ваш вопрос?" in text
    post = await Post(app).drain()
    assert "Гражданин завершил разговор № 1." in post["vk"].texts("5001")
    await citizen.press("Нет")
    await citizen.press("Не устроило")
    [c] = await consultations(app)
    assert (c.status, c.answered, c.rating) == ("ended", False, 1)


async def test_idle_conversation_ends_after_the_profile_timeout_R_5_3(app, people, clock):
    citizen, officer, *_ = people
    assert app.profile.consult.idle_minutes == 15
    await on_line(officer)
    await citizen.command("start")
    await citizen.press("Связаться со специалистом")
    await officer.press_payload("lc:take:1")
    await citizen.say("Алло")
    jobs = {getattr(fn, "__qualname__", ""): fn for fn, _ in periodic_jobs(app, Post(app).sender)}
    idle = next(fn for name, fn in jobs.items() if "idle_conversations" in name)

    clock.now += timedelta(minutes=14)
    assert await idle() == 0
    await officer.say("Слушаю")  # activity restarts the count
    clock.now += timedelta(minutes=14)
    assert await idle() == 0
    clock.now += timedelta(minutes=2)
    assert await idle() == 1
    post = await Post(app).drain()
    assert "Разговор № 1 завершён: сообщений не было 15 мин." in post["vk"].texts("5001")
    assert post["telegram"].texts("1001")[-2:] == ["Разговор № 1 завершён: сообщений не было 15 мин.",
                                                  "Получен ли ответ на Ваш вопрос?"]
    assert "Разговор завершён" in await citizen.say("вы тут?")
    [c] = await consultations(app)
    assert c.status == "ended"


async def test_nobody_on_the_line_in_working_hours_offers_a_callback_R_5_3(app, people):
    citizen, *_ = people
    await citizen.command("start")
    text = await citizen.press("Связаться со специалистом")
    assert "Сейчас нет свободных специалистов" in text and "по астраханскому времени" in text
    assert "Заказать обратный звонок" in citizen.labels
    assert await consultations(app) == []


async def test_a_waiting_conversation_taken_by_a_colleague_first_R_5_3(app, people):
    citizen, officer, colleague, *_ = people
    await on_line(officer)
    await on_line(colleague)
    await citizen.command("start")
    await citizen.press("Связаться со специалистом")
    await officer.press_payload("lc:take:1")
    assert "уже принят коллегой" in await colleague.press_payload("lc:take:1")
    assert T.STAFF_ONLY in await citizen.press_payload("lc:take:1")  # a citizen cannot take it
    [c] = await consultations(app)
    assert c.staff_id is not None and c.status == "active"


async def test_appeal_transfers_follow_the_same_limit_and_tell_the_citizen_R_5_7_R_5_8(app, chat):
    """An appeal is transferred at most twice; each transfer is told to the citizen."""
    from services import lifecycle
    from tests.outbox_helpers import act, add_staff, outbox_rows

    await submit_appeal(chat)
    a = await add_staff(app, name="Петрова А. А.", telegram_id="9001")
    b = await add_staff(app, name="Сидоров Б. Б.", telegram_id="9002")
    await act(app, "take", a)
    await act(app, "transfer", a, to_staff=b)
    told = [r for r in await outbox_rows(app) if r.kind == "appeal.transferred"]
    assert told and all("передано другому специалисту" in r.text for r in told)
    await act(app, "transfer", b, to_staff=a)
    with pytest.raises(lifecycle.IllegalMove) as refused:
        await act(app, "transfer", a, to_staff=b)
    assert refused.value.code == "transfers" and refused.value.params == {"n": 2}
    assert "п. 5.8" in T.MOVE_REFUSED["transfers"].format(n=2)
