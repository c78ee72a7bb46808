"""Routing of notices over every combination of channels (R-2.1, R-2.2, R-3.5, R-3.8)."""
from __future__ import annotations

import pytest

from services.notices import KINDS

from bot.app import build_app
from services.profile import Privacy
from tests.conftest import Chat, make_settings
from tests.journey import submit_appeal
from tests.outbox_helpers import act, add_staff, outbox_rows

POSTAL = "414000, г. Астрахань, ул. Ленина, д. 5, кв. 12"


@pytest.mark.parametrize(
    "answer,extra,expected",
    [
        ("email", "Да, дублировать сюда", {("email", "a@example.ru"), ("telegram", "1001")}),
        ("email", "Не нужно", {("email", "a@example.ru")}),
        ("post", "Да, дублировать сюда", {("post", POSTAL), ("telegram", "1001")}),
        ("post", "Не нужно", {("post", POSTAL)}),
    ],
)
async def test_final_answer_routing_R_2_2_R_3_8(chat, app, answer, extra, expected):
    """The mandatory channel (e-mail, or a letter for staff to post) plus the additional one."""
    await submit_appeal(chat, email="a@example.ru" if answer == "email" else None,
                        postal=POSTAL if answer == "post" else None, extra=extra)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "answer", staff, note="Ответ по существу.")
    rows = [r for r in await outbox_rows(app) if KINDS[r.kind].final]
    assert {(r.channel, r.address) for r in rows} == expected
    assert {r.status for r in rows if r.channel == "post"} <= {"task"}
    assert all("Ответ по существу." in r.text for r in rows)


async def test_channel_changed_in_settings_is_used_and_not_doubled_R_2_1(chat, app):
    await submit_appeal(chat, email="a@example.ru")
    await chat.command("start")
    await chat.press("Настройки")
    await chat.press("Уведомлять на e-mail")
    staff = await add_staff(app)
    await act(app, "take", staff)
    rows = [r for r in await outbox_rows(app) if "взято в работу" in r.text]
    assert [(r.channel, r.address) for r in rows] == [("email", "a@example.ru")]


async def test_linked_vk_identity_receives_notices_when_chosen_R_2_1(app):
    tg, vk = Chat(app, "100", "telegram"), Chat(app, "200", "vk")
    await submit_appeal(tg, email="a@example.ru")
    await tg.command("start")
    await tg.press("Настройки")
    text = await tg.press("Связать мессенджеры")
    code = text.split("/link ")[1].split()[0]
    await vk.command("link", code)
    await vk.press("Связать")
    await vk.command("start")
    await vk.press("Настройки")
    await vk.press("Уведомлять сюда")
    staff = await add_staff(app)
    await act(app, "take", staff)
    rows = [r for r in await outbox_rows(app) if "взято в работу" in r.text]
    assert {(r.channel, r.address) for r in rows} == {("email", "a@example.ru"), ("vk", "200")}


async def test_privacy_option_keeps_answer_text_out_of_messengers(db_url, tmp_path, clock):
    app = await build_app(make_settings(db_url, tmp_path), clock=clock)
    app.profile = app.engine.deps.profile = app.profile.model_copy(
        update={"privacy": Privacy(full_text_in_messengers=False, foreign_messengers="full")})
    try:
        chat = Chat(app)
        await submit_appeal(chat, email="a@example.ru")
        staff = await add_staff(app)
        await act(app, "take", staff)
        await act(app, "answer", staff, note="Секретный текст ответа.")
        rows = {r.channel: r for r in await outbox_rows(app) if KINDS[r.kind].final}
        assert "Секретный текст ответа." in rows["email"].text
        assert "Секретный" not in rows["telegram"].text
        assert "готов ответ" in rows["telegram"].text and "a@example.ru" in rows["telegram"].text
        assert "оцените" in rows["telegram"].text  # still
    finally:
        await app.close()


async def test_a_postal_answer_is_a_letter_with_addressee_date_and_survey_as_text_R_2_2(app):
    """The newcomer issue, item 20: letters get their own template, not the messenger text."""
    chat = Chat(app)
    await submit_appeal(chat, postal=POSTAL, name="Иванова Мария Петровна", extra="Не нужно")
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "answer", staff, note="Предписание выдано.")
    [letter] = [r for r in await outbox_rows(app) if r.channel == "post"]
    assert letter.status == "task" and letter.buttons == []
    lines = letter.text.splitlines()
    assert lines[0] == "Иванова Мария Петровна" and lines[1] == POSTAL and lines[3] == "03.03.2026"
    assert "Ответ на обращение ЖН-2026-000001" in letter.text and "Предписание выдано." in letter.text
    assert "кнопк" not in letter.text and "чат-бот" not in letter.text
    assert "по телефону +7 (8512) 24-50-22" in letter.text  # no survey link in the profile yet
