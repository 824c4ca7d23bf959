"""Tabular self-play on tic-tac-toe: the issue-4 targets, measured.

For each algorithm and seed: train by self-play for ``--steps`` env steps with
``arena train``'s library function, then judge the package it wrote:

- exhaustively: the value its greedy policy guarantees against *every* opponent
  from each seat (0 = never loses; the game's value is a draw);
- 200 games against the ``minimax`` built-in (a random choice among optimal moves);
- 200 games against ``random`` per seat (wins, draws, losses).

Wall time and this process's CPU time are both reported: the machine is often
shared, and CPU seconds say what the training itself cost.

    .venv/bin/python bench/tabular_tictactoe.py                  # print
    .venv/bin/python bench/tabular_tictactoe.py --write          # and update RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import gymnasium
from results import write_section

from agents.common.evaluate import evaluate, policy_source
from agents.minimax import guaranteed_value
from agents.players.tabular_player import TabularPlayer, load_table
from arena.training import train

ALGOS = ("q-learning", "sarsa", "expected-sarsa", "mc-control")


def judge(package: Path, games: int, seed: int) -> dict[str, object]:
    table = load_table(package / "table.npz")
    ctx = SimpleNamespace(seed=0, action_space=gymnasium.spaces.Discrete(9))
    policy = TabularPlayer(table, ctx)
    row: dict[str, object] = {
        "first": guaranteed_value(policy, first=True),
        "second": guaranteed_value(policy, first=False),
    }
    learner = policy_source("learner", lambda c: TabularPlayer(table, c), kind="tabular")
    mm = evaluate("tictactoe_v3", learner, "minimax", games=games, seed=seed)
    row["minimax_losses"] = mm.losses
    rnd = evaluate("tictactoe_v3", learner, "random", games=2 * games, seed=seed)
    row["random"] = rnd
    return row


def machine_name() -> str:
    """The CPU model from /proc/cpuinfo (``platform.processor()`` is often empty)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--algos", nargs="+", default=list(ALGOS))
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    lines = [
        f"| algo | seed | steps | wall s | CPU s | guaranteed 1st / 2nd | losses vs minimax "
        f"({args.games}) | vs random ({2 * args.games}): W / D / L |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for algo in args.algos:
        for seed in args.seeds:
            out = Path(tempfile.mkdtemp()) / "pkg"
            wall, cpu = time.perf_counter(), time.process_time()
            summary = train(
                algo, "tictactoe_v3", steps=args.steps, out=out, seed=seed, device="cpu",
                progress=False,
            )  # fmt: skip
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            row = judge(out, args.games, seed)
            rnd = row["random"]
            line = (
                f"| {algo} | {seed} | {summary.steps} | {wall:.0f} | {cpu:.0f} | "
                f"{row['first']:+d} / {row['second']:+d} | {row['minimax_losses']} | "
                f"{rnd.wins} / {rnd.draws} / {rnd.losses} |"  # type: ignore[attr-defined]
            )
            print(line, flush=True)
            lines.append(line)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    header = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}, load at end {load}"
    )
    text = "\n".join([f"Machine: {header}", "", *lines])
    print(text)
    if args.write:
        write_section("tabular_tictactoe", f"{machine_name()}, {os.cpu_count()} cores", text)


if __name__ == "__main__":
    sys.exit(main())
