"""Every format end to end on a temporary SQLite file, plus parallel workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from arena.replay import replay_match
from arena.storage import connect, session_factory
from arena.storage import models as m
from tests.conftest import EXAMPLE_C4
from tournaments.leaderboard import leaderboard
from tournaments.run import run_tournament

C4_ENTRANTS = ("random", "one-ply", str(EXAMPLE_C4))


def write(folder: Path, header: str, agents: tuple[str, ...] = C4_ENTRANTS) -> Path:
    entrants = "".join(f'[[entrants]]\nagent = "{a}"\n' for a in agents)
    path = folder / "t.toml"
    path.write_text(f'[tournament]\nname = "t"\nseed = 3\n{header}\n{entrants}')
    return path


def stored(url: str) -> list[m.Match]:
    from sqlalchemy.orm import selectinload

    with session_factory(connect(url))() as s:
        query = select(m.Match).options(selectinload(m.Match.participants)).order_by(m.Match.id)
        return list(s.scalars(query))


def planned(url: str) -> int:
    with session_factory(connect(url))() as s:
        return s.scalar(select(func.count()).select_from(m.PlannedGame)) or 0


def test_gauntlet_challenger_meets_everyone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    path = write(
        tmp_path,
        'env = "connect_four_v3"\nformat = "gauntlet"\ngames_per_pairing = 2\n'
        f'challenger = "{EXAMPLE_C4}"',
    )
    outcome = run_tournament(path, db_url=url)
    assert (outcome.planned, outcome.played) == (4, 4)
    for match in stored(url):
        assert "c4-heuristic" in {p.label for p in match.participants}
    assert planned(url) == 4


def test_swiss_rounds_pair_by_score_and_resume(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    agents = ("random", "one-ply", str(EXAMPLE_C4), str(EXAMPLE_C4.parent / "c4-negamax"))
    path = write(
        tmp_path,
        'env = "connect_four_v3"\nformat = "swiss"\nrounds = 3\ngames_per_pairing = 2',
        agents,
    )

    class Stop(Exception):
        pass

    def stop_after(_r: object, done: int, _t: int) -> None:
        if done == 5:
            raise Stop

    with pytest.raises(Stop):
        run_tournament(path, db_url=url, on_match=stop_after)
    outcome = run_tournament(path, db_url=url)
    assert outcome.resumed and outcome.already_stored == 5
    matches = stored(url)
    assert len(matches) == 12  # 3 rounds x 2 boards x 2 games
    keys = [match.game_key for match in matches]
    assert len(set(keys)) == 12
    pairs = {frozenset(p.label for p in match.participants) for match in matches}
    assert len(pairs) == 6  # four entrants, three rounds, no rematch


def test_knockout_crowns_one_champion(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    agents = ("random", "one-ply", str(EXAMPLE_C4))
    path = write(
        tmp_path, 'env = "connect_four_v3"\nformat = "knockout"\ngames_per_pairing = 2', agents
    )
    outcome = run_tournament(path, db_url=url)
    # 3 entrants: one bye, a semi-final, then a final (plus any tie-breaks)
    rounds = {match.game_key.split("-")[0] for match in stored(url)}
    assert rounds == {"r1", "r2"}
    assert outcome.played >= 4


def test_ladder_and_free_for_all(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    path = write(
        tmp_path,
        'env = "tictactoe_v3"\nformat = "ladder"\nrounds = 3\ngames_per_pairing = 2',
        ("random", "one-ply"),
    )
    assert run_tournament(path, db_url=url).played == 6

    path = write(
        tmp_path,
        'env = "texas_holdem_v4"\nformat = "free-for-all"\nenv_kwargs = { num_players = 4 }\n'
        "games_per_pairing = 4",
        ("random", str(tmp_path / "missing")),
    )
    path.write_text(path.read_text().replace("[tournament]", "[tournament]", 1))
    # four copies of random are one agent; FFA needs distinct entrants
    pkgs = []
    for i in range(3):
        pkg = tmp_path / f"rnd{i}"
        pkg.mkdir()
        (pkg / "agent.toml").write_text(
            f'[agent]\nname="rnd{i}"\nversion="1.0"\nentry="a:make_agent"\nenvs=["texas_holdem_v4"]\n'
        )
        (pkg / "a.py").write_text(
            "import numpy as np\n"
            "class A:\n"
            "    def __init__(self, s): self.r = np.random.default_rng(s)\n"
            "    def reset(self, *, seed=None): self.r = np.random.default_rng(seed)\n"
            "    def act(self, o, *, action_mask=None):\n"
            "        return int(self.r.choice(np.flatnonzero(action_mask)))\n"
            "def make_agent(ctx): return A(ctx.seed)\n"
        )
        pkgs.append(str(pkg))
    path = write(
        tmp_path,
        'env = "texas_holdem_v4"\nformat = "free-for-all"\nenv_kwargs = { num_players = 4 }\n'
        "games_per_pairing = 4",
        ("random", *pkgs),
    )
    url2 = f"sqlite:///{tmp_path / 'b.db'}"
    outcome = run_tournament(path, db_url=url2)
    assert outcome.played == 4
    for match in stored(url2):
        assert len(match.participants) == 4
        assert match.env_kwargs == {"num_players": 4}  # the match says what its env was
        # ... so its replay rebuilds a four-player table (it used to build the default two).
        replay = replay_match(match.id, db_url=url2)
        assert len(replay.plies) == len(match.actions) + 1  # ply 0 is the deal
        seats = {seat for ply in replay.plies for seat, _ in ply.moves}
        assert seats == {p.seat for p in match.participants if p.seat in seats}
        assert len(seats) > 2
    rows = leaderboard(connect(url2), env_id="texas_holdem_v4")
    assert len(rows) == 4 and all(r.games == 4 for r in rows)


def test_sprt_stops_a_lopsided_head_to_head_early(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    path = write(
        tmp_path,
        'env = "connect_four_v3"\ngames_per_pairing = 200\n'
        "sprt = { elo0 = 0, elo1 = 50, alpha = 0.05, beta = 0.05 }",
        (str(EXAMPLE_C4), "random"),
    )
    outcome = run_tournament(path, db_url=url)
    assert 2 <= outcome.played < 200


def test_two_workers_play_the_same_games_as_one(tmp_path: Path) -> None:
    header = 'env = "connect_four_v3"\ngames_per_pairing = 4'
    one = f"sqlite:///{tmp_path / 'one.db'}"
    two = f"sqlite:///{tmp_path / 'two.db'}"
    run_tournament(write(tmp_path, header), db_url=one)
    run_tournament(write(tmp_path, header), db_url=two, workers=2)

    def games(url: str) -> dict[str, tuple[int, list[object]]]:
        return {match.game_key: (match.seed, match.actions) for match in stored(url)}

    assert games(one) == games(two)  # same seeds, same moves, whoever played them


def test_ray_backend_plays_the_same_games(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'arena[ray]')")
    header = 'env = "connect_four_v3"\ngames_per_pairing = 2'
    local = f"sqlite:///{tmp_path / 'local.db'}"
    remote = f"sqlite:///{tmp_path / 'ray.db'}"
    run_tournament(write(tmp_path, header), db_url=local)
    try:
        outcome = run_tournament(write(tmp_path, header), db_url=remote, backend="ray", workers=2)
    finally:
        ray.shutdown()
    assert outcome.played == 6

    def games(url: str) -> dict[str, tuple[int, list[object]]]:
        return {match.game_key: (match.seed, match.actions) for match in stored(url)}

    assert games(local) == games(remote)
