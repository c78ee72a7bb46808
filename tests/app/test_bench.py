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
    "bench_steps": ["--quick"],
}
EXPECTED = {
    "bench_telegram": ["echo (aiogram) / menu", "full / appeal", "full vs echo", "p99 at"],
    "bench_vk": ["echo (vkbottle) / menu", "full / appeal", "full vs echo", "p99 at"],
    "bench_outbox": ["delivered                       30", "lost                            0"],
    "bench_visits": ["lateness p99"],
    "bench_steps": ["Отправить", "ordinary", "hot", "a cycle"],
}


@pytest.mark.parametrize("name", list(RUNS))
def test_benchmark_quick_run_reports_every_case(name):
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *RUNS[name]], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    for line in EXPECTED[name]:
        assert line in done.stdout, done.stdout[-3000:]
    assert "timeouts" not in done.stdout, done.stdout[-3000:]


def test_scale_benchmark_quick_run_has_1_and_2_workers_with_nothing_lost():
    """Issue 17, item 7: `bench.scale --quick --workers 1,2` starts one and then two webhook
    workers (plus a sender) on one PostgreSQL, and its table has a row for each; every update
    posted got its reply (0 lost) and none was answered twice."""
    import asyncio
    import re

    from tests.conftest import _pg_available

    reason = asyncio.run(_pg_available())
    if reason:
        pytest.skip(f"the scale benchmark needs PostgreSQL: {reason}")
    done = subprocess.run([sys.executable, "-m", "bench.scale", "--quick", "--workers", "1,2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout.split("\nworkers", 1)[1]
    rows = [line.split()[0] for line in table.splitlines()[1:] if re.match(r"\d+ ", line)]
    assert rows == ["1", "2"], done.stdout[-3000:]
    for n in ("1", "2"):
        assert re.search(rf"{n} worker\(s\): [1-9]\d* updates posted \(\d+ pairs\), \d+ replies, 0 lost, 0 duplicates",
                         done.stdout), done.stdout[-3000:]
