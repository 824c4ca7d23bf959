"""How a tournament run scales: 1 worker, a local pool of 2, and Ray with 2 CPUs.

A temporary tournament file holds a connect-four round-robin whose matches take
real time: the example packages ``examples/agents/c4-negamax`` (depth-4 negamax,
sandboxed) and ``examples/agents/c4-heuristic`` (sandboxed) plus the built-ins
``one-ply`` and ``random``; 4 entrants make 6 pairings, and
``--games-per-pairing`` (default 17) makes 102 matches. The same file is run
with :func:`tournaments.run.run_tournament` in this process, each time into a
fresh temporary SQLite database:

- ``workers=1``: the baseline (matches played in this process, on the hosts
  that validated the entrants);
- ``workers=2``: the local process pool (spawned workers, each starting its own
  sandboxed workers for the two packages);
- ``backend="ray", workers=2``: a local Ray started here with
  ``ray.init(num_cpus=2)`` (the call the executor would make), timed on its own,
  then the run, then ``ray.shutdown()``.

Targets: 2 workers take <= 0.6 of the time of 1 worker, and Ray with 2 CPUs is
within 1.3x of the local pool of 2 (given with and without ``ray.init``).
Every run must store the same games: the same game keys, seeds, seating and
action logs; the report says whether they did.

The report also attributes each run's time, from the driver's side: validation
(``prepare_entrants``, which starts the packages' sandboxed workers in the
driver), the wait for the first stored match (worker start-up: spawn, imports,
sandboxes, first match), the steady part, the tail after the second-to-last
match (one worker idle), recording (``Recorder.record``, timed by wrapping it),
and closing; and it times, in a fresh Python, what a pool worker does before
its first matches (imports, sandbox starts, first match) and ``import ray``. It
records the machine's load: the load average, and the CPU used during each run
by the whole machine, by other processes and by this benchmark's process tree
(:class:`CpuSampler`).

``--cli`` adds the same runs through ``arena --db ... tournament run FILE
--workers N [--backend ray] --json`` as subprocesses (start-up included).
``--repeats`` (default 1: each run is long) repeats every mode in rotating order
and keeps the best. ``--write`` stores the report in ``bench/RESULTS.md`` (its
own section per CPU model, core count and number of matches, between
``tournament_scaling`` markers, refreshed in place; the file is re-read just
before writing).

Usage::

    .venv/bin/python bench/tournament_scaling.py                 # print only (about 40 s)
    .venv/bin/python bench/tournament_scaling.py --repeats 3 --cli --write   # as in RESULTS.md
    .venv/bin/python bench/tournament_scaling.py --games-per-pairing 40 --write  # 240 matches
    .venv/bin/python bench/tournament_scaling.py --games-per-pairing 4 --no-ray   # quick look
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import shlex
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

# Run as ``python bench/tournament_scaling.py``: this folder is first on sys.path.
from match_overhead import ROOT, arena_exe, machine, run_process, table, verdict
from results import RESULTS, write_section

POOL_TARGET = 0.6  # 2 workers / 1 worker
RAY_TARGET = 1.3  # ray with 2 CPUs / local pool of 2
ENV = "connect_four_v3"
EXAMPLES = ROOT / "examples" / "agents"
ENTRANTS = ("random", "one-ply", str(EXAMPLES / "c4-heuristic"), str(EXAMPLES / "c4-negamax"))
TOURNAMENT = """\
# Written by bench/tournament_scaling.py
[tournament]
name = "bench-scaling"
env = "{env}"
format = "round-robin"
games_per_pairing = {games}
seed = 1
description = "bench/tournament_scaling.py: a round-robin whose matches take real time"

