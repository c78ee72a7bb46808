"""python -m admin_cli report …: a table in the terminal, CSV, one XLSX workbook, PNG charts,
over the known month of tests/services/report_data.py (R-3.3, R-3.9, R-5.12)."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone

import pytest

from admin_cli import report
from tests.services import report_data

NOW = datetime(2026, 4, 5, 8, 0, tzinfo=timezone.utc)  # "last month" is March


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m admin_cli")
    sub = parser.add_subparsers(dest="area", required=True)
    report.add_parser(sub)
    return parser.parse_args(["report", *argv])


@pytest.fixture
async def cli(app):
    async with app.sessionmaker() as s, s.begin():
        await report_data.build(s)

    async def run(*argv: str) -> int:
        async with app.sessionmaker() as session:
            return await report.run(parse(*argv), session, now=NOW)
    return run


async def test_table_defaults_to_last_month(cli, capsys):
    assert await cli("satisfaction") == 0
    out = capsys.readouterr().out
    assert "Удовлетворённость: 01.03.2026 — 31.03.2026" in out
    assert "Обращение" in out and "Консультация" in out and "Всего" in out and "75,0" in out


async def test_csv_to_stdout_grouped_by_need(cli, capsys):
    assert await cli("deadlines", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "need", "--format", "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(";")[:4] == ["Потребность", "Закрыто", "В срок", "С опозданием"]
    assert "Пересчитать плату;3;2;1;0;0;2;1;1;7;7" in lines  # A2 late in 7 wd, A5 in 4, A6 in 7
    assert lines[-1].startswith("Всего;4;3;1;2;1;2;1;1;7;8")


async def test_xlsx_and_png_files(cli, tmp_path, capsys):
    from openpyxl import load_workbook

    out = tmp_path / "отчёт.xlsx"
    assert await cli("all", "--format", "xlsx", "--out", str(out)) == 0
    assert load_workbook(out).sheetnames == ["Удовлетворённость", "Сроки ответа", "Нагрузка", "Каналы"]
    png = tmp_path / "нагрузка.png"
    assert await cli("workload", "--format", "png", "--out", str(png)) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert await cli("all", "--format", "png", "--out", str(tmp_path / "r.png")) == 0
    assert sorted(p.name for p in tmp_path.glob("r-*.png")) == ["r-channels.png", "r-deadlines.png",
                                                                  "r-satisfaction.png", "r-workload.png"]


async def test_refusals(cli, capsys):
    assert await cli("channels", "--by", "need") == 2
    assert "channels cannot be grouped by need" in capsys.readouterr().err
    assert await cli("deadlines", "--format", "xlsx") == 2
