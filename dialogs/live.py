"""A live conversation with a specialist, both sides (R-5.3, R-5.7, R-5.8): the queue, messages
and files relayed through the outbox, transfers, ending; outside hours, when staff are back."""
from __future__ import annotations

import texts as T
from core import channels as registry
from core.events import Button, OutFile, Reply
from dialogs.context import NAV_MENU, Context, Step, column, global_button, paged, row_id, step
from dialogs.mine import local, status_title
from dialogs.staff import StaffStep
from services import consult, live, notices, staffdesk

PER_PAGE = 8  # colleagues per page: with the paging row and the navigation, within VK's ten rows


async def start(ctx: Context) -> str:
    """«Связаться со специалистом»: the queue in working hours with someone on the line, else
    when staff are back and a callback offer."""
    now = ctx.now()
    ctx.data.clear()
    c = await live.open_for(ctx.session, ctx.citizen.id)
    if c is None:
        if not ctx.deps.calendar.is_open(now):
            ctx.data["why"] = "closed"
            return "live.closed"
        if not await live.anyone_on_line(ctx.session):
            ctx.data["why"] = "nobody"
            return "live.closed"
        c, on_line = await live.request(ctx.session, ctx.citizen.id, ctx.event.channel, now=now)
        n = await live.count_waiting(ctx.session)
        for to in on_line:
            ctx.extra.append(Reply(T.STAFF_LIVE_NEW.format(n=n), [[Button(T.STAFF_LIVE_TAKE, f"lc:take:{c.id}")]],
                                   to=to))
    ctx.data["consultation_id"] = c.id
    return "live"


def when_back(ctx: Context) -> str:
    nxt = ctx.deps.calendar.next_opening(ctx.now())
    return f"{nxt:%d.%m.%Y} в {nxt:%H:%M}"