[limits]
move_timeout_s = 5.0
init_timeout_s = 60.0
"""


# --------------------------------------------------------------------------- CPU accounting


def _clk_tck() -> int:
    return os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``), or NaN."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    values = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(values) - values[3] - values[4]) / _clk_tck()


def process_cpu() -> dict[int, tuple[int, float, float]]:
    """``{pid: (ppid, own CPU s, reaped children's CPU s)}`` of every process we can read."""
    out: dict[int, tuple[int, float, float]] = {}
    tck = _clk_tck()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        f = raw[raw.rfind(")") + 2 :].split()  # after "pid (comm) ": state ppid ...
        own, reaped = (int(f[11]) + int(f[12])) / tck, (int(f[13]) + int(f[14])) / tck
        out[int(entry.name)] = (int(f[1]), own, reaped)
    return out


class CpuSampler:
    """CPU used by this benchmark's process tree and by the others, sampled every ``period`` s.

    This tree: the largest, over the samples, of its live processes' own plus
    reaped children's CPU, minus the same sum at the start. Every process of the
    tree starts during the run and is reaped inside it (match children by their
    sandboxed worker, pool workers by the driver), except the sandboxed workers,
    which are killed at the end and reaped by init: the last sample before that
    holds their time, so the figure misses at most one period of theirs.

    Others: each process's own CPU from its first sample (from 0 if it started
    after the first); reaped children's time is left out, since it would count a
    long job of another session, reaped during the run, in full. Processes
    shorter than ``period`` are missed: a lower bound (the machine's busy time
    minus this tree's bounds it from above).
    """

    def __init__(self, period: float = 0.25) -> None:
        self.period = period
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.ours: set[int] = set()
        self.tree_start = 0.0
        self.tree_max = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self, initial: bool = False) -> None:
        me = os.getpid()
        procs = process_cpu()
        tree = 0.0
        for pid, (_ppid, own, reaped) in procs.items():
            if pid not in self.first:
                self.first[pid] = own if initial else 0.0
                chain, seen = pid, set()
                while chain > 1 and chain not in seen:
                    if chain == me or chain in self.ours:
                        self.ours.add(pid)
                        break
                    seen.add(chain)
                    chain = procs.get(chain, (0, 0.0, 0.0))[0]
            self.last[pid] = max(own, self.last.get(pid, 0.0))
            if pid in self.ours:
                tree += own + reaped
        if initial:
            self.tree_start = tree
        self.tree_max = max(self.tree_max, tree)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def others(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last if pid not in self.ours)

    @property
    def mine(self) -> float:
        return self.tree_max - self.tree_start


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    """One timed tournament run and where its time went (seconds, driver's clock)."""

    mode: str
    wall: float = 0.0  # run_tournament (or the CLI process), start to return
    ray_init: float = 0.0
    ray_shutdown: float = 0.0
    validate: float = 0.0  # prepare_entrants: packages' sandboxes started in the driver
    first: float = 0.0  # call -> first stored match
    last: float = 0.0  # call -> last stored match
    second_last: float = 0.0  # call -> second-to-last stored match
    record: float = 0.0  # Recorder.record, summed
    close: float = 0.0  # Executor.close
    match_s: float = 0.0  # sum of MatchResult.duration_s (play time inside the workers)
    matches: int = 0
    forfeits: int = 0
    driver_cpu: float = 0.0  # CPU of this process (all its threads)
    other_cpu: float = float("nan")  # CPU of other processes during the run (lower bound)
    tree_cpu: float = float("nan")  # CPU of this process tree during the run (lower bound)
    busy_cpu: float = float("nan")  # CPU of the whole machine during the run
    load: str = ""
    db: str = ""

    @property
    def total(self) -> float:
        """Wall time including Ray's start and stop (what a user waits)."""
        return self.ray_init + self.wall + self.ray_shutdown

    @property
    def per_s(self) -> float:
        return self.matches / self.wall if self.wall else float("nan")


@contextlib.contextmanager
def wrapped(owner: Any, name: str, into: list[float]) -> Iterator[None]:
    """Time every call of ``owner.name`` into ``into`` (summed), restored afterwards."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed_call(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - t0)

    setattr(owner, name, timed_call)
    try:
        yield
    finally:
        setattr(owner, name, original)


@contextlib.contextmanager
def cpu_watch(run: Run) -> Iterator[None]:
    """Fill the run's CPU and load fields around the block."""
    run.load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    busy, cpu = machine_busy(), time.process_time()
    with CpuSampler() as sampler:
        try:
            yield
        finally:
            run.driver_cpu = time.process_time() - cpu
            run.busy_cpu = machine_busy() - busy
    run.other_cpu, run.tree_cpu = sampler.others, sampler.mine


def in_process_run(path: Path, db: Path, mode: str, workers: int, backend: str) -> Run:
    """One ``run_tournament`` call into a fresh database, instrumented from the driver."""
    import tournaments.run as tr
    from arena.storage.recorder import Recorder
    from tournaments.executor import Executor

    run = Run(mode=mode, db=f"sqlite:///{db}")
    stamps: list[float] = []
    durations: list[float] = []
    validate: list[float] = []
    record: list[float] = []
    close: list[float] = []

    def on_match(result: Any, _done: int, _planned: int) -> None:
        stamps.append(time.perf_counter())
        durations.append(result.duration_s)

    with contextlib.ExitStack() as stack:
        stack.enter_context(wrapped(tr, "prepare_entrants", validate))
        stack.enter_context(wrapped(Recorder, "record", record))
        stack.enter_context(wrapped(Executor, "close", close))
        stack.enter_context(cpu_watch(run))
        if backend == "ray":
            import ray

            t0 = time.perf_counter()
            ray.init(num_cpus=workers, log_to_driver=False, include_dashboard=False)
            run.ray_init = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            outcome = tr.run_tournament(
                path, db_url=run.db, on_match=on_match, workers=workers, backend=backend
            )
            run.wall = time.perf_counter() - t0
        finally:
            if backend == "ray":
                t1 = time.perf_counter()
                ray.shutdown()
                run.ray_shutdown = time.perf_counter() - t1
    run.matches, run.forfeits = outcome.played, outcome.forfeits
    run.first, run.last = stamps[0] - t0, stamps[-1] - t0
    run.second_last = stamps[-2] - t0 if len(stamps) > 1 else run.first
    run.validate, run.record, run.close = sum(validate), sum(record), sum(close)
    run.match_s = sum(durations)
    return run


def cli_run(path: Path, db: Path, home: Path, mode: str, workers: int, backend: str) -> Run:
    """The same run through ``arena tournament run --json`` in a subprocess."""
    run = Run(mode=mode, db=f"sqlite:///{db}")
    env = {**os.environ, "ARENA_HOME": str(home)}
    env.pop("ARENA_DB", None)
    argv = [arena_exe(), "--db", run.db, "tournament", "run", str(path)]
    argv += ["--workers", str(workers), "--backend", backend, "--json"]
    with cpu_watch(run):
        run.wall, out = run_process(argv, env)
    report = json.loads(out)
    run.matches, run.forfeits = report["played"], report["forfeits"]
    return run


# --------------------------------------------------------------------------- worker start-up

# Run as ``python -c`` (a fresh interpreter, as a spawned pool worker is): what a
# pool worker does before and during its first matches, each step stamped with
# ``time.perf_counter`` (CLOCK_MONOTONIC on Linux: one clock for every process).
WORKER_PROBE = r"""
import json, sys, time
stamps = {"python": time.perf_counter()}
import tournaments.executor as ex
from arena.limits import Limits
stamps["imports"] = time.perf_counter()
ex._worker_init()
refs = json.loads(sys.argv[1])
limits = Limits(move_timeout_s=5.0, init_timeout_s=60.0)
state = ex._state
from arena.hosts import HostPool
from arena.sources import resolve_agent
pool = state.hosts.setdefault(limits, HostPool(limits))
for ref in refs:
    state.sources[ref] = resolve_agent(ref)
stamps["resolve"] = time.perf_counter()
for i, ref in enumerate(refs):
    pool.load(state.sources[ref])
    stamps[f"sandbox{i}"] = time.perf_counter()
for i in range(3):
    task = ex.MatchTask(key=f"k{i}", env_id="connect_four_v3", agents=tuple(refs), seed=i,
                        limits=limits)
    state.play(task)
    stamps[f"match{i}"] = time.perf_counter()
state.close()
stamps["close"] = time.perf_counter()
print("@@probe " + json.dumps(stamps))
"""


@dataclass
class Startup:
    """Worker start-up steps over the repeats (s), and Ray's fixed costs."""

    steps: dict[str, list[float]]


def worker_startup(repeats: int, ray: bool) -> Startup:
    """Time a fresh worker's steps (``WORKER_PROBE``), and ``import ray`` in a fresh Python."""
    import subprocess

    refs = [str(EXAMPLES / "c4-negamax"), str(EXAMPLES / "c4-heuristic")]
    names = {
        "python": "process start to first line (python start-up)",
        "imports": "import tournaments.executor (what unpickling a task imports)",
        "resolve": "resolve both packages (manifests, content hashes)",
        "sandbox0": "start c4-negamax's sandboxed worker (HostPool.load)",
        "sandbox1": "start c4-heuristic's sandboxed worker",
        "match0": "first match c4-negamax vs c4-heuristic (env built, games imported)",
        "match1": "second match (warm)",
        "match2": "third match (warm)",
        "close": "close the sandboxed workers",
    }
    steps: dict[str, list[float]] = {v: [] for v in names.values()}
    steps["total: start to end of the first match"] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", WORKER_PROBE, json.dumps(refs)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        line = next((x for x in proc.stdout.splitlines() if x.startswith("@@probe ")), None)
        if proc.returncode != 0 or line is None:
            raise SystemExit(f"worker probe failed ({proc.returncode}):\n{proc.stderr}")
        stamps = json.loads(line.removeprefix("@@probe "))
        previous = t0
        for key, name in names.items():
            steps[name].append(stamps[key] - previous)
            previous = stamps[key]
        steps["total: start to end of the first match"].append(stamps["match0"] - t0)
    if ray:
        key = "reference: import ray (fresh python, minus python -c pass)"
        steps[key] = []
        for _ in range(repeats):
            bare = run_process([sys.executable, "-c", "pass"])[0]
            steps[key].append(run_process([sys.executable, "-c", "import ray"])[0] - bare)
    return Startup(steps)


# --------------------------------------------------------------------------- stored games


def stored_games(db_url: str) -> dict[str, tuple[Any, ...]]:
    """``{game key: (seed, labels by slot, ranks by slot, action log)}`` of a database."""
    from sqlalchemy import select

    from arena.storage import connect
    from arena.storage import models as m

    engine = connect(db_url)
    games: dict[str, tuple[Any, ...]] = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m.Match.id, m.Match.game_key, m.Match.seed, m.Match.actions))
            matches = {mid: (str(key), seed, actions) for mid, key, seed, actions in rows}
            seats: dict[int, list[tuple[int, str, int]]] = {}
            query = select(
                m.Participant.match_id, m.Participant.slot, m.Participant.label, m.Participant.rank
            )
            for mid, slot, label, rank in conn.execute(query):
                seats.setdefault(mid, []).append((slot, label, rank))
    finally:
        engine.dispose()
    for mid, (key, seed, actions) in matches.items():
        ordered = sorted(seats.get(mid, []))
        labels = tuple(label for _, label, _ in ordered)
        ranks = tuple(rank for _, _, rank in ordered)
        games[key] = (seed, labels, ranks, json.dumps(actions))
    return games


