"""The MAX channel end to end: the real maxapi client against the strict fake MAX, the real
engine and a database, in long-polling mode (R-2.1, R-2.2)."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from core.events import Inbound
from storage.inbox_models import InboxUpdate
from storage.models import Appeal, ChannelCursor, Identity, OutboxMessage, ProcessedUpdate, StoredFile
from tests.channels.max.harness import USER, MaxChat, Running, fake, max_app, new_channel, polling, wait_until  # noqa: F401
from tests.fakes import max_schema
from tests.journey import NUMBER_RE, ROOF_TEXT, submit_appeal


async def rows(app, stmt):
    async with app.sessionmaker() as s:
        return (await s.execute(stmt)).scalars().all()


def assert_within_limits(fake) -> None:
    """Everything sent passed the fake's schema checks; no text over 4000, keyboards within 7x30."""
    for m in fake.sent_messages():
        assert len(m.text or "") <= 4000
        assert len(m.buttons) <= 30 and all(len(row) <= 7 for row in m.buttons)
    bad = [(c.route, c.status, c.code) for c in fake.calls if c.status not in (200, None)]  # None: a poll still waiting
    assert not bad, bad


async def test_appeal_journey_in_max_R_2_1_R_2_2(fake, max_app, polling):
    """R-2.1, R-2.2: the whole appeal from MAX, MAX itself chosen as the additional channel.
    Every press is answered through POST /answers; wizard steps change the pressed message in
    place instead of piling up new ones."""
    chat = MaxChat(fake, polling)
    final = await submit_appeal(chat)
    assert "Обращение зарегистрировано" in final and NUMBER_RE.search(final)
    [appeal] = await rows(max_app, select(Appeal))
    assert appeal.text == ROOF_TEXT and appeal.source_channel == "max" and appeal.extra_channel == "max"
    [identity] = await rows(max_app, select(Identity))
    assert (identity.channel, identity.external_id) == ("max", str(USER))
    assert len(fake.answers) == chat.presses and {a["user_id"] for a in fake.answers} == {USER}
    in_place = [a for a in fake.answers if a["message"]]
    assert in_place and sum(m.edits for m in fake.sent_messages(USER)) >= len(in_place)
    assert len(fake.sent_messages(USER)) < chat.presses + 5  # not one new message per step
    assert_within_limits(fake)
    assert polling.stats.errors == 0


async def test_photo_and_document_are_stored_with_the_appeal_R_2_1(fake, max_app, polling):
    """A citizen's photo and PDF sent in MAX are downloaded within the limits and kept with the appeal."""
    chat = MaxChat(fake, polling)
    await chat.start("appeal")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say(ROOF_TEXT)
    jpeg = b"\xff\xd8\xff\xe0" + b"roof photo" * 100
    text = await chat.send("Вот фото потолка", [fake.image_attachment(jpeg)])
    assert "приложен" in text and "Всего файлов: 1" in text
    pdf = b"%PDF-1.4 act of inspection"
    text = await chat.send(None, [fake.file_attachment(pdf, "акт осмотра.pdf")])
    assert "«акт осмотра.pdf» приложен" in text and "Всего файлов: 2" in text
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Да, дублировать сюда")
    await chat.press("Понятно, дальше")
    assert "Файлов: 2" in chat.text
    assert "Обращение зарегистрировано" in await chat.press("Отправить")
    [appeal] = await rows(max_app, select(Appeal))
    files = await rows(max_app, select(StoredFile).order_by(StoredFile.id))
    assert [(f.appeal_id, f.mime, f.size) for f in files] == [(appeal.id, "image/jpeg", len(jpeg)),
                                                            (appeal.id, "application/pdf", len(pdf))]
    store = max_app.engine.deps.files
    assert store.get(files[0].sha256) == jpeg and store.get(files[1].sha256) == pdf
    assert "Вот фото потолка" in appeal.text


async def test_too_big_or_wrong_type_file_is_refused_without_downloading(fake, max_app, polling):
    chat = MaxChat(fake, polling)
    await chat.start("appeal")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    big = fake.file_attachment(b"%PDF-1.4", "big.pdf")
    big["size"] = max_app.max_file_bytes + 1
    text = await chat.send(None, [big])
    assert "big.pdf" in text and "Всего файлов" not in text
    exe = fake.file_attachment(b"MZ\x90\x00", "setup.exe", "application/octet-stream")
    text = await chat.send(None, [exe])
    assert "setup.exe" in text and "Всего файлов" not in text
    assert await rows(max_app, select(StoredFile)) == []


