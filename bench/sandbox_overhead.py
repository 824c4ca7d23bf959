"""What the sandbox costs: sandboxed packages versus the same packages in-process.

Two copies of a tiny random-legal-move package (written to a temp folder at run
time: ``agent.toml`` plus a module using numpy, seeded from ``ctx.seed``, with the
move rule of ``agents/random_agent.py``) play a series through
:func:`arena.series.play_series`, once with ``Limits(sandbox=True)`` (the default:
one sandboxed worker per package, a forked child per match) and once with
``Limits(sandbox=False)`` (both packages in the arena's process), with the same
seeds. Both modes must play identical games; the benchmark stops if they differ
or if any seat forfeits.

a. **Series**: games/s of each mode and the time ratio sandboxed / in-process,
   start-up included (the plain ``play_series`` call). Target: ratio <= 2.0.
b. **Start-up**: ``HostPool`` + ``load`` of both packages, then the first game,
   measured on their own, next to ``python -c pass`` and a bare Python that
   imports what a worker imports.
c. **Per act**: a few thousand ``host.act`` calls with one fixed observation on a
   started :class:`~arena.sandbox.host.SandboxHost` and on an
   :class:`~arena.hosts.InProcessHost`, next to a bare socketpair ping-pong
   between two processes (the kernel's floor). A probe package stamps the time
   when its ``act`` starts and ends (``time.monotonic_ns``, one clock for both
   processes), which splits a round trip into arena -> agent, agent, agent -> arena.
   The same call is also timed over the first acts of many new matches: in the
   sandbox each match is a newly forked process, and its first acts are slower.
d. **Per match**: ``start_match`` + ``end_match`` without moves (the fork of a
   match child, its agent, its exit), next to the cost of ``fork`` in a bare
   Python with and without the worker's imports.
e. **Attribution**: a series on pre-started workers with the hosts' methods
   timed, in ms per game, for both modes.

Each figure of (a) is the best of ``--repeats`` interleaved repeats; (b)-(d) keep
the best repeat too. ``--write`` stores the report in ``bench/RESULTS.md``
(one section per CPU model, core count and env, refreshed in place);
``--profile N`` prints the top functions of the arena process during a sandboxed
series.

Usage::

    .venv/bin/python bench/sandbox_overhead.py                # print only
    .venv/bin/python bench/sandbox_overhead.py --write        # and update RESULTS.md
    .venv/bin/python bench/sandbox_overhead.py --games 200 --repeats 1
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime as dt
import functools
import io
import json
import pstats
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

import numpy as np
from match_overhead import ROOT, Timing, machine, table, timed, verdict
from results import RESULTS, write_section

TARGET = 2.0
PROBE_CHUNK = 1000  # acts per probe match: its stamps must fit the 64 KiB output cap
FRESH_ACTS = 10  # acts per new match when timing the first acts of matches (part c)

MANIFEST = """\
[agent]
name = "{name}"
version = "1.0.0"
entry = "{module}:make_agent"
envs = ["{env}"]
kind = "scripted"
description = "bench/sandbox_overhead.py: {what}"
"""

# The move rule of agents/random_agent.py: nonzero() + random().
RANDOM_MODULE = '''\
"""Uniform over legal moves, from a generator seeded with ctx.seed."""

import numpy as np


class RandomLegal:
    def __init__(self, seed):
        self._seed = seed
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed=None):
        if seed is not None and seed != self._seed:
            self._seed = seed
            self._rng = np.random.default_rng(seed)

    def act(self, observation, *, action_mask=None):
        legal = np.asarray(action_mask).nonzero()[0]
        return int(legal[int(self._rng.random() * legal.size)])


def make_agent(ctx):
    return RandomLegal(ctx.seed)
'''

# The same rule, plus time stamps: when the agent was built, when each act began
# and ended. Printed at close (after the clocks stop), read back from the output.
PROBE_MODULE = '''\
"""RandomLegal with time stamps (time.monotonic_ns), printed at close."""

import base64
import time

import numpy as np


class Probe:
    def __init__(self, seed):
        self.stamps = [time.monotonic_ns()]
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        start = time.monotonic_ns()
        legal = np.asarray(action_mask).nonzero()[0]
        action = int(legal[int(self._rng.random() * legal.size)])
        self.stamps += (start, time.monotonic_ns())
        return action

    def close(self):
        raw = np.array(self.stamps, dtype=np.int64).tobytes()
        print("@@probe " + base64.b64encode(raw).decode())


def make_agent(ctx):
    return Probe(ctx.seed)
'''

# Run in a subprocess of its own: the kernel's floors on this machine.
FLOORS = r"""
import json, os, resource, select, socket, sys, time

