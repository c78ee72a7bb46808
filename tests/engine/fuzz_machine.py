"""A hypothesis state machine that drives the dialog engine like a crowd of careless or hostile
people and staff (issue 10, item 10). Used by tests/engine/test_fuzz_engine.py (bounded) and
bench/fuzz_engine.py (long runs).

Each example gets a database of its own (a copy of a migrated template) and the clock at the
same start, so an example depends on its draws alone: hypothesis can replay and shrink it, and
never sees "inconsistent data generation". Draws never depend on what the engine answered
(a button is an index drawn from a fixed range, taken modulo the buttons offered)."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import delete, select

from channels.max.render import PayloadCodec as MaxCodec
from channels.max.render import render as max_render
from channels.max.render import utf16_len
from channels.telegram.render import PayloadCodec
from channels.telegram.render import render as tg_render
from channels.vk.render import CALLBACK_CAPS, DEFAULT_CAPS
from channels.vk.render import render as vk_render
from core.events import Attachment, Inbound
from storage.models import Appeal, Identity, Staff, StaffIdentity

MENU = "Что вы хотите сделать?"
NUMBER = re.compile(r"ЖН-\d{4}-\d{6}")
HOSTILE = ["\x00", "\x00\x01\x1b[31m", "х" + "у" * 300 + "й", "'; DROP TABLE appeals; --", "[" * 500,
           "9" * 40, "2147483648", "-1", "²", "Подать обращение", "1", "99", "0", "ivanova@example.ru,x@y.ru",
           "\u202eгде мой ответ", "ЖН-2026-000001", "Назад", "Главное меню", " ", "🙂" * 50]
PREFIXES = ["clar:", "rate:", "vrate:", "sc:", "vmine:", "sa:take:", "ap:", "sf:", "nav:menu", "nav:back",
            "nav:cancel", "sa:answer:", "", "cq:", "wd:", "lc:take:", "lc:open:", "idv:", "draft:", "sqn:"]
IDS = ["1", "2", "99999999999999999999", "2147483648", "0", "-5", "x", "1:3", "1:9", "²", "1:a:1", "²:a:1",
       "1:r:²", "2147483648:r:3"]
FILES = [(b"%PDF-1.4 act", "application/pdf", "акт.pdf"), (b"MZ\x90\x00" * 10, "application/pdf", "update.exe"),
         (b"\xff\xd8\xff\xe0photo", "image/jpeg", "../\x00фото.jpg"), (b"", "text/plain", "пусто.txt"),
         (b"hello", "application/x-msdownload", "a" * 400)]
HOME_LABELS = {"Главное меню", "Отменить", "Назад", "В меню"}
CITIZENS = ["501", "502", "503"]
STAFF_USER = "9001"


def hostile_text():
    return st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))


def pick(items: list, index: int):
    return items[index % len(items)]


class EngineMachine(RuleBasedStateMachine):
    """Set `fresh` (async, returns an app on a database of its own and the function that closes
    it), `loop` and `clock` (reset to `start` for each example) on the class before running."""

    fresh = loop = clock = start_time = None
    run = 0

    @initialize()
    def start(self):
        EngineMachine.run += 1
        self.clock.now = self.start_time
        self.app, self.close = self.loop.run_until_complete(self.fresh())
        self.last: dict[str, object] = {}

    def teardown(self):
        if getattr(self, "close", None) is not None:
            self.loop.run_until_complete(self.close())

    # ------------------------------------------------------------ helpers
    def uid(self, who: str) -> str:
        return who

    def send(self, who: str, **kw):
        channel = "telegram" if (len(who) + int(who[-1])) % 2 else "vk"
        if who == STAFF_USER:
            channel = "telegram"
        event = Inbound(channel, self.uid(who), **kw)
        replies = self.loop.run_until_complete(self.app.engine.handle(event))  # no exception may leave
        assert replies, "every event gets a reply"
        for reply in replies:
            check_renders(reply)
        self.loop.run_until_complete(self.check_own_data(event, replies))
        self.last[who] = replies[-1]
        return replies

    async def check_own_data(self, event: Inbound, replies) -> None:
        """No citizen sees an appeal number that is someone else's."""
        numbers = {n for r in replies for n in NUMBER.findall(r.text)}
        if not numbers or event.user_id == STAFF_USER:
            return
        async with self.app.sessionmaker() as s:
            me = (await s.execute(select(Identity.citizen_id).where(
                Identity.channel == event.channel, Identity.external_id == event.user_id))).scalar_one_or_none()
            owners = dict((await s.execute(select(Appeal.number, Appeal.citizen_id)
                                           .where(Appeal.number.in_(numbers)))).all())
        for number, owner in owners.items():
            assert owner == me, f"{event.user_id} saw {number} of citizen {owner}"

    # ------------------------------------------------------------ rules
    who = st.sampled_from([*CITIZENS, STAFF_USER])

    @rule(who=who, command=st.sampled_from(["start", "menu", "help", "status", "link", "start"]),
          argument=st.one_of(st.none(), hostile_text(), st.sampled_from(["appeal", "visit", "mine"])))
    def command(self, who, command, argument):
        self.send(who, command=command, argument=argument)

    @rule(who=who, index=st.integers(0, 99))
    def press_offered(self, who, index):
        reply = self.last.get(who)
        buttons = [b for row in reply.buttons for b in row] if reply else []
        if not buttons:
            self.send(who, command="start")
            return
        self.send(who, button=pick(buttons, index).payload)

    @rule(who=who, prefix=st.sampled_from(PREFIXES), ident=st.sampled_from(IDS))
    def press_forged(self, who, prefix, ident):
        self.send(who, button=prefix + ident)

    @rule(who=who, index=st.integers(0, 99), number=st.booleans())
    def type_label(self, who, index, number):
        reply = self.last.get(who)
        buttons = [b for row in reply.buttons for b in row] if reply else []
        if not buttons:
            return
        i = index % len(buttons)
        self.send(who, text=str(i + 1) if number else buttons[i].label.upper())

    @rule(who=who, text=hostile_text())
    def type_text(self, who, text):
        self.send(who, text=text)

    @rule(who=who, file=st.sampled_from(FILES), caption=st.one_of(st.none(), hostile_text()))
    def send_file(self, who, file, caption):
        data, mime, name = file
        kind = "photo" if mime.startswith("image/") else "document"
        self.send(who, attachments=(Attachment(kind, name, mime, len(data), data),), text=caption)

    @rule(minutes=st.sampled_from([1, 61, 60 * 24, 60 * 24 * 40, -5]))
    def clock_jump(self, minutes):
        self.clock.now += timedelta(minutes=minutes)

    @rule(present=st.booleans())
    def staff_comes_or_goes(self, present):
        """Staff added, or removed mid-action."""
        async def change():
            async with self.app.sessionmaker() as s, s.begin():
                ids = (await s.execute(select(StaffIdentity.staff_id).where(StaffIdentity.user_id == STAFF_USER))).scalars().all()
                if present and not ids:
                    s.add(Staff(name="Петрова А. А.", role="supervisor",
                                identities=[StaffIdentity(channel="telegram", user_id=STAFF_USER)]))
                elif not present and ids:
                    await s.execute(delete(StaffIdentity).where(StaffIdentity.user_id == STAFF_USER))
        self.loop.run_until_complete(change())

    @rule(who=st.sampled_from(CITIZENS))
    def menu_reachable_by_buttons(self, who):
        """From any screen, the main menu by buttons alone, in a few presses: menu, cancel or
        back where offered; on a screen without them (the two survey questions after a
        consultation) the first answer offered, which leads on."""
        reply = self.last.get(who)
        if reply is None:
            return
        for _ in range(6):
            if MENU in reply.text:
                return
            buttons = [b for row in reply.buttons for b in row]
            payloads = [b.payload for b in buttons]
            assert buttons, f"no button at all on: {reply.text[:200]!r}"
            home = next((p for p in ("nav:menu", "nav:cancel", "nav:back") if p in payloads), None)
            home = home or next((b.payload for b in buttons if b.label in HOME_LABELS or b.payload.endswith(":quit")), None)
            reply = self.send(who, button=home or payloads[0])[-1]
        assert MENU in reply.text, f"no way home by buttons: {reply.text[:200]!r}"

    @invariant()
    def nothing(self):
        pass


