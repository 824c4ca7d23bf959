"""MADDPG / MASAC training speed on simple_spread against another commit, with the time split.

Each trial is a fresh interpreter that runs ``arena train ALGO`` (the ``shared``
preset: one actor and critic per role, 2x128, 16 envs, batch 1,024, one update
per 16 env steps; evaluations included) for ``--steps`` env steps and prints
its env steps/s and where the time went: env stepping, acting (with the
host-device copies), learning (the updates), the replay buffer (adding and
sampling) and evaluation. The split is measured the same way in both trees,
by wrapping ``VecMPE.step``, the learner's ``act`` and ``update``,
``JointReplay.add`` and ``sample`` and the loop's ``evaluate`` with
``perf_counter`` sums, so a tree without the loop's own split
(``seconds_*`` in the TrainSummary metrics) is measured alike.

Trials of the two trees alternate (old, new, old, new...), so a neighbour's
load on a shared VM falls on both alike; the report gives the ratio of the
best runs and the median of the per-round ratios, and the load average
beside each run. The other tree is a git worktree of the baseline commit::

    git worktree add /tmp/mpe-old <commit>
    .venv/bin/python bench/mpe_speed.py --other /tmp/mpe-old --write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from results import write_section

HERE = Path(__file__).resolve().parents[1]
PARTS = ("env", "act", "learn", "buffer", "eval")

TRIAL = r"""
import json, os, sys, tempfile, time
from pathlib import Path

# The tree's own packages (PYTHONPATH and the working directory), never the venv's
# editable install of the main tree; the assert says which tree this trial measures.
sys.meta_path[:] = [
    f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")
]
import agents
assert Path(agents.__file__).parent.parent == Path.cwd(), agents.__file__

import agents.common.mpe_loop as loop
from agents.common.joint_replay import JointReplay
from agents.common.vec_mpe import VecMPE
from agents.maddpg import MADDPG
from agents.sac import SAC
from arena.training import train

algo, steps, config = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
split = dict.fromkeys(("env", "act", "learn", "buffer", "eval"), 0.0)
inside_eval = [False]

def timed(part, fn):
    def wrapper(*args, **kwargs):
        if inside_eval[0]:
            return fn(*args, **kwargs)
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            split[part] += time.perf_counter() - start
    return wrapper

