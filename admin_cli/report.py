"""python -m admin_cli report satisfaction|deadlines|workload|channels|all: reports over a period.

  report satisfaction --from 2026-03-01 --to 2026-03-31 --by topic
  report deadlines --format csv --out сроки.csv
  report all --format xlsx --out отчёт.xlsx        (one workbook, a sheet per report)
  report workload --format png --out нагрузка.png

The period defaults to last month. --by groups by channel, topic, need, staff, kind or day
(what each report allows is in its --help). No personal data: codes, counts and staff names.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from services.calendar import WorkCalendar
from bot.settings import Settings
from services import report_files, reports
from services.profile import load_profile
from storage.db import Session as AsyncSession

FORMATS = ("table", "csv", "xlsx", "png")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-04, got {value!r}") from None


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("report", help="reports: satisfaction, deadlines, workload, channels")
    p.add_argument("name", choices=[*reports.REPORTS, "all"])
    p.add_argument("--from", dest="first", type=_date, help="first day, YYYY-MM-DD (default: last month)")
    p.add_argument("--to", dest="last", type=_date, help="last day, YYYY-MM-DD")
    p.add_argument("--by", choices=reports.DIMENSIONS,
                   help="group by; " + "; ".join(f"{k}: {', '.join(v)}" for k, v in reports.ALLOWED_BY.items()))
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", type=Path, help="file to write (needed for xlsx and png)")


def period_of(args, today: date) -> reports.Period:
    default = reports.last_month(today)
    first, last = args.first or default.first, args.last or (default.last if not args.first else today)
    if first > last:
        raise SystemExit("--from is after --to")
    return reports.Period(first, last)


async def run(args: argparse.Namespace, session: AsyncSession, now: datetime | None = None) -> int:
    profile = load_profile(Settings().agency_profile)
    calendar = WorkCalendar.of(profile)
    today = (now or datetime.now(timezone.utc)).astimezone(calendar.tz).date()
    period = period_of(args, today)
    ctx = reports.Context(profile, calendar, today)
    names = list(reports.REPORTS) if args.name == "all" else [args.name]
    if args.format in ("xlsx", "png") and not args.out:
        print(f"--out is needed for {args.format}", file=sys.stderr)
        return 2
    try:
        built = [await reports.build(session, n, period, None if args.name == "all" else args.by, ctx) for n in names]
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    if args.format == "xlsx":
        args.out.write_bytes(report_files.to_xlsx(built))
    elif args.format == "png":
        for i, report in enumerate(built):
            path = args.out if len(built) == 1 else args.out.with_name(f"{args.out.stem}-{report.name}{args.out.suffix}")
            path.write_bytes(report_files.to_png(report))
    elif args.format == "csv":
        text = "\n".join(report_files.to_csv(r) for r in built)
        if args.out:
            args.out.write_text(text, encoding="utf-8-sig")  # Excel opens a BOM-marked file as UTF-8
        else:
            sys.stdout.write(text)
    else:
        show(built)
    if args.out:
        print(f"written: {args.out}")
    return 0


def show(built: list[reports.Report]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=220)  # a file or a pipe: no folding
    for report in built:
        t = Table(title=f"{report.title}: {report.period.title}", header_style="bold")
        for i, h in enumerate(report_files.headers(report)):
            t.add_column(h, justify="left" if i == 0 else "right", overflow="fold")
        rows = report_files.table(report)
        for i, row in enumerate(rows):
            t.add_row(*(report_files.cell_text(v) for v in row), style="bold" if i == len(rows) - 1 else None,
                      end_section=i == len(rows) - 2)
        console.print(t)
