"""VK channel benchmark against the fake VK (tests/fakes/vk_api.py), in one run of ~40 s.

    .venv/bin/python -m bench.bench_vk          (or .venv/bin/python bench/bench_vk.py)

The fake and the load generator run in this process; the bot under test runs in a child process
(so the fake's own CPU does not slow the bot down), talking to the fake over 127.0.0.1 like it
would to VK. Latency is measured in this process from the moment an event is queued in the fake's
long poll to the moment the bot's reply reaches the fake's messages.send.

Bots measured:
  echo  a bare vkbottle `Bot` that answers each message with its text (the floor: fake + vkbottle)
  adapter  VKChannel with the engine replaced by a canned menu reply (the adapter's own cost)
  full  VKChannel + dialog engine + SQLite in a temporary directory:
        (a) menu navigation with callback buttons (message_event -> sendMessageEventAnswer + send)
        (b) appeal wizard steps, every one a database write, each cycle registering an appeal
Closed loop (each simulated user waits for the reply before the next action) gives events/s and
p50/p99; then an open loop at a fixed offered rate of 50 events/s gives p99 under a steady load.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.vk_api import FakeVK  # noqa: E402

CLOSED_USERS = 24  # concurrent simulated users in the closed-loop runs
CLOSED_SECONDS = 5.0
RATE = 50.0  # events/s in the open-loop runs
RATE_SECONDS = 5.0
RATE_USERS = 120  # each user acts every 2.4 s at 50 events/s: the reply is long back by then
REPLY_TIMEOUT = 15.0

ROOF = "В подъезде дома 5 по улице Ленина течёт крыша, на пятом этаже плесень. Управляющая компания не реагирует."
APPEAL_STEPS = [
    ("press", "Подать обращение"), ("press", "Содержание дома"), ("press", "Устранить нарушение"),
    ("say", ROOF), ("press", "Далее"), ("say", "Иванова Мария Петровна"), ("press", "Электронная почта"),
    ("say", "ivanova@example.ru"), ("press", "Да, дублировать сюда"), ("consent", "Понятно, дальше"),
    ("press", "Отправить"), ("press", "Главное меню"),
]
MENU_STEPS = [("press", "Справка и контакты"), ("press", "Главное меню"), ("press", "Мои обращения"),
              ("press", "Главное меню")]


# ---------------------------------------------------------------- the fake, instrumented
class BenchFake(FakeVK):
    """Notes when a reply reaches messages.send, per peer; keeps each peer's last keyboard."""

    def __init__(self) -> None:
        super().__init__(history_limit=1_000_000)
        self.waiters: dict[int, tuple[asyncio.Future, bool]] = {}
        self.last: dict[int, dict] = {}

    def _messages_send(self, p: dict):
        result = super()._messages_send(p)
        now = time.perf_counter()
        msg = self.delivered[-1]
        peer = msg["peer_id"]
        if msg["keyboard"] is not None:
            self.last[peer] = msg
        waiter = self.waiters.get(peer)
        if waiter and not waiter[0].done() and (msg["keyboard"] is not None or not waiter[1]):
            waiter[0].set_result(now)
        self.calls.clear()  # the bench needs no call log; keep memory flat
        return result

    def forget(self) -> None:
        """Between scenarios (the bot idle): drop delivered messages and consumed events, so the
        fake's heap, and its garbage collections, do not grow from one scenario to the next."""
        self.delivered.clear()
        self._messages.clear()
        self._dedup.clear()
        self._callbacks.clear()
        self._events.clear()
        self.lp_requests = self.lp_requests[-1:]
        gc.collect()


# ---------------------------------------------------------------- simulated users
def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    timeouts: int = 0
    skipped: int = 0
    cpu: float = float("nan")  # the bot's CPU use, as a share of one core
    fake_cpu: float = float("nan")  # this process (fake VK + load generator), likewise

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))] * 1000


