"""Telegram channel benchmark against the strict fake Bot API (tests/fakes/telegram_api.py), ~50 s.

    .venv/bin/python -m bench.bench_telegram          (or .venv/bin/python bench/bench_telegram.py)

The fake and the load generator run in this process; the bot under test runs in a child process
(so the fake's own CPU does not slow the bot down) and long-polls the fake over 127.0.0.1 with the
real aiogram client, like it would poll Telegram. Latency is measured in this process from the
moment an update is queued in the fake (queue_update) to the moment the bot's reply (a message or
an edit carrying the next keyboard) reaches the fake.

Bots measured, each on the same two step lists:
  echo  a bare aiogram Dispatcher: a text is answered with its text, a button press with
        answerCallbackQuery + a message (both with a one-button keyboard to press next)
  full  TelegramChannel + dialog engine + SQLite (WAL) in a temporary directory:
        (a) menu navigation: button presses that write little (the dialog state, the update id)
        (b) appeal wizard steps: presses and texts, every one a database write, each cycle
            registering an appeal (number, deadline, events, consent)
Closed loop (each simulated user waits for the reply before the next action) gives updates/s
and p50/p99; then an open loop offering a fixed 50 updates/s gives p99 under a steady load.
The fake's flood limits are off: this measures our stack, not Telegram's 30 messages/s.

    --adapter        also run the channel with a stub engine (no database): the adapter's own cost
    --profile DIR    write cProfile stats of each bot process to DIR (slows everything down)
"""
from __future__ import annotations

import argparse
import asyncio
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

from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

CLOSED_USERS = 24  # concurrent simulated users in the closed-loop runs
CLOSED_SECONDS = 5.0
RATE = 50.0  # updates/s offered in the open-loop runs
RATE_SECONDS = 5.0
RATE_USERS = 150  # each user acts about every 3 s at 50 updates/s: the reply is long back by then
REPLY_TIMEOUT = 15.0
POLLING_TIMEOUT = 10
TARGETS = {"menu": 1.0, "appeal": 0.5}  # throughput vs the echo bot, from the issue
P99_TARGET_MS = 30.0

ROOF = "В подъезде дома 5 по улице Ленина течёт крыша, на пятом этаже плесень. Управляющая компания не реагирует."
APPEAL_STEPS = [
    ("press", "Подать обращение"), ("press", "Содержание дома"), ("press", "Устранить нарушение"),
    ("say", ROOF), ("press", "Далее"), ("say", "Иванова Мария Петровна"), ("press", "Электронная почта"),
    ("say", "ivanova@example.ru"), ("press", "Да, дублировать сюда"), ("consent", "Понятно, дальше"),
    ("press", "Отправить"), ("press", "Главное меню"),
]
MENU_STEPS = [("press", "Справка и контакты"), ("press", "Как подать обращение?"), ("press", "Назад"),
              ("press", "Главное меню")]
ECHO_BUTTON = ("Дальше", "echo:next")
STUB_LABELS = sorted({arg for steps in (MENU_STEPS, APPEAL_STEPS) for kind, arg in steps if kind != "say"})


# ---------------------------------------------------------------- the fake, instrumented
class BenchFake(FakeTelegram):
    """Notes when a reply with a keyboard reaches the fake, per chat, and keeps that keyboard."""

    def __init__(self) -> None:
        super().__init__()
        self.waiters: dict[int, asyncio.Future] = {}
        self.keyboards: dict[int, tuple[int, dict[str, str]]] = {}  # chat -> (message id, label -> data)

    def _replied(self, message: dict) -> None:
        now = time.perf_counter()
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        if not rows:
            return
        chat = message["chat"]["id"]
        self.keyboards[chat] = (message["message_id"], {b["text"]: b["callback_data"] for r in rows for b in r})
        waiter = self.waiters.pop(chat, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)
        self.requests.clear()  # the bench needs no call log: keep memory flat
        self._sent.clear()
        self._sent_index.clear()

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        message = super()._api_sendMessage(params, files)
        self._replied(message)
        return message

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        message = super()._api_editMessageText(params, files)
        self._replied(message)
        return message

    @property
    def polls(self) -> int:
        return self._poll_generation


