"""The appeal state machine: one table of legal moves; every move is recorded in the history
and produces notices through the outbox in the same transaction (R-3.4–R-3.9)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import Profile, filled
from services import outbox
from services.appeals import (ANSWERED, CLARIFICATION, FINAL, IN_WORK, NOT_CONSIDERED, REDIRECTED,
                                  REFUSED, REGISTERED)
import texts as T
from core.events import Button
from storage.models import Appeal, AppealEvent, Citizen, Staff

OPEN = frozenset({REGISTERED, IN_WORK, CLARIFICATION})
MAX_EXTENSION_DAYS = 30


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None  # None: the status stays (transfer, extension)
    supervisor: bool = False


MOVES = {
    "take": Move(frozenset({REGISTERED, IN_WORK, CLARIFICATION}), IN_WORK),
    "ask": Move(frozenset({IN_WORK}), CLARIFICATION),
    "clarified": Move(frozenset({CLARIFICATION}), IN_WORK),
    "answer": Move(frozenset({IN_WORK}), ANSWERED),
    "refuse": Move(frozenset({REGISTERED, IN_WORK}), REFUSED),
    "redirect": Move(frozenset({REGISTERED, IN_WORK}), REDIRECTED),
    "not_consider": Move(frozenset({REGISTERED, IN_WORK}), NOT_CONSIDERED),
    "override": Move(frozenset({NOT_CONSIDERED}), IN_WORK),
    "reopen": Move(FINAL, IN_WORK, supervisor=True),
    "extend": Move(OPEN, None),
    "transfer": Move(OPEN, None),
}


class IllegalMove(Exception):
    """Refused with a message fit to show to the staff member."""


def rating_buttons(appeal_id: int) -> list[list[Button]]:
    return [[Button(T.RATE_GOOD, f"rate:{appeal_id}:3")], [Button(T.RATE_PARTLY, f"rate:{appeal_id}:2")],
            [Button(T.RATE_BAD, f"rate:{appeal_id}:1")]]


def _survey(profile: Profile, appeal: Appeal) -> tuple[str, list[list[Button]]]:
    """R-3.9: every final message carries the survey link and an in-bot rating."""
    text = T.SURVEY.format(url=profile.survey_url) if filled(profile.survey_url) else T.SURVEY_IN_BOT
    return text, rating_buttons(appeal.id)


async def load(session: AsyncSession, appeal_id: int) -> Appeal | None:
    stmt = select(Appeal).where(Appeal.id == appeal_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def act(session: AsyncSession, appeal: Appeal, action: str, *, profile: Profile, now: datetime,
              staff: Staff | None = None, citizen_id: int | None = None, note: str | None = None,
              agency: str | None = None, to_staff: Staff | None = None, days: int | None = None,
              deadline_for=None) -> None:
    """Apply one move. `staff` acts, or the citizen (`citizen_id`) for "clarified"."""
    move = MOVES.get(action)
    if move is None or appeal.status not in move.sources:
        raise IllegalMove(T.ILLEGAL_TRANSITION.format(
            number=appeal.number, status=T.STATUS_TITLES.get(appeal.status, appeal.status)))
    if move.supervisor and (staff is None or staff.role != "supervisor"):
        raise IllegalMove("Это может сделать только руководитель.")
    if action == "override" and not appeal.abuse_category:
        raise IllegalMove("Отменять можно только решение автоматической проверки текста.")
    if action == "extend":
        if appeal.extended:
            raise IllegalMove("Срок этого обращения уже продлевали: продлить можно только один раз.")
        if not days or not 1 <= days <= MAX_EXTENSION_DAYS or not note:
            raise IllegalMove("Укажите срок продления от 1 до 30 дней и причину.")
        appeal.deadline = deadline_for(appeal.deadline, days) if deadline_for else appeal.deadline + timedelta(days)
        appeal.extended = True
    if action == "transfer":
        if to_staff is None or not to_staff.active:
            raise IllegalMove("Выберите сотрудника, которому передать обращение.")
        appeal.assigned_staff_id = to_staff.id
    if action == "take" and staff is not None:
        appeal.assigned_staff_id = staff.id
    if action in ("answer", "refuse", "redirect", "ask", "extend") and not (note or "").strip():
        raise IllegalMove("Нужен текст: его получит гражданин.")
    if action == "redirect" and not agency:
        raise IllegalMove("Укажите, в какое ведомство передаётся обращение.")

    before = appeal.status
    if move.target:
        appeal.status = move.target
    session.add(AppealEvent(
        appeal_id=appeal.id, at=now, actor="citizen" if citizen_id else ("staff" if staff else "system"),
        actor_id=citizen_id or (staff.id if staff else None), action=action,
        status_from=before, status_to=move.target, note=_history_note(action, note, agency, to_staff, days),
    ))
    await session.flush()
    await _notify(session, appeal, action, profile=profile, note=note, agency=agency, now=now, before=before)


def _history_note(action, note, agency, to_staff, days) -> str | None:
    if action == "redirect":
        return f"{agency}: {note}"
    if action == "transfer":
        return f"→ {to_staff.name}" + (f": {note}" if note else "")
    if action == "extend":
        return f"+{days} дн.: {note}"
    return note


async def _notify(session: AsyncSession, appeal: Appeal, action: str, *, profile: Profile,
                  note: str | None, agency: str | None, now: datetime, before: str) -> None:
    number, deadline = appeal.number, f"{appeal.deadline:%d.%m.%Y}"
    buttons: list[list[Button]] = []
    final = action in ("answer", "refuse", "redirect", "not_consider")
    short = None
    if action == "take" and before == REGISTERED:  # a colleague taking it over is not news
        text = T.NOTICE_IN_WORK.format(number=number, deadline=deadline)
    elif action == "ask":
        text = T.NOTICE_CLARIFICATION.format(number=number, question=note)
        buttons = [[Button(T.ANSWER_CLARIFICATION, f"clar:{appeal.id}")]]
    elif action == "answer":
        text = T.NOTICE_ANSWERED.format(number=number, text=note)
        where = T.WHERE_EMAIL if appeal.answer_channel == "email" else T.WHERE_POST
        short = T.NOTICE_ANSWERED_SHORT.format(number=number, where=where.format(address=appeal.answer_address))
    elif action == "refuse":
        text = T.NOTICE_REFUSED.format(number=number, reason=note)
    elif action == "redirect":
        text = T.NOTICE_REDIRECTED.format(number=number, agency=agency, reason=note)
    elif action == "not_consider":
        why = T.ABUSE_WHY.get(appeal.abuse_category or "", note or T.ABUSE_WHY["insult"])
        text = T.NOTICE_NOT_CONSIDERED.format(number=number, why=why)
    elif action == "override":
        text = T.NOTICE_OVERRIDDEN.format(number=number, deadline=deadline)
    elif action == "extend":
        text = T.NOTICE_EXTENDED.format(number=number, deadline=deadline, reason=note)
    elif action == "reopen":
        text = T.NOTICE_REOPENED.format(number=number, deadline=deadline)
    else:
        return  # transfers and repeated takes are internal
    if final:
        survey, buttons = _survey(profile, appeal)
        text = f"{text}\n\n{survey}"
        if short:
            short = f"{short}\n\n{survey}"
    citizen = await session.get(Citizen, appeal.citizen_id)
    mandatory = (appeal.answer_channel, appeal.answer_address)
    targets = await outbox.route(session, citizen, mandatory=mandatory, final=final)
    subject = T.NOTICE_SUBJECT.format(number=number, status=T.STATUS_TITLES.get(appeal.status, appeal.status))
    kind = outbox.FINAL_KIND if final else "status"
    hidden = short is not None and not profile.privacy.full_text_in_messengers
    full = [t for t in targets if not (hidden and t[0] in outbox.MESSENGER_CHANNELS)]
    brief = [t for t in targets if t not in full]
    notice = await outbox.enqueue(session, citizen_id=citizen.id, kind=kind, targets=full, text=text,
                                  subject=subject, buttons=buttons, appeal_id=appeal.id, not_before=now)
    if brief:
        await outbox.enqueue(session, citizen_id=citizen.id, kind=kind, targets=brief, text=short,
                             subject=subject, buttons=buttons, appeal_id=appeal.id, notice=notice,
                             not_before=now)


async def registered(session: AsyncSession, appeal: Appeal, *, profile: Profile, now: datetime,
                     seen_in: tuple[str, str], staff_chat: tuple[str, str] | None = None) -> None:
    """Tell the citizen's other channels (the chat they wrote from already saw it), and staff on
    duty without the citizen's personal data."""
    citizen = await session.get(Citizen, appeal.citizen_id)
    final = appeal.status == NOT_CONSIDERED
    number, deadline = appeal.number, f"{appeal.deadline:%d.%m.%Y}"
    if final:
        why = T.ABUSE_WHY.get(appeal.abuse_category or "", T.ABUSE_WHY["insult"])
        survey, buttons = _survey(profile, appeal)
        text = f"{T.NOTICE_NOT_CONSIDERED.format(number=number, why=why)}\n\n{survey}"
    else:
        text, buttons = T.NOTICE_REGISTERED.format(number=number, deadline=deadline), []
    targets = await outbox.route(session, citizen, mandatory=(appeal.answer_channel, appeal.answer_address),
                                 final=False)
    targets = [t for t in targets if t != seen_in]
    if targets:
        subject = T.NOTICE_SUBJECT.format(number=number, status=T.STATUS_TITLES[appeal.status])
        await outbox.enqueue(session, citizen_id=citizen.id, kind=outbox.FINAL_KIND if final else "status",
                             targets=targets, text=text, subject=subject, buttons=buttons,
                             appeal_id=appeal.id, not_before=now)
    await announce_to_staff(session, appeal, profile=profile, now=now, staff_chat=staff_chat)


