"""Connect four: a round-robin ladder of the reference opponents and trained packages.

Every pair of ``random``, ``one-ply``, ``heuristic``, ``negamax-2``,
``negamax-4`` and each ``--package`` plays ``--games`` games per seed
(seats alternating, through :func:`arena.series.play_series`, packages
sandboxed as in any match) for every ``--seeds`` value. The score of an agent
against another is (wins + draws / 2) / games over all seeds.

Deterministic agents (``heuristic``, ``negamax-N``, and a greedy trained
package) play the same game every time they meet another deterministic agent
in the same seats, so the "distinct games" column counts the different move
sequences a pair produced: 2 means the pair's score rests on two games.

Then the time ``negamax-4`` takes per move, measured in-process on every
position it met in the ladder (each game replayed move by move), against the
built-in per-move budget (``arena.limits.Limits().move_timeout_s``).

    python bench/c4_ladder.py --package /tmp/dqn-c4-s0-300k
    python bench/c4_ladder.py --package /tmp/dqn-c4-s0-300k --write
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from results import cpu_name, write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENV = "connect_four_v3"
MARK = "c4_ladder"
BUILTINS = ("random", "one-ply", "heuristic", "negamax-2", "negamax-4")


def ladder(
    entrants: dict[str, Any], games: int, seeds: list[int]
) -> tuple[dict[tuple[str, str], dict[int, tuple[int, int, int]]], dict, list]:
    """Every pair's (wins, draws, losses) of the first, per seed, and distinct games per pair."""
    from arena.registry import get_env
    from arena.series import play_series, summarize

    spec = get_env(ENV)
    records: dict[tuple[str, str], dict[int, tuple[int, int, int]]] = {}
    distinct: dict[tuple[str, str], int] = {}
    matches = []
    for a, b in itertools.combinations(entrants, 2):
        sequences = set()
        for seed in seeds:
            t0 = time.perf_counter()
            results = play_series(spec, [entrants[a], entrants[b]], games=games, seed=seed)
            forfeits = [seat.forfeit for r in results for seat in r.forfeits]
            if forfeits:
                raise SystemExit(f"{a} vs {b}, seed {seed}: forfeits {forfeits}")
            row = summarize(results)[a]
            records.setdefault((a, b), {})[seed] = (row["wins"], row["draws"], row["losses"])
            sequences |= {tuple(map(tuple, r.actions)) for r in results}
            matches.extend(results)
            print(
                f"{a} vs {b} seed {seed}: {row['wins']}-{row['draws']}-{row['losses']}"
                f" ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
        distinct[(a, b)] = len(sequences)
    return records, distinct, matches


def negamax_move_times(matches: list, label: str = "negamax-4") -> np.ndarray:
    """Seconds per ``act`` of a fresh depth-4 agent on every position ``label`` was to move in."""
    from pettingzoo.classic import connect_four_v3

    from agents.negamax import NegamaxAgent

    agent = NegamaxAgent(4)
    env = connect_four_v3.env()
    times = []
    for result in matches:
        if label not in result.labels:
            continue
        seat = result.seats[result.labels.index(label)].seat
        env.reset(seed=result.seed)
        for name, action in result.actions:
            if name == seat:
                observation = env.observe(name)
                t0 = time.perf_counter()
                move = agent.act(observation["observation"], action_mask=observation["action_mask"])
                times.append(time.perf_counter() - t0)
                assert move == action, "negamax-4 replayed a different move"
            env.step(action)
    return np.array(times)


def score(wdl: tuple[int, int, int]) -> float:
    wins, draws, losses = wdl
    return (wins + draws / 2) / max(wins + draws + losses, 1)


def report(
    names: list[str],
    records: dict[tuple[str, str], dict[int, tuple[int, int, int]]],
    distinct: dict[tuple[str, str], int],
    times: np.ndarray,
    args: argparse.Namespace,
    packages: dict[str, str],
) -> str:
    from arena.limits import Limits

    def wdl(a: str, b: str, seed: int | None = None) -> tuple[int, int, int]:
        if (a, b) in records:
            per_seed = records[(a, b)]
            flip = False
        else:
            per_seed = records[(b, a)]
            flip = True
        rows = [per_seed[seed]] if seed is not None else list(per_seed.values())
        w, d, lo = (sum(x) for x in zip(*rows, strict=True))
        return (lo, d, w) if flip else (w, d, lo)

    lines = [
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  ",
        f"Command: `python bench/c4_ladder.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: `{' '.join(platform.uname())}`; {cpu_name()}  ",
        f"Load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}  ",
        f"Code: {_commit()}; seeds {', '.join(map(str, args.seeds))}; {args.games} games per pair "
        "and seed, seats alternating  ",
    ]
    for label, path in packages.items():
        lines.append(f"Package `{label}`: {path}  ")
    lines += [
        "",
        f"Score of the row against the column, (wins + draws/2) / games over "
        f"{len(args.seeds) * args.games} games; the last column is the mean over opponents.",
        "",
        "| agent | " + " | ".join(names) + " | mean |",
        "|" + " --- |" * (len(names) + 2),
    ]
    for a in names:
        cells, scores = [], []
        for b in names:
            if a == b:
                cells.append("")
                continue
            s = score(wdl(a, b))
            scores.append(s)
            cells.append(f"{s:.3f}")
        lines.append(f"| {a} | " + " | ".join(cells) + f" | {np.mean(scores):.3f} |")
    lines += [
        "",
        "Every pair, wins-draws-losses of the first agent per seed, and the number of "
        "distinct games (move sequences) the pair played:",
        "",
        "| pair | " + " | ".join(f"seed {s}" for s in args.seeds) + " | distinct games |",
        "|" + " --- |" * (len(args.seeds) + 2),
    ]
    for (a, b), per_seed in records.items():
        cells = [f"{w}-{d}-{lo}" for w, d, lo in (per_seed[s] for s in args.seeds)]
        lines.append(f"| {a} vs {b} | " + " | ".join(cells) + f" | {distinct[(a, b)]} |")
    budget = Limits().move_timeout_s
    if times.size:
        lines += [
            "",
            f"negamax-4, seconds per move on the {times.size} positions it met (replayed "
            f"in-process; the built-in budget is {budget:g} s): mean {times.mean():.4f}, "
            f"median {np.median(times):.4f}, 99th percentile {np.percentile(times, 99):.4f}, "
            f"max {times.max():.4f}.",
        ]
    return "\n".join(lines) + "\n"


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=40, help="games per pair and seed")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument(
        "--package", action="append", default=[], metavar="PATH",
        help="a trained connect-four package folder (repeatable); labelled by its name",
    )  # fmt: skip
    parser.add_argument("--write", action="store_true", help="write the section of RESULTS.md")
    args = parser.parse_args()

    from arena.sources import resolve_agent

    entrants: dict[str, Any] = {name: resolve_agent(name) for name in BUILTINS}
    packages = {}
    for path in args.package:
        source = resolve_agent(path)
        if source.label in entrants:
            raise SystemExit(f"two entrants named {source.label}: the ladder labels by name")
        entrants[source.label] = source  # the series labels games by the package's name
        packages[source.label] = path
    records, distinct, matches = ladder(entrants, args.games, args.seeds)
    times = negamax_move_times(matches)
    text = report(list(entrants), records, distinct, times, args, packages)
    print(text)
    if args.write:
        write_section(MARK, "Connect four: reference opponents", text)


if __name__ == "__main__":
    main()
