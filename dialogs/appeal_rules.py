"""Identification in the chat, withdrawal from «Мои обращения», and what the staff card adds
under 59-FZ as amended by 547-FZ (kinds, terms, the 7-day limits, the screen, repeats,
clarifications)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import texts as T
from core.events import Button, Reply
from core.privacy import personal
from dialogs.context import NAV_MENU, Context, Step, global_button, row_id, step
from services import appeal_rules, appeals, lifecycle, personal_data, verification
from services.identification import IdentificationError
from services.profile import filled

if TYPE_CHECKING:
    from storage.models import Appeal

log = logging.getLogger(__name__)
IDENTIFY = "idv:start"


def identify_button() -> Button:
    return Button(T.IDENTIFY_BUTTON, IDENTIFY)


async def over_limit(ctx: Context) -> bool:
    """Appeals per citizen per hour and per day (the profile's limits, issue 10 item 8): over
    either, a note says when this one can go."""
    limits = ctx.profile.limits
    over = await appeals.too_many(ctx.session, ctx.citizen.id, per_hour=limits.appeals_per_hour,
                                  per_day=limits.appeals_per_day, now=ctx.now())
    if over is not None:
        template = T.APPEALS_PER_DAY if over.per == "day" else T.APPEALS_PER_HOUR
        ctx.note(template.format(count=over.count, when=ctx.when(over.again)))
    return over is not None


def form_suffix(ctx: Context) -> str:
    url = ctx.profile.appeal_form_url
    return T.IDENTIFY_FORM.format(url=url) if filled(url) else ""


async def verified_as(ctx: Context) -> str | None:
    """As whom the person is identified (None: not identified), cached on the hot path."""
    return await ctx.fact("verified_as", lambda: appeal_rules.verified_as(ctx.session, ctx.citizen.id))


async def kind(ctx: Context) -> str:
    """An appeal under 59-FZ from an identified citizen, else a message (art. 4, 7)."""
    return appeals.APPEAL if await verified_as(ctx) is not None else appeals.MESSAGE


PRIVACY_SEEN = personal_data.seen_fact(personal_data.PRIVACY_NOTICE, T.PRIVACY_NOTICE_VERSION)


async def privacy_seen(ctx: Context) -> bool:
    """Whether the person saw this version of the privacy notice (152-FZ art. 14, 18)."""
    return await ctx.fact(PRIVACY_SEEN, lambda: personal_data.has_seen(
        ctx.session, ctx.citizen.id, personal_data.PRIVACY_NOTICE, T.PRIVACY_NOTICE_VERSION))


async def privacy_shown(ctx: Context) -> None:
    """The version of the notice this person saw, recorded (152-FZ art. 18)."""
    seen = {"text": personal_data.PRIVACY_NOTICE, "version": T.PRIVACY_NOTICE_VERSION,
            "channel": ctx.event.channel, "at": ctx.now()}
    await ctx.record("shown", seen, lambda: personal_data.shown(ctx.session, ctx.citizen.id, *seen.values()))
    ctx.facts[PRIVACY_SEEN] = True


async def identified_line(ctx: Context) -> str:
    name = await verified_as(ctx)
    return T.IDENTIFIED_AS.format(name=name) if name is not None else T.IDENTIFIED_NOT


@global_button("idv:")
async def identify(ctx: Context, payload: str) -> str | None:
    """The one-time link to the identity provider; the current screen stays."""
    service = ctx.deps.identification
    if service is None or not service.enabled:
        ctx.note(T.IDENTIFY_OFF.format(form=form_suffix(ctx)))
        return None
    try:
        url = await verification.start_link(service, ctx.session, citizen_id=ctx.citizen.id,
                                            channel=ctx.event.channel, user_id=ctx.event.user_id,
                                            public_base_url=ctx.deps.public_base_url)
    except IdentificationError as e:
        log.warning("identification link not made: %s", e.code)
        ctx.note(T.IDENTIFY_FAILED)
        return None
    ctx.note(T.IDENTIFY_LINK.format(url=url))
    return None


def kind_line(ctx: Context, appeal: Appeal) -> str:
    if appeal.kind == appeals.APPEAL:
        return T.REGISTERED_APPEAL
    return T.REGISTERED_MESSAGE.format(form=form_suffix(ctx))


# ------------------------------------------------------------------ withdrawal by the citizen
def withdraw_buttons(appeal: Appeal) -> list[list[Button]]:
    return [[Button(T.WITHDRAW_BUTTON, f"wd:{appeal.id}")]] if appeal.status in lifecycle.OPEN else []


@global_button("wd:")
async def withdraw(ctx: Context, payload: str) -> str | None:
    appeal_id = row_id(payload[3:])
    appeal = await appeals.owned(ctx.session, ctx.citizen.id, appeal_id=appeal_id) if appeal_id is not None else None
    if appeal is None:
        ctx.note(T.STALE_BUTTON)
        return "menu"
    if appeal.status not in lifecycle.OPEN:
        ctx.note(T.WITHDRAW_TOO_LATE.format(number=appeal.number))
        return None
    ctx.data = {"appeal_id": appeal.id, "number": appeal.number}
    return "mine.withdraw"


@step
class Withdraw(Step):
    name = "mine.withdraw"

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.WITHDRAW_CONFIRM.format(number=ctx.data.get("number", "")),
                     [[Button(T.WITHDRAW_YES, "wdy:yes")], [Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload != "wdy:yes":
            return None
        appeal = await lifecycle.load(ctx.session, ctx.data.get("appeal_id", 0))
        if appeal is None or appeal.citizen_id != ctx.citizen.id:
            ctx.note(T.STALE_BUTTON)
            return "menu"
        try:
            await lifecycle.act(ctx.session, appeal, "withdraw", profile=ctx.profile, now=ctx.now(),
                                citizen_id=ctx.citizen.id)
        except lifecycle.IllegalMove:
            ctx.note(T.WITHDRAW_TOO_LATE.format(number=appeal.number))
            return "mine"
        ctx.note(T.WITHDRAWN_DONE.format(number=appeal.number))
        return "mine"


# ------------------------------------------------------------------ the staff card
async def card_block(ctx: Context, appeal: Appeal) -> str:
    """Lines the staff card shows above the text: kind, terms, limits, screen, repeats, clarification."""
    today = ctx.now().astimezone(ctx.deps.calendar.tz).date()
    facts = await appeal_rules.card_facts(ctx.session, appeal, today)
    lines = [T.STAFF_KIND.format(kind=T.KIND_TITLES.get(facts.kind, facts.kind))]
    if facts.statutory and facts.statutory != appeal.deadline:
        lines.append(T.STAFF_STATUTORY.format(day=f"{facts.statutory:%d.%m.%Y}", shown=f"{appeal.deadline:%d.%m.%Y}"))
    if facts.redirect == "soon":
        lines.append(T.STAFF_REDIRECT_SOON.format(day=f"{appeal.redirect_by:%d.%m.%Y}"))
    elif facts.redirect == "late":
        lines.append(T.STAFF_REDIRECT_LATE.format(day=f"{appeal.redirect_by:%d.%m.%Y}"))
    if appeal.screen_state == appeals.FLAGGED:
        lines.append(T.STAFF_SCREENED.format(why=T.ABUSE_WHY.get(appeal.abuse_category or "", ""),
                                             fragment=personal(appeal.abuse_fragment or "", "text")))
    elif appeal.abuse_category:
        lines.append(T.STAFF_CARD_ABUSE.format(why=T.ABUSE_WHY.get(appeal.abuse_category, ""),
                                               fragment=personal(appeal.abuse_fragment or "", "text")))
    if facts.repeats:
        items = ", ".join(T.STAFF_REPEAT_ITEM.format(number=a.number, status=T.STATUS_TITLES.get(a.status, a.status))
                          for a in facts.repeats)
        lines.append(T.STAFF_REPEATS.format(items=items))
    if facts.question:
        answer = personal(facts.answer, "text") or T.STAFF_NO_ANSWER_YET
        lines.append(T.STAFF_CLARIFICATION.format(question=personal(facts.question, "text"), answer=answer))
    return "".join(lines)


def rule_buttons(ctx: Context, appeal: Appeal) -> list[list[Button]]:
    s, a, rows = appeal.status, appeal.id, []
    if appeal.screen_state == appeals.FLAGGED and s in lifecycle.EARLY:
        rows.append([Button(T.STAFF_CONFIRM_ABUSE, f"sa:confirm_abuse:{a}")])
        rows.append([Button(T.STAFF_OVERRIDE_SCREEN, f"sa:override:{a}")])
    if s in lifecycle.EARLY:
        rows.append([Button(T.STAFF_COURT, f"sa:court:{a}")])
        if appeal.repeat_of_id and ctx.staff.role == "supervisor":
            rows.append([Button(T.STAFF_STOP, f"sa:stop:{a}")])
    return rows


def late_day(ctx: Context, appeal: Appeal | None) -> str | None:
    """The passed 7-day limit as dd.mm.yyyy, or None when a redirect is still in time."""
    if appeal is None:
        return None
    today = ctx.now().astimezone(ctx.deps.calendar.tz).date()
    return f"{appeal.redirect_by:%d.%m.%Y}" if appeal_rules.redirect_state(appeal, today) == "late" else None
