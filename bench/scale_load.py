"""The load side of bench/scale.py: the fake Bot API with Telegram's flood limits, the simulated
citizens and the per-chat check of what they were shown.

Each citizen walks the first two steps of the appeal wizard over and over: on «Шаг 1 из 8» it
picks a topic (a button press, or typing the topic's number), on «Тема: …» it presses «Назад».
Every next update goes only after the replies to the previous ones arrived (a closed loop per
chat). Every third pick is a pair: the topic press and «Назад» posted back to back (the second
PAIR_GAP after the first, without waiting), so with N workers they go to two different ones.
«Назад» is offered only on the topic's screen, so a pair handled out of order, or both on the
same stale state, shows «Эта кнопка устарела»; a reply that skips ahead of the one before it
is out of order. Wizard presses are answered by editing the message in place (not
rate-limited); typed numbers by a new message (a send), which the citizens type at most
TEXT_RATE per second together and each at most once per TEXT_GAP, under Telegram's 30/s and
1/s per chat, so a 429 means the bot itself sent more than it was asked for.
"""
from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field

import aiohttp

from tests.fakes.telegram_api import NOT_MODIFIED, ApiError, FakeTelegram, check_update

REPLY_TIMEOUT = 20.0  # a reply not seen this long after its update was posted: lost
PAIR_GAP = 0.005  # seconds between the two updates of a pair (bench.scale --pair-gap)
TEXT_RATE = 15.0  # typed messages per second, all citizens together (each answered by a send)
TEXT_GAP = 2.5  # seconds between two typed messages of one citizen
STEP1, TOPIC, STALE, MENU = "Шаг 1 из 8", "Тема: {}.", "устарела", "Что вы хотите сделать?"
BACK, APPEAL, CANCEL = "Назад", "Подать обращение", "Отменить"
SECRET = "scale-bench-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Tally:
    """What one measured window saw."""

    latencies: list[float] = field(default_factory=list)
    posted: int = 0
    in_order: int = 0
    out_of_order: int = 0  # a reply to a later update of the chat seen before an earlier one's
    stale: int = 0  # a screen no update asked for (a stale button, the dialog off its path)
    lost: int = 0  # no reply within REPLY_TIMEOUT
    late: int = 0  # a lost one whose reply came after all
    duplicates: int = 0  # a reply when none was due, or the one just shown again
    post_errors: int = 0  # a webhook POST answered other than 200 after retries
    pairs: int = 0  # two updates of one chat posted back to back
    typed: int = 0  # updates that were typed messages (their replies are sends; a press's is an edit)
    sends: int = 0
    edits: int = 0
    bad_chats: set[int] = field(default_factory=set)  # chats with a violation
    seconds: float = 0.0
    cpu: float = float("nan")  # the workers' and the sender's CPU seconds
    own_cpu: float = float("nan")
    limit_hits: int = 0

    @property
    def answered(self) -> int:
        return self.in_order + self.out_of_order + self.stale

    @property
    def violations(self) -> int:
        return self.out_of_order + self.stale

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


