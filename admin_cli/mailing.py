"""`mailing send|create|list|show|withdraw`: e-mail mailings to those who consented (R-4.1, R-4.2).

`mailing send --subject TEXT --body-file PATH [--yes]` creates a mailing and sends it at once;
`mailing create` stages one, `mailing send ID` sends or resumes it. Each letter is checked
against the consent register at the moment it is sent."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.settings import Settings
from channels.email import EmailDeliverer
from core.clock import utc_now
from services import mailing
from services.profile import load_profile
from storage.mailing_models import Mailing

console = Console()


def add_parser(sub) -> None:
    m = sub.add_parser("mailing", help="e-mail mailings to citizens who consented")
    ms = m.add_subparsers(dest="action", required=True)
    send = ms.add_parser("send", help="send a new mailing (--subject, --body-file) or resume mailing ID")
    send.add_argument("id", nargs="?", type=int, help="a staged or interrupted mailing")
    send.add_argument("--subject")
    send.add_argument("--body-file", type=Path, help="Markdown or plain text")
    send.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    create = ms.add_parser("create", help="stage a mailing without sending it")
    create.add_argument("--subject", required=True)
    create.add_argument("--body-file", type=Path, required=True)
    ms.add_parser("list", help="list mailings")
    show = ms.add_parser("show", help="a mailing's letters by outcome")
    show.add_argument("id", type=int)
    wd = ms.add_parser("withdraw", help="withdraw a citizen's mailing consent (a written request)")
    wd.add_argument("--citizen", type=int, required=True)


def read_body(path: Path) -> str:
    try:
        body = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SystemExit(f"cannot read {path}: {e.strerror}") from None
    if not body.strip():
        raise SystemExit(f"{path} is empty")
    return body


def check_sending(settings: Settings) -> None:
    if not settings.public_base_url or not settings.secret_key:
        raise SystemExit("set PUBLIC_BASE_URL and SECRET_KEY: every letter needs a working unsubscribe link")
    if not settings.public_base_url.startswith("https://"):
        console.print("[yellow]PUBLIC_BASE_URL is not https://: mail clients offer one-click unsubscribe only over HTTPS")
    if not settings.channel("email").smtp_host:
        raise SystemExit("set SMTP_HOST: there is no SMTP server to send through")


async def run(args: argparse.Namespace, settings: Settings, sessions) -> int:
    now = utc_now()
    if args.action == "create" or (args.action == "send" and args.id is None):
        if not (args.subject and args.body_file):
            raise SystemExit("give --subject and --body-file (or the id of a mailing to resume)")
        body = read_body(args.body_file)
        if args.action == "send":
            check_sending(settings)
        async with sessions() as session, session.begin():
            created = await mailing.create(session, args.subject, body, now)
            waiting = await mailing.stage(session, created.id)
        console.print(f"mailing #{created.id} «{created.subject}»: {waiting} citizen(s) consent now")
        if args.action == "create":
            return 0
        if not args.yes and not confirm(f"send mailing #{created.id} to {waiting} citizen(s)?"):
            console.print(f"not sent; later: python -m admin_cli mailing send {created.id}")
            return 1
        return await send(settings, sessions, created.id)
    if args.action == "send":
        check_sending(settings)
        return await send(settings, sessions, args.id)
    async with sessions() as session, session.begin():
        if args.action == "list":
            table = Table("id", "subject", "status", "created", "sent", "skipped", "in doubt", "waiting")
            for m in await mailing.everything(session):
                c = await mailing.counts(session, m.id)
                table.add_row(str(m.id), m.subject, m.status, f"{m.created_at:%Y-%m-%d %H:%M}", str(c.get("sent", 0)),
                              str(c.get("skipped", 0)), str(c.get("unknown", 0)), str(c.get("pending", 0)))
            console.print(table)
            return 0
        if args.action == "show":
            m = await session.get(Mailing, args.id)
            if m is None:
                print(f"no mailing #{args.id}", file=sys.stderr)
                return 1
            console.print(f"#{m.id} «{m.subject}» {m.status}, created {m.created_at:%Y-%m-%d %H:%M} UTC")
            table = Table("letter", "citizen", "status", "sent at", "note")
            for letter in await mailing.letters(session, m.id):
                table.add_row(str(letter.id), str(letter.citizen_id), letter.status,
                              f"{letter.sent_at:%Y-%m-%d %H:%M:%S}" if letter.sent_at else "", letter.last_error or "")
            console.print(table)
            return 0
        done = await mailing.unsubscribe(session, args.citizen, "admin", now)
        print(f"citizen #{args.citizen}: " + ("mailing consent withdrawn" if done else "no mailing consent in force"))
        return 0


def confirm(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "д", "да")
    except EOFError:
        return False


async def send(settings: Settings, sessions, mailing_id: int) -> int:
    profile = load_profile(settings.agency_profile)
    sender = mailing.MailingSender(
        sessions, EmailDeliverer(settings.channel("email")), profile, secret=settings.secret_key.get_secret_value(),
        base_url=settings.public_base_url, rate=settings.mailing_rate, mailto=settings.mailing_mailto)
    async with sessions() as session:
        if await session.get(Mailing, mailing_id) is None:
            print(f"no mailing #{mailing_id}", file=sys.stderr)
            return 1
        left = (await mailing.counts(session, mailing_id)).get("pending", 0)
    columns = (TextColumn("[bold]mailing #{task.fields[mid]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("sent {task.fields[sent]}, skipped {task.fields[skipped]}"), TimeRemainingColumn())
    tally = {"sent": 0, "skipped": 0}
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("send", total=left or None, mid=mailing_id, **tally)

        def step(status: str) -> None:
            if status in tally:
                tally[status] += 1
            progress.update(task, advance=0 if status == "stopped" else 1, **tally)

        counts = await sender.send(mailing_id, progress=step)
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if counts.get("pending"):
        console.print("[yellow]the SMTP server is not taking letters now; resume: "
                      f"python -m admin_cli mailing send {mailing_id}")
        return 3
    return 0

