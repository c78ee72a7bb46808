"""Linking a citizen's messenger identities (R-2.1): the person whose records would move sees
what will be joined and confirms (issue 10 item 7)."""
from __future__ import annotations

from core import channels as registry
from services import linking
import texts as T
from dialogs.context import NAV_MENU, Context, Step, step
from core.events import Button, Reply

CONFIRM = "link.confirm"


def channel_list(channels: list[str]) -> str:
    return ", ".join(registry.title(c) for c in channels)


async def check(ctx: Context, code: str) -> str | None:
    """A typed code: the confirmation screen when it fits (its code kept in the flow), else a
    polite note and None."""
    found = await linking.check(ctx.session, ctx.identity, code, ctx.now())
    if found.status == linking.OWN:
        ctx.note(T.LINK_OWN)
    elif found.status == linking.LIMITED:
        ctx.note(T.LINK_TOO_MANY.format(when=ctx.when(found.retry_at)))
    elif found.status == linking.BAD:
        ctx.note(T.LINK_BAD)
    else:
        ctx.data["link"] = {"code": found.code, "appeals": found.appeals, "visits": found.visits,
                            "here": found.here, "there": found.there}
        return CONFIRM
    return None


@step
class LinkShow(Step):
    name = "link"

    async def show(self, ctx: Context) -> Reply:
        code = await linking.issue(ctx.session, ctx.citizen.id, ctx.now())
        channels = await linking.linked_channels(ctx.session, ctx.citizen.id)
        pretty = f"{code.code[:4]}-{code.code[4:]}"
        return Reply(T.LINK_SHOW.format(code=pretty, channels=channel_list(channels)),
                     [[Button(T.LINK_ENTER_BUTTON, "link:enter")], [Button(T.BACK, "nav:back"),
                                                                      Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        return "link.enter" if payload == "link:enter" else None


@step
class LinkEnter(Step):
    name = "link.enter"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.LINK_ASK, [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])

    async def on_text(self, ctx: Context, text: str) -> str | None:
        return await check(ctx, text[:40])


@step
class LinkConfirm(Step):
    name = CONFIRM

    async def show(self, ctx: Context) -> Reply:
        found = ctx.data.get("link") or {}
        text = T.LINK_CONFIRM.format(here=channel_list(found.get("here", [])), there=channel_list(found.get("there", [])),
                                     appeals=found.get("appeals", 0), visits=found.get("visits", 0))
        return Reply(text, [[Button(T.LINK_YES, "link:yes"), Button(T.LINK_NO, "link:quit")]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        code = (ctx.data.get("link") or {}).get("code")
        if payload == "link:quit" or not code:
            ctx.note(T.LINK_CANCELLED if code else T.STALE_BUTTON)
            return "menu"
        if payload != "link:yes":
            return None
        citizen = await linking.redeem(ctx.session, ctx.identity, code, ctx.now())
        if citizen is None or citizen == linking.OWN:  # used, expired or replaced since it was typed
            ctx.note(T.LINK_GONE)
            return "menu"
        ctx.citizen = citizen
        channels = await linking.linked_channels(ctx.session, citizen.id)
        ctx.note(T.LINK_DONE.format(channels=channel_list(channels)))
        return "menu"
