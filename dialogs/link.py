"""Linking a citizen's Telegram, VK and console identities (R-2.1)."""
from __future__ import annotations

from core import channels as registry
from services import linking
import texts as T
from dialogs.context import NAV_MENU, Context, Step, step
from core.events import Button, Reply


def channel_list(channels: list[str]) -> str:
    return ", ".join(registry.title(c) for c in channels)


async def redeem(ctx: Context, code: str) -> bool:
    citizen = await linking.redeem(ctx.session, ctx.identity, code, ctx.now())
    if citizen == linking.OWN:
        ctx.note(T.LINK_OWN)
        return False
    if citizen is None:
        ctx.note(T.LINK_BAD)
        return False
    ctx.citizen = citizen
    channels = await linking.linked_channels(ctx.session, citizen.id)
    ctx.note(T.LINK_DONE.format(channels=channel_list(channels)))
    return True


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
        return "menu" if await redeem(ctx, text[:40]) else None