async def test_deep_link_and_commands(fake, max_app, polling):
    """bot_started with the deep-link payload opens the wizard; /menu, /help, /status N work."""
    chat = MaxChat(fake, polling)
    assert "О чём ваше обращение" in await chat.start("appeal")
    assert "Содержание дома" in chat.labels
    assert "Что вы хотите сделать?" in await chat.command("menu")
    assert "Телефон" in await chat.command("help")
    assert "не найдено" in await chat.command("status", "ЖН-2026-999999")
    assert "Здравствуйте" in await chat.start()
    await submit_appeal(chat)
    [appeal] = await rows(max_app, select(Appeal))
    assert "Статус: зарегистрировано" in await chat.send(f"/STATUS {appeal.number.lower()}")
    assert "Что вы хотите сделать?" in await chat.send("/menu")
    assert "Такой команды нет" in await chat.send("/unknown thing")  # a hint, never appeal text


async def test_forged_or_stale_button_is_out_of_date_and_answered(fake, max_app, polling):
    chat = MaxChat(fake, polling)
    await chat.command("start")
    await chat.press("Подать обращение")
    for payload in ("sum:send", "~unknown-token", "x" * 50):
        text = await chat.press_payload(payload)
        assert "Эта кнопка устарела" in text and "Содержание дома" in chat.labels
    assert len(fake.answers) == 4 and await rows(max_app, select(Appeal)) == []


async def test_long_payloads_are_mapped_to_short_tokens(fake, max_app, polling, monkeypatch):
    """A payload over MAX's 1024 characters goes as a short token and comes back as the payload."""
    from dialogs import engine as engine_module
    from core.events import Button, Reply

    long = "faq:" + "я" * 1100
    real = max_app.engine.handle

    async def handle(event, **kw):
        if event.button == long:
            return [Reply("Длинная кнопка нажата")]
        if event.command == "start":
            return [Reply("Экран", [[Button("Длинная", long)]])]
        return await real(event, **kw)

    monkeypatch.setattr(max_app.engine, "handle", handle)
    assert engine_module  # the engine is patched on the instance only
    chat = MaxChat(fake, polling)
    await chat.command("start")
    msg, button = chat.button("Длинная")
    assert button["payload"].startswith("~") and len(button["payload"]) < 40
    assert "Длинная кнопка нажата" in await chat.press("Длинная")


async def test_long_reply_is_split_at_paragraphs(fake, max_app, polling, monkeypatch):
    from core.events import Button, Reply

    paragraphs = [f"Абзац {i}. " + "слово " * 150 for i in range(12)]  # about 11,000 characters

    async def handle(event, **kw):
        return [Reply("\n\n".join(paragraphs), [[Button("Меню", "nav:menu")]])]

    monkeypatch.setattr(max_app.engine, "handle", handle)
    chat = MaxChat(fake, polling)
    await chat.command("help")
    parts = chat.replies
    assert len(parts) == 3 and all(len(m.text) <= 3999 for m in parts)
    assert all(m.text.startswith("Абзац") and m.text.rstrip().endswith("слово") for m in parts)
    assert [bool(m.buttons) for m in parts] == [False, False, True]  # the keyboard on the last part


# ------------------------------------------------------------------ order, errors
async def test_one_persons_updates_in_order_others_concurrently(fake, max_app, polling):
    chat = MaxChat(fake, polling)
    await chat.start("appeal")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    start = polling.stats.handled
    for i in range(20):
        fake.queue_update(fake.message_created(2000 + i, "/start"))
        if i < 5:
            fake.queue_update(fake.message_created(USER, f"часть {i + 1}"))
    await wait_until(lambda: polling.stats.handled >= start + 25)
    await chat.press("Далее")
    await chat.say("Иванова Мария")
    await chat.press("Электронная почта")
    await chat.say("a@example.ru")
    await chat.press("Да, дублировать сюда")
    text = await chat.press("Понятно, дальше")
    assert "часть 1\n\nчасть 2\n\nчасть 3\n\nчасть 4\n\nчасть 5" in text
    assert all(len(fake.sent_messages(2000 + i)) == 1 for i in range(20))


