"""Periodic jobs (the outbox sender, visit rating requests) on APScheduler.

The database is the source of truth: jobs poll it, so there are no per-visit jobs to lose
on a restart, and several bot processes may run the same jobs (their claims keep it exact).
"""
from __future__ import annotations

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


def make_scheduler(app, jobs: list[tuple[Job, float]]) -> AsyncIOScheduler:
    """An AsyncIOScheduler with one interval job per (coroutine function, seconds); not started.

    Each job also runs once right at start, so a restart catches up without waiting a full
    interval (reminders that fell due while the bot was down go out at once).
    """
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(app.profile.agency.timezone))
    now = datetime.now(timezone.utc)
    for i, (fn, seconds) in enumerate(jobs):
        name = getattr(fn, "__qualname__", None) or repr(fn)
        scheduler.add_job(fn, "interval", seconds=seconds, id=f"{i}:{name}", name=name,
                          coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE,
                          next_run_time=now)
    return scheduler
