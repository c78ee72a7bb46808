"""What a dialog step works with: the person, their state, the services, the replies."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import texts as T
from core.clock import utc_now
from core.events import Button, Inbound, Reply
from services.privacy import Policy

if TYPE_CHECKING:
    from services.calendar import WorkCalendar
    from services.consult import Knowledge
    from services.profile import Profile
    from storage.files import FileStore
    from storage.models import Citizen, Identity, Staff


@dataclass
class Deps:
    profile: Profile
    calendar: WorkCalendar
    files: FileStore
    max_file_bytes: int
    allowed_mime: frozenset[str]
    clock: Callable[[], datetime] = utc_now
    staff_chat: tuple[str, str] | None = None  # (channel, chat id) for announcements
    identification: Any = None  # services.identification.IdentificationService; None: off
    public_base_url: str = ""  # where the identification links point
    knowledge: Knowledge | None = None  # the consultation line's knowledge base


class HeavyNeeded(BaseException):
    """A step on the hot path reached for the database or the person's records: the engine
    handles the event again the ordinary way. A BaseException, so no `except Exception` in a
    step swallows it."""


class FactNeeded(HeavyNeeded):
    """A fact the hot path neither holds nor could read: this event goes the ordinary way (which
    learns it); unlike HeavyNeeded, the step is not marked heavy for everyone."""


class NotLoaded:
    """What `session`, `citizen` and `identity` are on the hot path: touching it is HeavyNeeded."""

    __slots__ = ()

    def __getattr__(self, name: str):
        raise HeavyNeeded(name)

    def __setattr__(self, name: str, value) -> None:
        raise HeavyNeeded(name)

    def __bool__(self) -> bool:
        raise HeavyNeeded("bool")


NOT_LOADED = NotLoaded()


class ReadOnly:
    """The hot path's copy of a citizen or an identity: its columns can be read; a relationship,
    or any change, is HeavyNeeded (the ordinary path loads and saves the real row)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict) -> None:
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise HeavyNeeded(name) from None

    def __setattr__(self, name: str, value) -> None:
        raise HeavyNeeded(name)


