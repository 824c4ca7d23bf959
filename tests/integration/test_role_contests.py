"""Role-asymmetric tournaments (simple_tag): duplicate pairs, per-role ratings, role contests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from arena.errors import ArenaError
from arena.rating import compare_pair
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.queries.ratings import rated_pairs
from tests.conftest import ROOT
from tournaments.leaderboard import LeaderboardRow, leaderboard
from tournaments.run import RunInterrupted, run_tournament
from tournaments.status import tournament_status

PACKAGES = ROOT / "tests" / "packages"
RANDOM_A, RANDOM_B = PACKAGES / "tag-random-a", PACKAGES / "tag-random-b"
PREY = ROOT / "examples" / "agents" / "tag-prey"
TAG = "simple_tag_v3"


def write(folder: Path, header: str, agents: tuple[str | Path, ...], tail: str = "") -> Path:
    entrants = "".join(f'[[entrants]]\nagent = "{a}"\n' for a in agents)
    path = folder / "t.toml"
    path.write_text(
        f'[tournament]\nname = "t"\nenv = "{TAG}"\nseed = 3\n{header}\n{tail}\n{entrants}'
    )
    return path


def matches(url: str) -> list[m.Match]:
    with session_factory(connect(url))() as s:
        query = select(m.Match).options(selectinload(m.Match.participants)).order_by(m.Match.id)
        return list(s.scalars(query))


def board(url: str, role: str | None = None, **kw: str) -> dict[str, LeaderboardRow]:
    return {r.agent: r for r in leaderboard(connect(url), role=role, **kw)}


def test_identical_random_packages_come_out_level(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    path = write(tmp_path, "games_per_pairing = 6", (RANDOM_A, RANDOM_B))
    outcome = run_tournament(path, db_url=url)
    assert (outcome.planned, outcome.played) == (12, 12)  # 6 games, a duplicate pair each
    stored = matches(url)
    # One match alone measures the role: the prey never wins one (its rewards are <= 0)...
    prey_won = [
        match.game_key
        for match in stored
        if next(p.outcome for p in match.participants if p.role == "agent") == "win"
    ]
    assert prey_won == []
    # ...but the same seed in the same role compares like with like: every pair drawn.
    assert all(match.rated and match.duplicate_id is not None for match in stored)
    pairs = rated_pairs(connect(url), env_id=TAG)
    assert len(pairs) == 6
    assert {c.score_a for p in pairs for c in compare_pair(p.first, p.second)} == {0.5}
    for role in ("", "adversary", "agent"):
        rows = board(url, role, env_id=TAG)
        a, b = rows["tag-random-a"], rows["tag-random-b"]
        assert (a.games, a.draws, b.draws) == (6, 6, 6)
        assert a.mu == pytest.approx(b.mu) and a.role == role


def test_tag_chaser_outranks_random_as_predator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    run_tournament(write(tmp_path, "games_per_pairing = 10", ("random", "tag-chaser")), db_url=url)
    adversary = board(url, "adversary", env_id=TAG)
    chaser, rnd = adversary["tag-chaser"], adversary["random"]
    assert chaser.rank == 1 and chaser.mu > rnd.mu + 5
    assert chaser.wins >= 8 and chaser.losses == 0
    # The tournament's own replay agrees with the stored ratings.
    replay = board(url, "adversary", tournament="t")
    assert replay["tag-chaser"].mu == pytest.approx(chaser.mu, abs=1e-3)
    # As prey it flees and stays inside the arena: rated above random there too.
    prey = board(url, "agent", env_id=TAG)
    assert prey["tag-chaser"].mu > prey["random"].mu


def test_tag_chaser_outranks_random_overall_and_in_both_roles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    run_tournament(write(tmp_path, "games_per_pairing = 6", ("random", "tag-chaser")), db_url=url)
    for role in (None, "adversary", "agent"):
        rows = board(url, role, env_id=TAG)
        assert [r.agent for r in sorted(rows.values(), key=lambda r: r.rank)] == [
            "tag-chaser",
            "random",
        ]
        chaser = rows["tag-chaser"]
        assert chaser.wins > chaser.losses
    overall = board(url, None, env_id=TAG)["tag-chaser"]
    assert overall.role == "" and overall.games == 6
    assert overall.bt is not None and overall.bt > 1000  # BT from the same comparisons


def test_a_role_contest_rates_the_contest_role_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    path = write(
        tmp_path,
        'role = "adversary"\ngames_per_pairing = 2',
        (PACKAGES / "tag-predator-only", "tag-chaser", "random"),
        f'[background]\nagent = ["random", "{PREY}"]\n',
    )
    outcome = run_tournament(path, db_url=url)
    # 3 pairings x 2 games x 2 background sets x 2 matches
    assert (outcome.planned, outcome.played) == (24, 24)
    with session_factory(connect(url))() as s:
        named = {(r.agent_version.agent.name, r.role) for r in s.scalars(select(m.Rating))}
    assert named == {("tag-predator-only", "adversary"), ("tag-chaser", "adversary"),
                     ("random", "adversary")}  # fmt: skip
    for match in matches(url):
        prey = next(p.label for p in match.participants if p.role == "agent")
        assert prey.split("#")[0] in {"random", "tag-prey"}
    rows = board(url, tournament="t")  # a contest's tournament shows its role by default
    assert {r.role for r in rows.values()} == {"adversary"}
    assert next(r for r in rows.values() if r.rank == 1).agent == "tag-chaser"
    assert board(url, env_id=TAG) == {}  # no overall rows: nobody played both roles


def test_every_format_runs_on_simple_tag(tmp_path: Path) -> None:
    agents = ("random", "tag-chaser", RANDOM_A, RANDOM_B)
    cases = {
        "swiss": ('format = "swiss"\nrounds = 2', agents, 8),
        "knockout": ('format = "knockout"', agents, 6),  # 3 ties of 2 games, no tie-break yet
        "gauntlet": ('format = "gauntlet"\nchallenger = "tag-chaser"', agents, 6),
        "ladder": ('format = "ladder"\nrounds = 2', agents, 8),
        "free-for-all": ('format = "free-for-all"\ngroup_size = 2', agents, 4),
        "sprt": ('sprt = true\ngames_per_pairing = 4', ("random", "tag-chaser"), None),
    }  # fmt: skip
    for name, (header, entrants, games) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        url = f"sqlite:///{folder / 'a.db'}"
        outcome = run_tournament(write(folder, header, entrants), db_url=url)
        stored = matches(url)
        assert len(stored) == outcome.planned and outcome.planned % 2 == 0, name
        if games is not None and name != "knockout":
            assert outcome.planned == 2 * games, name
        assert all(x.rated and x.duplicate_id is not None for x in stored), name
        keys = [x.game_key or "" for x in stored]
        assert all(k.endswith(("/d0", "/d1")) for k in keys), name
        assert len(set(keys)) == len(keys), name


def test_ctrl_c_marks_the_run_interrupted_and_rerunning_resumes_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    path = write(tmp_path, "games_per_pairing = 4", ("random", "tag-chaser"))

    def stop_after_3(_r: object, done: int, _t: int) -> None:
        if done == 3:
            raise KeyboardInterrupt  # the CLI turns SIGTERM into one too

    with pytest.raises(RunInterrupted) as info:
        run_tournament(path, db_url=url, on_match=stop_after_3)
    assert (info.value.stored, info.value.planned) == (3, 8)
    assert str(info.value) == "interrupted: 3/8 stored; run the same command to resume"
    [status] = tournament_status(connect(url), name="t")
    assert (status["status"], status["played"], status["planned"]) == ("interrupted", 3, 8)
    # Stored so far: one complete pair (rated) and the first match of the next (waiting).
    assert [x.rated for x in matches(url)] == [True, True, False]

    outcome = run_tournament(path, db_url=url)
    assert outcome.resumed and (outcome.already_stored, outcome.played) == (3, 5)
    [status] = tournament_status(connect(url), name="t")
    assert (status["status"], status["played"]) == ("finished", 8)
    resumed = board(url, "adversary", env_id=TAG)

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    fresh_url = f"sqlite:///{fresh / 'a.db'}"
    run_tournament(
        write(fresh, "games_per_pairing = 4", ("random", "tag-chaser")), db_url=fresh_url
    )
    uninterrupted = board(fresh_url, "adversary", env_id=TAG)
    for agent in ("random", "tag-chaser"):
        assert resumed[agent].mu == pytest.approx(uninterrupted[agent].mu)
    assert [(x.game_key, x.seed) for x in matches(url)] == [
        (x.game_key, x.seed) for x in matches(fresh_url)
    ]


def one_role_cases(tmp: Path) -> dict[str, tuple[str, str]]:
    only_prey, only_predator = PACKAGES / "tag-prey-only", PACKAGES / "tag-predator-only"
    contest = 'role = "adversary"'
    return {
        "full tournament, prey-only entrant": (
            write(tmp, "", ("random", only_prey)).read_text(),
            f"entrants[2]: agent 'tag-prey-only' cannot fill role 'adversary' of {TAG} "
            "(its roles: agent); tournaments swap roles between games",
        ),
        "contest entrant without the role": (
            write(tmp, contest, ("random", only_prey), '[background]\nagent = ["random"]')
            .read_text(),
            f"entrants[2]: agent 'tag-prey-only' cannot fill role 'adversary' of {TAG} "
            "(its roles: agent); the contest is role 'adversary' ([tournament].role)",
        ),
        "background without the role": (
            write(tmp, contest, ("random", "tag-chaser"),
                  f'[background]\nagent = ["random", "{only_predator}"]').read_text(),
            f"[background].agent[2]: agent 'tag-predator-only' cannot fill role 'agent' of {TAG} "
            "(its roles: adversary)",
        ),
        "unknown background agent": (
            write(tmp, contest, ("random", "tag-chaser"),
                  '[background]\nagent = ["nobody"]').read_text(),
            "[background].agent[1]: unknown agent 'nobody'",
        ),
        "role of another env": (
            write(tmp, 'role = "player"', ("random", "tag-chaser")).read_text(),
            f"[tournament].role: env '{TAG}' has roles adversary, agent; got 'player'",
        ),
        "no background": (
            write(tmp, contest, ("random", "tag-chaser")).read_text(),
            "[background].agent: missing (a contest of role 'adversary' needs background "
            "agents for role 'agent')",
        ),
        "background without a contest": (
            write(tmp, "", ("random", "tag-chaser"), '[background]\nagent = ["random"]')
            .read_text(),
            "[background]: only for a role contest (set [tournament].role)",
        ),
        "background for the contest role": (
            write(tmp, contest, ("random", "tag-chaser"),
                  '[background]\nagent = ["random"]\nadversary = ["random"]').read_text(),
            "[background].adversary: the contest's own role; background agents fill the other "
            "roles (agent)",
        ),
        "empty background": (
            write(tmp, contest, ("random", "tag-chaser"), "[background]\nagent = []").read_text(),
            '[background].agent: expected a list of agents, like ["random"]',
        ),
        "role contest in a symmetric env": (
            write(tmp, contest, ("random", "one-ply")).read_text().replace(TAG, "connect_four_v3"),
            "[tournament].role: env 'connect_four_v3' is not role-asymmetric (a role contest "
            "needs two roles on two teams)",
        ),
    }  # fmt: skip


def test_one_role_entrants_and_bad_contests_are_one_line_errors(tmp_path: Path) -> None:
    for case, (body, message) in one_role_cases(tmp_path).items():
        path = tmp_path / "t.toml"
        path.write_text(body)
        db = tmp_path / f"{len(case)}.db"
        with pytest.raises(ArenaError) as info:
            run_tournament(path, db_url=f"sqlite:///{db}")
        error = str(info.value)
        assert error.startswith(f"{path}: {message}"), (case, error)
        assert "\n" not in error and not db.exists(), case


def test_same_name_and_version_with_other_content_is_refused(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(RANDOM_A, copy)
    (copy / "moves.py").write_text((copy / "moves.py").read_text() + "\n# changed\n")
    path = write(tmp_path, "", (RANDOM_A, copy))
    with pytest.raises(ArenaError) as info:
        run_tournament(path, db_url=f"sqlite:///{tmp_path / 'a.db'}")
    from arena.sources import resolve_agent

    a, b = (
        resolve_agent(str(RANDOM_A)).info.content_hash,
        resolve_agent(str(copy)).info.content_hash,
    )
    assert str(info.value) == (
        f"{path}: entrants[2]: '{copy}' is tag-random-a@1.0.0 ({b[:8]}) like entrants[1] "
        f"({a[:8]}), with other content; give one of them another version"
    )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"env_id": "nosuch"}, "unknown env 'nosuch' (see arena envs)"),
        ({"tournament": "x"}, "unknown tournament 'x' (run 'arena leaderboard' for all ratings)"),
        ({"env_id": TAG, "role": "x"}, f"env '{TAG}' has roles adversary, agent; got 'x'"),
        (
            {"env_id": "connect_four_v3", "role": "player"},
            "env 'connect_four_v3' has no role ratings (it is not role-asymmetric); got 'player'",
        ),
        ({"role": "x"}, "no role-asymmetric env has role 'x'"),
    ],
)
def test_unknown_env_tournament_and_role_are_errors(kw: dict[str, str], message: str) -> None:
    with pytest.raises(ArenaError) as info:
        leaderboard(connect("sqlite://"), **kw)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_symmetric_tournaments_keep_their_keys_and_seeds(tmp_path: Path) -> None:
    from arena.series import game_seed

    url = f"sqlite:///{tmp_path / 'a.db'}"
    path = tmp_path / "c4.toml"
    path.write_text(
        '[tournament]\nname = "c4"\nenv = "connect_four_v3"\nseed = 3\n'
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "one-ply"\n'
    )
    run_tournament(path, db_url=url)
    stored = matches(url)
    assert [(x.game_key, x.seed) for x in stored] == [
        ("p0-g0", game_seed(3, 1, 0, 0)),
        ("p0-g1", game_seed(3, 1, 0, 0)),
    ]
    assert all(x.rated and x.duplicate_id is None for x in stored)
    assert {r.role for r in leaderboard(connect(url), env_id="connect_four_v3")} == {""}
