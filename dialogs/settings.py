"""Settings: where notices go (R-2.1) and the mailing consent (R-4.1)."""
from __future__ import annotations

from services import citizens
import texts as T
from dialogs.appeal import notify_label
from dialogs.appeal_rules import identified_line, identify_button
from dialogs.context import NAV_MENU, Context, Step, column, step
from core import channels
from core.events import Button, Reply
from core.privacy import personal


@step
class Settings(Step):
    name = "settings"

    async def show(self, ctx: Context) -> Reply:
        c = ctx.citizen
        mailing = await citizens.active_consent(ctx.session, c.id, citizens.MAILING)
        text = T.SETTINGS.format(notify=notify_label(c.notify_channel),
                                 mailing=T.MAILING_ON if mailing else T.MAILING_OFF)
        text = f"{text}\n{await identified_line(ctx)}"
        buttons = []
        here = ctx.event.channel
        if channels.is_messenger(here) and c.notify_channel != here:
            buttons.append(Button(T.NOTIFY_HERE, "set:notify:here"))
        if c.email and c.notify_channel != "email":
            buttons.append(Button(T.NOTIFY_EMAIL, "set:notify:email"))
        if c.notify_channel:
            buttons.append(Button(T.NOTIFY_OFF, "set:notify:off"))
        buttons.append(Button(T.MAILING_WITHDRAW, "set:mailing:off") if mailing
                       else Button(T.MAILING_GRANT, "set:mailing:on"))
        buttons.append(Button(T.LINK_BUTTON, "set:link"))
        buttons.append(identify_button())
        return Reply(text, [*column(buttons), [Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        c = ctx.citizen
        if payload == "set:link":
            return "link"
        if payload.startswith("set:notify:"):
            choice = payload.rsplit(":", 1)[1]
            await citizens.set_notify(ctx.session, c, {"here": ctx.event.channel, "email": "email"}.get(choice))
            ctx.note(T.NOTIFY_SET.format(notify=notify_label(c.notify_channel)))
        elif payload == "set:mailing:off":
            await citizens.withdraw(ctx.session, c.id, citizens.MAILING, ctx.now())
            ctx.note(T.MAILING_WITHDRAWN)
        elif payload == "set:mailing:on":
            if not c.email:
                ctx.note(T.MAILING_NEEDS_EMAIL)
            else:
                await citizens.grant(ctx.session, c.id, citizens.MAILING, ctx.event.channel, ctx.now())
                ctx.note(T.MAILING_GRANTED.format(email=personal(c.email, "email")))
        await citizens.save(ctx.session)
        return None
