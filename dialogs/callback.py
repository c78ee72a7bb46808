"""Callback requests (R-5.9): the citizen's phone, consent and time windows; the staff queue
(take, done with a note, not reached), and the consultation line in the staff menu."""
from __future__ import annotations

from datetime import datetime

import texts as T
from core.events import Button, Reply
from dialogs.context import NAV_MENU, Context, Step, column, nav_row, step
from dialogs.live import history_text
from dialogs.mine import local
from dialogs.staff import StaffStep
from services import callbacks, live, staffdesk
from services.addresses import parse_phone


def _window_label(ctx: Context, start: datetime, end: datetime) -> str:
    return T.CB_WINDOW.format(day=f"{start:%d.%m}", start=f"{start:%H:%M}", end=f"{end:%H:%M}")


def _labels(ctx: Context, windows: list[list[str]]) -> str:
    return ", ".join(_window_label(ctx, datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in windows)


@step
class Phone(Step):
    name = "cb.phone"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.CB_PHONE, [nav_row()])

    async def on_text(self, ctx: Context, text: str) -> str | None:
        phone = parse_phone(text)
        if phone is None:
            ctx.note(T.CB_PHONE_BAD)
            return None
        ctx.data["phone"] = phone
        return "cb.consent"


@step
class Consent(Step):
    name = "cb.consent"

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.CB_CONSENT.format(phone=ctx.data.get("phone", "")),
                     [[Button(T.CB_AGREE, "cb:agree")], nav_row()])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "cb:agree" and ctx.data.get("phone"):
            ctx.data["consent"] = True
            cal, days = ctx.deps.calendar, ctx.profile.consult.callback_offer_days
            ctx.data["windows"] = [[s.isoformat(), e.isoformat()] for s, e in callbacks.windows(cal, ctx.now(), days)]
            ctx.data["picked"] = []
            return "cb.windows"
        return None


@step
class Windows(Step):
    name = "cb.windows"

    async def show(self, ctx: Context) -> Reply:
        picked = set(ctx.data.get("picked", []))
        buttons = []
        for i, (s, e) in enumerate(ctx.data.get("windows", [])):
            label = _window_label(ctx, datetime.fromisoformat(s), datetime.fromisoformat(e))
            buttons.append(Button(T.CB_PICKED.format(label=label) if i in picked else label, f"cbw:{i}"))
        return Reply(T.CB_WINDOWS.format(local_time=ctx.profile.consult.local_time),
                     [*column(buttons), [Button(T.CB_READY, "cbw:done")], nav_row()])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        windows, picked = ctx.data.get("windows", []), ctx.data.setdefault("picked", [])
        if payload == "cbw:done":
            if not picked or not ctx.data.get("consent"):
                ctx.note(T.CB_NEED_WINDOW)
                return None
            due = callbacks.due_by(ctx.deps.calendar, ctx.now(), ctx.profile.consult.callback_days)
            chosen = [windows[i] for i in sorted(picked)]
            req = await callbacks.create(ctx.session, citizen_id=ctx.citizen.id, channel=ctx.event.channel,
                                         phone=ctx.data["phone"], chosen=chosen, due=due, now=ctx.now())
            ctx.data = {"request_id": req.id}
            return "cb.done"
        if payload.startswith("cbw:") and payload[4:].isdigit() and int(payload[4:]) < len(windows):
            i = int(payload[4:])
            picked.remove(i) if i in picked else picked.append(i)
        return None


@step
class Done(Step):
    name = "cb.done"

    async def show(self, ctx: Context) -> Reply:
        req = await callbacks.get(ctx.session, ctx.data.get("request_id") or 0)
        if req is None or req.citizen_id != ctx.citizen.id:
            return Reply(T.MENU_PROMPT, [[Button(T.MENU, NAV_MENU)]])
        return Reply(T.CB_DONE.format(phone=req.phone, due=f"{req.due_by.astimezone(ctx.deps.calendar.tz):%d.%m.%Y %H:%M}",
                                      local_time=ctx.profile.consult.local_time, windows=_labels(ctx, req.windows)),
                     [[Button(T.MENU, NAV_MENU)]])


# -- staff ---------------------------------------------------------------------------------------

async def menu_part(ctx: Context) -> tuple[str, list[list[Button]]]:
    """The consultation line in the staff menu: on/off the line, waiting conversations, one's
    own, callback requests with overdue ones."""
    on = await live.on_line(ctx.session, ctx.staff.id)
    waiting = await live.count_waiting(ctx.session)
    mine = len(await live.mine(ctx.session, ctx.staff.id))
    total, overdue = await callbacks.counts(ctx.session, ctx.now())
    text = T.STAFF_MENU_LINE.format(state=T.STAFF_LINE_STATE[on], waiting=waiting, mine=mine, callbacks=total,
                                    overdue=overdue)
    return text, [
        [Button(T.STAFF_LINE_OFF if on else T.STAFF_LINE_ON, "sln:toggle")],
        [Button(T.STAFF_WAITING.format(n=waiting), "sln:waiting"), Button(T.STAFF_MY_LIVE.format(n=mine), "sln:mine")],
        [Button(T.STAFF_CALLBACKS.format(n=total, overdue=overdue), "sln:callbacks")],
    ]


