"""VK channel benchmark against the fake VK (tests/fakes/vk_api.py), ~3 min.

    .venv/bin/python -m bench.bench_vk            # 5 rounds
    .venv/bin/python -m bench.bench_vk --quick    # one short round: a smoke run

The fakes and the load generator (bench/load.py) run in this process; each bot under test runs
in its own child process on Bots Long Poll against its own fake over 127.0.0.1. Latency runs
from the moment an event is queued in the long poll to the moment the reply with a keyboard
reaches the fake's messages.send.

Bots, both doing the same platform work on the same mix of events:
  echo  a bare vkbottle `Bot`: a callback-button press (message_event) is answered with
        messages.sendMessageEventAnswer plus a messages.send with an inline keyboard of seven
        callback buttons; a text (message_new) with a messages.send with that keyboard
  full  VKChannel(app) over bot.app.App (engine, SQLite in a temporary directory): menu
        navigation with callback buttons (the steps of bench_telegram), «Мои обращения» and
        back (a database read every other event), and appeal steps (presses and texts, each
        cycle registering an appeal)
Echo and full alternate per scenario, several rounds; the fake is reset between cases.

    --adapter        also run the channel with a canned reply (no database): the adapter's own cost
    --profile DIR    write cProfile stats of each bot process to DIR
    --rounds N       rounds (default 5)
    --db both        the full stack on SQLite and on PostgreSQL (its own database, dropped after)
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
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
from tests.fakes.vk_api import FakeVK  # noqa: E402

TARGETS = {"menu": 0.85, "appeal": 0.6}
ROOF = "В подъезде дома 5 по улице Ленина течёт крыша, на пятом этаже плесень. Управляющая компания не реагирует."
APPEAL_STEPS = [
    ("press", "Подать обращение"), ("press", "Содержание дома"), ("press", "Устранить нарушение"),
    ("say", ROOF), ("press", "Далее"), ("say", "Иванова Мария Петровна"), ("press", "Электронная почта"),
    ("say", "ivanova@example.ru"), ("press", "Да, дублировать сюда"), ("consent", "Понятно, дальше"),
    ("press", "Отправить"), ("press", "Главное меню"),
]
MENU_STEPS = [("press", "Справка и контакты"), ("press", "Как подать обращение?"), ("press", "Назад"),
              ("press", "Главное меню")]  # as in bench_telegram
MINE_STEPS = [("press", "Мои обращения"), ("press", "Главное меню")]  # a read of the person's appeals, then home
SCENARIOS = {"menu": MENU_STEPS, "mine": MINE_STEPS, "appeal": APPEAL_STEPS}
ECHO_LABELS = ["Подать обращение", "Мои обращения", "Запись на приём", "Справка и контакты",
               "Статус по номеру", "Настройки", "Главное меню"]
ECHO_TEXT = "Вы на экране {n}. Выберите, что сделать дальше: кнопки ниже ведут к разделам помощи."
STUB_LABELS = sorted({arg for steps in SCENARIOS.values() for kind, arg in steps if kind == "press"})
NAMES = {"echo": "echo (vkbottle)", "full": "full", "full-pg": "full (PostgreSQL)", "adapter": "adapter+stub"}


def echo_keyboard() -> str:
    """Seven callback buttons in six rows (VK's inline limit), as the channel lays them out."""
    buttons = [{"action": {"type": "callback", "label": label, "payload": json.dumps({"p": f"e:{i}"})}}
               for i, label in enumerate(ECHO_LABELS)]
    rows = [[b] for b in buttons[:5]] + [buttons[5:]]
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- the fake, instrumented
class BenchFake(FakeVK):
    """Resolves the peer's waiter when a message with a keyboard is sent; keeps that message."""

    def __init__(self) -> None:
        super().__init__(history_limit=1_000_000)
        self.waiters = load.Waiters()
        self.last: dict[int, dict] = {}

    def _messages_send(self, p: dict):
        result = super()._messages_send(p)
        msg = self.delivered[-1]
        if msg["keyboard"] is not None:
            self.last[msg["peer_id"]] = msg
            self.waiters.arrived(msg["peer_id"])
        self.calls.clear()  # no call log needed: keep memory flat
        return result

    def reset(self) -> None:
        """Between cases (the bot idle): drop messages, events, callbacks and answers."""
        for store in (self.delivered, self.edits, self.event_answers, self.activities, self._messages, self._dedup,
                      self._callbacks, self._events, self._convs, self.last, self.calls):
            store.clear()
        self.lp_requests = self.lp_requests[-1:]
        self.waiters.clear()
        gc.collect()


class VKUser(load.User):
    def __init__(self, fake: BenchFake, uid: int, steps: list[tuple[str, str]], echo: bool) -> None:
        super().__init__(fake.waiters, uid)
        self.fake, self.steps, self.echo = fake, steps, echo
        self.i = 0

    def first_update(self) -> dict:
        return self.fake.make_message_new(self.chat, "/start")

    def push(self, update: dict) -> None:
        self.fake.push_event(update)

    def next_update(self) -> dict:
        while True:
            kind, arg = self.steps[self.i % len(self.steps)]
            self.i += 1
            if kind == "say":
                return self.fake.make_message_new(self.chat, arg)
            msg = self.fake.last.get(self.chat)
            labels = {b["action"]["label"]: b["action"] for row in (msg or {}).get("keyboard", {}).get("buttons", [])
                      for b in row} if msg else {}
            if self.echo:
                if kind == "consent":
                    continue
                arg = ECHO_LABELS[self.i % len(ECHO_LABELS)]
            elif kind == "consent" and arg not in labels:
                continue  # asked only once per citizen
            action = labels.get(arg)
            if action is None or action.get("type") != "callback":
                load.User.out_of_step += 1
                self.i = 0
                return self.fake.make_message_new(self.chat, "/menu")
            return self.fake.make_callback(self.chat, self.chat, json.loads(action["payload"]),
                                           msg["conversation_message_id"])


# ---------------------------------------------------------------- the bots (child processes)
async def serve_echo() -> None:
    from vkbottle import API, Bot, BotPolling, GroupEventType, GroupTypes
    from vkbottle.bot import Message

    api = API(os.environ["VK_GROUP_TOKEN"])
    api.API_URL = os.environ["VK_API_URL"]
    bot = Bot(api=api, polling=BotPolling(api, group_id=int(os.environ["VK_GROUP_ID"])))
    keyboard = echo_keyboard()
    screens = itertools.count()
    ids = itertools.count(1)

    async def send(peer_id: int) -> None:
        await api.request("messages.send", {"peer_id": peer_id, "random_id": next(ids), "keyboard": keyboard,
                                            "message": ECHO_TEXT.format(n=next(screens))})

    @bot.on.message()
    async def echo(message: Message) -> None:
        await send(message.peer_id)

    @bot.on.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=GroupTypes.MessageEvent)
    async def press(event: GroupTypes.MessageEvent) -> None:
        obj = event.object
        answer = asyncio.ensure_future(api.request("messages.sendMessageEventAnswer", {
            "event_id": obj.event_id, "user_id": obj.user_id, "peer_id": obj.peer_id}))
        await send(obj.peer_id)
        await answer

    gc.collect()
    gc.freeze()  # like the channel does after start-up (core.heap)
    task = asyncio.create_task(bot.run_polling())
    await load.until_sigterm()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def serve_full(canned: bool) -> None:
    from bot.app import build_app
    from bot.runner import settle
    from bot.settings import Settings
    from channels.vk import VKChannel

    app = await build_app(Settings(_env_file=None))
    load.lift_citizen_limits(app)
    settle()  # as the runner does before the channels start
    if canned:
        from core.events import Button, Reply

        menu = [[Button(label, label)] for label in STUB_LABELS]

        async def handle(event, *, update_key=None):
            return [Reply("Что вы хотите сделать?", menu)]

        app.handle = handle
    channel = VKChannel(app)
    task = asyncio.create_task(channel.run_polling())
    await load.until_sigterm()
    await channel.stop()
    await asyncio.gather(task, return_exceptions=True)
    await app.close()