@step
class Closed(Step):
    name = "live.closed"

    async def show(self, ctx: Context) -> Reply:
        from dialogs.menu import hours_text

        local_time = ctx.profile.consult.local_time
        if ctx.data.get("why") == "nobody":
            text = T.LIVE_NOBODY.format(hours=hours_text(ctx), local_time=local_time)
        else:
            text = T.LIVE_CLOSED.format(when=when_back(ctx), local_time=local_time)
        return Reply(text, [[Button(T.MENU_CALLBACK, "next:callback")], [Button(T.MENU_ASK, "ask:other")],
                            [Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        ctx.data.clear()
        return {"next:callback": "cb.phone", "ask:other": "ask"}.get(payload)


def files_of(ctx: Context) -> list[OutFile]:
    """The files of this event that can be passed on (downloaded, within the limits)."""
    return [OutFile(a.file_name, a.mime, a.data) for a in ctx.event.attachments
            if a.data is not None and len(a.data) <= ctx.deps.max_file_bytes and a.mime in ctx.deps.allowed_mime]


def said(ctx: Context, files: list[OutFile]) -> str:
    text = (ctx.event.text or "").strip()
    if files:
        names = T.LIVE_FILES.format(names=", ".join(f.name for f in files))
        text = f"{text}\n{names}" if text else names
    return text


@step
class Live(Step):
    """The citizen's side: what they type or send goes to the staff member."""

    name = "live"
    takes_text = True
    takes_files = True

    async def show(self, ctx: Context) -> Reply:
        c = await live.get(ctx.session, ctx.data.get("consultation_id") or 0)
        if c is None or c.status == "ended":
            return Reply(T.LIVE_ENDED, [[Button(T.MENU, NAV_MENU)]])
        end = [[Button(T.LIVE_END, "live:end")], [Button(T.MENU, NAV_MENU)]]
        if c.status == "waiting":
            return Reply(T.LIVE_QUEUED.format(position=await live.position(ctx.session, c)), end)
        return Reply(T.LIVE_SENT if ctx.data.pop("sent", False) else T.LIVE_ON, end)

    async def _pass_on(self, ctx: Context, files: list[OutFile]) -> str | None:
        c = await live.get(ctx.session, ctx.data.get("consultation_id") or 0)
        if c is None or c.status == "ended":
            ctx.note(T.LIVE_ENDED)
            return "menu"
        if c.status != "active":
            return None  # waiting: the screen tells the position
        to = await live.staff_address(ctx.session, c.staff_id)
        text = said(ctx, files)
        if to is not None and (text or files):
            ctx.extra.append(Reply(T.LIVE_FROM_CITIZEN.format(id=c.id, text=text), files=files, to=to,
                                   buttons=[[Button(T.STAFF_LIVE_OPEN, f"lc:open:{c.id}")]]))
            live.touch(c, ctx.now())
            ctx.data["sent"] = True
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        if ctx.event.attachments:
            return None  # passed on with the files
        return await self._pass_on(ctx, [])

    async def on_files(self, ctx: Context) -> str | None:
        return await self._pass_on(ctx, files_of(ctx))

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload != "live:end":
            return None
        c = await live.get(ctx.session, ctx.data.get("consultation_id") or 0)
        if c is None or c.citizen_id != ctx.citizen.id:
            return "menu"
        was_active = c.status == "active"
        await live.end(ctx.session, c, now=ctx.now())
        ctx.note(T.LIVE_ENDED)
        if not was_active:
            return "menu"
        to = await live.staff_address(ctx.session, c.staff_id)
        if to is not None:
            ctx.extra.append(Reply(T.LIVE_ENDED_BY_CITIZEN.format(id=c.id), to=to))
        ctx.data = {"consultation_id": c.id}
        return "consult.q1"


# -- the staff side -------------------------------------------------------------------------------

@global_button("lc:")
async def take_or_open(ctx: Context, payload: str) -> str | None:
    """lc:take:<id> from the queue or an announcement; lc:open:<id> for one's own conversation."""
    parts = payload.split(":")
    if ctx.staff is None or len(parts) != 3 or row_id(parts[2]) is None:
        ctx.note(T.STAFF_ONLY if ctx.staff is None else T.STALE_BUTTON)
        return "menu"
    cid = row_id(parts[2])
    if parts[1] == "take":
        c = await live.take(ctx.session, cid, ctx.staff, now=ctx.now())
        if c is not None:
            to = await live.citizen_address(ctx.session, c)
            if to is not None:
                ctx.extra.append(Reply(T.LIVE_CONNECTED.format(name=ctx.staff.name), to=to))
    else:
        c = await live.get(ctx.session, cid)
    if c is None or c.status != "active" or c.staff_id != ctx.staff.id:
        ctx.note(T.STAFF_LIVE_GONE)
        return "staff.menu"
    ctx.data = {"consultation_id": cid}
    return "staff.live"


async def history_text(ctx: Context, citizen_id: int | None, skip: int | None = None) -> tuple[str, str]:
    """The citizen's earlier appeals and consultations, one line each (R-5.3)."""
    appeals, consultations = await consult.history(ctx.session, citizen_id)
    kinds = {"faq": T.MENU_ASK, "live": T.MENU_SPECIALIST, "callback": T.MENU_CALLBACK}
    a = "; ".join(f"{x.number} ({status_title(x.status)})" for x in appeals) or T.STAFF_NONE_YET
    items = []
    for c in consultations:
        if c.id == skip:
            continue
        entry = ctx.deps.knowledge.get(c.entry_id) if ctx.deps.knowledge and c.entry_id else None
        items.append(f"{local(ctx, c.started_at)} {kinds.get(c.kind, c.kind)}" + (f": {entry.title}" if entry else ""))
    return a, "; ".join(items) or T.STAFF_NONE_YET


@step
class StaffLive(StaffStep):
    name = "staff.live"
    takes_text = True
    takes_files = True

    async def _mine(self, ctx: Context):
        c = await live.get(ctx.session, ctx.data.get("consultation_id") or 0)
        return c if c is not None and c.status == "active" and c.staff_id == ctx.staff.id else None

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.MENU, NAV_MENU)]]
        c = await self._mine(ctx)
        if c is None:
            return Reply(T.STAFF_LIVE_GONE, nav)
        buttons = [[Button(T.STAFF_LIVE_TRANSFER, "slv:transfer")], [Button(T.LIVE_END, "slv:end")], *nav]
        if ctx.data.pop("sent", False):
            return Reply(T.STAFF_LIVE_SENT, buttons)
        appeals, consultations = await history_text(ctx, c.citizen_id, skip=c.id)
        return Reply(T.STAFF_LIVE_CARD.format(
            id=c.id, channel=registry.title(c.channel), at=local(ctx, c.started_at), transfers=c.transfers,
            max=ctx.profile.consult.max_transfers, appeals=appeals, consultations=consultations), buttons)

    async def _pass_on(self, ctx: Context, files: list[OutFile]) -> str | None:
        c = await self._mine(ctx)
        text = said(ctx, files)
        if c is None or not (text or files):
            return None
        to = await live.citizen_address(ctx.session, c)
        if to is not None:
            ctx.extra.append(Reply(T.LIVE_FROM_STAFF.format(text=text), files=files, to=to))
            live.touch(c, ctx.now())
            ctx.data["sent"] = True
        return None

    async def staff_text(self, ctx: Context, text: str) -> str | None:
        return None if ctx.event.attachments else await self._pass_on(ctx, [])

    async def on_files(self, ctx: Context) -> str | None:
        if ctx.staff is None:
            ctx.note(T.STAFF_ONLY)
            return "menu"
        return await self._pass_on(ctx, files_of(ctx))

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        c = await self._mine(ctx)
        if c is None:
            return None
        if payload == "slv:transfer":
            if c.transfers >= ctx.profile.consult.max_transfers:  # refused with the reason
                ctx.note(T.STAFF_LIVE_TOO_MANY.format(n=c.transfers))
                return None
            return "staff.live_transfer"
        if payload == "slv:end":
            await live.end(ctx.session, c, now=ctx.now())
            to = await live.citizen_address(ctx.session, c)
            if to is not None:  # the message first, then the two questions
                await notices.relay(ctx.session, Reply(T.LIVE_ENDED_BY_STAFF, to=to), now=ctx.now())
            await consult.ask_two_questions(ctx.session, ctx.profile, c, now=ctx.now())
            ctx.note(T.LIVE_ENDED)
            ctx.data.clear()
            return "staff.menu"
        return None


