"""Staff in VK, and notices through the outbox to the real vkbottle client against the strict
fake VK (R-2.1, R-2.2, R-3.8, R-3.9)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.sender import LEASE, OutboxSender
from services import outbox
from core.events import Reply
from storage.models import Identity, OutboxMessage, Staff, StaffIdentity
from tests.journey import submit_appeal
from tests.channels.vk.test_vk_channel import USER, VKChat, fake, polling, vk_app, vk_extra  # noqa: F401
from tests.outbox_helpers import recorders

STAFF_VK = 5005


async def rows(app):
    async with app.sessionmaker() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_staff_in_vk_takes_and_answers_and_the_citizen_gets_it_everywhere_R_3_8_R_3_9(vk_app, fake, polling):
    async with vk_app.sessionmaker() as s, s.begin():
        s.add(Staff(name="Петрова А. А.", role="operator", identities=[StaffIdentity(channel="vk", user_id=str(STAFF_VK))]))
    citizen, staff = VKChat(fake, polling, USER), VKChat(fake, polling, STAFF_VK)
    final = await submit_appeal(citizen, email="ivanova@example.ru")
    assert "Обращение зарегистрировано" in final
    text = await staff.command("start")
    assert "Режим сотрудника" in text
    await staff.press("Новые (1)")
    await staff.press("ЖН-2026-000001")
    await staff.press("Взять в работу")
    await staff.press("Ответить")
    await staff.say("Управляющей компании выдано предписание.")
    assert "Готово: ответ отправлен" in await staff.press("Подтвердить")

    email = recorders("email")["email"]
    sender = OutboxSender(vk_app.sessionmaker, {"vk": polling.deliverer, "email": email}, limits={},
                          clock=vk_app.engine.deps.clock)
    await sender.drain()
    to_citizen = [m for m in fake.sent_messages(USER) if "предписание" in m["text"]]
    assert len(to_citizen) == 1 and "оцените" in to_citizen[0]["text"]
    assert any("предписание" in t for t in email.texts("ivanova@example.ru"))
    assert all(r.status == "sent" for r in await rows(vk_app))
    # the announcement reached staff in VK, without the citizen's personal data
    announced = [m for m in fake.sent_messages(STAFF_VK) if "Новое обращение" in m["text"]]
    assert announced and "Иванова" not in announced[0]["text"]


async def test_sender_killed_mid_batch_never_duplicates_in_vk(vk_app, fake, polling, clock):
    """Crash between sending and marking: the resend carries the same random_id, VK drops it."""
    for peer in range(2001, 2021):
        fake.add_user(peer, "Имя", "Фамилия")
    async with vk_app.sessionmaker() as s, s.begin():
        for peer in range(2001, 2021):
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("vk", str(peer))],
                                 text=f"Уведомление {peer}", not_before=clock.now)
    dying = OutboxSender(vk_app.sessionmaker, {"vk": polling.deliverer}, limits={}, clock=vk_app.engine.deps.clock)
    claimed = await dying.claim()
    for row in claimed[:8]:  # sent, then the process dies before marking them
        await polling.deliverer.deliver(row.address, Reply(row.text), row.id)
    clock.now += LEASE + timedelta(seconds=1)
    restarted = OutboxSender(vk_app.sessionmaker, {"vk": polling.deliverer}, limits={}, clock=vk_app.engine.deps.clock)
    await restarted.drain()
    delivered = [m for m in fake.delivered if m["text"].startswith("Уведомление")]
    assert len(delivered) == 20 and len({m["peer_id"] for m in delivered}) == 20
    assert all(r.status == "sent" for r in await rows(vk_app))


async def test_vk_901_marks_unreachable_and_the_notice_falls_back_to_email_R_2_1(vk_app, fake, polling):
    citizen = VKChat(fake, polling, USER)
    await submit_appeal(citizen, email="ivanova@example.ru")
    async with vk_app.sessionmaker() as s, s.begin():
        await s.execute(OutboxMessage.__table__.update().values(status="sent"))
        s.add(Staff(name="Петрова", role="operator", identities=[StaffIdentity(channel="telegram", user_id="1")]))
    fake.block_peer(USER, 901)
    from tests.outbox_helpers import act

    async with vk_app.sessionmaker() as s:
        staff = (await s.execute(select(Staff))).scalar_one()
    await act(vk_app, "take", staff)
    email = recorders("email")["email"]
    sender = OutboxSender(vk_app.sessionmaker, {"vk": polling.deliverer, "email": email}, limits={},
                          clock=vk_app.engine.deps.clock)
    await sender.drain()
    dead = [r for r in await rows(vk_app) if r.status == "dead"]
    assert [r.channel for r in dead] == ["vk"] and "901" in dead[0].last_error
    async with vk_app.sessionmaker() as s:
        ident = (await s.execute(select(Identity).where(Identity.channel == "vk"))).scalar_one()
    assert not ident.reachable
    # the mandatory e-mail copy went anyway; nothing else to fall back to, nothing doubled
    assert len([t for t in email.texts() if "взято в работу" in t]) == 1
