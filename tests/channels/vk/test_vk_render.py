"""VK parsing and rendering without a network: payloads both ways, commands, keyboard limits."""
from __future__ import annotations

import json

import pytest

from channels.vk import updates
from channels.vk.render import (
    CALLBACK_CAPS, DEFAULT_CAPS, FOREIGN, ClientCaps, decode_payload, encode_payload, keyboard, render, shorten,
)
from core.events import Button, Reply
from tests.fakes.vk_api import FakeVK, validate_keyboard


def test_payload_round_trip_and_foreign_payloads():
    raw = encode_payload("topic:heating")
    assert raw == '{"p":"topic:heating"}'
    assert decode_payload(raw) == ("button", "topic:heating")
    assert decode_payload(json.loads(raw)) == ("button", "topic:heating")  # message_event: parsed JSON
    assert decode_payload({"command": "start"}) == ("command", "start")
    for foreign in ("{broken", '{"p": 1}', '{"p": "x", "extra": 1}', '["p"]', {"button": "1"}, None, 5):
        kind, value = decode_payload(foreign)
        assert kind == "button" and value.startswith(FOREIGN)
    assert encode_payload("x" * 300) is None
    assert len(encode_payload("я" * 240)) <= 255  # counted in characters, Cyrillic kept as is


def test_typed_commands():
    assert updates.text_event("5", "/start").command == "start"
    ev = updates.text_event("5", "/status ЖН-2026-000001")
    assert (ev.command, ev.argument) == ("status", "ЖН-2026-000001")
    ev = updates.text_event("5", "  /LINK  ABCD-EFGH ")
    assert (ev.command, ev.argument) == ("link", "ABCD-EFGH")
    assert updates.text_event("5", "/etc/passwd").text == "/etc/passwd"
    assert updates.text_event("5", "привет").text == "привет"


def test_events_that_are_not_for_the_assistant_are_skipped():
    fake = FakeVK()
    assert updates.parse(fake.make_message_new(5, "hi", peer_id=2_000_000_001)) is None  # a group chat
    outgoing = fake.make_message_new(5, "hi")
    outgoing["object"]["message"]["out"] = 1
    assert updates.parse(outgoing) is None
    assert updates.parse(fake.make_event("wall_post_new", {"id": 1})) is None
    assert updates.parse({"type": "message_new"}) is None
    assert updates.parse("garbage") is None
    ev = updates.parse(fake.make_message_new(5, "hi"))
    assert (ev.kind, ev.user_id, ev.inbound.channel, ev.inbound.user_id, ev.inbound.text) == ("message", 5, "vk", "5", "hi")
    assert ev.caps == CALLBACK_CAPS


def test_client_caps():
    assert ClientCaps.from_client_info(None) == DEFAULT_CAPS
    assert not ClientCaps.from_client_info({"inline_keyboard": True, "button_actions": ["text"]}).callback_buttons
    assert ClientCaps.from_client_info({"inline_keyboard": True, "button_actions": ["text", "callback"]}).callback_buttons


def test_shorten():
    assert shorten("Коротко") == "Коротко"
    long = shorten("а" * 41)
    assert len(long) == 40 and long.endswith("…")


def buttons(n: int, per_row: int = 1) -> list[list[Button]]:
    flat = [Button(f"Кнопка {i}", f"b:{i}") for i in range(n)]
    return [flat[i:i + per_row] for i in range(0, n, per_row)]


@pytest.mark.parametrize("n,caps,inline", [
    (4, CALLBACK_CAPS, True), (10, CALLBACK_CAPS, True), (11, CALLBACK_CAPS, False), (40, DEFAULT_CAPS, False),
    (45, DEFAULT_CAPS, False), (45, CALLBACK_CAPS, False),
])
def test_keyboards_always_fit_vk_limits(n, caps, inline):
    rows = [*buttons(n - 1), [Button("Главное меню", "nav:menu")]]
    raw = keyboard(rows, caps)
    kb = validate_keyboard(raw)  # the fake's check: the rules VK applies (error 911)
    assert bool(kb.get("inline")) is inline
    labels = [b["action"]["label"] for row in kb["buttons"] for b in row]
    assert labels[-1] == "Главное меню" and len(labels) == min(n, 40)
    assert labels[:-1] == [f"Кнопка {i}" for i in range(len(labels) - 1)]  # order kept


def test_render_splits_long_text_and_keeps_the_keyboard_for_the_last_part():
    reply = Reply("слово " * 2000, [[Button("Да", "y")]])
    parts = render(reply, CALLBACK_CAPS)
    assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)
    assert [p.keyboard is not None for p in parts] == [False, False, True]
    assert render(Reply("нет кнопок"), DEFAULT_CAPS)[0].keyboard == '{"one_time": true, "buttons": []}'
    assert render(Reply("нет кнопок"), CALLBACK_CAPS)[0].keyboard is None


def test_rows_that_cannot_be_joined_are_laid_out_again_without_losing_buttons():
    rows = [*buttons(33, per_row=3), [Button("Назад", "nav:back"), Button("Главное меню", "nav:menu")]]
    kb = validate_keyboard(keyboard(rows, DEFAULT_CAPS))
    labels = [b["action"]["label"] for row in kb["buttons"] for b in row]
    assert len(kb["buttons"]) <= 10 and labels == [f"Кнопка {i}" for i in range(33)] + ["Назад", "Главное меню"]
    wide = validate_keyboard(keyboard([[Button(str(i), str(i)) for i in range(7)]], CALLBACK_CAPS))
    assert [len(r) for r in wide["buttons"]] == [5, 2]
