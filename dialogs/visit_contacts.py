"""Who comes to a visit (the newcomer issue, item 13): the name and a phone for the reception
desk, on the person's consent (152-FZ art. 9). Asked after the time is chosen; what is already
known is shown with an offer to change it. Without consent nothing is booked."""
from __future__ import annotations

import texts as T
from core.events import Button, Reply
from core.privacy import personal
from dialogs.appeal import checked_name
from dialogs.context import NAV_BACK, NAV_MENU, Context, column, step
from dialogs.visits import WizardStep, wizard_nav
from services import citizens
from services.addresses import parse_phone, phone_text
from services.profile import filled


def name_of(ctx: Context) -> str | None:
    return ctx.data.get("name") or ctx.citizen.full_name


def phone_of(ctx: Context) -> str | None:
    return ctx.data.get("phone") or ctx.citizen.phone


async def agreed(ctx: Context) -> bool:
    return bool(ctx.data.get("agreed")) or await citizens.visit_consent(
        ctx.session, ctx.citizen.id, T.VISIT_CONSENT_VERSION)


async def first_step(ctx: Context) -> str:
    """After the time: the known name and phone to confirm, or the first thing missing."""
    ctx.data.pop("editing", None)
    if ctx.data.get("name") and ctx.data.get("phone") and await agreed(ctx):
        return "visit.remind"  # confirmed in this booking already (the time was taken meanwhile)
    if name_of(ctx) and phone_of(ctx):
        return "visit.who"
    return await next_step(ctx)


async def next_step(ctx: Context) -> str:
    if ctx.data.pop("editing", None):
        return "visit.who"
    if not name_of(ctx):
        return "visit.name"
    if not phone_of(ctx):
        return "visit.phone"
    return "visit.remind" if await agreed(ctx) else "visit.consent"


def keep_button(ctx: Context, value: str, payload: str) -> list[list[Button]]:
    """The known value as a button; a foreign messenger sees a plain label (41-FZ)."""
    return [[Button(T.VISIT_KEEP if ctx.policy_hides() else value[:40], payload)]]


@step
class Who(WizardStep):
    name = "visit.who"

    async def show(self, ctx: Context) -> Reply:
        text = T.VISIT_WHO.format(name=personal(name_of(ctx), "name"), phone=personal(phone_text(phone_of(ctx)), "phone"))
        return Reply(text, [*column([Button(T.VISIT_WHO_OK, "vwho:ok"), Button(T.VISIT_WHO_NAME, "vwho:name"),
                                     Button(T.VISIT_WHO_PHONE, "vwho:phone")]), wizard_nav()], replace=True)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        if payload == "vwho:ok":
            ctx.data.pop("editing", None)  # back here from a change not made
            ctx.data["name"], ctx.data["phone"] = name_of(ctx), phone_of(ctx)
            return await next_step(ctx)
        if payload in ("vwho:name", "vwho:phone"):
            ctx.data["editing"] = True
            return f"visit.{payload[5:]}"
        return None


@step
class Name(WizardStep):
    name = "visit.name"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        known = name_of(ctx)
        return Reply(T.VISIT_ASK_NAME, [*(keep_button(ctx, known, "vname:keep") if known else []), wizard_nav()])

    async def choose(self, ctx: Context, payload: str) -> str | None:
        if payload == "vname:keep" and name_of(ctx):
            ctx.data["name"] = name_of(ctx)
            return await next_step(ctx)
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        name = checked_name(ctx, text)
        if name is None:
            return None
        ctx.data["name"] = name
        return await next_step(ctx)


@step
class Phone(WizardStep):
    name = "visit.phone"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        known = phone_of(ctx)
        keep = keep_button(ctx, phone_text(known), "vphone:keep") if known else []
        return Reply(T.VISIT_ASK_PHONE, [*keep, wizard_nav()])

    async def choose(self, ctx: Context, payload: str) -> str | None:
        if payload == "vphone:keep" and phone_of(ctx):
            ctx.data["phone"] = phone_of(ctx)
            return await next_step(ctx)
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        phone = parse_phone(text)
        if phone is None:
            ctx.note(T.VISIT_PHONE_BAD)
            return None
        ctx.data["phone"] = phone
        return await next_step(ctx)


@step
class Consent(WizardStep):
    name = "visit.consent"

    async def show(self, ctx: Context) -> Reply:
        url = ctx.profile.privacy.policy_url
        text = T.VISIT_CONSENT.format(agency=ctx.profile.agency.name, phone=personal(phone_text(phone_of(ctx)), "phone"),
                                      policy=T.PRIVACY_POLICY_LINE.format(url=url) if filled(url) else "")
        return Reply(text, [[Button(T.VISIT_CONSENT_YES, "vpd:yes")], [Button(T.VISIT_CONSENT_NO, "vpd:no")],
                            wizard_nav()], replace=True)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        if payload == "vpd:yes" and name_of(ctx) and phone_of(ctx):
            ctx.data["agreed"] = True
            return "visit.remind"
        if payload == "vpd:no":
            ctx.data.pop("agreed", None)
            return "visit.refused"
        return None


@step
class Refused(WizardStep):
    """No consent, no booking: said politely, with the way back and the phone."""

    name = "visit.refused"

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.VISIT_CONSENT_REFUSED.format(phone=ctx.profile.agency.phone),
                     [[Button(T.VISIT_CONSENT_BACK, NAV_BACK)], [Button(T.MENU, NAV_MENU)]], replace=True)


async def ready(ctx: Context) -> str | None:
    """Before booking: the step still to answer, or None when name, phone and consent are there."""
    if not (name_of(ctx) and phone_of(ctx) and await agreed(ctx)):
        return await next_step(ctx)
    return None


async def remember(ctx: Context) -> None:
    """After the booking: the name and phone become the person's, with the consent given."""
    await citizens.remember_visitor(ctx.session, ctx.citizen, name=name_of(ctx), phone=phone_of(ctx),
                                    version=T.VISIT_CONSENT_VERSION, channel=ctx.event.channel, at=ctx.now())
