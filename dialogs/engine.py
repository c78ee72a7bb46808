"""The dialog engine: one inbound event in, neutral replies out, state in the database."""
from __future__ import annotations

import copy
import dataclasses
import logging
import re
from contextvars import ContextVar

import texts as T
from core.events import Inbound, Reply
from dialogs.context import (
    GLOBAL_BUTTONS, NAV_BACK, NAV_CANCEL, NAV_MENU, NOT_LOADED, STEPS, Context, Deps, FactNeeded, HeavyNeeded,
    ReadOnly,
)
from services import inbox, intake
from services.addresses import clean_text
from services.filecheck import clean_name
from services.notices import relay
from services.dialog_state import DialogStore
from services.privacy import Policy

# Importing the flows registers their steps.
from dialogs import (  # noqa: F401,E402
    appeal, appeal_rules, ask, callback, drafts, link, live, menu, mine, notices, settings, staff,
    staff_actions, staff_data, staff_reports, staff_visits, visit_contacts, visits,
)

log = logging.getLogger(__name__)
STEP: ContextVar[str | None] = ContextVar("step", default=None)  # the step the last event led to, for the logs

HOME = "menu"
UNKNOWN_COMMAND = re.compile(r"\s*/[A-Za-z_]\w*(@\w+)?(\s|$)")
STAFF_HOME = "staff.menu"
COMMAND_STEPS = {"appeal": "appeal.topic", "ask": "ask", "callback": "cb.phone",
                 "help": "help", "mine": "mine", "settings": "settings",
                 "visit": "visit.topic", "visits": "visit.mine"}


AGAIN = object()  # the hot path gave up: handle the event the ordinary way
LIGHT_COMMANDS = (None, "start", "menu", "help")
LEARNED_LIMIT = 10_000


