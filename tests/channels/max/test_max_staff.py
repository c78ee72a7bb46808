"""Staff in MAX and notices through the outbox to MAX: a staff member registered with
`admin_cli staff add --max-id N` takes and answers an appeal filed in MAX; the answer reaches the
citizen in MAX and by e-mail through a real SMTP server (R-3.8, R-3.9); bot_stopped, or MAX
refusing a message, sends notices by the citizen's other channel (R-2.1)."""
from __future__ import annotations

from sqlalchemy import select

from admin_cli.__main__ import build_parser, run as cli_run
from admin_cli.staff import staff_channels
from channels.email import EmailDeliverer
from core.events import Inbound, OutFile, Reply
from services.sender import OutboxSender
from storage.models import Identity, OutboxMessage, Staff
from tests.channels.email.test_email import settings as smtp_settings
from tests.channels.email.test_email import smtp  # noqa: F401  (fixture)
from tests.channels.max.harness import USER, MaxChat, fake, max_app, polling  # noqa: F401
from tests.journey import submit_appeal
from tests.outbox_helpers import act, recorders

STAFF_MAX = 5005


async def outbox(app) -> list[OutboxMessage]:
    async with app.sessionmaker() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def cli(app, *argv: str) -> int:
    return await cli_run(build_parser().parse_args(list(argv)), app.settings)


async def test_admin_cli_takes_a_max_id_from_the_registry(max_app, capsys):
    """`--max-id` exists because the channel registered itself; a wrong id is refused."""
    assert "max" in [s.name for s in staff_channels()]
    assert build_parser().parse_args(["staff", "add", "--name", "X", "--max-id", "5"]).id_max == "5"
    assert await cli(max_app, "staff", "add", "--name", "Петрова А. А.", "--max-id", str(STAFF_MAX)) == 0
    try:
        await cli(max_app, "staff", "add", "--name", "X", "--max-id", "abc")
        raise AssertionError("a wrong MAX id was accepted")
    except SystemExit as e:
        assert "MAX user id" in str(e)
    async with max_app.sessionmaker() as s:
        [member] = (await s.execute(select(Staff))).scalars().all()
        await s.refresh(member, ["identities"])
        assert [(i.channel, i.user_id) for i in member.identities] == [("max", str(STAFF_MAX))]


async def test_staff_in_max_answers_and_the_citizen_gets_it_in_max_and_by_email_R_3_8_R_3_9(
        max_app, fake, polling, smtp):
    inbox, port = smtp
    assert await cli(max_app, "staff", "add", "--name", "Петрова А. А.", "--max-id", str(STAFF_MAX)) == 0
    citizen, staff = MaxChat(fake, polling, USER), MaxChat(fake, polling, STAFF_MAX)
    assert "Обращение зарегистрировано" in await submit_appeal(citizen, email="ivanova@example.ru")

    assert "Режим сотрудника" in await staff.command("start")
    await staff.press("Новые (1)")
    assert "Иванова Мария Петровна" in await staff.press("ЖН-2026-000001")
    await staff.press("Взять в работу")
    await staff.press("Ответить")
    await staff.say("Управляющей компании выдано предписание.")
    assert "Готово: ответ отправлен" in await staff.press("Подтвердить")
    assert polling.stats.errors == 0

    deliverers = {"max": polling.deliverer, "email": EmailDeliverer(smtp_settings(port))}
    await OutboxSender(max_app.sessionmaker, deliverers, limits={}, clock=max_app.engine.deps.clock).drain()
    answers = [m for m in fake.sent_messages(USER) if "предписание" in (m.text or "")]
    assert len(answers) == 1 and "оцените" in answers[0].text
    assert [b["payload"] for row in answers[0].buttons for b in row][:3] == ["rate:1:3", "rate:1:2", "rate:1:1"]
    letters = [m for m in inbox.messages if "дан ответ" in m["Subject"]]
    assert len(letters) == 1 and "предписание" in letters[0].get_body(("plain",)).get_content()
    announced = [m for m in fake.sent_messages(STAFF_MAX) if "Новое обращение" in (m.text or "")]
    assert announced and "Иванова" not in announced[0].text
    assert {r.status for r in await outbox(max_app)} == {"sent"}
    # the citizen rates the answer from the notice, in MAX
    await citizen.press("Всё устраивает")
    assert "Спасибо за оценку" in citizen.text


