"""Where a bot's CPU goes, from the cProfile files that `--profile DIR` writes: own time summed
by package (sqlalchemy, aiosqlite, aiogram, our dialogs …), then the top functions.

    .venv/bin/python -m bench.bench_telegram --profile /tmp/prof --rounds 2
    .venv/bin/python -m bench.profile_summary /tmp/prof/telegram-full.prof [--top 25]
"""
from __future__ import annotations

import argparse
import pstats
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "core", "channels", "dialogs", "services", "storage", "texts", "bench", "tests")


def package(filename: str) -> str:
    """The top-level package a code file belongs to ('~' for built-ins, 'stdlib:x' for the standard library)."""
    if filename.startswith("~") or filename.startswith("<"):
        return "built-in (C)"
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    try:
        rel = path.resolve().relative_to(ROOT)
        return f"ours:{rel.parts[0]}" if rel.parts[0] in OURS else str(rel.parts[0])
    except ValueError:
        pass
    for i, part in enumerate(parts):
        if part.startswith("python3"):
            return "stdlib:" + (parts[i + 1].removesuffix(".py") if i + 1 < len(parts) else "?")
    return filename


def summary(path: str, top: int) -> None:
    stats = pstats.Stats(path)
    by_package: Counter[str] = Counter()
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_package[package(filename)] += tottime
        total += tottime
    print(f"{path}: {total:.2f} s of own time in profiled functions")
    for name, seconds in by_package.most_common(20):
        print(f"  {name:<28}{seconds:>8.2f} s{seconds / total * 100:>7.1f}%")
    print()
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    for path in args.files:
        summary(path, args.top)


if __name__ == "__main__":
    main()
