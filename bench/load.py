"""The load generator shared by the channel benchmarks (bench_telegram, bench_vk): simulated
users, closed and open loops, the bot in a child process with its CPU read from /proc, rounds
that alternate the echo and the full stack, and the report with medians and min–max.

A benchmark module supplies the platform part: a fake server that resolves `Waiters` when a
reply lands, `User` subclasses that build the next update, and the bots to serve.
"""
from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPLY_TIMEOUT = 15.0
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Plan:
    rounds: int = 5  # each scenario: echo and full alternate, this many rounds each
    users: int = 24  # concurrent users in the closed loop (throughput at saturation)
    closed_seconds: float = 3.0
    rate: float = 50.0  # updates/s offered in the open loop
    rate_seconds: float = 4.0
    rate_users: int = 80  # at 50 updates/s each acts about every 1.6 s: its reply is long back
    warm_seconds: float = 1.0  # one unmeasured closed loop per case before the first round


QUICK = Plan(rounds=1, users=6, closed_seconds=0.5, rate=40.0, rate_seconds=0.5, rate_users=30, warm_seconds=0.0)


# ---------------------------------------------------------------- measuring
def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (Linux /proc), or of this one."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def loadavg() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    data = sorted(values)
    return data[min(len(data) - 1, int(round(q * (len(data) - 1))))]


@dataclass
class Window:
    """One measured loop: latencies in seconds, the bot's and this process's CPU seconds."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    timeouts: int = 0
    skipped: int = 0  # open loop: an update due while every user was still waiting
    bot_cpu: float = float("nan")
    own_cpu: float = float("nan")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The bot's CPU per update, ms."""
        n = len(self.latencies) + self.timeouts
        return self.bot_cpu / n * 1000 if n else float("nan")

    def ms(self, q: float) -> float:
        return pct(self.latencies, q) * 1000


