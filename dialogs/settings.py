"""Settings: where notices go (R-2.1), the mailing consent (R-4.1: asked with its text, an
address confirmed by a code sent to it, withdrawn in one step) and «Мои данные» (152-FZ art. 14)."""
from __future__ import annotations

from services import citizens, mailing, notices, personal_data
import texts as T
from dialogs.appeal import notify_label
from dialogs.appeal_rules import identified_line, identify_button
from dialogs.context import NAV_MENU, Context, Step, column, step
from core import channels
from core.events import Button, OutFile, Reply
from core.privacy import personal


@step
class Settings(Step):
    name = "settings"

    async def show(self, ctx: Context) -> Reply:
        c = ctx.citizen
        consent = await citizens.active_consent(ctx.session, c.id, citizens.MAILING)
        text = T.SETTINGS.format(notify=notify_label(c.notify_channel),
                                 mailing=T.MAILING_ON if consent else T.MAILING_OFF)
        text = f"{text}\n{await identified_line(ctx)}"
        buttons = []
        here = ctx.event.channel
        if channels.is_messenger(here) and c.notify_channel != here:
            buttons.append(Button(T.NOTIFY_HERE, "set:notify:here"))
        if c.email and c.notify_channel != "email":
            buttons.append(Button(T.NOTIFY_EMAIL, "set:notify:email"))
        if c.notify_channel:
            buttons.append(Button(T.NOTIFY_OFF, "set:notify:off"))
        buttons.append(Button(T.MAILING_WITHDRAW, "set:mailing:off") if consent
                       else Button(T.MAILING_GRANT, "set:mailing:on"))
        buttons.append(Button(T.MY_DATA_BUTTON, "set:mydata"))
        buttons.append(Button(T.LINK_BUTTON, "set:link"))
        buttons.append(identify_button())
        return Reply(text, [*column(buttons), [Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        c = ctx.citizen
        if payload == "set:link":
            return "link"
        if payload == "set:mydata":
            return "settings.mydata"
        if payload.startswith("set:notify:"):
            choice = payload.rsplit(":", 1)[1]
            await citizens.set_notify(ctx.session, c, {"here": ctx.event.channel, "email": "email"}.get(choice))
            ctx.note(T.NOTIFY_SET.format(notify=notify_label(c.notify_channel)))
        elif payload == "set:mailing:off":  # one step, at once (R-4.1, 152-FZ art. 9 part 2)
            await mailing.unsubscribe(ctx.session, c.id, ctx.event.channel, ctx.now())
            ctx.note(T.MAILING_WITHDRAWN)
        elif payload == "set:mailing:on":
            return "settings.mailing" if c.email else "settings.mailing_email"
        await citizens.save(ctx.session)
        return None


def consent_text(ctx: Context) -> str:
    return T.MAILING_CONSENT_TEXT.format(agency=ctx.profile.agency.name)


@step
class MailingConsent(Step):
    """The consent text and the known address: yes, or another address."""

    name = "settings.mailing"

    async def show(self, ctx: Context) -> Reply:
        text = T.MAILING_CONSENT_ASK.format(consent=consent_text(ctx), email=personal(ctx.citizen.email, "email"))
        return Reply(text, [[Button(T.MAILING_CONSENT_YES, "mail:yes")], [Button(T.MAILING_OTHER_EMAIL, "mail:other")],
                            [Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "mail:other":
            return "settings.mailing_email"
        if payload != "mail:yes":
            return None
        await personal_data.shown(ctx.session, ctx.citizen.id, personal_data.MAILING_CONSENT, T.MAILING_CONSENT_VERSION,
                                  ctx.event.channel, ctx.now())
        await mailing.subscribe(ctx.session, ctx.citizen.id, ctx.citizen.email, ctx.event.channel, ctx.now())
        ctx.note(T.MAILING_GRANTED.format(email=personal(ctx.citizen.email, "email")))
        return "settings"


@step
class MailingEmail(Step):
    """A new address: a code is sent to it (through the outbox) before the consent is recorded."""

    name = "settings.mailing_email"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.MAILING_ASK_EMAIL.format(consent=consent_text(ctx)),
                     [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])

    async def on_text(self, ctx: Context, text: str) -> str | None:
        address = mailing.valid_email(text.strip()[:254])
        if address is None:
            ctx.note(T.MAILING_BAD_EMAIL)
            return None
        await personal_data.shown(ctx.session, ctx.citizen.id, personal_data.MAILING_CONSENT, T.MAILING_CONSENT_VERSION,
                                  ctx.event.channel, ctx.now())
        await mailing.send_code(ctx.session, notices.Renderer(ctx.profile), ctx.citizen.id, address, ctx.now())
        ctx.note(T.MAILING_CODE_SENT.format(email=personal(address, "email")))
        return "settings.mailing_code"


@step
class MailingCode(Step):
    name = "settings.mailing_code"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.MAILING_CODE_ASK, [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])

    async def on_text(self, ctx: Context, text: str) -> str | None:
        result = await mailing.confirm_code(ctx.session, ctx.citizen.id, text[:12], ctx.event.channel, ctx.now())
        if result == "wrong":
            ctx.note(T.MAILING_BAD_CODE)
            return None
        if result == "expired":
            ctx.note(T.MAILING_CODE_EXPIRED)
            return "settings"
        consent = await citizens.active_consent(ctx.session, ctx.citizen.id, citizens.MAILING)
        ctx.note(T.MAILING_GRANTED.format(email=personal(consent.address, "email")))
        return "settings"


@step
class MyData(Step):
    """What is held about the person (152-FZ art. 14) and the export as files."""

    name = "settings.mydata"

    async def show(self, ctx: Context) -> Reply:
        data = await personal_data.held(ctx.session, ctx.citizen.id)
        summary = personal(personal_data.summary(data), "text")
        if ctx.policy_hides():  # a foreign messenger: not the data itself (41-FZ)
            summary = T.PD_READ_ELSEWHERE
        rows = [[Button(T.MY_DATA_EXPORT, "pd:export")]]
        if await citizens.active_consent(ctx.session, ctx.citizen.id, citizens.VISIT_CONTACTS):
            rows.append([Button(T.VISIT_CONSENT_WITHDRAW, "pd:visit_off")])
        return Reply(summary, [*rows, [Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "pd:visit_off":  # 152-FZ art. 9 part 2: withdrawn in one step
            if await citizens.withdraw_visit_consent(ctx.session, ctx.citizen, ctx.now(), ctx.event.channel):
                ctx.note(T.VISIT_CONSENT_WITHDRAWN)
            return None
        if payload != "pd:export":
            return None
        made = await personal_data.export(ctx.session, ctx.citizen.id, ctx.profile, ctx.deps.calendar,
                                          ctx.event.channel, ctx.now())
        await personal_data.done(ctx.session, made.request_id, ctx.now())
        ctx.data["request"], ctx.data["due"] = made.request_id, made.due.isoformat()
        return "settings.mydata_sent"


@step
class MyDataSent(Step):
    """The files, in the person's own chat (as the request came from it)."""

    name = "settings.mydata_sent"

    async def show(self, ctx: Context) -> Reply:
        from datetime import date

        request = ctx.data.get("request", 0)
        made = await personal_data.files_for(ctx.session, ctx.citizen.id, ctx.profile, request,
                                             date.fromisoformat(ctx.data.get("due", ctx.now().date().isoformat())),
                                             ctx.now())
        files = [OutFile(f"my-data-{request}.json", "application/json", made.json),
                 OutFile(f"my-data-{request}.txt", "text/plain", made.summary)]
        return Reply(T.MY_DATA_SENT.format(request=request), [[Button(T.MENU, NAV_MENU)]], files=files)
