"""Appeals: registration with a yearly number, abuse screen, history, lookups (R-3.3, R-3.4)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.abuse import screen
from storage.db import Session as AsyncSession
from storage.models import Appeal, AppealEvent
from storage.repos import appeals as rows

REGISTERED = "registered"
IN_WORK = "in_work"
CLARIFICATION = "clarification"
REDIRECTED = "redirected"
ANSWERED = "answered"
REFUSED = "refused"
NOT_CONSIDERED = "not_considered"
STOPPED = "stopped"  # art. 11 p. 5: correspondence on the matter stopped
RETURNED = "returned"  # art. 11 p. 2: a court decision is appealed, returned with an explanation
WITHDRAWN = "withdrawn"  # the citizen withdrew it before an answer
EARLY_STATUSES = frozenset({REGISTERED, IN_WORK})  # a redirect or a return is still possible
FINAL = frozenset({REDIRECTED, ANSWERED, REFUSED, NOT_CONSIDERED, STOPPED, RETURNED})
APPEAL, MESSAGE = "appeal", "message"  # 59-FZ as amended by 547-FZ: identified or not
FLAGGED, CONFIRMED, OVERRIDDEN = "flagged", "confirmed", "overridden"  # the abuse screen's flag


@dataclass
class Draft:
    """What the wizard collected."""

    topic: str
    need: str
    text: str
    full_name: str
    answer_channel: str  # email | post
    answer_address: str
    notify_channel: str | None
    extra_channel: str | None
    file_ids: list[int] = field(default_factory=list)


async def next_number(session: AsyncSession, prefix: str, year: int) -> str:
    """Sequential per year, never reused."""
    return f"{prefix}-{year}-{await rows.next_seq(session, year):06d}"


async def register(
    session: AsyncSession, *, citizen_id: int, channel: str, draft: Draft, prefix: str,
    tz: ZoneInfo, deadline_for, now: datetime, identified: bool = False, answer_days: int | None = None,
    redirect_days: int = 7, repeat_of=None,
) -> Appeal:
    """Store the appeal with its first history entries. A text the screen flags is registered
    like any other and waits for an official's decision (art. 11 p. 3: the body *may* leave it
    unanswered); nothing tells the citizen before that.

    With `answer_days`, the statutory day is registration + answer_days and `deadline_for(day)`
    gives the date shown for it; without, `deadline_for(registration day)` gives the date shown.
    `repeat_of`: the same person's earlier appeal on the same matter (art. 11 p. 5), linked."""
    local_today = now.astimezone(tz).date()
    verdict = screen(draft.text)
    statutory = local_today + timedelta(days=answer_days) if answer_days is not None else None
    appeal = Appeal(
        number=await next_number(session, prefix, local_today.year),
        citizen_id=citizen_id,
        source_channel=channel,
        topic=draft.topic,
        need=draft.need,
        text=draft.text,
        full_name=draft.full_name,
        answer_channel=draft.answer_channel,
        answer_address=draft.answer_address,
        notify_channel=draft.notify_channel,
        extra_channel=draft.extra_channel,
        status=REGISTERED,
        kind=APPEAL if identified else MESSAGE,
        abuse_category=verdict.category,
        abuse_fragment=verdict.fragment[:200] if verdict.fragment else None,  # VARCHAR(200)
        screen_state=FLAGGED if verdict.flagged else None,
        registered_at=now,
        statutory_deadline=statutory,
        deadline=deadline_for(statutory if statutory is not None else local_today),
        redirect_by=local_today + timedelta(days=redirect_days),
        repeat_of_id=repeat_of.id if repeat_of is not None else None,
    )
    events = [AppealEvent(at=now, actor="citizen", actor_id=citizen_id, action="registered", status_to=REGISTERED)]
    if verdict.flagged:
        events.append(AppealEvent(at=now + timedelta(microseconds=1), actor="system", action="screened",
                                  note=verdict.category))
    if repeat_of is not None:
        events.append(AppealEvent(at=now + timedelta(microseconds=2), actor="system", action="repeat",
                                  note=repeat_of.number))
    appeal.events = events  # one flush writes the appeal and its history
    session.add(appeal)
    await session.flush()
    await rows.attach_files(session, draft.file_ids, citizen_id, appeal.id)
    return appeal


@dataclass(frozen=True)
class TooMany:
    """Over a per-citizen limit: `per` is "hour" or "day", `count` what was sent in it, `again`
    when the next one may go."""

    per: str
    count: int
    again: datetime


async def too_many(session: AsyncSession, citizen_id: int, *, per_hour: int, per_day: int,
                   now: datetime) -> TooMany | None:
    """None when the citizen may send one more appeal now (issue 10 item 8): rolling windows of
    60 minutes and 24 hours; the day is checked first, its wait being the longer one."""
    day = await rows.registered_since(session, citizen_id, now - timedelta(days=1))
    if len(day) >= per_day:
        return TooMany("day", len(day), day[-per_day] + timedelta(days=1))
    hour = [at for at in day if at > now - timedelta(hours=1)]
    if len(hour) >= per_hour:
        return TooMany("hour", len(hour), hour[-per_hour] + timedelta(hours=1))
    return None


async def listed(session: AsyncSession, citizen_id: int) -> list[rows.Listed]:
    """The citizen's newest appeals (id, number, status), newest first."""
    return await rows.listed(session, citizen_id)


async def of_citizen(session: AsyncSession, citizen_id: int, limit: int = 20) -> list[Appeal]:
    return await rows.of_citizen(session, citizen_id, limit)


async def owned(session: AsyncSession, citizen_id: int, *, appeal_id: int | None = None,
                number: str | None = None) -> Appeal | None:
    """An appeal with its history and files, only if it belongs to this citizen."""
    return await rows.owned(session, citizen_id, appeal_id=appeal_id, number=number)


async def own_row(session: AsyncSession, citizen_id: int, appeal_id: object) -> Appeal | None:
    """The appeal's own columns (no history or files), only if it belongs to this citizen; an
    appeal this transaction holds is not read again."""
    if not isinstance(appeal_id, int) or not 0 < appeal_id < 2**31:
        return None
    appeal = await session.get(Appeal, appeal_id)
    return appeal if appeal is not None and appeal.citizen_id == citizen_id else None


async def for_staff(session: AsyncSession, appeal_id: int) -> Appeal | None:
    return await rows.full(session, appeal_id)


async def attach_files(session: AsyncSession, file_ids: list[int], citizen_id: int, appeal_id: int) -> None:
    """Files sent with a clarification join the appeal."""
    await rows.attach_files(session, file_ids, citizen_id, appeal_id, only_loose=False)


def by_short_number(mine: list[Appeal], query: str) -> Appeal | None:
    """One of the citizen's own appeals by its number, in full or short: «ЖН-2026-000001»,
    «000001», «1», «2026-1» (the newest match when several years share the short form). Only
    ASCII digits count («²» is a digit to str.isdigit but no number to int)."""
    digits = [int(part) for part in query.replace("-", " ").replace("/", " ").split()
              if part.isascii() and part.isdigit()]
    if not digits:
        return None
    exact = next((a for a in mine if a.number == query.strip().upper()), None)
    if exact is not None:
        return exact
    seq, year = digits[-1], digits[-2] if len(digits) >= 2 and digits[-2] >= 2000 else None
    for a in mine:  # newest first
        _, a_year, a_seq = a.number.rsplit("-", 2)
        if int(a_seq) == seq and (year is None or int(a_year) == year):
            return a
    return None


def screen_text(text: str):
    """The abuse screen's verdict on a draft (R-3.4), to warn at the summary."""
    return screen(text)
