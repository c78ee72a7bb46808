"""Run modes: every configured channel of the registry (polling or webhook), the outbox sender
and the periodic jobs, until SIGTERM or Ctrl+C. ROLE splits them between processes: `web`
takes updates and answers them, `sender` delivers the outbox and runs the periodic jobs
(one such process), `all` (the default) does everything in one."""
from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

from bot.app import App
from bot.scheduler import make_scheduler
from core import channels
from core.heap import freeze_startup_heap
from services.housekeeping import forget_old
from services.live import end_idle
from services.notices import Renderer
from services.pacing import default_limits
from services.sender import OutboxSender
from services.shared_pacing import close_pacers, make_pacers

log = logging.getLogger(__name__)
SENDER_INTERVAL = 1.0
RATINGS_INTERVAL = 60.0
HOUSEKEEPING_INTERVAL = 3600.0
PURGE_INTERVAL = 6 * 3600.0  # 152-FZ art. 21: lapsed data goes within 30 days; this is well inside
IDLE_INTERVAL = 60.0


def periodic_jobs(app: App, sender: OutboxSender | None) -> list:
    """The scheduler's jobs; with a sender, its rounds too (the console: no pipeline task)."""
    async def housekeeping() -> int:
        return await forget_old(app.sessionmaker)

    async def idle_conversations() -> int:  # live conversations with no messages end
        return await end_idle(app.sessionmaker, app.profile, now=app.engine.deps.clock(), files=app.engine.deps.files)

    from services.personal_data import purge_job
    from services.visits import rating_job

    purge = purge_job(app.sessionmaker, app.engine.deps.files, app.profile, app.engine.deps.clock)
    jobs = [(housekeeping, HOUSEKEEPING_INTERVAL), (rating_job(app), RATINGS_INTERVAL),
            (purge, PURGE_INTERVAL), (idle_conversations, IDLE_INTERVAL)]
    return jobs if sender is None else [(sender.run_once, SENDER_INTERVAL), *jobs]


def settle(serves_citizens: bool = True) -> None:
    """The end of start-up: what a citizen's first appeal would otherwise wait for loaded now (the
    abuse screen's word forms, about 0.3 s), then the start-up heap frozen with it, out of the
    cycle collector's walks (the benchmarks start their bots the same way)."""
    if serves_citizens:
        from services import abuse_morph

        abuse_morph.warm_up()
    freeze_startup_heap()


def make_sender(app: App, deliverers: dict) -> OutboxSender:
    """The outbox sender; with REDIS_URL its pacing is shared with every other process."""
    pacers = make_pacers(default_limits(), app.settings.redis_url)
    return OutboxSender(app.sessionmaker, deliverers, gate=app.db_gate, clock=app.engine.deps.clock,
                        renderer=Renderer(app.profile), files=app.engine.deps.files, pacers=pacers,
                        metrics=app.metrics)


def build_web(app: App):
    """The assistant's web application (unsubscribe pages, /health, /ready, /metrics), or None
    without HTTP_PORT."""
    from services.mailing import Unsubscriber
    from web.server import make_app

    s = app.settings
    if not s.http_port:
        return None
    unsub = None
    if s.secret_key:
        unsub = Unsubscriber(app.sessionmaker, s.secret_key.get_secret_value(), app.profile, clock=app.engine.deps.clock)
    else:
        log.warning("SECRET_KEY is not set: the unsubscribe pages are off")
    return make_app(unsubscriber=unsub, max_body=s.http_max_body_kb * 1024, read_timeout=s.http_read_timeout,
                    readiness=app.readiness, metrics_of=app.metrics)


def build_adapters(app: App) -> dict[str, object]:
    """The adapters the settings turn on, by channel name."""
    adapters = {}
    for name in app.settings.configured():
        spec = channels.get(name)
        adapters[name] = spec.build(app, app.settings.channel(name))
    if "email" not in adapters:  # e-mail notices wait in the outbox until SMTP is configured
        log.warning("SMTP_HOST is not set: e-mail notices are kept in the outbox, not sent")
    return adapters


async def run_channels(app: App, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    role = app.settings.role
    adapters = build_adapters(app)
    deliverers = {name: a.deliverer for name, a in adapters.items() if a.deliverer is not None}
    sender = make_sender(app, deliverers) if role in ("all", "sender") else None
    scheduler = make_scheduler(app, periodic_jobs(app, None)) if sender else None
    if scheduler:
        scheduler.start()
    settle(role in ("all", "web"))
    tasks = []
    if role in ("all", "web"):
        tasks += [asyncio.create_task(a.serve(stop), name=f"{name}-channel") for name, a in adapters.items()]
        for name, task in zip(adapters, tasks):  # /ready: each channel serves while its task runs
            app.readiness.serving(name, lambda t=task: not t.done())
    if sender is not None:
        tasks.append(asyncio.create_task(sender.run_forever(stop, idle=SENDER_INTERVAL), name="outbox-sender"))
    log.info("role %s: %s", role, ", ".join(t.get_name() for t in tasks) or "nothing to run")
    web_app = build_web(app)
    if web_app is not None:
        from web.server import serve

        tasks.append(asyncio.create_task(serve(web_app, app.settings.http_host, app.settings.http_port, stop),
                                         name="web"))
    try:
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception():
                log.error("channel stopped: %r", task.exception())
        stop.set()  # one channel down: the others stop too, and the process exits with the error
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if scheduler:
            await scheduler.stop()
        if role == "sender":  # built for their deliverers only: close their sessions
            for adapter in adapters.values():
                if hasattr(adapter, "stop"):
                    with suppress(Exception):
                        await adapter.stop()
        if sender is not None:
            await close_pacers(sender.pacers)
    failed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
    if failed:
        raise failed[0]