def pingpong(n):
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        while True:
            data = b.recv(65536)
            if not data:
                os._exit(0)
            b.sendall(b"r" * 30)
    b.close()
    lat = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        a.sendall(b"q" * 300)
        select.select([a], [], [], 5.0)
        a.recv(65536)
        lat.append(time.perf_counter_ns() - t0)
    a.close()
    os.waitpid(pid, 0)
    return lat

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def forks(n):
    ready, reaped = [], []
    for _ in range(n):
        r, w = os.pipe()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.write(w, b"d")
            os._exit(0)
        os.close(w)
        os.read(r, 1)
        os.close(r)
        ready.append(time.perf_counter() - t0)
        os.waitpid(pid, 0)
        reaped.append(time.perf_counter() - t0)
    return {"rss_mb": rss_mb(), "ready": ready, "reaped": reaped}

n_acts, n_forks = int(sys.argv[1]), int(sys.argv[2])
out = {"pingpong": pingpong(n_acts), "forks": {}}
out["forks"]["python"] = forks(n_forks)
import numpy
out["forks"]["+ numpy"] = forks(n_forks)
import gymnasium, arena.sandbox.worker
out["forks"]["+ gymnasium, arena.sandbox.worker (a worker)"] = forks(n_forks)
print(json.dumps(out))
"""


# --------------------------------------------------------------------------- helpers


@dataclass
class Stats:
    """Mean and percentiles of a sample of durations, in seconds."""

    mean: float
    p50: float
    p95: float
    n: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Stats:
        arr = np.asarray(seconds, dtype=np.float64)
        return cls(
            float(arr.mean()),
            float(np.percentile(arr, 50)),
            float(np.percentile(arr, 95)),
            int(arr.size),
        )


def best_of(runs: Sequence[Stats]) -> Stats:
    """The repeat with the lowest mean (the least disturbed by other processes)."""
    return min(runs, key=lambda s: s.mean)


def write_packages(root: Path, env_id: str) -> dict[str, Path]:
    """Write the two random packages and the probe package; return their folders."""
    folders = {}
    for key, module, source, what in (
        ("a", "random_legal", RANDOM_MODULE, "random legal moves (copy a)"),
        ("b", "random_legal", RANDOM_MODULE, "random legal moves (copy b)"),
        ("probe", "probe", PROBE_MODULE, "random legal moves with time stamps"),
    ):
        folder = root / f"bench-{key}"
        folder.mkdir()
        name = f"bench-random-{key}" if key != "probe" else "bench-probe"
        manifest = MANIFEST.format(name=name, module=module, env=env_id, what=what)
        (folder / "agent.toml").write_text(manifest)
        (folder / f"{module}.py").write_text(source)
        folders[key] = folder
    return folders


def dist(name: str) -> str:
    try:
        return dist_version(name)
    except PackageNotFoundError:
        return "not installed"


def imported_from() -> str:
    """A note when ``arena`` comes from somewhere else than this checkout (PYTHONPATH)."""
    import arena

    where = Path(arena.__file__).resolve().parents[1]
    return "" if where == ROOT else f"; arena imported from {where}, not this checkout"


def sandbox_line() -> tuple[str, list[str]]:
    """How packages are sandboxed here, and what is not applied."""
    from arena.sandbox.host import sandbox_summary
    from arena.sandbox.isolation import probe

    return sandbox_summary(), list(probe().missing)


@dataclass
class Seat:
    """One seat's context for driving a host directly, and a fixed observation."""

    contexts: list[Any]
    observation: Any
    mask: Any


def one_seat(spec: Any, source: Any) -> Seat:
    """The context of ``player_0`` after ``reset(seed=0)``, with its observation."""
    from arena.protocol import AgentContext

    env = spec.build()
    env.reset(seed=0)
    seat = env.agents[0]
    observation, *_ = env.last()
    obs_space = env.observation_space(seat)
    if spec.action_mask:
        obs_space = obs_space["observation"]
        obs, mask = observation["observation"], observation["action_mask"]
    else:
        obs, mask = observation, None
    ctx = AgentContext(
        env_id=spec.env_id,
        agent_id=seat,
        role=spec.sides[0].role,
        observation_space=obs_space,
        action_space=env.action_space(seat),
        package_dir=source.package_dir,
        seed=12345,
    )
    return Seat([ctx], obs, mask)