@dataclass
class Context:
    session: Any  # the transaction of this event: passed to services, never queried here
    deps: Deps
    citizen: Citizen
    identity: Identity
    event: Inbound
    data: dict  # the persisted state of the current flow
    staff: Staff | None = None  # set when the person is an active staff member
    notes: list[str] = field(default_factory=list)  # said before the next screen
    extra: list[Reply] = field(default_factory=list)  # whole messages before the next screen
    kept: dict = field(default_factory=dict)  # the dialog state kept across flows (a draft)
    current: str | None = None  # the step the event arrived at
    facts: dict = field(default_factory=dict)  # cached facts about the person (`fact`)
    read_fact: Any = None  # the hot path's reader of a fact: async (name, citizen id) -> (found, value)
    read_listing: Any = None  # the hot path's reader of a list: async (name, citizen id) -> (found, rows)
    records: list = field(default_factory=list)  # the hot path's small writes of this step (`record`)

    @property
    def profile(self) -> Profile:
        return self.deps.profile

    async def fact(self, name: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """A fact about the person that changes only with a write that also bumps their citizen
        row's version (services call storage `touch`): whether and as whom they are identified,
        whether they saw a text. From the hot path's cache; else loaded, and cached after commit."""
        if name in self.facts:
            return self.facts[name]
        if self.session is NOT_LOADED:  # the hot path: one plain read, or the ordinary way
            found, value = await self.read_fact(name, self.citizen.id) if self.read_fact else (False, None)
            if not found:
                raise FactNeeded(name)
        else:
            value = await load()
        self.facts[name] = value
        return value

    async def listing(self, name: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """A short list about the person, read fresh each time (their appeals): on the hot path
        with one plain statement (storage/hot.py `list_query`), else `load()`."""
        if self.session is not NOT_LOADED:
            return await load()
        found, rows = await self.read_listing(name, self.citizen.id) if self.read_listing else (False, None)
        if not found:
            raise FactNeeded(name)  # this time the ordinary way; not learned (a read may fail once)
        return rows

    async def record(self, name: str, params: dict, write: Callable[[], Awaitable[Any]]) -> None:
        """A small write of this step that changes a fact (a text seen): on the ordinary path
        `write()` now, in the event's transaction; on the hot path a statement of the step's
        one write (storage/hot.py, by `name`), saved with the step or not at all, which bumps
        the citizen's version as `write` does."""
        if self.session is NOT_LOADED:
            self.records.append((name, params))
        else:
            await write()

    def note(self, text: str) -> None:
        self.notes.append(text)

    def now(self) -> datetime:
        return self.deps.clock()

    def when(self, moment: datetime) -> str:
        """A moment as the citizen reads it: «сегодня в 14:35 по местному времени» (rounded up
        to the minute, so «again at» is never a minute early)."""
        tz = self.deps.calendar.tz
        local = (moment + timedelta(seconds=59)).astimezone(tz).replace(second=0, microsecond=0)
        days = (local.date() - self.now().astimezone(tz).date()).days
        words = T.WHEN_TODAY if days <= 0 else T.WHEN_TOMORROW if days == 1 else T.WHEN_DAY
        return words.format(time=f"{local:%H:%M}", date=f"{local:%d.%m.%Y}", zone=self.profile.consult.local_time)

    def policy_hides(self) -> bool:
        """Whether this channel may not carry personal data (a foreign messenger, 41-FZ)."""
        return Policy(self.profile.privacy.foreign_messengers).hides(self.event.channel)


NAV_BACK = "nav:back"
NAV_CANCEL = "nav:cancel"
NAV_MENU = "nav:menu"


def nav_row(back: bool = True, cancel: bool = True) -> list[Button]:
    row = []
    if back:
        row.append(Button(T.BACK, NAV_BACK))
    if cancel:
        row.append(Button(T.CANCEL, NAV_CANCEL))
    return row


def column(buttons: list[Button]) -> list[list[Button]]:
    return [[b] for b in buttons]


def paged(items: list, page: object, size: int, prev: str, nxt: str) -> tuple[list, list[Button], str]:
    """One page of a long list (issue 10 item 11): its items, the paging row («Предыдущие»,
    «Дальше», whichever applies, with the payloads given) and «Страница 2 из 15.» ("" for one page)."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page if isinstance(page, int) else 0, 0), pages - 1)
    row = [b for b, on in ((Button(T.PAGE_PREV, prev), page > 0), (Button(T.PAGE_NEXT, nxt), page < pages - 1)) if on]
    return items[page * size:(page + 1) * size], row, T.PAGE_OF.format(page=page + 1, pages=pages) if pages > 1 else ""


class Step:
    """One screen of a dialog. `show` draws it; `handle` takes input and returns the
    name of the next step, or None to stay (after `ctx.note(hint)`)."""

    name: str = ""
    # True: typed text is input here; False: only buttons are (text gets a hint).
    takes_text: bool = False
    takes_files: bool = False

    async def show(self, ctx: Context) -> Reply:
        raise NotImplementedError

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        return None

    async def on_text(self, ctx: Context, text: str) -> str | None:
        ctx.note(T.USE_BUTTONS)
        return None

    async def on_files(self, ctx: Context) -> str | None:
        ctx.note(T.NO_FILES_HERE)
        return None


STEPS: dict[str, Step] = {}


def step(cls: type[Step]) -> type[Step]:
    STEPS[cls.name] = cls()
    return cls


# Buttons that arrive outside a conversation (in notices from the outbox): a handler per
# payload prefix, which must check on the server that the thing belongs to this person.
GlobalHandler = Callable[[Context, str], Awaitable[str | None]]
GLOBAL_BUTTONS: dict[str, GlobalHandler] = {}


MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite would overflow past int64


def row_id(text: str) -> int | None:
    """A row id from a button payload; None for anything no row can have (ASCII digits only,
    within int32): such a button is stale or forged, never an error."""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    n = int(text)
    return n if n <= MAX_ID else None


def global_button(prefix: str):
    def register(fn: GlobalHandler) -> GlobalHandler:
        GLOBAL_BUTTONS[prefix] = fn
        return fn
    return register
