"""Report benchmark: a busy agency's year (200,000 appeals with their history, 500,000
consultations, 1,000,000 notices, visits and callbacks), then every report timed on PostgreSQL
and SQLite. Targets from the issue: under 5 s on PostgreSQL, under 15 s on SQLite.

    .venv/bin/python -m bench.bench_reports                  # both databases, the full year
    .venv/bin/python -m bench.bench_reports --scale 0.1      # a tenth, a quicker look
    .venv/bin/python -m bench.bench_reports --only sqlite

Rows go in by bulk: COPY on PostgreSQL (asyncpg), executemany in one transaction on SQLite.
A report's time is the whole build (every query plus the assembly) for the year and for one month.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.calendar import WorkCalendar  # noqa: E402
from bot.settings import Settings  # noqa: E402
from services import reports  # noqa: E402
from services.profile import load_profile  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
YEAR = 2025
CHANNELS = ["telegram", "vk", "max", "console"]
TOPICS = ["common_property", "heating", "water", "power_gas", "billing", "management", "capital_repair", "other"]
NEEDS = ["fix_violation", "inspection", "recalculation", "explanation", "complaint_uk", "other"]
STAFF = 25


def generate(scale: float, calendar) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows, as Python values."""
    rnd = random.Random(15)
    start = datetime(YEAR, 1, 1, tzinfo=timezone.utc)
    n_citizens, n_appeals = int(60_000 * scale), int(200_000 * scale)
    n_consult, n_notices, n_visits, n_callbacks = int(500_000 * scale), int(1_000_000 * scale), int(40_000 * scale), int(30_000 * scale)
    t = {}

    def moment(max_days=365):
        return start + timedelta(seconds=rnd.randrange(max_days * 86400))

    t["staff"] = (["id", "name", "role", "active", "created_at"],
                  [(i, f"Сотрудник {i}", "supervisor" if i == 1 else "operator", True, start) for i in range(1, STAFF + 1)])
    t["citizens"] = (["id", "created_at"], [(i, start) for i in range(1, n_citizens + 1)])
    t["identities"] = (["id", "citizen_id", "channel", "external_id", "reachable", "created_at"],
                       [(i, i, rnd.choice(CHANNELS[:3]), str(i), rnd.random() > 0.02, start) for i in range(1, n_citizens + 1)])
    appeals, events, ratings = [], [], []
    deadlines: dict[date, date] = {}
    ev_id = 0

    def ev(appeal_id, at, action, status_from, status_to, actor_id=None):
        nonlocal ev_id
        ev_id += 1
        events.append((ev_id, appeal_id, at, "staff" if actor_id else "citizen", actor_id, action, status_from, status_to))

    for i in range(1, n_appeals + 1):
        reg = moment()
        day = (reg + timedelta(hours=4)).date()
        deadline = deadlines.get(day) or deadlines.setdefault(day, calendar.deadline(day, 30))
        staff = rnd.randint(1, STAFF)
        fate = rnd.random()
        extended = fate > 0.95
        ev(i, reg, "registered", None, "registered")
        taken = reg + timedelta(hours=rnd.randint(1, 48))
        ev(i, taken, "take", "registered", "in_work", staff)
        if rnd.random() < 0.05:
            ev(i, taken + timedelta(hours=2), "transfer", "in_work", None, staff)
        if extended:
            ev(i, taken + timedelta(days=20), "extend", "in_work", None, staff)
            deadline += timedelta(days=30)
        done = taken + timedelta(days=rnd.randint(1, 34), hours=rnd.randint(0, 8))
        status = "in_work"
        if done > datetime(YEAR, 12, 31, tzinfo=timezone.utc):
            pass  # still open at the end of the year
        elif fate < 0.80:
            status = "answered"
            ev(i, done, "answer", "in_work", "answered", staff)
            if rnd.random() < 0.4:
                ratings.append((len(ratings) + 1, rnd.randint(1, n_citizens), i, staff, "telegram",
                                rnd.choice((3, 3, 3, 2, 1)), done + timedelta(hours=3)))
        elif fate < 0.85:
            status = "refused"
            ev(i, done, "refuse", "in_work", "refused", staff)
        elif fate < 0.95:
            status = "redirected"
            ev(i, taken + timedelta(days=rnd.randint(1, 10)), "redirect", "in_work", "redirected", staff)
        appeals.append((i, f"ЖН-{YEAR}-{i:06d}", rnd.randint(1, n_citizens), rnd.choice(CHANNELS), rnd.choice(TOPICS),
                        rnd.choice(NEEDS), "—", "—", "email", "—", status, reg, deadline, staff, extended))
    t["appeals"] = (["id", "number", "citizen_id", "source_channel", "topic", "need", "text", "full_name",
                     "answer_channel", "answer_address", "status", "registered_at", "deadline", "assigned_staff_id",
                     "extended"], appeals)
    t["appeal_events"] = (["id", "appeal_id", "at", "actor", "actor_id", "action", "status_from", "status_to"], events)
    t["ratings"] = (["id", "citizen_id", "appeal_id", "staff_id", "channel", "score", "created_at"], ratings)
    consults = []
    for i in range(1, n_consult + 1):
        began = moment()
        kind = rnd.choice(("faq", "faq", "faq", "live", "callback"))
        rated = rnd.random() < 0.5
        consults.append((i, rnd.randint(1, n_citizens), rnd.choice(CHANNELS), kind, rnd.choice(TOPICS), "ended",
                         None if kind == "faq" else rnd.randint(1, STAFF), int(rnd.random() < 0.1), began,
                         began + timedelta(minutes=rnd.randint(1, 40)), rnd.random() < 0.8 if rated else None,
                         rnd.choice((3, 2, 1)) if rated else None))
    t["consultations"] = (["id", "citizen_id", "channel", "kind", "topic", "status", "staff_id", "transfers",
                           "started_at", "ended_at", "answered", "rating"], consults)
    t["callback_requests"] = (["id", "citizen_id", "channel", "phone", "topic", "windows", "due_by", "status",
                               "staff_id", "attempts", "created_at"],
                              [(i, rnd.randint(1, n_citizens), rnd.choice(CHANNELS), "+7", rnd.choice(TOPICS), "[]",
                                (c := moment()) + timedelta(days=1), "done", rnd.randint(1, STAFF), 1, c)
                               for i in range(1, n_callbacks + 1)])
    slots, visits = [], []
    for i in range(1, n_visits + 1):
        at = start + timedelta(minutes=30 * i)  # one slot per half hour: no two visits share one
        slots.append((i, "Окно 1", at, at + timedelta(minutes=30), "open", start))
        status = rnd.choice(("attended", "attended", "attended", "no_show", "cancelled"))
        visits.append((i, rnd.randint(1, n_citizens), i, rnd.choice(TOPICS), status, at, at + timedelta(minutes=30),
                       "telegram", "none", 0, start, rnd.randint(1, STAFF) if status != "cancelled" else None,
                       rnd.choice((3, 2, 1, None)) if status == "attended" else None))
    t["visit_slots"] = (["id", "desk", "starts_at", "ends_at", "status", "created_at"], slots)
    t["visits"] = (["id", "citizen_id", "slot_id", "topic", "status", "starts_at", "ends_at", "channel", "remind",
                    "revision", "booked_at", "marked_by", "rating"], visits)
    notices = []
    for i in range(1, n_notices + 1):
        at = moment()
        status = rnd.choices(("sent", "dead", "pending", "task"), (90, 4, 5, 1))[0]
        notices.append((i, rnd.randint(1, n_citizens), rnd.randint(1, n_appeals), f"n{i // 2}", "appeal.answered", 1,
                        rnd.choice(("telegram", "vk", "email", "post")), "—", "—", "[]", status, 1, at, at))
    t["outbox"] = (["id", "citizen_id", "appeal_id", "notice", "kind", "lane", "channel", "address", "text", "buttons",
                    "status", "attempts", "not_before", "created_at"], notices)
    return t


