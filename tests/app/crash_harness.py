"""A real bot process (`python -m bot run`) against the fake platforms, to be killed with
SIGKILL or stopped with SIGTERM mid-stream; counts what citizens got (issue 10)."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
MENU = "Что вы хотите сделать?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    """`python -m bot run` in its own process, with the settings in `env`."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "AGENCY_PROFILE": str(ROOT / "bot/profiles/astrakhan.toml"),
                    "FILES_DIR": str(tmp_path / "files"), "LOG_LEVEL": "WARNING", **env}
        for name in ("TELEGRAM_BOT_TOKEN", "VK_GROUP_TOKEN", "MAX_BOT_TOKEN"):  # only the channel under test
            if name not in env:
                self.env.pop(name, None)
        self.cwd, self.proc, self.log = tmp_path, None, tmp_path / "bot.log"

    async def start(self) -> None:
        out = open(self.log, "ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=self.cwd, env=self.env, stdout=out, stderr=out)
        out.close()

    async def kill(self, sig: int = signal.SIGKILL, timeout: float = 30) -> None:
        self.proc.send_signal(sig)
        await asyncio.wait_for(self.proc.wait(), timeout)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


async def until(check, timeout: float, what: str, proc: BotProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = proc.log_text()[-3000:] if proc else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        if proc is not None and proc.proc.returncode is not None:
            raise AssertionError(f"the bot exited ({proc.proc.returncode}) waiting for {what}\n{proc.log_text()[-3000:]}")
        await asyncio.sleep(0.02)


def tally(per_chat: Counter, expected: int, chats) -> tuple[int, int]:
    """(lost, answered twice) over the chats: replies missing and replies beyond one each."""
    lost = sum(max(0, expected - per_chat[c]) for c in chats)
    extra = sum(max(0, per_chat[c] - expected) for c in chats)
    return lost, extra


class Poster:
    """The platform's side of a webhook: each update POSTed until it gets a 200, one chat's
    updates one after another (as Telegram and VK do), several chats at once."""

    def __init__(self, post) -> None:
        self.post = post  # async (update) -> status; raises on a refused connection

    async def deliver(self, per_chat: dict[int, list[dict]]) -> None:
        async def one_chat(updates: list[dict]) -> None:
            for update in updates:
                while True:
                    try:
                        if await self.post(update) == 200:
                            break
                    except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
                        pass
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(one_chat(u) for u in per_chat.values()))


def kill_signal(name: str) -> int:
    return {"kill": signal.SIGKILL, "term": signal.SIGTERM}[name]
