"""Scale benchmark (issue 17, item 7): 1, 2 and 4 webhook workers of the assistant on one
PostgreSQL, against the fake Bot API with Telegram's flood limits on.

    .venv/bin/python -m bench.scale                     # 3 rounds of 1, 2 and 4 workers (~5 min)
    .venv/bin/python -m bench.scale --quick --workers 1,2   # one short round: a smoke run

Each worker is `python -m bot run` in its own process in Telegram webhook mode on its own port
on 127.0.0.1 (ROLE=web), plus one more process with ROLE=sender for the outbox and the periodic
jobs; all share one database (created with a random name, migrated once, dropped at the end) and
REDIS_URL=redis://127.0.0.1:6379/<n>. A setting the assistant does not know is ignored, so
without roles every process runs everything. This process plays Telegram (tests/fakes/
telegram_api.py, enforce_limits=True: 429 over ~30 sends/s or ~1/s per chat) and the reverse
proxy: it POSTs the updates round robin across the workers' webhook URLs (a deployment has
nginx there). The citizens and the checks are in bench/scale_load.py.

Per worker count, median over rounds (min–max): throughput (replies/s), p50/p99 latency (update
posted -> its reply at the fake), ordering violations (a reply out of order, or a screen no update
asked for), lost (no reply in 20 s), duplicates, 429s, CPU per update of all the assistant's
processes, and the throughput against one worker in the same round. Worker counts alternate,
their order flipped every round.

    --workers 1,2,4   --rounds N   --chats N   --seconds S (measured per case)
    --pair-gap MS     the gap between the two updates of a pair (default 5)
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, scale_load  # noqa: E402
from bench.scale_load import (  # noqa: E402
    REPLY_TIMEOUT, SECRET, TEXT_GAP, TEXT_RATE, Citizen, Proxy, ScaleFake, Tally, TextBudget)
from tests.app.crash_harness import free_port  # noqa: E402

PUBLIC_URL = "https://bot.example.org/telegram/webhook"  # what setWebhook is told; the proxy's address
PATH = "/telegram/webhook"
DROPPED = ("TELEGRAM_", "VK_", "MAX_", "SMTP_", "DATABASE_URL", "ROLE", "REDIS_URL", "HTTP_", "STAFF_", "OIDC_")


@dataclass(frozen=True)
class Plan:
    rounds: int = 3
    chats: int = 60
    seconds: float = 10.0


QUICK = Plan(rounds=1, chats=12, seconds=3.0)
CONNECTIONS = 1  # Telegram's max_connections, played by the proxy (--connections)


# ---------------------------------------------------------------- the assistant's processes
class Worker:
    """`python -m bot run` with `env`, its output in a log file."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.env, self.folder = name, env, folder
        self.log = folder / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def start(self) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
        env = {**base, "PYTHONPATH": str(ROOT), "AGENCY_PROFILE": str(ROOT / "bot/profiles/astrakhan.toml"),
               "FILES_DIR": str(self.folder / "files"), "LOG_LEVEL": "WARNING", **self.env}
        with open(self.log, "ab") as out:
            self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=self.folder,
                                                             env=env, stdout=out, stderr=out)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def check(self) -> None:
        if self.proc.returncode is not None:
            raise SystemExit(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def answering(url: str, worker: Worker, timeout: float = 120.0) -> None:
    """Until the worker's webhook answers HTTP at all (a GET gets 405 or 401)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            worker.check()
            try:
                async with session.get(url) as resp:
                    await resp.read()
                    return
            except (aiohttp.ClientError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{worker.name} did not answer on {url}:\n{worker.tail()}")
            await asyncio.sleep(0.1)


def worker_env(fake: ScaleFake, db_url: str, redis_url: str, role: str, port: int) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "ROLE": role,
            "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.base_url,
            "TELEGRAM_WEBHOOK_URL": PUBLIC_URL, "TELEGRAM_WEBHOOK_PATH": PATH, "TELEGRAM_WEBHOOK_HOST": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(port), "TELEGRAM_WEBHOOK_SECRET": SECRET}


# ---------------------------------------------------------------- one case
async def run_case(fake: ScaleFake, n: int, plan: Plan, db_url: str, redis_url: str, folder: Path,
                   chat_ids) -> Tally:
    """N web workers and one sender up; the citizens into the wizard; the measured loop."""
    fake.reset()
    case = folder / f"w{n}-{next(chat_ids)}"
    case.mkdir()
    ports = [free_port() for _ in range(n + 1)]
    workers = [Worker(f"web{i + 1}", worker_env(fake, db_url, redis_url, "web", ports[i]), case) for i in range(n)]
    workers.append(Worker("sender", worker_env(fake, db_url, redis_url, "sender", ports[n]), case))
    urls = [f"http://127.0.0.1:{port}{PATH}" for port in ports[:n]]
    try:
        for worker in workers:
            await worker.start()
        await asyncio.gather(*(answering(url, w) for url, w in zip(urls, workers)))
        async with Proxy(fake, urls, CONNECTIONS) as proxy:
            budget = TextBudget(TEXT_RATE)
            citizens = [Citizen(fake, proxy, budget, next(chat_ids)) for _ in range(plan.chats)]
            await asyncio.gather(*(c.into_wizard() for c in citizens))
            await asyncio.sleep(1.0)  # the per-chat buckets refill after /start
            fake.tally, fake.limit_hits = Tally(), 0
            tally = fake.tally
            cpu0, own0 = sum(load.cpu_seconds(w.pid) for w in workers), load.cpu_seconds()
            start = time.perf_counter()
            await asyncio.gather(*(c.loop(start + plan.seconds) for c in citizens))
            tally.seconds = time.perf_counter() - start
            tally.cpu = sum(load.cpu_seconds(w.pid) for w in workers) - cpu0
            tally.own_cpu = load.cpu_seconds() - own0
            await asyncio.sleep(1.5)  # time for a duplicate or a late reply to show up
        tally.limit_hits = fake.limit_hits
        for worker in workers:
            worker.check()
        return tally
    finally:
        await asyncio.gather(*(w.stop() for w in workers))


# ---------------------------------------------------------------- the run
async def bench(plan: Plan, counts: list[int]) -> dict[int, list[Tally]]:
    from storage import migrate
    from storage.db import make_engine

    results: dict[int, list[Tally]] = {n: [] for n in counts}
    fake = ScaleFake()
    await fake.start()
    pg_name, pg_url = await load.pg_create()
    redis_url = f"redis://127.0.0.1:6379/{random.randint(8, 15)}"
    print(f"database {pg_name}, {redis_url}", file=sys.stderr, flush=True)
    chat_ids = iter(range(50_000, 10**9))
    try:
        engine = make_engine(pg_url)
        await migrate.upgrade(engine)  # once, before any worker starts
        await engine.dispose()
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            for r in range(plan.rounds):
                for n in (counts if r % 2 == 0 else counts[::-1]):
                    tally = await run_case(fake, n, plan, pg_url, redis_url, Path(tmp), chat_ids)
                    results[n].append(tally)
                    print(f"  round {r + 1}/{plan.rounds}, {n} worker(s): {tally.rate:.0f} replies/s, "
                          f"{tally.violations} violations, {tally.lost} lost, {tally.limit_hits} 429s; "
                          f"load average {load.loadavg()}", file=sys.stderr, flush=True)
    finally:
        await fake.stop()
        await load.pg_drop(pg_name)
    return results


# ---------------------------------------------------------------- the report
def total(tallies: list[Tally], attr: str) -> int:
    return sum(getattr(t, attr) for t in tallies)


def report(plan: Plan, results: dict[int, list[Tally]], before: str) -> None:
    counts = list(results)
    print()
    print(f"Scale benchmark: N webhook workers (ROLE=web) + 1 ROLE=sender process on one PostgreSQL, "
          f"Python {sys.version.split()[0]}")
    print(f"{plan.rounds} round(s); each: {plan.chats} chats, closed loop per chat for {plan.seconds:g} s; "
          f"worker counts alternate (order flipped per round)")
    print("the load generator plays the reverse proxy: updates POSTed round robin across the workers' "
          "webhooks (a deployment has nginx there)")
    print(f"fake Bot API with flood limits on (429 over ~30 sends/s, ~1/s per chat); typed messages "
          f"≤ {TEXT_RATE:g}/s together, ≤ 1 per {TEXT_GAP:g} s per chat; pairs posted {scale_load.PAIR_GAP * 1000:g} ms apart; "
          f"webhook deliveries at most {CONNECTIONS or 'any number'} at once (setWebhook max_connections)")
    print(f"load average before {before}; after {load.loadavg()}")
    print("figures: median over rounds (min–max); counts: summed over rounds; CPU = user+system time of all "
          "the assistant's processes per reply; gen% = this process (fake + load), 100% = one core")
    print()
    head = (f"{'workers':<8}{'replies/s':>18}{'vs 1 worker':>20}{'p50 ms':>20}{'p99 ms':>22}{'CPU ms':>18}"
            f"{'gen%':>6}{'violations (chats)':>20}{'lost':>6}{'dup':>5}{'429s':>7}{'sent new':>10}")
    print(head)
    base = results.get(1)
    for n in counts:
        ts = results[n]
        scale = [t.rate / b.rate for t, b in zip(ts, base) if b.rate] if base and n != 1 else []
        violations = f"{total(ts, 'violations')} ({len(set().union(*(t.bad_chats for t in ts)))})"
        presses = total(ts, "posted") - total(ts, "typed")
        presses_sent = max(0, total(ts, "sends") - total(ts, "typed")) / max(1, presses)
        print(f"{n:<8}{load.spread([t.rate for t in ts], '.0f'):>18}{load.spread(scale) if scale else ('1' if n == 1 else 'n/a'):>20}"
              f"{load.spread([load.pct(t.latencies, 0.5) * 1000 for t in ts], '.0f'):>20}"
              f"{load.spread([load.pct(t.latencies, 0.99) * 1000 for t in ts], '.0f'):>22}"
              f"{load.spread([t.cpu / t.answered * 1000 if t.answered else float('nan') for t in ts], '.1f'):>18}"
              f"{statistics.median([t.own_cpu / t.seconds * 100 for t in ts]):>5.0f}%"
              f"{violations:>20}{total(ts, 'lost'):>6}{total(ts, 'duplicates'):>5}"
              f"{total(ts, 'limit_hits'):>7}{presses_sent:>9.0%}")
    print()
    print("violations = replies out of order + screens no update asked for (e.g. «кнопка устарела»); "
          f"lost = no reply within {REPLY_TIMEOUT:g} s (that citizen then stops;\nlate = its reply came after all); dup = a reply "
          "when none was due, or the one just shown again; sent new = presses answered with a new message (a send) "
          "instead of an edit in place")
    for n in counts:
        ts = results[n]
        detail = {"out of order": total(ts, "out_of_order"), "off-path screens": total(ts, "stale"),
                  "chats affected": len(set().union(*(t.bad_chats for t in ts))), "late": total(ts, "late"),
                  "webhook POSTs failed": total(ts, "post_errors")}
        shown = ", ".join(f"{k} {v}" for k, v in detail.items() if v)
        print(f"  {n} worker(s): {total(ts, 'posted')} updates posted ({total(ts, 'pairs')} pairs), "
              f"{total(ts, 'answered')} replies, "
              f"{total(ts, 'lost')} lost, {total(ts, 'duplicates')} duplicates" + (f"; {shown}" if shown else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round, few chats (a smoke run)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated (default 1,2,4)")
    parser.add_argument("--rounds", type=int, help="rounds of each worker count (default 3)")
    parser.add_argument("--chats", type=int, help="simulated chats (default 60)")
    parser.add_argument("--seconds", type=float, help="measured seconds per case (default 10)")
    parser.add_argument("--pair-gap", type=float, metavar="MS", help="ms between the two updates of a pair (default 5)")
    parser.add_argument("--connections", type=int, default=1, metavar="N",
                        help="Telegram's simultaneous webhook deliveries (default 1, as the assistant sets; 0: no limit)")
    args = parser.parse_args(argv)
    global CONNECTIONS
    CONNECTIONS = args.connections
    if args.pair_gap is not None:
        scale_load.PAIR_GAP = args.pair_gap / 1000
    try:
        counts = [int(x) for x in args.workers.split(",") if x.strip()]
    except ValueError:
        parser.error("--workers takes numbers, e.g. 1,2,4")
    if not counts or min(counts) < 1:
        parser.error("--workers takes numbers of 1 or more, e.g. 1,2,4")
    plan = QUICK if args.quick else Plan()
    plan = replace(plan, **{k: v for k, v in (("rounds", args.rounds), ("chats", args.chats),
                                              ("seconds", args.seconds)) if v})
    before = load.loadavg()
    started = time.perf_counter()
    results = asyncio.run(bench(plan, counts))
    report(plan, results, before)
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
