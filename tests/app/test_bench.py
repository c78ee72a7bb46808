"""The benchmarks in bench/ are not part of the suite, but their --quick smoke runs are, so a
change to the app, the adapters or the fakes cannot break them unnoticed (issue 18). Each run
starts real bot processes, so it takes tens of seconds, not one or two; the figures of a quick
run mean nothing and are not checked, only that every case ran and reported."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RUNS = {
    "bench_telegram": ["--quick"],
    "bench_vk": ["--quick"],
    "bench_outbox": ["--quick"],
    "bench_visits": ["--quick"],
}
EXPECTED = {
    "bench_telegram": ["echo (aiogram) / menu", "full / appeal", "full vs echo", "p99 at"],
    "bench_vk": ["echo (vkbottle) / menu", "full / appeal", "full vs echo", "p99 at"],
    "bench_outbox": ["delivered                       30", "lost                            0"],
    "bench_visits": ["lateness p99"],
}


@pytest.mark.parametrize("name", list(RUNS))
def test_benchmark_quick_run_reports_every_case(name):
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *RUNS[name]], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    for line in EXPECTED[name]:
        assert line in done.stdout, done.stdout[-3000:]
    assert "timeouts" not in done.stdout, done.stdout[-3000:]
