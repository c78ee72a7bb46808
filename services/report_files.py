"""Reports as files: CSV, one XLSX workbook with a sheet per report, PNG charts."""
from __future__ import annotations

import csv
import io
from datetime import date

import texts as T
from services.reports import Report

# Which columns each chart stacks, and their colours (colour-blind friendly, Okabe–Ito).
CHART_SERIES = {
    "satisfaction": ["satisfied", "partly", "not_satisfied"],
    "deadlines": ["on_time", "late", "overdue_now"],
    "workload": ["appeals", "consultations", "callbacks", "visits"],
    "channels": ["sent", "pending", "dead", "letters"],  # failures in the warning colour
}
COLOURS = ["#009E73", "#E69F00", "#D55E00", "#0072B2"]
CHART_TITLES = {"satisfaction": T.CHART_SATISFACTION, "deadlines": T.CHART_DEADLINES,
                "workload": T.CHART_WORKLOAD, "channels": T.CHART_CHANNELS}


def headers(report: Report) -> list[str]:
    return [T.REPORT_BY[report.by], *(T.REPORT_COLUMNS[c] for c in report.columns)]


def table(report: Report) -> list[list]:
    """Rows with the total last; None shown as a dash."""
    out = []
    for row in [*report.rows, report.total]:
        out.append([row["key"], *("—" if row[c] is None else row[c] for c in report.columns)])
    return out


def cell_text(value) -> str:
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def to_csv(report: Report) -> str:
    """Semicolon-separated, as Russian Excel expects; dates ISO so any program reads them."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(headers(report))
    for row in table(report):
        writer.writerow([v.isoformat() if isinstance(v, date) else v for v in row])
    return buf.getvalue()


def to_xlsx(reports: list[Report]) -> bytes:
    """One workbook, a sheet per report: the period on top, bold headers, frozen panes, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="305496")
    for report in reports:
        sheet = book.create_sheet(report.title[:31])
        sheet.append([f"{report.title}: {report.period.title}"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(headers(report))
        for cell in sheet[2]:
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for values in table(report):
            sheet.append(values)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, date):
                    cell.number_format = "DD.MM.YYYY"
                elif isinstance(cell.value, float):
                    cell.number_format = "0.0"
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "B3"
        sheet.row_dimensions[2].height = 45
        sheet.column_dimensions["A"].width = 32
        for i in range(2, len(report.columns) + 2):
            sheet.column_dimensions[get_column_letter(i)].width = 14
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def to_png(report: Report) -> bytes:
    """A chart: days as stacked columns over time, anything else as stacked horizontal bars."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    series = CHART_SERIES[report.name]
    rows = report.rows
    labels = [cell_text(r["key"]) for r in rows]
    fig, ax = plt.subplots(figsize=(11, max(4.5, 0.45 * len(rows) + 2.2)) if report.by != "day" else (12, 5.5),
                           dpi=110)
    base = [0] * len(rows)
    for name, colour in zip(series, COLOURS):
        values = [r[name] or 0 for r in rows]
        if report.by == "day":
            ax.bar(range(len(rows)), values, bottom=base, color=colour, label=T.REPORT_COLUMNS[name], width=0.8)
        else:
            ax.barh(range(len(rows)), values, left=base, color=colour, label=T.REPORT_COLUMNS[name], height=0.6)
        base = [b + v for b, v in zip(base, values)]
    if report.by == "day":
        step = max(1, len(rows) // 16)  # at most about 16 dates under the axis: no overlap
        ax.set_xticks(range(0, len(rows), step), [f"{r['key']:%d.%m}" if isinstance(r["key"], date) else labels[i]
                                                  for i, r in enumerate(rows)][::step], rotation=45, ha="right")
        ax.set_xlabel(T.CHART_DAY)
        ax.set_ylabel(T.CHART_COUNT)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.set_yticks(range(len(rows)), [s if len(s) <= 34 else s[:33] + "…" for s in labels])
        ax.invert_yaxis()
        ax.set_xlabel(T.CHART_COUNT)
        ax.set_ylabel(T.REPORT_BY[report.by])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(CHART_TITLES[report.name].format(period=report.period.title), fontsize=13, pad=12)
    ax.grid(axis="x" if report.by != "day" else "y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 if report.by == "day" else -0.12),
              ncol=len(series), frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
