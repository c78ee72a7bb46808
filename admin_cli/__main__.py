"""python -m admin_cli: the database, staff members, reception slots, the production calendar, mailings,
personal data and reports."""
from __future__ import annotations

import argparse
import asyncio
import sys

import channels  # noqa: F401  (registers every channel)
from admin_cli import calendar, mailing, personal_data, profile, report, slots, staff
from pydantic import ValidationError

from bot.settings import Settings, settings_error
from services.profile import load_profile
from storage import migrate
from storage.db import make_engine, make_sessionmaker


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m admin_cli", description=__doc__)
    sub = parser.add_subparsers(dest="area", required=True)

    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="action", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations")
    staff.add_parser(sub)
    slots.add_parser(sub)
    profile.add_parser(sub)
    calendar.add_parser(sub)
    mailing.add_parser(sub)
    personal_data.add_parser(sub)
    report.add_parser(sub)
    return parser


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.area == "profile":
        return profile.run(args, settings)
    if args.area == "calendar":  # no database needed
        return calendar.run(args, load_profile(settings.agency_profile))
    engine = make_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        if args.area == "db":
            print("database is up to date")
            return 0
        sessions = make_sessionmaker(engine)
        if args.area == "mailing":
            return await mailing.run(args, settings, sessions)
        if args.area == "personal-data":
            return await personal_data.run(args, settings, sessions)
        async with sessions() as session, session.begin():
            if args.area == "report":
                return await report.run(args, session)
            if args.area == "slots":
                return await slots.run(args, session)
            return await staff.run(args, session)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as e:
        print(f"error: {settings_error(e)}", file=sys.stderr)
        return 2
    return asyncio.run(run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
