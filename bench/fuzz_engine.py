"""A long fuzzing run of the dialog engine (issue 10, item 10): the state machine of
tests/engine/fuzz_machine.py with many more examples (no shrinking: the database is shared by the
examples, so a replay is not exact).

    .venv/bin/python -m bench.fuzz_engine --examples 500 --steps 50 [--database-url URL]
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bot.app import build_app
from tests.conftest import Clock, make_settings
from tests.engine.fuzz_machine import run_machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite+aiosqlite:///{tmp}/fuzz.db"
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    clock = Clock(datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc))
    app = loop.run_until_complete(build_app(make_settings(url, tmp), clock=clock))
    started = time.monotonic()
    try:
        ran = run_machine(app, clock, examples=args.examples, steps=args.steps)
    finally:
        loop.run_until_complete(app.close())
    print(f"fuzzing: {ran} examples of up to {args.steps} steps, no failure, {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
