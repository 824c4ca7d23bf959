"""Leaderboard at scale: 10,000 recorded matches, rated and shown in under 5 s.

Builds a temporary SQLite database holding ``--matches`` (default 10,000) rated
tictactoe_v3 matches between ``--agents`` (default 8) synthetic agents, all in
one run of one tournament. The matches are synthesised ``MatchResult`` objects
(playing them would time the games, not the leaderboard): each pairing is drawn
at random and the outcome follows the Elo formula on the agents' hidden
strengths (700 to 1300) with draws counted as half a win, so that Bradley-Terry
should recover the hidden strengths: an even game is drawn 20% of the time
(``4 * 0.2 * p * (1 - p)`` in general), the rest go to either side. They are stored with
``arena.storage.recorder.Recorder`` in batches, so every stored match also moved
the stored TrueSkill ratings, exactly as a real series does.

Then it times, best of ``--repeats``:

- ``leaderboard(connect(url), env_id=...)`` in-process: stored TrueSkill ratings
  plus the Bradley-Terry fit and its 200 bootstrap resamples over all the env's
  matches;
- ``leaderboard(connect(url), tournament=...)`` in-process: the tournament's
  matches replayed through TrueSkill, plus the same Bradley-Terry fit;
- the same two as whole ``arena --db ... leaderboard ... --json`` processes,
  start-up included, and the rendered table (no ``--json``) for the env.
  Target: each under 5 s.

``--baseline REV`` also times ``tournaments/leaderboard.py`` as it was at git
revision ``REV`` (loaded from ``git show``, in-process only), for a before/after.
``--write`` stores the report in ``bench/RESULTS.md`` (its own section per CPU
model and core count, between ``leaderboard_scale`` markers, refreshed in place).

Usage::

    .venv/bin/python bench/leaderboard_scale.py                  # print only
    .venv/bin/python bench/leaderboard_scale.py --write          # and update RESULTS.md
    .venv/bin/python bench/leaderboard_scale.py --baseline HEAD  # also time HEAD's version
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as ``python bench/leaderboard_scale.py``: this folder is first on sys.path.
from match_overhead import RESULTS, ROOT, arena_exe, machine, run_process, table
from results import write_section

ENV = "tictactoe_v3"
TOURNAMENT = "bench-scale"
TARGET_S = 5.0
DRAW_SHARE = 0.20  # draws in an even game


@dataclass
class Timing:
    name: str
    times: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.times)


# --------------------------------------------------------------------------- data


def strengths(agents: int) -> list[float]:
    """Hidden Elo strengths, evenly from 700 to 1300."""
    if agents == 1:
        return [1000.0]
    return [700.0 + 600.0 * k / (agents - 1) for k in range(agents)]


def synthesise(matches: int, agents: int, seed: int) -> list[Any]:
    """``matches`` MatchResult objects for tictactoe_v3 between synthetic agents."""
    import numpy as np

    from arena.result import AgentInfo, MatchResult, SeatResult

    infos = [
        AgentInfo(
            name=f"bench-{k}",
            version="1.0",
            content_hash=f"bench:bench-{k}@1.0",
            kind="scripted",
            learning_type="synthetic (bench)",
            source="builtin",
        )
        for k in range(agents)
    ]
    elo = np.array(strengths(agents))
    rng = np.random.default_rng(seed)
    first = rng.integers(agents, size=matches)
    second = (first + rng.integers(1, agents, size=matches)) % agents  # never self-play
    p_first = 1.0 / (1.0 + 10.0 ** ((elo[second] - elo[first]) / 400.0))
    # Expected score p_first with draws as half a win: P(draw) = D, P(first wins) = w,
    # D / 2 + w = p_first; D = 4 * DRAW_SHARE * p (1 - p) keeps w >= 0.
    p_draw = 4.0 * DRAW_SHARE * p_first * (1.0 - p_first)
    p_win = p_first - p_draw / 2.0
    u = rng.random(matches)
    steps = rng.integers(6, size=matches)
    cells = rng.permuted(np.tile(np.arange(9), (matches, 1)), axis=1)
    results = []
    for i in range(matches):
        a, b = int(first[i]), int(second[i])
        if u[i] < p_draw[i]:
            ranks, rewards, n = [1, 1], [0.0, 0.0], 9
        elif u[i] < p_draw[i] + p_win[i]:
            ranks, rewards, n = [1, 2], [1.0, -1.0], 5 + 2 * int(steps[i] % 3)  # 5, 7 or 9 moves
        else:
            ranks, rewards, n = [2, 1], [-1.0, 1.0], 6 + 2 * int(steps[i] % 2)  # 6 or 8
        seats = [
            SeatResult(
                seat=f"player_{side + 1}",
                side=side,
                team=side,
                role="player",
                label=infos[k].name,
                reward=rewards[side],
                rank=ranks[side],
            )
            for side, k in enumerate((a, b))
        ]
        actions = [[f"player_{s % 2 + 1}", int(c)] for s, c in enumerate(cells[i, :n])]
        results.append(
            MatchResult(
                env_id=ENV,
                env_version="pettingzoo (bench)",
                seed=i,
                agents=[infos[a], infos[b]],
                labels=[infos[a].name, infos[b].name],
                seats=seats,
                side_ranks=ranks,
                steps=n,
                duration_s=0.001,
                actions=actions,
            )
        )
    return results


def build_db(url: str, matches: int, agents: int, seed: int) -> tuple[float, float]:
    """Fill the database at ``url``; return (synthesis s, recording s)."""
    from arena.rating import RatingSystem
    from arena.storage import connect, session_factory
    from arena.storage import models as m
    from arena.storage.recorder import Recorder, ensure_agent_version

    t0 = time.perf_counter()
    results = synthesise(matches, agents, seed)
    synth_s = time.perf_counter() - t0
    engine = connect(url)
    with session_factory(engine).begin() as session:
        tournament = m.Tournament(
            name=TOURNAMENT, env_id=ENV, format="round-robin", config={"bench": True}
        )
        run = m.Run(
            tournament=tournament, number=1, status="finished", plan_hash="bench", planned=matches
        )
        session.add_all([tournament, run])
        # The agent versions first: inside Recorder.batch(), a version first seen after
        # the batch's first match is inserted on a second connection, which waits for
        # the batch's write lock on SQLite (busy_timeout, then "database is locked").
        for info in {a.content_hash: a for r in results for a in r.agents}.values():
            ensure_agent_version(session, info)
        session.flush()
        run_id = run.id
    recorder = Recorder(engine, RatingSystem())
    t0 = time.perf_counter()
    with recorder.batch(max_matches=1000, max_seconds=10.0):
        for i, result in enumerate(results):
            recorder.record(result, run_id=run_id, game_key=f"g{i}")
    record_s = time.perf_counter() - t0
    engine.dispose()
    return synth_s, record_s


# --------------------------------------------------------------------------- timing


def load_baseline(rev: str) -> types.ModuleType:
    """``tournaments/leaderboard.py`` at git revision ``rev``, as a module."""
    source = subprocess.run(
        ["git", "show", f"{rev}:tournaments/leaderboard.py"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    module = types.ModuleType(f"leaderboard_at_{rev}")
    module.__file__ = f"<{rev}:tournaments/leaderboard.py>"
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def time_in_process(
    url: str, repeats: int, baseline: str | None
) -> tuple[dict[str, Timing], dict[str, Any]]:
    """In-process timings; also returns the env leaderboard rows (as dicts)."""
    from arena.storage import connect
    from tournaments.leaderboard import leaderboard

    calls: dict[str, tuple[Callable[[], Any], str]] = {
        "env": (lambda: leaderboard(connect(url), env_id=ENV), "leaderboard(env_id=...)"),
        "tournament": (
            lambda: leaderboard(connect(url), tournament=TOURNAMENT),
            "leaderboard(tournament=...)",
        ),
    }
    if baseline is not None:
        old = load_baseline(baseline)
        calls["old-env"] = (
            lambda: old.leaderboard(connect(url), env_id=ENV),
            f"leaderboard(env_id=...) at {baseline}",
        )
        calls["old-tournament"] = (
            lambda: old.leaderboard(connect(url), tournament=TOURNAMENT),
            f"leaderboard(tournament=...) at {baseline}",
        )
    timings = {key: Timing(name) for key, (_, name) in calls.items()}
    rows: dict[str, Any] = {}
    for _ in range(repeats):
        for key, (fn, _) in calls.items():
            t0 = time.perf_counter()
            result = fn()
            timings[key].times.append(time.perf_counter() - t0)
            if key in ("env", "tournament"):
                rows[key] = [r.to_dict() for r in result]
    return timings, rows


def time_bt_fit(url: str, repeats: int) -> Timing:
    """The Bradley-Terry fit alone, on all the env's matches (read once)."""
    from sqlalchemy import select

    from arena.storage import connect
    from arena.storage import models as m
    from tournaments.bradley_terry import fit_matches

    p = m.Participant
    query = select(p.match_id, p.agent_version_id, p.team, p.rank).order_by(p.match_id, p.id)
    with connect(url).connect() as conn:
        seats: dict[int, list[tuple[int, int, int]]] = {}
        for r in conn.execute(query):
            seats.setdefault(r.match_id, []).append((r.agent_version_id, r.team, r.rank))
    matches = list(seats.values())
    timing = Timing("fit_matches (BT + 200 resamples)", note=f"{len(matches)} matches")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit_matches(matches)
        timing.times.append(time.perf_counter() - t0)
    return timing