class User:
    def __init__(self, fake: BenchFake, uid: int, steps: list[tuple[str, str]] | None) -> None:
        self.fake, self.uid, self.steps = fake, uid, steps
        self.i = 0
        self.busy = False

    def next_event(self) -> dict:
        if self.steps is None:  # echo
            return self.fake.make_message_new(self.uid, f"ping {self.i}")
        while True:
            kind, arg = self.steps[self.i % len(self.steps)]
            self.i += 1
            msg = self.fake.last.get(self.uid)
            labels = {b["action"]["label"]: b["action"] for row in (msg or {}).get("keyboard", {}).get("buttons", [])
                      for b in row} if msg else {}
            if kind == "say":
                return self.fake.make_message_new(self.uid, arg)
            if kind == "consent" and arg not in labels:
                continue  # asked only once per citizen
            action = labels.get(arg)
            if action is None:  # out of step (should not happen): start over from the menu
                self.i = 0
                return self.fake.make_message_new(self.uid, "/menu")
            return self.fake.make_callback(self.uid, self.uid, json.loads(action["payload"]),
                                           msg["conversation_message_id"])

    async def act(self, event: dict | None = None, *, need_keyboard: bool) -> float | None:
        """Push one event, wait for the reply; the latency in seconds (None on timeout)."""
        self.busy = True
        try:
            event = event or self.next_event()
            fut = asyncio.get_running_loop().create_future()
            self.fake.waiters[self.uid] = (fut, need_keyboard)
            start = time.perf_counter()
            self.fake.push_event(event)
            try:
                return await asyncio.wait_for(fut, REPLY_TIMEOUT) - start
            except asyncio.TimeoutError:
                return None
        finally:
            self.busy = False


async def closed_loop(name: str, users: list[User], need_keyboard: bool) -> Result:
    result = Result(name)
    deadline = time.perf_counter() + CLOSED_SECONDS

    async def run(user: User) -> None:
        while time.perf_counter() < deadline:
            latency = await user.act(need_keyboard=need_keyboard)
            if latency is None:
                result.timeouts += 1
            else:
                result.latencies.append(latency)

    start = time.perf_counter()
    await asyncio.gather(*(run(u) for u in users))
    result.seconds = time.perf_counter() - start
    return result


async def open_loop(name: str, users: list[User], need_keyboard: bool) -> Result:
    result = Result(name)
    tasks: list[asyncio.Task] = []

    async def one(user: User) -> None:
        latency = await user.act(need_keyboard=need_keyboard)
        if latency is None:
            result.timeouts += 1
        else:
            result.latencies.append(latency)

    start = time.perf_counter()
    n, k = int(RATE * RATE_SECONDS), 0
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        for _ in range(len(users)):
            user = users[k % len(users)]
            k += 1
            if not user.busy:
                tasks.append(asyncio.create_task(one(user)))
                break
        else:
            result.skipped += 1
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - start
    return result


async def warm_up(users: list[User], need_keyboard: bool) -> None:
    """Each user says /start once (creates the citizen), not measured."""
    for chunk in range(0, len(users), 25):
        await asyncio.gather(*(u.act(u.fake.make_message_new(u.uid, "/start"), need_keyboard=need_keyboard)
                               for u in users[chunk:chunk + 25]))


# ---------------------------------------------------------------- the bots under test (child process)
def freeze_heap() -> None:
    """After start-up, move every object into the permanent generation, as a long-running server
    should (bot/runner.py): otherwise each full collection walks ~250k start-up objects (vkbottle's
    and pydantic's types, SQLAlchemy) and stops the loop for ~100-150 ms about once a second under load."""
    if os.environ.get("BENCH_VK_NO_FREEZE"):
        return
    gc.collect()
    gc.freeze()


