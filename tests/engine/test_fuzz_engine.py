"""Issue 10, item 10: property-based fuzzing of the engine on SQLite and PostgreSQL: random
events in every flow (offered and forged buttons, typed labels and numbers, hostile command
arguments, files, clock jumps, staff removed mid-action). Properties: no exception leaves the
engine, every reply renders within Telegram's, VK's and MAX's limits, no citizen sees another's
appeal number, the menu is reachable by buttons from any screen. Each example on a database of
its own. Bounded here; longer runs: `python -m bench.fuzz_engine`."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from tests.conftest import Clock
from tests.engine.fuzz_machine import fresh_apps, run_machine

EXAMPLES, STEPS = 8, 20


def test_engine_survives_random_hostile_sessions(db_url, tmp_path):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    clock = Clock(datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc))
    try:  # db_url is a migrated database nobody is connected to: the examples copy it
        ran = run_machine(fresh_apps(db_url, tmp_path, clock), clock, examples=EXAMPLES, steps=STEPS)
        print(f"\nfuzzing: {ran} examples of up to {STEPS} steps on {db_url.split(':')[0]}")
        assert ran >= 1
    finally:
        loop.close()
        asyncio.set_event_loop(None)
