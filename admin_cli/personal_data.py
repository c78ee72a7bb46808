"""`personal-data export|requests|purge`: a person's data on a written request (152-FZ art. 14,
20), the requests with their 10-working-day deadline, and the purge of lapsed data (art. 21)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from services.calendar import WorkCalendar
from bot.settings import Settings
from core.clock import utc_now
from services import personal_data
from services.profile import load_profile
from storage.files import FileStore

console = Console()


def add_parser(sub) -> None:
    pd = sub.add_parser("personal-data", help="personal data: exports, requests, purge (152-FZ)")
    ps = pd.add_subparsers(dest="action", required=True)
    ex = ps.add_parser("export", help="everything held about a citizen, as JSON and a readable summary")
    ex.add_argument("--citizen", type=int, required=True)
    ex.add_argument("--out", type=Path, default=Path("."), help="folder for the two files")
    req = ps.add_parser("requests", help="requests about personal data and their deadlines")
    req.add_argument("--open", action="store_true", help="only those not yet answered")
    pu = ps.add_parser("purge", help="delete or anonymise data with no legal ground left")
    pu.add_argument("--dry-run", action="store_true", help="show what would go, change nothing")


async def run(args: argparse.Namespace, settings: Settings, sessions) -> int:
    now = utc_now()
    profile = load_profile(settings.agency_profile)
    if args.action == "export":
        async with sessions() as session, session.begin():
            try:
                made = await personal_data.export(session, args.citizen, profile, WorkCalendar.of(profile), "written", now)
            except LookupError as e:
                print(str(e), file=sys.stderr)
                return 1
            args.out.mkdir(parents=True, exist_ok=True)
            stem = args.out / f"citizen-{args.citizen}-request-{made.request_id}"
            Path(f"{stem}.json").write_bytes(made.json)
            Path(f"{stem}.txt").write_bytes(made.summary)
            await personal_data.done(session, made.request_id, now)
        console.print(f"request #{made.request_id} (due {made.due:%Y-%m-%d}): {stem}.json, {stem}.txt")
        return 0
    if args.action == "requests":
        async with sessions() as session:
            found = await personal_data.requests(session, open_only=args.open)
        table = Table("request", "citizen", "kind", "source", "received", "due (10 working days)", "answered")
        for r in found:
            late = r.done_at is None and r.due < now.date()
            table.add_row(str(r.id), str(r.citizen_id), r.kind, r.source, f"{r.received_at:%Y-%m-%d}",
                          f"[red]{r.due:%Y-%m-%d} overdue" if late else f"{r.due:%Y-%m-%d}",
                          f"{r.done_at:%Y-%m-%d}" if r.done_at else "")
        console.print(table)
        return 0
    async with sessions() as session:
        transaction = await session.begin()
        done = await personal_data.purge(session, profile, now)
        if args.dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
            done.delete_files(FileStore(settings.files_dir))
    table = Table("what", "would go" if args.dry_run else "gone")
    for what, n in done.counts.items():
        table.add_row(what.replace("_", " "), str(n))
    console.print(table)
    return 0
