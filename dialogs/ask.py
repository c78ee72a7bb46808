"""Questions in free text (R-5.1, R-5.5, R-5.6, R-5.11) and the two questions after every
consultation (R-5.12)."""
from __future__ import annotations

import texts as T
from core.events import Button, Reply
from dialogs.context import NAV_MENU, Context, Step, column, global_button, row_id, step
from services import consult

QUESTION_MAX = 1000
NEXT_LABELS = {"appeal": T.MENU_APPEAL, "visit": T.MENU_VISIT, "specialist": T.MENU_SPECIALIST,
               "callback": T.MENU_CALLBACK, "status": T.MENU_MINE}
NEXT_STEPS = {"appeal": "appeal.topic", "visit": "visit.topic", "callback": "cb.phone", "status": "mine"}


async def ask_question(ctx: Context, text: str) -> str | None:
    """Find the answer: the best one, up to three to choose from, a clarifying question, or
    nothing (then the question is kept, without personal data, for staff)."""
    knowledge = ctx.deps.knowledge
    if knowledge is None:
        ctx.note(T.USE_BUTTONS)
        return None
    text = text.strip()[:QUESTION_MAX]
    decision = knowledge.decide(text)
    ctx.data.clear()
    if decision.kind == "answer":
        return await open_answer(ctx, decision.matches[0].entry_id)
    if decision.kind == "choose":
        ctx.data["choices"] = [m.entry_id for m in decision.matches[:3]]
        ctx.data["question"] = consult.redact(text)
        return "ask.choose"
    if decision.kind == "vague":
        ctx.data["vague"] = True
        return "ask"
    await consult.keep_unanswered(ctx.session, channel=ctx.event.channel, text=text, now=ctx.now())
    return "ask.none"


async def open_answer(ctx: Context, entry_id: str) -> str | None:
    entry = ctx.deps.knowledge.get(entry_id) if ctx.deps.knowledge else None
    if entry is None:
        return None
    c = await consult.answered_from_base(ctx.session, citizen_id=ctx.citizen.id, channel=ctx.event.channel,
                                         entry=entry, now=ctx.now())
    ctx.data.clear()
    ctx.data.update(entry=entry.id, consultation_id=c.id)
    return "ask.answer"


async def next_step(ctx: Context, payload: str) -> str | None:
    """The buttons every answer screen shares: next steps, another question."""
    if payload == "ask:other":
        ctx.data.clear()
        return "ask"
    if payload.startswith("next:"):
        what = payload[5:]
        ctx.data.clear()
        if what == "specialist":
            from dialogs.live import start

            return await start(ctx)
        return NEXT_STEPS.get(what)
    return None


class QuestionStep(Step):
    """A screen where typing is a new question."""

    takes_text = True

    async def on_text(self, ctx: Context, text: str) -> str | None:
        return await ask_question(ctx, text)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        return await next_step(ctx, payload)


@step
class Ask(QuestionStep):
    name = "ask"

    async def show(self, ctx: Context) -> Reply:
        text = T.ASK_VAGUE if ctx.data.pop("vague", False) else T.ASK_PROMPT
        return Reply(text, [[Button(T.MENU, NAV_MENU)]])


@step
class Answer(QuestionStep):
    name = "ask.answer"

    async def show(self, ctx: Context) -> Reply:
        entry = ctx.deps.knowledge.get(ctx.data.get("entry", "")) if ctx.deps.knowledge else None
        if entry is None:
            return Reply(T.ASK_PROMPT, [[Button(T.MENU, NAV_MENU)]])
        if entry.within_powers:
            text = entry.reply()
            steps = [Button(NEXT_LABELS[n], f"next:{n}") for n in entry.next]
        else:  # say so plainly and name where to go
            text = T.ANSWER_OUTSIDE.format(answer=entry.reply(), refer_to=entry.refer_to)
            steps = []
        return Reply(f"{entry.title}\n\n{text}", [
            *column(steps), [Button(T.ANSWER_THANKS, "ask:thanks")],
            [Button(T.ANSWER_OTHER, "ask:other"), Button(T.MENU, "ask:leave")]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload in ("ask:thanks", "ask:leave"):  # asked when the citizen thanks or leaves
            ctx.data = {"consultation_id": ctx.data.get("consultation_id")}
            return "consult.q1"
        return await next_step(ctx, payload)


@step
class Choose(QuestionStep):
    name = "ask.choose"

    async def show(self, ctx: Context) -> Reply:
        kb = ctx.deps.knowledge
        entries = [e for e in (kb.get(i) for i in ctx.data.get("choices", [])) if e is not None] if kb else []
        buttons = [Button(e.title, f"kb:{e.id}") for e in entries]
        return Reply(T.ASK_CHOOSE, [*column(buttons), [Button(T.ASK_NONE_OF_THESE, "ask:none")],
                                    [Button(T.MENU, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("kb:") and payload[3:] in ctx.data.get("choices", []):
            return await open_answer(ctx, payload[3:])
        if payload == "ask:none":
            await consult.keep_unanswered(ctx.session, channel=ctx.event.channel,
                                          text=ctx.data.get("question", ""), now=ctx.now())
            return "ask.none"
        return await next_step(ctx, payload)


@step
class NoAnswer(QuestionStep):
    name = "ask.none"

    async def show(self, ctx: Context) -> Reply:
        buttons = [Button(NEXT_LABELS[n], f"next:{n}") for n in ("specialist", "callback", "appeal")]
        return Reply(T.ASK_NONE, [*column(buttons), [Button(T.ANSWER_OTHER, "ask:other"), Button(T.MENU, NAV_MENU)]])


# -- the two questions (R-5.12) ------------------------------------------------------------------

def answered_buttons(consultation_id: int) -> list[list[Button]]:
    return [[Button(T.Q_YES, f"cq:{consultation_id}:a:1"), Button(T.Q_NO, f"cq:{consultation_id}:a:0")]]


@step
class AskAnswered(Step):
    name = "consult.q1"

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.Q_ANSWERED, answered_buttons(ctx.data.get("consultation_id") or 0))


@step
class AskRating(Step):
    name = "consult.q2"

    async def show(self, ctx: Context) -> Reply:
        cid = ctx.data.get("consultation_id") or 0
        return Reply(T.Q_RATE, column([Button(T.Q_RATE_LABELS[n], f"cq:{cid}:r:{n}") for n in (3, 2, 1)]))


@global_button("cq:")
async def two_questions(ctx: Context, payload: str) -> str | None:
    """cq:<consultation>:a:<1|0> and cq:<consultation>:r:<3|2|1>, from a screen or a notice;
    only the citizen's own consultation is changed."""
    parts = payload.split(":")
    if len(parts) != 4 or row_id(parts[1]) is None or parts[2] not in ("a", "r") or parts[3] not in ("0", "1", "2", "3"):
        ctx.note(T.STALE_BUTTON)
        return "menu"
    cid, value = row_id(parts[1]), int(parts[3])
    if parts[2] == "a":
        c = await consult.record_answer(ctx.session, cid, ctx.citizen.id, answered=value == 1, now=ctx.now())
    else:
        c = await consult.record_answer(ctx.session, cid, ctx.citizen.id, rating=value, now=ctx.now())
    if c is None:
        ctx.note(T.Q_ALREADY)
        return "menu"
    if parts[2] == "a":
        ctx.data = {"consultation_id": cid}
        return "consult.q2"
    ctx.note(T.Q_THANKS)
    return "menu"
