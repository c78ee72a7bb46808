"""`staff add|list|remove`: staff members and how each is recognised in every channel."""
from __future__ import annotations

import argparse
import sys

from core import channels
from storage.models import Staff, StaffIdentity
from storage.repos import people
from storage.repos import staff as rows

ROLES = ("operator", "supervisor")


def staff_channels() -> list[channels.ChannelSpec]:
    return [s for s in channels.registered() if s.staff and s.messenger]


def add_parser(sub) -> None:
    staff = sub.add_parser("staff", help="staff members who work in the bot")
    st = staff.add_subparsers(dest="action", required=True)
    add = st.add_parser("add", help="register a staff member (several channel ids at once are fine)")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=ROLES, default="operator")
    for spec in staff_channels():
        add.add_argument(f"--{spec.name}-id", dest=f"id_{spec.name}", metavar="ID",
                         help=f"the staff member's user id in {spec.title}")
    add.add_argument("--channel", choices=[s.name for s in staff_channels()], help="a channel by name…")
    add.add_argument("--user-id", help="…and the user id in it")
    st.add_parser("list", help="list staff members")
    rm = st.add_parser("remove", help="deactivate a staff member (history keeps the name)")
    rm.add_argument("id", type=int)
    back = st.add_parser("restore", help="bring back a removed staff member as they were")
    back.add_argument("id", type=int)
    role = st.add_parser("set-role", help="change a staff member's role")
    role.add_argument("id", type=int)
    role.add_argument("role", choices=ROLES)


def identities_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(channel, user id) pairs from the flags; SystemExit with a clear message when one is wrong."""
    pairs = [(s.name, getattr(args, f"id_{s.name}")) for s in staff_channels() if getattr(args, f"id_{s.name}", None)]
    if args.channel or args.user_id:
        if not (args.channel and args.user_id):
            raise SystemExit("--channel and --user-id go together")
        pairs.append((args.channel, args.user_id))
    for channel, user_id in pairs:
        spec = channels.get(channel)
        if not spec.valid_user_id(user_id.strip()):
            raise SystemExit(f"{user_id!r} is not a {spec.title} user id")
    return [(c, u.strip()) for c, u in dict(pairs).items()]


def describe(member: Staff) -> str:
    ids = " ".join(f"{i.channel}={i.user_id}" for i in member.identities) or "-"
    return f"#{member.id}\t{member.name}\t{member.role}\t{ids}\t{'active' if member.active else 'removed'}"


async def run(args: argparse.Namespace, session) -> int:
    if args.action == "add":
        pairs = identities_of(args)
        if not pairs:
            flags = ", ".join(f"--{s.name}-id" for s in staff_channels())
            print(f"give at least one of {flags} (or --channel NAME --user-id ID)", file=sys.stderr)
            return 2
        taken = await rows.holders(session, pairs)
        owners = {i.staff_id for i in taken}
        if len(owners) > 1:
            print("these ids belong to different staff members", file=sys.stderr)
            return 1
        if taken:
            clash = await session.get(Staff, owners.pop())
            if clash.active:
                print(f"already registered as staff #{clash.id} {clash.name}", file=sys.stderr)
            else:  # never rename or demote anyone silently
                print(f"these ids belong to removed staff member #{clash.id} {clash.name} ({clash.role}); "
                      f"to bring them back: python -m admin_cli staff restore {clash.id}"
                      f" (then staff set-role {clash.id} ROLE to change the role)", file=sys.stderr)
            return 1
        member = Staff(name=args.name, role=args.role)
        session.add(member)
        await session.flush()
        for channel, user_id in pairs:
            session.add(StaffIdentity(staff_id=member.id, channel=channel, user_id=user_id))
        await people.touch_dialogs(session, pairs)  # a running bot's cached copy of them is stale
        print(f"added staff #{member.id} {member.name} ({member.role})")
        return 0
    if args.action == "list":
        members = await rows.everyone(session)
        if not members:
            print("no staff registered")
        for member in members:
            print(describe(member))
        return 0
    member = await session.get(Staff, args.id)
    if args.action == "restore":
        if member is None or member.active:
            print(f"no removed staff member #{args.id}", file=sys.stderr)
            return 1
        member.active = True
        await people.touch_dialogs(session, [(i.channel, i.user_id) for i in member.identities])
        print(f"restored staff #{member.id} {member.name} ({member.role})")
        return 0
    if member is None or not member.active:
        print(f"no active staff member #{args.id}", file=sys.stderr)
        return 1
    if args.action == "set-role":
        before, member.role = member.role, args.role
        print(f"staff #{member.id} {member.name}: {before} -> {member.role}")
        return 0
    member.active = False
    print(f"removed staff #{member.id} {member.name}")
    return 0