def timed_eval(fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        inside_eval[0] = True
        try:
            return fn(*args, **kwargs)
        finally:
            inside_eval[0] = False
            split["eval"] += time.perf_counter() - start
    return wrapper

VecMPE.step = timed("env", VecMPE.step)
JointReplay.add = timed("buffer", JointReplay.add)
JointReplay.sample = timed("buffer", JointReplay.sample)
for cls in (MADDPG, SAC):
    cls.act = timed("act", cls.act)
    cls.update = timed("learn", cls.update)
loop.evaluate = timed_eval(loop.evaluate)
load = os.getloadavg()[0]
cpu = time.process_time()
with tempfile.TemporaryDirectory() as tmp:
    summary = train(algo, "simple_spread_v3", steps=steps, out=Path(tmp) / "pkg", seed=0,
                    device="cpu", config_path=config, progress=False)
cpu = time.process_time() - cpu
own = {k: v for k, v in summary.metrics.items() if k.startswith("seconds_")}
print(json.dumps({"steps": summary.steps, "seconds": summary.seconds, "cpu": cpu, "split": split,
                  "own_split": own, "load": [load, os.getloadavg()[0]],
                  "eval": summary.metrics["eval_team_return"]}))
"""

CONFIG = """# bench/mpe_speed.py: the shared preset, with a short warm-up so that a short
# trial is mostly training (the 1M-step runs warm up for 25,600 steps of 1M).
preset = "shared"
learning_starts = {learning_starts}
"""


def trial(tree: Path, algo: str, steps: int, config: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", TRIAL, algo, str(steps), str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"trial in {tree} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["steps_per_s"] = result["steps"] / result["seconds"]
    return result


def commit_of(tree: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def split_row(label: str, runs: list[dict[str, Any]]) -> str:
    """Median ms per 1,000 env steps of each part, and its share of the run."""
    best = max(r["steps_per_s"] for r in runs)
    median = statistics.median(r["steps_per_s"] for r in runs)
    cells = []
    for part in (*PARTS, "other"):
        per_k = []
        for r in runs:
            spent = r["split"].get(part, r["seconds"] - sum(r["split"].values()))
            per_k.append((spent, 1000 * spent / r["steps"], spent / r["seconds"]))
        ms = statistics.median(p[1] for p in per_k) * 1e3
        share = statistics.median(p[2] for p in per_k)
        cells.append(f"{ms:.0f} ({share:.0%})")
    per_cpu = statistics.median(r["steps"] / r["cpu"] for r in runs)
    loads = ", ".join(f"{r['load'][0]:.1f}-{r['load'][1]:.1f}" for r in runs)
    return (
        f"| {label} | {best:.0f} | {median:.0f} | {per_cpu:.0f} | {' | '.join(cells)} | {loads} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="worktree of the baseline")
    parser.add_argument("--algos", nargs="*", default=["maddpg", "masac"])
    parser.add_argument("--steps", type=int, default=24_000)
    parser.add_argument("--learning-starts", type=int, default=4_096)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="store the report in RESULTS.md")
    args = parser.parse_args()

    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "speed.toml"
        config.write_text(CONFIG.format(learning_starts=args.learning_starts))
        for _ in range(args.rounds):
            for algo in args.algos:
                for name, tree in (("baseline", args.other), ("this tree", HERE)):
                    result = trial(tree, algo, args.steps, config)
                    runs.setdefault((algo, name), []).append(result)
                    print(algo, name, json.dumps(result), flush=True)
    finished = dt.datetime.now(dt.timezone.utc).strftime("%H:%M UTC")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        f"Date: {started} to {finished}  ",
        f"Command: `python bench/mpe_speed.py --other <worktree of {commit_of(args.other)}> "
        f"--steps {args.steps} --rounds {args.rounds}`  ",
        f"Machine: {model}, {os.cpu_count()} cores, torch threads 1 (the configs' default)  ",
        f"This tree: {commit_of(HERE)}; baseline: {commit_of(args.other)}. Each run: `arena "
        f'train ALGO --env simple_spread_v3 --seed 0` with `preset = "shared"` (2x128, one '
        f"network per role, 16 envs, batch 1,024, an update every 16 env steps), "
        f"`learning_starts = {args.learning_starts}`, {args.steps:,} env steps, evaluations "
        "(32 episodes every 20k steps and at the end) included; fresh interpreter per run, "
        "the two trees alternating.",
        "",
        "Env steps/s (wall clock, best and median of the runs), env steps per CPU second of "
        "the trial process (median; less sensitive to the neighbours' load), and the time "
        "split: median ms per 1,000 env steps (share of the run). Load: the 1-minute load "
        "average at the start and end of each run.",
        "",
        "| algo, tree | best steps/s | median steps/s | steps per CPU s | env | act | learn "
        "| buffer | eval | other | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    ratios = []
    for algo in args.algos:
        old, new = runs[(algo, "baseline")], runs[(algo, "this tree")]
        lines.append(split_row(f"{algo}, baseline", old))
        lines.append(split_row(f"{algo}, this tree", new))
        per_round = [n["steps_per_s"] / o["steps_per_s"] for o, n in zip(old, new, strict=True)]
        best = max(r["steps_per_s"] for r in new) / max(r["steps_per_s"] for r in old)
        ratios.append(
            f"{algo}: this tree / baseline, best {best:.2f}x, median of the per-round ratios "
            f"{statistics.median(per_round):.2f}x ({', '.join(f'{r:.2f}' for r in per_round)})"
        )
    lines += ["", *(f"- {r}" for r in ratios)]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section("mpe_speed", "simple_spread_v3, shared preset, 2 cores", report)


if __name__ == "__main__":
    main()