async def test_engine_error_is_logged_with_the_key_and_apologised(fake, max_app, polling, monkeypatch, caplog):
    chat = MaxChat(fake, polling)
    await chat.command("start")
    real = max_app.engine.handle

    async def broken(event, **kw):
        if event.text == "boom":
            raise RuntimeError("engine exploded")
        return await real(event, **kw)

    monkeypatch.setattr(max_app.engine, "handle", broken)
    update = fake.message_created(USER, "boom")
    with caplog.at_level(logging.ERROR):
        await chat.push(update)
    assert "Извините, что-то пошло не так" in chat.text and "Подать обращение" in chat.labels
    assert update["message"]["body"]["mid"] in caplog.text and "engine exploded" in caplog.text
    assert polling.stats.errors == 1
    assert "Шаг 1 из 8" in await chat.press("Подать обращение")


async def test_429_on_a_reply_is_retried_and_the_reply_arrives(fake, max_app, polling):
    fake.fail_next("POST /messages", 429)
    chat = MaxChat(fake, polling)
    assert "Здравствуйте" in await chat.command("start")
    assert [c.status for c in fake.calls_to("POST /messages")] == [429, 200]


# ------------------------------------------------------------------ the marker (nothing lost)
async def test_restart_handles_what_was_written_while_down(fake, max_app):
    """The marker lives in the database (channel_cursors) and is sent back on every poll."""
    first = await Running(new_channel(max_app), fake).start()
    chat = MaxChat(fake, first.channel)
    await chat.command("start")
    await first.stop()
    [cursor] = await rows(max_app, select(ChannelCursor))
    assert (cursor.channel, cursor.name) == ("max", "marker")
    waiting = [fake.queue_update(fake.message_created(u, t)) for u, t in ((USER, "/menu"), (USER + 1, "/start"),
                                                                        (USER + 2, "/help"))]
    sent_before = len(fake.sent_messages())
    second = await Running(new_channel(max_app), fake).start()
    await wait_until(lambda: second.channel.stats.handled >= len(waiting))
    assert len(fake.sent_messages()) == sent_before + 3
    await wait_until(lambda: fake.pending_updates() == [] and second.channel.poller.marker == fake._next_number)
    await second.stop()
    assert fake.calls_to("GET /updates")[-1].query["marker"] == str(fake._next_number)
    [cursor] = await rows(max_app, select(ChannelCursor))
    assert int(cursor.value) == fake._next_number


async def test_crash_mid_batch_loses_nothing_and_answers_nothing_twice(fake, max_app):
    """Issue 10, item 1: a batch of 30 updates is kept in the inbox and its marker saved; 10 are
    handled, the rest wait when the process dies (the polling task and its workers cancelled
    hard). A new channel on the same database handles the 20 unfinished inbox rows (MAX does
    not send the batch again). Every person ends with exactly one answer."""
    people = [3000 + i for i in range(30)]
    for uid in people:
        fake.queue_update(fake.message_created(uid, "/start"))
    gate, passed = asyncio.Event(), []
    real = max_app.handle

    async def slow(event, **kw):
        if len(passed) >= 10:
            await gate.wait()
        passed.append(event.user_id)
        return await real(event, **kw)

    max_app.handle = slow
    first = new_channel(max_app)
    task = asyncio.create_task(first.run_polling())
    await wait_until(lambda: first.stats.handled >= 10, what="10 handled")
    await asyncio.sleep(0.05)
    assert first.stats.handled == 10 and len(fake.calls_to("GET /updates")) == 1
    await first.abort()
    assert task.done()
    max_app.handle = real
    [cursor] = await rows(max_app, select(ChannelCursor))
    assert int(cursor.value) == fake._next_number  # acknowledged: the batch is safe in the inbox
    assert len(await rows(max_app, select(InboxUpdate))) == 20
    assert len(await rows(max_app, select(ProcessedUpdate))) == 10

    second = await Running(new_channel(max_app), fake).start()
    await wait_until(lambda: second.channel.stats.handled >= 20, what="the unfinished 20")
    await second.stop()
    assert sorted(len(fake.sent_messages(uid)) for uid in people) == [1] * 30  # 0 lost, 0 twice
    assert len(await rows(max_app, select(ProcessedUpdate))) == 30
    assert await rows(max_app, select(InboxUpdate)) == []
    assert fake.pending_updates() == []


