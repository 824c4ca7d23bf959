"""How much the arena costs on top of a bare PettingZoo loop, in one run.

Three measurements, each against a baseline taken in the same run:

a. **In-process**: a bare AEC loop (one env reused, ``reset(seed=i)`` per game,
   random legal moves) versus :func:`arena.series.play_series` with the built-in
   ``random`` agent on both sides and nothing recorded. The bare loop picks its
   moves with the exact rule of ``agents/random_agent.py`` (``mask.nonzero()`` then
   ``rng.random()``), so the time ratio is the arena's own overhead: seats, agent
   set-up, action checks, results. Target: ratio <= 1.2.
b. **Whole processes**: ``python -c <the same bare loop>`` versus
   ``arena --db sqlite:///... match ENV random random --games N --json`` (every
   match stored in SQLite), wall-clock, with a fresh ``ARENA_HOME`` each repeat.
   Two more arena rows attribute the difference: ``--no-record`` (no database)
   and ``--games 1`` (start-up). Target: ratio <= 1.5 at 3000 games.
c. **Start-up**: wall time of ``arena --help`` (and of ``python -c pass`` for
   reference), the slowest top-level imports of the CLI, and whether ``torch``
   is imported (or an import of it attempted) by ``arena --help`` and by a
   random-vs-random match through the CLI.

Each figure is the best of ``--repeats`` interleaved repeats, which filters out
the noise of other processes better than a mean. ``--write`` stores the report
in ``bench/RESULTS.md`` (one section per CPU model, core count and env, refreshed in
place). ``--profile`` adds the top functions of a recorded in-process series.

Usage::

    .venv/bin/python bench/match_overhead.py                 # print only
    .venv/bin/python bench/match_overhead.py --write         # and update RESULTS.md
    .venv/bin/python bench/match_overhead.py --games 500 --process-games 500 --repeats 1
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib.util
import io
import json
import os
import platform
import pstats
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from results import RESULTS, write_section

ROOT = Path(__file__).resolve().parents[1]
IN_PROCESS_TARGET = 1.2
PROCESS_TARGET = 1.5

# The bare loop, as source: executed here for part (a) and passed to ``python -c``
# for part (b), so both parts time exactly the same code.
BARE_LOOP = '''
import numpy as np


def bare_games(env, games, seed=0, rule="agent"):
    """Play ``games`` random-vs-random games on one AEC env; return the moves made."""
    rng = np.random.default_rng(seed)
    moves = 0
    for game in range(games):
        env.reset(seed=game)
        for _name in env.agent_iter():
            obs, _reward, terminated, truncated, _info = env.last()
            if terminated or truncated:
                action = None
            elif rule == "agent":
                # agents/random_agent.py: nonzero() + random(), ~6x cheaper than choice().
                legal = obs["action_mask"].nonzero()[0]
                action = int(legal[int(rng.random() * legal.size)])
            else:
                action = int(rng.choice(np.flatnonzero(obs["action_mask"])))
            if action is not None:
                moves += 1
            env.step(action)
    return moves
'''

BARE_MAIN = """
import importlib
env = getattr(importlib.import_module({module!r}), {attr!r})()
bare_games(env, {games}, rule={rule!r})
"""

# Runs the CLI in-process with a watch on ``torch``: a meta-path finder records
# every lookup of torch (it never loads anything itself). Lookups made through
# ``importlib.util.find_spec`` are availability probes; any other lookup is an
# ``import torch`` (attempted, even if torch is not installed).
TORCH_WATCH = r"""
import json, sys

class _TorchWatch:
    imports, probes = [], []

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            frame, probe = sys._getframe(1), False
            while frame is not None:
                if (
                    frame.f_code.co_name == "find_spec"
                    and frame.f_globals.get("__name__") == "importlib.util"
                ):
                    probe = True
                    break
                frame = frame.f_back
            (cls.probes if probe else cls.imports).append(name)
        return None

sys.meta_path.insert(0, _TorchWatch)
from arena.cli import app

code = 0
try:
    code = app(json.loads(sys.argv[1]), standalone_mode=False)
except SystemExit as exc:
    code = exc.code
