"""The console channel: the same engine in a terminal. Every button the person can see is
numbered — the screen's and those of notices printed after it — and the number or the label
presses it. Commands: /start, /menu, /help, /status N, /link CODE, /file PATH, /quit.
Line editing (arrows, history) comes from the standard library's readline where it exists;
without it a line the terminal cut at its limit is noticed, and the engine says so."""
from __future__ import annotations

import asyncio
import dataclasses
import mimetypes
import sys
from pathlib import Path
from typing import Callable

from core.events import Attachment, Button, Inbound, Reply

CONSOLE = "console"
COMMANDS = {"start", "menu", "help", "status", "link"}


class Screen:
    """The buttons the person can see now, numbered from 1 across replies and notices."""

    def __init__(self) -> None:
        self.buttons: list[Button] = []

    def show(self, reply: Reply, *, keep: bool = False) -> str:
        """The text of a reply with its buttons numbered after those still visible (`keep`)."""
        if not keep:
            self.buttons = []
        lines = [reply.text]
        for row in reply.buttons:
            for button in row:
                self.buttons.append(button)
                lines.append(f"  [{len(self.buttons)}] {button.label}")
        for f in reply.files:
            lines.append(f"  (файл: {f.name})")
        return "\n".join(lines)

    def pressed(self, text: str) -> Button | None:
        typed = text.strip()
        if typed.isdigit() and 1 <= int(typed) <= len(self.buttons):
            return self.buttons[int(typed) - 1]
        return next((b for b in reversed(self.buttons) if b.label.casefold() == typed.casefold()), None)


def render(reply: Reply) -> str:
    return Screen().show(reply)


def parse(line: str, screen: Screen | Reply | None, user_id: str) -> Inbound:
    """Turn one typed line into an event."""
    if isinstance(screen, Reply):  # a single reply: its buttons only
        reply, screen = screen, Screen()
        screen.show(reply)
    text = line.strip()
    if text.startswith("/"):
        name, _, arg = text[1:].partition(" ")
        if name == "file" and arg:
            return _file_event(Path(arg.strip()), user_id)
        if name in COMMANDS:
            return Inbound(CONSOLE, user_id, command=name, argument=arg.strip() or None)
    button = screen.pressed(text) if screen else None
    if button is not None:
        return Inbound(CONSOLE, user_id, button=button.payload)
    return Inbound(CONSOLE, user_id, text=line)


def _file_event(path: Path, user_id: str) -> Inbound:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    kind = "photo" if mime.startswith("image/") else "document"
    size = len(data) if data is not None else 0
    return Inbound(CONSOLE, user_id, attachments=(Attachment(kind, path.name, mime, size, data),))


class ConsoleDeliverer:
    """Notices from the outbox for the console user are printed in the terminal; their buttons
    join the numbered ones on the screen."""

    channel = CONSOLE

    def __init__(self, write: Callable[[str], None] = print, screen: Screen | None = None) -> None:
        self.write = write
        self.screen = screen or Screen()

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        self.write("\n[уведомление]\n" + self.screen.show(reply, keep=True) + "\n")


# A terminal in canonical mode (input() without readline) keeps at most 4095 bytes of a line
# (Linux's 4096-byte line buffer, one byte for the newline) and drops the rest without a word.
TTY_LINE_BYTES = 4095


def line_editing() -> bool:
    """Arrow keys and history in input(); without it the terminal's own line limit applies."""
    try:
        import readline  # noqa: F401
    except ImportError:  # Windows without pyreadline: plain input
        return False
    return True


def tty_line_limit(editing: bool) -> int | None:
    """The byte limit the terminal puts on a line, when input() reads one in canonical mode:
    from a terminal, without readline (which input() uses only when stdout is a terminal too)."""
    if not sys.stdin.isatty() or (editing and sys.stdout.isatty()):
        return None
    return TTY_LINE_BYTES


def was_cut(line: str, limit: int | None) -> tuple[str, int | None]:
    """The line without a character cut in half, and how many characters arrived when the
    terminal cut it (None when it did not)."""
    raw = line.encode("utf-8", "surrogateescape")
    if limit is None or len(raw) < limit:
        return line, None
    whole = raw.decode("utf-8", "ignore")  # the last character may have lost its second byte
    return whole, len(whole)


async def run_console(engine, user_id: str = "local", *, read: Callable[[], str] | None = None,
                      write: Callable[[str], None] = print, screen: Screen | None = None,
                      line_limit: int | None = None) -> None:
    loop = asyncio.get_running_loop()
    if read is None:
        line_limit = tty_line_limit(line_editing())
        read = lambda: input("> ")  # noqa: E731
    screen = screen or Screen()
    replies = await engine.handle(Inbound(CONSOLE, user_id, command="start"))
    while True:
        for i, reply in enumerate(replies):
            write(screen.show(reply, keep=i > 0) + "\n")
        try:
            line = await loop.run_in_executor(None, read)
        except (EOFError, KeyboardInterrupt):
            write("До свидания!")
            return
        if line.strip() in ("/quit", "/exit"):
            write("До свидания!")
            return
        if not line.strip():
            continue
        line, cut = was_cut(line, line_limit)
        event = parse(line, screen, user_id)
        replies = await engine.handle(dataclasses.replace(event, cut=cut) if cut else event)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run: python -m bot shell")
