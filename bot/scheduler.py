"""Periodic jobs (the outbox sender, visit rating requests) on APScheduler.

The database is the source of truth: jobs poll it, so there are no per-visit jobs to lose
on a restart, and several bot processes may run the same jobs (their claims keep it exact).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]

# APScheduler's default misfire_grace_time is 1 second: a run that starts more than a second
# late (a busy event loop, a slow database, a laptop waking up) is skipped with only a log
# line. These jobs only poll the database and are idempotent, so a late run is always better
# than none: None lets a run start however late it is, `coalesce` folds a backlog of missed
# runs into one, and `max_instances=1` skips a tick while the previous run is still going.
MISFIRE_GRACE = None


class Scheduler(AsyncIOScheduler):
    """AsyncIOScheduler that can stop gracefully: its shutdown cancels running jobs, so
    `stop()` first lets the runs under way finish (a sender mid-batch marks what it sent)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.running_jobs: set[asyncio.Task] = set()

    def track(self, fn: Job) -> Job:
        async def job():
            task = asyncio.current_task()
            self.running_jobs.add(task)
            try:
                return await fn()
            finally:
                self.running_jobs.discard(task)

        job.__qualname__ = getattr(fn, "__qualname__", None) or repr(fn)
        return job

    async def stop(self, timeout: float = 30.0) -> None:
        if not self.running:
            return
        self.pause()
        if self.running_jobs:
            await asyncio.wait(list(self.running_jobs), timeout=timeout)
        self.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler applies the shutdown on the next loop turn


def make_scheduler(app, jobs: list[tuple[Job, float]]) -> Scheduler:
    """A scheduler with one interval job per (coroutine function, seconds); not started.

    Each job also runs once right at start, so a restart catches up without waiting a full
    interval (reminders that fell due while the bot was down go out at once).
    """
    scheduler = Scheduler(timezone=ZoneInfo(app.profile.agency.timezone))
    now = datetime.now(timezone.utc)
    for i, (fn, seconds) in enumerate(jobs):
        name = getattr(fn, "__qualname__", None) or repr(fn)
        scheduler.add_job(scheduler.track(fn), "interval", seconds=seconds, id=f"{i}:{name}", name=name,
                          coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE,
                          next_run_time=now)
    return scheduler