def make_host(source: Any, sandbox: bool) -> Any:
    """A loaded host of ``source``: a sandboxed worker or the arena's process."""
    from arena.hosts import InProcessHost
    from arena.limits import Limits
    from arena.sandbox.host import SandboxHost

    limits = Limits(sandbox=sandbox)
    host = SandboxHost(source, limits) if sandbox else InProcessHost(source, limits)
    host.load()
    return host


def probe_stamps(output: str) -> np.ndarray:
    """The probe's stamps from a match's output."""
    for line in output.splitlines():
        if line.startswith("@@probe "):
            raw = base64.b64decode(line.removeprefix("@@probe "))
            return np.frombuffer(raw, dtype=np.int64)
    raise SystemExit(f"the probe printed no stamps; its output was:\n{output[:2000]}")


# --------------------------------------------------------------------------- a. series


@dataclass
class Series:
    """Part (a): both modes, best of the interleaved repeats."""

    sandboxed: Timing
    in_process: Timing
    reused: Timing  # sandboxed with reuse_process = true: one process per series
    first_game_s: list[float] = field(default_factory=list)  # sandboxed: call -> 1st result
    steady_s: list[float] = field(default_factory=list)  # sandboxed: 1st -> last result


def run_series(spec: Any, sources: Sequence[Any], games: int, repeats: int) -> Series:
    """Interleave sandboxed and in-process series; check they play the same games."""
    from arena.limits import Limits
    from arena.series import play_series

    out = Series(
        Timing("sandboxed (Limits(sandbox=True))", games, note="start-up included"),
        Timing("in-process (Limits(sandbox=False))", games),
        Timing("sandboxed, reuse_process=True", games, note="start-up included"),
    )
    reference: list[Any] | None = None

    def one(sandbox: bool, reuse: bool = False) -> tuple[float, float, float]:
        nonlocal reference
        stamps: list[float] = []
        t0 = time.perf_counter()
        results = play_series(
            spec,
            list(sources),
            games=games,
            seed=0,
            limits=Limits(sandbox=sandbox, reuse_process=reuse),
            on_result=lambda _r: stamps.append(time.perf_counter()),
        )
        total = time.perf_counter() - t0
        forfeits = [s for r in results for s in r.forfeits]
        if forfeits:
            f = forfeits[0]
            raise SystemExit(f"sandbox={sandbox}: {f.seat} forfeited ({f.forfeit}): {f.error}")
        actions = [r.actions for r in results]
        if reference is None:
            reference = actions
        elif actions != reference:
            raise SystemExit("sandboxed and in-process series played different games")
        timing = out.reused if reuse else out.sandboxed if sandbox else out.in_process
        timing.times.append(total)
        timing.moves = sum(r.steps for r in results)
        return total, stamps[0] - t0, stamps[-1] - stamps[0]

    # Warm-up: imports and caches of this process (the workers are new every series).
    play_series(spec, list(sources), games=5, seed=0, limits=Limits(sandbox=False))
    for i in range(repeats):
        for sandbox in (True, False) if i % 2 == 0 else (False, True):
            _, first, steady = one(sandbox)
            if sandbox:
                out.first_game_s.append(first)
                out.steady_s.append(steady)
        one(True, reuse=True)
    return out


# --------------------------------------------------------------------------- b. start-up


@dataclass
class Startup:
    """Part (b): wall times of each step, over the repeats (s)."""

    steps: dict[str, list[float]]


