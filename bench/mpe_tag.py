"""simple_tag_v3: do trained predators and trained prey beat the baselines?

Trains ``arena train maddpg`` (every role at once) for ``--steps`` env steps,
then plays the written package (through its own stand-alone player, as a match
would) in four pairings, ``--episodes`` seeded episodes each:

* predators: random predators vs random prey, then trained predators vs random prey
  (predator return = mean over the three predators, +10 per touch);
* prey: random prey vs ``tag-chaser`` predators heading straight for it, then
  trained prey vs the same chasers (prey return: -10 per touch, minus leaving
  the arena).

    .venv/bin/python bench/mpe_tag.py --steps 200000 [--algo maddpg] [--seed 0]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from agents.common.mpe_loop import evaluate
from agents.common.vec_mpe import VecMPE
from agents.players.actor_player import ActorPlayer
from agents.tag_chaser import chase
from arena.registry import get_env
from arena.training import train

ENV = "simple_tag_v3"


def package_policy(package: Path, vec: VecMPE) -> list[ActorPlayer]:
    env = vec.envs[0]
    players = []
    for seat, role in zip(vec.seats, vec.roles, strict=True):
        ctx = SimpleNamespace(
            agent_id=seat, role=role, package_dir=package, action_space=env.action_space(seat)
        )
        players.append(ActorPlayer(ctx))
    return players


def mixed(vec: VecMPE, predators: Any, prey: Any, rng: np.random.Generator) -> Any:
    """A joint policy from a predator rule and a prey rule (``"random"``, ``"chaser"``, players)."""
    pred_idx = [i for i, r in enumerate(vec.roles) if r == "adversary"]
    prey_idx = [i for i, r in enumerate(vec.roles) if r != "adversary"]

    def fill(rule: Any, idx: list[int], obs: np.ndarray, out: np.ndarray) -> None:
        for i in idx:
            if rule == "random":
                out[:, i] = rng.integers(0, vec.act_dims[i], obs.shape[0])
            elif rule == "chaser":
                out[:, i] = chase(obs[:, i, : vec.obs_dims[i]])
            else:
                out[:, i] = [rule[i].act(o[i, : vec.obs_dims[i]]) for o in obs]

    def policy(obs: np.ndarray) -> np.ndarray:
        out = np.zeros(obs.shape[:2], int)
        fill(predators, pred_idx, obs, out)
        fill(prey, prey_idx, obs, out)
        return out

    return policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--algo", default="maddpg")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("/tmp/arena-bench-tag"))
    parser.add_argument("--package", type=Path, help="evaluate this package, train nothing")
    args = parser.parse_args()

    started = time.perf_counter()
    package = args.package
    if package is None:
        package = args.out / f"{args.algo}-{args.seed}"
        summary = train(
            args.algo,
            ENV,
            steps=args.steps,
            out=package,
            seed=args.seed,
            device="cpu",
            progress=False,
        )
        print(
            f"trained {args.algo} {args.steps} steps in {summary.seconds:.0f} s "
            f"({summary.metrics['steps_per_s']:.0f} steps/s)"
        )
    vec = VecMPE(get_env(ENV), 8, seed=12345)
    trained = package_policy(package, vec)
    rng = np.random.default_rng(0)
    pred = [i for i, r in enumerate(vec.roles) if r == "adversary"]
    prey = [i for i, r in enumerate(vec.roles) if r != "adversary"]
    rows = []
    for label, predators, prey_rule, cols in (
        ("random predators vs random prey", "random", "random", pred),
        ("trained predators vs random prey", trained, "random", pred),
        ("chasers vs random prey", "chaser", "random", prey),
        ("chasers vs trained prey", "chaser", trained, prey),
        ("trained predators vs trained prey", trained, trained, pred),
    ):
        returns = evaluate(vec, mixed(vec, predators, prey_rule, rng), args.episodes)
        per_episode = returns[:, cols].mean(1)
        half = 1.96 * per_episode.std(ddof=1) / np.sqrt(len(per_episode))
        side = "predator" if cols == pred else "prey"
        rows.append((label, side, float(per_episode.mean()), float(half)))
    total = time.perf_counter() - started
    print(
        f"\n{ENV}, {args.algo} seed {args.seed}, {args.episodes} episodes per row, "
        f"{platform.processor() or platform.machine()}, total {total:.0f} s"
    )
    print("| pairing | measured side | mean return | 95% CI |\n| --- | --- | --- | --- |")
    for label, side, mean, half in rows:
        print(f"| {label} | {side} | {mean:.1f} | ±{half:.1f} |")


if __name__ == "__main__":
    main()
