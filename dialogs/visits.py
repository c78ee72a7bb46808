"""Booking a visit (R-6.1–R-6.7): topic, day, time, reminder and its duplicate, then the
confirmation with the address, directions, accessibility and a calendar file. «Мои записи»
lists future visits to move or cancel; the after-visit rating button is handled here (R-6.8)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from core import channels
from services import visits as V
from services.icalendar import ics
import texts as T
from dialogs.context import NAV_BACK, NAV_MENU, Context, Step, column, global_button, row_id, step
from core.events import Button, OutFile, Reply

QUIT = "vis:quit"


def tz(ctx: Context):
    return ctx.deps.calendar.tz


TIMES_PER_PAGE = 24  # six rows of four: fits every registered channel's keyboard


def rows(buttons: list[Button], width: int) -> list[list[Button]]:
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


def wizard_nav(back: bool = True) -> list[Button]:
    return [*([Button(T.BACK, NAV_BACK)] if back else []), Button(T.CANCEL, QUIT)]


def day_words(day: date) -> str:
    return T.VISIT_DAY_WORDS.format(day=day.day, month=T.MONTHS_GENITIVE[day.month - 1],
                                    weekday=T.WEEKDAYS[day.weekday()])


def chosen_start(ctx: Context) -> datetime | None:
    value = ctx.data.get("start")
    return datetime.fromisoformat(value) if value else None


def hours_ahead(ctx: Context) -> int:
    return ctx.profile.limits.visit_min_lead_hours


class WizardStep(Step):
    """A booking screen: «Отменить» leaves the wizard (a move leaves the visit as it was)."""

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == QUIT:
            ctx.note(T.VISIT_MOVE_QUIT if ctx.data.get("move") else T.VISIT_QUIT)
            return "menu"
        return await self.choose(ctx, payload)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        return None


def failed(ctx: Context, reason: str) -> str:
    """Where a refused booking leads: fresh times when the slot was taken (R-6.2)."""
    if reason == V.BookingError.TAKEN:
        ctx.note(T.VISIT_SLOT_TAKEN)
        return "visit.time"
    if reason == V.BookingError.SAME_TIME:
        ctx.note(T.VISIT_SAME_TIME)
        return "visit.time"
    if reason == V.BookingError.TOO_SOON:
        ctx.note(T.VISIT_TOO_SOON.format(hours=hours_ahead(ctx)))
        return "visit.time"
    if reason == V.BookingError.LIMIT:
        return "visit.topic"  # it explains the limit
    ctx.note(T.VISIT_GONE)
    return "visit.mine"


@step
class Topic(WizardStep):
    name = "visit.topic"

    async def show(self, ctx: Context) -> Reply:
        future = await V.future_visits(ctx.session, ctx.citizen.id, ctx.now())
        if len(future) >= ctx.profile.limits.visits_max_future:
            return Reply(T.VISIT_LIMIT.format(limit=ctx.profile.limits.visits_max_future),
                         [[Button(T.MENU_VISITS, "vis:mine"), Button(T.MENU, NAV_MENU)]])
        topics = rows([Button(t.title, f"vtopic:{t.id}") for t in ctx.profile.topics], 2)
        return Reply(T.VISIT_ASK_TOPIC, [*topics, wizard_nav(back=False)], replace=True)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        if payload == "vis:mine":
            return "visit.mine"
        if payload.startswith("vtopic:") and ctx.profile.topic(payload[7:]):
            ctx.data = {"topic": payload[7:]}
            return "visit.day"
        return None


@step
class Day(WizardStep):
    name = "visit.day"

    async def show(self, ctx: Context) -> Reply:
        days = await V.free_days(ctx.session, tz(ctx), ctx.now(), ctx.profile.limits)
        if not days:
            return Reply(T.VISIT_NO_DAYS.format(days=ctx.profile.limits.visit_booking_days, phone=ctx.profile.agency.phone),
                         [wizard_nav()])
        moving = await V.owned(ctx.session, ctx.citizen.id, ctx.data.get("move"))
        if moving:
            text = T.VISIT_ASK_DAY_MOVE.format(when=V.when_text(moving.starts_at, tz(ctx)))
        else:
            text = T.VISIT_ASK_DAY.format(topic=V.topic_title(ctx.profile, ctx.data.get("topic", "")))
        buttons = rows([Button(V.day_label(d), f"vday:{d.isoformat()}") for d in days], 3)
        return Reply(text, [*buttons, wizard_nav()], replace=True)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        try:
            day = date.fromisoformat(payload[5:]) if payload.startswith("vday:") else None
        except ValueError:
            day = None
        if day is None:
            return None
        if day < ctx.now().astimezone(tz(ctx)).date():
            ctx.note(T.VISIT_DAY_PAST)
            return None
        if not await V.free_times(ctx.session, tz(ctx), day, ctx.now(), ctx.profile.limits):
            ctx.note(T.VISIT_DAY_FULL)
            return None
        ctx.data["day"], ctx.data["time_page"] = day.isoformat(), 0
        return "visit.time"


@step
class Time(WizardStep):
    name = "visit.time"

    async def show(self, ctx: Context) -> Reply:
        day = date.fromisoformat(ctx.data.get("day") or ctx.now().astimezone(tz(ctx)).date().isoformat())
        times = await V.free_times(ctx.session, tz(ctx), day, ctx.now(), ctx.profile.limits)
        other = [Button(T.VISIT_OTHER_DAY, "vtime:days")]
        if not times:
            return Reply(T.VISIT_NO_TIME.format(day=day_words(day)), [other, wizard_nav()])
        page = min(max(int(ctx.data.get("time_page", 0)), 0), (len(times) - 1) // TIMES_PER_PAGE)
        shown = times[page * TIMES_PER_PAGE:(page + 1) * TIMES_PER_PAGE]
        buttons = [Button(f"{t.astimezone(tz(ctx)):%H:%M}", f"vt:{t.astimezone(timezone.utc):%Y%m%d%H%M}")
                   for t in shown]
        pages = [b for b, on in ((Button(T.VISIT_EARLIER, "vtime:earlier"), page > 0),
                                 (Button(T.VISIT_LATER, "vtime:later"), (page + 1) * TIMES_PER_PAGE < len(times)))
                 if on]
        template = T.VISIT_ASK_TIME_MOVE if ctx.data.get("move") else T.VISIT_ASK_TIME
        return Reply(template.format(day=day_words(day)),
                     [*rows(buttons, 4), *([pages] if pages else []), other, wizard_nav()], replace=True)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        if payload in ("vtime:earlier", "vtime:later"):  # long lists come in pages
            ctx.data["time_page"] = int(ctx.data.get("time_page", 0)) + (1 if payload == "vtime:later" else -1)
            return None
        if payload == "vtime:days":
            ctx.data.pop("time_page", None)
            return "visit.day"
        try:
            start = datetime.strptime(payload[3:], "%Y%m%d%H%M").replace(tzinfo=timezone.utc)
        except ValueError:
            return None
        now = ctx.now()
        if start < V.earliest(now, ctx.profile.limits):
            past = start.astimezone(tz(ctx)).date() < now.astimezone(tz(ctx)).date()
            ctx.note(T.VISIT_DAY_PAST if past else T.VISIT_TOO_SOON.format(hours=hours_ahead(ctx)))
            return None
        if start not in await V.free_times(ctx.session, tz(ctx), start.astimezone(tz(ctx)).date(), now, ctx.profile.limits):
            ctx.note(T.VISIT_SLOT_TAKEN)
            return None
        ctx.data["start"] = start.isoformat()
        if ctx.data.get("move"):
            return await move(ctx)
        from dialogs import visit_contacts  # it builds on this module
        return await visit_contacts.first_step(ctx)


REMIND_LABELS = {"day": T.REMIND_DAY, "2h": T.REMIND_2H, V.NO_REMINDER: T.REMIND_NONE}


@step
class Remind(WizardStep):
    """R-6.3: a reminder the day before, two hours before, or none."""

    name = "visit.remind"

    async def show(self, ctx: Context) -> Reply:
        start = chosen_start(ctx)
        options = V.remind_options(start, ctx.now())
        here = channels.to_phrase(ctx.event.channel)
        buttons = column([Button(REMIND_LABELS[o], f"vrem:{o}") for o in options])
        return Reply(T.VISIT_ASK_REMIND.format(when=V.when_text(start, tz(ctx)), channel=here),
                     [*buttons, wizard_nav()], replace=True)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        option = payload[5:] if payload.startswith("vrem:") else None
        if option not in REMIND_LABELS:
            return None
        if option not in V.remind_options(chosen_start(ctx), ctx.now()):
            ctx.note(T.VISIT_REMIND_LATE)
            return None
        ctx.data["remind"] = option
        if option != V.NO_REMINDER and await V.duplicate_channels(ctx.session, ctx.citizen, ctx.event.channel):
            return "visit.dup"
        ctx.data.pop("extra", None)
        return await finish(ctx)


@step
class Duplicate(WizardStep):
    """R-6.4: the reminder can be duplicated on a second channel."""

    name = "visit.dup"

    async def show(self, ctx: Context) -> Reply:
        found = await V.duplicate_channels(ctx.session, ctx.citizen, ctx.event.channel)
        buttons = [Button(T.VISIT_DUP_LABEL.format(channel=channels.short_phrase(c)), f"vdup:{c}") for c in found]
        buttons.append(Button(T.VISIT_DUP_NONE, "vdup:none"))
        return Reply(T.VISIT_ASK_DUP, [*column(buttons), wizard_nav()], replace=True)

    async def choose(self, ctx: Context, payload: str) -> str | None:
        choice = payload[5:] if payload.startswith("vdup:") else None
        if choice is None:
            return None
        if choice != "none" and choice not in await V.duplicate_channels(ctx.session, ctx.citizen, ctx.event.channel):
            return None
        ctx.data["extra"] = None if choice == "none" else choice
        return await finish(ctx)


async def finish(ctx: Context) -> str:
    """Book now: the database decides who gets the slot; then the name and phone are kept."""
    from dialogs import visit_contacts  # it builds on this module
    missing = await visit_contacts.ready(ctx)
    if missing:
        return missing
    choice = V.Choice(topic=ctx.data.get("topic", ""), start=chosen_start(ctx), channel=ctx.event.channel,
                      remind=ctx.data.get("remind", V.NO_REMINDER), extra_channel=ctx.data.get("extra"))
    try:
        visit = await V.book(ctx.session, ctx.citizen, choice, now=ctx.now(), profile=ctx.profile, tz=tz(ctx))
    except V.BookingError as e:
        return failed(ctx, e.reason)
    await visit_contacts.remember(ctx)
    ctx.data = {"visit": visit.id, "fresh": True}
    return "visit.done"


async def move(ctx: Context) -> str:
    visit = await V.owned(ctx.session, ctx.citizen.id, ctx.data.get("move"))
    if visit is None:
        ctx.note(T.VISIT_GONE)
        return "visit.mine"
    try:
        await V.reschedule(ctx.session, visit, ctx.citizen, chosen_start(ctx), now=ctx.now(),
                           profile=ctx.profile, tz=tz(ctx))
    except V.BookingError as e:
        return failed(ctx, e.reason)
    ctx.data = {"visit": visit.id, "fresh": True, "moved": True}
    return "visit.done"


@step
class Done(Step):
    """R-6.5, R-6.7: where, how to get there, accessibility; and a calendar file."""

    name = "visit.done"

    async def show(self, ctx: Context) -> Reply:
        buttons = [[Button(T.MENU_VISITS, "vis:mine"), Button(T.MENU, NAV_MENU)]]
        visit = await V.owned(ctx.session, ctx.citizen.id, ctx.data.get("visit"))
        if visit is None or visit.status != V.BOOKED:
            return Reply(T.VISIT_GONE, buttons)
        head = T.VISIT_MOVED if ctx.data.get("moved") else T.VISIT_BOOKED
        parts = [head, V.details_text(visit, ctx.profile, tz(ctx), await V.desk_of(ctx.session, visit)), T.VISIT_BRING]
        files = []
        if ctx.data.pop("fresh", False):  # the file once, not on every redraw
            files.append(OutFile(f"visit-{visit.id}.ics", "text/calendar",
                                 ics(visit, ctx.profile, now=ctx.now())))
            parts.append(T.VISIT_ICS_ATTACHED)
        return Reply("\n\n".join(parts), buttons, files=files)

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        return "visit.mine" if payload == "vis:mine" else None


@step
class Mine(Step):
    """«Мои записи»: future visits, to look at, move or cancel."""

    name = "visit.mine"

    async def show(self, ctx: Context) -> Reply:
        items = await V.future_visits(ctx.session, ctx.citizen.id, ctx.now())
        bottom = [[Button(T.MENU_VISIT, "vis:new")]] if len(items) < ctx.profile.limits.visits_max_future else []
        bottom.append([Button(T.MENU, NAV_MENU)])
        if not items:
            return Reply(T.VISIT_MINE_EMPTY, bottom)
        buttons = []
        for v in items:
            local = v.starts_at.astimezone(tz(ctx))
            buttons.append(Button(T.VISIT_ITEM.format(day=V.day_label(local.date()), time=f"{local:%H:%M}"),
                                  f"vis:{v.id}"))
        return Reply(T.VISIT_MINE_LIST, [*column(buttons), *bottom])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "vis:new":
            ctx.data = {}
            return "visit.topic"
        if payload.startswith("vis:") and payload[4:].isdigit():
            ctx.data = {"visit": int(payload[4:])}
            return "visit.card"
        return None


async def live_visit(ctx: Context):
    """The citizen's own visit from ctx.data, if it can still be moved or cancelled."""
    visit = await V.owned(ctx.session, ctx.citizen.id, ctx.data.get("visit"))
    if visit is None or visit.status != V.BOOKED or visit.starts_at <= ctx.now():
        return None
    return visit