def compare(runs: Sequence[Run]) -> tuple[bool, str]:
    """Whether every run stored the same games as the first; one line saying so."""
    reference = stored_games(runs[0].db)
    problems = []
    for run in runs[1:]:
        games = stored_games(run.db)
        if set(games) != set(reference):
            problems.append(f"{run.mode}: {len(set(games) ^ set(reference))} game key(s) differ")
            continue
        for what, index in (("seeds", 0), ("seating", 1), ("ranks", 2), ("action logs", 3)):
            differ = sum(games[k][index] != reference[k][index] for k in reference)
            if differ:
                problems.append(f"{run.mode}: {differ} game(s) with other {what}")
    moves = sum(len(json.loads(g[3])) for g in reference.values())
    if problems:
        return False, "**different games**: " + "; ".join(problems)
    return True, (
        f"all {len(runs)} runs stored the same {len(reference)} games (same keys, seeds, "
        f"seating, ranks and action logs; {moves} moves in all)"
    )


# --------------------------------------------------------------------------- report


def dist(name: str) -> str:
    try:
        return dist_version(name)
    except PackageNotFoundError:
        return "not installed"


def best(runs: Sequence[Run], mode: str) -> Run | None:
    """The fastest repeat of a mode (by what the user waits, Ray start included)."""
    mine = [r for r in runs if r.mode == mode]
    return min(mine, key=lambda r: r.total) if mine else None