def check_renders(reply) -> None:
    """Within every registered channel's limits (Telegram, VK and MAX renderers, as sent)."""
    parts = tg_render(reply, PayloadCodec())
    buttons = 0
    for part in parts:
        assert len(part.text) <= 4096
        if part.markup:
            for row in part.markup.inline_keyboard:
                for b in row:
                    buttons += 1
                    assert len(b.callback_data.encode()) <= 64 and len(b.text) <= 64
    assert buttons <= 100, f"{buttons} buttons"
    for caps in (CALLBACK_CAPS, DEFAULT_CAPS):
        for part in vk_render(reply, caps):
            assert len(part.text) <= 4096
            if part.keyboard:
                kb = json.loads(part.keyboard)
                for row in kb["buttons"]:
                    assert len(row) <= 5
                    for b in row:
                        assert len(b["action"].get("label", "")) <= 40
                        assert len(b["action"].get("payload", "")) <= 255
    for part in max_render(reply, MaxCodec()):  # tests/data/specs/max: text 4000, 30 rows of 7, 210
        assert utf16_len(part.text) <= 4000
        if part.keyboard:
            rows = part.keyboard["payload"]["buttons"]
            assert len(rows) <= 30 and all(len(row) <= 7 for row in rows) and sum(map(len, rows)) <= 210
            for b in (b for row in rows for b in row):
                assert len(b["text"]) <= 128 and utf16_len(b["payload"]) <= 1024


