"""python -m admin_cli slots create|list|visitors|close-day|reopen-day (R-6.1), run on the test database at the
test clock's moment (time-machine moves the wall clock the CLI reads)."""
from __future__ import annotations

import argparse

import pytest
import time_machine
from sqlalchemy import select

import dialogs.visit_contacts  # noqa: F401  registers the visit steps (the engine imports them once wired)
from admin_cli import slots
from services import visits as V
import texts as T
from storage.models import OutboxMessage, Staff, StaffIdentity, Visit
from tests.engine.test_visits import book


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m admin_cli")
    sub = parser.add_subparsers(dest="area", required=True)
    slots.add_parser(sub)
    return parser.parse_args(["slots", *argv])


async def cli(app, clock, *argv: str) -> int:
    with time_machine.travel(clock.now, tick=True):
        async with app.sessionmaker() as session, session.begin():
            return await slots.run(parse(*argv), session)


async def test_create_list_and_close_a_day_R_6_1(app, clock, chat, capsys):
    """R-6.1: slots from the working schedule, days off skipped; closing a day cancels the
    booked visit and queues a notice to the citizen."""
    assert await cli(app, clock, "create", "--desk", "Окно 1", "--length", "30",
                     "--from", "2026-03-04", "--to", "2026-03-13") == 0
    out = capsys.readouterr().out
    assert "created 112 slots of 30 min for Окно 1 on 7 working days" in out
    assert "skipped days off: 07.03, 08.03, 09.03" in out
    assert await cli(app, clock, "create", "--desk", "Окно 1", "--from", "2026-03-04", "--to", "2026-03-13") == 0
    assert "created 0 slots" in capsys.readouterr().out

    await book(chat, remind="За день")
    assert await cli(app, clock, "list", "--from", "2026-03-05", "--to", "2026-03-05") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 16 and "05.03.2026 Чт 08:30–09:00\tОкно 1\tfree" in lines[0]
    assert sum("booked (visit #1): Иванова Мария Петровна, +7 917 123-45-67" in line for line in lines) == 1

    assert await cli(app, clock, "close-day", "2026-03-05") == 1  # no terminal to confirm: nothing happens
    assert "add --yes" in capsys.readouterr().err
    assert await cli(app, clock, "close-day", "2026-03-05", "--yes") == 0
    assert "closed 16 slots on 05.03.2026; cancelled 1 booked visit," in capsys.readouterr().out
    async with app.sessionmaker() as s:
        visit = await s.get(Visit, 1)
        notices = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == V.CLOSED_KIND))).all()
    assert visit.status == V.CANCELLED and len(notices) == 1
    assert await cli(app, clock, "list", "--from", "2026-03-05", "--to", "2026-03-05") == 0
    assert capsys.readouterr().out.count("closed") == 16


async def test_close_day_refuses_past_days_and_days_off_and_a_day_reopens_R_6_1(app, clock, chat, capsys):
    """The newcomer issue, item 24: no closing of the past or of a day off; a closed day reopens;
    the reception desk sees who is coming (item 25)."""
    assert await cli(app, clock, "create", "--desk", "Окно 1", "--from", "2026-03-04", "--to", "2026-03-06") == 0
    capsys.readouterr()
    assert await cli(app, clock, "close-day", "2026-03-02", "--yes") == 2
    assert "in the past" in capsys.readouterr().err
    assert await cli(app, clock, "close-day", "2026-03-08", "--yes") == 2
    assert "day off" in capsys.readouterr().err
    await book(chat, remind="За день")
    assert await cli(app, clock, "visitors", "2026-03-05") == 0
    out = capsys.readouterr().out
    assert "Окно 1" in out and "booked" in out
    assert "Иванова Мария Петровна, +7 917 123-45-67" in out, "item 13: the desk knows who is coming"
    assert await cli(app, clock, "close-day", "2026-03-06", "--yes") == 0
    assert "closed 16 slots on 06.03.2026; cancelled 0 booked visits" in capsys.readouterr().out
    assert await cli(app, clock, "reopen-day", "2026-03-06") == 0
    assert "reopened 16 slots on 06.03.2026" in capsys.readouterr().out
    assert await cli(app, clock, "list", "--from", "2026-03-06", "--to", "2026-03-06") == 0
    assert capsys.readouterr().out.count("free") == 16


async def test_slots_for_a_staff_member(app, clock, capsys):
    async with app.sessionmaker() as s, s.begin():
        s.add(Staff(name="Петрова А. А.", role="operator", identities=[StaffIdentity(channel="telegram", user_id="9001")]))
    assert await cli(app, clock, "create", "--staff-id", "1", "--length", "60",
                     "--from", "2026-03-05", "--to", "2026-03-05") == 0
    assert "created 7 slots of 60 min for staff:1" in capsys.readouterr().out  # 3 before lunch, 4 after
    assert await cli(app, clock, "list", "--staff-id", "1", "--from", "2026-03-05", "--to", "2026-03-05") == 0
    assert "Петрова А. А. (staff #1)" in capsys.readouterr().out
    assert await cli(app, clock, "create", "--staff-id", "7", "--from", "2026-03-05", "--to", "2026-03-05") == 2
    assert "no active staff member #7" in capsys.readouterr().err


async def test_bad_arguments_are_explained(app, clock, capsys):
    with pytest.raises(SystemExit):
        parse("create", "--desk", "Окно 1", "--from", "05.03.2026", "--to", "2026-03-06")
    assert "expected a date like 2026-03-04" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("create", "--from", "2026-03-05", "--to", "2026-03-06")  # neither --desk nor --staff-id
    with pytest.raises(SystemExit):
        parse("create", "--desk", "Окно 1", "--length", "0", "--from", "2026-03-05", "--to", "2026-03-06")
    assert await cli(app, clock, "create", "--desk", "Окно 1", "--from", "2026-03-06", "--to", "2026-03-05") == 2
    assert "--to is before --from" in capsys.readouterr().err


def test_visit_texts_carry_no_emoji_R_6_7():
    """R-6.7: meaning is never carried by emoji; the visit texts use none at all."""
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, tuple):
            for v in value:
                yield from strings(v)

    names = [n for n in dir(T) if n.startswith(("VISIT_", "REMIND_", "MENU_VISIT"))]
    assert len(names) > 40
    for name in names:
        for text in strings(getattr(T, name)):
            assert not any(ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) <= 0x27BF for ch in text), name