async def menu_button(ctx: Context, payload: str) -> str | None:
    if payload == "sln:toggle":
        on = await live.on_line(ctx.session, ctx.staff.id)
        await live.set_line(ctx.session, ctx.staff, channel=ctx.event.channel, user_id=ctx.event.user_id,
                            available=not on, now=ctx.now())
        return None
    return {"sln:waiting": "staff.live_queue", "sln:mine": "staff.live_mine",
            "sln:callbacks": "staff.callbacks"}.get(payload)


@step
class LiveQueue(StaffStep):
    name = "staff.live_queue"

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        items = await live.waiting(ctx.session)
        if not items:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        return Reply(T.STAFF_WAITING_LIST, [*column([Button(T.STAFF_LIVE_ITEM.format(
            id=c.id, at=local(ctx, c.started_at)), f"lc:take:{c.id}") for c in items]), *nav])


@step
class LiveMine(StaffStep):
    name = "staff.live_mine"

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        items = await live.mine(ctx.session, ctx.staff.id)
        if not items:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        return Reply(T.STAFF_MY_LIVE.format(n=len(items)), [*column([Button(T.STAFF_LIVE_ITEM.format(
            id=c.id, at=local(ctx, c.started_at)), f"lc:open:{c.id}") for c in items]), *nav])


@step
class CallbackQueue(StaffStep):
    name = "staff.callbacks"

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        items = await callbacks.queue(ctx.session)
        if not items:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        now = ctx.now()
        buttons = [Button(T.STAFF_CB_ITEM.format(phone=r.phone, due=local(ctx, r.due_by),
                                                 overdue=T.STAFF_CB_OVERDUE if r.due_by < now else ""), f"scb:{r.id}")
                   for r in items]
        return Reply(T.STAFF_CB_LIST, [*column(buttons), *nav])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("scb:") and payload[4:].isdigit():
            ctx.data["request_id"] = int(payload[4:])
            return "staff.callback"
        return None


@step
class CallbackCard(StaffStep):
    name = "staff.callback"

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        r = await callbacks.get(ctx.session, ctx.data.get("request_id") or 0)
        if r is None:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        appeals, consultations = await history_text(ctx, r.citizen_id)
        staff = await staffdesk.get(ctx.session, r.staff_id)
        text = T.STAFF_CB_CARD.format(
            id=r.id, phone=r.phone, windows=_labels(ctx, r.windows), due=local(ctx, r.due_by),
            overdue=T.STAFF_CB_OVERDUE if r.due_by < ctx.now() and r.status != "done" else "",
            status=T.STAFF_CB_STATUS.get(r.status, r.status), attempts=r.attempts,
            staff=staff.name if staff else T.STAFF_NOBODY, appeals=appeals, consultations=consultations)
        rows = []
        if r.status != "done":
            if r.staff_id != ctx.staff.id or r.status != "taken":
                rows.append([Button(T.STAFF_CB_TAKE, "scbx:take")])
            rows.append([Button(T.STAFF_CB_DONE, "scbx:done"), Button(T.STAFF_CB_NOT_REACHED, "scbx:nr")])
        return Reply(text, [*rows, *nav])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        r = await callbacks.get(ctx.session, ctx.data.get("request_id") or 0)
        if r is None:
            return None
        if payload == "scbx:take" and await callbacks.take(ctx.session, r, ctx.staff):
            ctx.note(T.STAFF_CB_TAKEN)
        elif payload == "scbx:nr" and await callbacks.not_reached(ctx.session, r, ctx.staff):
            ctx.note(T.STAFF_CB_RETRY)
        elif payload == "scbx:done" and r.status != "done":
            return "staff.callback_note"
        return None


@step
class CallbackNote(StaffStep):
    name = "staff.callback_note"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.STAFF_CB_NOTE, [nav_row()])

    async def staff_text(self, ctx: Context, text: str) -> str | None:
        r = await callbacks.get(ctx.session, ctx.data.get("request_id") or 0)
        if r is None or not text.strip():
            return None
        if await callbacks.done(ctx.session, ctx.profile, r, ctx.staff, note=text.strip()[:1000], now=ctx.now()):
            ctx.note(T.STAFF_CB_CLOSED)
        return "staff.callbacks"