async def serve(kind: str) -> None:
    await (serve_echo() if kind == "echo" else serve_full(canned=kind == "adapter"))


# ---------------------------------------------------------------- the run
async def bench(plan: load.Plan, kinds: list[str]) -> None:
    before = load.loadavg()
    uids = itertools.count(10_000)
    fakes: dict[str, BenchFake] = {}
    bots: dict[str, load.Child] = {}
    pg_name, pg_url = None, ""
    with tempfile.TemporaryDirectory(prefix="bench-vk-") as tmp:
        try:
            async def start(kind: str) -> None:
                fake = fakes[kind] = await BenchFake().start()
                workdir = Path(tmp) / kind
                workdir.mkdir()
                env = {"VK_GROUP_TOKEN": fake.token, "VK_GROUP_ID": str(fake.group_id), "VK_API_URL": fake.api_url,
                       "DATABASE_URL": pg_url if kind == "full-pg" else f"sqlite+aiosqlite:///{workdir}/bench.db",
                       "FILES_DIR": str(workdir / "files")}
                # vkbottle's .vkbottle/ lands in the workdir
                bots[kind] = await load.Child("bench.bench_vk", kind, env, workdir).start(lambda: bool(fake.lp_requests))

            if "full-pg" in kinds:
                pg_name, pg_url = await load.pg_create()
            await asyncio.gather(*(start(kind) for kind in kinds))

            async def run_case(scenario: str, kind: str, closed_s: float, rate_s: float) -> load.Case:
                fake, pid = fakes[kind], bots[kind].pid
                await asyncio.sleep(0.2)  # late sendMessageEventAnswer calls land
                fake.reset()
                steps = SCENARIOS[scenario]
                if kind == "adapter":
                    steps = [s for s in steps if s[0] == "press"]
                closed = [VKUser(fake, next(uids), steps, kind == "echo") for _ in range(plan.users)]
                rated = [VKUser(fake, next(uids), steps, kind == "echo") for _ in range(plan.rate_users)]
                await load.warm_up(closed + (rated if rate_s else []))
                c = await load.measured(pid, load.closed_loop(closed, closed_s))
                r = await load.measured(pid, load.open_loop(rated, plan.rate, rate_s)) if rate_s else load.Window()
                return load.Case(c, r)

            results = await load.rounds(plan, list(SCENARIOS), kinds, run_case)
        finally:
            for kind, child in bots.items():
                await child.stop(fakes[kind].release_long_polls)
            for fake in fakes.values():
                await fake.stop()
            if pg_name:
                await load.pg_drop(pg_name)
    load.report(f"VK channel benchmark: fake VK on 127.0.0.1, each bot in a child process (Bots Long Poll), "
                f"Python {sys.version.split()[0]}, {loop_name(os.environ.get('EVENT_LOOP', 'auto'))} loop", plan, results, NAMES, TARGETS, before, unit="events")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=["echo", "full", "full-pg", "adapter"], help=argparse.SUPPRESS)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite",
                        help="the full stack's database (postgres: a database of its own, dropped after)")
    parser.add_argument("--adapter", action="store_true", help="also measure the channel with a canned reply")
    parser.add_argument("--profile", metavar="DIR", help="write cProfile stats of each bot process to DIR")
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run, figures meaningless)")
    parser.add_argument("--rounds", type=int, help="rounds of each case (default 5)")
    args = parser.parse_args(argv)
    if args.serve:
        load.serve_main(serve, args.serve, "vk")
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
