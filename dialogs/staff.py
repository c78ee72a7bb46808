"""Staff mode: the menu with queue counts, the queues, the appeal card (R-3.4–R-3.9)."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from core import channels as registry
from core.privacy import personal
from services import appeals, personal_data, staffdesk
from services.lifecycle import FINAL, OPEN
import texts as T
from dialogs.context import NAV_MENU, Context, Step, column, global_button, row_id, step
from core.events import Button, OutFile, Reply
from dialogs.appeal_rules import card_block, rule_buttons
from dialogs.mine import local, status_title
from services import citizens

if TYPE_CHECKING:
    from storage.models import Appeal, OutboxMessage

CARD_TEXT_LIMIT = 2500
CARD_FILES_LIMIT = 5


class StaffStep(Step):
    """Every staff screen re-checks the role on the server before doing anything."""

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if ctx.staff is None:
            ctx.note(T.STAFF_ONLY)
            return "menu"
        return await self.staff_button(ctx, payload)

    async def on_text(self, ctx: Context, text: str) -> str | None:
        if ctx.staff is None:
            ctx.note(T.STAFF_ONLY)
            return "menu"
        return await self.staff_text(ctx, text)

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        return None

    async def staff_text(self, ctx: Context, text: str) -> str | None:
        ctx.note(T.USE_BUTTONS)
        return None


def today(ctx: Context):
    return ctx.now().astimezone(ctx.deps.calendar.tz).date()


@step
class StaffMenu(StaffStep):
    name = "staff.menu"

    async def show(self, ctx: Context) -> Reply:
        n = await staffdesk.counts(ctx.session, ctx.staff, today(ctx))
        queues = {k: n[k] for k in staffdesk.QUEUES if k not in ("flagged", "redirect")}
        text = T.STAFF_MENU.format(name=ctx.staff.name, role=T.ROLE_TITLES.get(ctx.staff.role, ctx.staff.role),
                                   letters=n["letters"], failed=n["failed"], **queues)
        reports = [[Button(T.STAFF_REPORTS, "st:reports")]] if ctx.staff.role == "supervisor" else []
        from dialogs.callback import menu_part

        line_text, line_rows = await menu_part(ctx)
        return Reply(text + line_text, [
            [Button(T.STAFF_Q_NEW.format(n=n["new"]), "sq:new"), Button(T.STAFF_Q_MINE.format(n=n["mine"]), "sq:mine")],
            [Button(T.STAFF_Q_OVERDUE.format(n=n["overdue"]), "sq:overdue"),
             Button(T.STAFF_Q_SOON.format(n=n["soon"]), "sq:soon")],
            [Button(T.STAFF_Q_FLAGGED.format(n=n["flagged"]), "sq:flagged"),
             Button(T.STAFF_Q_REDIRECT.format(n=n["redirect"]), "sq:redirect")],
            [Button(T.STAFF_LETTERS.format(n=n["letters"]), "st:letters"),
             Button(T.STAFF_FAILED.format(n=n["failed"]), "st:failed")],
            [Button(T.STAFF_VISITS, "st:visits")],
            [Button(T.STAFF_PD_BUTTON.format(n=await personal_data.open_count(ctx.session)), "st:pd")],
            *reports,
            *line_rows,
            [Button(T.STAFF_CITIZEN_VIEW, "st:citizen")],
        ])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("sln:"):
            from dialogs.callback import menu_button

            return await menu_button(ctx, payload)
        if payload.startswith("sq:") and payload[3:] in staffdesk.QUEUES:
            ctx.data["queue"] = payload[3:]
            return "staff.queue"
        if payload == "st:reports" and ctx.staff.role == "supervisor":
            return "staff.reports"
        return {"st:letters": "staff.letters", "st:failed": "staff.failed", "st:visits": "staff.visits",
                "st:pd": "staff.data_requests", "st:citizen": "menu"}.get(payload)


@step
class StaffQueue(StaffStep):
    name = "staff.queue"

    async def show(self, ctx: Context) -> Reply:
        name = ctx.data.get("queue", "new")
        items = await staffdesk.queue(ctx.session, name, ctx.staff, today(ctx))
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        if not items:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        buttons = [Button(T.STAFF_ITEM.format(number=a.number, deadline=f"{a.deadline:%d.%m}")
                          + (T.STAFF_ITEM_MESSAGE if a.kind == "message" else ""), f"sc:{a.id}")
                   for a in items]
        return Reply(T.STAFF_QUEUE.format(title=T.STAFF_QUEUE_TITLES[name]), [*column(buttons), *nav])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("sc:") and payload[3:].isdigit():
            ctx.data["appeal_id"] = int(payload[3:])
            return "staff.card"
        return None


@global_button("sqn:")
async def open_new_queue(ctx: Context, payload: str) -> str | None:
    """From a grouped announcement of new appeals (issue 10 item 8); only staff get anywhere."""
    if ctx.staff is None:
        ctx.note(T.STAFF_ONLY)
        return "menu"
    ctx.data = {"queue": "new"}
    return "staff.queue"


@global_button("sc:")
async def open_card(ctx: Context, payload: str) -> str | None:
    """From a new-appeal announcement; only staff get anywhere."""
    if ctx.staff is None or row_id(payload[3:]) is None:
        ctx.note(T.STAFF_ONLY if ctx.staff is None else T.STALE_BUTTON)
        return "menu"
    ctx.data = {"appeal_id": row_id(payload[3:])}
    return "staff.card"


async def card_text(ctx: Context, appeal: Appeal) -> str:
    session, profile = ctx.session, ctx.profile
    topic, need = profile.topic(appeal.topic), profile.need(appeal.need)
    assignee = await staffdesk.get(session, appeal.assigned_staff_id)
    idents = await citizens.identities(session, appeal.citizen_id)
    channels = ", ".join(
        f"{registry.title(i.channel)}{'' if i.reachable else ' (недоступен: ' + (i.unreachable_reason or '') + ')'}"
        for i in idents)
    citizen = appeal.citizen if "citizen" in appeal.__dict__ else None
    contacts = ", ".join(filter(None, [getattr(citizen, "email", None), getattr(citizen, "phone", None)])) or T.STAFF_NONE
    failures = await staffdesk.failed_for_appeal(session, appeal.id)
    history = []
    for ev in appeal.events:
        who = T.STAFF_HISTORY_ACTOR.get(ev.actor, ev.actor)
        what = T.STAFF_HISTORY_ACTIONS.get(ev.action, ev.action)
        what += f" → {status_title(ev.status_to)}" if ev.status_to and ev.status_to != ev.status_from else ""
        note = T.ABUSE_WHY.get(ev.note, ev.note) if ev.action == "screened" else ev.note
        history.append(f"{local(ctx, ev.at)} {who}: {what}" + (f" — {note}" if note else ""))
    text = appeal.text if len(appeal.text) <= CARD_TEXT_LIMIT else appeal.text[:CARD_TEXT_LIMIT] + "…"
    redirect_by = appeal.registered_at + timedelta(days=profile.limits.redirect_days)
    email = appeal.answer_channel == "email"
    answer = (T.WHERE_EMAIL if email else T.WHERE_POST).format(
        address=personal(appeal.answer_address, "email" if email else "address"))
    return T.STAFF_CARD.format(
        number=appeal.number, status=status_title(appeal.status), topic=topic.title if topic else appeal.topic,
        need=need.title if need else appeal.need, deadline=f"{appeal.deadline:%d.%m.%Y}",
        extended=T.STAFF_EXTENDED if appeal.extended else "",
        redirect_by=f"{redirect_by.astimezone(ctx.deps.calendar.tz):%d.%m.%Y}",
        assignee=assignee.name if assignee else T.STAFF_NOBODY, name=personal(appeal.full_name, "name"), answer=answer,
        contacts=personal(contacts, "phone"), channels=channels or T.STAFF_NONE,
        abuse=await card_block(ctx, appeal),  # 59-FZ: kind, terms, 7 days, screen, repeats, clarification
        failures=T.STAFF_CARD_FAILURES.format(items="; ".join(f"{f.channel}: {f.last_error}" for f in failures))
        if failures else "",
        text=personal(text, "text"), files=personal(", ".join(f.file_name for f in appeal.files), "file") or T.STAFF_NONE,
        history=personal("\n".join(history), "text"),
    )


def action_buttons(ctx: Context, appeal: Appeal) -> list[list[Button]]:
    s, a = appeal.status, appeal.id
    rows: list[list[Button]] = []
    if s in OPEN and appeal.assigned_staff_id != ctx.staff.id:
        rows.append([Button(T.STAFF_TAKE, f"sa:take:{a}")])
    if s == appeals.IN_WORK:
        rows.append([Button(T.STAFF_ANSWER, f"sa:answer:{a}"), Button(T.STAFF_ASK, f"sa:ask:{a}")])
    if s in (appeals.REGISTERED, appeals.IN_WORK):
        rows.append([Button(T.STAFF_REDIRECT, f"sa:redirect:{a}"), Button(T.STAFF_REFUSE, f"sa:refuse:{a}")])
        rows.append([Button(T.STAFF_NOT_CONSIDER, f"sa:not_consider:{a}")])
    rows += rule_buttons(ctx, appeal)  # dialogs/appeal_rules.py
    if s in OPEN:
        row = [Button(T.STAFF_TRANSFER, f"sa:transfer:{a}")]
        if not appeal.extended:
            row.append(Button(T.STAFF_EXTEND, f"sa:extend:{a}"))
        rows.append(row)
    rows.append([Button(T.STAFF_RECLASSIFY, f"sa:reclassify:{a}")])
    if s in FINAL and ctx.staff.role == "supervisor":
        rows.append([Button(T.STAFF_REOPEN, f"sa:reopen:{a}")])
    if appeal.files:
        rows.append([Button(T.STAFF_FILES, f"sf:{a}")])
    return rows


@step
class StaffCard(StaffStep):
    name = "staff.card"

    async def show(self, ctx: Context) -> Reply:
        appeal = await appeals.for_staff(ctx.session, ctx.data.get("appeal_id", 0))
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        if ctx.policy_hides():  # a foreign messenger: no card with personal data (41-FZ)
            return Reply(T.STAFF_FOREIGN_CARD, nav)
        if appeal is None:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        files = []
        if ctx.data.pop("show_files", False):
            files = [OutFile(f.file_name, f.mime, ctx.deps.files.get(f.sha256)) for f in appeal.files[:CARD_FILES_LIMIT]]
        return Reply(await card_text(ctx, appeal), [*action_buttons(ctx, appeal), *nav], files=files)

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("sf:"):
            ctx.data["show_files"] = True
            return None
        if payload.startswith("sa:"):
            from dialogs.staff_actions import FIELDS, execute

            _, action, appeal_id = payload.split(":")
            if action not in FIELDS or not appeal_id.isdigit():
                return None
            if action == "take":  # nothing to ask
                await execute(ctx, action, int(appeal_id), {})
                return None
            ctx.data.update(action=action, appeal_id=int(appeal_id), pending={})
            return "staff.action"
        return None


async def appeal_numbers(ctx: Context, rows: list[OutboxMessage]) -> dict[int, str]:
    return await staffdesk.appeal_numbers(ctx.session, rows)


@step
class Letters(StaffStep):
    """Postal letters are tasks for staff (R-2.2: the mandatory channel is post)."""

    name = "staff.letters"

    async def show(self, ctx: Context) -> Reply:
        rows = await staffdesk.letters(ctx.session)
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        if not rows:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        numbers = await appeal_numbers(ctx, rows)
        items = "\n\n".join(T.STAFF_LETTER_ITEM.format(number=numbers.get(r.appeal_id, "—"),
                                                       address=personal(r.address, "address"),
                                                       text=personal(r.text[:500], "text")) for r in rows)
        ctx.data["letters"] = [r.id for r in rows]
        return Reply(T.STAFF_LETTERS_LIST.format(items=items), [[Button(T.STAFF_LETTER_SENT, "sl:sent")], *nav])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "sl:sent" and ctx.data.get("letters"):
            await staffdesk.mark_posted(ctx.session, ctx.data["letters"], staff=ctx.staff, now=ctx.now())
            ctx.data["letters"] = []
        return None


@step
class Failed(StaffStep):
    name = "staff.failed"

    async def show(self, ctx: Context) -> Reply:
        rows = await staffdesk.failed(ctx.session)
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        if not rows:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        numbers = await appeal_numbers(ctx, rows)
        items = "\n".join(T.STAFF_FAILED_ITEM.format(number=numbers.get(r.appeal_id, "—"), channel=r.channel,
                                                     error=r.last_error or "") for r in rows)
        buttons = [Button(numbers[r.appeal_id], f"sc:{r.appeal_id}") for r in rows if r.appeal_id in numbers]
        unique = list({b.payload: b for b in buttons}.values())
        return Reply(T.STAFF_FAILED_LIST.format(items=items), [*column(unique), *nav])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        return None  # "sc:" presses are global and open the card


