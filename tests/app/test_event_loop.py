"""EVENT_LOOP (issue 18): the assistant runs on uvloop where installed, on asyncio's loop when
asked, and a wrong value stops it at start with the setting named."""
from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from bot import loop
from bot.settings import Settings


async def running_loop() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_auto_runs_on_uvloop_and_asyncio_on_the_standard_loop():
    pytest.importorskip("uvloop", reason="uvloop is not installed on this platform")
    assert loop.run(running_loop(), "auto").startswith("uvloop")
    assert loop.run(running_loop(), "asyncio").startswith("asyncio")


def test_a_wrong_event_loop_setting_is_refused_by_name():
    with pytest.raises(ValidationError, match="EVENT_LOOP"):
        Settings(_env_file=None, EVENT_LOOP="tokio")
    with pytest.raises(ValueError, match="EVENT_LOOP"):
        loop.loop_factory("tokio")
