"""PPO and A2C on connect four: train, then judge the written package through the arena.

Each run trains with ``arena.training.train`` (exactly what ``arena train`` does),
then plays the package against ``random``, ``one-ply``, ``heuristic`` and
``negamax-2`` through the arena's match runner (``--eval-games`` each, seats
alternating), greedy (the package's default) and, with ``--sampled``, once more
with ``sample = true`` (the greedy learner and ``heuristic`` are both
deterministic, so greedy games against it repeat: two distinct games). One JSON
file per run goes to ``--runs``; ``--report`` gathers them into a table and
``--write`` replaces the ``ppo_connect_four`` section of ``bench/RESULTS.md``.

    python bench/ppo_connect_four.py --algo ppo --steps 1000000 --seeds 0 1
    python bench/ppo_connect_four.py --algo a2c --steps 300000 --seeds 0
    python bench/ppo_connect_four.py --report --write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from results import cpu_name, torch_version, write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENV = "connect_four_v3"
MARK = "ppo_connect_four"
OPPONENTS = ("random", "one-ply", "heuristic", "negamax-2")


def _score_all(package_dir: Path, games: int, seed: int) -> dict[str, float]:
    from agents.common.evaluate import evaluate
    from arena.sources import resolve_agent

    package = resolve_agent(str(package_dir))
    return {
        name: evaluate(ENV, package, name, games=games, seed=1000 * (i + 1) + seed).score
        for i, name in enumerate(OPPONENTS)
    }


def one_run(algo: str, seed: int, steps: int, games: int, work: Path, runs: Path,
            config: Path | None, sampled: bool) -> dict:  # fmt: skip
    from arena.training import train

    tag = f"-{config.stem}" if config is not None else ""
    out = work / f"{algo}-s{seed}-{steps}{tag}"
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()
    t0 = time.perf_counter()
    summary = train(algo, ENV, steps=steps, out=out, seed=seed, device="cpu", progress=False,
                    config_path=config)  # fmt: skip
    train_s = time.perf_counter() - t0
    record = {
        "algo": algo,
        "setup": config.stem if config is not None else "defaults",
        "seed": seed,
        "steps": summary.steps,
        "train_minutes": round(train_s / 60, 2),
        "eval_games": games,
        "greedy": _score_all(out, games, seed),
        "load_at_start": [round(x, 2) for x in load],
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "metrics": summary.metrics,
        "package": str(out),
        "config": json.loads((out / "training" / "config.json").read_text()),
    }
    if sampled:
        network = out / "network.json"
        spec = json.loads(network.read_text())
        network.write_text(json.dumps({**spec, "sample": True}))
        record["sampled"] = _score_all(out, games, seed)
        network.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{out.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k not in ("metrics", "config")}),
          flush=True)  # fmt: skip
    return record


def report(runs: Path) -> str:
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    records.sort(key=lambda r: (r["algo"] != "ppo", -r["steps"], r["setup"], r["seed"]))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    lines = [
        f"Date of the report: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  ",
        "Command: `python bench/ppo_connect_four.py --algo ppo|a2c --steps N --seeds S "
        "[--config F] [--sampled]`, then `--report --write`  ",
        f"Machine: `{' '.join(platform.uname())}`  ",
        f"CPU: {cpu_name()}; shared with five other agents' tests and trainings (load at each "
        "run's start in the last column): wall times are inflated, speeds are lower bounds  ",
        f"Code: {commit}; torch {torch_version()}, 1 thread per trainer, device cpu",
        "",
        "Scores (win 1, draw 1/2) of the written package through the arena's match runner, "
        "seats alternating. Greedy = the package's argmax play; sampled = `sample = true` "
        "(greedy games against the deterministic heuristic repeat, so only two distinct "
        "games stand behind its greedy figure).",
        "",
        "| algo | setup | seed | env steps | train min | games | " + " | ".join(
            f"vs {o}" for o in OPPONENTS) + " | sampled vs heuristic | sampled vs negamax-2 "
        "| steps/s | env % | act % | learn % | load at start |",
        "|" + " --- |" * (8 + len(OPPONENTS) + 5),
    ]  # fmt: skip
    for r in records:
        m, g, s = r["metrics"], r["greedy"], r.get("sampled", {})
        cells = " | ".join(f"{g[o]:.3f}" for o in OPPONENTS)
        samp = " | ".join(f"{s[o]:.3f}" if o in s else "" for o in ("heuristic", "negamax-2"))
        lines.append(
            f"| {r['algo']} | {r['setup']} | {r['seed']} | {r['steps']:,} "
            f"| {r['train_minutes']:.1f} | {r['eval_games']} | {cells} | {samp} "
            f"| {m['steps_per_s']:.0f} | {100 * m['share_env']:.0f} "
            f"| {100 * m['share_act']:.0f} | {100 * m['share_learn']:.0f} "
            f"| {', '.join(str(x) for x in r['load_at_start'])} |"
        )
    setups = {r["setup"]: r["config"] for r in records}
    lines += ["", "Setups (the resolved config of one run of each; `defaults` = no --config):", ""]
    for name, cfg in sorted(setups.items()):
        keys = ("n_games", "rollout_steps", "opponents", "torso", "hidden", "lr", "epochs",
                "minibatches", "n_step", "ent_coef", "gamma", "mirror")  # fmt: skip
        shown = ", ".join(f"{k}={json.dumps(cfg[k])}" for k in keys if k in cfg)
        lines.append(f"- `{name}` ({cfg['algo']}): {shown}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algo", default="ppo", choices=("ppo", "a2c"))
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--eval-games", type=int, default=40)
    parser.add_argument("--sampled", action="store_true", help="also score the sampling policy")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ppo-bench"))
    parser.add_argument("--runs", type=Path, default=ROOT / "bench" / "ppo_runs")
    parser.add_argument("--config", type=Path, help="a --config file for every run")
    parser.add_argument("--report", action="store_true", help="print the table of stored runs")
    parser.add_argument("--write", action="store_true", help="write the table to RESULTS.md")
    args = parser.parse_args()
    if not args.report:
        for seed in args.seeds:
            one_run(args.algo, seed, args.steps, args.eval_games, args.work, args.runs,
                    args.config, args.sampled)  # fmt: skip
    text = report(args.runs)
    print(text)
    if args.write:
        write_section(MARK, f"{cpu_name()}, {ENV}", text)


if __name__ == "__main__":
    main()
