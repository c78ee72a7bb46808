"""python -m bot [run|shell]: run the messenger channels, or the console chat."""
from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

import channels  # noqa: F401  (registers every channel)
from bot import loop
from bot.app import build_app, setup_logging
from bot.settings import Settings, settings_error
from core import channels as registry
from core.ports import ConfigError
from services.profile import ProfileError, missing_line
from services.knowledge import KnowledgeError

log = logging.getLogger("bot")


async def shell(settings: Settings, user: str = "local") -> None:
    from bot.runner import make_sender, periodic_jobs
    from bot.scheduler import make_scheduler
    from channels.console import ConsoleDeliverer, Screen, run_console
    from channels.email import EmailDeliverer

    app = await build_app(settings)
    screen = Screen()  # the numbered buttons, shared by the chat and the notices it prints
    deliverers = {"console": ConsoleDeliverer(screen=screen)}
    if "email" in settings.configured():
        deliverers["email"] = EmailDeliverer(settings.channel("email"))
    scheduler = make_scheduler(app, periodic_jobs(app, make_sender(app, deliverers)))
    scheduler.start()
    try:
        print(f"{app.profile.agency.name}: консольный чат. Выход: /quit\n")
        await run_console(app.engine, user, screen=screen)
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
    if missing_line(app.profile):
        log.warning(missing_line(app.profile))
    try:
        await run_channels(app)
    finally:
        await app.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "shell"])
    parser.add_argument("--user", default="local",
                        help="shell: the console user id (a staff member added with --console-id gets staff mode)")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        for spec in registry.registered():  # every channel's block, so a bad value stops us now
            settings.channel(spec.name)
    except ValidationError as e:
        print(f"error: {settings_error(e)}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level if args.mode == "run" else "WARNING", settings.log_format)
    try:
        loop.run(shell(settings, args.user) if args.mode == "shell" else run(settings), settings.event_loop)
    except ProfileError as e:
        print(f"Ошибка профиля ведомства: {e}", file=sys.stderr)
        return 2
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KnowledgeError as e:
        print(f"Ошибка базы знаний: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
