"""What each step of an appeal costs in the engine alone (no channel, no network), ~5 s.

    .venv/bin/python -m bench.bench_steps                  # SQLite, 30 cycles
    .venv/bin/python -m bench.bench_steps --db postgres    # a PostgreSQL database of its own, dropped after
    .venv/bin/python -m bench.bench_steps --profile F      # cProfile of the registrations into F

Each cycle is a new citizen walking bench_vk's appeal steps after «/start» (the first contact,
not counted), through `Engine.handle` as the channels call it, with an update key. Per step it
prints the median CPU time of the process (the hot path's writer thread included), how many
statements went through the ORM, and whether the step took the hot path. The first two cycles
warm the caches and are left out.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.bench_vk import APPEAL_STEPS  # noqa: E402

WARM = 2


class Walker:
    """One citizen: types, or presses a button of the last screen by its label."""

    def __init__(self, app, user: str, keys) -> None:
        self.app, self.user, self.keys = app, user, keys
        self.last = None

    async def send(self, **kw) -> None:
        from core.events import Inbound

        replies = await self.app.engine.handle(Inbound("vk", self.user, **kw), update_key=str(next(self.keys)))
        self.last = replies[-1]

    def payload(self, label: str) -> str | None:
        return next((b.payload for row in self.last.buttons for b in row if b.label == label), None)


async def run(db: str, cycles: int, profile_to: str | None) -> None:
    from sqlalchemy import event

    from bot.app import build_app
    from bot.runner import settle
    from bot.settings import Settings

    pg_name = None
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        if db == "postgres":
            pg_name, url = await load.pg_create()
        app = await build_app(Settings(_env_file=None, DATABASE_URL=url, FILES_DIR=f"{tmp}/files"))
        try:
            load.lift_citizen_limits(app)
            settle()
            statements = itertools.count()
            event.listen(app.db.sync_engine, "before_cursor_execute", lambda *a: next(statements))
            keys = itertools.count(1)
            costs: dict[int, list[tuple[float, int, bool]]] = {}
            profiler = cProfile.Profile() if profile_to else None
            for cycle in range(cycles + WARM):
                walker = Walker(app, str(700_000 + cycle), keys)
                await walker.send(command="start")
                for i, (kind, arg) in enumerate(APPEAL_STEPS):
                    payload = None if kind == "say" else walker.payload(arg)
                    if kind == "consent" and payload is None:
                        continue  # asked once per citizen
                    if kind != "say" and payload is None:
                        raise SystemExit(f"step {i + 1}: no button {arg!r} on the screen: {walker.last.text[:200]!r}")
                    first, light = next(statements), app.engine.light_count
                    profiling = profiler is not None and arg == "Отправить" and cycle >= WARM
                    if profiling:
                        profiler.enable()
                    started = time.process_time()
                    await (walker.send(text=arg) if kind == "say" else walker.send(button=payload))
                    spent = time.process_time() - started
                    if profiling:
                        profiler.disable()
                    if cycle >= WARM:
                        costs.setdefault(i, []).append((spent * 1000, next(statements) - first - 1,
                                                        app.engine.light_count > light))
        finally:
            await app.close()
            if pg_name:
                await load.pg_drop(pg_name)
    report(db, cycles, costs)
    if profiler is not None:
        profiler.dump_stats(profile_to)
        print(f"registration profile written to {profile_to} (python -m bench.profile_summary {profile_to})")


def report(db: str, cycles: int, costs: dict[int, list[tuple[float, int, bool]]]) -> None:
    print(f"Engine alone, {db}, {cycles} cycles (after {WARM} warm-up cycles), Python {sys.version.split()[0]}, "
          f"load average {load.loadavg()}")
    print(f"{'step':34s} {'CPU ms':>8s} {'(min–max)':>14s} {'ORM statements':>15s}  path")
    total = 0.0
    for i, runs in sorted(costs.items()):
        kind, arg = APPEAL_STEPS[i]
        ms = [r[0] for r in runs]
        median = statistics.median(ms)
        total += median
        label = (arg if kind != "say" else f"text: {arg}")[:33]
        path = "hot" if all(r[2] for r in runs) else ("ordinary" if not any(r[2] for r in runs) else "mixed")
        print(f"{label:34s} {median:8.2f} {min(ms):6.2f}–{max(ms):<7.2f} {max(r[1] for r in runs):15d}  {path}")
    print(f"{'a cycle (sum of medians)':34s} {total:8.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cycles", type=int, default=30, help="measured cycles (default 30)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the registrations to FILE")
    parser.add_argument("--quick", action="store_true", help="3 cycles (a smoke run, figures meaningless)")
    args = parser.parse_args(argv)
    asyncio.run(run(args.db, 3 if args.quick else args.cycles, args.profile))


if __name__ == "__main__":
    main()
