"""Long admin-made lists come in pages (issue 10 item 11): with 120 colleagues the transfer
screen shows eight at a time and every page fits Telegram's and VK's keyboards."""
from __future__ import annotations

import json

from sqlalchemy import select, update

from channels.telegram.render import PayloadCodec
from channels.telegram.render import render as tg_render
from channels.vk.render import CALLBACK_CAPS, DEFAULT_CAPS, keyboard as vk_keyboard
from storage.models import Appeal, Staff, StaffIdentity
from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import add_staff

COLLEAGUES = 120


async def add_colleagues(app, n: int = COLLEAGUES) -> None:
    async with app.sessionmaker() as s, s.begin():
        for i in range(n):
            s.add(Staff(name=f"Сотрудник {i + 1:03d}", role="operator",
                        identities=[StaffIdentity(channel="telegram", user_id=str(20000 + i))]))


def fits_every_channel(reply) -> None:
    """Telegram: at most 100 buttons; VK: every button kept in both keyboards (none cut)."""
    total = sum(len(row) for row in reply.buttons)
    sent = sum(len(row) for part in tg_render(reply, PayloadCodec()) if part.markup
               for row in part.markup.inline_keyboard)
    assert sent == total <= 100
    for caps in (DEFAULT_CAPS, CALLBACK_CAPS):
        kb = json.loads(vk_keyboard(reply.buttons, caps))
        assert sum(len(row) for row in kb["buttons"]) == total and len(kb["buttons"]) <= 10


async def open_transfer(chat, app) -> Chat:
    await add_staff(app, name="Петрова А. А.", telegram_id="9001")
    await add_colleagues(app)
    await submit_appeal(chat)
    staff = Chat(app, "9001", "telegram")
    await staff.command("start")
    await staff.press("Новые (1)")
    await staff.press("ЖН-2026-000001")
    await staff.press("Передать коллеге")
    return staff


def colleague_labels(staff: Chat) -> list[str]:
    return [label for label in staff.labels if label.startswith("Сотрудник")]


async def test_transfer_to_one_of_120_colleagues_pages_through_issue_10_item_11(chat, app):
    """issue 10 item 11: 8 colleagues a page with «Дальше»/«Предыдущие»; the last one (page 15)
    is reachable by buttons alone and the transfer goes through."""
    staff = await open_transfer(chat, app)
    assert "Кому передать обращение?\nСтраница 1 из 15." in staff.text
    assert colleague_labels(staff) == [f"Сотрудник {i:03d}" for i in range(1, 9)]
    assert "Дальше" in staff.labels and "Предыдущие" not in staff.labels
    fits_every_channel(staff.last)
    for page in range(2, 16):
        text = await staff.press("Дальше")
        assert f"Страница {page} из 15." in text
        fits_every_channel(staff.last)
    assert colleague_labels(staff) == [f"Сотрудник {i:03d}" for i in range(113, 121)]
    assert "Дальше" not in staff.labels
    await staff.press("Предыдущие")
    assert colleague_labels(staff)[0] == "Сотрудник 105"
    await staff.press("Дальше")
    await staff.press("Сотрудник 120")
    await staff.press("Без записки")
    text = await staff.press("Подтвердить")
    assert "передано коллеге" in text and "Исполнитель: Сотрудник 120" in text


async def test_a_colleague_removed_while_the_list_was_shown_is_refused_politely_issue_10_item_11(chat, app):
    """issue 10 item 11: choosing a colleague deactivated meanwhile transfers nothing."""
    staff = await open_transfer(chat, app)
    async with app.sessionmaker() as s, s.begin():
        await s.execute(update(Staff).where(Staff.name == "Сотрудник 003").values(active=False))
    text = await staff.press("Сотрудник 003")
    assert "Этого сотрудника уже нет в списке" in text and "Кому передать обращение?" in text
    async with app.sessionmaker() as s:
        assert (await s.execute(select(Appeal.assigned_staff_id))).scalar_one() is None
    fits_every_channel(staff.last)


async def test_live_conversation_transfer_pages_through_120_colleagues_issue_10_item_11(app):
    """issue 10 item 11: the live conversation's «Передать коллеге» list pages the same way."""
    from tests.consult_helpers import add_member

    await add_member(app, "Петрова А. А.", "vk", "5001")
    await add_colleagues(app)
    citizen, officer = Chat(app, "1001", "telegram"), Chat(app, "5001", "vk")
    await officer.command("start")
    await officer.press("Встать на линию")
    await citizen.command("start")
    await citizen.press("Связаться со специалистом")
    await officer.press_payload("lc:take:1")
    text = await officer.press("Передать коллеге")
    assert "Страница 1 из 15." in text and len(colleague_labels(officer)) == 8
    fits_every_channel(officer.last)
    for _ in range(14):
        await officer.press("Дальше")
        fits_every_channel(officer.last)
    assert "Сотрудник 120" in colleague_labels(officer) and "Дальше" not in officer.labels
    assert "передан коллеге (Сотрудник 120)" in await officer.press("Сотрудник 120")
