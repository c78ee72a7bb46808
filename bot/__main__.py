"""python -m bot [run|shell]: run the messenger channels, or the console chat."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.app import build_app, setup_logging
from services.knowledge import KnowledgeError
from services.profile import ProfileError
from bot.settings import Settings

log = logging.getLogger("bot")


async def shell(settings: Settings) -> None:
    from bot.runner import make_sender, periodic_jobs
    from bot.scheduler import make_scheduler
    from channels.console import ConsoleDeliverer, run_console
    from channels.email import EmailDeliverer

    app = await build_app(settings)
    deliverers = {"console": ConsoleDeliverer()}
    if "email" in settings.configured():
        deliverers["email"] = EmailDeliverer(settings.channel("email"))
    scheduler = make_scheduler(app, periodic_jobs(app, make_sender(app, deliverers)))
    scheduler.start()
    try:
        print(f"{app.profile.agency.name}: консольный чат. Выход: /quit\n")
        await run_console(app.engine)
    finally:
        await scheduler.stop()
        await app.close()


async def run(settings: Settings) -> None:
    if not settings.messengers_configured:
        log.info("no messenger token is set: starting the console chat")
        logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
        await shell(settings)
        return
    from bot.runner import run_channels

    app = await build_app(settings)
    try:
        await run_channels(app)
    finally:
        await app.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "shell"])
    args = parser.parse_args(argv)
    settings = Settings()
    setup_logging(settings.log_level if args.mode == "run" else "WARNING")
    try:
        asyncio.run(shell(settings) if args.mode == "shell" else run(settings))
    except ProfileError as e:
        print(f"Ошибка профиля ведомства: {e}", file=sys.stderr)
        return 2
    except KnowledgeError as e:
        print(f"Ошибка базы знаний: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
