"""Replies within MAX's limits, checked against the spec's numbers (tests/data/specs/max)."""
from __future__ import annotations

from channels.max import CAPABILITIES
from channels.max.render import PayloadCodec, keyboard, render, text_parts
from channels.max.updates import parse, parse_command
from core.events import Button, Reply
from tests.fakes import max_schema
from tests.fakes.max_api import FakeMax


def test_capabilities_come_from_the_spec():
    body = max_schema.schema("NewMessageBody")["properties"]["text"]["maxLength"]
    label = max_schema.schema("Button")["properties"]["text"]["maxLength"]
    payload = max_schema.schema("CallbackButton")["allOf"][1]["properties"]["payload"]["maxLength"]
    assert (CAPABILITIES.max_text, CAPABILITIES.max_button_label, CAPABILITIES.max_payload_bytes) == (body - 1, label, payload)


def test_a_huge_keyboard_is_laid_out_within_210_buttons_30_rows_7_a_row():
    rows = [[Button(f"Пункт {i}", f"p:{i}")] for i in range(250)] + [[Button("Назад", "nav:back"), Button("Меню", "nav:menu")]]
    kb = keyboard(rows, PayloadCodec())
    max_schema.check_keyboard(kb["payload"], "kb")  # the fake's own check of MAX's counts
    buttons = kb["payload"]["buttons"]
    assert len(buttons) <= 30 and all(len(r) <= 7 for r in buttons) and sum(map(len, buttons)) <= 210
    assert [b["text"] for b in buttons[-1]] == ["Назад", "Меню"]  # navigation stays
    wide = keyboard([[Button(str(i), str(i)) for i in range(10)]], PayloadCodec())["payload"]["buttons"]
    assert [len(r) for r in wide] == [7, 3]


def test_labels_and_payloads_fit():
    codec = PayloadCodec()
    long = "x" * 2000
    kb = keyboard([[Button("Очень " * 40, long)]], codec)
    [[b]] = kb["payload"]["buttons"]
    max_schema.validate(b, "CallbackButton")
    assert len(b["text"]) <= 128 and b["text"].endswith("…") and codec.decode(b["payload"]) == long
    assert codec.decode("~forged") == "~forged"  # unknown: the engine calls it out of date


def test_text_is_split_at_paragraphs_and_emoji_count_twice():
    parts = text_parts("\n\n".join(["а" * 1500] * 6))
    assert len(parts) == 3 and all(len(p) <= 3999 for p in parts) and parts[0] == "а" * 1500 + "\n\n" + "а" * 1500
    emoji = "🙂" * 3000  # 3000 characters, 6000 UTF-16 units
    assert all(len(p.encode("utf-16-le")) // 2 <= 4000 for p in text_parts(emoji))
    assert [p.keyboard is not None for p in render(Reply("а\n\n" * 3000, [[Button("Меню", "m")]]), PayloadCodec())][-1]


def test_updates_to_inbound():
    fake = FakeMax()
    fake.reset()
    started = parse(fake.bot_started(42, payload="appeal"))
    assert (started.kind, started.inbound.command, started.inbound.argument) == ("started", "start", "appeal")
    message = parse(fake.message_created(42, "/status ЖН-2026-000001"))
    assert (message.inbound.command, message.inbound.argument) == ("status", "ЖН-2026-000001")
    assert message.key.startswith("m:mid.")
    assert parse_command("/link ab12-cd34") == ("link", "ab12-cd34") and parse_command("/unknown x") is None
    stopped = parse(fake.bot_stopped(42))
    assert stopped.kind == "stopped" and stopped.inbound is None
    sticker = parse(fake.message_created(42, None, [{"type": "sticker", "payload": {"code": "x"}}]))
    assert sticker.inbound.unsupported
    assert parse({"update_type": "chat_title_changed"}) is None and parse("junk") is None
