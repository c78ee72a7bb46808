"""Visit benchmark: 100,000 future visits with reminders, then start-up, memory and reminder
lateness of the bot as it runs in production (build_app, the scheduler with the runner's
periodic jobs, the outbox sender polling every second).

    .venv/bin/python -m bench.bench_visits                      # SQLite, and PostgreSQL if reachable
    .venv/bin/python -m bench.bench_visits --backend sqlite --visits 20000 --window 20   # quicker
    .venv/bin/python -m bench.bench_visits --quick                    # a smoke run

The database is filled by this process; the measurements run in a fresh child process, so its
memory and start-up are those of a bot starting on a database that already holds the visits.
Reminders go to an in-memory deliverer that waits 50 ms per message (a network round trip),
with the sender's real Telegram pacing (29 messages/s, about 1 per chat per second).

Targets from the issue: RSS under 200 MB, start-up under 3 s, p99 lateness under 2 s when
1,000 reminders fall due within the same minute.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DESKS = 60
CHUNK = 5000
NETWORK_DELAY = 0.05


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB, from /proc."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# --- the parent: fill the database -------------------------------------------------------------

async def fill(url: str, visits: int) -> dict:
    from sqlalchemy import insert

    from services.calendar import WorkCalendar
    from services.profile import load_profile
    from bot.settings import DEFAULT_PROFILE
    from storage import migrate
    from storage.db import make_engine, make_sessionmaker
    from storage.models import Citizen, Identity, OutboxMessage, Visit, VisitSlot

    calendar = WorkCalendar.of(load_profile(DEFAULT_PROFILE))
    engine = make_engine(url)
    await migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = datetime.now(timezone.utc)
    started = time.perf_counter()

    # Slots at DESKS desks in working hours, from the day after tomorrow, about 10 % more than
    # the visits, so some stay free for the booking screens.
    starts: list[datetime] = []
    day = now.astimezone(calendar.tz).date() + timedelta(days=2)
    while len(starts) * DESKS < visits * 1.1:
        starts += calendar.working_slots(day, timedelta(minutes=30))
        day += timedelta(days=1)
    slots = [dict(id=i + 1, desk=f"Окно {d + 1}", staff_id=None, starts_at=s.astimezone(timezone.utc),
                  ends_at=(s + timedelta(minutes=30)).astimezone(timezone.utc), status="open", created_at=now)
             for i, (s, d) in enumerate((s, d) for s in starts for d in range(DESKS))]
    booked = [s for i, s in enumerate(slots) if i % 11][:visits]
    citizens = (visits + 1) // 2
    async with sessions() as s, s.begin():
        for i in range(0, citizens, CHUNK):
            await s.execute(insert(Citizen), [dict(id=c + 1, created_at=now) for c in range(i, min(citizens, i + CHUNK))])
            await s.execute(insert(Identity), [dict(id=c + 1, citizen_id=c + 1, channel="telegram",
                                                    external_id=str(10_000_000 + c), reachable=True, created_at=now)
                                               for c in range(i, min(citizens, i + CHUNK))])
        for i in range(0, len(slots), CHUNK):
            await s.execute(insert(VisitSlot), slots[i:i + CHUNK])
        for i in range(0, visits, CHUNK):
            rows_v, rows_o = [], []
            for n, slot in enumerate(booked[i:i + CHUNK], start=i):
                remind = "day" if n % 2 else "2h"
                notice = uuid.uuid4().hex
                before = timedelta(days=1) if remind == "day" else timedelta(hours=2)
                rows_v.append(dict(id=n + 1, citizen_id=n // 2 + 1, slot_id=slot["id"], topic="common_property",
                                   status="booked", starts_at=slot["starts_at"], ends_at=slot["ends_at"],
                                   channel="telegram", remind=remind, reminder_notice=notice, revision=0,
                                   booked_at=now))
                rows_o.append(dict(citizen_id=n // 2 + 1, notice=notice, kind="visit_reminder", channel="telegram",
                                   address=str(10_000_000 + n // 2), text="Напоминаем о записи на приём.",
                                   buttons=[], status="pending", attempts=0, not_before=slot["starts_at"] - before,
                                   expires_at=slot["starts_at"], created_at=now))
            await s.execute(insert(Visit), rows_v)
            await s.execute(insert(OutboxMessage), rows_o)
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return {"slots": len(slots), "visits": visits, "citizens": citizens, "fill_s": time.perf_counter() - started,
            "days": (day - now.astimezone(calendar.tz).date()).days}


# --- the child: start the bot and measure ------------------------------------------------------

class FakeDeliverer:
    """Records when each outbox row was delivered (wall clock), after a simulated round trip."""

    channel = "telegram"

    def __init__(self) -> None:
        self.delivered: dict[int, float] = {}

    async def deliver(self, external_id: str, reply, key: int) -> None:
        await asyncio.sleep(NETWORK_DELAY)
        self.delivered.setdefault(key, time.time())


async def lateness(app, deliverer: FakeDeliverer, count: int, window: float, citizens: int, prefix: int) -> dict:
    """`count` reminders falling due over `window` seconds starting a little later; wait until
    all are delivered; lateness = delivery time - not_before. Addresses start with `prefix`."""
    from services import outbox

    lead = 3.0
    base = datetime.now(timezone.utc) + timedelta(seconds=lead)
    due: dict[int, float] = {}
    async with app.sessionmaker() as s, s.begin():
        for i in range(count):
            at = base + timedelta(seconds=window * i / count)
            await outbox.enqueue(s, citizen_id=i % citizens + 1, kind="visit_reminder",
                                 targets=[("telegram", str(prefix * 10_000_000 + i))], text="Напоминаем о записи на приём.",
                                 not_before=at, expires_at=at + timedelta(hours=2))
        from sqlalchemy import select

        from storage.models import OutboxMessage

        rows = (await s.execute(select(OutboxMessage.id, OutboxMessage.not_before)
                                .where(OutboxMessage.address.like(f"{prefix}_______")))).all()
        due = {rid: nb.timestamp() for rid, nb in rows}
    deadline = time.time() + lead + window + 120
    while time.time() < deadline and not all(k in deliverer.delivered for k in due):
        await asyncio.sleep(0.2)
    late = [deliverer.delivered[k] - t for k, t in due.items() if k in deliverer.delivered]
    return {"count": count, "window_s": window, "delivered": len(late),
            "p50_s": percentile(late, 50) if late else None, "p99_s": percentile(late, 99) if late else None,
            "max_s": max(late) if late else None}


async def child(url: str, due: int, window: float, burst: int, citizens: int) -> dict:
    from sqlalchemy import func, select

    from bot.app import build_app
    from bot.runner import periodic_jobs
    from bot.scheduler import make_scheduler
    from services.sender import OutboxSender
    from services import visits as V
    from bot.settings import Settings
    from storage.models import OutboxMessage

    result: dict = {}
    files = tempfile.mkdtemp(prefix="bench-visits-files-")
    t0 = time.perf_counter()
    app = await build_app(Settings(_env_file=None, DATABASE_URL=url, FILES_DIR=files))
    result["build_app_s"] = time.perf_counter() - t0
    deliverer = FakeDeliverer()
    sender = OutboxSender(app.sessionmaker, {"telegram": deliverer})
    first_done: dict[int, float] = {}

    def timed(i, fn):
        async def job():
            try:
                return await fn()
            finally:
                first_done.setdefault(i, time.perf_counter())
        job.__qualname__ = getattr(fn, "__qualname__", "job")
        return job

    # The runner's jobs, each timed: the sender polling the 100,000 future reminders, the
    # rating job over the visits, housekeeping. They all run once right at start.
    jobs = [(timed(i, fn), seconds) for i, (fn, seconds) in enumerate(periodic_jobs(app, sender))]
    scheduler = make_scheduler(app, jobs)
    scheduler.start()
    result["startup_s"] = time.perf_counter() - t0
    while len(first_done) < len(jobs) and time.perf_counter() - t0 < 60:
        await asyncio.sleep(0.01)
    result["first_jobs_done_s"] = max(first_done.values()) - t0 if first_done else None
    result["rss_started_mb"] = rss_mb()[0]

    polls = []
    for _ in range(20):
        t = time.perf_counter()
        async with app.sessionmaker() as s:
            await s.execute(select(OutboxMessage.id).where(OutboxMessage.status == "pending",
                                                           OutboxMessage.not_before <= datetime.now(timezone.utc))
                            .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(100))
        polls.append(time.perf_counter() - t)
    result["due_query_ms"] = statistics.median(polls) * 1000
    t = time.perf_counter()
    async with app.sessionmaker() as s:
        days = await V.free_days(s, app.engine.deps.calendar.tz, datetime.now(timezone.utc))
        if days:
            await V.free_times(s, app.engine.deps.calendar.tz, days[0], datetime.now(timezone.utc))
    result["booking_screens_ms"] = (time.perf_counter() - t) * 1000

    result["spread"] = await lateness(app, deliverer, due, window, citizens, prefix=2)
    if burst:
        result["burst"] = await lateness(app, deliverer, burst, 0.0, citizens, prefix=3)
    async with app.sessionmaker() as s:
        result["pending_rows"] = await s.scalar(select(func.count()).where(OutboxMessage.status == "pending"))
    result["rss_end_mb"], result["rss_peak_mb"] = rss_mb()
    await scheduler.stop()
    await app.close()
    return result


# --- databases ---------------------------------------------------------------------------------

async def pg_reachable() -> str | None:
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(PG_ADMIN), 3)
        await conn.close()
        return None
    except Exception as e:  # any failure: skip PostgreSQL and say why
        return f"{type(e).__name__}: {e}"


async def pg_create() -> tuple[str, str]:
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"


async def pg_drop(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run_child(url: str, args, citizens: int) -> dict:
    cmd = [sys.executable, "-m", "bench.bench_visits", "--child", url, "--due", str(args.due),
           "--window", str(args.window), "--burst", str(args.burst), "--citizens", str(citizens)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=args.window + 900)
    if done.returncode != 0:
        raise RuntimeError(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt(value, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def report(results: list[tuple[str, dict, dict]], args) -> None:
    cols = [name for name, _, _ in results]
    rows = [
        ("visits / slots / citizens", lambda f, c: f"{f['visits']:,} / {f['slots']:,} / {f['citizens']:,}", ""),
        ("pending reminders at start", lambda f, c: f"{f['visits']:,}", ""),
        ("fill time (setup only)", lambda f, c: fmt(f["fill_s"], " s", 1), ""),
        ("build_app", lambda f, c: fmt(c["build_app_s"], " s"), ""),
        ("start-up: build_app + scheduler start", lambda f, c: fmt(c["startup_s"], " s"), "< 3 s"),
        ("  … and first run of all jobs", lambda f, c: fmt(c["first_jobs_done_s"], " s"), ""),
        ("RSS after start-up", lambda f, c: fmt(c["rss_started_mb"], " MB", 0), "< 200 MB"),
        ("RSS peak (whole run)", lambda f, c: fmt(c["rss_peak_mb"], " MB", 0), "< 200 MB"),
        ("due-row query, 100 rows (median)", lambda f, c: fmt(c["due_query_ms"], " ms", 1), ""),
        ("booking screens: free days + times", lambda f, c: fmt(c["booking_screens_ms"], " ms", 1), ""),
        (f"{args.due} due within {args.window:g} s: delivered", lambda f, c: f"{c['spread']['delivered']}", ""),
        ("  lateness p50", lambda f, c: fmt(c["spread"]["p50_s"], " s"), ""),
        ("  lateness p99", lambda f, c: fmt(c["spread"]["p99_s"], " s"), "< 2 s"),
        ("  lateness max", lambda f, c: fmt(c["spread"]["max_s"], " s"), ""),
    ]
    if args.burst:
        rows += [
            (f"{args.burst} due at the same instant: p50", lambda f, c: fmt(c["burst"]["p50_s"], " s"), ""),
            (f"  p99 (at {_tg_rate():g}/s at least {args.burst / _tg_rate():.0f} s)",
             lambda f, c: fmt(c["burst"]["p99_s"], " s"), ""),
        ]
    width = max(len(r[0]) for r in rows) + 2
    print(f"\nVisit benchmark: {args.visits:,} future visits with reminders; sender every "
          f"{_sender_interval()} s, deliverer {NETWORK_DELAY * 1000:.0f} ms per message\n")
    print(f"{'':<{width}}" + "".join(f"{c:>30}" for c in cols) + f"{'target':>12}")
    for label, get, target in rows:
        print(f"{label:<{width}}" + "".join(f"{get(f, c):>30}" for _, f, c in results) + f"{target:>12}")


def _tg_rate() -> float:
    import channels  # noqa: F401  (registers the channels and their limits)
    from services.pacing import default_limits

    return default_limits()["telegram"].per_second


def _sender_interval() -> str:
    from bot.runner import SENDER_INTERVAL

    return f"{SENDER_INTERVAL:g}"


async def parent(args) -> int:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        if backend == "postgres":
            reason = await pg_reachable()
            if reason:
                print(f"PostgreSQL skipped: not reachable at {PG_ADMIN}: {reason}")
                continue
            name, url = await pg_create()
        else:
            name, url = None, f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='bench-visits-')}/bench.db"
        try:
            print(f"{backend}: filling {args.visits:,} visits …", flush=True)
            filled = await fill(url, args.visits)
            print(f"{backend}: measuring in a fresh process (about {args.window + 10:.0f} s) …", flush=True)
            measured = await asyncio.to_thread(run_child, url, args, filled["citizens"])
            results.append((backend, filled, measured))
        finally:
            if name:
                await pg_drop(name)
    if results:
        report(results, args)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000, help="reminders falling due within the window")
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which they fall due")
    parser.add_argument("--burst", type=int, default=1000, help="reminders due at one instant (0: skip)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="2,000 visits, 50 reminders in 3 s, SQLite: a smoke run")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--citizens", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.visits, args.due, args.window, args.burst, args.backend = 2000, 50, 3.0, 50, "sqlite"
    if args.child:
        import logging

        logging.basicConfig(level=logging.WARNING)
        print(json.dumps(asyncio.run(child(args.child, args.due, args.window, args.burst, args.citizens))))
        return 0
    return asyncio.run(parent(args))


if __name__ == "__main__":
    sys.exit(main())