# ---------------------------------------------------------------- simulated users
def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (Linux /proc; 0.0 elsewhere)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    timeouts: int = 0
    skipped: int = 0
    bot_cpu: float = 0.0  # CPU seconds the bot process used during the run
    load_cpu: float = 0.0  # CPU seconds of this process (fake + load generator)

    @property
    def cpu_ms_per_update(self) -> float:
        return self.bot_cpu / len(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))] * 1000


class User:
    """One citizen in a private chat. `echo` users press the echo bot's one button where the
    full bot would show the step's button, so both bots get the same mix of updates."""

    def __init__(self, fake: BenchFake, chat_id: int, steps: list[tuple[str, str]], echo: bool) -> None:
        self.fake, self.chat_id, self.steps, self.echo = fake, chat_id, steps, echo
        self.i = 0
        self.busy = False
        fake.add_chat(chat_id)

    def next_update(self) -> dict:
        while True:
            kind, arg = self.steps[self.i % len(self.steps)]
            self.i += 1
            if kind == "say":
                return self.fake.message_update(self.chat_id, arg)
            message_id, buttons = self.fake.keyboards.get(self.chat_id, (None, {}))
            if self.echo:
                if kind == "consent":
                    continue
                data = buttons.get(ECHO_BUTTON[0])
            else:
                data = buttons.get(arg)
                if data is None and kind == "consent":
                    continue  # asked only once per citizen
            if data is None or message_id is None:  # out of step (should not happen): back to the menu
                self.i = 0
                return self.fake.message_update(self.chat_id, "/menu")
            return self.fake.callback_update(self.chat_id, data, message_id=message_id)

    async def act(self, update: dict | None = None) -> float | None:
        """Queue one update, wait for the reply; the latency in seconds (None on timeout)."""
        self.busy = True
        try:
            update = update or self.next_update()
            future = asyncio.get_running_loop().create_future()
            self.fake.waiters[self.chat_id] = future
            start = time.perf_counter()
            self.fake.queue_update(update)
            try:
                return await asyncio.wait_for(future, REPLY_TIMEOUT) - start
            except asyncio.TimeoutError:
                return None
        finally:
            self.busy = False


async def closed_loop(name: str, users: list[User]) -> Result:
    result = Result(name)
    deadline = time.perf_counter() + CLOSED_SECONDS

    async def run(user: User) -> None:
        while time.perf_counter() < deadline:
            latency = await user.act()
            if latency is None:
                result.timeouts += 1
            else:
                result.latencies.append(latency)

    start = time.perf_counter()
    await asyncio.gather(*(run(u) for u in users))
    result.seconds = time.perf_counter() - start
    return result


async def open_loop(name: str, users: list[User]) -> Result:
    result = Result(name)
    tasks: list[asyncio.Task] = []

    async def one(user: User) -> None:
        latency = await user.act()
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


async def warm_up(users: list[User]) -> None:
    """Each user sends /start once (creates the citizen), not measured."""
    for chunk in range(0, len(users), 25):
        await asyncio.gather(*(u.act(u.fake.message_update(u.chat_id, "/start")) for u in users[chunk:chunk + 25]))


# ---------------------------------------------------------------- the bots under test (child process)
async def serve_echo(stop: asyncio.Event) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"],
              session=AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])))
    dp = Dispatcher()
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=ECHO_BUTTON[0],
                                                                           callback_data=ECHO_BUTTON[1])]])

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…", reply_markup=keyboard)

    @dp.callback_query()
    async def press(query: CallbackQuery) -> None:
        await query.answer()
        await query.message.answer(query.data or "…", reply_markup=keyboard)

    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=POLLING_TIMEOUT))
    await stop.wait()
    await dp.stop_polling()
    await asyncio.gather(task, return_exceptions=True)


