"""A long fuzzing run of the dialog engine (issue 10, item 10): the state machine of
tests/engine/fuzz_machine.py with many more examples, each on a fresh copy of a migrated
database (so a failure replays exactly; `--shrink` also minimises it, slowly).

    .venv/bin/python -m bench.fuzz_engine --examples 500 --steps 50 [--db postgres] [--shrink]
    .venv/bin/python -m bench.fuzz_engine --minutes 5        # as many examples as fit in 5 minutes
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage import migrate  # noqa: E402
from storage.db import make_engine  # noqa: E402
from tests.conftest import Clock, create_pg_database, drop_pg_database  # noqa: E402
from tests.engine.fuzz_machine import fresh_apps, run_machine  # noqa: E402


async def template(kind: str, tmp: Path) -> tuple[str, str | None]:
    """A migrated database to copy: (its URL, the PostgreSQL name to drop afterwards)."""
    name = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/template.db"
    else:
        name, url = await create_pg_database()
    db = make_engine(url)
    await migrate.upgrade(db)
    await db.dispose()
    return url, name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=None, help="run rounds of 50 examples until this time is up")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--shrink", action="store_true", help="minimise a failure (minutes)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the profile's warnings, once per example
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    clock = Clock(datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc))
    url, name = loop.run_until_complete(template(args.db, tmp))
    started, ran = time.monotonic(), 0
    try:
        fresh = fresh_apps(url, tmp, clock)
        if args.minutes is None:
            ran = run_machine(fresh, clock, examples=args.examples, steps=args.steps, shrink=args.shrink)
        else:  # rounds, each with new random draws
            while time.monotonic() - started < args.minutes * 60:
                ran += run_machine(fresh, clock, examples=50, steps=args.steps, shrink=args.shrink)
    finally:
        if name:
            loop.run_until_complete(drop_pg_database(name))
    print(f"fuzzing on {args.db}: {ran} examples of up to {args.steps} steps, no failure, "
          f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
