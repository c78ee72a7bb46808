"""Ports: what the rest of the program offers a channel adapter (`Host`), what an adapter
offers back (`Adapter`, `Deliverer`), and the two ways a delivery fails."""
from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from core.events import Inbound, Reply


class ConfigError(RuntimeError):
    """A channel cannot start with these settings; the message says which one and why."""


class RetryLater(Exception):
    """Temporary failure (429, 5xx, timeout): try again after `seconds`."""

    def __init__(self, reason: str, seconds: float | None = 5.0) -> None:
        """seconds=None: no hint from the platform; the outbox backs off exponentially."""
        super().__init__(reason)
        self.reason, self.seconds = reason, seconds


class Unreachable(Exception):
    """Permanent failure for this address (bot blocked, VK 901/902, address bounced)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Deliverer(Protocol):
    channel: str

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        """Send `reply` to `external_id`. `key` is unique per outbox message and stable across
        retries (VK uses it as random_id, so a retry after a crash is not delivered twice).
        Raises RetryLater or Unreachable."""


class Adapter(Protocol):
    """A running channel: receives until `stop` is set, and delivers notices."""

    deliverer: Deliverer | None

    async def serve(self, stop: asyncio.Event) -> None:
        """Receive updates (polling, or a webhook server) until `stop` is set; then finish or
        keep what was received, and return."""


class Host(Protocol):
    """The engine's entry point and the few services an adapter needs. Adapters import
    nothing else of ours: no storage, no dialogs."""

    max_file_bytes: int
    allowed_mime: frozenset[str]

    def channel_settings(self, name: str) -> Any:
        """The channel's own settings block."""

    async def handle(self, event: Inbound, *, update_key: str | None = None) -> list[Reply] | None:
        """The replies to one event, in one transaction with its effects. With `update_key`,
        an update already handled returns None."""

    def chat_lock(self, channel: str, chat: str, update_key: str | None = None) -> AbstractAsyncContextManager[None]:
        """Held while one chat's update is handled and its replies shown, so the chat's
        updates go one at a time whichever worker process receives them; with the update's
        key (kept in the inbox), in the order they were stored."""

    async def recall(self, key: str) -> str | None:
        """A short-lived value an adapter keeps per chat (`channel:chat:what`), shared by every
        worker; None when unknown or expired."""

    async def remember(self, key: str, value: str, ttl: float) -> None:
        """Keep a value for `ttl` seconds (read and written under the chat's lock)."""

    async def apology(self, channel: str, user_id: str) -> Reply:
        """«Sorry, something went wrong» with the main menu, for an event that failed."""

    async def set_reachable(self, channel: str, user_id: str, reachable: bool,
                            reason: str | None = None) -> bool:
        """Whether notices can reach this person here; True when it changed. Never raises."""

    async def cursor(self, channel: str, name: str) -> str | None:
        """A saved position (a long-poll ts or marker)."""

    async def save_cursor(self, channel: str, name: str, value: str) -> None: ...

    # The durable inbox (services/inbox.py): at-least-once intake for every channel.
    async def keep(self, channel: str, update_key: str, chat: str, body: str) -> bool:
        """Store a raw update (JSON text) before acknowledging it to the platform; False if
        it is stored already. Raises if it could not be stored: then do not acknowledge."""

    async def unfinished(self, channel: str) -> list[tuple[str, str, str]]:
        """(update key, chat, body) of the stored updates not finished, in arrival order: after
        a restart, handle each again (the engine returns None, or the replies still owed)."""

    async def finish(self, channel: str, update_key: str) -> None:
        """The update is handled and its replies shown (or it needed none)."""

    async def defer(self, channel: str, update_key: str, user_id: str, skip: int = 0) -> None:
        """The replies could not be shown (after retries): send them, from the `skip`-th on,
        through the outbox, and finish the update."""


async def serve_until(run, stop_adapter, stop: asyncio.Event) -> None:
    """Run `run` (a coroutine) until it ends or `stop` is set; then `await stop_adapter()`,
    which finishes what was received, and wait for `run` to end. Errors of `run` propagate."""
    task = asyncio.ensure_future(run)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        try:
            await stop_adapter()
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.done() and not task.cancelled() and task.exception():
        raise task.exception()