async def announce_to_staff(session: AsyncSession, appeal: Appeal, *, profile: Profile, now: datetime,
                            staff_chat: tuple[str, str] | None = None) -> None:
    topic, need = profile.topic(appeal.topic), profile.need(appeal.need)
    flag = ""
    if appeal.abuse_category:
        flag = T.STAFF_NEW_FLAGGED.format(why=T.ABUSE_WHY.get(appeal.abuse_category, appeal.abuse_category))
    text = T.STAFF_NEW_APPEAL.format(number=appeal.number, topic=topic.title if topic else appeal.topic,
                                     need=need.title if need else appeal.need,
                                     deadline=f"{appeal.deadline:%d.%m.%Y}", flag=flag)
    members = (await session.execute(select(Staff).where(Staff.active.is_(True)))).scalars().all()
    targets = [("telegram", m.telegram_id) for m in members if m.telegram_id]
    targets += [("vk", m.vk_id) for m in members if m.vk_id and not m.telegram_id]
    if staff_chat:  # a staff group chat gets the same announcement
        targets.append(staff_chat)
    if targets:
        await outbox.enqueue(session, citizen_id=None, kind="staff", targets=targets, text=text,
                             buttons=[[Button(T.STAFF_OPEN_CARD, f"sc:{appeal.id}")]],
                             appeal_id=appeal.id, not_before=now)
