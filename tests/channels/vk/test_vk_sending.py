"""VK sending: random_id and de-duplication, retries of errors 6/9/10, errors 901/902 and the
reachability of an identity, long texts, files both ways, and no token in any log line."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from core.ports import RetryLater, Unreachable
from channels.vk import VKChannel
from channels.vk.sender import random_id
from core.events import Button, OutFile, Reply
from storage.models import Identity, StoredFile
from tests.channels.vk.test_vk_channel import (  # noqa: F401  (fixtures)
    USER, Running, VKChat, assert_sent_properly, fake, polling, rows, vk_app,
)
from tests.journey import submit_appeal

MAX_FILE_BYTES = 10 * 1024


@pytest.fixture
def vk_extra():
    return {"MAX_FILE_MB": MAX_FILE_BYTES / 2**20}


async def identity(app) -> Identity:
    [found] = await rows(app, select(Identity).where(Identity.channel == "vk", Identity.external_id == str(USER)))
    return found


# ------------------------------------------------------------------ random_id
def test_random_id_is_a_deterministic_positive_int32():
    ids = {random_id("event", i, j) for i in range(50) for j in range(4)}
    assert len(ids) == 200 and all(0 < x < 2**31 for x in ids)
    assert random_id("outbox:7", 0, 0) == random_id("outbox:7", 0, 0) != random_id("outbox:8", 0, 0)


async def test_conversational_random_id_comes_from_the_event(fake, vk_app, polling):
    chat = VKChat(fake, polling)
    event = fake.make_message_new(USER, "/start")
    await chat.push(event)
    [sent] = chat.replies
    assert sent["random_id"] == random_id(event["event_id"], 0, 0)


@pytest.mark.parametrize("code", [6, 9, 10])
async def test_rate_flood_and_internal_errors_are_retried(fake, vk_app, polling, code):
    fake.fail_next("messages.send", code, count=2)
    chat = VKChat(fake, polling)
    assert "Здравствуйте" in await chat.command("start")
    assert len(fake.sent_messages(USER)) == 1
    calls = fake.calls_to("messages.send")
    assert len(calls) == 3 and len({c["random_id"] for c in calls}) == 1  # the same random_id each time


async def test_a_retry_after_a_lost_answer_is_not_a_duplicate(fake, vk_app):
    channel = VKChannel(vk_app)
    reply = Reply("Статус обращения изменился.")
    await channel.deliverer.deliver(str(USER), reply, key=41)
    await channel.deliverer.deliver(str(USER), reply, key=41)  # the outbox retries after a crash
    await channel.deliverer.deliver(str(USER), reply, key=42)
    assert [m["random_id"] for m in fake.sent_messages(USER)] == [random_id("outbox:41", 0, 0),
                                                                 random_id("outbox:42", 0, 0)]
    await channel.stop()


async def test_deliver_temporary_errors_raise_retry_later(fake, vk_app):
    channel = VKChannel(vk_app)
    fake.fail_next("messages.send", 10, count=2)  # deliver tries twice
    with pytest.raises(RetryLater):
        await channel.deliverer.deliver(str(USER), Reply("x"), key=1)
    fake.fail_next("messages.send", 9, count=2)
    with pytest.raises(RetryLater) as exc:
        await channel.deliverer.deliver(str(USER), Reply("x"), key=1)
    assert exc.value.seconds >= 30
    await channel.deliverer.deliver(str(USER), Reply("x"), key=1)
    assert len(fake.sent_messages(USER)) == 1
    with pytest.raises(Unreachable):
        await channel.deliverer.deliver("not-a-number", Reply("x"), key=2)
    await channel.stop()


# ------------------------------------------------------------------ 901 / 902
@pytest.mark.parametrize("code", [901, 902])
async def test_blocked_user_is_marked_unreachable_R_2_1(fake, vk_app, polling, code):
    """R-2.1: notices go to the chosen channel, so a VK user who cannot be written to (errors
    901/902) is marked unreachable; the outbox gets Unreachable; message_allow undoes it."""
    chat = VKChat(fake, polling)
    await chat.command("start")
    assert (await identity(vk_app)).reachable
    fake.block_peer(USER, code)
    await chat.command("menu")
    found = await identity(vk_app)
    assert found.reachable is False and str(code) in found.unreachable_reason
    assert polling.stats.errors == 0
    with pytest.raises(Unreachable, match=str(code)):
        await polling.deliverer.deliver(str(USER), Reply("Ваше обращение зарегистрировано."), key=5)
    del fake.blocked[USER]
    await chat.push(fake.make_event("message_allow", {"user_id": USER, "key": "k"}))
    assert (await identity(vk_app)).reachable


async def test_message_deny_marks_unreachable(fake, vk_app, polling):
    chat = VKChat(fake, polling)
    await chat.command("start")
    await chat.push(fake.make_event("message_deny", {"user_id": USER}))
    found = await identity(vk_app)
    assert found.reachable is False and "denied" in found.unreachable_reason


# ------------------------------------------------------------------ texts and keyboards
async def test_long_text_is_split_with_the_keyboard_on_the_last_part(fake, vk_app):
    channel = VKChannel(vk_app)
    paragraph = "Очень длинное уведомление о ходе рассмотрения обращения. " * 30
    text = "\n\n".join([paragraph] * 6)
    assert len(text) > 2 * 4096
    reply = Reply(text, [[Button("Мои обращения", "menu:mine"), Button("Главное меню", "nav:menu")]])
    await channel.deliverer.deliver(str(USER), reply, key=9)
    sent = fake.sent_messages(USER)
    assert len(sent) == 3 and all(len(m["text"]) <= 4096 for m in sent)
    assert [m["keyboard"] is not None for m in sent] == [False, False, True]
    assert "".join(m["text"] for m in sent).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    await channel.stop()


async def test_labels_shortened_and_payloads_within_limits(fake, vk_app, polling):
    """Labels over 40 characters end with «…»; a payload that cannot fit 255 is never sent
    (the fake refuses what VK refuses: error 911)."""
    long_label = "Очень длинная подпись кнопки, которая не помещается в сорок знаков"
    reply = Reply("Выберите", [[Button(long_label, "faq:0")], [Button("Слишком длинный", "x" * 300)],
                               [Button("Главное меню", "nav:menu")]])
    for caps_user, info in ((USER, None), (USER + 1, {"inline_keyboard": False, "button_actions": ["text"]})):
        chat = VKChat(fake, polling, caps_user, client_info=info)
        await chat.command("start")  # the channel learns what the client can show
        await polling.deliverer.deliver(str(caps_user), reply, key=caps_user)
        labels = chat.labels
        assert labels[0] == long_label[:39].rstrip() + "…" and len(labels[0]) <= 40
        assert "Главное меню" in labels
    assert_sent_properly(fake)


async def test_a_client_without_keyboards_gets_the_choices_as_text(fake, vk_app, polling):
    chat = VKChat(fake, polling, client_info={"keyboard": False, "inline_keyboard": False, "button_actions": []})
    text = await chat.command("start")
    assert "— Подать обращение" in text and chat.keyboard is None
    assert "Шаг 1 из 8" in await chat.say("Подать обращение")


# ------------------------------------------------------------------ files
async def to_text_step(chat: VKChat) -> None:
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")


async def test_photo_and_document_are_stored_with_the_appeal(fake, vk_app, polling):
    chat = VKChat(fake, polling)
    await to_text_step(chat)
    pdf = b"%PDF-1.4 fake act of inspection"
    largest = b"\xff\xd8\xff\xe0 the largest size"
    photo = fake.photo_attachment(largest)
    # the smaller sizes point at other bytes: only the largest may be taken
    small_url = fake.add_file(b"\xff\xd8\xff\xe0 small", "s.jpg", "image/jpeg")
    for size in photo["photo"]["sizes"][:-1]:
        size["url"] = small_url
    text = await chat.send("Акт и фото протечки", attachments=[fake.doc_attachment(pdf, "акт.pdf"), photo])
    assert "«акт.pdf» приложен" in text and "Всего файлов: 2" in text
    final = await submit_appeal_from_text(chat)
    assert "Обращение зарегистрировано" in final
    stored = await rows(vk_app, select(StoredFile).order_by(StoredFile.id))
    assert [(f.file_name, f.mime, f.size) for f in stored] == [
        ("акт.pdf", "application/pdf", len(pdf)), (f"photo_{photo['photo']['id']}.jpg", "image/jpeg", len(largest))]
    assert all(f.appeal_id is not None for f in stored)
    assert vk_app.engine.deps.files.get(stored[1].sha256) == largest


async def submit_appeal_from_text(chat: VKChat) -> str:
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Да, дублировать сюда")
    await chat.press("Понятно, дальше")
    return await chat.press("Отправить")


async def test_too_big_files_are_refused_with_a_reason_without_downloading(fake, vk_app, polling):
    chat = VKChat(fake, polling)
    await to_text_step(chat)
    big_doc = fake.doc_attachment(b"x" * 100, "скан.pdf")
    big_doc["doc"]["size"] = MAX_FILE_BYTES + 1
    big_doc["doc"]["url"] = f"{fake.base_url}/files/missing/none.pdf"  # a download would fail differently
    text = await chat.send("", attachments=[big_doc])
    assert "«скан.pdf» не приложен: он больше" in text
    huge_photo = fake.photo_attachment(b"\xff\xd8" + b"0" * (MAX_FILE_BYTES + 10))  # size known only by reading
    text = await chat.send("", attachments=[huge_photo])
    assert "не приложен: он больше" in text
    gone = fake.doc_attachment(b"small", "пропал.pdf")
    gone["doc"]["url"] = f"{fake.base_url}/files/missing/gone.pdf"
    assert "не удалось получить" in await chat.send("", attachments=[gone])
    exe = fake.doc_attachment(b"MZ", "virus.exe")
    assert "такой тип файлов мы не принимаем" in await chat.send("", attachments=[exe])
    assert await rows(vk_app, select(StoredFile)) == []


async def test_reply_files_are_uploaded_as_documents(fake, vk_app):
    """Reply.files (e.g. an .ics invitation) go through docs.getMessagesUploadServer, the upload
    and docs.save, and are attached to the message."""
    channel = VKChannel(vk_app)
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    reply = Reply("Вы записаны на приём.", files=[OutFile("priem.ics", "text/calendar", ics)])
    await channel.deliverer.deliver(str(USER), reply, key=77)
    [sent] = fake.sent_messages(USER)
    [att] = sent["attachments"]
    assert (att["type"], att["ext"], att["data"], att["title"]) == ("doc", "ics", ics, "priem.ics")
    assert fake.calls_to("docs.getMessagesUploadServer")[0]["peer_id"] == str(USER)
    await channel.stop()


# ------------------------------------------------------------------ secrets
async def test_the_token_never_appears_in_logs(fake, vk_app, caplog):
    caplog.set_level(logging.DEBUG)
    running = await Running(VKChannel(vk_app, wait=5), fake).start()
    chat = VKChat(fake, running.channel)
    fake.fail_next("messages.send", 10)
    fake.fail_next("groups.getLongPollServer", 5)
    fake.lp_fail_next(2)
    fake.release_long_polls()
    await submit_appeal(chat)
    fake.block_peer(USER, 901)
    await chat.command("menu")
    with pytest.raises(RetryLater):
        fake.fail_next("messages.send", 10, count=2)
        await running.channel.deliverer.deliver(str(USER + 1), Reply("x"), key=1)
    await running.stop()
    assert caplog.text and fake.token not in caplog.text
    assert fake.token not in repr(running.channel) and fake.token not in repr(running.channel.api)
    assert all("access_token" not in (r.getMessage()) for r in caplog.records)


async def test_a_text_with_every_form_sign_reaches_vk_as_written(fake, vk_app):
    """The calls are form-encoded by yarl (channels/vk/api.py `form`): what the citizen reads is
    what was sent — the signs that mean something in a form body, a newline, Cyrillic and emoji."""
    text = "Дом 5/2, кв. 7 & 8: «100% = 1+1?» #итог; (a*b)!'$ ~_.-\nВторая строка 🏠"
    channel = VKChannel(vk_app)
    await channel.deliverer.deliver(str(USER), Reply(text, [[Button("Да & нет = ?", "a:1")]]), key=3)
    [sent] = fake.sent_messages(USER)
    assert sent["text"] == text
    assert [b["action"]["label"] for row in sent["keyboard"]["buttons"] for b in row] == ["Да & нет = ?"]
    await channel.stop()
