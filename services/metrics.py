"""The assistant's metrics for /metrics (Prometheus text format, prometheus-client).

Every metric lives in the registry of one `Metrics` object (not the library's global registry),
so each App, and each test, has its own. Labels are only a channel, a lane and an outcome or
status: never a person, an address or a text."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from storage.db import Database
from storage.repos import gauges

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# What the adapters put in RetryLater.reason when the platform said «too fast»: Telegram's flood
# limit, an HTTP 429 (MAX, and Telegram's own), VK errors 6 (too many requests a second) and 9 (flood control).
RATE_LIMIT = re.compile(r"\b429\b|flood|too many requests|VK error [69]:", re.IGNORECASE)


def is_rate_limit(reason: str) -> bool:
    return bool(RATE_LIMIT.search(reason or ""))


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.updates = Counter("assistant_updates", "Updates handled at the host entry (ok, duplicate, error)",
                               ["channel", "outcome"], registry=r)
        self.latency = Histogram("assistant_update_seconds", "Time to handle one update, from the adapter's call "
                                 "to the replies", ["channel"], buckets=LATENCY_BUCKETS, registry=r)
        self.deliveries = Counter("assistant_outbox_deliveries", "Outbox sends by outcome "
                                  "(sent, retried, failed, dropped)", ["channel", "outcome"], registry=r)
        self.rate_limited = Counter("assistant_rate_limited", "Deliveries the platform refused as too fast (429, "
                                    "flood control)", ["channel"], registry=r)
        self.pending = Gauge("assistant_outbox_pending", "Outbox rows waiting to be sent", ["channel", "lane"],
                             registry=r)
        self.oldest = Gauge("assistant_outbox_oldest_due_seconds", "How long the oldest due outbox row has been "
                            "waiting since it became due (0 when none is due)", ["channel"], registry=r)
        self.consultations = Gauge("assistant_consultations_open", "Live consultations not ended",
                                   ["channel", "status"], registry=r)
        self.overdue = Gauge("assistant_appeals_overdue", "Open appeals past their deadline", registry=r)
        self.scrape_errors = Counter("assistant_scrape_errors", "Scrapes whose database gauges could not be read",
                                     registry=r)
        self._source: tuple | None = None
        self._lock = asyncio.Lock()

    # ---- counted where things happen
    def handled(self, channel: str, outcome: str, seconds: float) -> None:
        self.updates.labels(channel, outcome).inc()
        self.latency.labels(channel).observe(seconds)

    def delivered(self, channel: str, outcome: str) -> None:
        self.deliveries.labels(channel, outcome).inc()

    def retry_later(self, channel: str, reason: str) -> None:
        if is_rate_limit(reason):
            self.rate_limited.labels(channel).inc()

    # ---- read from the database at scrape time
    def watch(self, sessionmaker: Database, clock, tz) -> None:
        """Where the gauges come from: the database, the clock, the agency's time zone (for «today»)."""
        self._source = (sessionmaker, clock, tz)

    async def refresh(self) -> None:
        if self._source is None:
            return
        sessionmaker, clock, tz = self._source
        now: datetime = clock()
        async with sessionmaker() as session:
            depth = await gauges.outbox_depth(session, now)
            live = await gauges.open_consultations(session)
            overdue = await gauges.overdue_appeals(session, now.astimezone(tz).date())
        self.pending.clear()
        self.oldest.clear()
        oldest: dict[str, float] = {}
        for channel, lane, count, due in depth:
            self.pending.labels(channel, str(lane)).set(count)
            age = max(0.0, (now - due).total_seconds()) if due is not None else 0.0
            oldest[channel] = max(oldest.get(channel, 0.0), age)
        for channel, age in oldest.items():
            self.oldest.labels(channel).set(age)
        self.consultations.clear()
        for channel, status, count in live:
            self.consultations.labels(channel, status).set(count)
        self.overdue.set(overdue)

    async def scrape(self) -> bytes:
        """The text of /metrics; the counters are served even when the database is not."""
        async with self._lock:
            try:
                await asyncio.wait_for(self.refresh(), 5)
            except Exception as e:
                self.scrape_errors.inc()
                log.warning("metrics: the database gauges could not be read (%s)", type(e).__name__)
            return generate_latest(self.registry)