def run_startup(spec: Any, sources: Sequence[Any], repeats: int) -> Startup:
    """Fresh pools: load each package, play one game, close; plus bare Pythons."""
    from arena.hosts import HostPool
    from arena.limits import Limits
    from arena.series import play_series

    names = {
        "load_a": "HostPool + load(a): one worker up, package imported",
        "load_b": "load(b): the second worker",
        "first": "first game (forks both match children)",
        "to_first": "total: HostPool to the end of the first game",
        "close": "close (quit and kill both workers)",
        "python": "reference: python -c pass",
        "imports": "reference: python importing what a worker imports, no sandbox",
    }
    steps: dict[str, list[float]] = {v: [] for v in names.values()}
    imports = "import arena.sandbox.worker, gymnasium"
    for _ in range(repeats):
        t0 = time.perf_counter()
        pool = HostPool(Limits(sandbox=True))
        try:
            pool.load(sources[0])
            t1 = time.perf_counter()
            pool.load(sources[1])
            t2 = time.perf_counter()
            results = play_series(spec, list(sources), games=1, seed=0, hosts=pool)
            t3 = time.perf_counter()
        finally:
            pool.close()
        t4 = time.perf_counter()
        if results[0].forfeits:
            raise SystemExit(f"start-up: forfeit {results[0].forfeits[0].error}")
        for key, seconds in (
            ("load_a", t1 - t0),
            ("load_b", t2 - t1),
            ("first", t3 - t2),
            ("to_first", t3 - t0),
            ("close", t4 - t3),
        ):
            steps[names[key]].append(seconds)
        for key, code in (("python", "pass"), ("imports", imports)):
            seconds, _ = timed(
                functools.partial(
                    subprocess.run, [sys.executable, "-c", code], check=True, cwd=ROOT
                )
            )
            steps[names[key]].append(seconds)
    return Startup(steps)


# --------------------------------------------------------------------------- c. per act


@dataclass
class Acts:
    """Part (c): round trips of ``host.act`` (s), and the probe's split."""

    in_process: Stats
    sandboxed: Stats
    floor: Stats
    to_agent: Stats
    in_agent: Stats
    to_arena: Stats
    fresh: dict[str, np.ndarray]  # host kind -> mean s of act k (k = 1..) of a new match


def time_acts(host: Any, seat: Seat, calls: int) -> list[float]:
    """``calls`` acts with one observation, inside one match; seconds each."""
    name = seat.contexts[0].agent_id
    host.start_match(seat.contexts)
    lat = []
    act, obs, mask, clock = host.act, seat.observation, seat.mask, time.perf_counter_ns
    try:
        for _ in range(calls):
            t0 = clock()
            act(name, obs, mask, 5.0)
            lat.append(clock() - t0)
    finally:
        host.end_match()
    return [ns / 1e9 for ns in lat]


def fresh_acts(host: Any, seat: Seat, matches: int, per_match: int) -> np.ndarray:
    """Acts at the start of new matches: seconds, one row per match, one column per act."""
    name = seat.contexts[0].agent_id
    lat = np.zeros((matches, per_match))
    clock = time.perf_counter_ns
    for m in range(matches):
        host.start_match(seat.contexts)
        try:
            for k in range(per_match):
                t0 = clock()
                host.act(name, seat.observation, seat.mask, 5.0)
                lat[m, k] = clock() - t0
        finally:
            host.end_match()
    return lat / 1e9


def probe_acts(host: Any, seat: Seat, calls: int) -> tuple[list[float], ...]:
    """Acts on the probe: (arena -> agent, agent, agent -> arena) seconds per call."""
    name = seat.contexts[0].agent_id
    go: list[float] = []
    inside: list[float] = []
    back: list[float] = []
    clock = time.monotonic_ns
    done = 0
    while done < calls:
        n = min(PROBE_CHUNK, calls - done)
        host.start_match(seat.contexts)
        sent, got = [], []
        for _ in range(n):
            sent.append(clock())
            host.act(name, seat.observation, seat.mask, 5.0)
            got.append(clock())
        stamps = probe_stamps(host.end_match())
        starts, ends = stamps[1::2], stamps[2::2]
        if starts.size != n:
            raise SystemExit(f"the probe stamped {starts.size} acts, expected {n}")
        go += ((starts - np.array(sent)) / 1e9).tolist()
        inside += ((ends - starts) / 1e9).tolist()
        back += ((np.array(got) - ends) / 1e9).tolist()
        done += n
    return go, inside, back


