"""The appeal state machine: one table of legal moves; every move is recorded in the history
and produces notices through the outbox in the same transaction (R-3.4–R-3.9)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services import deadlines, notices, outbox
from services.appeals import (ANSWERED, CLARIFICATION, CONFIRMED, FINAL, FLAGGED, IN_WORK, NOT_CONSIDERED,
                              OVERRIDDEN, REDIRECTED, REFUSED, REGISTERED, RETURNED, STOPPED, WITHDRAWN)
from services.profile import Profile
from storage.db import Session as AsyncSession
from storage.models import Appeal, AppealEvent, Citizen, Staff
from storage.repos import appeals as appeal_rows
from storage.repos import staff as staff_rows

OPEN = frozenset({REGISTERED, IN_WORK, CLARIFICATION})
MAX_EXTENSION_DAYS = deadlines.MAX_EXTENSION_DAYS
EARLY = frozenset({REGISTERED, IN_WORK})


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
    # The abuse screen only flags; an official confirms (art. 11 p. 3) or overrides.
    "confirm_abuse": Move(EARLY, NOT_CONSIDERED),
    "override": Move(OPEN, None),
    "withdraw": Move(OPEN, WITHDRAWN),  # by the citizen, before an answer
    "stop": Move(EARLY, STOPPED, supervisor=True),  # art. 11 p. 5
    "court": Move(EARLY, RETURNED),  # art. 11 p. 2
    "reopen": Move(FINAL, IN_WORK, supervisor=True),
    "extend": Move(OPEN, None),
    "transfer": Move(OPEN, None),
    "reclassify": Move(OPEN | FINAL, None),  # topic and need corrected by staff
}


class IllegalMove(Exception):
    """Refused; `code` names the reason (the dialog shows `texts.MOVE_REFUSED[code]`)."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code)
        self.code, self.params = code, params


async def load(session: AsyncSession, appeal_id: int) -> Appeal | None:
    return await appeal_rows.locked(session, appeal_id)


async def act(session: AsyncSession, appeal: Appeal, action: str, *, profile: Profile, now: datetime,
              staff: Staff | None = None, citizen_id: int | None = None, note: str | None = None,
              agency: str | None = None, to_staff: Staff | None = None, days: int | None = None,
              deadline_for=None, calendar=None, late_reason: str | None = None, topic: str | None = None,
              need: str | None = None) -> None:
    """Apply one move. `staff` acts, or the citizen (`citizen_id`) for "clarified" and "withdraw".
    `calendar` (or a bound `deadline_for` of one) gives the working days for an extension."""
    move = MOVES.get(action)
    if move is None or appeal.status not in move.sources:
        raise IllegalMove("status", number=appeal.number, status=appeal.status)
    if move.supervisor and (staff is None or staff.role != "supervisor"):
        raise IllegalMove("supervisor")
    if action in ("withdraw", "clarified") and citizen_id != appeal.citizen_id:
        raise IllegalMove("status", number=appeal.number, status=appeal.status)
    if action in ("override", "confirm_abuse") and appeal.screen_state != FLAGGED:
        raise IllegalMove("override")
    if action == "stop":  # art. 11 p. 5: the same matter was already answered in writing
        earlier = await session.get(Appeal, appeal.repeat_of_id) if appeal.repeat_of_id else None
        if earlier is None or earlier.status != ANSWERED:
            raise IllegalMove("not_repeated")
    today = now.astimezone(ZoneInfo(profile.agency.timezone)).date()
    late = appeal.redirect_by is not None and today > appeal.redirect_by
    if action in ("redirect", "court") and late and not (late_reason or "").strip():
        raise IllegalMove("late_reason", redirect_by=f"{appeal.redirect_by:%d.%m.%Y}")
    if action == "extend":
        _extend(appeal, profile=profile, staff=staff, days=days, note=note, today=today,
                calendar=calendar or getattr(deadline_for, "__self__", None))
    if action == "transfer":
        if to_staff is None or not to_staff.active:
            raise IllegalMove("colleague")
        done = await appeal_rows.count_events(session, appeal.id, "transfer")
        if done >= profile.consult.max_transfers:  # at most two transfers
            raise IllegalMove("transfers", n=done)
        appeal.assigned_staff_id = to_staff.id
    if action == "take" and staff is not None:
        appeal.assigned_staff_id = staff.id
    if action == "reclassify":
        if (topic and not profile.topic(topic)) or (need and not profile.need(need)):
            raise IllegalMove("classification")
        if (topic or appeal.topic) == appeal.topic and (need or appeal.need) == appeal.need:
            raise IllegalMove("classification")
        note = _reclassify_note(appeal, topic, need)
        appeal.topic, appeal.need = topic or appeal.topic, need or appeal.need
    if action in ("answer", "refuse", "redirect", "ask", "extend", "court") and not (note or "").strip():
        raise IllegalMove("text")
    if action == "redirect" and not agency:
        raise IllegalMove("agency")
    if action in ("override", "confirm_abuse"):
        appeal.screen_state = OVERRIDDEN if action == "override" else CONFIRMED

    before = appeal.status
    if move.target:
        appeal.status = move.target
    history = _history_note(action, note, agency, to_staff, days)
    if late and action in ("redirect", "court"):
        history = f"{history} (после 7 дней: {late_reason.strip()})"
    session.add(AppealEvent(
        appeal_id=appeal.id, at=now, actor="citizen" if citizen_id else ("staff" if staff else "system"),
        actor_id=citizen_id or (staff.id if staff else None), action=action,
        status_from=before, status_to=move.target, note=history,
    ))
    await session.flush()
    await _notify(session, appeal, action, profile=profile, note=note, agency=agency, now=now, before=before)
    if action == "clarified":
        await tell_staff_clarified(session, appeal, profile=profile, now=now)


