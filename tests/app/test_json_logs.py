"""Structured logs (issue 17 item 5): with LOG_FORMAT=json every line is one JSON object with the
time, level, logger and message, each handled update gives a line with its channel, update id,
step and duration, and a full journey at DEBUG — an appeal with a name, an e-mail and a text, a
callback request with a phone, the notices sent — never logs the citizen's data."""
from __future__ import annotations

import io
import json
import logging

import pytest

from bot.app import setup_logging
from bot.runner import make_sender
from bot.settings import Settings
from tests.channels.telegram.test_telegram_harness import (  # noqa: F401  (fixtures)
    CHAT, TgChat, fake, polling, tg_app,
)
from tests.journey import submit_appeal

NAME, EMAIL = "Громова Дарья Сергеевна", "gromova.d@example.ru"
PHONE, PHONE_DIGITS = "+7 917 555-12-34", "9175551234"
TEXT = "Во дворе дома 12 на улице Савушкина третью неделю не вывозят мусор, контейнеры переполнены."


@pytest.fixture
def json_logs():
    """The program's own logging set-up (bot.app.setup_logging) writing to a buffer; the
    logging configuration is put back afterwards."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in logging.root.manager.loggerDict})
    buffer = io.StringIO()
    settings = Settings(_env_file=None, LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    setup_logging(settings.log_level, settings.log_format, stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


async def test_a_full_journey_logs_json_lines_with_no_personal_data(json_logs, tg_app, polling, fake):
    """Issue 17 item 5: one JSON object a line; a line per update with channel, update id, step
    and duration; the name, e-mail, phone and appeal text appear in no line, even at DEBUG."""
    chat = TgChat(fake, polling)
    final = await submit_appeal(chat, name=NAME, email=EMAIL, text=TEXT)
    assert "Обращение зарегистрировано" in final
    await chat.command("start", "callback")
    await chat.say(PHONE)
    await chat.press("Даю согласие")
    await chat.press(chat.labels[0])
    assert "Готово" in chat.labels
    await chat.press("Готово")
    fake.add_chat(CHAT)
    await make_sender(tg_app, {"telegram": polling.deliverer}).drain()
    logging.getLogger("services.test").debug("the end")

    lines = json_logs.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records[-1]["message"] == "the end"
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    updates = [r for r in records if r["logger"] == "bot.app" and r["message"].startswith("update ")]
    assert len(updates) >= 15, [r["message"] for r in records]
    assert all(r["channel"] == "telegram" and r["update_id"] and r["duration_ms"] >= 0 for r in updates)
    steps = {r.get("step") for r in updates}
    assert {"appeal.text", "cb.phone", "menu"} <= steps, steps

    everything = json_logs.getvalue()
    for secret in (NAME, "Громова", EMAIL, "gromova", PHONE, PHONE_DIGITS, "555-12-34", TEXT[:25], "Савушкина"):
        assert secret not in everything, secret



def test_an_update_id_made_of_the_user_id_is_logged_as_a_digest():
    """Issue 17 item 5: MAX builds the key of a `bot_started` update from the user id; the logs
    get a stable digest instead (the same for the same update), other ids as they are."""
    from bot.app import update_label
    from core.events import Inbound

    started = Inbound("max", "4242001", command="start")
    label = update_label(started, "s:4242001:1767225600000")
    assert "4242001" not in label and label == update_label(started, "s:4242001:1767225600000")
    assert update_label(Inbound("telegram", "5551001", text="x"), "812345") == "812345"