async def link_telegram(app, chat: MaxChat) -> None:
    await app.engine.handle(Inbound("telegram", "555", command="start"))
    await app.engine.handle(Inbound("telegram", "555", button="menu:settings"))
    [shown] = await app.engine.handle(Inbound("telegram", "555", button="set:link"))
    await chat.command("link", shown.text.split("/link ", 1)[1].split()[0])
    assert "связаны" in await chat.press("Связать")


async def test_bot_stopped_sends_notices_by_the_other_channel_R_2_1(max_app, fake, polling):
    """After bot_stopped the MAX identity is unreachable: the status notice goes to the citizen's
    linked Telegram instead, and the mandatory e-mail copy goes as always."""
    citizen = MaxChat(fake, polling, USER)
    await submit_appeal(citizen, email="ivanova@example.ru")
    await link_telegram(max_app, citizen)
    async with max_app.sessionmaker() as s, s.begin():
        await s.execute(OutboxMessage.__table__.update().values(status="sent"))
    await citizen.push(fake.bot_stopped(USER))
    sent_before = len(fake.sent_messages(USER))
    staff = Staff(name="Петрова", role="operator")
    async with max_app.sessionmaker() as s, s.begin():
        s.add(staff)
    await act(max_app, "take", staff)
    rec = recorders("telegram", "email")
    await OutboxSender(max_app.sessionmaker, {"max": polling.deliverer, **rec}, limits={},
                       clock=max_app.engine.deps.clock).drain()
    assert len(fake.sent_messages(USER)) == sent_before  # nothing more into MAX
    assert fake.calls_to("POST /messages")[-1].status == 200  # and nothing even tried
    assert [t for t in rec["telegram"].texts("555") if "взято в работу" in t]
    assert len([t for t in rec["email"].texts("ivanova@example.ru") if "взято в работу" in t]) == 1


async def test_max_refusing_a_message_marks_unreachable_and_falls_back_R_2_1(max_app, fake, polling):
    """No bot_stopped seen (it came while the bot was down): MAX answers 403 chat.denied, the
    row is dead for MAX, the identity unreachable, and the notice goes to Telegram."""
    citizen = MaxChat(fake, polling, USER)
    await submit_appeal(citizen, email="ivanova@example.ru")
    await link_telegram(max_app, citizen)
    async with max_app.sessionmaker() as s, s.begin():
        await s.execute(OutboxMessage.__table__.update().values(status="sent"))
    fake.block_user(USER)
    staff = Staff(name="Петрова", role="operator")
    async with max_app.sessionmaker() as s, s.begin():
        s.add(staff)
    await act(max_app, "take", staff)
    rec = recorders("telegram", "email")
    await OutboxSender(max_app.sessionmaker, {"max": polling.deliverer, **rec}, limits={},
                       clock=max_app.engine.deps.clock).drain()
    dead = [r for r in await outbox(max_app) if r.status == "dead"]
    assert [r.channel for r in dead] == ["max"] and "403" in dead[0].last_error
    async with max_app.sessionmaker() as s:
        ident = (await s.execute(select(Identity).where(Identity.channel == "max"))).scalar_one()
    assert not ident.reachable
    assert [t for t in rec["telegram"].texts("555") if "взято в работу" in t]


async def test_deliverer_sends_files_under_their_names_and_retries_a_429(max_app, fake, polling):
    """An .ics from the outbox arrives as a MAX file named visit.ics (uploaded, then sent); a 429
    is a RetryLater for the outbox, and the retry does not repeat the parts already sent."""
    from core.ports import RetryLater

    fake.queue_update(fake.bot_started(USER))  # a dialog exists
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    reply = Reply("Вы записаны на приём.", files=[OutFile("visit.ics", "text/calendar", ics)])
    fake.fail_next("POST /messages", 429, count=1)
    try:
        await polling.deliverer.deliver(str(USER), reply, 77)
        raise AssertionError("a 429 was not passed on")
    except RetryLater:
        pass
    await polling.deliverer.deliver(str(USER), reply, 77)
    texts = [m for m in fake.sent_messages(USER) if m.text == "Вы записаны на приём."]
    files = [a for m in fake.sent_messages(USER) for a in m.attachments if a["type"] == "file"]
    assert len(texts) == 1 and [(f["filename"], f["size"]) for f in files] == [("visit.ics", len(ics))]
