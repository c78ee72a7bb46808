"""Report queries: aggregates computed by the database, grouped by one dimension (R-3.3, R-3.9, R-5.12).

Every function returns a few grouped rows, never the records themselves, and reads only codes and
counts: no names, addresses or texts of citizens. A period is [start, end) in UTC; local days are
the agency's (a fixed offset in minutes, the same on SQLite and PostgreSQL).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, Integer, and_, case, column, distinct, func, literal, literal_column, select, values
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from storage.consult_models import CallbackRequest, Consultation
from storage.models import Appeal, AppealEvent, Identity, OutboxMessage, Rating, Visit

FINAL = ("answered", "refused", "redirected", "not_considered")
OPEN = ("registered", "in_work", "clarification")


class local_day(FunctionElement):
    """The local calendar day of a UTC timestamp: local_day(column, offset_minutes)."""

    type = Date()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    col, minutes = list(element.clauses)
    return f"date({compiler.process(col, **kw)}, '{int(minutes.name):+d} minutes')"


@compiles(local_day, "postgresql")
def _local_day_pg(element, compiler, **kw):
    col, minutes = list(element.clauses)
    return f"CAST(({compiler.process(col, **kw)} AT TIME ZONE 'UTC') + INTERVAL '{int(minutes.name)} minutes' AS DATE)"


class whole_scan(FunctionElement):
    """A column SQLite must not look up by its index: over a long period reading the table in order
    is several times faster than an index range (measured: 1.2 s against 7.8 s on 1,000,000 notices).
    PostgreSQL's planner chooses by itself, so there it is the column unchanged."""

    inherit_cache = True

    def __init__(self, col) -> None:
        super().__init__(col)
        self.type = col.type  # the bound period goes through the column's own type (UTC on SQLite)


@compiles(whole_scan)
def _whole_scan(element, compiler, **kw):
    return compiler.process(list(element.clauses)[0], **kw)


@compiles(whole_scan, "sqlite")
def _whole_scan_sqlite(element, compiler, **kw):
    return "+" + compiler.process(list(element.clauses)[0], **kw)  # unary plus: same value, no index


LONG_PERIOD = timedelta(days=92)


def in_period(col, start: datetime, end: datetime):
    """start <= col < end, by the index for a short period and by reading the table for a long one."""
    target = whole_scan(col) if end - start > LONG_PERIOD else col
    return and_(target >= start, target < end)


def day_of(col, offset: int):
    return local_day(col, literal_column(str(int(offset))))


def keys(by: str, offset: int) -> dict[str, dict]:
    """What each dimension means in each table; None where the table has no such thing."""
    return {
        "appeal": {"channel": Appeal.source_channel, "topic": Appeal.topic, "need": Appeal.need,
                   "staff": Appeal.assigned_staff_id, "kind": literal_column("'appeal'"),
                   "day": day_of(Appeal.registered_at, offset)},
        "consultation": {"channel": Consultation.channel, "topic": Consultation.topic, "need": literal_column("NULL"),
                         "staff": Consultation.staff_id, "kind": literal_column("'consultation'"),
                         "day": day_of(Consultation.started_at, offset)},
        "callback": {"channel": CallbackRequest.channel, "topic": CallbackRequest.topic, "need": literal_column("NULL"),
                     "staff": CallbackRequest.staff_id, "kind": literal_column("'callback'"),
                     "day": day_of(CallbackRequest.created_at, offset)},
        "visit": {"channel": Visit.channel, "topic": Visit.topic, "need": literal_column("NULL"), "staff": Visit.marked_by,
                  "kind": literal_column("'visit'"), "day": day_of(Visit.starts_at, offset)},
    }


def key_of(table: str, by: str, offset: int):
    return keys(by, offset)[table][by].label("key")


def g(key, *more):
    """GROUP BY the key and more; a constant key (by kind) is not grouped by (PostgreSQL refuses it)."""
    return [*([] if getattr(key.element, "is_literal", False) else [key]), *more]


async def _rows(session: AsyncSession, stmt) -> list[dict]:
    return [dict(r._mapping) for r in (await session.execute(stmt)).all()]


def _count_if(cond):
    return func.sum(case((cond, 1), else_=0))


# --- satisfaction ------------------------------------------------------------------------------