def run_machine(fresh, clock, *, examples: int, steps: int, shrink: bool = False) -> int:
    """Run the machine `examples` times, each on an app of its own from `fresh()`; the number of
    examples run. Without `shrink` a failure is reported as found (shrinking an engine session
    takes minutes)."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    loop = asyncio.get_event_loop()
    EngineMachine.fresh, EngineMachine.loop, EngineMachine.clock = staticmethod(fresh), loop, clock
    EngineMachine.start_time = clock.now
    before = EngineMachine.run
    run_state_machine_as_test(EngineMachine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=False,
        suppress_health_check=list(HealthCheck), database=None,
        phases=list(Phase) if shrink else [Phase.explicit, Phase.generate]))
    return EngineMachine.run - before


def fresh_apps(template_url: str, tmp, clock):
    """`fresh()` for run_machine: an app on a copy of a migrated template database (a copied
    SQLite file, or CREATE DATABASE ... TEMPLATE on PostgreSQL), and its closer."""
    import itertools
    import shutil

    from bot.app import build_app
    from tests.conftest import create_pg_database, drop_pg_database, make_settings

    numbers = itertools.count(1)

    async def fresh():
        n = next(numbers)
        if template_url.startswith("sqlite"):
            path = tmp / f"example-{n}.db"
            shutil.copyfile(template_url.split("///", 1)[1], path)
            url, name = f"sqlite+aiosqlite:///{path}", None
        else:
            name, url = await create_pg_database(template=template_url.rsplit("/", 1)[1])
        app = await build_app(make_settings(url, tmp / f"files-{n}"), upgrade=False, clock=clock)

        async def close():
            await app.close()
            if name:
                await drop_pg_database(name)
            else:
                for suffix in ("", "-wal", "-shm"):
                    (tmp / f"example-{n}.db{suffix}").unlink(missing_ok=True)
        return app, close
    return fresh