ORDER = ["staff", "citizens", "identities", "appeals", "appeal_events", "ratings", "consultations",
         "callback_requests", "visit_slots", "visits", "outbox"]


def sqlite_value(v):
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def load_sqlite(path: str, tables) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    with con:
        for name in ORDER:
            cols, rows = tables[name]
            sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            con.executemany(sql, ([sqlite_value(v) for v in r] for r in rows))
    con.execute("ANALYZE")
    con.close()


async def load_pg(dsn: str, tables) -> None:
    import asyncpg

    con = await asyncpg.connect(dsn)
    try:
        for name in ORDER:
            cols, rows = tables[name]
            await con.copy_records_to_table(name, records=rows, columns=cols)
        await con.execute("ANALYZE")
    finally:
        await con.close()


async def time_reports(url: str, profile, calendar) -> list[tuple[str, str, float]]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    ctx = reports.Context(profile, calendar, date(YEAR, 12, 31))
    year, month = reports.Period(date(YEAR, 1, 1), date(YEAR, 12, 31)), reports.Period(date(YEAR, 11, 1), date(YEAR, 11, 30))
    out = []
    try:
        for label, period in (("year", year), ("month", month)):
            for name in reports.REPORTS:
                for by in reports.ALLOWED_BY[name][:2]:
                    async with sessions() as s:
                        began = time.perf_counter()
                        await reports.build(s, name, period, by, ctx)
                        out.append((f"{label}", f"{name} by {by}", time.perf_counter() - began))
            async with sessions() as s:
                began = time.perf_counter()
                await reports.build_all(s, period, ctx)
                out.append((label, "all four (the XLSX)", time.perf_counter() - began))
    finally:
        await engine.dispose()
    return out