def time_cli(url: str, repeats: int, home: Path) -> tuple[dict[str, Timing], list[Any]]:
    """Whole ``arena`` processes, start-up included."""
    exe = arena_exe()
    env = {**os.environ, "ARENA_HOME": str(home)}
    env.pop("ARENA_DB", None)
    commands = {
        "help": ["--help"],
        "cli-env": ["--db", url, "leaderboard", "--env", ENV, "--json"],
        "cli-tournament": ["--db", url, "leaderboard", "--tournament", TOURNAMENT, "--json"],
        "cli-table": ["--db", url, "leaderboard", "--env", ENV],
    }
    timings = {
        key: Timing(
            "arena " + " ".join(argv if key == "help" else ["--db", "sqlite:///…", *argv[2:]])
        )
        for key, argv in commands.items()
    }
    timings["help"].note = "start-up only"
    rows: list[Any] = []
    for _ in range(repeats):
        for key, argv in commands.items():
            seconds, out = run_process([exe, *argv], env=env)
            timings[key].times.append(seconds)
            if key == "cli-env":
                rows = json.loads(out)
    return timings, rows


# --------------------------------------------------------------------------- report


def verdict(seconds: float) -> str:
    return "meets" if seconds < TARGET_S else "MISSES"


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    build: tuple[float, float],
    timings: list[Timing],
    cli_rows: list[Any],
    in_rows: dict[str, Any],
) -> str:
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        [
            t.name,
            f"{t.best:.3f}",
            ", ".join(f"{x:.3f}" for x in t.times),
            t.note or (f"{verdict(t.best)} < {TARGET_S:g} s" if "arena" in t.name else ""),
        ]
        for t in timings
    ]
    hidden = dict(
        zip((f"bench-{k}" for k in range(args.agents)), strengths(args.agents), strict=True)
    )
    tour = {r["agent"]: r for r in in_rows.get("tournament", [])}
    board = [
        [
            str(r["rank"]),
            r["agent"],
            f"{hidden.get(r['agent'], float('nan')):.0f}",
            f"{r['score']:.2f}",
            f"{tour[r['agent']]['score']:.2f}" if r["agent"] in tour else "-",
            "-" if r["bt"] is None else f"{r['bt']:.0f}",
            "-" if r["bt"] is None else f"{r['bt_low']:.0f} – {r['bt_high']:.0f}",
            str(r["games"]),
        ]
        for r in cli_rows
    ]
    slowest_cli = max(
        t.best for t in timings if t.name.startswith("arena") and "leaderboard" in t.name
    )
    return "\n".join(
        [
            f"Date: {when}  ",
            f"Command: `{shlex.join(['python', 'bench/leaderboard_scale.py', *sys.argv[1:]])}`  ",
            f"Machine: `{info['uname']}`  ",
            f"CPU: {info['cpu']}, {info['cores']} cores; load average at start {info['load']}  ",
            f"Python {info['python']}, numpy {info['numpy']}, SQLAlchemy {info['sqlalchemy']}  ",
            f"Code: {info['code']}",
            "",
            f"{args.matches} rated {ENV} matches between {args.agents} synthetic agents in one "
            f"tournament run (outcomes by the Elo formula on hidden strengths 700–1300, "
            f"draws as half a win, {DRAW_SHARE:.0%} draws in an even game). Synthesised in "
            f"{build[0]:.2f} s, stored with "
            f"`Recorder` (batches of 1000, TrueSkill update per match) in {build[1]:.2f} s "
            f"(not part of the target).",
            "",
            f"Best of {args.repeats}:",
            "",
            table(["what", "best s", "all runs s", "note"], rows),
            "",
            f"Slowest leaderboard command: **{slowest_cli:.2f} s "
            f"({verdict(slowest_cli)} target < {TARGET_S:g} s, start-up included)**.",
            "",
            "The env leaderboard as `arena leaderboard --json` returned it (TrueSkill "
            "`mu-3σ` from the stored ratings and from the tournament replay, Bradley-Terry "
            "with its 95% bootstrap interval):",
            "",
            table(
                ["rank", "agent", "hidden", "mu-3σ", "replay mu-3σ", "bt", "bt 95%", "games"],
                board,
            ),
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000, help="matches to store")
    parser.add_argument("--agents", type=int, default=8, help="synthetic agents")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; best kept")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic results")
    parser.add_argument("--baseline", metavar="REV", help="also time leaderboard.py at REV")
    parser.add_argument("--keep", metavar="DIR", help="build the database in DIR and keep it")
    parser.add_argument("--write", action="store_true", help="store the report in RESULTS.md")
    args = parser.parse_args(argv)
    if args.matches < 1 or args.agents < 2 or args.repeats < 1:
        parser.error("need --matches >= 1, --agents >= 2 and --repeats >= 1")

    info = machine()
    with tempfile.TemporaryDirectory(prefix="arena-lb-bench-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "arena.db"
        if db.exists():
            raise SystemExit(f"{db} exists; give --keep an empty folder")
        url = f"sqlite:///{db}"
        print(f"storing {args.matches} matches in {db} ...", file=sys.stderr)
        build = build_db(url, args.matches, args.agents, args.seed)
        print(f"timing, {args.repeats} repeats ...", file=sys.stderr)
        in_process, in_rows = time_in_process(url, args.repeats, args.baseline)
        bt = time_bt_fit(url, args.repeats)
        cli, cli_rows = time_cli(url, args.repeats, folder / "home")
    if len(cli_rows) != args.agents or any(r["bt"] is None for r in cli_rows):
        raise SystemExit(f"unexpected leaderboard: {cli_rows}")
    body = report(args, info, build, [*in_process.values(), bt, *cli.values()], cli_rows, in_rows)
    print(body)
    if args.write:
        write_section("leaderboard_scale", f"{info['cpu']}, {info['cores']} cores", body)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