async def serve(kind: str) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if kind == "echo":
        from vkbottle import API, Bot, BotPolling
        from vkbottle.bot import Message

        api = API(os.environ["VK_GROUP_TOKEN"])
        api.API_URL = os.environ["VK_API_URL"]
        bot = Bot(api=api, polling=BotPolling(api, group_id=int(os.environ["VK_GROUP_ID"])))

        @bot.on.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text)

        freeze_heap()
        task = asyncio.create_task(bot.run_polling())
        await stop.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return

    from bot.app import build_app
    from bot.settings import Settings
    from channels.vk import VKChannel

    app = await build_app(Settings(_env_file=None))
    if kind == "adapter":
        from core.events import Button, Reply

        labels = ["Подать обращение", "Мои обращения", "Справка и контакты", "Настройки", "Главное меню"]
        menu = [[Button(label, f"m:{i}")] for i, label in enumerate(labels)]

        async def canned(event, update_key=None):
            return [Reply("Что вы хотите сделать?", menu)]

        app.engine.handle = canned
    channel = VKChannel(app)
    freeze_heap()
    profile = os.environ.get("BENCH_VK_PROFILE")  # a path: cProfile the full bot into it
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    task = asyncio.create_task(channel.run_polling())
    await stop.wait()
    await channel.stop()
    await asyncio.gather(task, return_exceptions=True)
    await app.close()
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)


async def start_bot(kind: str, fake: BenchFake, workdir: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VK_GROUP_TOKEN": fake.token, "VK_GROUP_ID": str(fake.group_id),
           "VK_API_URL": fake.api_url, "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
           "FILES_DIR": str(workdir / "files"), "LOG_LEVEL": "ERROR"}
    polls = len(fake.lp_requests)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.bench_vk", "--serve", kind,
                                                cwd=workdir, env=env)  # vkbottle's .vkbottle/ lands in workdir
    async with asyncio.timeout(60):
        while len(fake.lp_requests) == polls:
            if proc.returncode is not None:
                raise SystemExit(f"the {kind} bot exited with {proc.returncode}")
            await asyncio.sleep(0.05)
    return proc


async def stop_bot(proc: asyncio.subprocess.Process, fake: BenchFake) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(20):
            while proc.returncode is None:
                fake.release_long_polls()
                await asyncio.sleep(0.05)
                if proc.returncode is None:
                    try:
                        await asyncio.wait_for(proc.wait(), 0.2)
                    except asyncio.TimeoutError:
                        pass
    except TimeoutError:
        proc.kill()
        await proc.wait()


# ---------------------------------------------------------------- the run
def row(r: Result) -> str:
    extra = []
    if r.timeouts:
        extra.append(f"{r.timeouts} timeouts")
    if r.skipped:
        extra.append(f"{r.skipped} not offered (all users busy)")
    return (f"{r.name:<46}{len(r.latencies):>7}{r.rate:>9.1f}{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}"
            f"{r.cpu * 100:>8.0f}%{r.fake_cpu * 100:>9.0f}%"
            f"{'  ' + ', '.join(extra) if extra else ''}")