async def appeal_ratings(session: AsyncSession, start: datetime, end: datetime, by: str, offset: int) -> list[dict]:
    """Appeals answered in the period (each asked once, R-3.9) and the latest rating of each."""
    answered = (select(AppealEvent.appeal_id)
                .where(AppealEvent.action == "answer", in_period(AppealEvent.at, start, end)).distinct().subquery())
    latest = select(Rating.appeal_id, func.max(Rating.id).label("rid")).group_by(Rating.appeal_id).subquery()
    key = key_of("appeal", by, offset)
    stmt = (select(key, func.count().label("asked"), func.count(Rating.id).label("rated"),
                   _count_if(Rating.score == 3).label("satisfied"), _count_if(Rating.score == 2).label("partly"),
                   _count_if(Rating.score == 1).label("not_satisfied"))
            .select_from(answered).join(Appeal, Appeal.id == answered.c.appeal_id)
            .outerjoin(latest, latest.c.appeal_id == Appeal.id).outerjoin(Rating, Rating.id == latest.c.rid)
            .group_by(*g(key)))
    return await _rows(session, stmt)


async def consultation_ratings(session: AsyncSession, start: datetime, end: datetime, by: str,
                               offset: int) -> list[dict]:
    """Consultations ended in the period and the two questions of R-5.12."""
    key = key_of("consultation", by, offset)
    c = Consultation
    stmt = (select(key, func.count().label("asked"), func.count(c.rating).label("rated"),
                   _count_if(c.rating == 3).label("satisfied"), _count_if(c.rating == 2).label("partly"),
                   _count_if(c.rating == 1).label("not_satisfied"),
                   _count_if(c.answered.is_(True)).label("answered_yes"),
                   _count_if(c.answered.is_(False)).label("answered_no"))
            .where(in_period(c.ended_at, start, end)).group_by(*g(key)))
    return await _rows(session, stmt)


async def visit_ratings(session: AsyncSession, start: datetime, end: datetime, by: str, offset: int) -> list[dict]:
    """Visits that took place in the period and their ratings (R-6.8)."""
    key = key_of("visit", by, offset)
    stmt = (select(key, func.count().label("asked"), func.count(Visit.rating).label("rated"),
                   _count_if(Visit.rating == 3).label("satisfied"), _count_if(Visit.rating == 2).label("partly"),
                   _count_if(Visit.rating == 1).label("not_satisfied"))
            .where(in_period(Visit.starts_at, start, end), Visit.status == "attended").group_by(*g(key)))
    return await _rows(session, stmt)


# --- deadlines ---------------------------------------------------------------------------------


def calendar_cte(days: list[tuple[date, int, int]]):
    """(day, working-day number, calendar-day number) for the days a report needs, as a CTE."""
    return (values(column("day", Date), column("wn", Integer), column("cn", Integer), name="cal")
            .data(days).cte("cal"))


async def closings(session: AsyncSession, start: datetime, end: datetime, by: str, offset: int,
                   days: list[tuple[date, int, int]]) -> list[dict]:
    """Appeals closed in the period (their first final move there), on time or late (by the
    current, possibly extended, deadline), and working days from registration to the answer:
    a histogram (key, on_time, working_days, count)."""
    first = (select(AppealEvent.appeal_id, func.min(AppealEvent.at).label("at"))
             .where(AppealEvent.status_to.in_(FINAL), in_period(AppealEvent.at, start, end))
             .group_by(AppealEvent.appeal_id).subquery())
    cal = calendar_cte(days)
    reg, done = cal.alias("reg"), cal.alias("done")
    key = key_of("appeal", by, offset)
    closed_day = day_of(first.c.at, offset)
    on_time = case((closed_day <= Appeal.deadline, literal_column("1")), else_=literal_column("0")).label("on_time")
    working = (done.c.wn - reg.c.wn).label("working_days")
    stmt = (select(key, on_time, working, func.count().label("n"))
            .select_from(first).join(Appeal, Appeal.id == first.c.appeal_id)
            .outerjoin(reg, reg.c.day == day_of(Appeal.registered_at, offset))
            .outerjoin(done, done.c.day == closed_day)
            .group_by(*g(key, on_time, working)))
    return await _rows(session, stmt)


async def redirects(session: AsyncSession, start: datetime, end: datetime, by: str, offset: int,
                    limit_days: int, days: list[tuple[date, int, int]]) -> list[dict]:
    """Redirections in the period: within `limit_days` calendar days of registration or later
    (59-FZ art. 8 part 3)."""
    cal = calendar_cte(days)
    reg, moved = cal.alias("reg"), cal.alias("moved")
    key = key_of("appeal", by, offset)
    late = (moved.c.cn - reg.c.cn) > limit_days
    stmt = (select(key, func.count(distinct(Appeal.id)).label("redirected"),
                   _count_if(late).label("redirected_late"))
            .select_from(AppealEvent).join(Appeal, Appeal.id == AppealEvent.appeal_id)
            .outerjoin(reg, reg.c.day == day_of(Appeal.registered_at, offset))
            .outerjoin(moved, moved.c.day == day_of(AppealEvent.at, offset))
            .where(AppealEvent.action == "redirect", in_period(AppealEvent.at, start, end))
            .group_by(*g(key)))
    return await _rows(session, stmt)


