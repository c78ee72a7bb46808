"""`admin_cli calendar show`: the production calendar an administrator checks against the
official one (days off, working weekends, shortened days, the yearly norm; overrides marked)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.settings import DEFAULT_PROFILE

ROOT = Path(__file__).resolve().parents[2]


def show(tmp_path, year: str, profile: Path = DEFAULT_PROFILE) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db", "AGENCY_PROFILE": str(profile)}
    return subprocess.run([sys.executable, "-m", "admin_cli", "calendar", "show", "--year", year], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_2026_matches_the_official_production_calendar(tmp_path):
    """The official 2026 production calendar (with the Government decree on transfers): 247 working days,
    1972 hours at 40 hours a week; 9 January and 31 December are transferred days off."""
    out = show(tmp_path, "2026")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "working days 247" in text and "Norm of hours at a 40-hour week: 1972" in text
    for day in ("2026-01-09 Fri", "2026-03-09 Mon", "2026-05-11 Mon", "2026-12-31 Thu"):
        assert f"  {day}\n" in text
    for day in ("2026-04-30 Thu", "2026-05-08 Fri", "2026-06-11 Thu", "2026-11-03 Tue"):
        assert f"  {day}\n" in text  # shortened
    assert "(profile)" not in text


def test_profile_overrides_show_as_such(tmp_path):
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    text = text.replace("extra_days_off = []", "extra_days_off = [2026-12-30]")
    text = text.replace("extra_working_days = []", "extra_working_days = [2026-12-26]")
    profile = tmp_path / "p.toml"
    profile.write_text(text, encoding="utf-8")
    out = show(tmp_path, "2026", profile).stdout
    assert "  2026-12-30 Wed  (profile)" in out and "  2026-12-26 Sat  (profile)" in out
    assert "working days 247" in out  # one day off and one working Saturday more
