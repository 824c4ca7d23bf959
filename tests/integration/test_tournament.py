"""A real round-robin on a temporary SQLite file: ratings, seats, resume, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from arena.errors import ArenaError
from arena.storage import connect, session_factory
from arena.storage import models as m
from tests.conftest import EXAMPLE_C4
from tournaments.leaderboard import leaderboard
from tournaments.run import run_tournament


def write_tournament(folder: Path, body: str, name: str = "t.toml") -> Path:
    path = folder / name
    path.write_text(body)
    return path


def round_robin_file(folder: Path, *, games: int = 6, agents: tuple[str, ...] = ()) -> Path:
    entrants = "".join(f'[[entrants]]\nagent = "{a}"\n' for a in agents or ("random", "one-ply"))
    return write_tournament(
        folder,
        f"""
[tournament]
name = "rr"
env = "connect_four_v3"
format = "round-robin"
games_per_pairing = {games}
seed = 7
{entrants}""",
    )


def count(url: str, model) -> int:  # type: ignore[no-untyped-def]
    with session_factory(connect(url))() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_round_robin_ranks_lookahead_above_random(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    path = round_robin_file(tmp_path, games=8, agents=("random", "one-ply", str(EXAMPLE_C4)))
    outcome = run_tournament(path, db_url=url)
    assert (outcome.planned, outcome.played, outcome.resumed) == (24, 24, False)

    rows = leaderboard(connect(url), tournament="rr")
    order = [r.agent for r in rows]
    assert order.index("one-ply") < order.index("random")
    assert order.index("c4-heuristic") < order.index("random")
    by_agent = {r.agent: r for r in rows}
    assert by_agent["random"].games == 16
    assert by_agent["random"].wins <= 2  # one-ply and the heuristic beat random ~95%
    assert by_agent["c4-heuristic"].wins >= 12
    assert all(r.score == pytest.approx(r.mu - 3 * r.sigma, abs=1e-3) for r in rows)

    # Seats alternate within a pairing, and both orders of a pair share one seed.
    with session_factory(connect(url))() as s:
        matches = s.scalars(select(m.Match).where(m.Match.game_key.like("p0-%"))).all()
        first_seat = [match.participants[0].label for match in matches]
        assert first_seat.count("random") == first_seat.count("one-ply") == 4
        seeds = {match.game_key: match.seed for match in matches}
        assert seeds["p0-g0"] == seeds["p0-g1"] != seeds["p0-g2"]


def test_rerun_after_finish_starts_a_new_run_with_new_seeds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    path = round_robin_file(tmp_path, games=2)
    first = run_tournament(path, db_url=url)
    second = run_tournament(path, db_url=url)
    assert (first.run, second.run, second.resumed, second.played) == (1, 2, False, 2)
    with session_factory(connect(url))() as s:
        seeds = [match.seed for match in s.scalars(select(m.Match).order_by(m.Match.id))]
    assert seeds[0] != seeds[2]
    assert count(url, m.Match) == 4


class Stop(Exception):
    pass


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    path = round_robin_file(tmp_path, games=10)

    def stop_after_four(_result, done: int, _total: int) -> None:  # type: ignore[no-untyped-def]
        if done == 4:
            raise Stop

    with pytest.raises(Stop):
        run_tournament(path, db_url=url, on_match=stop_after_four)
    assert count(url, m.Match) == 4
    outcome = run_tournament(path, db_url=url)
    assert (outcome.resumed, outcome.run, outcome.already_stored, outcome.played) == (
        True,
        1,
        4,
        6,
    )
    assert count(url, m.Match) == 10
    rows = leaderboard(connect(url), tournament="rr")
    assert sum(r.games for r in rows) == 20


def test_sigkill_mid_run_then_resume_plays_exactly_the_plan(tmp_path: Path) -> None:
    db = tmp_path / "arena.db"
    url = f"sqlite:///{db}"
    path = round_robin_file(tmp_path, games=400)
    env = {**os.environ, "ARENA_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "arena.cli", "--db", url, "tournament", "run", str(path)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            with create_engine(url).connect() as conn:
                try:
                    stored = conn.execute(text("SELECT count(*) FROM matches")).scalar() or 0
                except Exception:
                    stored = 0
        if stored >= 20:
            break
    assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read()!r}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = count(url, m.Match)
    assert 20 <= killed_at < 400

    outcome = run_tournament(path, db_url=url)
    assert outcome.resumed and outcome.already_stored == killed_at
    assert outcome.played == 400 - killed_at
    assert count(url, m.Match) == 400
    with create_engine(url).connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        dupes = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT run_id, game_key FROM matches "
                "GROUP BY run_id, game_key HAVING count(*) > 1)"
            )
        ).scalar()
        assert dupes == 0
        # every stored match has its rating history: nothing half-written
        unrated = conn.execute(
            text(
                "SELECT count(*) FROM matches WHERE rated AND id NOT IN "
                "(SELECT match_id FROM rating_history)"
            )
        ).scalar()
        assert unrated == 0


BAD_CASES = {
    "missing-table": ("[tournament]\nname='x'\n", "missing required string"),
    "unknown-env": (
        '[tournament]\nname="x"\nenv="conect_four_v3"\n[[entrants]]\nagent="random"\n'
        '[[entrants]]\nagent="one-ply"\n',
        "[tournament].env: unknown env 'conect_four_v3' (run 'arena envs' for the list)",
    ),
    "unknown-key": (
        '[tournament]\nname="x"\nenv="connect_four_v3"\ngames_per_pair=3\n',
        "[tournament].games_per_pair: unknown key",
    ),
    "bad-format": (
        '[tournament]\nname="x"\nenv="connect_four_v3"\nformat="swizz"\n[[entrants]]\n'
        'agent="random"\n[[entrants]]\nagent="one-ply"\n',
        "[tournament].format: unknown format 'swizz' (available: round-robin, gauntlet, ",
    ),
    "unknown-agent": (
        '[tournament]\nname="x"\nenv="connect_four_v3"\n[[entrants]]\nagent="random"\n'
        '[[entrants]]\nagent="c4-dqn@1.2.0"\n',
        "entrants[2].agent: unknown agent 'c4-dqn@1.2.0'",
    ),
    "wrong-env": (
        '[tournament]\nname="x"\nenv="leduc_holdem_v4"\n[[entrants]]\nagent="random"\n'
        '[[entrants]]\nagent="one-ply"\n',
        "entrants[2]: agent 'one-ply' does not declare env 'leduc_holdem_v4' "
        "(its envs: connect_four_v3, tictactoe_v3)",
    ),
    "one-entrant": (
        '[tournament]\nname="x"\nenv="connect_four_v3"\n[[entrants]]\nagent="random"\n',
        "a tournament needs at least two, got 1",
    ),
    "bad-toml": ("[tournament\nname=", "not valid TOML"),
    "coop-env": (
        '[tournament]\nname="x"\nenv="simple_spread_v3"\n[[entrants]]\nagent="random"\n'
        '[[entrants]]\nagent="../x"\n',
        "[tournament].format: round-robin seats 2 agents per game, each on its own team; "
        "simple_spread_v3 has 1 side(s) in 1 team(s)",
    ),
    "bad-timeout": (
        '[tournament]\nname="x"\nenv="connect_four_v3"\n[limits]\nmove_timeout_s=0\n'
        '[[entrants]]\nagent="random"\n[[entrants]]\nagent="one-ply"\n',
        "[limits].move_timeout_s: expected a positive number, got 0",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_tournament_files_fail_before_anything_is_written(tmp_path: Path, case: str) -> None:
    body, message = BAD_CASES[case]
    path = write_tournament(tmp_path, body)
    db = tmp_path / "arena.db"
    with pytest.raises(ArenaError) as info:
        run_tournament(path, db_url=f"sqlite:///{db}")
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert not db.exists()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="tournament file not found"):
        run_tournament(tmp_path / "nope.toml", db_url=f"sqlite:///{tmp_path / 'a.db'}")


def test_cooperative_env_is_refused_for_round_robin(tmp_path: Path) -> None:
    path = write_tournament(
        tmp_path,
        '[tournament]\nname="x"\nenv="simple_spread_v3"\n[[entrants]]\nagent="random"\n'
        f'[[entrants]]\nagent="{tmp_path / "none"}"\n',
    )
    # an unknown entrant is reported first; with two valid entrants the format is refused
    pkg = tmp_path / "spread-pkg"
    pkg.mkdir()
    (pkg / "agent.toml").write_text(
        '[agent]\nname="spread"\nversion="1.0"\nentry="a:make_agent"\nenvs=["simple_spread_v3"]\n'
    )
    (pkg / "a.py").write_text("def make_agent(ctx):\n    raise RuntimeError\n")
    path.write_text(
        '[tournament]\nname="x"\nenv="simple_spread_v3"\n[[entrants]]\nagent="random"\n'
        '[[entrants]]\nagent="spread-pkg"\n'
    )
    with pytest.raises(ArenaError, match="round-robin seats 2 agents per game"):
        run_tournament(path, db_url=f"sqlite:///{tmp_path / 'a.db'}")
    assert not (tmp_path / "a.db").exists()


def test_import_failure_is_reported_with_traceback_detail(tmp_path: Path) -> None:
    pkg = tmp_path / "broken"
    pkg.mkdir()
    (pkg / "agent.toml").write_text(
        '[agent]\nname="broken"\nversion="1.0"\nentry="brk:make_agent"\nenvs=["connect_four_v3"]\n'
    )
    (pkg / "brk.py").write_text("import not_a_module_anywhere\n")
    path = round_robin_file(tmp_path, agents=("random", "broken"))
    with pytest.raises(ArenaError) as info:
        run_tournament(path, db_url=f"sqlite:///{tmp_path / 'a.db'}")
    assert (
        f"entrants[2]: agent 'broken' ({pkg}): importing 'brk' failed: ModuleNotFoundError"
        in str(info.value)
    )
    assert info.value.detail is not None and "not_a_module_anywhere" in info.value.detail
    assert not (tmp_path / "a.db").exists()
