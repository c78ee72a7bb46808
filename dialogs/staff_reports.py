"""The supervisor's reports in the bot: a short summary for this week and last month, and the
XLSX workbook on request (R-3.3, R-3.9, R-5.12). Supervisors only; no personal data."""
from __future__ import annotations

import texts as T
from core.events import Button, OutFile, Reply
from dialogs.context import NAV_MENU, Context, step
from dialogs.staff import StaffStep, today
from services import report_files, reports

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_context(ctx: Context) -> reports.Context:
    return reports.Context(ctx.profile, ctx.deps.calendar, today(ctx))


async def summary_text(ctx: Context) -> str:
    day = today(ctx)
    parts = []
    for title, period in ((T.STAFF_REPORT_WEEK, reports.this_week(day)), (T.STAFF_REPORT_MONTH, reports.last_month(day))):
        figures = await reports.summary(ctx.session, period, report_context(ctx))
        parts.append(T.STAFF_REPORT_SUMMARY.format(**{**figures, "title": title, "period": period.title}))
    return "\n\n".join(parts)


@step
class StaffReports(StaffStep):
    name = "staff.reports"

    async def show(self, ctx: Context) -> Reply:
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        if ctx.staff.role != "supervisor":
            return Reply(T.STAFF_REPORTS_ONLY, nav)
        files = []
        if ctx.data.pop("send_xlsx", False):
            period = reports.last_month(today(ctx))
            built = await reports.build_all(ctx.session, period, report_context(ctx))
            name = f"отчёт-{period.first:%Y-%m}.xlsx"
            files = [OutFile(name, XLSX_MIME, report_files.to_xlsx(built))]
            ctx.note(T.STAFF_REPORT_FILE.format(period=period.title))
        return Reply(await summary_text(ctx), [[Button(T.STAFF_REPORT_XLSX, "sr:xlsx")], *nav], files=files)

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "sr:xlsx" and ctx.staff.role == "supervisor":
            ctx.data["send_xlsx"] = True
        return None