class ScaleFake(FakeTelegram):
    """FakeTelegram(enforce_limits=True) telling each citizen what it was shown."""

    def __init__(self) -> None:
        super().__init__(enforce_limits=True)
        self.citizens: dict[int, Citizen] = {}
        self.tally = Tally()

    def reset(self) -> None:
        """Between cases: forget every chat and message, and the limiter's memory."""
        for store in (self.requests, self.callback_answers, self._chats, self._messages, self._last_message_id,
                      self._sent, self._sent_index, self._callbacks, self.citizens, self._global_window, self._buckets):
            store.clear()
        self.limit_hits = 0
        self.tally = Tally()

    def _shown(self, chat_id: int, message_id: int, text: str, markup: dict | None, sent: bool) -> None:
        if sent:
            self.tally.sends += 1
        else:
            self.tally.edits += 1
        rows = (markup or {}).get("inline_keyboard", [])
        citizen = self.citizens.get(chat_id)
        if citizen is not None:
            citizen.shown(message_id, text, [(b["text"], b.get("callback_data", "")) for r in rows for b in r])
        if len(self.requests) > 1000:  # no call log needed: keep memory flat
            self.requests.clear()
            self._sent.clear()
            self._sent_index.clear()

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        message = super()._api_sendMessage(params, files)
        self._shown(message["chat"]["id"], message["message_id"], message["text"], params.get("reply_markup"), True)
        return message

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        try:
            message = super()._api_editMessageText(params, files)
        except ApiError as e:
            if NOT_MODIFIED in e.description:  # the same screen again: the citizen sees it
                self._shown(params["chat_id"], params["message_id"], params["text"], params.get("reply_markup"), False)
            raise
        self._shown(message["chat"]["id"], message["message_id"], message["text"], params.get("reply_markup"), False)
        return message


class Proxy:
    """Telegram's deliveries through the reverse proxy in front of the workers: each update
    POSTed to the next worker's webhook in turn (round robin, whatever its chat), retried on a
    refused connection. At most `connections` deliveries at once, in posting order, as
    Telegram does with setWebhook's max_connections (the assistant sets 1); 0: no limit."""

    def __init__(self, fake: ScaleFake, urls: list[str], connections: int = 1) -> None:
        self.fake, self.urls = fake, urls
        self.turn = itertools.count()
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task] = set()
        self.slots = asyncio.Semaphore(connections) if connections else None

    async def __aenter__(self) -> Proxy:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                             timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=30)
        await self.session.close()

    def post(self, update: dict) -> None:
        update = self.fake._with_update_id(update)
        check_update(update)
        self.fake.tally.posted += 1
        task = asyncio.create_task(self._post(self.urls[next(self.turn) % len(self.urls)], update))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _post(self, url: str, update: dict) -> None:
        if self.slots is None:
            await self._deliver(url, update)
            return
        async with self.slots:  # FIFO: the tasks ask in posting order
            await self._deliver(url, update)

    async def _deliver(self, url: str, update: dict) -> None:
        for _ in range(3):
            try:
                async with self.session.post(url, json=update, headers={SECRET_HEADER: SECRET}) as resp:
                    await resp.read()
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.2)
        self.fake.tally.post_errors += 1


class TextBudget:
    """A token bucket for typed messages, all citizens together."""

    def __init__(self, rate: float, burst: float = 5.0) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.perf_counter()

    def take(self) -> bool:
        now = time.perf_counter()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    async def wait(self) -> None:
        while not self.take():
            await asyncio.sleep(1.0 / self.rate)


@dataclass
class Due:
    marker: str
    posted: float


