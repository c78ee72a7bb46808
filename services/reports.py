"""Reports an agency head reads: satisfaction, deadlines, workload, channels (R-3.3, R-3.9, R-5.12).

The database counts (storage/repos/reports.py); here the grouped rows are merged, shares and
percentiles computed and keys given their titles. Numbers come from the history and the records,
so they do not drift; no personal data leaves: codes, counts and staff names only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import texts as T
from core import channels as registry
from services.calendar import WorkCalendar
from services.profile import Profile
from storage.db import Session as AsyncSession
from storage.repos import reports as rows

REPORTS = ("satisfaction", "deadlines", "workload", "channels")
DIMENSIONS = ("channel", "topic", "need", "staff", "kind", "day")
DEFAULT_BY = {"satisfaction": "kind", "deadlines": "topic", "workload": "day", "channels": "channel"}
ALLOWED_BY = {"satisfaction": ("kind", "channel", "topic", "need", "staff"),
              "deadlines": ("topic", "need", "channel", "staff", "kind"),
              "workload": ("day", "staff", "channel", "topic", "kind"),
              "channels": ("channel", "day")}
COLUMNS = {
    "satisfaction": ["asked", "rated", "response_rate", "satisfied", "partly", "not_satisfied", "satisfied_share",
                     "partly_share", "not_satisfied_share", "answered_yes", "answered_no"],
    "deadlines": ["closed", "on_time", "late", "overdue_now", "extended", "redirected", "redirected_in_time",
                  "redirected_late", "median_days", "p90_days"],
    "workload": ["appeals", "consultations", "callbacks", "visits", "no_shows", "transfers"],
    "channels": ["appeals", "consultations", "callbacks", "notices", "sent", "dead", "pending", "letters",
                 "fallbacks", "unreachable"],
}
HISTORY_DAYS = 400  # appeals closed in the period may have come this long before it


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    def bounds(self, tz) -> tuple[datetime, datetime]:
        start = datetime.combine(self.first, time(), tz).astimezone(timezone.utc)
        end = datetime.combine(self.last + timedelta(days=1), time(), tz).astimezone(timezone.utc)
        return start, end

    @property
    def title(self) -> str:
        return T.REPORT_PERIOD.format(first=self.first, last=self.last)


def last_month(today: date) -> Period:
    last = today.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


def this_week(today: date) -> Period:
    return Period(today - timedelta(days=today.weekday()), today)


@dataclass
class Report:
    name: str
    period: Period
    by: str
    columns: list[str]
    rows: list[dict] = field(default_factory=list)  # {"key": title or date, column: number}
    total: dict = field(default_factory=dict)
    # Working-day histogram of closed appeals, for the chart: {days: count}
    extra: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return T.REPORT_TITLES[self.name]


@dataclass
class Context:
    """What every report needs besides the session."""

    profile: Profile
    calendar: WorkCalendar
    today: date
    staff: dict[int, str] = field(default_factory=dict)

    def offset(self, period: Period) -> int:
        moment = datetime.combine(period.first, time(12), self.calendar.tz)
        return int(moment.utcoffset().total_seconds() // 60)


def label(by: str, key, ctx: Context):
    if key is None:
        return T.REPORT_NONE
    if by == "channel":
        return T.REPORT_CHANNELS.get(key) or registry.title(key)
    if by == "topic":
        return getattr(ctx.profile.topic(key), "title", key)
    if by == "need":
        return getattr(ctx.profile.need(key), "title", key)
    if by == "staff":
        return ctx.staff.get(key, str(key))
    if by == "kind":
        return T.REPORT_KINDS.get(key, key)
    if by == "day" and isinstance(key, str):
        return date.fromisoformat(key)
    return key


def merge(into: dict, found: list[dict], rename: dict[str, str] | None = None) -> None:
    """Add grouped rows into {key: {column: sum}}; an all-zero row (no GROUP BY, nothing found) is skipped."""
    for r in found:
        if not any(v for k, v in r.items() if k != "key"):
            continue
        row = into.setdefault(r["key"], {})
        for name, value in r.items():
            if name != "key":
                name = (rename or {}).get(name, name)
                row[name] = row.get(name, 0) + int(value or 0)


def share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def nearest_rank(hist: dict[int, int], q: float) -> int | None:
    """The q-th percentile by nearest rank over a {value: count} histogram."""
    n = sum(hist.values())
    if not n:
        return None
    rank, seen = math.ceil(q * n), 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return None


def finish(report: Report, found: dict, ctx: Context, fill) -> Report:
    """Titles for keys, derived columns, the total row; rows sorted by key."""
    total: dict = {}
    for values in found.values():
        for k, v in values.items():
            if isinstance(v, int):
                total[k] = total.get(k, 0) + v
    items = sorted(found.items(), key=lambda kv: (kv[0] is None, str(kv[0])))
    for key, values in items:
        report.rows.append({"key": label(report.by, key, ctx), **fill(values, key)})
    report.total = {"key": T.REPORT_TOTAL, **fill(total, None)}
    return report


def _zeroes(columns: list[str], values: dict) -> dict:
    return {c: values.get(c, 0) for c in columns}


async def satisfaction(session: AsyncSession, period: Period, by: str, ctx: Context) -> Report:
    start, end = period.bounds(ctx.calendar.tz)
    off = ctx.offset(period)
    found: dict = {}
    merge(found, await rows.appeal_ratings(session, start, end, by, off))
    merge(found, await rows.consultation_ratings(session, start, end, by, off))
    merge(found, await rows.visit_ratings(session, start, end, by, off))
    cols = COLUMNS["satisfaction"]

    def fill(v, _key):
        out = _zeroes(cols, v)
        rated = out["rated"]
        out.update(response_rate=share(rated, out["asked"]), satisfied_share=share(out["satisfied"], rated),
                   partly_share=share(out["partly"], rated), not_satisfied_share=share(out["not_satisfied"], rated))
        return out

    return finish(Report("satisfaction", period, by, cols), found, ctx, fill)


def calendar_days(cal: WorkCalendar, first: date, last: date) -> list[tuple[date, int, int]]:
    """(day, working-day number, calendar-day number) from `first` to `last`."""
    out, n, d = [], 0, first
    while d <= last:
        n += cal.is_working_day(d)
        out.append((d, n, d.toordinal()))
        d += timedelta(days=1)
    return out


async def deadlines(session: AsyncSession, period: Period, by: str, ctx: Context) -> Report:
    start, end = period.bounds(ctx.calendar.tz)
    off = ctx.offset(period)
    days = calendar_days(ctx.calendar, period.first - timedelta(days=HISTORY_DAYS), period.last)
    found: dict = {}
    hists: dict = {}
    for r in await rows.closings(session, start, end, by, off, days):
        row = found.setdefault(r["key"], {})
        row["closed"] = row.get("closed", 0) + r["n"]
        name = "on_time" if r["on_time"] else "late"
        row[name] = row.get(name, 0) + r["n"]
        if r["working_days"] is not None:
            hist = hists.setdefault(r["key"], {})
            hist[r["working_days"]] = hist.get(r["working_days"], 0) + r["n"]
    merge(found, await rows.redirects(session, start, end, by, off, ctx.profile.limits.redirect_days, days))
    merge(found, await rows.extensions(session, start, end, by, off))
    merge(found, await rows.overdue(session, ctx.today, by, off))
    everything: dict[int, int] = {}
    for hist in hists.values():
        for k, v in hist.items():
            everything[k] = everything.get(k, 0) + v
    cols = COLUMNS["deadlines"]

    def fill(v, key):
        out = _zeroes(cols, v)
        out["redirected_in_time"] = out["redirected"] - out["redirected_late"]
        hist = hists.get(key, {})
        out["median_days"], out["p90_days"] = nearest_rank(hist, 0.5), nearest_rank(hist, 0.9)
        return out

    report = Report("deadlines", period, by, cols, extra={"histogram": everything})
    finish(report, found, ctx, fill)
    report.total["median_days"], report.total["p90_days"] = nearest_rank(everything, 0.5), nearest_rank(everything, 0.9)
    return report


async def workload(session: AsyncSession, period: Period, by: str, ctx: Context) -> Report:
    start, end = period.bounds(ctx.calendar.tz)
    got = await rows.incoming(session, start, end, by, ctx.offset(period))
    found: dict = {}
    merge(found, got["appeals"], {"n": "appeals"})
    merge(found, got["consultations"], {"n": "consultations"})
    merge(found, got["callbacks"], {"n": "callbacks"})
    merge(found, got["visits"], {"n": "visits"})
    merge(found, got["appeal_transfers"], {"n": "transfers"})
    if by == "day":  # every day of the period, quiet ones too
        for d in range((period.last - period.first).days + 1):
            found.setdefault(period.first + timedelta(days=d), {})
        found = {(date.fromisoformat(k) if isinstance(k, str) else k): v for k, v in found.items()}
    cols = COLUMNS["workload"]
    return finish(Report("workload", period, by, cols), found, ctx, lambda v, _k: _zeroes(cols, v))


async def channels(session: AsyncSession, period: Period, by: str, ctx: Context) -> Report:
    start, end = period.bounds(ctx.calendar.tz)
    off = ctx.offset(period)
    got = await rows.incoming(session, start, end, by, off)
    found: dict = {}
    merge(found, got["appeals"], {"n": "appeals"})
    merge(found, got["consultations"], {"n": "consultations", "transfers": "_"})
    merge(found, got["callbacks"], {"n": "callbacks"})
    merge(found, await rows.notices(session, start, end, off, by))
    if by == "channel":
        merge(found, await rows.unreachable(session))
    cols = COLUMNS["channels"]
    return finish(Report("channels", period, by, cols), found, ctx, lambda v, _k: _zeroes(cols, v))


BUILDERS = {"satisfaction": satisfaction, "deadlines": deadlines, "workload": workload, "channels": channels}


async def build(session: AsyncSession, name: str, period: Period, by: str | None, ctx: Context) -> Report:
    by = by or DEFAULT_BY[name]
    if by not in ALLOWED_BY[name]:
        raise ValueError(f"{name} cannot be grouped by {by}; use one of {', '.join(ALLOWED_BY[name])}")
    if not ctx.staff:
        ctx.staff = await rows.staff_names(session)
    return await BUILDERS[name](session, period, by, ctx)


async def build_all(session: AsyncSession, period: Period, ctx: Context) -> list[Report]:
    return [await build(session, name, period, None, ctx) for name in REPORTS]


async def summary(session: AsyncSession, period: Period, ctx: Context) -> dict:
    """The few figures of the supervisor's screen."""
    d = (await build(session, "deadlines", period, "kind", ctx)).total
    s = (await build(session, "satisfaction", period, "kind", ctx)).total
    w = (await build(session, "workload", period, "kind", ctx)).total
    c = (await build(session, "channels", period, "channel", ctx)).total
    return {"title": period.title, **{k: d[k] for k in ("closed", "on_time", "late", "overdue_now")},
            "median": d["median_days"] if d["median_days"] is not None else "—",
            "p90": d["p90_days"] if d["p90_days"] is not None else "—",
            **{k: w[k] for k in ("appeals", "consultations", "callbacks", "visits", "no_shows")},
            **{k: s[k] for k in ("satisfied", "partly", "not_satisfied", "response_rate")}, "dead": c["dead"]}