async def serve_full(stop: asyncio.Event, stub_engine: bool = False) -> None:
    from bot.app import build_app
    from bot.settings import Settings
    from channels.telegram import TelegramChannel

    app = await build_app(Settings(_env_file=None))
    if stub_engine:  # the adapter alone: every update answered with the same screen, no database
        from core.events import Button, Reply

        async def handle(event, *, update_key=None):
            return [Reply("Что вы хотите сделать?", [[Button(label, label)] for label in STUB_LABELS])]

        app.engine.handle = handle
    channel = TelegramChannel(app, polling_timeout=POLLING_TIMEOUT)
    task = asyncio.create_task(channel.run_polling())
    await stop.wait()
    await channel.stop()
    await asyncio.gather(task, return_exceptions=True)
    await app.close()


async def serve(kind: str) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await (serve_echo(stop) if kind == "echo" else serve_full(stop, stub_engine=kind == "adapter"))


async def start_bot(kind: str, fake: BenchFake, workdir: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_URL": fake.base_url, "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
           "FILES_DIR": str(workdir / "files"), "LOG_LEVEL": "ERROR"}
    polls = fake.polls
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.bench_telegram", "--serve", kind,
                                                cwd=workdir, env=env)
    async with asyncio.timeout(60):
        while fake.polls == polls:  # the first getUpdates: the bot is ready
            if proc.returncode is not None:
                raise SystemExit(f"the {kind} bot exited with {proc.returncode}")
            await asyncio.sleep(0.05)
    return proc


async def stop_bot(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 20)
    except asyncio.TimeoutError:
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
            f"{r.cpu_ms_per_update:>9.2f}{r.bot_cpu / r.seconds * 100 if r.seconds else 0:>7.0f}%"
            f"{r.load_cpu / r.seconds * 100 if r.seconds else 0:>7.0f}%"
            f"{'  ' + ', '.join(extra) if extra else ''}")


async def bench(adapter: bool = False) -> None:
    started = time.perf_counter()
    fake = BenchFake()
    await fake.start()
    results: dict[str, Result] = {}
    polls: dict[str, tuple[int, int]] = {}
    chat_ids = iter(range(10_000, 10**9))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-telegram-") as tmp:
            for kind in ("echo", "full", *(("adapter",) if adapter else ())):
                workdir = Path(tmp) / kind
                workdir.mkdir()
                proc = await start_bot(kind, fake, workdir)
                try:
                    for label, steps in (("menu", MENU_STEPS), ("appeal", APPEAL_STEPS)):
                        echo = kind == "echo"
                        if kind == "adapter" and label == "appeal":
                            continue
                        closed = [User(fake, next(chat_ids), steps, echo) for _ in range(CLOSED_USERS)]
                        rated = [User(fake, next(chat_ids), steps, echo) for _ in range(RATE_USERS)]
                        await warm_up(closed + rated)
                        p0, u0 = fake.polls, fake._next_update_id
                        c0, l0 = cpu_seconds(proc.pid), cpu_seconds()
                        r = results[f"{kind}/{label}/closed"] = await closed_loop(f"{kind}/{label}", closed)
                        r.bot_cpu, r.load_cpu = cpu_seconds(proc.pid) - c0, cpu_seconds() - l0
                        polls[f"{kind}/{label}"] = (fake.polls - p0, fake._next_update_id - u0)
                        c0, l0 = cpu_seconds(proc.pid), cpu_seconds()
                        r = results[f"{kind}/{label}/rate"] = await open_loop(f"{kind}/{label}", rated)
                        r.bot_cpu, r.load_cpu = cpu_seconds(proc.pid) - c0, cpu_seconds() - l0
                finally:
                    await stop_bot(proc)
    finally:
        await fake.stop()
    report(results, polls, time.perf_counter() - started)


