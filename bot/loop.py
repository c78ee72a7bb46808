"""Which event loop runs the assistant (EVENT_LOOP): uvloop where it is installed ("auto", the
default; libuv's loop spends less CPU per callback and socket event than asyncio's own), or
asyncio's ("asyncio"). The benchmarks run the echo bots on the same loop as the full stack."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

CHOICES = ("auto", "uvloop", "asyncio")


def loop_factory(choice: str = "auto") -> Callable[[], asyncio.AbstractEventLoop] | None:
    if choice not in CHOICES:
        raise ValueError(f"EVENT_LOOP must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def loop_name(choice: str = "auto") -> str:
    return "asyncio" if loop_factory(choice) is None else "uvloop"


def run(main: Coroutine[Any, Any, Any], choice: str = "auto") -> Any:
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