class Waiters:
    """One future per chat, resolved by the fake when the reply the user waits for lands."""

    def __init__(self) -> None:
        self._futures: dict[int, asyncio.Future] = {}

    def expect(self, chat: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._futures[chat] = future
        return future

    def arrived(self, chat: int) -> None:
        future = self._futures.pop(chat, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    def clear(self) -> None:
        self._futures.clear()


class User:
    """One simulated person. Subclasses build updates (`next_update`, `first_update`) and
    queue them in the fake (`push`); the fake calls `waiters.arrived(chat)` on the reply."""

    out_of_step = 0  # a step's button was missing: the user went back to the menu (counted, shown)

    def __init__(self, waiters: Waiters, chat: int) -> None:
        self.waiters, self.chat = waiters, chat
        self.busy = False

    def next_update(self) -> dict:
        raise NotImplementedError

    def first_update(self) -> dict:
        raise NotImplementedError

    def push(self, update: dict) -> None:
        raise NotImplementedError

    async def act(self, update: dict | None = None) -> float | None:
        """Queue one update and wait for the reply; the latency in seconds (None on timeout)."""
        self.busy = True
        try:
            update = update or self.next_update()
            future = self.waiters.expect(self.chat)
            start = time.perf_counter()
            self.push(update)
            try:
                return await asyncio.wait_for(future, REPLY_TIMEOUT) - start
            except asyncio.TimeoutError:
                return None
        finally:
            self.busy = False


def _note(window: Window, latency: float | None) -> None:
    if latency is None:
        window.timeouts += 1
    else:
        window.latencies.append(latency)


async def closed_loop(users: list[User], seconds: float) -> Window:
    """Every user acts again as soon as its reply is back: the throughput at saturation."""
    window = Window()
    deadline = time.perf_counter() + seconds

    async def run(user: User) -> None:
        while time.perf_counter() < deadline:
            _note(window, await user.act())

    start = time.perf_counter()
    await asyncio.gather(*(run(u) for u in users))
    window.seconds = time.perf_counter() - start
    return window


async def open_loop(users: list[User], rate: float, seconds: float) -> Window:
    """Updates offered at a fixed rate whatever the replies do (latency under a steady load)."""
    window = Window()
    tasks: list[asyncio.Task] = []

    async def one(user: User) -> None:
        _note(window, await user.act())

    start = time.perf_counter()
    k = 0
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        for _ in range(len(users)):
            user = users[k % len(users)]
            k += 1
            if not user.busy:
                tasks.append(asyncio.create_task(one(user)))
                break
        else:
            window.skipped += 1
    await asyncio.gather(*tasks)
    window.seconds = time.perf_counter() - start
    return window


async def measured(pid: int, loop: Awaitable[Window]) -> Window:
    """Run a loop, noting the CPU the bot process and this process used meanwhile."""
    bot0, own0 = cpu_seconds(pid), cpu_seconds()
    window = await loop
    window.bot_cpu, window.own_cpu = cpu_seconds(pid) - bot0, cpu_seconds() - own0
    return window


async def warm_up(users: list[User]) -> None:
    """Each user's first update (/start: creates the citizen), not measured."""
    for i in range(0, len(users), 25):
        await asyncio.gather(*(u.act(u.first_update()) for u in users[i:i + 25]))


# ---------------------------------------------------------------- PostgreSQL
async def pg_create() -> tuple[str, str]:
    """A fresh database of its own, like tests/conftest.py makes: (name, SQLAlchemy URL)."""
    import uuid

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


def kinds_for(db: str, adapter: bool) -> list[str]:
    """The bots to measure: the echo, the full stack on SQLite and/or PostgreSQL ("full-pg")."""
    full = {"sqlite": ["full"], "postgres": ["full-pg"], "both": ["full", "full-pg"]}[db]
    return ["echo", *full, *(["adapter"] if adapter else [])]


# ---------------------------------------------------------------- the bot in a child process
class Child:
    """`python -m <module> --serve <kind>` with `env`; ready when `ready()` turns true."""

    def __init__(self, module: str, kind: str, env: dict[str, str], cwd: Path) -> None:
        self.module, self.kind, self.env, self.cwd = module, kind, env, cwd
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def start(self, ready: Callable[[], bool], timeout: float = 180.0) -> Child:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "ERROR", **self.env}
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", self.module, "--serve", self.kind,
                                                         cwd=self.cwd, env=env)
        try:
            async with asyncio.timeout(timeout):
                while not ready():
                    if self.proc.returncode is not None:
                        raise SystemExit(f"the {self.kind} bot exited with {self.proc.returncode}")
                    await asyncio.sleep(0.05)
        except BaseException:  # not ready in time, or cancelled: no orphan left behind
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
            raise
        return self

    async def stop(self, nudge: Callable[[], None] | None = None) -> None:
        """SIGTERM; `nudge` is called while waiting (e.g. to release a long poll)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                while self.proc.returncode is None:
                    if nudge:
                        nudge()
                    try:
                        await asyncio.wait_for(self.proc.wait(), 0.2)
                    except asyncio.TimeoutError:
                        pass
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


PROFILER = None  # the child's cProfile.Profile under --profile, enabled once the bot is up


def lift_citizen_limits(app) -> None:
    """The bench's users file an appeal every few seconds: the profile's appeals per hour and
    per day (issue 10 item 8) would turn most of them away, so the full stack runs without them."""
    profile = app.engine.deps.profile
    limits = profile.limits.model_copy(update={"appeals_per_hour": 10**9, "appeals_per_day": 10**9})
    app.engine.deps.profile = profile.model_copy(update={"limits": limits})


def serve_main(serve: Callable[[str], Awaitable[None]], kind: str, name: str) -> None:
    """The child's main: `serve(kind)` until SIGTERM. With BENCH_PROFILE_DIR set, the time from
    the bot being up to SIGTERM is profiled in process CPU time (start-up and imports left out)."""
    global PROFILER
    import logging

    logging.basicConfig(level=logging.ERROR)
    folder = os.environ.get("BENCH_PROFILE_DIR")
    if folder and os.environ.get("BENCH_PROFILER") == "pyinstrument":  # sampling: far less distortion
        from pyinstrument import Profiler

        PROFILER = Profiler(interval=0.0005, async_mode="disabled")  # the whole loop, not one task
        PROFILER.enable, PROFILER.disable = PROFILER.start, PROFILER.stop
    elif folder:
        import cProfile

        PROFILER = cProfile.Profile(time.process_time)  # CPU of the process (all its threads), not wall time
    from bot import loop

    loop.run(serve(kind), os.environ.get("EVENT_LOOP", "auto"))  # echo and full stack on the same loop
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    if PROFILER is not None and hasattr(PROFILER, "dump_stats"):
        PROFILER.dump_stats(Path(folder) / f"{name}-{kind}.prof")
    elif PROFILER is not None:
        (Path(folder) / f"{name}-{kind}.txt").write_text(PROFILER.output_text(show_all=False))


async def until_sigterm() -> None:
    """Wait for SIGTERM; the bot is up, so a profile starts here."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if PROFILER is not None:
        PROFILER.enable()
    await stop.wait()
    if PROFILER is not None:
        PROFILER.disable()


