"""Telegram channel benchmark against the strict fake Bot API (tests/fakes/telegram_api.py), ~3 min.

    .venv/bin/python -m bench.bench_telegram            # 5 rounds
    .venv/bin/python -m bench.bench_telegram --quick    # one short round: a smoke run

The fakes and the load generator (bench/load.py) run in this process; each bot under test runs
in its own child process, long-polling its own fake over 127.0.0.1 with the real aiogram client.
Latency runs from the moment an update is queued in the fake to the moment the bot's reply
(a message or an edit carrying a keyboard) reaches the fake.

Bots, both doing the same platform work on the same mix of updates:
  echo  a bare aiogram Dispatcher: a press is answered with answerCallbackQuery and an edit in
        place with a seven-button keyboard; a text with a message with that keyboard
  full  TelegramChannel(app) over bot.app.App (engine, SQLite WAL in a temporary directory):
        menu navigation (presses) and appeal steps (presses and texts, each cycle registering
        an appeal)
Echo and full alternate per scenario, several rounds (bench/load.py); the fake is reset
between cases. The fake's flood limits are off: this measures our stack, not Telegram's.

    --adapter        also run the channel with a stub engine (no database): the adapter's own cost
    --profile DIR    write cProfile stats of each bot process to DIR (slows everything down; with
                     BENCH_PROFILER=pyinstrument, a sampling profile as text, if pyinstrument is installed)
    --rounds N       rounds (default 5)
    --db both        the full stack on SQLite and on PostgreSQL (its own database, dropped after)
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bot.loop import loop_name  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

POLLING_TIMEOUT = 10
TARGETS = {"menu": 0.85, "appeal": 0.6}  # issue 18: ratios to the echo, in one run
ROOF = "В подъезде дома 5 по улице Ленина течёт крыша, на пятом этаже плесень. Управляющая компания не реагирует."
APPEAL_STEPS = [
    ("press", "Подать обращение"), ("press", "Содержание дома"), ("press", "Устранить нарушение"),
    ("say", ROOF), ("press", "Далее"), ("say", "Иванова Мария Петровна"), ("press", "Электронная почта"),
    ("say", "ivanova@example.ru"), ("press", "Да, дублировать сюда"), ("consent", "Понятно, дальше"),
    ("press", "Отправить"), ("press", "Главное меню"),
]
MENU_STEPS = [("press", "Справка и контакты"), ("press", "Как подать обращение?"), ("press", "Назад"),
              ("press", "Главное меню")]
SCENARIOS = {"menu": MENU_STEPS, "appeal": APPEAL_STEPS}
ECHO_LABELS = ["Подать обращение", "Мои обращения", "Запись на приём", "Справка и контакты",
               "Статус по номеру", "Настройки", "Главное меню"]  # seven, like the main menu
ECHO_TEXT = "Вы на экране {n}. Выберите, что сделать дальше: кнопки ниже ведут к разделам помощи."
STUB_LABELS = sorted({arg for steps in SCENARIOS.values() for kind, arg in steps if kind != "say"})
NAMES = {"echo": "echo (aiogram)", "full": "full", "full-pg": "full (PostgreSQL)", "adapter": "adapter+stub"}


# ---------------------------------------------------------------- the fake, instrumented
class BenchFake(FakeTelegram):
    """Resolves the chat's waiter when a reply with a keyboard lands; keeps that keyboard."""

    def __init__(self) -> None:
        super().__init__()
        self.waiters = load.Waiters()
        self.keyboards: dict[int, tuple[int, dict[str, str]]] = {}  # chat -> (message id, label -> data)

    def _replied(self, message: dict) -> None:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        if not rows:
            return
        chat = message["chat"]["id"]
        self.keyboards[chat] = (message["message_id"], {b["text"]: b["callback_data"] for r in rows for b in r})
        self.waiters.arrived(chat)
        self.requests.clear()  # no call log needed: keep memory flat
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

    def reset(self) -> None:
        """Between cases (the bot idle): forget every chat, message, callback and call."""
        for store in (self.requests, self.callback_answers, self._chats, self._messages, self._last_message_id,
                      self._sent, self._sent_index, self._callbacks, self.keyboards):
            store.clear()
        self.waiters.clear()
        gc.collect()

    @property
    def polls(self) -> int:
        return self._poll_generation


class TelegramUser(load.User):
    """A citizen in a private chat; on the echo it presses the echo's buttons in turn, so both
    bots get the same mix of presses and texts."""

    def __init__(self, fake: BenchFake, chat: int, steps: list[tuple[str, str]], echo: bool) -> None:
        super().__init__(fake.waiters, chat)
        self.fake, self.steps, self.echo = fake, steps, echo
        self.i = 0
        fake.add_chat(chat)

    def first_update(self) -> dict:
        return self.fake.message_update(self.chat, "/start")

    def push(self, update: dict) -> None:
        self.fake.queue_update(update)

    def next_update(self) -> dict:
        while True:
            kind, arg = self.steps[self.i % len(self.steps)]
            self.i += 1
            if kind == "say":
                return self.fake.message_update(self.chat, arg)
            message_id, buttons = self.fake.keyboards.get(self.chat, (None, {}))
            if self.echo:
                if kind == "consent":
                    continue
                data = buttons.get(ECHO_LABELS[self.i % len(ECHO_LABELS)])
            else:
                data = buttons.get(arg)
                if data is None and kind == "consent":
                    continue  # asked only once per citizen
            if data is None or message_id is None:
                load.User.out_of_step += 1
                self.i = 0
                return self.fake.message_update(self.chat, "/menu")
            return self.fake.callback_update(self.chat, data, message_id=message_id, check_button=False)


