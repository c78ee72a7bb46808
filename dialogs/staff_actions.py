"""Staff actions on an appeal: a short form per action, a confirmation, then the state machine."""
from __future__ import annotations

import texts as T
from core.events import Reply
from dialogs.context import Context, column, paged, row_id, step
from dialogs.appeal import suggest
from dialogs.appeal_rules import late_day
from dialogs.staff import StaffStep
from services import lifecycle, staffdesk
from core.events import Button

TEXT_LIMIT = 4000
# What each action asks for, in order. Fields ending in "?" may be skipped.
FIELDS = {
    "take": [], "override": [], "reopen": [], "confirm_abuse": [],
    "court": ["text", "late_reason?"], "stop": ["text"],
    "answer": ["text"], "ask": ["text"],
    "redirect": ["agency", "text", "late_reason?"],  # a late one needs a reason (59-FZ art. 8 p. 3)
    "refuse": ["refusal", "extra?"],
    "not_consider": ["category"],
    "extend": ["days", "text"],
    "transfer": ["colleague", "note?"],
    "reclassify": ["topic", "need"],
}
DAYS = (7, 14, 30)
COLLEAGUES_PER_PAGE = 8  # eight rows, the paging row and «Отмена»: within VK's ten rows (Telegram: 100 buttons)


def missing(ctx: Context) -> str | None:
    pending = ctx.data.get("pending", {})
    return next((f for f in FIELDS.get(ctx.data.get("action"), []) if f.rstrip("?") not in pending), None)


async def execute(ctx: Context, action: str, appeal_id: int, pending: dict) -> None:
    """Apply the action; a refusal by the state machine is shown, never raised."""
    appeal = await lifecycle.load(ctx.session, appeal_id)
    if appeal is None:
        ctx.note(T.STAFF_QUEUE_EMPTY)
        return
    profile, kwargs = ctx.profile, {}
    if action == "refuse":
        template = next((r for r in profile.refusals if r.id == pending.get("refusal")), None)
        kwargs["note"] = "\n\n".join(filter(None, [template.text if template else "", pending.get("extra")]))
    elif action == "not_consider":
        kwargs["note"] = pending.get("category")
        if not appeal.abuse_category:
            appeal.abuse_category = pending.get("category")
    elif action == "redirect":
        kwargs.update(agency=pending.get("agency"), note=pending.get("text"), late_reason=pending.get("late_reason"))
    elif action == "court":
        kwargs.update(note=pending.get("text"), late_reason=pending.get("late_reason"))
    elif action == "extend":
        kwargs.update(days=pending.get("days"), note=pending.get("text"))
    elif action == "reclassify":
        kwargs.update(topic=pending.get("topic"), need=pending.get("need"))
    elif action == "transfer":
        kwargs.update(to_staff=await staffdesk.get(ctx.session, pending.get("colleague")), note=pending.get("note"))
    else:
        kwargs["note"] = pending.get("text")
    try:
        await lifecycle.act(ctx.session, appeal, action, profile=profile, now=ctx.now(), staff=ctx.staff,
                            deadline_for=ctx.deps.calendar.deadline, **kwargs)
    except lifecycle.IllegalMove as e:
        ctx.note(refusal_text(e))
        return
    if action == "transfer" and kwargs["to_staff"]:
        await lifecycle.tell_colleague(ctx.session, kwargs["to_staff"], appeal, by=ctx.staff,
                                       note=pending.get("note"), profile=profile, now=ctx.now())
    ctx.note(T.STAFF_DONE.format(action=T.STAFF_ACTION_TITLES[action]))


def refusal_text(e: lifecycle.IllegalMove) -> str:
    params = dict(e.params)
    if "status" in params:
        params["status_title"] = T.STATUS_TITLES.get(params["status"], params["status"])
    return T.MOVE_REFUSED[e.code].format(**params)