class Citizen:
    """One chat: posts its steps through the proxy and checks the replies against them."""

    def __init__(self, fake: ScaleFake, proxy: Proxy, budget: TextBudget, chat: int) -> None:
        self.fake, self.proxy, self.budget, self.chat = fake, proxy, budget, chat
        self.due: deque[Due] = deque()
        self.given_up: list[str] = []
        self.recent: deque[str] = deque(maxlen=2)
        self.screen, self.buttons, self.message_id = "", [], None
        self.topics: list[tuple[str, str]] = []
        self.back: str | None = None  # the data of «Назад» on a topic's screen, once seen
        self.picks = itertools.count()
        self.typed_at = -TEXT_GAP
        self.settled = asyncio.Event()
        self.stopped = False  # a reply was lost: this citizen posts nothing more
        fake.citizens[chat] = self
        fake.add_chat(chat)

    # ------------------------------------------------------------- what the fake saw
    def shown(self, message_id: int, text: str, buttons: list[tuple[str, str]]) -> None:
        t = self.fake.tally
        if buttons:
            self.message_id, self.buttons = message_id, buttons
        self.screen = text
        if STEP1 in text and buttons:
            self.topics = [(label, data) for label, data in buttons if label != CANCEL]
        self.back = self.button(BACK) or self.back
        if STALE in text:  # the reply to an update that overtook an earlier one, as a rule
            if self.due:
                self.due.pop()
            t.stale += 1
            t.bad_chats.add(self.chat)
        elif (hit := next((i for i, d in enumerate(self.due) if d.marker in text), None)) is not None:
            due = self.due[hit]
            del self.due[hit]
            t.latencies.append(time.perf_counter() - due.posted)
            if hit == 0:
                t.in_order += 1
            else:
                t.out_of_order += 1
                t.bad_chats.add(self.chat)
            self.recent.append(due.marker)
        elif (late := next((m for m in self.given_up if m in text), None)) is not None:
            self.given_up.remove(late)
            t.lost, t.late = t.lost - 1, t.late + 1
        elif not self.due or any(m in text for m in self.recent):
            t.duplicates += 1
        else:  # some other screen: the dialog went off its path
            self.due.popleft()
            t.stale += 1
            t.bad_chats.add(self.chat)
        if not self.due:
            self.settled.set()

    # ------------------------------------------------------------- what the citizen does
    def _post(self, update: dict, marker: str) -> None:
        self.due.append(Due(marker, time.perf_counter()))
        self.settled.clear()
        self.proxy.post(update)

    def press(self, data: str, marker: str) -> None:
        self._post(self.fake.callback_update(self.chat, data, message_id=self.message_id, check_button=False), marker)

    def type(self, text: str, marker: str) -> None:
        self.typed_at = time.perf_counter()
        self.fake.tally.typed += 1
        self._post(self.fake.message_update(self.chat, text), marker)

    def button(self, label: str) -> str | None:
        return next((data for text, data in self.buttons if text == label), None)

    async def step(self) -> None:
        """The next step from the screen shown last (so a citizen gets back on its path)."""
        back = self.button(BACK)
        if "Тема:" in self.screen and back:
            self.press(back, STEP1)
        elif STEP1 in self.screen and self.topics:
            n = next(self.picks)
            label, data = self.topics[n % len(self.topics)]
            if time.perf_counter() - self.typed_at >= TEXT_GAP and self.budget.take():
                self.type(str(n % len(self.topics) + 1), TOPIC.format(label))
            elif n % 3 == 2 and self.back:
                self.fake.tally.pairs += 1
                self.press(data, TOPIC.format(label))
                await asyncio.sleep(PAIR_GAP)
                self.press(self.back, STEP1)  # «Назад» of the screen the first one leads to
            else:
                self.press(data, TOPIC.format(label))
        elif self.button(APPEAL):
            self.press(self.button(APPEAL), STEP1)
        else:  # the start, or a screen off the path
            await self.budget.wait()
            self.type("/start", MENU)

    async def settle(self) -> None:
        """Until every update posted has its reply, or the oldest is REPLY_TIMEOUT old (lost)."""
        while self.due:
            left = self.due[0].posted + REPLY_TIMEOUT - time.perf_counter()
            if left <= 0:  # lost; the citizen stops, so a reply coming later is known for late
                self.fake.tally.lost += 1
                self.given_up.append(self.due.popleft().marker)
                self.stopped = True
                continue
            try:
                await asyncio.wait_for(self.settled.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def into_wizard(self, timeout: float = 60.0) -> None:
        """Warm-up (not measured): /start, then «Подать обращение»."""
        deadline = time.perf_counter() + timeout
        while STEP1 not in self.screen:
            if time.perf_counter() > deadline:
                raise SystemExit(f"chat {self.chat} did not reach the appeal wizard: {self.screen[:200]!r}")
            await self.step()
            await self.settle()

    async def loop(self, deadline: float) -> None:
        while time.perf_counter() < deadline and not self.stopped:
            await self.step()
            await self.settle()
