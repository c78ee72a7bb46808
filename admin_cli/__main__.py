"""python -m admin_cli: database and staff administration."""
from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy import or_, select

from admin_cli import slots
from bot.settings import Settings
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.models import Staff

ROLES = ("operator", "supervisor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m admin_cli", description=__doc__)
    sub = parser.add_subparsers(dest="area", required=True)

    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="action", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations")

    staff = sub.add_parser("staff", help="staff members who work in the bot")
    st = staff.add_subparsers(dest="action", required=True)
    add = st.add_parser("add", help="register a staff member")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=ROLES, default="operator")
    add.add_argument("--telegram-id")
    add.add_argument("--vk-id")
    st.add_parser("list", help="list staff members")
    rm = st.add_parser("remove", help="deactivate a staff member (history keeps the name)")
    rm.add_argument("id", type=int)
    slots.add_parser(sub)
    return parser


def _digits(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value.lstrip("-").isdigit():
        raise SystemExit(f"{flag} must be a number, got {value!r}")
    return value


async def run(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        if args.area == "db":
            print("database is up to date")
            return 0
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            if args.area == "slots":
                return await slots.run(args, session)
            if args.action == "add":
                tg, vk = _digits(args.telegram_id, "--telegram-id"), _digits(args.vk_id, "--vk-id")
                if not (tg or vk):
                    print("give --telegram-id or --vk-id (or both)", file=sys.stderr)
                    return 2
                conds = [Staff.telegram_id == tg] if tg else []
                conds += [Staff.vk_id == vk] if vk else []
                clash = await session.scalar(select(Staff).where(or_(*conds)))
                if clash:
                    if clash.active:
                        print(f"already registered as staff #{clash.id} {clash.name}", file=sys.stderr)
                        return 1
                    clash.active, clash.name, clash.role = True, args.name, args.role
                    clash.telegram_id, clash.vk_id = tg or clash.telegram_id, vk or clash.vk_id
                    print(f"reactivated staff #{clash.id} {clash.name} ({clash.role})")
                    return 0
                member = Staff(name=args.name, role=args.role, telegram_id=tg, vk_id=vk)
                session.add(member)
                await session.flush()
                print(f"added staff #{member.id} {member.name} ({member.role})")
            elif args.action == "list":
                rows = (await session.scalars(select(Staff).order_by(Staff.id))).all()
                if not rows:
                    print("no staff registered")
                for s in rows:
                    state = "active" if s.active else "removed"
                    print(f"#{s.id}\t{s.name}\t{s.role}\ttelegram={s.telegram_id or '-'}\tvk={s.vk_id or '-'}\t{state}")
            elif args.action == "remove":
                member = await session.get(Staff, args.id)
                if member is None or not member.active:
                    print(f"no active staff member #{args.id}", file=sys.stderr)
                    return 1
                member.active = False
                print(f"removed staff #{member.id} {member.name}")
        return 0
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return asyncio.run(run(args, Settings()))


if __name__ == "__main__":
    sys.exit(main())
