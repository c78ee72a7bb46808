"""Notice kinds. A service emits a notice as (kind, recipients, parameters) and writes no text;
this registry gives each kind its lane (answers before status news before reminders before
staff announcements before mailings), its routing and its buttons, and renders it per channel
from the template of the same name in the text catalogue (`texts.NOTICES`, `texts.VISIT_NOTICES`)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import texts as T
from core import channels
from core.events import Button
from core.privacy import personal
from services.privacy import Policy
from services.profile import Profile, filled
from storage.models import OutboxMessage, utcnow
from storage.repos import outbox as rows

ANSWERS, STATUS, REMINDERS, STAFF, MAILINGS = 0, 1, 2, 3, 9  # lanes: lower goes first
PENDING, TASK = "pending", "task"
Target = tuple[str, str]  # (channel, address)


@dataclass(frozen=True)
class Kind:
    name: str
    lane: int
    final: bool = False  # an answer or decision: carries the survey; a letter may carry it
    buttons: tuple[tuple[str, str], ...] = ()  # (label in the catalogue, payload format)
    personal: tuple[str, ...] = ()  # parameters that are the citizen's words (masked abroad)
    survey: bool = True  # a final notice carries the survey unless this is False


RATING_BUTTONS = (("RATE_GOOD", "rate:{appeal_id}:3"), ("RATE_PARTLY", "rate:{appeal_id}:2"),
                  ("RATE_BAD", "rate:{appeal_id}:1"))
KINDS = {k.name: k for k in (
    Kind("appeal.registered", STATUS),
    Kind("appeal.in_work", STATUS),
    Kind("appeal.clarification", ANSWERS, buttons=(("ANSWER_CLARIFICATION", "clar:{appeal_id}"),),
         personal=("question",)),
    Kind("appeal.answered", ANSWERS, final=True, buttons=RATING_BUTTONS, personal=("text",)),
    Kind("appeal.refused", ANSWERS, final=True, buttons=RATING_BUTTONS, personal=("reason",)),
    Kind("appeal.redirected", ANSWERS, final=True, buttons=RATING_BUTTONS, personal=("reason",)),
    # Left unanswered on the merits: final, but nothing was done to be rated (the newcomer issue, 14).
    Kind("appeal.not_considered", ANSWERS, final=True, survey=False),
    Kind("appeal.overridden", STATUS),
    Kind("appeal.extended", STATUS, personal=("reason",)),
    Kind("appeal.transferred", STATUS),
    Kind("appeal.reopened", STATUS),
    Kind("visit.reminder", REMINDERS, buttons=(("MENU_VISITS", "vmine:open"),)),
    Kind("visit.rating", REMINDERS, buttons=tuple(
        (f"VISIT_RATE_{s}", f"vrate:{{visit_id}}:{s}") for s in (3, 2, 1))),
    Kind("visit.office_closed", STATUS, buttons=(("MENU_VISIT", "vmine:new"),)),
    Kind("staff.new_appeal", STAFF, buttons=(("STAFF_OPEN_CARD", "sc:{appeal_id}"),)),
    Kind("staff.transferred", STAFF, buttons=(("STAFF_OPEN_CARD", "sc:{appeal_id}"),)),
    Kind("staff.new_appeals", STAFF, buttons=(("STAFF_OPEN_NEW_QUEUE", "sqn:new"),)),  # grouped
)}
GROUPED = "staff.new_appeals"
ANNOUNCED = ("staff.new_appeal", GROUPED)
SHOWN_NUMBERS = 10  # a grouped announcement names this many appeals, then «и ещё N»


def rating_buttons(appeal_id: int) -> list[list[Button]]:
    """The in-bot rating of a final answer (R-3.9), as on final notices."""
    return [[Button(getattr(T, label), payload.format(appeal_id=appeal_id))] for label, payload in RATING_BUTTONS]


def register_kind(kind: Kind, template: dict) -> None:
    """Add a notice kind with its template (a feature that brings its own notices)."""
    KINDS[kind.name] = kind
    T.NOTICES[kind.name] = template


@dataclass
class Rendered:
    text: str
    subject: str | None
    buttons: list[list[Button]]


def _derived(params: dict) -> dict:
    """Words the templates need that follow from the parameters."""
    p = dict(params)
    if "status" in p:
        p.setdefault("status_title", T.STATUS_TITLES.get(p["status"], p["status"]))
    if "abuse" in p:
        p.setdefault("why", T.ABUSE_WHY.get(p["abuse"] or "", T.ABUSE_WHY["insult"]))
    if "answer_channel" in p:
        email = p["answer_channel"] == "email"
        address = personal(p.get("answer_address", ""), "email" if email else "address")
        p.setdefault("where", (T.WHERE_EMAIL if email else T.WHERE_POST).format(address=address))
    if "flag_category" in p:
        cat = p["flag_category"]
        p.setdefault("flag", T.STAFF_NEW_FLAGGED.format(why=T.ABUSE_WHY.get(cat, cat)) if cat else "")
    if "transfer_note" in p:
        p.setdefault("note", f"\n{p['transfer_note']}" if p["transfer_note"] else "")
    if "shown" in p:
        more = p.get("count", 0) - len(p["shown"])
        p.setdefault("numbers", ", ".join(p["shown"]) + (T.NEW_APPEALS_MORE.format(n=more) if more > 0 else ""))
    if "survey_url" in p:
        p.setdefault("survey_line", T.VISIT_RATE_SURVEY.format(url=p["survey_url"]) if filled(p["survey_url"]) else "")
    return p


class Renderer:
    """Turns a notice into the text, subject and buttons for one channel."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.policy = Policy(profile.privacy.foreign_messengers)

    def brief(self, channel: str) -> bool:
        """Messengers get the short variant when the profile keeps answer texts out of them."""
        return channels.is_messenger(channel) and not self.profile.privacy.full_text_in_messengers

    def letter(self, body: str, params: dict, final: bool) -> str:
        """R-2.2: the answer by post — addressee, date, number, the answer, the survey as text."""
        url, agency = self.profile.survey_url, self.profile.agency
        survey = (T.LETTER_SURVEY.format(url=url) if filled(url) else T.LETTER_SURVEY_PHONE.format(phone=agency.phone))
        return T.LETTER.format(addressee=params.get("full_name") or "", address=params.get("answer_address", ""),
                               date=params.get("date") or "", number=params.get("number", ""), body=body,
                               survey=survey if final else "", agency=agency.name).replace("\n\n\n\n", "\n\n")

    def render(self, kind_name: str, params: dict, channel: str) -> Rendered:
        kind, template = KINDS[kind_name], T.NOTICES[kind_name]
        hide = self.policy.hides(channel)
        p = _derived({k: personal(v, "text") if k in kind.personal else v for k, v in params.items()})
        text = (template.get("brief") if self.brief(channel) or hide else None) or template["text"]
        text = text.format(**p)
        if hide and any(params.get(k) for k in kind.personal):
            text = f"{text}\n\n{T.PD_READ_ELSEWHERE}"
        text = self.policy.text(text, channel)
        if channel == "post":  # a paper letter: its own template, the survey link as text
            return Rendered(self.letter(text, params, kind.final), None, [])
        if kind.final and kind.survey:
            url = self.profile.survey_url
            text = f"{text}\n\n{T.SURVEY.format(url=url) if filled(url) else T.SURVEY_IN_BOT}"
        subject = template.get("subject")
        buttons = [] if channel == "post" else [
            [Button(getattr(T, label), payload.format(**p))] for label, payload in kind.buttons]
        if subject:
            subject = self.policy.text(subject.format(**{**p, "status": p.get("status_title", "")}), channel)
        return Rendered(text, subject, buttons)