async def bench() -> None:
    started = time.perf_counter()
    fake = await BenchFake().start()
    gc.collect()
    gc.freeze()
    results: dict[str, Result] = {}
    polls: dict[str, tuple[int, int]] = {}
    uid = iter(range(10_000, 10**9))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-vk-") as tmp:
            for kind in ("echo", "adapter", "full"):
                workdir = Path(tmp) / kind
                workdir.mkdir()
                proc = await start_bot(kind, fake, workdir)
                try:
                    need_kb = kind != "echo"
                    scenarios = {"echo": [("echo", None)], "adapter": [("adapter", MENU_STEPS)],
                                 "full": [("menu", MENU_STEPS), ("appeal", APPEAL_STEPS)]}[kind]
                    for label, steps in scenarios:
                        await asyncio.sleep(0.3)  # let late sendMessageEventAnswer calls land
                        fake.forget()
                        closed = [User(fake, next(uid), steps) for _ in range(CLOSED_USERS)]
                        rated = [User(fake, next(uid), steps) for _ in range(RATE_USERS)]
                        await warm_up(closed + rated, need_kb)
                        lp0, ev0 = len(fake.lp_requests), fake._next_ts
                        cpu0, own0 = cpu_seconds(proc.pid), cpu_seconds(os.getpid())
                        r = results[f"{label}/closed"] = await closed_loop(label, closed, need_kb)
                        r.cpu = (cpu_seconds(proc.pid) - cpu0) / r.seconds
                        r.fake_cpu = (cpu_seconds(os.getpid()) - own0) / r.seconds
                        polls[label] = (len(fake.lp_requests) - lp0, fake._next_ts - ev0)
                        cpu0, own0 = cpu_seconds(proc.pid), cpu_seconds(os.getpid())
                        r = results[f"{label}/rate"] = await open_loop(label, rated, need_kb)
                        r.cpu = (cpu_seconds(proc.pid) - cpu0) / r.seconds
                        r.fake_cpu = (cpu_seconds(os.getpid()) - own0) / r.seconds
                finally:
                    await stop_bot(proc, fake)
    finally:
        await fake.stop()
    report(results, polls, time.perf_counter() - started)


def report(results: dict[str, Result], polls: dict[str, tuple[int, int]], total: float) -> None:
    names = {"echo": "echo: bare vkbottle Bot, message.answer",
             "adapter": "adapter only: canned reply, callback buttons",
             "menu": "full: menu navigation (callback buttons)",
             "appeal": "full: appeal steps (DB writes, registration)"}
    keys = list(names)
    head = f"{'events':>7}{'ev/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'bot CPU':>9}{'fake CPU':>10}"
    print()
    print(f"VK channel benchmark — fake VK on 127.0.0.1, bot in a child process, {os.cpu_count()} CPUs")
    print(f"closed loop: {CLOSED_USERS} users, {CLOSED_SECONDS:.0f} s each; latency = event queued in the "
          f"long poll -> reply at messages.send")
    print("bots call gc.freeze() after start-up" + (" (disabled: BENCH_VK_NO_FREEZE)" if os.environ.get(
        "BENCH_VK_NO_FREEZE") else "") + "; CPU = share of one core")
    print()
    print(f"{'closed loop':<46}{head}")
    for key in keys:
        r = results[f"{key}/closed"]
        r.name = names[key]
        print(row(r))
    print()
    print(f"{f'open loop, offered {RATE:.0f} events/s':<46}{head}")
    for key in keys:
        r = results[f"{key}/rate"]
        r.name = names[key]
        print(row(r))
    echo = results["echo/closed"]
    print()
    print(f"{'ratio to echo (closed loop)':<46}{'throughput':>12}{'p50':>9}{'p99':>9}")
    for key in keys[1:]:
        r = results[f"{key}/closed"]
        print(f"  {key:<44}{r.rate / echo.rate:>11.2f}x{r.pct(0.5) / echo.pct(0.5):>8.1f}x"
              f"{r.pct(0.99) / echo.pct(0.99):>8.1f}x")
    rate = results["echo/rate"]
    print(f"{f'ratio to echo at {RATE:.0f} events/s':<46}{'':>12}{'p50':>9}{'p99':>9}")
    for key in keys[1:]:
        r = results[f"{key}/rate"]
        print(f"  {key:<44}{'':>12}{r.pct(0.5) / rate.pct(0.5):>8.1f}x{r.pct(0.99) / rate.pct(0.99):>8.1f}x")
    print()
    print("long poll: a_check requests per event in the closed loop (lower = bigger batches)")
    for key, (lp, events) in polls.items():
        print(f"  {key:<10}{lp / max(events, 1):>6.2f}  ({lp} requests for {events} events)")
    print(f"\ntotal run time {total:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=["echo", "adapter", "full"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(serve(args.serve) if args.serve else bench())


if __name__ == "__main__":
    main()