@step
class StaffAction(StaffStep):
    name = "staff.action"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        field = missing(ctx)
        cancel = [[Button(T.CANCEL, "nav:back")]]
        profile = ctx.profile
        if field == "late_reason?":  # asked only past the 7 days
            late = late_day(ctx, await lifecycle.load(ctx.session, ctx.data.get("appeal_id", 0)))
            if late:
                return Reply(T.STAFF_ASK_LATE_REASON.format(day=late), cancel)
            ctx.data["pending"]["late_reason"] = ""
            field = missing(ctx)
        if field == "text" and ctx.data["action"] in ("court", "stop"):
            return Reply(T.STAFF_ASK_COURT_NOTE if ctx.data["action"] == "court" else T.STAFF_ASK_STOP_NOTE, cancel)
        if field == "text" and ctx.data["action"] == "answer":
            canned = [Button(c.title, f"sv:canned:{i}") for i, c in enumerate(profile.canned_replies)]
            return Reply(T.STAFF_ASK_ANSWER, [*column(canned), *cancel])
        if field == "text" and ctx.data["action"] == "ask":
            return Reply(T.STAFF_ASK_QUESTION, cancel)
        if field == "agency":
            return Reply(T.STAFF_ASK_AGENCY, [*column([Button(a.name[:40], f"sv:agency:{i}")
                                                       for i, a in enumerate(profile.other_agencies)]), *cancel])
        if field == "text" and ctx.data["action"] == "redirect":
            return Reply(T.STAFF_ASK_REDIRECT_REASON.format(agency=ctx.data["pending"]["agency"]), cancel)
        if field == "refusal":
            return Reply(T.STAFF_ASK_REFUSAL, [*column([Button(r.title, f"sv:refusal:{r.id}")
                                                        for r in profile.refusals]), *cancel])
        if field == "extra?":
            template = next((r for r in profile.refusals if r.id == ctx.data["pending"]["refusal"]), None)
            return Reply(T.STAFF_ASK_REFUSAL_EXTRA.format(title=template.title if template else "—"),
                         [[Button(T.STAFF_NO_EXTRA, "sv:skip")], *cancel])
        if field == "category":
            return Reply(T.STAFF_ASK_ABUSE, [*column([Button(why.capitalize()[:40], f"sv:category:{key}")
                                                      for key, why in T.ABUSE_WHY.items()]), *cancel])
        if field == "days":
            return Reply(T.STAFF_ASK_DAYS, [[Button(f"+{d} дн.", f"sv:days:{d}") for d in DAYS], *cancel])
        if field == "text" and ctx.data["action"] == "extend":
            return Reply(T.STAFF_ASK_EXTEND_REASON, cancel)
        if field in ("topic", "need"):
            return await self._classification(ctx, field, cancel)
        if field == "colleague":
            others = await staffdesk.colleagues(ctx.session, ctx.staff)
            if not others:
                return Reply(T.STAFF_NO_COLLEAGUES, cancel)
            shown, pages, line = paged(others, ctx.data.get("colleague_page"), COLLEAGUES_PER_PAGE,
                                       "sv:cpage:prev", "sv:cpage:next")
            return Reply("\n".join(filter(None, [T.STAFF_ASK_COLLEAGUE, line])),
                         [*column([Button(o.name[:40], f"sv:colleague:{o.id}") for o in shown]),
                          *([pages] if pages else []), *cancel])
        if field == "note?":
            return Reply(T.STAFF_ASK_TRANSFER_NOTE, [[Button(T.STAFF_NO_NOTE, "sv:skip")], *cancel])
        return Reply(await self._summary(ctx), [[Button(T.STAFF_CONFIRM_OK, "sv:confirm")], *cancel])

    async def _classification(self, ctx: Context, field: str, cancel) -> Reply:
        """Topic, then need (R-3.3): the current one is marked, the one the text suggests comes first."""
        appeal = await lifecycle.load(ctx.session, ctx.data.get("appeal_id", 0))
        choices = ctx.profile.topics if field == "topic" else ctx.profile.needs
        current = getattr(appeal, field, None)
        suggested = suggest(choices, appeal.text if appeal else "")
        ordered = sorted(choices, key=lambda c: c.id != suggested)
        buttons = [Button((T.STAFF_CURRENT if c.id == current else "") + c.title, f"sv:{field}:{c.id}") for c in ordered]
        title = next((c.title for c in choices if c.id == current), "—")
        ask = T.STAFF_ASK_TOPIC if field == "topic" else T.STAFF_ASK_NEED
        return Reply(ask.format(current=title), [*column(buttons), *cancel])

    async def _summary(self, ctx: Context) -> str:
        appeal = await lifecycle.load(ctx.session, ctx.data.get("appeal_id", 0))
        pending = ctx.data.get("pending", {})
        details = []
        for key, value in pending.items():
            if key == "colleague":
                member = await staffdesk.get(ctx.session, value)
                value = member.name if member else value
            if key == "refusal":
                value = next((r.text for r in ctx.profile.refusals if r.id == value), value)
            if key == "category":
                value = T.ABUSE_WHY.get(value, value)
            if key == "topic":
                value = T.STAFF_NEW_TOPIC.format(title=getattr(ctx.profile.topic(value), "title", value))
            if key == "need":
                value = T.STAFF_NEW_NEED.format(title=getattr(ctx.profile.need(value), "title", value))
            if value not in (None, ""):
                details.append(str(value))
        text = T.STAFF_CONFIRM.format(number=appeal.number if appeal else "—",
                                      action=T.STAFF_CONFIRM_TITLES.get(ctx.data.get("action"), ""),
                                      details="\n\n".join(details))
        return f"{text}\n\n{T.STAFF_CONFIRM_ADD}" if "text" in pending else text

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        pending, field = ctx.data.setdefault("pending", {}), missing(ctx)
        kind, _, value = payload.partition(":")[2].partition(":")
        if payload == "sv:confirm" and field is None:
            await execute(ctx, ctx.data["action"], ctx.data["appeal_id"], pending)
            return "staff.card"
        if payload == "sv:skip" and field and field.endswith("?"):
            pending[field.rstrip("?")] = ""
        elif kind == "canned" and value.isdigit() and int(value) < len(ctx.profile.canned_replies):
            pending["text"] = ctx.profile.canned_replies[int(value)].text
        elif kind == "agency" and value.isdigit() and int(value) < len(ctx.profile.other_agencies):
            pending["agency"] = ctx.profile.other_agencies[int(value)].name
        elif kind == "topic" and ctx.profile.topic(value):
            pending["topic"] = value
        elif kind == "need" and ctx.profile.need(value):
            pending["need"] = value
        elif kind in ("refusal", "category"):
            pending[kind] = value
        elif kind == "days" and value.isdigit():
            pending["days"] = int(value)
        elif kind == "cpage" and field == "colleague":  # the list of colleagues comes in pages
            ctx.data["colleague_page"] = int(ctx.data.get("colleague_page") or 0) + (1 if value == "next" else -1)
        elif kind == "colleague" and row_id(value) is not None:
            member = await staffdesk.get(ctx.session, row_id(value))
            if member is None or not member.active or member.id == ctx.staff.id:  # removed meanwhile
                ctx.note(T.STAFF_COLLEAGUE_GONE)
            else:
                pending["colleague"] = member.id
        return None

    async def staff_text(self, ctx: Context, text: str) -> str | None:
        field = missing(ctx)
        if field is None and "text" in ctx.data.get("pending", {}):
            field, text = "text", f"{ctx.data['pending']['text'].rstrip()} {text.strip()}"  # adds to a template
        if field not in ("text", "extra?", "note?", "late_reason?"):
            ctx.note(T.USE_BUTTONS)
            return None
        text = text.strip()
        if not text:
            ctx.note(T.TEXT_EMPTY)
            return None
        if len(text) > TEXT_LIMIT:
            ctx.note(T.STAFF_TEXT_TOO_LONG.format(limit=TEXT_LIMIT))
            return None
        ctx.data["pending"][field.rstrip("?")] = text
        return None
