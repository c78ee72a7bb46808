"""Main menu, help and contacts, FAQ, other agencies, status by number (R-5.1–R-5.3, R-5.11)."""
from __future__ import annotations

from services.profile import filled
from services import appeals
import texts as T
from dialogs.context import NAV_MENU, Context, Step, column, step
from core.events import Button, Reply
from dialogs import drafts
from dialogs.mine import appeal_card


@step
class MainMenu(Step):
    name = "menu"

    async def show(self, ctx: Context) -> Reply:
        waiting, draft_buttons = drafts.waiting(ctx)
        text = waiting + T.MENU_PROMPT
        if ctx.event.command == "start":
            text = T.WELCOME.format(agency=ctx.profile.agency.short_name) + "\n\n" + text
        buttons = [
            Button(T.MENU_APPEAL, "menu:appeal"),
            Button(T.MENU_MINE, "menu:mine"),
            Button(T.MENU_VISIT, "menu:visit"),
            Button(T.MENU_VISITS, "menu:visits"),
            Button(T.MENU_HELP, "menu:help"),
            Button(T.MENU_SETTINGS, "menu:settings"),
            Button(T.MENU_ASK, "menu:ask"),
            Button(T.MENU_SPECIALIST, "menu:live"),
        ]
        if ctx.staff:
            buttons.append(Button(T.STAFF_MODE, "menu:staff"))
        return Reply(text, [*draft_buttons, *column(buttons)])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "menu:live":
            from dialogs.live import start

            return await start(ctx)
        return {"menu:ask": "ask", "menu:appeal": "appeal.topic", "menu:mine": "mine", "menu:help": "help",
                "menu:settings": "settings", "menu:staff": "staff.menu",
                "menu:visit": "visit.topic", "menu:visits": "visit.mine"}.get(payload)

    async def on_text(self, ctx: Context, text: str) -> str | None:
        """Free text at the main menu is a question (R-5.1)."""
        from dialogs.ask import ask_question

        if text.lstrip().startswith("/"):  # an unknown command is not a question
            ctx.note(T.USE_BUTTONS)
            return None
        return await ask_question(ctx, text)


def hours_text(ctx: Context) -> str:
    h = ctx.profile.hours
    spans, start = [], h.opens
    for b_start, b_end in h.breaks:
        spans.append(f"{start:%H:%M}–{b_start:%H:%M}")
        start = b_end
    spans.append(f"{start:%H:%M}–{h.closes:%H:%M}")
    return "по будням " + " и ".join(spans)


def open_now_text(ctx: Context) -> str:
    cal = ctx.deps.calendar
    now = ctx.now()
    if cal.is_open(now):
        return T.OPEN_NOW
    nxt = cal.next_opening(now)
    return T.CLOSED_NOW.format(when=f"{nxt:%d.%m.%Y} в {nxt:%H:%M}")


@step
class Help(Step):
    name = "help"

    async def show(self, ctx: Context) -> Reply:
        p = ctx.profile
        contacts = "".join(template.format(**{key: value}) for template, key, value in (
            (T.HELP_ADDRESS, "address", p.office.address), (T.HELP_SITE, "site", p.agency.site),
            (T.HELP_EMAIL, "email", p.agency.email)) if filled(value))
        text = T.HELP.format(agency=p.agency.name, phone=p.agency.phone, contacts=contacts, hours=hours_text(ctx),
                             now=open_now_text(ctx))
        buttons = [Button(f.question, f"faq:{i}") for i, f in enumerate(p.faq)]
        if p.other_agencies:
            buttons.append(Button(T.OTHER_AGENCIES, "help:agencies"))
        return Reply(text + "\n\n" + T.HELP_COMMANDS, [*column(buttons), [Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "help:agencies":
            return "agencies"
        if payload.startswith("faq:"):
            ctx.data["faq"] = int(payload[4:])
            return "faq"
        return None


@step
class FaqAnswer(Step):
    name = "faq"

    async def show(self, ctx: Context) -> Reply:
        faq = ctx.profile.faq
        i = ctx.data.get("faq", 0)
        item = faq[i] if 0 <= i < len(faq) else None
        text = f"{item.question}\n\n{item.answer}" if item else T.MENU_PROMPT
        return Reply(text, [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])


@step
class OtherAgencies(Step):
    name = "agencies"

    async def show(self, ctx: Context) -> Reply:
        p = ctx.profile
        lines = [T.OTHER_AGENCY_LINE.format(name=a.name, handles=a.handles,
                                            contacts=a.contacts if filled(a.contacts) else "").rstrip()
                 for a in p.other_agencies]
        if not all(filled(a.contacts) for a in p.other_agencies):  # said once, not on every line
            lines.append("\n" + T.CONTACTS_LATER.format(phone=p.agency.phone))
        return Reply(T.OTHER_AGENCIES_TEXT.format(items="\n".join(lines)),
                     [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])


@step
class StatusLookup(Step):
    """/status <number>: only the citizen's own appeals are found."""

    name = "status"

    async def show(self, ctx: Context) -> Reply:
        query = (ctx.data.get("status_query") or "").strip()
        back = [[Button(T.MENU_MINE, "menu:mine"), Button(T.MENU, NAV_MENU)]]
        if not query:
            return Reply(T.STATUS_USAGE, back)
        mine = await appeals.of_citizen(ctx.session, ctx.citizen.id)
        found = appeals.by_short_number(mine, query)
        if found is not None:
            found = await appeals.owned(ctx.session, ctx.citizen.id, appeal_id=found.id)
            return Reply(appeal_card(ctx, found), back)
        if not any(ch.isdigit() for ch in query):  # a question, not a number: their appeals to choose from
            if not mine:
                return Reply(T.MINE_EMPTY, back)
            buttons = [Button(T.MINE_ITEM.format(number=a.number, status=T.STATUS_TITLES.get(a.status, a.status)),
                              f"ap:{a.id}") for a in mine]
            return Reply(T.STATUS_CHOOSE, [*column(buttons), *back])
        return Reply(T.STATUS_NOT_FOUND.format(number=query[:40]), back)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("ap:") and payload[3:].isdigit():
            ctx.data = {"appeal_id": int(payload[3:])}
            return "mine.card"
        return "mine" if payload == "menu:mine" else None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        ctx.data["status_query"] = text.strip()[:40]
        return None