async def extensions(session: AsyncSession, start: datetime, end: datetime, by: str, offset: int) -> list[dict]:
    key = key_of("appeal", by, offset)
    stmt = (select(key, func.count(distinct(Appeal.id)).label("extended"))
            .select_from(AppealEvent).join(Appeal, Appeal.id == AppealEvent.appeal_id)
            .where(AppealEvent.action == "extend", in_period(AppealEvent.at, start, end)).group_by(*g(key)))
    return await _rows(session, stmt)


async def overdue(session: AsyncSession, today: date, by: str, offset: int) -> list[dict]:
    """Open appeals whose deadline has passed, whenever they came."""
    key = key_of("appeal", by, offset)
    stmt = (select(key, func.count().label("overdue_now"))
            .where(Appeal.status.in_(OPEN), Appeal.deadline < today).group_by(*g(key)))
    return await _rows(session, stmt)


# --- workload ----------------------------------------------------------------------------------


async def incoming(session: AsyncSession, start: datetime, end: datetime, by: str, offset: int) -> dict[str, list]:
    """Appeals, consultations, callbacks and visits that came in the period, with no-shows and transfers."""
    out = {}
    k = key_of("appeal", by, offset)
    out["appeals"] = await _rows(session, select(k, func.count().label("n")).where(
        in_period(Appeal.registered_at, start, end)).group_by(*g(k)))
    k = key_of("consultation", by, offset)
    out["consultations"] = await _rows(session, select(
        k, func.count().label("n"), func.coalesce(func.sum(Consultation.transfers), 0).label("transfers"))
        .where(in_period(Consultation.started_at, start, end)).group_by(*g(k)))
    k = key_of("callback", by, offset)
    out["callbacks"] = await _rows(session, select(k, func.count().label("n")).where(
        in_period(CallbackRequest.created_at, start, end)).group_by(*g(k)))
    k = key_of("visit", by, offset)
    out["visits"] = await _rows(session, select(k, _count_if(Visit.status != "cancelled").label("n"),
                                                _count_if(Visit.status == "no_show").label("no_shows"))
                                .where(in_period(Visit.starts_at, start, end)).group_by(*g(k)))
    k = (day_of(AppealEvent.at, offset) if by == "day" else key_of("appeal", by, offset)).label("key")
    out["appeal_transfers"] = await _rows(session, select(k, func.count().label("n"))
                                          .select_from(AppealEvent).join(Appeal, Appeal.id == AppealEvent.appeal_id)
                                          .where(AppealEvent.action == "transfer", in_period(AppealEvent.at, start, end))
                                          .group_by(*g(k)))
    return out


# --- channels ----------------------------------------------------------------------------------


async def notices(session: AsyncSession, start: datetime, end: datetime, offset: int, by: str = "channel") -> list[dict]:
    """Notices written in the period per channel: delivered, failed for good, waiting, postal
    letters, and failed ones that went on by another channel (the same notice, a later row)."""
    o, later = OutboxMessage, OutboxMessage.__table__.alias("later")
    went_on = select(literal(1)).where(later.c.notice == o.notice, later.c.id > o.id).exists()
    key = (day_of(o.created_at, offset) if by == "day" else o.channel).label("key")
    stmt = (select(key, func.count().label("notices"), _count_if(o.status == "sent").label("sent"),
                   _count_if(o.status == "dead").label("dead"), _count_if(o.status == "pending").label("pending"),
                   _count_if(o.status == "task").label("letters"),
                   _count_if(and_(o.status == "dead", went_on)).label("fallbacks"))
            .where(in_period(o.created_at, start, end)).group_by(*g(key)))
    return await _rows(session, stmt)


async def unreachable(session: AsyncSession) -> list[dict]:
    """Addresses marked unreachable now, per channel (counts only)."""
    stmt = (select(Identity.channel.label("key"), func.count().label("unreachable"))
            .where(Identity.reachable.is_(False)).group_by(Identity.channel))
    return await _rows(session, stmt)


async def staff_names(session: AsyncSession) -> dict[int, str]:
    from storage.models import Staff

    return {r.id: r.name for r in (await session.execute(select(Staff.id, Staff.name))).all()}