# ---------------------------------------------------------------- rounds
@dataclass
class Case:
    """One scenario on one bot in one round: the closed loop, then the open loop."""

    closed: Window
    rated: Window


RunCase = Callable[[str, str, float, float], Awaitable[Case]]  # (scenario, kind, closed s, rate s)


async def rounds(plan: Plan, scenarios: list[str], kinds: list[str], run_case: RunCase,
                 progress: bool = True) -> dict[tuple[str, str], list[Case]]:
    """Each round runs every scenario on every bot, the bots back to back per scenario, their
    order flipped every round so a drift in the machine's load hits both alike."""
    results: dict[tuple[str, str], list[Case]] = {(s, k): [] for s in scenarios for k in kinds}
    if plan.warm_seconds:
        for scenario in scenarios:
            for kind in kinds:
                await run_case(scenario, kind, plan.warm_seconds, 0.0)
    for r in range(plan.rounds):
        order = kinds if r % 2 == 0 else kinds[::-1]
        for scenario in scenarios:
            for kind in order:
                case = await run_case(scenario, kind, plan.closed_seconds, plan.rate_seconds)
                results[(scenario, kind)].append(case)
        if progress:
            print(f"  round {r + 1}/{plan.rounds} done, load average {loadavg()}", file=sys.stderr, flush=True)
    return results


