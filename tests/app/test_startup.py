"""Start-up as a newcomer meets it (the newcomer issue, items 1–3): `.env.example` copied as it
is starts the console chat; a wrong setting or a webhook without its secret stops the start at
once with one line that names the variable, not a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(tmp_path: Path, env_file: str, *args: str, stdin: str = "/quit\n") -> subprocess.CompletedProcess:
    (tmp_path / ".env").write_text(env_file, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "VK_", "SMTP_", "MAX_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_example_env_file_as_it_is_starts_the_console_chat(tmp_path):
    done = start(tmp_path, (ROOT / ".env.example").read_text(encoding="utf-8"))
    assert done.returncode == 0, done.stderr
    assert "консольный чат" in done.stdout and "Traceback" not in done.stderr
    assert (tmp_path / "data" / "assistant.db").exists()


def test_a_wrong_setting_is_one_line_naming_it(tmp_path):
    done = start(tmp_path, "VK_GROUP_TOKEN=abc\nVK_GROUP_ID=not-a-number\n", "run")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "VK_GROUP_ID" in lines[0] and "Traceback" not in done.stderr


def test_a_webhook_without_its_secret_is_refused_at_once(tmp_path):
    env = "TELEGRAM_BOT_TOKEN=123:abc\nTELEGRAM_API_URL=http://127.0.0.1:9\nTELEGRAM_WEBHOOK_URL=https://example.org/hook\n"
    done = start(tmp_path, env, "run")
    assert done.returncode == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in done.stderr and "Traceback" not in done.stderr
    assert "setMyCommands" not in done.stderr  # nothing was sent before refusing


