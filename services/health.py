"""Readiness for /ready: the database answers, its migrations are at the code's head, and every
channel this process runs is serving. Liveness (/health) needs none of this."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from storage import migrate

log = logging.getLogger(__name__)


class Readiness:
    def __init__(self, engine, *, timeout: float = 3.0) -> None:
        self.engine, self.timeout = engine, timeout  # the SQLAlchemy engine
        self._channels: dict[str, Callable[[], bool] | None] = {}

    def expect(self, name: str) -> None:
        """A channel this process must serve; not ready until `serving` is given."""
        self._channels.setdefault(name, None)

    def serving(self, name: str, running: Callable[[], bool]) -> None:
        """`running()` tells whether the channel still serves (its task has not ended)."""
        self._channels[name] = running

    async def check(self) -> tuple[bool, dict]:
        """(ready, a JSON-able report naming what is not ready)."""
        report: dict = {}
        problems: list[str] = []
        try:
            at = await asyncio.wait_for(migrate.current(self.engine), self.timeout)
        except Exception as e:  # the type only: a driver's message may carry a host or a user name
            report["database"] = f"unreachable ({type(e).__name__})"
            problems.append("database")
        else:
            report["database"] = "ok"
            head = migrate.heads()
            if at == head:
                report["migrations"] = "ok"
            else:
                report["migrations"] = f"at {','.join(sorted(at)) or 'none'}, head {','.join(sorted(head))}"
                problems.append("migrations")
        channels = {}
        for name, running in sorted(self._channels.items()):
            if running is None:
                channels[name] = "not started"
            elif not running():
                channels[name] = "stopped"
            else:
                channels[name] = "serving"
                continue
            problems.append(f"channel {name}")
        report["channels"] = channels
        report["ready"] = not problems
        if problems:
            report["not_ready"] = problems
        return not problems, report