def cores(seconds: float, wall: float) -> str:
    return f"{seconds / wall:.2f}" if wall and seconds == seconds else "?"


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    runs: Sequence[Run],
    same: tuple[bool, str],
    matches: int,
    startup: Startup | None,
) -> str:
    """The Markdown report printed and, with ``--write``, stored."""
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"Date: {when}  ",
        f"Command: `{shlex.join(['python', 'bench/tournament_scaling.py', *sys.argv[1:]])}`  ",
        f"Machine: `{info['uname']}`  ",
        f"CPU: {info['cpu']}, {info['cores']} cores; load average at start {info['load']}  ",
        f"Python {info['python']}, pettingzoo {info['pettingzoo']}, numpy {info['numpy']}, "
        f"SQLAlchemy {info['sqlalchemy']}, ray {dist('ray')}  ",
        f"Code: {info['code']}",
        "",
        f"Round-robin on {ENV}: entrants {', '.join(Path(e).name for e in ENTRANTS)} "
        f"(the two example packages sandboxed), {args.games_per_pairing} games per pairing, "
        f"{matches} matches; every run into a fresh SQLite database. "
        f"{'Best' if args.repeats > 1 else 'One run'} of {args.repeats} per mode"
        f"{', modes in rotating order' if args.repeats > 1 else ''}.",
        "",
    ]
    modes = list(dict.fromkeys(r.mode for r in runs))
    rows = []
    base = best(runs, modes[0])
    assert base is not None
    for mode in modes:
        r = best(runs, mode)
        assert r is not None
        every = [x for x in runs if x.mode == mode]
        rows.append(
            [
                mode,
                f"{r.wall:.2f}",
                f"{r.ray_init:.2f}" if r.ray_init else "-",
                f"{r.total:.2f}",
                f"{r.matches / r.total:.2f}",
                f"{r.total / base.total:.2f}",
                ", ".join(f"{x.total:.1f}" for x in every),
                str(r.forfeits),
            ]
        )
    out += [
        table(
            [
                "mode",
                "run s",
                "ray.init s",
                "total s",
                "matches/s",
                "x 1 worker",
                "all runs s",
                "forfeits",
            ],
            rows,
        ),
        "",
        "total = `ray.init` + run + `ray.shutdown` for Ray; the run alone otherwise.",
        "",
    ]
    one, two = best(runs, "1 worker"), best(runs, "2 workers (pool)")
    ray = best(runs, "ray, 2 CPUs")
    lines = []
    if one is not None and two is not None:
        lines.append(
            f"- 2 workers / 1 worker: **{verdict(two.total / one.total, POOL_TARGET)}**; "
            f"after the first stored match (start-up left out): "
            f"{(two.last - two.first) / max(one.last - one.first, 1e-9):.2f}."
        )
    if two is not None and ray is not None:
        lines.append(
            f"- Ray (2 CPUs) / local pool of 2, `ray.init` and `ray.shutdown` included: "
            f"**{verdict(ray.total / two.total, RAY_TARGET)}**; run only: "
            f"**{verdict(ray.wall / two.wall, RAY_TARGET)}** "
            f"(`ray.init` {ray.ray_init:.2f} s, `ray.shutdown` {ray.ray_shutdown:.2f} s)."
        )
    cli = [best(runs, m) for m in modes if m.startswith("CLI")]
    for r in cli:
        assert r is not None
        ref = {"CLI 1 worker": one, "CLI 2 workers": two, "CLI ray, 2 CPUs": ray}.get(r.mode)
        if ref is not None:
            lines.append(
                f"- {r.mode}: {r.wall:.2f} s, {r.wall / ref.total:.2f}x the in-process run "
                f"(start-up of the command and of the database included)."
            )
    lines.append(f"- Stored games: {same[1]}.")
    out += [*lines, ""]

    timed_runs = [best(runs, m) for m in modes if not m.startswith("CLI")]
    attribution = []
    for r in timed_runs:
        assert r is not None
        steady = r.second_last - r.first
        attribution.append(
            [
                r.mode,
                f"{r.validate:.2f}",
                f"{r.first:.2f}",
                f"{steady:.2f}",
                f"{r.last - r.second_last:.2f}",
                f"{r.wall - r.last:.2f}",
                f"{r.record:.2f}",
                f"{r.match_s:.1f}",
                f"{r.match_s / base.match_s:.2f}" if base.match_s else "?",
                cores(r.match_s, steady + r.last - r.second_last),
            ]
        )
    out += [
        "Where the time goes, from the driver (s, best run of each mode):",
        "",
        table(
            [
                "mode",
                "validate",
                "to 1st match",
                "1st to 2nd-last",
                "last match (tail)",
                "after last",
                "recording",
                "match s (sum)",
                "x 1 worker's",
                "matches in flight",
            ],
            attribution,
        ),
        "",
        "validate = `prepare_entrants` (resolves the entrants and starts the packages' "
        'sandboxed workers in the driver; counted inside "to 1st match" too); '
        "to 1st match = call to the first stored match (validation, database, worker "
        "start-up, the first match); tail = second-to-last to last stored match (one worker "
        "idle at the end); after last = `Executor.close` and finishing the run; recording = "
        "`Recorder.record` in the driver (included in the other columns); match s = sum of "
        "each match's own `duration_s` (wall clock where it was played, so it grows when "
        "matches wait for a CPU); matches in flight = match s / (time after the first "
        "stored match), the average number of matches being played.",
        "",
    ]
    load_rows = []
    for r in runs:
        span = r.total
        # /proc/stat and the samples tick separately: keep each upper bound >= its lower one.
        mine_max = max(r.busy_cpu - r.other_cpu, r.tree_cpu)
        others_max = max(r.busy_cpu - r.tree_cpu, r.other_cpu)
        load_rows.append(
            [
                r.mode,
                f"{span:.1f}",
                r.load,
                cores(r.busy_cpu, span),
                f"{cores(r.other_cpu, span)}-{cores(others_max, span)}",
                f"{cores(r.tree_cpu, span)}-{cores(mine_max, span)}",
                f"{r.tree_cpu:.1f}-{mine_max:.1f}",
                cores(r.driver_cpu, span),
            ]
        )
    out += [
        "Load during each run, in cores busy on average over the run (of "
        f"{info['cores']}): the whole machine (`/proc/stat`); other processes and this "
        "benchmark's process tree (driver, pool or Ray workers, sandboxes, match "
        "children), each from a 0.25 s sampler of `/proc` (a lower bound: see `CpuSampler`) "
        "to the machine minus the other one (an upper bound); this benchmark's CPU seconds; "
        "the driver process alone:",
        "",
        table(
            [
                "mode",
                "s",
                "load average at start",
                "machine",
                "others",
                "this benchmark",
                "its CPU s",
                "driver",
            ],
            load_rows,
        ),
        "",
    ]
    if startup is not None:
        srows = [
            [name, f"{min(v):.3f}", f"{sorted(v)[len(v) // 2]:.3f}"]
            for name, v in startup.steps.items()
        ]
        out += [
            f"Start-up of one worker process, best of {args.startup_repeats} (a fresh "
            "`python -c` doing what a pool worker does before and during its first "
            "matches; each step after the previous one):",
            "",
            table(["step", "best s", "median s"], srows),
            "",
        ]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def write_tournament(path: Path, games_per_pairing: int) -> Path:
    """The benchmark's tournament file, with ``games_per_pairing`` games per pairing."""
    entrants = "".join(f"\n[[entrants]]\nagent = {json.dumps(e)}\n" for e in ENTRANTS)
    path.write_text(TOURNAMENT.format(env=ENV, games=games_per_pairing) + entrants)
    return path


