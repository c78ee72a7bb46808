"""The new-appeal wizard (R-2.1, R-2.2, R-3.3, R-3.4): topic, need, text and files, name,
answer address, additional channel, consent, summary, registration."""
from __future__ import annotations

import texts as T
from core import channels
from core.events import Button, Reply
from core.privacy import personal
from dialogs import drafts
from dialogs.appeal_files import accept_files, save_file  # noqa: F401  (used by other flows too)
from dialogs import appeal_rules as rules
from dialogs.appeal_rules import identify_button, kind_line, over_limit
from dialogs.context import NAV_MENU, Context, Step, column, nav_row, step
from services import appeal_rules, appeals, citizens, deadlines, lifecycle, personal_data
from services.addresses import parse_name

SUMMARY_TEXT_PREVIEW = 1500


def after(ctx: Context, natural: str) -> str:
    """The next step, or back to the summary when the citizen is editing one field."""
    return ctx.data.pop("return_to", None) or natural


def pairs(buttons: list[Button]) -> list[list[Button]]:
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def suggest(choices, text: str) -> str | None:
    """The choice whose keywords the text mentions most, or None."""
    low = f" {text.casefold().replace('ё', 'е')} "
    scores = {c.id: sum(low.count(k) for k in c.keywords) for c in choices}
    best = max(scores, key=scores.get, default=None)
    return best if best and scores[best] > 0 else None


def suggest_topic(ctx: Context, text: str) -> str | None:
    """R-3.3: the system suggests a topic from the text; the citizen decides."""
    return suggest(ctx.profile.topics, text)


def suggest_need(ctx: Context, text: str) -> str | None:
    """R-3.3: the typical need is suggested from the text the same way; the citizen decides."""
    return suggest(ctx.profile.needs, text)


@step
class Topic(Step):
    name = "appeal.topic"

    async def show(self, ctx: Context) -> Reply:
        topics = ctx.profile.topics
        suggested = ctx.data.get("suggested")
        ordered = sorted(topics, key=lambda t: t.id != suggested)
        buttons = pairs([Button(t.title, f"topic:{t.id}") for t in ordered])
        return Reply(T.ASK_TOPIC, [*buttons, nav_row(back=False)], replace=True)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("topic:") and ctx.profile.topic(payload[6:]):
            ctx.data["topic"] = payload[6:]
            return "appeal.need"
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        # The citizen started with the story: keep it as the text and suggest a topic.
        if text.strip() and not ctx.data.get("text"):
            ctx.data["text"] = text.strip()[: ctx.profile.limits.appeal_text_max]
        suggested = suggest_topic(ctx, text)
        if suggested:
            ctx.data["suggested"] = suggested
            ctx.note(T.TOPIC_SUGGESTED.format(topic=ctx.profile.topic(suggested).title))
        else:
            ctx.note(T.USE_BUTTONS)
        return None


@step
class Need(Step):
    name = "appeal.need"

    async def show(self, ctx: Context) -> Reply:
        topic = ctx.profile.topic(ctx.data.get("topic"))
        suggested = suggest_need(ctx, ctx.data.get("text", ""))
        ordered = sorted(ctx.profile.needs, key=lambda n: n.id != suggested)
        buttons = pairs([Button(n.title, f"need:{n.id}") for n in ordered])
        text = T.ASK_NEED.format(topic=topic.title if topic else "—")
        if suggested:
            text += "\n" + T.NEED_SUGGESTED.format(need=ctx.profile.need(suggested).title)
        return Reply(text, [*buttons, nav_row()], replace=True)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload.startswith("need:") and ctx.profile.need(payload[5:]):
            ctx.data["need"] = payload[5:]
            return after(ctx, "appeal.text")
        return None