report = {
    "exit": code,
    "in_modules": "torch" in sys.modules,
    "imports": sorted(set(_TorchWatch.imports)),
    "probes": sorted(set(_TorchWatch.probes)),
}
print("@@torch-watch " + json.dumps(report), file=sys.stderr)
"""


def load_bare_loop() -> Callable[..., int]:
    """Compile :data:`BARE_LOOP` and return its ``bare_games`` function."""
    namespace: dict[str, Any] = {}
    exec(compile(BARE_LOOP, "<bare_loop>", "exec"), namespace)
    return namespace["bare_games"]  # type: ignore[no-any-return]


def arena_exe() -> str:
    """The ``arena`` console script next to this interpreter, else the one on PATH."""
    here = Path(sys.executable).parent / "arena"
    if here.exists():
        return str(here)
    found = shutil.which("arena")
    if found is None:
        raise SystemExit("the 'arena' command is not installed (pip install -e .)")
    return found


def env_factory(env_id: str) -> tuple[str, str]:
    """``(module, attr)`` of the PettingZoo AEC constructor behind an arena env id."""
    from arena.registry import get_env

    spec = get_env(env_id)
    if not (spec.turn_based and spec.action_mask):
        raise SystemExit(f"{env_id}: the bare loop needs a turn-based env with action masks")
    module, attr = getattr(spec.make_aec, "module", None), getattr(spec.make_aec, "attr", None)
    if module is None or attr is None:
        raise SystemExit(f"{env_id}: its factory does not name a module (envs/registry.py)")
    return module, attr


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Best-of-repeats wall time of one measured thing."""

    name: str
    games: int
    times: list[float] = field(default_factory=list)
    moves: int = 0
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def games_per_s(self) -> float:
        return self.games / self.best if self.games else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(seconds, result)`` of one call, wall clock."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def in_process(env_id: str, games: int, repeats: int, rule: str) -> tuple[Timing, Timing]:
    """Part (a): the bare loop and ``play_series`` (no DB), interleaved, in this process."""
    from arena.registry import get_env
    from arena.series import play_series
    from arena.sources import resolve_agent

    spec = get_env(env_id)
    source = resolve_agent("random")
    bare_games = load_bare_loop()

    def bare() -> int:
        return bare_games(spec.make_aec(), games, rule=rule)

    def arena() -> int:
        results = play_series(spec, [source, source], games=games, seed=0)
        return sum(r.steps for r in results)

    # Warm-up: imports of the game module and of the agent, caches.
    bare_games(spec.make_aec(), 20, rule=rule)
    play_series(spec, [source, source], games=20, seed=0)

    b = Timing("bare AEC loop", games, note=f"move rule: {rule}")
    a = Timing("arena play_series (no DB)", games)
    for i in range(repeats):
        order = [(b, bare), (a, arena)] if i % 2 == 0 else [(a, arena), (b, bare)]
        for timing, fn in order:
            seconds, moves = timed(fn)
            timing.times.append(seconds)
            timing.moves = moves
    return b, a


def run_process(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall time and stdout of one subprocess; a failure stops the benchmark."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {shlex.join(argv)}\n{proc.stderr}")
    return seconds, proc.stdout


def processes(env_id: str, games: int, repeats: int, rule: str, extras: bool) -> dict[str, Timing]:
    """Part (b): whole processes, bare script versus ``arena match`` recording to SQLite."""
    module, attr = env_factory(env_id)
    bare_src = BARE_LOOP + BARE_MAIN.format(module=module, attr=attr, games=games, rule=rule)
    exe = arena_exe()
    rows = {
        "bare": Timing("python -c <bare loop>", games),
        "arena": Timing("arena --db sqlite match --json", games, note="records every match"),
    }
    if extras:
        rows["norec"] = Timing("arena match --json --no-record", games, note="no database")
        rows["startup"] = Timing("arena --db sqlite match --games 1", 1, note="start-up + 1 game")

    def arena_run(home: Path, n: int, record: bool) -> float:
        env = {**os.environ, "ARENA_HOME": str(home)}
        env.pop("ARENA_DB", None)
        argv = [exe, "--db", f"sqlite:///{home / 'bench.db'}", "match", env_id, "random", "random"]
        argv += ["--games", str(n), "--json"] + ([] if record else ["--no-record"])
        seconds, out = run_process(argv, env)
        report = json.loads(out)
        stored = len(report["match_ids"])
        if report["games"] != n or stored != (n if record else 0):
            raise SystemExit(f"arena played {report['games']} and stored {stored}, expected {n}")
        return seconds

    def bare_run(source: str) -> float:
        return run_process([sys.executable, "-c", source])[0]

    with tempfile.TemporaryDirectory(prefix="arena-bench-") as tmp:
        for i in range(repeats):
            home = Path(tmp) / f"home-{i}"
            jobs: list[tuple[str, Callable[[], float]]] = [
                ("bare", partial(bare_run, bare_src)),
                ("arena", partial(arena_run, home / "rec", games, True)),
            ]
            if extras:
                jobs.append(("norec", partial(arena_run, home / "norec", games, False)))
                jobs.append(("startup", partial(arena_run, home / "one", 1, True)))
            if i % 2:
                jobs.reverse()
            for key, job in jobs:
                rows[key].times.append(job())
    return rows


# --------------------------------------------------------------------------- start-up