@step
class StaffLiveTransfer(StaffStep):
    name = "staff.live_transfer"

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        people = await live.colleagues(ctx.session, ctx.staff)
        if not people:
            return Reply(T.STAFF_LIVE_NO_COLLEAGUES, nav)
        shown, pages, line = paged(people, ctx.data.get("colleague_page"), PER_PAGE, "sltp:prev", "sltp:next")
        buttons = [Button(s.name + (f" ({T.STAFF_LINE_STATE[True]})" if on else ""), f"slt:{s.id}") for s, on in shown]
        return Reply("\n".join(filter(None, [T.STAFF_LIVE_PICK, line])),
                     [*column(buttons), *([pages] if pages else []), *nav])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        if payload in ("sltp:prev", "sltp:next"):  # long lists come in pages (issue 10 item 11)
            ctx.data["colleague_page"] = int(ctx.data.get("colleague_page") or 0) + (1 if payload == "sltp:next" else -1)
            return None
        if not (payload.startswith("slt:") and row_id(payload[4:]) is not None):
            return None
        c = await live.get(ctx.session, ctx.data.get("consultation_id") or 0)
        to_staff = await staffdesk.get(ctx.session, row_id(payload[4:]))
        if c is None or c.status != "active" or c.staff_id != ctx.staff.id or to_staff is None or not to_staff.active:
            ctx.note(T.STAFF_LIVE_GONE)
            return "staff.menu"
        try:
            await live.transfer(ctx.session, c, to_staff, note=None, now=ctx.now(),
                                max_transfers=ctx.profile.consult.max_transfers)
        except live.TooManyTransfers as e:
            ctx.note(T.STAFF_LIVE_TOO_MANY.format(n=e.done))
            return "staff.live"
        citizen = await live.citizen_address(ctx.session, c)
        if citizen is not None:  # the citizen is told first
            await notices.relay(ctx.session, Reply(T.LIVE_TRANSFER_CITIZEN.format(name=to_staff.name), to=citizen),
                                now=ctx.now())
        colleague = await live.staff_address(ctx.session, to_staff.id)
        if colleague is not None:
            await notices.relay(ctx.session, Reply(
                T.STAFF_LIVE_TRANSFERRED_TO.format(id=c.id, name=ctx.staff.name),
                [[Button(T.STAFF_LIVE_OPEN, f"lc:open:{c.id}")]], to=colleague), now=ctx.now())
        ctx.note(T.STAFF_LIVE_TRANSFERRED.format(id=c.id, name=to_staff.name))
        ctx.data.clear()
        return "staff.menu"