@step
class Text(Step):
    name = "appeal.text"
    takes_text = True
    takes_files = True

    async def show(self, ctx: Context) -> Reply:
        text = ctx.data.get("text", "")
        if not text:
            return Reply(T.ASK_TEXT, [nav_row()])
        if ctx.data.get("return_to") and not ctx.data.get("text_mode"):  # editing from the summary
            return Reply(T.TEXT_EDIT_HOW.format(chars=len(text)),
                         [[Button(T.TEXT_REPLACE, "text:replace"), Button(T.TEXT_ADD, "text:add")], nav_row()])
        if ctx.data.get("text_mode") == "replace":
            return Reply(T.TEXT_REPLACE_ASK, [[Button(T.NEXT, "text:next")], nav_row()])
        return Reply(T.TEXT_RECEIVED.format(chars=len(text)), [[Button(T.NEXT, "text:next")], nav_row()])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload in ("text:replace", "text:add"):
            ctx.data["text_mode"] = payload[5:]
            return None
        if payload == "text:next" and ctx.data.get("text"):
            ctx.data.pop("text_mode", None)
            return after(ctx, "appeal.name")
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        text = text.strip()
        if not text:
            ctx.note(T.TEXT_EMPTY)
            return None
        limit = ctx.profile.limits.appeal_text_max
        if ctx.data.pop("text_mode", None) == "replace":
            ctx.data["text"] = ""
        current = ctx.data.get("text", "")
        if len(current) + len(text) + 2 > limit:
            # Nothing is lost: the whole text becomes a file of the appeal.
            name = f"текст-обращения-{len(ctx.data.get('files', [])) + 1}.txt"
            await save_file(ctx, name, "text/plain", text.encode("utf-8"))
            said = T.TEXT_TOO_LONG if not current else T.TEXT_LIMIT_REACHED
            ctx.note(said.format(limit=limit, file=personal(name, "file")))
            return None
        ctx.data["text"] = f"{current}\n\n{text}" if current else text
        if ctx.data.get("return_to"):
            ctx.data["text_mode"] = "add"  # further messages add to what was just written
        return None

    async def on_files(self, ctx: Context) -> str | None:
        await accept_files(ctx)
        return None


def checked_name(ctx: Context, text: str) -> str | None:
    """A full name as typed, spaces tidied; None after a note that says what is wrong.
    The booking wizard asks the name with the same rules."""
    name, problem = parse_name(text)
    if name is None:
        ctx.note({"too_long": T.NAME_TOO_LONG, "one_word": T.NAME_ONE_WORD}.get(problem, T.NAME_INVALID))
    return name


@step
class Name(Step):
    name = "appeal.name"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        rows = []
        known = ctx.data.get("name") or ctx.citizen.full_name
        if known:
            rows.append([Button(known[:40], "name:known")])
        return Reply(T.ASK_NAME, [*rows, nav_row()])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        known = ctx.data.get("name") or ctx.citizen.full_name
        if payload == "name:known" and known:
            ctx.data["name"] = known
            return after(ctx, "appeal.answer")
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        name = checked_name(ctx, text)
        if name is None:
            return None
        ctx.data["name"] = name
        return after(ctx, "appeal.answer")


@step
class AnswerChannel(Step):
    name = "appeal.answer"

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.ASK_ANSWER_CHANNEL, [[Button(T.ANSWER_EMAIL, "ans:email"), Button(T.ANSWER_POST, "ans:post")],
                                            nav_row()], replace=True)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        return {"ans:email": "appeal.email", "ans:post": "appeal.postal"}.get(payload)


@step
class Email(Step):
    name = "appeal.email"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        rows = [[Button(ctx.citizen.email[:40], "email:known")]] if ctx.citizen.email else []
        return Reply(T.ASK_EMAIL, [*rows, nav_row()])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "email:known" and ctx.citizen.email:
            return await self.on_text(ctx, ctx.citizen.email)
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        # 59-FZ art. 7 p. 3 (547-FZ): one mailbox, in .ru/.рф/.su for an appeal under the law.
        email, problem = appeal_rules.email_problem(text, await rules.kind(ctx))
        if problem:
            ctx.note(problem)
            return None
        return self._set(ctx, email)

    @staticmethod
    def _set(ctx: Context, email: str) -> str:
        ctx.data["answer_channel"], ctx.data["answer_address"] = "email", email
        return after(ctx, "appeal.extra")


