"""Reports over a known month, on SQLite and PostgreSQL: every figure asserted (R-3.3, R-3.9,
R-5.12; 59-FZ art. 8 part 3 and art. 12). The data set is described in report_data.py."""
from __future__ import annotations

import io
from datetime import date

import pytest

from services import report_files, reports
from tests.services import report_data

MARCH = reports.Period(date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
async def data(app):
    async with app.sessionmaker() as s, s.begin():
        ids = await report_data.build(s)
    return ids


async def build(app, name, by=None, period=MARCH):
    ctx = reports.Context(app.profile, app.engine.deps.calendar, report_data.TODAY)
    async with app.sessionmaker() as s:
        return await reports.build(s, name, period, by, ctx)


def rows_by_key(report):
    return {r["key"]: r for r in report.rows}


async def test_satisfaction_by_kind_latest_rating_and_the_two_questions_R_3_9_R_5_12(app, data):
    """Appeals answered in March are asked once each and the latest rating counts (A1: 1 then 3);
    ended consultations carry the two questions; attended visits their rating."""
    r = await build(app, "satisfaction", "kind")
    got = rows_by_key(r)
    assert list(got) == ["Обращение", "Консультация", "Приём"]
    a, c, v = got["Обращение"], got["Консультация"], got["Приём"]
    assert (a["asked"], a["rated"], a["satisfied"], a["partly"], a["not_satisfied"]) == (2, 2, 1, 0, 1)
    assert (a["response_rate"], a["satisfied_share"], a["not_satisfied_share"]) == (100.0, 50.0, 50.0)
    assert (c["asked"], c["rated"], c["satisfied"], c["partly"], c["not_satisfied"]) == (4, 3, 1, 1, 1)
    assert (c["answered_yes"], c["answered_no"], c["response_rate"]) == (2, 1, 75.0)
    assert (v["asked"], v["rated"], v["satisfied"], v["response_rate"]) == (2, 1, 1, 50.0)
    t = r.total
    assert (t["asked"], t["rated"], t["satisfied"], t["partly"], t["not_satisfied"]) == (8, 6, 3, 1, 2)
    assert (t["response_rate"], t["satisfied_share"], t["partly_share"], t["not_satisfied_share"]) == (75.0, 50.0, 16.7, 33.3)
    assert (t["answered_yes"], t["answered_no"]) == (2, 1)


async def test_satisfaction_by_staff_and_channel(app, data):
    by_staff = rows_by_key(await build(app, "satisfaction", "staff"))
    ivanova, petrov, nobody = by_staff["Иванова А. А."], by_staff["Петров Б. Б."], by_staff["не указано"]
    # Иванова: A1 (3), C2 (2), C4 (no survey), V1 (3), V2 (none)
    assert (ivanova["asked"], ivanova["rated"], ivanova["satisfied"], ivanova["partly"]) == (5, 3, 2, 1)
    # Петров: A2 (1), C3 (1)
    assert (petrov["asked"], petrov["rated"], petrov["not_satisfied"]) == (2, 2, 2)
    assert (nobody["asked"], nobody["satisfied"]) == (1, 1)  # the FAQ answer C1
    by_channel = rows_by_key(await build(app, "satisfaction", "channel"))
    assert by_channel["ВКонтакте"]["asked"] == 2 and by_channel["ВКонтакте"]["partly"] == 1  # A2, C2
    assert by_channel["Telegram"]["asked"] == 6


async def test_deadlines_on_time_late_overdue_extended_redirected_in_working_days_59_FZ(app, data):
    """Closed in March: A1 on time in 8 working days, A2 late in 7, A5 and A6 redirected (4 and 7).
    Redirected within 7 days: A5; after: A6. Overdue now: A4 and A8. Extended: A3. Median by
    nearest rank over 4, 7, 7, 8 is 7; the 90th percentile is 8 (23.02 and 09.03 are holidays)."""
    r = await build(app, "deadlines", "topic")
    t = r.total
    assert (t["closed"], t["on_time"], t["late"], t["overdue_now"], t["extended"]) == (4, 3, 1, 2, 1)
    assert (t["redirected"], t["redirected_in_time"], t["redirected_late"]) == (2, 1, 1)
    assert (t["median_days"], t["p90_days"]) == (7, 8)
    got = rows_by_key(r)
    heating, billing, water = got["Отопление и горячая вода"], got["Плата за ЖКУ"], got["Холодная вода и канализация"]
    assert (heating["closed"], heating["on_time"], heating["late"], heating["median_days"], heating["p90_days"]) == (2, 1, 1, 7, 8)
    assert (billing["closed"], billing["redirected_in_time"], billing["redirected_late"], billing["median_days"]) == (2, 1, 1, 4)
    assert (water["closed"], water["overdue_now"], water["extended"], water["median_days"]) == (0, 1, 1, None)
    assert got["Другое"]["overdue_now"] == 1
    by_need = rows_by_key(await build(app, "deadlines", "need"))
    assert by_need["Пересчитать плату"]["closed"] == 3 and by_need["Пересчитать плату"]["late"] == 1


async def test_workload_per_day_with_no_shows_and_transfers_in_local_days(app, data):
    """A8 came at 21:00 UTC on 28.02, which is 01.03 in Astrakhan: it counts on 01.03. Every day of
    the month is a row, quiet ones too."""
    r = await build(app, "workload", "day")
    got = rows_by_key(r)
    assert len(r.rows) == 31 and r.rows[0]["key"] == date(2026, 3, 1)
    assert got[date(2026, 3, 1)]["appeals"] == 1
    assert got[date(2026, 3, 2)]["appeals"] == 4
    assert got[date(2026, 3, 3)]["transfers"] == 1 and got[date(2026, 3, 4)]["transfers"] == 1
    assert got[date(2026, 3, 10)]["visits"] == 1 and got[date(2026, 3, 10)]["no_shows"] == 1
    assert got[date(2026, 3, 11)]["visits"] == 0  # the cancelled visit
    assert got[date(2026, 3, 20)]["callbacks"] == 1
    t = r.total
    assert (t["appeals"], t["consultations"], t["callbacks"], t["visits"], t["no_shows"], t["transfers"]) == (6, 4, 2, 3, 1, 2)
    by_staff = rows_by_key(await build(app, "workload", "staff"))
    assert by_staff["Иванова А. А."]["appeals"] == 1 and by_staff["Иванова А. А."]["visits"] == 3  # A5; marked visits
    assert by_staff["Петров Б. Б."]["appeals"] == 3 and by_staff["Петров Б. Б."]["transfers"] == 1


async def test_channels_where_people_come_from_and_which_fail(app, data):
    """A dead telegram notice that went on by e-mail is a fallback; a dead e-mail with nothing after
    it is not; an address marked unreachable counts once."""
    got = rows_by_key(await build(app, "channels", "channel"))
    tg, vk, email, post = got["Telegram"], got["ВКонтакте"], got["Электронная почта"], got["Почта (письма)"]
    assert (tg["appeals"], tg["consultations"], tg["callbacks"]) == (3, 3, 1)
    assert (vk["appeals"], vk["consultations"], vk["callbacks"]) == (3, 1, 1)
    assert (tg["notices"], tg["sent"], tg["dead"], tg["fallbacks"], tg["unreachable"]) == (2, 1, 1, 1, 1)
    assert (email["notices"], email["sent"], email["dead"], email["fallbacks"]) == (2, 1, 1, 0)
    assert (post["letters"], vk["pending"]) == (1, 1)


async def test_an_empty_period_gives_zeroes_not_errors(app, data):
    """Only "overdue now" is about today whatever the period; everything else is empty."""
    r = await build(app, "deadlines", "topic", reports.Period(date(2025, 1, 1), date(2025, 1, 31)))
    assert r.total["closed"] == 0 and r.total["median_days"] is None and r.total["overdue_now"] == 2
    assert all(row["closed"] == row["extended"] == row["redirected"] == 0 for row in r.rows)
    s = await build(app, "satisfaction", "kind", reports.Period(date(2025, 1, 1), date(2025, 1, 31)))
    assert s.rows == [] and s.total["asked"] == 0 and s.total["response_rate"] == 0.0
    with pytest.raises(ValueError):
        await build(app, "channels", "need")


async def test_xlsx_one_sheet_per_report_headers_frozen_dates_as_dates(app, data):
    from openpyxl import load_workbook

    ctx = reports.Context(app.profile, app.engine.deps.calendar, report_data.TODAY)
    async with app.sessionmaker() as s:
        built = await reports.build_all(s, MARCH, ctx)
    book = load_workbook(io.BytesIO(report_files.to_xlsx(built)))
    assert book.sheetnames == ["Удовлетворённость", "Сроки ответа", "Нагрузка", "Каналы"]
    sat = book["Удовлетворённость"]
    assert sat["A1"].value == "Удовлетворённость: 01.03.2026 — 31.03.2026"
    assert [c.value for c in sat[2]][:4] == ["Вид", "Опрошено", "Оценок", "Ответили на опрос, %"]
    assert sat["A2"].font.bold and sat.freeze_panes == "B3"
    assert [c.value for c in sat[3]][:4] == ["Обращение", 2, 2, 100.0]
    assert [c.value for c in sat[6]][:4] == ["Всего", 8, 6, 75.0] and sat["A6"].font.bold
    load = book["Нагрузка"]
    assert load["A3"].value.date() == date(2026, 3, 1) and load["A3"].number_format == "DD.MM.YYYY"
    assert load["B4"].value == 4  # appeals on 02.03
    assert load["A34"].value == "Всего" and load["B34"].value == 6
    dl = book["Сроки ответа"]
    headers = [c.value for c in dl[2]]
    total = {h: c.value for h, c in zip(headers, dl[dl.max_row])}
    assert total["Медиана, раб. дней"] == 7 and total["90-й процентиль, раб. дней"] == 8 and total["В срок"] == 3


async def test_csv_and_png(app, data):
    r = await build(app, "satisfaction", "kind")
    lines = report_files.to_csv(r).splitlines()
    assert lines[0].startswith("Вид;Опрошено;Оценок;Ответили на опрос, %")
    assert lines[1].startswith("Обращение;2;2;100.0;1;0;1")
    assert lines[-1].startswith("Всего;8;6;75.0;3;1;2")
    day = report_files.to_csv(await build(app, "workload", "day")).splitlines()
    assert day[1].startswith("2026-03-01;1;0;0;0;0;0")
    png = report_files.to_png(r)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


async def test_reports_carry_no_personal_data(app, data):
    """Names, e-mails and texts of citizens never reach a report file."""
    ctx = reports.Context(app.profile, app.engine.deps.calendar, report_data.TODAY)
    async with app.sessionmaker() as s:
        built = [await reports.build(s, n, MARCH, by, ctx) for n in reports.REPORTS for by in reports.ALLOWED_BY[n]]
    text = "\n".join(report_files.to_csv(r) for r in built)
    assert "Сидоров" not in text and "example.ru" not in text and "Текст" not in text


async def test_a_long_period_reads_the_tables_whole_and_counts_the_same(app, data):
    """Over half a year SQLite reads the tables instead of the index ranges; the figures are the
    same records: March's plus February's (A1, A4, the February consultation and notice)."""
    half = reports.Period(date(2026, 1, 1), date(2026, 6, 30))
    s = (await build(app, "satisfaction", "kind", half)).total
    assert (s["asked"], s["rated"], s["satisfied"]) == (9, 7, 4)
    w = (await build(app, "workload", "kind", half)).total
    assert (w["appeals"], w["consultations"], w["transfers"]) == (8, 5, 2)
    c = (await build(app, "channels", "channel", half)).total
    assert (c["notices"], c["dead"], c["fallbacks"]) == (7, 3, 1)
    d = (await build(app, "deadlines", "topic", half)).total
    assert (d["closed"], d["median_days"], d["p90_days"]) == (4, 7, 8)
