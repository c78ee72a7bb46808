"""A channel is one folder plus one registration line (the architecture issue): a toy channel
registered from this test alone carries an appeal from the first message to the answer, through
the runner, with the staff member working in it too and every notice delivered to it
(R-2.1, R-2.2, R-3.8)."""
from __future__ import annotations

import asyncio

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.runner import run_channels
from core import channels
from core.channels import ChannelSpec, Limit
from core.events import Capabilities, Inbound, Reply
from storage.models import Staff, StaffIdentity
from tests.conftest import make_settings


class ToySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)
    toy_token: str | None = Field(None, alias="TOY_TOKEN")


class ToyAdapter:
    """Receives from an in-memory queue, shows replies in a list, delivers notices to another."""

    def __init__(self, host, settings: ToySettings) -> None:
        self.host, self.settings = host, settings
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.screens: dict[str, list[Reply]] = {}
        self.delivered: list[tuple[str, Reply]] = []
        self.deliverer = self
        self.channel = "toy"

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        self.delivered.append((external_id, reply))

    async def serve(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            try:
                event, done = await asyncio.wait_for(self.inbox.get(), 0.05)
            except TimeoutError:
                continue
            n += 1
            replies = await self.host.handle(event, update_key=f"toy-{n}")
            self.screens.setdefault(event.user_id, []).extend(replies or [])
            done.set_result(replies)


@pytest.fixture
def toy():
    built: list[ToyAdapter] = []

    def build(host, settings):
        built.append(ToyAdapter(host, settings))
        return built[-1]

    channels.register(ChannelSpec(
        name="toy", title="Игрушка", to_phrase="в игрушечный чат", messenger=True, foreign=False,
        capabilities=Capabilities(max_text=1000), limit=Limit(per_second=100), user_id_pattern=r"[a-z0-9-]+",
        order=5, settings=ToySettings, configured=lambda s: bool(s.toy_token), build=build))
    yield built
    channels.unregister("toy")


class ToyPerson:
    def __init__(self, adapter: ToyAdapter, user_id: str) -> None:
        self.adapter, self.user_id = adapter, user_id

    @property
    def last(self) -> Reply:
        return self.adapter.screens[self.user_id][-1]

    async def send(self, **kw) -> str:
        done = asyncio.get_running_loop().create_future()
        await self.adapter.inbox.put((Inbound("toy", self.user_id, **kw), done))
        replies = await asyncio.wait_for(done, 10)
        return "\n".join(r.text for r in replies)

    async def press(self, label: str) -> str:
        payload = next(b.payload for row in self.last.buttons for b in row if b.label.startswith(label))
        return await self.send(button=payload)


async def test_a_toy_channel_carries_an_appeal_and_its_notices(toy, sqlite_url, tmp_path, clock):
    from bot.app import build_app

    app = await build_app(make_settings(sqlite_url, tmp_path, TOY_TOKEN="x"), clock=clock)
    async with app.sessionmaker() as s, s.begin():
        s.add(Staff(name="Петрова А. А.", role="operator", identities=[StaffIdentity(channel="toy", user_id="clerk")]))
    stop = asyncio.Event()
    runner = asyncio.create_task(run_channels(app, stop))
    try:
        while not toy:
            await asyncio.sleep(0.01)
        adapter = toy[0]
        citizen, clerk = ToyPerson(adapter, "anna"), ToyPerson(adapter, "clerk")
        await citizen.send(command="start")
        await citizen.press("Подать обращение")
        await citizen.press("Содержание дома")
        await citizen.press("Устранить нарушение")
        await citizen.send(text="Течёт крыша над квартирой 12 в доме 5 по улице Ленина.")
        await citizen.press("Далее")
        await citizen.send(text="Иванова Мария Петровна")
        await citizen.press("Электронная почта")
        asked = await citizen.send(text="ivanova@example.ru")
        assert "в игрушечный чат" in asked  # the registry's words, not a text map
        await citizen.press("Да, дублировать сюда")
        if any(b.label.startswith("Понятно, дальше") for row in citizen.last.buttons for b in row):
            await citizen.press("Понятно, дальше")
        done = await citizen.send(button=next(b.payload for row in citizen.last.buttons for b in row
                                              if b.label == "Отправить"))
        assert "ЖН-2026-000001" in done

        await clerk.send(command="start")
        await clerk.press("Новые (1)")
        await clerk.press("ЖН-2026-000001")
        await clerk.press("Взять в работу")
        await clerk.press("Ответить")
        await clerk.press("Выдано предписание УК")
        await clerk.press("Подтвердить")

        async def delivered(to: str, words: str) -> Reply:
            for _ in range(300):
                found = [r for a, r in adapter.delivered if a == to and words in r.text]
                if found:
                    return found[0]
                await asyncio.sleep(0.02)
            raise AssertionError(f"no notice with {words!r} to {to}: {[r.text for _, r in adapter.delivered]}")

        announcement = await delivered("clerk", "Новое обращение ЖН-2026-000001")
        assert "Иванова" not in announcement.text  # staff announcements carry no personal data
        in_work = await delivered("anna", "взято в работу")
        answer = await delivered("anna", "Ответ на обращение ЖН-2026-000001")
        assert in_work and [b.payload for row in answer.buttons for b in row] == ["rate:1:3", "rate:1:2", "rate:1:1"]
    finally:
        stop.set()
        await asyncio.wait_for(runner, 20)
        await app.close()