@step
class Card(Step):
    name = "visit.card"

    async def show(self, ctx: Context) -> Reply:
        nav = [Button(T.BACK, NAV_BACK), Button(T.MENU, NAV_MENU)]
        visit = await live_visit(ctx)
        if visit is None:
            return Reply(T.VISIT_GONE, [nav])
        ctx.data.pop("move", None)
        text = f"{T.VISIT_CARD}\n\n{V.details_text(visit, ctx.profile, tz(ctx), await V.desk_of(ctx.session, visit))}"
        return Reply(text, [[Button(T.VISIT_MOVE, "vis:move")], [Button(T.VISIT_CANCEL, "vis:cancel")], nav])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        visit = await live_visit(ctx)
        if visit is None:
            ctx.note(T.VISIT_GONE)
            return "visit.mine"
        if payload == "vis:move":
            ctx.data.update(move=visit.id, topic=visit.topic)
            return "visit.day"
        if payload == "vis:cancel":
            return "visit.cancel"
        return None


@step
class Cancel(Step):
    name = "visit.cancel"

    async def show(self, ctx: Context) -> Reply:
        visit = await live_visit(ctx)
        if visit is None:
            return Reply(T.VISIT_GONE, [[Button(T.MENU_VISITS, "vcan:mine"), Button(T.MENU, NAV_MENU)]])
        return Reply(T.VISIT_CANCEL_ASK.format(when=V.when_text(visit.starts_at, tz(ctx))),
                     [[Button(T.VISIT_CANCEL_YES, "vcan:yes")], [Button(T.VISIT_CANCEL_NO, NAV_BACK)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "vcan:mine":
            return "visit.mine"
        visit = await live_visit(ctx)
        if payload != "vcan:yes" or visit is None:
            return "visit.mine" if visit is None else None
        await V.cancel(ctx.session, visit, now=ctx.now())
        ctx.note(T.VISIT_CANCELLED.format(when=V.when_text(visit.starts_at, tz(ctx))))
        ctx.data = {}
        return "visit.mine"


@global_button("vmine:")
async def open_mine(ctx: Context, payload: str) -> str:
    """From a reminder («Мои записи», only the citizen's own list) or an office-closed notice
    («Записаться на приём», the booking wizard)."""
    return "visit.topic" if payload == "vmine:new" else "visit.mine"


@global_button("vrate:")
async def rate(ctx: Context, payload: str) -> str:
    """R-6.8: a rating button from the after-visit request. The visit must be this citizen's."""
    parts = payload.split(":")
    outcome = V.UNKNOWN
    if len(parts) == 3 and row_id(parts[1]) is not None and row_id(parts[2]) is not None:
        outcome = await V.rate(ctx.session, ctx.citizen.id, row_id(parts[1]), row_id(parts[2]), now=ctx.now())
    ctx.note({V.SAVED: T.VISIT_RATED, V.ALREADY: T.VISIT_RATED_ALREADY, V.EARLY: T.VISIT_RATE_EARLY}
             .get(outcome, T.VISIT_RATE_UNKNOWN))
    return "menu"
