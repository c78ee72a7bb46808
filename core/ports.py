"""What every channel offers the rest of the system besides receiving messages:
delivering a reply to a person outside a conversation (notifications from the outbox)."""
from __future__ import annotations

from typing import Protocol

from core.events import Reply


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