@step
class Postal(Step):
    name = "appeal.postal"
    takes_text = True

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.ASK_POSTAL, [nav_row()])

    async def on_text(self, ctx: Context, text: str) -> str | None:
        address = " ".join(text.split())
        if len(address) < 15 or len(address) > 500 or not any(c.isdigit() for c in address):
            ctx.note(T.POSTAL_INVALID)
            return None
        ctx.data["answer_channel"], ctx.data["answer_address"] = "post", address
        return after(ctx, "appeal.extra")


def notify_label(channel: str | None) -> str:
    """Where notices are duplicated, in words."""
    return T.NOTIFY_TO.format(channel=channels.to_phrase(channel)) if channel else T.NOTIFY_NONE


def answer_where(data: dict) -> str:
    email = data.get("answer_channel") == "email"
    template = T.WHERE_EMAIL if email else T.WHERE_POST
    return template.format(address=personal(data.get("answer_address", ""), "email" if email else "address"))


@step
class ExtraChannel(Step):
    """R-2.2: the answer address is the mandatory channel; offer an additional one."""

    name = "appeal.extra"

    async def show(self, ctx: Context) -> Reply:
        channel = ctx.event.channel
        where = answer_where(ctx.data)
        buttons = []
        if channels.is_messenger(channel):
            text = T.ASK_EXTRA_CHANNEL.format(answer_where=where, channel=channels.to_phrase(channel))
            buttons.append(Button(T.EXTRA_HERE, "extra:here"))
        else:
            text = T.ASK_EXTRA_CHANNEL_NO_MESSENGER.format(answer_where=where)
        if ctx.data.get("answer_channel") == "post" and ctx.citizen.email:
            buttons.append(Button(T.EXTRA_EMAIL, "extra:email"))
        buttons.append(Button(T.EXTRA_NONE, "extra:none"))
        return Reply(text, [*column(buttons), nav_row()], replace=True)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        choice = {"extra:here": ctx.event.channel, "extra:email": "email", "extra:none": None}
        if payload not in choice:
            return None
        ctx.data["extra_channel"] = choice[payload]
        if ctx.data.pop("return_to", None):
            return "appeal.summary"
        return "appeal.summary" if await rules.privacy_seen(ctx) else "appeal.consent"


@step
class PrivacyNoticeStep(Step):
    """The privacy notice (152-FZ art. 14, 18): an appeal rests on the agency's duty under 59-FZ,
    so this is information, not a condition; the version the person saw is recorded.
    (The step keeps its old name, so saved dialogs resume.)"""

    name = "appeal.consent"

    async def show(self, ctx: Context) -> Reply:
        return Reply(personal_data.privacy_notice(ctx.profile), [[Button(T.PRIVACY_OK, "privacy:ok")], nav_row()],
                     replace=True)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload != "privacy:ok":
            return None
        await rules.privacy_shown(ctx)
        return "appeal.summary"