class Engine:
    def __init__(self, sessionmaker, deps: Deps, store: DialogStore | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.deps = deps
        self.store = store or DialogStore.for_sessionmaker(sessionmaker)
        self.policy = Policy(deps.profile.privacy.foreign_messengers)
        self.heavy_at: set[tuple] = set()  # (step, input) where a step needed the database
        self.light_count = self.heavy_count = 0

    async def handle(self, event: Inbound, *, update_key: str | None = None) -> list[Reply] | None:
        """Replies to one event. With `update_key` (a platform update id), an update already
        handled returns None: it is recorded in the same transaction as its effects. Replies
        addressed to someone else go into the outbox in that transaction too.

        A cached citizen's ordinary step takes the hot path (services/dialog_state.py): no read,
        one write; a step that reaches for the database there is handled again the ordinary way."""
        event = clean_event(event)
        STEP.set(None)
        cached = self._light_candidate(event)
        if cached is not None:
            replies = await self._light(event, cached, update_key)
            if replies is not AGAIN:
                self.light_count += 1
                return replies
            STEP.set(None)
        self.heavy_count += 1
        async with self.store.gate:
            return await self._ordinary(event, update_key)

    async def _ordinary(self, event: Inbound, update_key: str | None) -> list[Reply] | None:
        async with self.sessionmaker() as session:
            async with session.begin():
                if update_key is not None and not await intake.first_time(
                        session, event.channel, update_key, self.deps.clock()):
                    return await inbox.owed(session, event.channel, update_key)  # None if nothing owed
                if event.unsupported:  # a sticker, a location: a hint, the dialog stays where it is
                    return [Reply(T.UNSUPPORTED_CONTENT)]
                person = await self.store.load(session, event.channel, event.user_id, event.display_name)
                identity = person.identity
                data = copy_state(person.data)  # a fresh object, so any change is saved
                ctx = Context(session, self.deps, identity.citizen, identity, event, data.get("flow", {}))
                ctx.staff = person.staff
                ctx.facts = self.store.facts(event.channel, event.user_id, person)
                target, replies = await self._turn(ctx, data, person.step)
                await self.store.save(session, person, target, data)
                for other in (r for r in replies if r.to is not None):
                    await relay(session, other, now=self.deps.clock(), files=self.deps.files)
                mine = [r for r in replies if r.to is None]
                if update_key is not None:  # kept on the inbox row until shown (services/inbox.py)
                    await inbox.owe(session, event.channel, update_key, mine)
            self.store.committed(event.channel, event.user_id, person, ctx.facts)
            return mine

    def _light_candidate(self, event: Inbound):
        if event.attachments or event.unsupported or event.command not in LIGHT_COMMANDS:
            return None
        cached = self.store.cached(event.channel, event.user_id)
        if cached is None or (cached.step, _input_kind(event)) in self.heavy_at:
            return None
        if event.button and (event.button.split(":", 1)[0] + ":") in GLOBAL_BUTTONS:
            return None  # they check ownership in the database
        return cached

    async def _light(self, event: Inbound, cached, update_key: str | None):
        data = copy_state(cached.data)
        ctx = Context(NOT_LOADED, self.deps, ReadOnly(cached.citizen), ReadOnly(cached.identity), event,
                      data.get("flow", {}), facts=dict(cached.facts), read_fact=self.store.read_fact,
                      read_listing=self.store.read_listing)
        try:
            target, replies = await self._turn(ctx, data, cached.step)
        except FactNeeded:  # this person's fact is not known yet: the ordinary path learns it
            return AGAIN
        except HeavyNeeded:
            self._learn(cached.step, event)
            return AGAIN
        if any(r.to is not None for r in replies):  # a message to someone else: the outbox
            self._learn(cached.step, event)
            return AGAIN
        owed = inbox.dump_replies(replies) if update_key is not None else None
        saved = await self.store.save_light(event.channel, event.user_id, cached, target, data, update_key,
                                            owed, self.deps.clock(), ctx.facts, ctx.records)
        return replies if saved else AGAIN

    def _learn(self, step: str | None, event: Inbound) -> None:
        if len(self.heavy_at) >= LEARNED_LIMIT:
            self.heavy_at.clear()
        self.heavy_at.add((step, _input_kind(event)))

    async def _turn(self, ctx: Context, data: dict, step: str | None) -> tuple[str, list[Reply]]:
        """Route one event from the person's step, draw the next screen: (step, replies)."""
        ctx.kept = data
        if ctx.event.cut:  # never cut without a word (the newcomer issue, item 17)
            ctx.note(T.INPUT_CUT.format(limit=f"{ctx.event.cut:,}".replace(",", "\u00a0")))
        current = step if step in STEPS else None
        ctx.current = current
        if current and current.startswith("staff.") and ctx.staff is None:  # no longer staff
            ctx.note(T.STAFF_ONLY)
            current = self._reset(ctx, data, HOME)
        target = await self._route(ctx, current, data)
        if target.startswith("staff.") and ctx.staff is None:  # checked on every event
            ctx.note(T.STAFF_ONLY)
            target = self._reset(ctx, data, HOME)
        STEP.set(target)
        reply = await self._show(ctx, target, data)
        data["flow"] = ctx.data
        return target, [self.policy.reply(r, ctx.event.channel) for r in (*ctx.extra, reply)]

    async def close(self) -> None:
        await self.store.close()

    async def apology(self, channel: str, user_id: str) -> Reply:
        """«Something went wrong» with the main menu; the bare apology if even that fails."""
        try:
            menu = (await self.handle(Inbound(channel, user_id, command="menu")))[-1]
            return Reply(f"{T.SORRY_ERROR}\n\n{menu.text}", menu.buttons)
        except Exception:
            log.exception("the main menu failed after an error")
            return Reply(T.SORRY_ERROR)

    async def _route(self, ctx: Context, current: str | None, data: dict) -> str:
        ev = ctx.event
        if ev.command in ("start", "menu"):
            home = STAFF_HOME if ctx.staff else HOME
            return self._reset(ctx, data, COMMAND_STEPS.get(ev.argument or "", home))
        if ev.command == "help":
            return self._reset(ctx, data, "help")
        if ev.command == "link":
            if not ev.argument:  # «/link» alone: ask for the code
                return self._reset(ctx, data, "link.enter")
            home = self._reset(ctx, data, HOME)
            return await link.check(ctx, ev.argument[:40]) or home  # the confirmation, or a note
        if ev.command == "status":
            target = self._reset(ctx, data, "status")
            ctx.data["status_query"] = ev.argument or ""
            return target

        if ev.command is not None or (ev.button is None and ev.text and UNKNOWN_COMMAND.match(ev.text)):
            ctx.note(T.UNKNOWN_COMMAND)  # never appeal text
            return current or HOME
        payload = ev.button
        if payload is None and ev.text:
            takes_text = current is not None and STEPS[current].takes_text
            payload = _label_to_payload(ev.text, data.get("offered", []), numbers=not takes_text)
        offered = {p for _, p in data.get("offered", [])}
        handler = GLOBAL_BUTTONS.get((payload or "").split(":", 1)[0] + ":")
        if handler is not None:
            kept, ctx.data = ctx.data, {}
            nxt = await handler(ctx, payload)  # it fills ctx.data for the step it opens
            if nxt:
                data["history"] = []
                return nxt
            ctx.data = kept
            return current or HOME
        if current is None:
            return HOME
        if payload is not None:
            if payload not in offered:
                ctx.note(T.STALE_BUTTON)
                return current
            if payload == NAV_MENU:  # staff stay in staff mode
                home = STAFF_HOME if ctx.staff and (current or "").startswith("staff.") else HOME
                return self._reset(ctx, data, home)
            if payload == NAV_CANCEL:
                ctx.note(T.DRAFT_KEPT if drafts.keep(ctx, data) else T.CANCELLED)
                return self._reset(ctx, data, HOME)
            if payload == NAV_BACK:
                history = data.get("history", [])
                return history.pop() if history else HOME
            nxt = await STEPS[current].on_button(ctx, payload)
        elif ev.attachments:
            step = STEPS[current]
            nxt = await step.on_files(ctx)
            if ev.text and step.takes_text and nxt is None:
                nxt = await step.on_text(ctx, ev.text)
        elif ev.text is not None:
            nxt = await STEPS[current].on_text(ctx, ev.text)
        else:
            nxt = None
        if nxt is None or nxt == current:
            return current
        if nxt == HOME:
            return self._reset(ctx, data, HOME)
        history = data.setdefault("history", [])
        if nxt in history:  # forward to a step already behind us («Другой день»): no loop for «Назад»
            del history[history.index(nxt):]
        else:
            history.append(current)
        del history[:-20]
        return nxt

    @staticmethod
    def _reset(ctx: Context, data: dict, target: str) -> str:
        drafts.keep(ctx, data)  # leaving a wizard never loses an appeal's text
        ctx.data = {}
        data["history"] = []
        return target

    async def _show(self, ctx: Context, name: str, data: dict) -> Reply:
        reply = await STEPS[name].show(ctx)
        if ctx.notes:
            reply.text = "\n\n".join([*ctx.notes, reply.text])
        data["offered"] = [[b.label, b.payload] for row in reply.buttons for b in row]
        return reply


TEXT_LIMIT = 20_000  # longer than any step takes; the wizard turns a long text into a file
ARG_LIMIT = 200


def _clean(value: str | None, limit: int) -> str | None:
    return None if value is None else clean_text(value, limit)[0]


def clean_event(event: Inbound) -> Inbound:
    """NUL and other control characters out of everything a person sent, at the engine's door:
    PostgreSQL refuses NUL in text, and no step needs a control character. A text longer than
    TEXT_LIMIT is cut, and `cut` says so (the person is told)."""
    files = tuple(dataclasses.replace(a, file_name=clean_name(a.file_name), mime=_clean(a.mime, 100) or "")
                  for a in event.attachments)
    text, cut = clean_text(event.text, TEXT_LIMIT) if event.text is not None else (None, False)
    return dataclasses.replace(
        event, user_id=_clean(event.user_id, 64) or "", text=text, cut=TEXT_LIMIT if cut else event.cut,
        button=_clean(event.button, 255), command=_clean(event.command, 32),
        argument=_clean(event.argument, ARG_LIMIT), display_name=_clean(event.display_name, 200),
        attachments=files)


_ATOMS = (str, int, float, bool, type(None))


def copy_state(value):
    """A deep copy of dialog state (JSON-shaped: dicts, lists, strings, numbers), four times
    quicker than copy.deepcopy; anything else is deep-copied the general way."""
    kind = type(value)
    if kind is dict:
        return {k: copy_state(v) for k, v in value.items()}
    if kind is list:
        return [copy_state(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def _input_kind(event: Inbound) -> tuple:
    return (event.button, event.command, event.text is not None)


def _label_to_payload(text: str, offered: list[list[str]], numbers: bool) -> str | None:
    """A typed button label counts as pressing it (VK text keyboards, the console), and so does
    its number where the screen takes no typed input (clients that show no buttons)."""
    typed = text.strip().casefold()
    if numbers and typed.isascii() and typed.isdigit() and len(typed) < 6 and 1 <= int(typed) <= len(offered):
        return offered[int(typed) - 1][1]
    return next((payload for label, payload in offered if label.casefold() == typed), None)
