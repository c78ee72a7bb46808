"""The agency profile, the console channel, the admin CLI, and the layering rule."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.profile import ProfileError, load_profile
from bot.settings import DEFAULT_PROFILE

ROOT = Path(__file__).resolve().parents[2]


def test_default_profile_has_the_regulation_facts_R_5_2_R_5_3():
    p = load_profile(DEFAULT_PROFILE)
    assert p.agency.phone == "+7 (8512) 24-50-22"
    assert (str(p.hours.opens), str(p.hours.closes)) == ("08:30:00", "17:30:00")
    assert [(str(a), str(b)) for a, b in p.hours.breaks] == [("12:00:00", "13:00:00")]
    # Facts the regulation does not give are marked, not invented.
    assert "office.address" in p.missing_facts()
    assert "survey_url" in p.missing_facts()


def test_malformed_profile_names_the_key(tmp_path):
    text = DEFAULT_PROFILE.read_text(encoding="utf-8").replace('opens = 08:30:00', 'opens = "half past eight"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=r"hours\.opens"):
        load_profile(bad)
    bad.write_text("[agency\nname=", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
    bad.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8").replace("number_prefix", "numbr_prefix"),
                   encoding="utf-8")
    with pytest.raises(ProfileError, match="agency.numbr_prefix"):
        load_profile(bad)


def test_bot_refuses_to_start_with_a_broken_profile(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[agency]\nname = 1\n", encoding="utf-8")
    env = {**os.environ, "AGENCY_PROFILE": str(bad), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}
    done = subprocess.run([sys.executable, "-m", "bot", "shell"], cwd=ROOT, env=env, input="",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "agency.phone" in done.stderr


def test_console_shell_submits_an_appeal(tmp_path):
    """The README's local chat: numbered buttons, labels or numbers accepted."""
    lines = ["1", "1", "1", "Течёт крыша в подъезде дома 5, плесень на стенах.", "Далее",
             "Иванова Мария", "1", "ivanova@example.ru", "1", "1", "1", "1", "/quit"]
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
           "FILES_DIR": str(tmp_path / "files"), "TELEGRAM_BOT_TOKEN": "", "VK_GROUP_TOKEN": ""}
    done = subprocess.run([sys.executable, "-m", "bot", "shell"], cwd=ROOT, env=env,
                          input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Обращение зарегистрировано" in done.stdout
    assert "[1] ЖН-" in done.stdout  # found under "my appeals"


def run_cli(tmp_path, *args):
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db"}
    return subprocess.run([sys.executable, "-m", "admin_cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_admin_cli_manages_staff(tmp_path):
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    added = run_cli(tmp_path, "staff", "add", "--name", "Петрова А.А.", "--telegram-id", "555",
                    "--role", "supervisor")
    assert added.returncode == 0 and "added staff #1" in added.stdout
    again = run_cli(tmp_path, "staff", "add", "--name", "Другой", "--telegram-id", "555")
    assert again.returncode == 1 and "already registered" in again.stderr
    listed = run_cli(tmp_path, "staff", "list")
    assert "Петрова А.А.\tsupervisor\ttelegram=555" in listed.stdout
    assert run_cli(tmp_path, "staff", "remove", "1").returncode == 0
    assert "removed" in run_cli(tmp_path, "staff", "list").stdout
    # Re-adding a removed member never renames or demotes them silently (the newcomer issue, 23).
    readd = run_cli(tmp_path, "staff", "add", "--name", "Дубль", "--telegram-id", "555")
    assert readd.returncode == 1 and "staff restore 1" in readd.stderr
    assert run_cli(tmp_path, "staff", "restore", "1").returncode == 0
    assert run_cli(tmp_path, "staff", "set-role", "1", "operator").returncode == 0
    listed = run_cli(tmp_path, "staff", "list").stdout
    assert "Петрова А.А.\toperator\ttelegram=555" in listed and "active" in listed and "Дубль" not in listed
    both = run_cli(tmp_path, "staff", "add", "--name", "Сидоров", "--vk-id", "77", "--channel", "console",
                   "--user-id", "desk-2")
    assert both.returncode == 0 and "vk=77 console=desk-2" in run_cli(tmp_path, "staff", "list").stdout
    bad = run_cli(tmp_path, "staff", "add", "--name", "X", "--telegram-id", "abc")
    assert bad.returncode != 0 and "not a Telegram user id" in bad.stderr


def test_admin_cli_checks_the_profile(tmp_path):
    done = subprocess.run([sys.executable, "-m", "admin_cli", "profile", "check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "valid" in done.stdout and "office.address" in done.stdout
    bad = run_cli(tmp_path, "staff", "add", "--name", "X", "--role", "boss", "--telegram-id", "1")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


@pytest.mark.parametrize("package", ["dialogs", "storage"])
def test_no_messenger_library_in_engine_or_storage(package):
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"aiogram", "vkbottle", "channels"}, f"{path}: {name}"


def test_bot_refuses_to_start_without_its_knowledge_base_R_5_1(tmp_path):
    """The profile names a knowledge base beside it; a missing one stops start-up, naming it."""
    profile = tmp_path / "profile.toml"
    profile.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "AGENCY_PROFILE": str(profile), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}
    done = subprocess.run([sys.executable, "-m", "bot", "shell"], cwd=ROOT, env=env, input="",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "astrakhan_kb.toml" in done.stderr and "knowledge base not found" in done.stderr