@step
class Summary(Step):
    name = "appeal.summary"

    async def show(self, ctx: Context) -> Reply:
        d = ctx.data
        topic, need = ctx.profile.topic(d.get("topic")), ctx.profile.need(d.get("need"))
        text = d.get("text", "")
        if len(text) > SUMMARY_TEXT_PREVIEW:
            text = text[:SUMMARY_TEXT_PREVIEW] + f"… (ещё {len(d['text']) - SUMMARY_TEXT_PREVIEW} знаков)"
        warning = ""
        verdict = appeals.screen_text(d.get("text", ""))
        if verdict.flagged:  # tell before sending, so it can be edited
            why = T.ABUSE_WHY.get(verdict.category, T.ABUSE_WHY["insult"])
            warning = T.SUMMARY_ABUSE_WARNING.format(why=why) + "\n\n"
        body = warning + T.SUMMARY.format(
            topic=topic.title if topic else "—", need=need.title if need else "—",
            name=personal(d.get("name"), "name") or "—",
            answer_where=answer_where(d), notify=notify_label(d.get("extra_channel")),
            files=len(d.get("files", [])), text=personal(text, "text"),
        )
        return Reply(body, [
            [Button(T.SEND, "sum:send")],
            [Button(T.EDIT_TEXT, "sum:text"), Button(T.EDIT_TOPIC, "sum:topic")],
            [Button(T.EDIT_NAME, "sum:name"), Button(T.EDIT_ADDRESS, "sum:answer")],
            [identify_button()],
            [Button(T.CANCEL, "nav:cancel")],
        ], replace=True)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        edits = {"sum:text": "appeal.text", "sum:topic": "appeal.topic", "sum:name": "appeal.name",
                 "sum:answer": "appeal.answer"}
        if payload in edits:
            ctx.data["return_to"] = "appeal.summary"
            return edits[payload]
        if payload == "sum:send":
            return await self._register(ctx)
        return None

    @staticmethod
    async def _address_refused(ctx: Context) -> bool:
        """Identified since the address was given: a foreign e-mail is refused now (art. 7 p. 3)."""
        if ctx.data.get("answer_channel") != "email":
            return False
        _, problem = appeal_rules.email_problem(ctx.data.get("answer_address", ""), await rules.kind(ctx))
        if problem:
            ctx.note(problem)
            ctx.data["return_to"] = "appeal.summary"
        return bool(problem)

    @staticmethod
    async def _register(ctx: Context) -> str:
        if await Summary._address_refused(ctx):
            return "appeal.answer"
        d, cal, limits = ctx.data, ctx.deps.calendar, ctx.profile.limits
        if await over_limit(ctx):  # the summary again, the draft as it was
            return "appeal.summary"
        identified = await rules.kind(ctx) == appeals.APPEAL
        extra = d.get("extra_channel")
        draft = appeals.Draft(
            topic=d["topic"], need=d["need"], text=d["text"], full_name=d["name"],
            answer_channel=d["answer_channel"], answer_address=d["answer_address"],
            notify_channel=extra, extra_channel=extra, file_ids=list(d.get("files", [])),
        )
        appeal = await appeals.register(
            ctx.session, citizen_id=ctx.citizen.id, channel=ctx.event.channel, draft=draft,
            prefix=ctx.profile.agency.number_prefix, tz=cal.tz, now=ctx.now(),
            deadline_for=lambda day: deadlines.shown(cal, day, limits.deadline_shift),
            answer_days=limits.answer_days if identified else (limits.message_answer_days or limits.answer_days),
            redirect_days=limits.redirect_days, identified=identified,
            repeat_of=await appeal_rules.repeat_of(ctx.session, ctx.citizen.id, draft.topic, draft.text),
        )
        await citizens.remember_contacts(ctx.session, ctx.citizen, draft)
        await lifecycle.registered(ctx.session, appeal, profile=ctx.profile, now=ctx.now(),
                                   seen_in=(ctx.event.channel, ctx.event.user_id), staff_chat=ctx.deps.staff_chat)
        ctx.data = {"registered": appeal.id}
        drafts.forget(ctx)
        return "appeal.done"


@step
class Done(Step):
    name = "appeal.done"

    async def show(self, ctx: Context) -> Reply:
        appeal = await appeals.own_row(ctx.session, ctx.citizen.id, ctx.data.get("registered"))
        buttons = [[Button(T.MENU_MINE, "menu:mine"), Button(T.MENU, NAV_MENU)]]
        if appeal is None:
            return Reply(T.MENU_PROMPT, buttons)
        if appeal.status == appeals.NOT_CONSIDERED:
            why = T.ABUSE_WHY.get(appeal.abuse_category or "", T.ABUSE_WHY["insult"])
            return Reply(T.REGISTERED_NOT_CONSIDERED.format(number=appeal.number, why=why), buttons)
        text = T.REGISTERED.format(number=appeal.number, deadline=f"{appeal.deadline:%d.%m.%Y}")
        if appeal.kind != appeals.APPEAL:
            buttons.append([identify_button()])
        return Reply(f"{text}\n\n{kind_line(ctx, appeal)}", buttons)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        return "mine" if payload == "menu:mine" else None
