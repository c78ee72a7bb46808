"""What a citizen does with a notice: rate a final answer (R-3.9), answer a clarifying
question (R-3.6). These buttons arrive outside a conversation, so each is checked here."""
from __future__ import annotations

import texts as T
from core.events import Button, Reply
from dialogs.appeal import accept_files
from dialogs.context import NAV_MENU, Context, Step, global_button, row_id, step
from services import appeals, lifecycle, ratings


def _ints(payload: str) -> list[int] | None:
    """The ids of a notice button; None for anything a row id cannot be (a stale or forged
    button): beyond int32, PostgreSQL's INTEGER, and SQLite would overflow past int64."""
    nums = [row_id(p) for p in payload.split(":")[1:]]
    return nums if nums and None not in nums else None


@global_button("rate:")
async def rate(ctx: Context, payload: str) -> str:
    nums = _ints(payload)
    appeal = await appeals.owned(ctx.session, ctx.citizen.id, appeal_id=nums[0]) if nums and len(nums) == 2 else None
    if appeal is None or appeal.status not in appeals.FINAL or nums[1] not in (1, 2, 3):
        ctx.note(T.RATE_UNKNOWN)
        return "menu"
    await ratings.rate_appeal(ctx.session, appeal, citizen_id=ctx.citizen.id, channel=ctx.event.channel,
                              score=nums[1], now=ctx.now())
    ctx.note(T.RATED)
    return "menu"


@global_button("clar:")
async def clarify(ctx: Context, payload: str) -> str:
    nums = _ints(payload)
    appeal = await appeals.owned(ctx.session, ctx.citizen.id, appeal_id=nums[0]) if nums else None
    if appeal is None:
        ctx.note(T.STALE_BUTTON)
        return "menu"
    if appeal.status != appeals.CLARIFICATION:
        ctx.note(T.CLARIFY_NOT_NEEDED.format(number=appeal.number))
        return "menu"
    ctx.data = {"appeal_id": appeal.id, "number": appeal.number}
    return "appeal.clarify"


@step
class Clarify(Step):
    name = "appeal.clarify"
    takes_text = True
    takes_files = True

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.CLARIFY_ASK.format(number=ctx.data.get("number", "")),
                     [[Button(T.CANCEL, "nav:cancel"), Button(T.MENU, NAV_MENU)]])

    async def on_files(self, ctx: Context) -> str | None:
        await accept_files(ctx)  # the same checks as in the wizard
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        text = text.strip()
        if not text:
            ctx.note(T.TEXT_EMPTY)
            return None
        appeal = await lifecycle.load(ctx.session, ctx.data.get("appeal_id", 0))
        if appeal is None or appeal.citizen_id != ctx.citizen.id or appeal.status != appeals.CLARIFICATION:
            ctx.note(T.CLARIFY_NOT_NEEDED.format(number=ctx.data.get("number", "")))
            return "menu"
        await lifecycle.act(ctx.session, appeal, "clarified", profile=ctx.profile, now=ctx.now(),
                            citizen_id=ctx.citizen.id, note=text[: ctx.profile.limits.appeal_text_max])
        await appeals.attach_files(ctx.session, ctx.data.get("files", []), ctx.citizen.id, appeal.id)
        ctx.note(T.NOTICE_CLARIFIED.format(number=appeal.number))
        return "menu"