# ---------------------------------------------------------------- the report
def spread(values: list[float], fmt: str = ".2f") -> str:
    """median (min–max)"""
    values = [v for v in values if v == v]
    if not values:
        return "n/a"
    med = format(statistics.median(values), fmt)
    if len(values) == 1:
        return med
    return f"{med} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def report(title: str, plan: Plan, results: dict[tuple[str, str], list[Case]], names: dict[str, str],
           targets: dict[str, float], load_before: str, p99_target_ms: float = 30.0, unit: str = "updates") -> None:
    kinds = list(dict.fromkeys(k for _, k in results))
    scenarios = list(dict.fromkeys(s for s, _ in results))
    print()
    print(title)
    print(f"{plan.rounds} rounds; each: closed loop {plan.users} users {plan.closed_seconds:g} s, then open loop "
          f"{plan.rate:g} {unit}/s for {plan.rate_seconds:g} s; echo and full alternate (order flipped per round)")
    print(f"load average before {load_before}; after {loadavg()}")
    print("figures: median over rounds (min–max); CPU = the bot process's user+system time per update;")
    print("bot% / gen% = CPU use of the bot / of the fake + load generator in the closed loop (100% = one core)")
    print()
    head = (f"{'':<34}{'closed: per s':>22}{'CPU ms/upd':>20}{'bot%':>6}{'gen%':>6}"
            f"{'CPU ms @rate':>20}{'p50 ms @rate':>20}{'p99 ms @rate':>20}{'p99 all':>9}")
    print(head)
    for scenario in scenarios:
        for kind in kinds:
            cases = results[(scenario, kind)]
            closed = [c.closed for c in cases]
            rated = [c.rated for c in cases]
            pooled = [x for w in rated for x in w.latencies]
            bad = sum(w.timeouts for w in closed + rated)
            skipped = sum(w.skipped for w in rated)
            extra = (f"  {bad} timeouts" if bad else "") + (f"  {skipped} not offered" if skipped else "")
            print(f"{names.get(kind, kind) + ' / ' + scenario:<34}"
                  f"{spread([w.rate for w in closed], '.0f'):>22}{spread([w.cpu_ms for w in closed]):>20}"
                  f"{statistics.median([w.bot_cpu / w.seconds * 100 for w in closed]):>5.0f}%"
                  f"{statistics.median([w.own_cpu / w.seconds * 100 for w in closed]):>5.0f}%"
                  f"{spread([w.cpu_ms for w in rated]):>20}{spread([w.ms(0.5) for w in rated], '.1f'):>20}"
                  f"{spread([w.ms(0.99) for w in rated], '.1f'):>20}{pct(pooled, 0.99) * 1000:>9.1f}{extra}")
    if "echo" not in kinds:
        return
    print()
    print("full vs echo, per round then median (min–max); higher is better for both:")
    print(f"{'':<20}{'throughput full/echo':>26}{'CPU echo/full':>24}{'target':>9}  verdict")
    for scenario in scenarios:
        for kind in kinds:
            if kind == "echo":
                continue
            pairs = list(zip(results[(scenario, "echo")], results[(scenario, kind)]))
            thr = [f.closed.rate / e.closed.rate for e, f in pairs if e.closed.rate]
            cpu = [e.closed.cpu_ms / f.closed.cpu_ms for e, f in pairs if f.closed.cpu_ms]
            target = targets.get(scenario) if kind.startswith("full") else None
            verdict = ""
            if target is not None and thr and cpu:
                ok = statistics.median(thr) >= target and statistics.median(cpu) >= target
                verdict = "met" if ok else "NOT met"
            print(f"  {kind + ' / ' + scenario:<18}{spread(thr):>26}{spread(cpu):>24}"
                  f"{'≥' + format(target, '.2f') + 'x' if target else '':>9}  {verdict}")
    if "full" in kinds and "full-pg" in kinds:
        print()
        print("PostgreSQL vs SQLite, full stack, per round then median (min–max); target within 20 %:")
        for scenario in scenarios:
            pairs = list(zip(results[(scenario, "full")], results[(scenario, "full-pg")]))
            cpu = [pg.closed.cpu_ms / lite.closed.cpu_ms for lite, pg in pairs if lite.closed.cpu_ms]
            thr = [pg.closed.rate / lite.closed.rate for lite, pg in pairs if lite.closed.rate]
            ok = cpu and statistics.median(cpu) <= 1.2 and statistics.median(thr) >= 1 / 1.2
            print(f"  {scenario:<18}CPU per update pg/sqlite {spread(cpu)}   throughput pg/sqlite {spread(thr)}"
                  f"  {'met' if ok else 'NOT met'}")
    print()
    print(f"p99 at {plan.rate:g} {unit}/s offered, full stack (target < {p99_target_ms:g} ms), median of rounds "
          f"and pooled over all rounds:")
    for scenario in scenarios:
        for kind in (k for k in kinds if k.startswith("full")):
            rated = [c.rated for c in results[(scenario, kind)]]
            med = statistics.median([w.ms(0.99) for w in rated])
            pooled = pct([x for w in rated for x in w.latencies], 0.99) * 1000
            print(f"  {kind + ' / ' + scenario:<18}{med:>8.1f} ms{pooled:>10.1f} ms  "
                  f"{'met' if max(med, pooled) < p99_target_ms else 'NOT met'}")
    if User.out_of_step:
        print(f"\n{User.out_of_step} steps found the expected button missing (the user went back to the menu)")
