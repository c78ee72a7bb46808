"""The console channel: the same engine in a terminal. Buttons become numbered options;
the number or the label is accepted. Commands: /start, /menu, /help, /status N, /file PATH."""
from __future__ import annotations

import asyncio
import mimetypes
import sys
from pathlib import Path
from typing import Callable


from core.events import Attachment, Inbound, Reply

CONSOLE = "console"

COMMANDS = {"start", "menu", "help", "status", "link"}


def render(reply: Reply) -> str:
    lines = [reply.text]
    n = 0
    for row in reply.buttons:
        for button in row:
            n += 1
            lines.append(f"  [{n}] {button.label}")
    for f in reply.files:
        lines.append(f"  (файл: {f.name})")
    return "\n".join(lines)


def parse(line: str, last: Reply | None, user_id: str) -> Inbound:
    """Turn one typed line into an event."""
    text = line.strip()
    if text.startswith("/"):
        name, _, arg = text[1:].partition(" ")
        if name == "file" and arg:
            return _file_event(Path(arg.strip()), user_id)
        if name in COMMANDS:
            return Inbound(CONSOLE, user_id, command=name, argument=arg.strip() or None)
    if last and text.isdigit():
        flat = [b for row in last.buttons for b in row]
        if 1 <= int(text) <= len(flat):
            return Inbound(CONSOLE, user_id, button=flat[int(text) - 1].payload)
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
    """Notices from the outbox for the console user are printed in the terminal."""

    channel = CONSOLE

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self.write = write

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        self.write("\n[уведомление]\n" + render(reply) + "\n")


async def run_console(engine, user_id: str = "local", *, read: Callable[[], str] | None = None,
                      write: Callable[[str], None] = print) -> None:
    loop = asyncio.get_running_loop()
    read = read or (lambda: input("> "))
    last: Reply | None = None
    replies = await engine.handle(Inbound(CONSOLE, user_id, command="start"))
    while True:
        for reply in replies:
            write(render(reply) + "\n")
            last = reply
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
        replies = await engine.handle(parse(line, last, user_id))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run: python -m bot shell")