def _extend(appeal: Appeal, *, profile: Profile, staff: Staff | None, days: int | None, note: str | None,
            today, calendar) -> None:
    """59-FZ art. 12 p. 2: at most 30 days added to the statutory day, once, by the head (the role
    the profile names), before the term has run out."""
    if staff is None or staff.role not in {profile.limits.extend_role, "supervisor"}:
        raise IllegalMove("extend_role")
    if appeal.extended:
        raise IllegalMove("extended")
    if not days or not 1 <= days <= MAX_EXTENSION_DAYS or not (note or "").strip():
        raise IllegalMove("extend_days")
    if today > appeal.deadline:
        raise IllegalMove("extend_late", deadline=f"{appeal.deadline:%d.%m.%Y}")
    base = appeal.statutory_deadline or appeal.deadline
    appeal.statutory_deadline = deadlines.extended(base, days)
    appeal.deadline = (deadlines.shown(calendar, appeal.statutory_deadline, profile.limits.deadline_shift)
                       if calendar is not None else appeal.statutory_deadline)
    appeal.extended = True


def _reclassify_note(appeal: Appeal, topic: str | None, need: str | None) -> str:
    """Ids, not titles: the history stays readable after the profile renames a topic."""
    parts = []
    if topic and topic != appeal.topic:
        parts.append(f"topic {appeal.topic} → {topic}")
    if need and need != appeal.need:
        parts.append(f"need {appeal.need} → {need}")
    return "; ".join(parts)


def _history_note(action, note, agency, to_staff, days) -> str | None:
    if action == "redirect":
        return f"{agency}: {note}"
    if action == "transfer":
        return f"→ {to_staff.name}" + (f": {note}" if note else "")
    if action == "extend":
        return f"+{days} дн.: {note}"
    return note


# The notice each move sends the citizen (a transfer too, R-5.7); repeated takes are internal.
MOVE_NOTICES = {"transfer": "appeal.transferred",
                "ask": "appeal.clarification", "answer": "appeal.answered", "refuse": "appeal.refused",
                "redirect": "appeal.redirected", "not_consider": "appeal.not_considered",
                "confirm_abuse": "appeal.not_considered", "extend": "appeal.extended", "reopen": "appeal.reopened",
                "withdraw": "appeal.withdrawn", "stop": "appeal.stopped", "court": "appeal.court_returned"}


def appeal_params(appeal: Appeal) -> dict:
    return {"appeal_id": appeal.id, "number": appeal.number, "deadline": f"{appeal.deadline:%d.%m.%Y}",
            "status": appeal.status, "answer_channel": appeal.answer_channel,
            "answer_address": appeal.answer_address, "full_name": appeal.full_name}


async def _notify(session: AsyncSession, appeal: Appeal, action: str, *, profile: Profile,
                  note: str | None, agency: str | None, now: datetime, before: str) -> None:
    kind = MOVE_NOTICES.get(action)
    if action == "take" and before == REGISTERED:  # a colleague taking it over is not news
        kind = "appeal.in_work"
    if kind is None:
        return
    params = appeal_params(appeal)
    params.update({"appeal.clarification": {"question": note}, "appeal.answered": {"text": note},
                   "appeal.refused": {"reason": note}, "appeal.redirected": {"agency": agency, "reason": note},
                   "appeal.not_considered": {"abuse": appeal.abuse_category or note},
                   "appeal.extended": {"reason": note}, "appeal.stopped": {"reason": note},
                   "appeal.court_returned": {"reason": note}}.get(kind, {}))
    await notify_citizen(session, appeal, kind, params, profile=profile, now=now)