def plan(args: argparse.Namespace) -> list[tuple[str, Callable[[Path, Path, Path], Run]]]:
    """The modes to run: ``(name, fn(tournament file, database, ARENA_HOME))``."""
    modes: list[tuple[str, Callable[[Path, Path, Path], Run]]] = [
        ("1 worker", lambda p, d, _h: in_process_run(p, d, "1 worker", 1, "local")),
        ("2 workers (pool)", lambda p, d, _h: in_process_run(p, d, "2 workers (pool)", 2, "local")),
    ]
    if not args.no_ray:
        modes.append(
            ("ray, 2 CPUs", lambda p, d, _h: in_process_run(p, d, "ray, 2 CPUs", 2, "ray"))
        )
    if args.cli:
        modes.append(("CLI 1 worker", lambda p, d, h: cli_run(p, d, h, "CLI 1 worker", 1, "local")))
        modes.append(
            ("CLI 2 workers", lambda p, d, h: cli_run(p, d, h, "CLI 2 workers", 2, "local"))
        )
        if not args.no_ray:
            modes.append(
                ("CLI ray, 2 CPUs", lambda p, d, h: cli_run(p, d, h, "CLI ray, 2 CPUs", 2, "ray"))
            )
    return modes


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options, run every mode, check the games, print (and store) the report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--games-per-pairing", type=int, default=17, help="games per pairing (6 pairings)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="repeats of every mode; best kept")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray runs")
    parser.add_argument("--cli", action="store_true", help="also run each mode through the CLI")
    parser.add_argument(
        "--startup-repeats", type=int, default=3, help="repeats of the worker start-up probe"
    )
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up probe")
    parser.add_argument("--write", action="store_true", help="store the report in RESULTS.md")
    args = parser.parse_args(argv)
    if args.games_per_pairing < 1 or args.repeats < 1:
        parser.error("--games-per-pairing and --repeats must be at least 1")
    if not args.no_ray and dist("ray") == "not installed":
        parser.error("ray is not installed (pip install -e '.[ray]'), or pass --no-ray")

    info = machine()
    modes = plan(args)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="arena-bench-") as tmp:
        root = Path(tmp)
        os.environ["ARENA_HOME"] = str(root / "home")  # nothing lands in ~/.arena or ./.arena
        path = write_tournament(root / "scaling.toml", args.games_per_pairing)
        # Warm-up, not timed: this process's imports (storage, migrations, the game,
        # the built-ins) would otherwise land in whichever mode runs first.
        print("warm-up: 1 game per pairing, 1 worker ...", file=sys.stderr, flush=True)
        warm = write_tournament(root / "warm-up.toml", 1)
        in_process_run(warm, root / "warm-up.db", "warm-up", 1, "local")
        for i in range(args.repeats):
            order = modes[i % len(modes) :] + modes[: i % len(modes)]
            for name, fn in order:
                print(f"repeat {i + 1}/{args.repeats}: {name} ...", file=sys.stderr, flush=True)
                db = root / f"{len(runs):02d}.db"
                run = fn(path, db, root / f"home-{len(runs):02d}")
                print(
                    f"  {run.total:.2f} s, {run.matches} matches, {run.forfeits} forfeits",
                    file=sys.stderr,
                    flush=True,
                )
                runs.append(run)
        same = compare(runs)
    startup = None
    if not args.no_startup:
        print("worker start-up probe ...", file=sys.stderr, flush=True)
        startup = worker_startup(max(args.startup_repeats, 1), not args.no_ray)
    matches = 6 * args.games_per_pairing
    body = report(args, info, runs, same, matches, startup)
    print(body)
    if args.write:
        key = f"{info['cpu']}, {info['cores']} cores, {matches} matches"
        write_section("tournament_scaling", key, body)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    if not same[0]:
        raise SystemExit("the runs stored different games (see the report)")


if __name__ == "__main__":
    main()
