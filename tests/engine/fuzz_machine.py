"""A hypothesis state machine that drives the dialog engine like a crowd of careless or hostile
people and staff (issue 10, item 10). Used by tests/engine/test_fuzz_engine.py (bounded) and
bench/fuzz_engine.py (long runs)."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import delete, select

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
            "nav:cancel", "sa:answer:", ""]
IDS = ["1", "2", "99999999999999999999", "2147483648", "0", "-5", "x", "1:3", "1:9"]
FILES = [(b"%PDF-1.4 act", "application/pdf", "акт.pdf"), (b"MZ\x90\x00" * 10, "application/pdf", "update.exe"),
         (b"\xff\xd8\xff\xe0photo", "image/jpeg", "../\x00фото.jpg"), (b"", "text/plain", "пусто.txt"),
         (b"hello", "application/x-msdownload", "a" * 400)]
HOME_LABELS = {"Главное меню", "Отменить", "Назад", "В меню"}
CITIZENS = ["501", "502", "503"]
STAFF_USER = "9001"


def hostile_text():
    return st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))


class EngineMachine(RuleBasedStateMachine):
    """Set `app`, `loop` and `clock` on the class before running."""

    app = loop = clock = None
    run = 0

    @initialize()
    def start(self):
        EngineMachine.run += 1
        self.prefix = f"{EngineMachine.run}"
        self.last: dict[str, object] = {}
        self.staff_present = False

    # ------------------------------------------------------------ helpers
    def uid(self, who: str) -> str:
        return who if who == STAFF_USER else f"{self.prefix}{who}"

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

    @rule(who=who, data=st.data())
    def press_offered(self, who, data):
        reply = self.last.get(who)
        buttons = [b for row in reply.buttons for b in row] if reply else []
        if not buttons:
            self.send(who, command="start")
            return
        self.send(who, button=data.draw(st.sampled_from(buttons)).payload)

    @rule(who=who, prefix=st.sampled_from(PREFIXES), ident=st.sampled_from(IDS))
    def press_forged(self, who, prefix, ident):
        self.send(who, button=prefix + ident)

    @rule(who=who, data=st.data(), number=st.booleans())
    def type_label(self, who, data, number):
        reply = self.last.get(who)
        buttons = [b for row in reply.buttons for b in row] if reply else []
        if not buttons:
            return
        i = data.draw(st.integers(0, len(buttons) - 1))
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
        """From any screen, the main menu by buttons alone (menu, cancel, back), in a few presses."""
        reply = self.last.get(who)
        if reply is None:
            return
        for _ in range(6):
            if MENU in reply.text:
                return
            buttons = [b for row in reply.buttons for b in row]
            payloads = [b.payload for b in buttons]
            home = next((p for p in ("nav:menu", "nav:cancel", "nav:back") if p in payloads), None)
            home = home or next((b.payload for b in buttons if b.label in HOME_LABELS or b.payload.endswith(":quit")), None)
            assert home, f"no way home from: {reply.text[:200]!r} {payloads}"
            reply = self.send(who, button=home)[-1]
        assert MENU in reply.text, reply.text[:200]

    @invariant()
    def nothing(self):
        pass


def check_renders(reply) -> None:
    """Within every registered channel's limits (Telegram and VK renderers, as sent)."""
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


def run_machine(app, clock, *, examples: int, steps: int, shrink: bool = False) -> int:
    """Run the machine `examples` times on `app`; the number of examples run. Without
    `shrink` a failure is reported as found (shrinking an engine session takes minutes)."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    loop = asyncio.get_event_loop()
    EngineMachine.app, EngineMachine.loop, EngineMachine.clock = app, loop, clock
    before = EngineMachine.run
    run_state_machine_as_test(EngineMachine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=False,
        suppress_health_check=list(HealthCheck), database=None,
        phases=list(Phase) if shrink else [Phase.explicit, Phase.generate]))
    return EngineMachine.run - before