async def write_chart(url: str, profile, calendar, path: Path) -> None:
    from services import report_files

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            report = await reports.build(s, "satisfaction", reports.Period(date(YEAR, 11, 1), date(YEAR, 11, 30)),
                                         "topic", reports.Context(profile, calendar, date(YEAR, 12, 31)))
        path.write_bytes(report_files.to_png(report))
        print(f"chart written: {path}")
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--chart", type=Path, help="also write November's satisfaction-by-topic chart here (from SQLite)")
    args = parser.parse_args()
    profile = load_profile(Settings(_env_file=None).agency_profile)
    calendar = WorkCalendar.of(profile)
    began = time.perf_counter()
    tables = generate(args.scale, calendar)
    print(f"generated {sum(len(r) for _, r in tables.values()):,} rows in {time.perf_counter() - began:.1f} s "
          f"({len(tables['appeals'][1]):,} appeals, {len(tables['appeal_events'][1]):,} events, "
          f"{len(tables['consultations'][1]):,} consultations, {len(tables['outbox'][1]):,} notices)")
    results = {}
    if args.only != "postgres":
        path = Path(tempfile.mkdtemp()) / "reports.db"
        url = f"sqlite+aiosqlite:///{path}"
        engine = make_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        began = time.perf_counter()
        load_sqlite(str(path), tables)
        print(f"SQLite: loaded in {time.perf_counter() - began:.1f} s")
        results["SQLite"] = await time_reports(url, profile, calendar)
        if args.chart:
            await write_chart(url, profile, calendar, args.chart)
    if args.only != "sqlite":
        import asyncpg

        name = f"bench_reports_{int(time.time())}"
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG.format(name=name)
            engine = make_engine(url)
            await migrate.upgrade(engine)
            await engine.dispose()
            began = time.perf_counter()
            await load_pg(f"postgresql://postgres@127.0.0.1:5432/{name}", tables)
            print(f"PostgreSQL: loaded in {time.perf_counter() - began:.1f} s")
            results["PostgreSQL"] = await time_reports(url, profile, calendar)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    targets = {"SQLite": 15.0, "PostgreSQL": 5.0}
    for db, rows in results.items():
        print(f"\n{db} (target < {targets[db]:.0f} s per report)")
        for period, what, seconds in rows:
            flag = "" if seconds < targets[db] else "  OVER TARGET"
            print(f"  {period:5} {what:32} {seconds:7.2f} s{flag}")
        worst = max(s for p, w, s in rows if not w.startswith("all"))
        print(f"  slowest single report: {worst:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
