"""Is the match loop of this tree slower than another commit's? An A/B run in one script.

Each trial is a fresh interpreter that plays ``--games`` random-vs-random games
in-process with the tree's own ``play_series`` (nothing recorded) and prints the
seconds its loop took. Trials of the two trees alternate (A B A B ...), so a
neighbour's load on the VM falls on both alike; the report gives the ratio of
the best times and the median of the per-round ratios (this tree / the other).

The other tree is a git worktree of the commit to compare with::

    git worktree add /tmp/old <commit>
    .venv/bin/python bench/loop_ab.py --other /tmp/old --write

The other tree runs with this venv's packages. When it still needs the
``tournaments.plugin`` entry point that this tree removed, ``--other-meta DIR``
adds a folder holding a ``*.dist-info`` with that entry point to its path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve().parents[1]

TRIAL = r"""
import sys, time
try:
    from arena.series import play_series
except ImportError:  # before the loop moved next to the runner
    from arena.play import play_series
from arena.registry import get_env
from arena.sources import resolve_agent

spec = get_env(sys.argv[1])
sources = [resolve_agent("random"), resolve_agent("random")]
play_series(spec, sources, games=20, seed=99)  # warm-up: imports, first env build
start = time.perf_counter()
play_series(spec, sources, games=int(sys.argv[2]), seed=0)
print(time.perf_counter() - start)
"""


def trial(tree: Path, env_id: str, games: int, extra_path: str | None) -> float:
    path = [str(tree)] + ([extra_path] if extra_path else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    out = subprocess.run(
        [sys.executable, "-c", TRIAL, env_id, str(games)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def commit_of(tree: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="worktree of the baseline")
    parser.add_argument("--other-meta", default=None, help="extra path entry for the baseline")
    parser.add_argument("--env", default="connect_four_v3")
    parser.add_argument("--games", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="store the report in RESULTS.md")
    args = parser.parse_args()

    this, other = [], []
    for _ in range(args.rounds):
        other.append(trial(args.other, args.env, args.games, args.other_meta))
        this.append(trial(HERE, args.env, args.games, None))
    ratios = [a / b for a, b in zip(this, other, strict=True)]
    best = min(this) / min(other)
    median = statistics.median(ratios)
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Date: {started}  ",
        f"Command: `python bench/loop_ab.py --other <worktree of {commit_of(args.other)}>`  ",
        f"Machine: `{' '.join(platform.uname())}`, {os.cpu_count()} cores  ",
        f"This tree: {commit_of(HERE)}; baseline: {commit_of(args.other)}; "
        f"{args.env}, {args.games} random-vs-random games per trial, {args.rounds} rounds "
        "(baseline then this tree, fresh interpreter each)",
        "",
        "| tree | best s | median s | all runs s |",
        "| --- | --- | --- | --- |",
        f"| baseline | {min(other):.3f} | {statistics.median(other):.3f} | "
        f"{', '.join(f'{t:.2f}' for t in other)} |",
        f"| this tree | {min(this):.3f} | {statistics.median(this):.3f} | "
        f"{', '.join(f'{t:.2f}' for t in this)} |",
        "",
        f"Ratio this / baseline: best {best:.3f}, median of the per-round ratios {median:.3f} "
        f"(per-round: {', '.join(f'{r:.2f}' for r in ratios)}).",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section("loop_ab", args.env, report)


if __name__ == "__main__":
    main()
