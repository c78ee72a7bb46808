"""Telegram rendering and parsing, without a server."""
from __future__ import annotations

from datetime import datetime, timezone

from aiogram.types import Chat, Message, PhotoSize, User

from channels.telegram.render import MAX_TEXT, PayloadCodec, render
from channels.telegram.updates import file_refs, kind_of, message_inbound, parse_command
from core.events import Button, OutFile, Reply


def msg(**content) -> Message:
    return Message(message_id=1, date=datetime(2026, 3, 3, tzinfo=timezone.utc),
                   chat=Chat(id=7, type="private", first_name="Мария"),
                   from_user=User(id=7, is_bot=False, first_name="Мария", last_name="Иванова"), **content)


def test_commands_and_deep_links():
    assert parse_command("/start appeal") == ("start", "appeal")
    assert parse_command("/start") == ("start", None)
    assert parse_command("/status   ЖН-2026-000001 ") == ("status", "ЖН-2026-000001")
    assert parse_command("/MENU@Fake_Citizen_Bot", "fake_citizen_bot") == ("menu", None)
    assert parse_command("/menu@other_bot", "fake_citizen_bot") is None
    assert parse_command("/link A1B2C3") == ("link", "A1B2C3")
    assert parse_command("не команда /start") is None
    inbound = message_inbound(msg(text="/start visit"), "fake_citizen_bot")
    assert (inbound.command, inbound.argument, inbound.user_id) == ("start", "visit", "7")
    assert inbound.display_name == "Мария Иванова"
    assert message_inbound(msg(text="Течёт крыша")).text == "Течёт крыша"


def test_content_kinds_and_files():
    assert kind_of(msg(text="x")) == "text"
    photo = msg(photo=[PhotoSize(file_id="s", file_unique_id="us", width=90, height=90, file_size=900),
                       PhotoSize(file_id="b", file_unique_id="ub", width=1280, height=960, file_size=90000)],
                caption="потолок")
    assert kind_of(photo) == "files"
    [ref] = file_refs(photo)
    assert (ref.kind, ref.file_id, ref.mime, ref.size) == ("photo", "b", "image/jpeg", 90000)
    assert message_inbound(photo).text == "потолок"


def test_render_splits_and_keeps_the_keyboard_on_the_last_part():
    codec = PayloadCodec()
    text = "\n\n".join(["а" * 3000] * 4)
    parts = render(Reply(text, [[Button("Далее", "text:next")], [Button("Назад", "nav:back")]]), codec)
    assert len(parts) == 4 and all(len(p.text) <= MAX_TEXT for p in parts)
    assert [p.markup is not None for p in parts] == [False, False, False, True]
    rows = parts[-1].markup.inline_keyboard
    assert [[b.callback_data for b in row] for row in rows] == [["text:next"], ["nav:back"]]


def test_render_labels_payloads_and_empty_text():
    codec = PayloadCodec()
    [part] = render(Reply("", [[Button("x" * 100, "p" * 80)]]), codec)
    assert part.text == "…"
    button = part.markup.inline_keyboard[0][0]
    assert len(button.text) == 64 and button.text.endswith("…")
    assert len(button.callback_data.encode()) <= 64 and codec.decode(button.callback_data) == "p" * 80
    assert codec.decode("~forged") == "~forged"  # unknown token: passed on, the engine calls it stale
    assert codec.encode("rate:5:3") == "rate:5:3"
    [wide] = render(Reply("Оцените", [[Button(str(i), f"rate:1:{i}") for i in range(10)]]), codec)
    assert [len(row) for row in wide.markup.inline_keyboard] == [8, 2]  # Telegram shows at most 8 in a row
    files = Reply("Ответ во вложении", [[Button("Ок", "ok")]], files=[OutFile("answer.pdf", "application/pdf", b"%PDF")])
    [text_part] = render(files, codec)
    assert text_part.markup is None  # the keyboard goes with the file, the last message
