"""simple_spread_v3: MAPPO and IPPO at 1M env steps, beside MADDPG's shared preset and random.

Trains ``arena train mappo|ippo`` (``--config`` optional) for ``--steps`` env
steps per seed, greedy evaluations every 20k steps on the 32 seeded episodes
bench/mpe_spread.py uses (team return = sum over the three agents), then the
final package on 1,000 fresh seeded episodes (bench/mpe_spread.py's
``package_return``). Random play is measured on the same evaluation episodes.
Prints one markdown row per run, in bench/mpe_spread.py's columns.

    .venv/bin/python bench/mappo_spread.py --algos mappo ippo --seeds 0 1 --steps 1000000
    .venv/bin/python bench/mappo_spread.py --algos --log mappo-0=OUT/training/log.csv \
        --package mappo-0=OUT --write "AMD EPYC, 2 cores"   # report finished runs

``--write KEY`` puts the printed tables in bench/RESULTS.md's section
``mappo_spread: KEY`` (bench/results.py), leaving the hand-written analysis alone.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np

# Run as ``python bench/mappo_spread.py``: this folder is first on sys.path.
from mpe_spread import ENV, package_return, read_log, report
from results import write_section

from agents.common.mpe_loop import evaluate, team_return
from agents.common.mpe_pg import EVAL_SEED_OFFSET
from agents.common.vec_mpe import VecMPE
from arena.registry import get_env
from arena.training import train


def random_return(seed: int, episodes: int = 32) -> float:
    """Uniform random actions on the run's own evaluation episodes."""
    vec = VecMPE(get_env(ENV), min(episodes, 16), seed=seed + EVAL_SEED_OFFSET)
    rng = np.random.default_rng(seed)
    returns = evaluate(vec, lambda o: rng.integers(0, 5, o.shape[:2]), episodes)
    return float(team_return(vec, returns).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algos", nargs="*", default=["mappo", "ippo"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--threshold", type=float, default=-50.0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/arena-bench-mappo"))
    parser.add_argument("--config", type=Path, help="an arena train --config file")
    parser.add_argument("--log", nargs="*", default=[], help="NAME=log.csv of a finished run")
    parser.add_argument("--package", nargs="*", default=[], help="NAME=DIR of a trained package")
    parser.add_argument("--final-episodes", type=int, default=1000)
    parser.add_argument("--write", metavar="KEY", help="also write bench/RESULTS.md's section")
    args = parser.parse_args()
    printed: list[str] = []

    def say(line: str) -> None:
        printed.append(line)
        print(line, flush=True)

    lines, packages = [], [item.split("=", 1) for item in args.package]
    for seed in args.seeds:
        say(f"random play, seed {seed}'s evaluation episodes: {random_return(seed):.1f}  ")
    for algo in args.algos:
        for seed in args.seeds:
            out = args.out / f"{algo}-{seed}"
            train(algo, ENV, steps=args.steps, out=out, seed=seed, device="cpu",
                  config_path=args.config, progress=False)  # fmt: skip
            lines.append(report(f"{algo} seed {seed}", read_log(out / "training/log.csv"),
                                args.threshold))  # fmt: skip
            print(lines[-1], flush=True)
            packages.append([f"{algo} seed {seed}", str(out)])
    for item in args.log:
        name, path = item.split("=", 1)
        lines.append(report(name, read_log(Path(path)), args.threshold))
    say(f"\n{ENV}, {platform.machine()}, threads 1\n")
    say(
        "| algo | steps | wall s | env steps/s | greedy @200k | @1M | final | best "
        f"| time to {args.threshold:.0f} |"
    )
    say("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    say("\n".join(lines))
    if packages:
        say(f"\nFinal greedy policies, {args.final_episodes} fresh seeded episodes:\n")
        say("| package | team return | 95% CI |")
        say("| --- | --- | --- |")
    for name, path in packages:
        mean, half = package_return(Path(path), args.final_episodes)
        say(f"| {name} | {mean:.1f} | {mean - half:.1f} to {mean + half:.1f} |")
    if args.write:
        write_section("mappo_spread", args.write, "\n".join(printed))


if __name__ == "__main__":
    main()