# ---------------------------------------------------------------- the bots (child processes)
async def serve_echo() -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.exceptions import TelegramAPIError
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"],
              session=AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])))
    dp = Dispatcher()
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=f"e:{i}")]
                                                     for i, label in enumerate(ECHO_LABELS)])
    screens = itertools.count()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(ECHO_TEXT.format(n=next(screens)), reply_markup=keyboard)

    @dp.callback_query()
    async def press(query: CallbackQuery) -> None:
        answer = asyncio.ensure_future(query.answer())  # like the channel: the spinner stops at once
        await bot.edit_message_text(ECHO_TEXT.format(n=next(screens)), chat_id=query.message.chat.id,
                                    message_id=query.message.message_id, reply_markup=keyboard)
        try:
            await answer
        except TelegramAPIError:  # like the channel: a callback too old to answer is only noted
            pass

    gc.collect()
    gc.freeze()  # like the channel does after start-up (core.heap)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=POLLING_TIMEOUT))
    await load.until_sigterm()
    await dp.stop_polling()
    await asyncio.gather(task, return_exceptions=True)


async def serve_full(stub_engine: bool) -> None:
    from bot.app import build_app
    from bot.runner import settle
    from bot.settings import Settings
    from channels.telegram import TelegramChannel

    app = await build_app(Settings(_env_file=None))
    load.lift_citizen_limits(app)
    settle()  # as the runner does before the channels start
    if stub_engine:  # the adapter alone: every update answered with the same screen, no database
        from core.events import Button, Reply

        async def handle(event, *, update_key=None):
            return [Reply("Что вы хотите сделать?", [[Button(label, label)] for label in STUB_LABELS])]

        app.handle = handle
    channel = TelegramChannel(app, polling_timeout=POLLING_TIMEOUT)
    task = asyncio.create_task(channel.run_polling())
    await load.until_sigterm()
    await channel.stop()
    await asyncio.gather(task, return_exceptions=True)
    await app.close()


async def serve(kind: str) -> None:
    await (serve_echo() if kind == "echo" else serve_full(stub_engine=kind == "adapter"))


# ---------------------------------------------------------------- the run
async def bench(plan: load.Plan, kinds: list[str]) -> None:
    before = load.loadavg()
    chats = itertools.count(10_000)
    fakes: dict[str, BenchFake] = {}
    bots: dict[str, load.Child] = {}
    pg_name, pg_url = None, ""
    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as tmp:
        try:
            async def start(kind: str) -> None:
                fake = fakes[kind] = BenchFake()
                await fake.start()
                workdir = Path(tmp) / kind
                workdir.mkdir()
                env = {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.base_url,
                       "DATABASE_URL": pg_url if kind == "full-pg" else f"sqlite+aiosqlite:///{workdir}/bench.db",
                       "FILES_DIR": str(workdir / "files")}
                bots[kind] = await load.Child("bench.bench_telegram", kind, env, workdir).start(lambda: fake.polls > 0)

            if "full-pg" in kinds:
                pg_name, pg_url = await load.pg_create()
            await asyncio.gather(*(start(kind) for kind in kinds))

            async def run_case(scenario: str, kind: str, closed_s: float, rate_s: float) -> load.Case:
                fake, pid = fakes[kind], bots[kind].pid
                await asyncio.sleep(0.2)  # late answerCallbackQuery calls land before the reset
                fake.reset()
                steps = SCENARIOS[scenario]
                if kind == "adapter":  # every step answered with the same screen: presses only
                    steps = [s for s in steps if s[0] == "press"]
                closed = [TelegramUser(fake, next(chats), steps, kind == "echo") for _ in range(plan.users)]
                rated = [TelegramUser(fake, next(chats), steps, kind == "echo") for _ in range(plan.rate_users)]
                await load.warm_up(closed + (rated if rate_s else []))
                c = await load.measured(pid, load.closed_loop(closed, closed_s))
                r = await load.measured(pid, load.open_loop(rated, plan.rate, rate_s)) if rate_s else load.Window()
                return load.Case(c, r)

            results = await load.rounds(plan, list(SCENARIOS), kinds, run_case)
        finally:
            for kind, child in bots.items():
                await child.stop()
            for fake in fakes.values():
                await fake.stop()
            if pg_name:
                await load.pg_drop(pg_name)
    load.report(f"Telegram channel benchmark: fake Bot API on 127.0.0.1, each bot in a child process "
                f"(long polling), Python {sys.version.split()[0]}, {loop_name(os.environ.get('EVENT_LOOP', 'auto'))} loop", plan, results, NAMES, TARGETS, before)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=["echo", "full", "full-pg", "adapter"], help=argparse.SUPPRESS)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite",
                        help="the full stack's database (postgres: a database of its own, dropped after)")
    parser.add_argument("--adapter", action="store_true", help="also measure the channel with a stub engine")
    parser.add_argument("--profile", metavar="DIR", help="write cProfile stats of each bot process to DIR")
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run, figures meaningless)")
    parser.add_argument("--rounds", type=int, help="rounds of each case (default 5)")
    args = parser.parse_args(argv)
    if args.serve:
        load.serve_main(serve, args.serve, "telegram")
        return
    if args.profile:
        os.environ["BENCH_PROFILE_DIR"] = str(Path(args.profile).resolve())
    plan = load.QUICK if args.quick else load.Plan()
    if args.rounds:
        plan = replace(plan, rounds=args.rounds)
    started = time.perf_counter()
    asyncio.run(bench(plan, load.kinds_for(args.db, args.adapter)))
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
