"""«My appeals»: the citizen's own appeals with status and history (R-5.1)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.privacy import personal
from services import appeals
from services.notices import rating_buttons
import texts as T
from dialogs.appeal_rules import withdraw_buttons
from dialogs.context import NAV_MENU, Context, Step, column, step
from core.events import Button, Reply

if TYPE_CHECKING:
    from storage.models import Appeal

SAID = ("ask", "clarified", "answer", "refuse")  # history entries whose words the citizen reads


def local(ctx: Context, moment) -> str:
    tz = ctx.deps.calendar.tz
    return f"{moment.astimezone(tz):%d.%m.%Y %H:%M}"


def status_title(status: str) -> str:
    return T.STATUS_TITLES.get(status, status)


def appeal_card(ctx: Context, appeal: Appeal) -> str:
    topic = ctx.profile.topic(appeal.topic)
    lines = []
    for ev in appeal.events:
        if ev.action in T.HIDDEN_ACTIONS or (ev.action == "take" and ev.status_from == ev.status_to):
            continue
        what = T.ACTION_TITLES.get(ev.action)
        if what is None:
            what = status_title(ev.status_to) if ev.status_to else ev.action
        elif "{note}" in what:
            what = what.format(note=T.ABUSE_WHY.get(ev.note or "", ev.note or ""))
        if ev.action in SAID and ev.note:  # what was said, not only that something was (issue 11, item 15)
            what = f"{what}: «{personal(ev.note, 'text')}»"
        lines.append(T.HISTORY_LINE.format(at=local(ctx, ev.at), what=what))
    return T.APPEAL_CARD.format(
        number=appeal.number, topic=topic.title if topic else appeal.topic,
        status=status_title(appeal.status), registered=local(ctx, appeal.registered_at),
        deadline=f"{appeal.deadline:%d.%m.%Y}", history="\n".join(lines),
    )


@step
class MyAppeals(Step):
    name = "mine"

    async def show(self, ctx: Context) -> Reply:
        items = await ctx.listing("appeals", lambda: appeals.listed(ctx.session, ctx.citizen.id))
        if not items:
            return Reply(T.MINE_EMPTY, [[Button(T.MENU_APPEAL, "menu:appeal"), Button(T.MENU, NAV_MENU)]])
        buttons = [
            Button(T.MINE_ITEM.format(number=a.number, status=status_title(a.status)), f"ap:{a.id}")
            for a in items
        ]
        return Reply(T.MINE_LIST, [*column(buttons), [Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "menu:appeal":
            return "appeal.topic"
        if payload.startswith("ap:") and payload[3:].isdigit():
            ctx.data["appeal_id"] = int(payload[3:])
            return "mine.card"
        return None


@step
class AppealCardStep(Step):
    name = "mine.card"

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        found = await appeals.owned(ctx.session, ctx.citizen.id, appeal_id=ctx.data.get("appeal_id"))
        if found is None:  # not theirs, or gone: never show another person's appeal
            return Reply(T.STATUS_NOT_FOUND.format(number="—"), nav)
        text, extra = appeal_card(ctx, found), []
        if found.status == appeals.CLARIFICATION:
            extra = [[Button(T.ANSWER_CLARIFICATION, f"clar:{found.id}")]]
        elif found.status in appeals.FINAL:
            text += "\n\n" + T.RATE_PROMPT
            extra = rating_buttons(found.id)
        extra = [*extra, *withdraw_buttons(found)]
        return Reply(text, [*extra, *nav])