def add(session, renderer: Renderer, kind: str, *, targets: list[Target], params: dict,
        citizen_id: int | None = None, appeal_id: int | None = None, not_before: datetime | None = None,
        expires_at: datetime | None = None, notice: str | None = None) -> str:
    """Write one notice, one outbox row per target, rendered for the target's channel.
    Postal letters become tasks for staff. Returns the notice id."""
    notice = notice or uuid.uuid4().hex
    lane = KINDS[kind].lane
    for channel, address in targets:
        out = renderer.render(kind, params, channel)
        session.add(OutboxMessage(
            citizen_id=citizen_id, appeal_id=appeal_id, notice=notice, kind=kind, lane=lane,
            params=params, channel=channel, address=address, subject=out.subject, text=out.text,
            buttons=[[{"label": b.label, "payload": b.payload} for b in row] for row in out.buttons],
            status=TASK if channel == "post" else PENDING, not_before=not_before or utcnow(),
            expires_at=expires_at,
        ))
    return notice


async def relay(session, reply, *, now: datetime, files=None) -> str:
    """A dialog reply addressed to someone else (an operator, a colleague): through the outbox,
    so it survives a crash and is sent once. Its files go into the file store (`files`) and the
    row keeps references to them, so they are sent after a restart too."""
    from services import outbox

    params = None
    if reply.files and files is not None:
        params = {"files": [{"sha": files.put(f.data), "name": f.name, "mime": f.mime} for f in reply.files]}
    return await outbox.enqueue(session, citizen_id=None, kind="relay", lane=ANSWERS, text=reply.text,
                                subject=reply.subject, buttons=reply.buttons, not_before=now, params=params,
                                targets=[(reply.to.channel, reply.to.user_id)])


def _grouped(waiting: dict, new: dict) -> dict:
    """The parameters of a grouped announcement: a waiting one (single or grouped) plus one appeal."""
    count, shown = (waiting["count"], list(waiting["shown"])) if "count" in waiting else (1, [waiting["number"]])
    if len(shown) < SHOWN_NUMBERS:
        shown.append(new["number"])
    return {"count": count + 1, "shown": shown}


async def announce(session, renderer: Renderer, *, targets: list[Target], params: dict, appeal_id: int,
                   now: datetime, window: timedelta) -> None:
    """A new appeal told to staff without flooding them (issue 10 item 8). An announcement still
    waiting in the outbox for that chat takes the appeal in and becomes «Новых обращений: N»; when
    none waits, the next goes `window` after the last one was due, so appeals arriving meanwhile
    gather in it. It is all in the outbox, so it holds across restarts."""
    for channel, address in targets:
        row = await rows.unsent_for(session, channel, address, STAFF, ANNOUNCED, now)
        if row is not None:
            grouped = _grouped(row.params or {}, params)
            out = renderer.render(GROUPED, grouped, channel)
            buttons = [[{"label": b.label, "payload": b.payload} for b in r] for r in out.buttons]
            if await rows.regroup(session, row, now, kind=GROUPED, params=grouped, text=out.text, buttons=buttons):
                continue
        due = await rows.last_due(session, channel, address, STAFF, ANNOUNCED, since=now - window)
        add(session, renderer, "staff.new_appeal", targets=[(channel, address)], params=params, appeal_id=appeal_id,
            not_before=max(now, due + window) if due is not None else now)