NAMES = {
    "adapter/menu": "adapter only (stub engine), menu presses",
    "echo/menu": "echo: bare aiogram, button presses",
    "echo/appeal": "echo: bare aiogram, appeal's presses+texts",
    "full/menu": "full: menu navigation (presses)",
    "full/appeal": "full: appeal steps (DB writes, registration)",
}


def report(results: dict[str, Result], polls: dict[str, tuple[int, int]], total: float) -> None:
    print()
    print(f"Telegram channel benchmark — fake Bot API on 127.0.0.1, bot in a child process "
          f"(long polling), {os.cpu_count()} CPUs")
    print("latency = update queued in the fake (getUpdates) -> the reply with the next keyboard at the fake;")
    print("bot ms = the bot process's CPU per update; bot/fake = CPU use of the bot process and of the")
    print("fake + load generator process (100% = one core)")
    print()
    head = f"{'':<46}{'updates':>7}{'upd/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'bot ms':>9}{'bot':>8}{'fake':>8}"
    print(f"{f'closed loop, {CLOSED_USERS} users, {CLOSED_SECONDS:.0f} s':<46}" + head[46:])
    for key in NAMES:
        if f"{key}/closed" not in results:
            continue
        r = results[f"{key}/closed"]
        r.name = NAMES[key]
        print(row(r))
    print()
    print(f"{f'open loop, offered {RATE:.0f} updates/s, {RATE_SECONDS:.0f} s':<46}" + head[46:])
    for key in NAMES:
        if f"{key}/rate" not in results:
            continue
        r = results[f"{key}/rate"]
        r.name = NAMES[key]
        print(row(r))
    print()
    print(f"{'full / echo, same steps (closed loop)':<46}{'throughput':>11}{'target':>9}{'p50':>9}{'p99':>9}")
    for key in ("menu", "appeal"):
        full, echo = results[f"full/{key}/closed"], results[f"echo/{key}/closed"]
        ratio = full.rate / echo.rate if echo.rate else float("nan")
        verdict = "met" if ratio >= TARGETS[key] else "NOT met"
        print(f"  {key:<44}{ratio:>10.2f}x{'≥' + format(TARGETS[key], '.1f') + 'x':>9}"
              f"{full.pct(0.5) / echo.pct(0.5):>8.2f}x{full.pct(0.99) / echo.pct(0.99):>8.2f}x  {verdict}")
    print()
    print(f"p99 at {RATE:.0f} updates/s offered (target < {P99_TARGET_MS:.0f} ms):")
    for key in ("menu", "appeal"):
        r = results[f"full/{key}/rate"]
        print(f"  full {key:<40}{r.pct(0.99):>8.1f} ms  {'met' if r.pct(0.99) < P99_TARGET_MS else 'NOT met'}")
    print()
    print("getUpdates calls per update in the closed loop (lower = bigger batches)")
    for key, (calls, updates) in polls.items():
        print(f"  {key:<14}{calls / max(updates, 1):>6.2f}  ({calls} calls for {updates} updates)")
    print(f"\ntotal run time {total:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=["echo", "full", "adapter"], help=argparse.SUPPRESS)
    parser.add_argument("--adapter", action="store_true",
                        help="also measure the channel with a stub engine (no database): the adapter's own cost")
    parser.add_argument("--profile", metavar="DIR", help="write cProfile stats of each bot process to DIR")
    args = parser.parse_args()
    if args.serve and os.environ.get("BENCH_PROFILE_DIR"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, serve(args.serve))
        profiler.dump_stats(Path(os.environ["BENCH_PROFILE_DIR"]) / f"telegram-{args.serve}.prof")
        return
    if args.profile:
        os.environ["BENCH_PROFILE_DIR"] = str(Path(args.profile).resolve())
    asyncio.run(serve(args.serve) if args.serve else bench(adapter=args.adapter))


if __name__ == "__main__":
    main()
