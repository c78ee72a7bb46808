"""The console chat numbers every button the person can see, notices included, and the number
or the label presses it (the newcomer issue, item 6); staff can work from it (item 21); a line
cut by the terminal or the engine is reported (item 17)."""
from __future__ import annotations

from channels.console import ConsoleDeliverer, Screen, parse
from core.events import Button, Reply
from tests.journey import submit_appeal
from tests.conftest import Chat
from tests.outbox_helpers import act, add_staff, outbox_rows


async def test_a_notice_button_gets_the_next_number_and_can_be_pressed(app):
    chat = Chat(app, "local", "console")
    await submit_appeal(chat, email="a@example.ru")
    screen, printed = Screen(), []
    screen.show(chat.last)
    shown = len(screen.buttons)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "ask", staff, note="Какой подъезд?")
    [row] = [r for r in await outbox_rows(app) if r.channel == "console" and r.kind == "appeal.clarification"]
    notice = Reply(row.text, [[Button(b["label"], b["payload"]) for b in r] for r in row.buttons])
    await ConsoleDeliverer(printed.append, screen).deliver("local", notice, row.id)
    assert f"[{shown + 1}] Ответить на вопрос" in printed[0]
    by_number = parse(str(shown + 1), screen, "local")
    by_label = parse("ответить на вопрос", screen, "local")
    assert by_number.button == by_label.button == "clar:1"
    text = "\n".join(r.text for r in await app.engine.handle(by_number))
    assert "Напишите ответ на вопрос специалиста" in text


def test_a_new_screen_renumbers_from_one():
    screen = Screen()
    screen.show(Reply("a", [[Button("Раз", "p:1"), Button("Два", "p:2")]]))
    screen.show(Reply("b", [[Button("Три", "p:3")]]))
    assert parse("1", screen, "u").button == "p:3" and parse("2", screen, "u").text == "2"


async def test_staff_work_from_the_console_with_a_console_identity(app):
    """admin_cli staff add --console-id local gives the console user staff mode."""
    from storage.models import Staff, StaffIdentity

    async with app.sessionmaker() as s, s.begin():
        s.add(Staff(name="Петрова А. А.", role="operator", identities=[StaffIdentity(channel="console", user_id="local")]))
    text = await Chat(app, "local", "console").command("start")
    assert "Режим сотрудника: Петрова А. А." in text


# --- a line cut by the terminal (the newcomer issue, item 17) ---------------------------------

async def console_says(app, line: str, line_limit: int | None) -> str:
    """What the console prints after the person enters `line` (then closes the input)."""
    from channels.console import run_console

    lines, printed = iter([line]), []

    def read() -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    await run_console(app.engine, "local", read=read, write=printed.append, line_limit=line_limit)
    return "\n".join(printed)


async def test_a_line_the_terminal_cut_is_reported_item_17(app):
    """Item 17: a terminal without line editing keeps 4095 bytes of a line and drops the rest;
    the console notices and says so, and the half character at the cut does not break anything."""
    from channels.console.chat import TTY_LINE_BYTES

    raw = ("Протекает крыша. " * 400).encode()[:TTY_LINE_BYTES]  # what input() returns then
    line = raw.decode("utf-8", "surrogateescape")
    assert line[-1] == "\udcd1", "the cut fell inside a letter"
    said = await console_says(app, line, TTY_LINE_BYTES)
    whole = len(raw.decode("utf-8", "ignore"))
    assert f"Строка оказалась длиннее {whole:,} символов и была обрезана".replace(",", "\u00a0") in said
    assert "дошли только первые" in said


async def test_a_long_line_read_whole_is_not_reported_item_17(app):
    """With readline (or from a pipe) there is no terminal limit: a long line is not 'cut'."""
    said = await console_says(app, "Протекает крыша. " * 400, None)
    assert "обрезана" not in said


async def test_text_longer_than_the_engine_takes_is_cut_with_a_word_item_17(app):
    """Any channel: the engine keeps 20,000 characters of a text and says it cut the rest."""
    from dialogs.engine import TEXT_LIMIT

    chat = Chat(app, "local", "console")
    await chat.command("start")
    text = await chat.say("я" * (TEXT_LIMIT + 500))
    assert "Строка оказалась длиннее 20\u00a0000 символов и была обрезана" in text
    assert "обрезана" not in await chat.say("я" * TEXT_LIMIT)