async def test_a_reply_committed_but_not_shown_at_a_crash_is_shown_after_the_restart(fake, max_app):
    """Issue 10, item 1: the engine committed the update (its key recorded as processed) and the
    process died before the reply went out. After the restart the reply stored with the inbox
    row is shown, once (before, the repeat was skipped by its key and the reply was lost)."""
    fake.queue_update(fake.message_created(USER, "/start"))
    first = new_channel(max_app)
    committed = asyncio.Event()

    async def dies(*_a, **_kw):
        committed.set()
        await asyncio.Event().wait()  # the process is killed here

    first.sender.send = dies
    task = asyncio.create_task(first.run_polling())
    await asyncio.wait_for(committed.wait(), 10)
    await first.abort()
    assert task.done() and fake.sent_messages(USER) == []
    assert len(await rows(max_app, select(ProcessedUpdate))) == 1

    second = await Running(new_channel(max_app), fake).start()
    await wait_until(lambda: second.channel.stats.handled >= 1, what="the update again")
    await asyncio.sleep(0.1)
    await second.stop()
    [reply] = fake.sent_messages(USER)
    assert "Здравствуйте" in reply.text
    assert await rows(max_app, select(InboxUpdate)) == []


async def test_a_reply_max_refuses_for_a_while_goes_through_the_outbox(fake, max_app, polling):
    """Issue 10, item 3: MAX answers 503 to every try of the reply (after the commit): the reply
    is handed to the outbox, not replaced by an apology, so the person still gets it, once."""
    fake.fail_next("POST /messages", 503, count=3)
    fake.queue_update(fake.message_created(USER, "/start"))
    await wait_until(lambda: polling.stats.handled >= 1, what="the update")
    assert fake.sent_messages(USER) == []
    [row] = await rows(max_app, select(OutboxMessage))
    assert "Здравствуйте" in row.text and row.kind == "relay"
    assert await rows(max_app, select(InboxUpdate)) == []


# ------------------------------------------------------------------ bot_stopped, linking
async def test_bot_stopped_makes_the_identity_unreachable_and_bot_started_reachable_R_2_1(fake, max_app, polling):
    chat = MaxChat(fake, polling)
    await chat.command("start")
    await chat.push(fake.bot_stopped(USER))
    [identity] = await rows(max_app, select(Identity))
    assert not identity.reachable
    await chat.start()
    [identity] = await rows(max_app, select(Identity))
    assert identity.reachable


async def test_linking_telegram_and_max_with_a_code_R_2_1(fake, max_app, polling):
    """R-2.1: a code shown in Telegram and sent as /link CODE in MAX joins the identities."""
    await max_app.engine.handle(Inbound("telegram", "555", command="start"))
    await max_app.engine.handle(Inbound("telegram", "555", button="menu:settings"))
    [shown] = await max_app.engine.handle(Inbound("telegram", "555", button="set:link"))
    code = shown.text.split("/link ", 1)[1].split()[0]
    chat = MaxChat(fake, polling)
    await chat.command("link", code)
    text = await chat.press("Связать")
    assert "мессенджеры связаны" in text and "Telegram" in text and "MAX" in text
    identities = await rows(max_app, select(Identity).order_by(Identity.channel))
    assert [i.channel for i in identities] == ["max", "telegram"]
    assert identities[0].citizen_id == identities[1].citizen_id
    assert "не подошёл" in await chat.command("link", code)


async def test_linking_max_and_vk_the_other_way_R_2_1(fake, max_app, polling):
    """A code shown in MAX and typed in VK links them too."""
    chat = MaxChat(fake, polling)
    await chat.command("start")
    await chat.press("Настройки")
    text = await chat.press("Связать")
    code = text.split("/link ", 1)[1].split()[0]
    await max_app.engine.handle(Inbound("vk", "777", command="link", argument=code))
    [done] = await max_app.engine.handle(Inbound("vk", "777", button="link:yes"))
    assert "мессенджеры связаны" in done.text and "MAX" in done.text and "ВКонтакте" in done.text


def test_updates_and_answers_of_the_spec_shape(fake):
    """The fake's updates that the tests feed are valid against the spec."""
    fake.add_user(USER)
    for update in (fake.bot_started(USER, "appeal"), fake.bot_stopped(USER), fake.message_created(USER, "x")):
        max_schema.validate(update, "Update")


async def test_token_never_appears_in_logs(fake, max_app, polling, caplog):
    """The token travels only in the Authorization header: no log line, error or repr carries it."""
    with caplog.at_level(logging.DEBUG):
        chat = MaxChat(fake, polling)
        fake.fail_next("POST /messages", 500, count=5)
        await chat.command("start")
        fake.fail_next("GET /updates", 503)
        fake.release_long_polls()
        assert "Здравствуйте" in await chat.command("start")
    assert fake.token not in caplog.text and fake.token not in repr(polling)
    assert "max: 500" in caplog.text  # the failure itself was logged