def floors(calls: int, forks: int) -> dict[str, Any]:
    """Run :data:`FLOORS` in a fresh Python: ping-pong and fork costs."""
    proc = subprocess.run(
        [sys.executable, "-c", FLOORS, str(calls), str(forks)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"floors failed:\n{proc.stderr}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def run_acts(
    spec: Any,
    sources: dict[str, Any],
    calls: int,
    fresh_matches: int,
    repeats: int,
    floor: dict[str, Any],
) -> Acts:
    """Interleaved blocks of ``calls`` acts per host kind; the best block of each.

    Also ``fresh_matches`` new matches of :data:`FRESH_ACTS` acts per host kind:
    in a sandbox every match is a new process, whose first acts are slower.
    """
    seat = one_seat(spec, sources["a"])
    probe_seat = one_seat(spec, sources["probe"])
    hosts = {
        "in": make_host(sources["a"], False),
        "sb": make_host(sources["a"], True),
        "probe": make_host(sources["probe"], True),
    }
    runs: dict[str, list[Stats]] = {"in": [], "sb": [], "go": [], "inside": [], "back": []}
    fresh: dict[str, list[np.ndarray]] = {"in": [], "sb": []}
    try:
        for host in hosts.values():  # warm-up: first match, caches
            if host is hosts["probe"]:
                probe_acts(host, probe_seat, 50)
            else:
                time_acts(host, seat, 50)
        for i in range(repeats):
            order = ["in", "sb", "probe"] if i % 2 == 0 else ["probe", "sb", "in"]
            for key in order:
                if key == "probe":
                    go, inside, back = probe_acts(hosts[key], probe_seat, calls)
                    # Keep the three parts of one repeat together: the best by total.
                    runs["go"].append(Stats.of(go))
                    runs["inside"].append(Stats.of(inside))
                    runs["back"].append(Stats.of(back))
                else:
                    runs[key].append(Stats.of(time_acts(hosts[key], seat, calls)))
                    lat = fresh_acts(hosts[key], seat, fresh_matches, FRESH_ACTS)
                    fresh[key].append(lat.mean(axis=0))
    finally:
        for host in hosts.values():
            host.close()
    parts = zip(runs["go"], runs["inside"], runs["back"], strict=True)
    totals = [go.mean + inside.mean + back.mean for go, inside, back in parts]
    k = int(np.argmin(totals))
    return Acts(
        in_process=best_of(runs["in"]),
        sandboxed=best_of(runs["sb"]),
        floor=Stats.of([ns / 1e9 for ns in floor["pingpong"]]),
        to_agent=runs["go"][k],
        in_agent=runs["inside"][k],
        to_arena=runs["back"][k],
        fresh={key: min(v, key=lambda row: float(row.sum())) for key, v in fresh.items()},
    )


# --------------------------------------------------------------------------- d. per match


@dataclass
class Matches:
    """Part (d): ``start_match`` / ``end_match`` of each host kind, and the split."""

    start: dict[str, Stats]
    end: dict[str, Stats]
    to_make_agent: Stats  # arena sends "match" -> make_agent runs in the new child
    to_reply: Stats  # make_agent runs -> the arena has the reply
    forks: dict[str, dict[str, Any]]


def time_matches(host: Any, seat: Seat, matches: int) -> tuple[list[float], list[float]]:
    """``matches`` empty matches: (start_match s, end_match s) each."""
    starts, ends = [], []
    for _ in range(matches):
        t0 = time.perf_counter()
        host.start_match(seat.contexts)
        t1 = time.perf_counter()
        host.end_match()
        starts.append(t1 - t0)
        ends.append(time.perf_counter() - t1)
    return starts, ends


def probe_matches(host: Any, seat: Seat, matches: int) -> tuple[list[float], list[float]]:
    """Empty matches of the probe: (send -> make_agent, make_agent -> reply) s each."""
    go, back = [], []
    for _ in range(matches):
        t0 = time.monotonic_ns()
        host.start_match(seat.contexts)
        t1 = time.monotonic_ns()
        made = int(probe_stamps(host.end_match())[0])
        go.append((made - t0) / 1e9)
        back.append((t1 - made) / 1e9)
    return go, back


def run_matches(
    spec: Any, sources: dict[str, Any], matches: int, repeats: int, floor: dict[str, Any]
) -> Matches:
    """Interleaved blocks of empty matches per host kind; the best block of each."""
    seat = one_seat(spec, sources["a"])
    probe_seat = one_seat(spec, sources["probe"])
    hosts = {
        "in-process": make_host(sources["a"], False),
        "sandboxed": make_host(sources["a"], True),
        "probe": make_host(sources["probe"], True),
    }
    starts: dict[str, list[Stats]] = {"in-process": [], "sandboxed": []}
    ends: dict[str, list[Stats]] = {"in-process": [], "sandboxed": []}
    split: list[tuple[Stats, Stats]] = []
    try:
        time_matches(hosts["in-process"], seat, 5)
        time_matches(hosts["sandboxed"], seat, 5)
        probe_matches(hosts["probe"], probe_seat, 5)
        for i in range(repeats):
            order = list(hosts) if i % 2 == 0 else list(reversed(hosts))
            for key in order:
                if key == "probe":
                    go, back = probe_matches(hosts[key], probe_seat, matches)
                    split.append((Stats.of(go), Stats.of(back)))
                else:
                    s, e = time_matches(hosts[key], seat, matches)
                    starts[key].append(Stats.of(s))
                    ends[key].append(Stats.of(e))
    finally:
        for host in hosts.values():
            host.close()
    go_best, back_best = min(split, key=lambda pair: pair[0].mean + pair[1].mean)
    return Matches(
        start={k: best_of(v) for k, v in starts.items()},
        end={k: best_of(v) for k, v in ends.items()},
        to_make_agent=go_best,
        to_reply=back_best,
        forks=floor["forks"],
    )


# --------------------------------------------------------------------------- e. attribution


def attribute(spec: Any, sources: Sequence[Any], games: int, sandbox: bool) -> dict[str, float]:
    """A series on pre-started hosts with their methods timed: seconds per part."""
    from arena.hosts import HostPool
    from arena.limits import Limits
    from arena.series import play_series

    spent = dict.fromkeys(("start_match", "act", "end_match"), 0.0)

    def wrap(fn: Callable[..., Any], part: str) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - t0

        return timed_call

    with HostPool(Limits(sandbox=sandbox)) as pool:
        for source in sources:
            pool.load(source)
        play_series(spec, list(sources), games=5, seed=1, hosts=pool)  # warm-up
        for source in sources:
            host = pool.host(source)
            for part in spent:  # instance attributes shadow the methods
                setattr(host, part, wrap(getattr(host, part), part))
        t0 = time.perf_counter()
        play_series(spec, list(sources), games=games, seed=0, hosts=pool)
        total = time.perf_counter() - t0
    spent["rest"] = total - sum(spent.values())
    spent["total"] = total
    return spent


def profile_sandboxed(spec: Any, sources: Sequence[Any], games: int, top: int) -> str:
    """cProfile of the arena process during a sandboxed series on pre-started workers."""
    from arena.hosts import HostPool
    from arena.limits import Limits
    from arena.series import play_series

    with HostPool(Limits(sandbox=True)) as pool:
        for source in sources:
            pool.load(source)
        play_series(spec, list(sources), games=5, seed=1, hosts=pool)
        profiler = cProfile.Profile()
        profiler.enable()
        play_series(spec, list(sources), games=games, seed=0, hosts=pool)
        profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    text = re.sub(r"\S*/site-packages/", "", stream.getvalue())
    return text.replace(str(ROOT) + "/", "")


# --------------------------------------------------------------------------- report


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    series: Series | None,
    startup: Startup | None,
    acts: Acts | None,
    matches: Matches | None,
    attribution: dict[str, dict[str, float]] | None,
) -> str:
    """The Markdown report printed and, with ``--write``, stored."""
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary, missing = sandbox_line()
    out = [
        f"Date: {when}  ",
        f"Command: `{shlex.join(['python', 'bench/sandbox_overhead.py', *sys.argv[1:]])}`  ",
        f"Machine: `{info['uname']}`  ",
        f"CPU: {info['cpu']}, {info['cores']} cores; load average at start {info['load']}  ",
        f"Python {info['python']}, pettingzoo {info['pettingzoo']}, numpy {info['numpy']}, "
        f"gymnasium {dist('gymnasium')}  ",
        f"Code: {info['code']}{imported_from()}  ",
        f"{summary[0].upper()}{summary[1:]}"
        + (f" (not applied: {'; '.join(missing)})" if missing else ""),
        "",
    ]
    if series is not None:
        sb, ip = series.sandboxed, series.in_process
        ratio = sb.best / ip.best
        first = min(series.first_game_s)
        steady = min(series.steady_s)
        steady_ratio = (steady / (args.games - 1)) / (ip.best / args.games)
        rows = [
            [
                t.name,
                f"{t.best:.2f}",
                f"{t.games_per_s:.0f}",
                ms(t.best / t.games),
                ", ".join(f"{x:.2f}" for x in t.times),
                t.note,
            ]
            for t in (sb, ip, series.reused)
        ]
        out += [
            f"### a. Series, {args.env}, {args.games} games, best of {args.repeats}",
            "",
            "`play_series(spec, [a, b], games=N, seed=0, limits=...)`, two different copies "
            f"of a random-legal-move package, {sb.moves / sb.games:.1f} moves per game; "
            "both modes played identical games.",
            "",
            table(["mode", "best s", "games/s", "ms/game", "all runs s", "note"], rows),
            "",
            f"Time ratio sandboxed / in-process: **{verdict(ratio, TARGET)}**.",
            f"Inside the sandboxed series, the first game ended {first:.2f} s after the call; "
            f"the other {args.games - 1} took {steady:.2f} s "
            f"({(args.games - 1) / steady:.0f} games/s, {ms(steady / (args.games - 1))} ms "
            f"per game): ratio without start-up {steady_ratio:.2f}.",
            f"With `reuse_process = true` in `[limits]` (one process per package for the "
            f"series, module state kept between matches) the ratio is "
            f"**{verdict(series.reused.best / ip.best, TARGET)}**.",
            "",
        ]
    if startup is not None:
        rows = [
            [name, f"{min(v):.3f}", f"{float(np.median(v)):.3f}"]
            for name, v in startup.steps.items()
        ]
        out += [
            f"### b. Start-up, best of {args.startup_repeats}",
            "",
            table(["step", "best s", "median s"], rows),
            "",
            "`load(b)` starts after `load(a)` has returned: `HostPool.load` waits for its "
            "worker to boot and import the package.",
            "",
        ]
    if acts is not None:
        a = acts
        rows = [
            [name, us(s.mean), us(s.p50), us(s.p95), f"{s.mean / a.in_process.mean:.2f}"]
            for name, s in (
                ("InProcessHost.act (package in the arena's process)", a.in_process),
                ("SandboxHost.act (sandboxed worker's match child)", a.sandboxed),
                ("floor: bare socketpair ping-pong, 300 B / 30 B", a.floor),
            )
        ]
        fresh_rows = [
            [
                name,
                us(a.fresh[key][0]),
                us(float(a.fresh[key][1:3].mean())),
                us(float(a.fresh[key][3:].mean())),
                us(float(a.fresh[key].mean())),
            ]
            for key, name in (("in", "InProcessHost.act"), ("sb", "SandboxHost.act"))
        ]
        out += [
            f"### c. Per act, {args.acts} calls with one observation, best of {args.repeats}",
            "",
            table(["round trip", "mean µs", "p50 µs", "p95 µs", "x in-process"], rows),
            "",
            f"The same call at the start of {args.fresh_matches} new matches of "
            f"{FRESH_ACTS} acts (mean µs; a sandboxed match is a newly forked process):",
            "",
            table(
                [
                    "round trip",
                    "act 1",
                    "acts 2-3",
                    f"acts 4-{FRESH_ACTS}",
                    f"mean of {FRESH_ACTS}",
                ],
                fresh_rows,
            ),
            "",
            "Split by the probe package's stamps (µs, mean / p95): arena -> agent's `act` "
            f"{us(a.to_agent.mean)} / {us(a.to_agent.p95)}, inside `act` "
            f"{us(a.in_agent.mean)} / {us(a.in_agent.p95)}, `act` returns -> arena has the "
            f"action {us(a.to_arena.mean)} / {us(a.to_arena.p95)}.",
            "",
        ]
    if matches is not None:
        m = matches
        rows = [
            [
                name,
                ms(m.start[name].mean),
                ms(m.start[name].p95),
                ms(m.end[name].mean),
                ms(m.end[name].p95),
                ms(m.start[name].mean + m.end[name].mean),
            ]
            for name in ("in-process", "sandboxed")
        ]
        fork_rows = [
            [
                name,
                f"{f['rss_mb']:.0f}",
                ms(Stats.of(f["ready"]).mean),
                ms(Stats.of(f["reaped"]).mean),
            ]
            for name, f in m.forks.items()
        ]
        out += [
            f"### d. Per match, {args.matches} matches without moves, one seat, "
            f"best of {args.repeats}",
            "",
            table(
                [
                    "host",
                    "start_match ms",
                    "p95 ms",
                    "end_match ms",
                    "p95 ms",
                    "per match ms",
                ],
                rows,
            ),
            "",
            "Split of a sandboxed `start_match` by the probe (ms, mean / p95): arena sends "
            "`match` -> `make_agent` runs in the new child (previous child reaped, contexts "
            f"unpickled, fork) {ms(m.to_make_agent.mean)} / {ms(m.to_make_agent.p95)}; "
            f"`make_agent` -> the arena has the reply {ms(m.to_reply.mean)} / "
            f"{ms(m.to_reply.p95)}.",
            "",
            f"`fork` + `_exit` in a bare Python, by what it has imported (mean of {args.forks}):",
            "",
            table(["imported", "RSS MiB", "fork -> child runs ms", "fork -> reaped ms"], fork_rows),
            "",
        ]
    if attribution is not None:
        ip, sb = attribution["in-process"], attribution["sandboxed"]
        g = args.attribution_games
        labels = {
            "start_match": "start_match, both hosts",
            "act": "act",
            "end_match": "end_match, both hosts",
            "rest": "the rest (env, runner, results)",
            "total": "total",
        }
        rows = [
            [label, ms(ip[k] / g), ms(sb[k] / g), ms((sb[k] - ip[k]) / g)]
            for k, label in labels.items()
        ]
        out += [
            f"### e. Where a game's time goes, {g} games on pre-started hosts",
            "",
            table(["part", "in-process ms/game", "sandboxed ms/game", "difference"], rows),
            "",
        ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options, run the parts, print (and store) the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="connect_four_v3", help="turn-based env with masks")
    parser.add_argument("--games", type=int, default=1000, help="games per series (part a)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; best kept")
    parser.add_argument("--startup-repeats", type=int, default=5, help="part (b) repeats")
    parser.add_argument("--acts", type=int, default=3000, help="act calls per block (part c)")
    parser.add_argument(
        "--fresh-matches", type=int, default=200, help=f"new matches of {FRESH_ACTS} acts (c)"
    )
    parser.add_argument("--matches", type=int, default=300, help="matches per block (part d)")
    parser.add_argument("--forks", type=int, default=200, help="forks per bare-Python row (d)")
    parser.add_argument(
        "--attribution-games", type=int, default=300, help="games of part (e); 0 skips it"
    )
    parser.add_argument("--skip-series", action="store_true", help="skip part (a)")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="also print the top N functions of the arena process in a sandboxed series",
    )
    parser.add_argument("--write", action="store_true", help="store the report in RESULTS.md")
    args = parser.parse_args(argv)
    counts = (args.games, args.startup_repeats, args.acts, args.matches, args.fresh_matches)
    if min(*counts, args.forks) < 2 or args.repeats < 1:
        parser.error("--repeats must be at least 1, the other counts at least 2")

    from arena.registry import get_env
    from arena.sources import resolve_agent

    spec = get_env(args.env)
    if not (spec.turn_based and spec.action_mask and len(spec.sides) == 2):
        parser.error(f"{args.env}: needs a two-sided turn-based env with action masks")
    info = machine()
    with tempfile.TemporaryDirectory(prefix="arena-bench-") as tmp:
        folders = write_packages(Path(tmp), args.env)
        sources = {key: resolve_agent(str(folder)) for key, folder in folders.items()}
        pair = [sources["a"], sources["b"]]
        series = None
        if not args.skip_series:
            print(f"a. series: {args.games} games x {args.repeats} ...", file=sys.stderr)
            series = run_series(spec, pair, args.games, args.repeats)
        print("b. start-up ...", file=sys.stderr)
        startup = run_startup(spec, pair, args.startup_repeats)
        print("c./d. floors, acts, matches ...", file=sys.stderr)
        floor = floors(args.acts, args.forks)
        acts = run_acts(spec, sources, args.acts, args.fresh_matches, args.repeats, floor)
        matches = run_matches(spec, sources, args.matches, args.repeats, floor)
        attribution = None
        if args.attribution_games:
            print(f"e. attribution: {args.attribution_games} games ...", file=sys.stderr)
            attribution = {
                "in-process": attribute(spec, pair, args.attribution_games, False),
                "sandboxed": attribute(spec, pair, args.attribution_games, True),
            }
        body = report(args, info, series, startup, acts, matches, attribution)
        print(body)
        if args.profile:
            print(profile_sandboxed(spec, pair, args.attribution_games or 300, args.profile))
    if args.write:
        key = f"{info['cpu']}, {info['cores']} cores, {args.env}"
        write_section("sandbox_overhead", key, body)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