@dataclass
class Startup:
    """Part (c): start-up time, slow imports and the torch watch."""

    help_s: float
    python_s: float
    cli_import_s: float
    top_imports: list[tuple[str, float]]
    torch_installed: bool
    watch: dict[str, dict[str, Any]]


def top_imports(n: int = 5) -> tuple[float, list[tuple[str, float]]]:
    """``import arena.cli`` time and its slowest direct imports (``-X importtime``), in s."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import arena.cli"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    children: list[tuple[str, float]] = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if not m:
            continue
        depth, name, seconds = len(m.group(2)) // 2, m.group(3), int(m.group(1)) / 1e6
        if depth == 1:
            children.append((name, seconds))
        elif depth == 0:
            if name == "arena.cli":
                return seconds, sorted(children, key=lambda item: -item[1])[:n]
            children = []
    return float("nan"), []


def torch_watch(argv: list[str], home: Path) -> dict[str, Any]:
    """Run the CLI with ``argv`` under :data:`TORCH_WATCH`; return its report."""
    env = {**os.environ, "ARENA_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-c", TORCH_WATCH, json.dumps(argv)],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
    )
    for line in proc.stderr.splitlines():
        if line.startswith("@@torch-watch "):
            return json.loads(line.removeprefix("@@torch-watch "))  # type: ignore[no-any-return]
    raise SystemExit(f"torch watch failed for {argv}:\n{proc.stderr}")


def startup(env_id: str, repeats: int) -> Startup:
    """Part (c)."""
    exe = arena_exe()
    help_s = min(run_process([exe, "--help"])[0] for _ in range(max(repeats, 3)))
    python_s = min(run_process([sys.executable, "-c", "pass"])[0] for _ in range(max(repeats, 3)))
    with tempfile.TemporaryDirectory(prefix="arena-bench-") as tmp:
        home = Path(tmp)
        db = f"sqlite:///{home / 'watch.db'}"
        match = ["--db", db, "match", env_id, "random", "random", "--games", "2", "--json"]
        watch = {
            "arena --help": torch_watch(["--help"], home),
            "arena match random random": torch_watch(match, home),
        }
    cli_import_s, slowest = top_imports()
    return Startup(
        help_s=help_s,
        python_s=python_s,
        cli_import_s=cli_import_s,
        top_imports=slowest,
        torch_installed=importlib.util.find_spec("torch") is not None,
        watch=watch,
    )


# --------------------------------------------------------------------------- profile


def profile_series(env_id: str, games: int, top: int) -> str:
    """cProfile of ``play_and_record`` storing ``games`` matches in a temp SQLite file."""
    from arena.play import play_and_record

    with tempfile.TemporaryDirectory(prefix="arena-bench-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'profile.db'}"
        play_and_record(env_id, ["random", "random"], games=5, db_url=db)  # warm-up
        profiler = cProfile.Profile()
        profiler.enable()
        play_and_record(env_id, ["random", "random"], games=games, db_url=db)
        profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    text = re.sub(r"\S*/site-packages/", "", stream.getvalue())
    return text.replace(str(ROOT) + "/", "")


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    """What ran the benchmark."""
    cpu = platform.processor() or "?"
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        for line in with_cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def dist(name: str) -> str:
        try:
            return dist_version(name)
        except PackageNotFoundError:
            return "not installed"

    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    except OSError:
        uname = " ".join(platform.uname())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "uname": uname,
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "pettingzoo": dist("pettingzoo"),
        "numpy": dist("numpy"),
        "sqlalchemy": dist("sqlalchemy"),
        "load": load,
        "code": code_version(),
    }


def code_version() -> str:
    """The measured code: git commit, and whether the packages differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "arena", "envs", "agents", "tournaments"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    except OSError:
        return "unknown (no git)"
    if not head:
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes to the packages" if dirty else "")


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table that also reads well as plain text."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = [_row(header, widths), "| " + " | ".join("-" * w for w in widths) + " |"]
    lines += [_row(r, widths) for r in rows]
    return "\n".join(lines)


def verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f} ({'meets' if ratio <= target else 'misses'} target <= {target})"


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    part_a: tuple[Timing, Timing] | None,
    part_b: dict[str, Timing] | None,
    part_c: Startup,
) -> str:
    """The Markdown report printed and, with ``--write``, stored."""
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"Date: {when}  ",
        f"Command: `{shlex.join(['python', 'bench/match_overhead.py', *sys.argv[1:]])}`  ",
        f"Machine: `{info['uname']}`  ",
        f"CPU: {info['cpu']}, {info['cores']} cores; load average at start {info['load']}  ",
        f"Python {info['python']}, pettingzoo {info['pettingzoo']}, numpy {info['numpy']}, "
        f"SQLAlchemy {info['sqlalchemy']}  ",
        f"Code: {info['code']}",
        "",
    ]
    if part_a is not None:
        bare, arena = part_a
        ratio = arena.best / bare.best
        per_move = (arena.best / arena.moves) / (bare.best / bare.moves)
        out += [
            f"### a. In-process, {args.env}, {args.games} games, best of {args.repeats}",
            "",
            table(
                ["loop", "best s", "games/s", "moves/game", "all runs s"],
                [
                    [
                        t.name,
                        f"{t.best:.3f}",
                        f"{t.games_per_s:.0f}",
                        f"{t.moves / t.games:.1f}",
                        ", ".join(f"{x:.2f}" for x in t.times),
                    ]
                    for t in (bare, arena)
                ],
            ),
            "",
            f"Time ratio arena / bare: **{verdict(ratio, IN_PROCESS_TARGET)}**; "
            f"per move {per_move:.2f}. {bare.note}.",
            "",
        ]
    if part_b is not None:
        bare = part_b["bare"]
        ratio = part_b["arena"].best / bare.best
        rows = [
            [
                t.name,
                str(t.games),
                f"{t.best:.2f}",
                f"{t.best / bare.best:.2f}",
                ", ".join(f"{x:.2f}" for x in t.times),
                t.note,
            ]
            for t in part_b.values()
        ]
        out += [
            f"### b. Whole processes, {args.env}, {args.process_games} games, "
            f"best of {args.repeats}",
            "",
            table(["process", "games", "best s", "x bare", "all runs s", "note"], rows),
            "",
            f"Time ratio arena (recording) / bare: **{verdict(ratio, PROCESS_TARGET)}**.",
        ]
        if "norec" in part_b and "startup" in part_b:
            norec, arena, start = part_b["norec"], part_b["arena"], part_b["startup"]
            per_match_ms = (arena.best - norec.best) / args.process_games * 1e3
            out += [
                f"Recording costs {arena.best - norec.best:.2f} s "
                f"({per_match_ms:.2f} ms per match); start-up plus one recorded game "
                f"{start.best:.2f} s.",
            ]
        out.append("")
    c = part_c
    imports = ", ".join(f"{name} {sec * 1e3:.0f} ms" for name, sec in c.top_imports)
    watch_rows = [
        [
            what,
            str(w["in_modules"]),
            ", ".join(w["imports"]) or "none",
            ", ".join(w["probes"]) or "none",
        ]
        for what, w in c.watch.items()
    ]
    out += [
        "### c. Start-up and torch",
        "",
        f"`arena --help`: {c.help_s:.3f} s wall (`python -c pass`: {c.python_s:.3f} s). "
        f"`import arena.cli`: {c.cli_import_s * 1e3:.0f} ms; its slowest direct imports: "
        f"{imports}.",
        "",
        f"torch installed: {c.torch_installed}.",
        "",
        table(
            ["command", "'torch' in sys.modules", "import attempted", "find_spec probes"],
            watch_rows,
        ),
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options, run the three parts, print (and store) the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="connect_four_v3", help="turn-based env with masks")
    parser.add_argument("--games", type=int, default=2000, help="games for part (a)")
    parser.add_argument("--process-games", type=int, default=3000, help="games for part (b)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; best kept")
    parser.add_argument("--skip-process", action="store_true", help="skip part (b)")
    parser.add_argument("--skip-in-process", action="store_true", help="skip part (a)")
    parser.add_argument(
        "--no-extras", action="store_true", help="part (b) without the --no-record/start-up rows"
    )
    parser.add_argument(
        "--bare-rule",
        choices=("agent", "choice"),
        default="agent",
        help="bare loop's move rule: the random agent's (default) or rng.choice(flatnonzero)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="also print the top N functions of a recorded in-process series",
    )
    parser.add_argument("--write", action="store_true", help="store the report in RESULTS.md")
    args = parser.parse_args(argv)
    if min(args.games, args.process_games, args.repeats) < 1:
        parser.error("--games, --process-games and --repeats must be at least 1")

    info = machine()
    part_a = None
    if not args.skip_in_process:
        print(f"a. in-process: {args.games} games x {args.repeats} ...", file=sys.stderr)
        part_a = in_process(args.env, args.games, args.repeats, args.bare_rule)
    part_b = None
    if not args.skip_process:
        print(f"b. processes: {args.process_games} games x {args.repeats} ...", file=sys.stderr)
        part_b = processes(
            args.env, args.process_games, args.repeats, args.bare_rule, not args.no_extras
        )
    print("c. start-up ...", file=sys.stderr)
    part_c = startup(args.env, args.repeats)
    body = report(args, info, part_a, part_b, part_c)
    print(body)
    if args.profile:
        print(profile_series(args.env, min(args.games, args.process_games), args.profile))
    if args.write:
        key = f"{info['cpu']}, {info['cores']} cores, {args.env}"
        write_section("match_overhead", key, body)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