async def notify_citizen(session: AsyncSession, appeal: Appeal, kind: str, params: dict, *, profile: Profile,
                         now: datetime, skip: tuple[str, str] | None = None) -> None:
    """The mandatory channel plus the chosen one (R-2.1, R-2.2); `skip` the chat that saw it already."""
    citizen = await session.get(Citizen, appeal.citizen_id)
    params = {**params, "date": f"{now.astimezone(ZoneInfo(profile.agency.timezone)):%d.%m.%Y}"}
    # The duplicate channel is the appeal's own choice («Не нужно» included), kept in step with
    # the settings by services.citizens.set_notify.
    targets = await outbox.route(session, citizen, mandatory=(appeal.answer_channel, appeal.answer_address),
                                 final=notices.KINDS[kind].final, chosen=appeal.notify_channel or "")
    targets = [t for t in targets if t != skip]
    if targets:
        notices.add(session, notices.Renderer(profile), kind, targets=targets, params=params,
                    citizen_id=citizen.id, appeal_id=appeal.id, not_before=now)


async def registered(session: AsyncSession, appeal: Appeal, *, profile: Profile, now: datetime,
                     seen_in: tuple[str, str], staff_chat: tuple[str, str] | None = None) -> None:
    """Tell the citizen's other channels (the chat they wrote from already saw it), and staff on
    duty without the citizen's personal data."""
    params = appeal_params(appeal)
    if appeal.status == NOT_CONSIDERED:
        kind = "appeal.not_considered"
        params["abuse"] = appeal.abuse_category
    else:
        kind = "appeal.registered" if appeal.kind == "appeal" else "message.registered"
    await notify_citizen(session, appeal, kind, params, profile=profile, now=now, skip=seen_in)
    await announce_to_staff(session, appeal, profile=profile, now=now, staff_chat=staff_chat)


async def staff_targets(session: AsyncSession, members: list[Staff]) -> list[tuple[str, str]]:
    """One channel per staff member: the first of their identities in registry order."""
    from core import channels

    order = [spec.name for spec in channels.registered()]
    targets = []
    for member in members:
        ids = sorted(member.identities, key=lambda i: order.index(i.channel) if i.channel in order else 99)
        if ids:
            targets.append((ids[0].channel, ids[0].user_id))
    return targets


async def announce_to_staff(session: AsyncSession, appeal: Appeal, *, profile: Profile, now: datetime,
                            staff_chat: tuple[str, str] | None = None) -> None:
    topic, need = profile.topic(appeal.topic), profile.need(appeal.need)
    params = {"appeal_id": appeal.id, "number": appeal.number, "topic": topic.title if topic else appeal.topic,
              "need": need.title if need else appeal.need, "deadline": f"{appeal.deadline:%d.%m.%Y}",
              "flag_category": appeal.abuse_category if appeal.screen_state == FLAGGED else None}
    targets = await staff_targets(session, await staff_rows.active(session))
    if staff_chat:  # a staff group chat gets the same announcement
        targets.append(staff_chat)
    window = timedelta(minutes=profile.limits.staff_announce_minutes)
    await notices.announce(session, notices.Renderer(profile), targets=targets, params=params,
                           appeal_id=appeal.id, now=now, window=window)


async def tell_colleague(session: AsyncSession, colleague: Staff, appeal: Appeal, *, by: Staff, note: str | None,
                         profile: Profile, now: datetime) -> None:
    targets = await staff_targets(session, [colleague])
    if targets:
        params = {"appeal_id": appeal.id, "number": appeal.number, "colleague": by.name, "transfer_note": note}
        notices.add(session, notices.Renderer(profile), "staff.transferred", targets=targets, params=params,
                    appeal_id=appeal.id, not_before=now)


async def tell_staff_clarified(session: AsyncSession, appeal: Appeal, *, profile: Profile, now: datetime) -> None:
    """The assigned staff member (everyone on duty if nobody is) learns the citizen answered."""
    assignee = await session.get(Staff, appeal.assigned_staff_id) if appeal.assigned_staff_id else None
    members = [assignee] if assignee is not None and assignee.active else await staff_rows.active(session)
    targets = await staff_targets(session, members)
    if targets:
        notices.add(session, notices.Renderer(profile), "staff.clarified", targets=targets,
                    params={"appeal_id": appeal.id, "number": appeal.number}, appeal_id=appeal.id, not_before=now)
