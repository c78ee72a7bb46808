"""messages.send with a deterministic random_id (so a retry is never a duplicate), bounded
retries of temporary errors, and the `VKDeliverer` for notifications from the outbox.

VK de-duplicates by (peer, random_id); vkbottle's `Message.answer()` sends random_id=0, which
turns that off, so it is never used here."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from typing import Any

import aiohttp
from vkbottle import VKAPIError

from core.ports import RetryLater, Unreachable
from channels.vk import files as vk_files
from channels.vk.api import BadResponse
from channels.vk.render import CapsCache, ClientCaps, render
from core.events import Reply

log = logging.getLogger(__name__)

TEMPORARY = frozenset({6, 9, 10})  # too many requests per second, flood control, internal error
UNREACHABLE = frozenset({900, 901, 902})  # blacklisted, messages not allowed, privacy settings
CHAT_DELAYS = (0.3, 1.0, 2.5)  # a conversation waits up to ~4 s in total
DELIVER_DELAYS = (0.5,)  # the outbox has its own schedule: give up quickly with RetryLater


def random_id(*parts: object) -> int:
    """A positive int32 derived from our own ids (never 0: 0 disables VK's de-duplication)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 0x7FFF_FFFF + 1


class TemporaryFailure(Exception):
    def __init__(self, reason: str, retry_after: float = 5.0) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class PeerUnreachable(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _describe(e: BaseException) -> str:
    if isinstance(e, VKAPIError):
        return f"VK error {e.code}: {e.error_msg}"[:200]
    return type(e).__name__


class Sender:
    def __init__(self, api, host, caps: CapsCache | None = None, *,
                 delays: tuple[float, ...] = CHAT_DELAYS) -> None:
        self.api = api
        self.host = host
        self.caps = caps or CapsCache()
        self.delays = delays
        self._marked: set[int] = set()  # peers marked unreachable by this process

    async def call(self, method: str, params: dict[str, Any], delays: tuple[float, ...] | None = None) -> Any:
        """One API call; temporary errors retried with backoff, then TemporaryFailure."""
        delays = self.delays if delays is None else delays
        for attempt in range(len(delays) + 1):
            try:
                return (await self.api.request(method, params))["response"]
            except VKAPIError as e:
                if e.code in UNREACHABLE:
                    raise PeerUnreachable(e.code, _describe(e)) from None
                if e.code not in TEMPORARY:
                    raise
                error: BaseException = e
            except (aiohttp.ClientError, asyncio.TimeoutError, BadResponse) as e:
                error = e
            if attempt == len(delays):
                wait = 30.0 if getattr(error, "code", None) == 9 else 5.0
                raise TemporaryFailure(f"{method}: {_describe(error)}", wait) from None
            log.info("%s failed (%s), retry %d", method, _describe(error), attempt + 1)
            await asyncio.sleep(delays[attempt] * random.uniform(0.8, 1.2))
        raise AssertionError("unreachable")

    async def send(self, peer_id: int, replies: list[Reply], caps: ClientCaps | None, key: str,
                   delays: tuple[float, ...] | None = None) -> list[int]:
        """Send `replies` in order; random_id = f(key, reply index, part index). Message ids back."""
        caps = caps or self.caps.get(peer_id)
        ids = []
        for i, reply in enumerate(replies):
            attachment = ""
            if reply.files:
                docs = [await vk_files.upload_doc(lambda m, p: self.call(m, p, delays), self.api.http_client,
                                                  peer_id, f) for f in reply.files]
                attachment = ",".join(docs)
            for j, part in enumerate(render(reply, caps)):
                params: dict[str, Any] = {"peer_id": peer_id, "random_id": random_id(key, i, j)}
                if part.text:
                    params["message"] = part.text
                if part.keyboard is not None:
                    params["keyboard"] = part.keyboard
                if part.last and attachment:
                    params["attachment"] = attachment
                ids.append(await self.call("messages.send", params, delays))
        if peer_id in self._marked:
            self._marked.discard(peer_id)
            await self.host.set_reachable("vk", str(peer_id), True)
        return ids

    async def mark_unreachable(self, peer_id: int, reason: str) -> None:
        self._marked.add(peer_id)
        await self.host.set_reachable("vk", str(peer_id), False, reason)

    async def answer_callback(self, callback_id: str, user_id: int, peer_id: int) -> None:
        """Stop the spinner on a callback button (no snackbar). Failures are only logged."""
        try:
            await self.call("messages.sendMessageEventAnswer",
                            {"event_id": callback_id, "user_id": user_id, "peer_id": peer_id}, (0.3,))
        except Exception as e:  # an old event after a restart can no longer be answered
            log.info("sendMessageEventAnswer for peer %s failed: %s", peer_id, _describe(e))


class VKDeliverer:
    """core.ports.Deliverer for VK: notifications from the outbox."""

    channel = "vk"

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        try:
            peer = int(external_id)
        except (TypeError, ValueError):
            raise Unreachable(f"not a VK user id: {external_id!r}") from None
        try:
            await self.sender.send(peer, [reply], None, f"outbox:{key}", DELIVER_DELAYS)
        except PeerUnreachable as e:
            await self.sender.mark_unreachable(peer, e.reason)
            raise Unreachable(e.reason) from None
        except TemporaryFailure as e:
            raise RetryLater(e.reason, e.retry_after) from None
        except vk_files.UploadError as e:
            raise RetryLater(f"upload: {e}", 30.0) from None
