"""DQN family on connect four: train, then judge the written package through the arena.

Each run trains one variant with ``arena.training.train`` (exactly what
``arena train`` does), then plays the package it wrote against ``random`` and
``one-ply`` through the arena's match runner (``--eval-games`` each, seats
alternating) and stores one JSON file per run in ``--runs``. ``--report``
gathers every stored run into a table; ``--write`` replaces the ``dqn_connect_four``
section of ``bench/RESULTS.md`` with it.

    python bench/dqn_connect_four.py --algos dqn rainbow --steps 300000 --seeds 0
    python bench/dqn_connect_four.py --report --write

Throughput comes from the trainer's own counters: env steps/s and gradient
updates/s over the training loop (evaluation excluded), and the share of the
loop's time spent in the env (boards, the opponents' moves including snapshot
forward passes, and the transition bookkeeping: n-step folding, mirroring),
in the learner's network (its acting forward passes, and every update's
forward, backward and optimiser step) and in the replay buffer (writes,
sampling, priority updates).
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

ALGOS = ("dqn", "double-dqn", "dueling-dqn", "per-dqn", "rainbow")
ENV = "connect_four_v3"
MARK = "dqn_connect_four"


def one_run(
    algo: str, seed: int, steps: int, games: int, work: Path, runs: Path, config: Path | None
) -> dict:
    from agents.common.evaluate import evaluate
    from arena.sources import resolve_agent
    from arena.training import train

    tag = f"-{config.stem}" if config is not None else ""  # runs with a --config file
    out = work / f"{algo}-s{seed}-{steps}{tag}"
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()
    t0 = time.perf_counter()
    summary = train(
        algo, ENV, steps=steps, out=out, seed=seed, device="cpu", progress=False,
        config_path=config,
    )  # fmt: skip
    train_s = time.perf_counter() - t0
    package = resolve_agent(str(out))
    vs_random = evaluate(ENV, package, "random", games=games, seed=1000 + seed)
    vs_one_ply = evaluate(ENV, package, "one-ply", games=games, seed=2000 + seed)
    record = {
        "algo": algo,
        "setup": config.stem if config is not None else "preset",
        "seed": seed,
        "steps": summary.steps,
        "train_minutes": round(train_s / 60, 2),
        "eval_games": games,
        "win_vs_random": vs_random.win_rate,
        "score_vs_random": vs_random.score,
        "losses_vs_random": vs_random.losses,
        "win_vs_one_ply": vs_one_ply.win_rate,
        "score_vs_one_ply": vs_one_ply.score,
        "load_at_start": [round(x, 2) for x in load],
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "metrics": summary.metrics,
        "package": str(out),
        "config": json.loads((out / "training" / "config.json").read_text()),
    }
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{out.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "metrics"}), flush=True)
    return record


def report(runs: Path) -> str:
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    order = {a: i for i, a in enumerate(ALGOS)}
    records.sort(key=lambda r: (-r["steps"], order.get(r["algo"], 99), r["seed"]))
    cpu = cpu_name()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "?"
    lines = [
        f"Date of the report: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  ",
        "Command: `python bench/dqn_connect_four.py --algos ... --steps N --seeds S`, "
        "then `--report --write`  ",
        f"Machine: `{' '.join(platform.uname())}`  ",
        f"CPU: {cpu}; shared with three other engineers' test suites and trainings "
        "(load at each run's start in the last column), so speeds are lower bounds  ",
        f"Code: {commit}; torch {torch_version()}, 1 thread per trainer",
        "",
        "Win rates are of the written package, played through the arena's match runner "
        "(sandboxed package, seats alternating). Score = (wins + draws/2) / games.",
        "",
        "| algo | setup | seed | env steps | train min | vs random win | vs random losses "
        "| vs one-ply score | vs one-ply win | steps/s | updates/s | env % | network % "
        "| buffer % | load at start |",
        "|" + " --- |" * 15,
    ]
    for r in records:
        m = r["metrics"]
        lines.append(
            f"| {r['algo']} | {r.get('setup', 'preset')} | {r['seed']} | {r['steps']:,} "
            f"| {r['train_minutes']:.1f} "
            f"| {r['win_vs_random']:.3f} | {r['losses_vs_random']} / {r['eval_games']} "
            f"| {r['score_vs_one_ply']:.3f} | {r['win_vs_one_ply']:.3f} "
            f"| {m['steps_per_s']:.0f} | {m['updates_per_s']:.0f} "
            f"| {100 * m['share_env']:.0f} | {100 * m['share_network']:.0f} "
            f"| {100 * m['share_buffer']:.0f} | {', '.join(str(x) for x in r['load_at_start'])} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--eval-games", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dqn-bench"))
    parser.add_argument("--runs", type=Path, default=ROOT / "bench" / "dqn_runs")
    parser.add_argument("--config", type=Path, help="a --config file for every run")
    parser.add_argument("--report", action="store_true", help="print the table of stored runs")
    parser.add_argument("--write", action="store_true", help="write the table to RESULTS.md")
    args = parser.parse_args()
    if not args.report:
        for seed in args.seeds:
            for algo in args.algos:
                one_run(algo, seed, args.steps, args.eval_games, args.work, args.runs, args.config)
    text = report(args.runs)
    print(text)
    if args.write:
        write_section(MARK, f"{cpu_name()}, {ENV}", text)


if __name__ == "__main__":
    main()
