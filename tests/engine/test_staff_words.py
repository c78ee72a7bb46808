"""Staff see Russian words only and stay in the staff menu (the newcomer issue, item 22)."""
from __future__ import annotations

from tests.conftest import Chat
from tests.journey import submit_appeal
from tests.outbox_helpers import add_staff


async def test_the_card_history_is_in_words_and_the_menu_button_keeps_staff_mode(chat, app):
    await submit_appeal(chat)
    await add_staff(app)
    staff = Chat(app, "9001")
    await staff.command("start")
    await staff.press("Новые (1)")
    card = await staff.press("ЖН-2026-000001")
    assert "зарегистрировано" in card and "registered" not in card and "take" not in card
    menu = await staff.press("Главное меню")
    assert "Режим сотрудника" in menu
