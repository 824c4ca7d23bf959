"""Duplicate scoring of role-asymmetric envs: the comparison, the series plan, the recorder."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from arena.errors import ArenaError
from arena.rating import Contest, PairSeat, asymmetric, compare_pair, contest_seats
from arena.registry import get_env
from arena.series import game_seed, play_series, series_plan, swaps_roles
from arena.sources import resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import Recorder
from tournaments.duplicates import Duplicates, parent_key
from tournaments.formats import GameSpec

A, B, BG = 1, 2, 3  # agent versions


def tag(
    hunter: int, hunted: int, caught: float, prey_return: float, **forfeit: bool
) -> list[PairSeat]:
    """The seats of one simple_tag match: ``hunter``'s three predators, ``hunted``'s prey."""
    predators = PairSeat(hunter, "adversary", 0, caught, forfeit.get("predators", False))
    return [predators] * 3 + [PairSeat(hunted, "agent", 1, prey_return, forfeit.get("prey", False))]


def test_each_role_is_won_by_the_higher_team_score_and_the_points_decide_overall() -> None:
    # A's predators catch 3 times, B's once; B's prey is caught once, A's prey 3 times.
    first, second = tag(A, B, 30.0, -10.0), tag(B, A, 10.0, -30.0)
    assert compare_pair(first, second) == [
        Contest("adversary", A, B, 1.0),
        Contest("agent", B, A, 1.0),
        Contest("", A, B, 0.5),  # one role each: level
    ]
    first, second = tag(A, B, 30.0, -30.0), tag(B, A, 10.0, -10.0)
    assert compare_pair(first, second) == [
        Contest("adversary", A, B, 1.0),
        Contest("agent", B, A, 0.0),
        Contest("", A, B, 1.0),
    ]
    # No catch on either side: the predators draw; A's prey strayed less (1.5 points to 0.5).
    assert compare_pair(tag(A, B, 0.0, -5.0), tag(B, A, 0.0, -4.0)) == [
        Contest("adversary", A, B, 0.5),
        Contest("agent", B, A, 0.0),
        Contest("", A, B, 1.0),
    ]


def test_a_forfeit_loses_every_contest_and_two_forfeits_draw() -> None:
    forfeited = compare_pair(tag(A, B, 30.0, -10.0, predators=True), tag(B, A, 0.0, -90.0))
    assert forfeited == [
        Contest("adversary", A, B, 0.0),
        Contest("agent", B, A, 1.0),
        Contest("", A, B, 0.0),
    ]
    both = compare_pair(tag(A, B, 0.0, 0.0, predators=True), tag(B, A, 0.0, 0.0, predators=True))
    assert [c.score_a for c in both] == [0.5, 0.5, 0.5]


def test_a_background_agent_is_not_compared_and_gives_no_overall() -> None:
    # A role contest: A's and B's predators against the same background prey.
    assert compare_pair(tag(A, BG, 20.0, -20.0), tag(B, BG, 40.0, -40.0)) == [
        Contest("adversary", A, B, 0.0)
    ]
    # The background forfeits in one match: both scores are spoilt, a draw.
    spoilt = compare_pair(tag(A, BG, 20.0, -20.0, prey=True), tag(B, BG, 40.0, -40.0))
    assert spoilt == [Contest("adversary", A, B, 0.5)]
    assert compare_pair(tag(A, A, 0.0, 0.0), tag(A, A, 0.0, 0.0)) == []  # self-play


def test_contest_seats_are_a_one_vs_one_match() -> None:
    assert contest_seats(Contest("agent", A, B, 1.0)) == [(A, 0, 1), (B, 1, 2)]
    assert contest_seats(Contest("agent", A, B, 0.5)) == [(A, 0, 1), (B, 1, 1)]
    assert contest_seats(Contest("agent", A, B, 0.0)) == [(A, 0, 2), (B, 1, 1)]


@pytest.mark.parametrize(
    ("env_id", "expected"),
    [
        ("simple_tag_v3", True),
        ("simple_adversary_v3", True),
        ("simple_push_v3", True),
        ("simple_crypto_v3", True),
        ("simple_world_comm_v3", True),
        ("connect_four_v3", False),  # one role
        ("simple_speaker_listener_v4", False),  # one team
        ("hanabi_v5", False),
    ],
)
def test_asymmetric_envs(env_id: str, expected: bool) -> None:
    spec = get_env(env_id)
    assert asymmetric((side.role, side.team) for side in spec.sides) is expected


def test_series_plan_swaps_roles_in_pairs_sharing_a_seed() -> None:
    spec = get_env("simple_tag_v3")
    plan = series_plan(spec, 2, 7, 5, swap_roles=True)
    assert [g.order for g in plan] == [[0, 1], [1, 0], [0, 1], [1, 0], [0, 1]]
    assert [g.seed for g in plan] == [game_seed(7, k) for k in (0, 0, 1, 1, 2)]
    assert [g.pair for g in plan] == [1, 0, 3, 2, None]
    fixed = series_plan(spec, 2, 7, 3)
    assert [g.order for g in fixed] == [[0, 1]] * 3
    assert [g.seed for g in fixed] == [game_seed(7, k) for k in range(3)]
    assert {g.pair for g in fixed} == {None}


def test_symmetric_series_plan_is_unchanged_by_swap_roles() -> None:
    spec = get_env("connect_four_v3")
    for swap in (False, True):
        plan = series_plan(spec, 2, 3, 4, swap_roles=swap)
        assert [g.order for g in plan] == [[0, 1], [1, 0], [0, 1], [1, 0]]
        assert [g.seed for g in plan] == [game_seed(3, k) for k in (0, 0, 1, 1)]
        assert {g.pair for g in plan} == {None}


def test_swaps_roles_only_when_both_fill_every_role() -> None:
    spec = get_env("simple_tag_v3")
    chaser, prey_only = resolve_agent("tag-chaser"), resolve_agent("tests/packages/tag-prey-only")
    assert swaps_roles(spec, [chaser, resolve_agent("random")])
    assert not swaps_roles(spec, [chaser, prey_only])
    assert not swaps_roles(get_env("connect_four_v3"), [chaser, chaser])


def test_an_unpaired_asymmetric_match_is_stored_but_not_rated() -> None:
    engine = connect("sqlite://")
    spec = get_env("simple_tag_v3")
    sources = [resolve_agent("tag-chaser"), resolve_agent("random")]
    [result] = play_series(spec, sources, games=1, seed=0)
    match_id = Recorder(engine).record(result)
    with session_factory(engine)() as s:
        match = s.get_one(m.Match, match_id)
        assert (match.rated, match.duplicate_id) == (False, None)
        assert s.scalars(select(m.Rating)).all() == []


def test_a_mirrored_pair_outside_a_run_is_rated_per_role_and_overall() -> None:
    engine = connect("sqlite://")
    spec = get_env("simple_tag_v3")
    sources = [resolve_agent("tag-chaser"), resolve_agent("random")]
    recorder = Recorder(engine)
    ids: list[int | None] = []
    results = play_series(
        spec,
        sources,
        games=3,
        seed=4,
        swap_roles=True,
        on_result=lambda r: ids.append(recorder.record(r)),
    )
    labels = [r.labels for r in results]
    assert labels == [["tag-chaser", "random"], ["random", "tag-chaser"], ["tag-chaser", "random"]]
    with session_factory(engine)() as s:
        matches = s.scalars(select(m.Match).order_by(m.Match.id)).all()
        assert [(x.rated, x.duplicate_id) for x in matches] == [
            (True, ids[0]), (True, ids[0]), (False, None)  # the third waits for its pair
        ]  # fmt: skip
        rows = s.scalars(select(m.Rating)).all()
        assert sorted((r.agent_version.agent.name, r.role, r.games) for r in rows) == [
            ("random", "", 1), ("random", "adversary", 1), ("random", "agent", 1),
            ("tag-chaser", "", 1), ("tag-chaser", "adversary", 1), ("tag-chaser", "agent", 1),
        ]  # fmt: skip
        history = s.scalars(select(m.RatingHistory)).all()
        assert len(history) == 6 and {h.match_id for h in history} == {ids[1]}
        # the chaser's predators outscore the random ones on the same seed
        chaser_adv = next(
            r for r in rows if r.role == "adversary" and r.agent_version.agent.name == "tag-chaser"
        )
        assert chaser_adv.wins == 1 and chaser_adv.mu > 25


def test_duplicates_expand_a_game_into_a_mirrored_pair_with_its_own_seed() -> None:
    duplicates = Duplicates(get_env("simple_tag_v3"))
    g0 = GameSpec(key="p0-g0", round=1, entrants=(0, 1), seed_keys=(0, 0))
    g1 = GameSpec(key="p0-g1", round=1, entrants=(1, 0), seed_keys=(0, 0))
    assert [(s.key, s.agents, s.pair_key) for s in duplicates.expand(g0)] == [
        ("p0-g0/d0", (0, 1), "p0-g0/d1"),
        ("p0-g0/d1", (1, 0), "p0-g0/d0"),
    ]
    assert duplicates.seed(5, 1, g0) != duplicates.seed(5, 1, g1)  # g1 is not g0 replayed
    assert duplicates.seed(5, 1, g0) == duplicates.seed(5, 1, g0)
    assert parent_key("p0-g0/d1") == "p0-g0"


def test_a_role_contest_plays_every_background_set() -> None:
    duplicates = Duplicates(get_env("simple_tag_v3"), "adversary", {"agent": [0, 1]})
    game = GameSpec(key="r1-p0-g0", round=1, entrants=(2, 0), seed_keys=(1, 0, 0))
    assert [(s.key, s.agents, s.pair_key) for s in duplicates.expand(game)] == [
        ("r1-p0-g0/b0-0", (2, -1), "r1-p0-g0/b0-1"),
        ("r1-p0-g0/b0-1", (0, -1), "r1-p0-g0/b0-0"),
        ("r1-p0-g0/b1-0", (2, -2), "r1-p0-g0/b1-1"),
        ("r1-p0-g0/b1-1", (0, -2), "r1-p0-g0/b1-0"),
    ]


def test_a_game_result_waits_for_all_its_matches_then_sums_role_points() -> None:
    duplicates = Duplicates(get_env("simple_tag_v3"))
    d0 = ((0, 1), tag(0, 1, 30.0, -10.0))  # entrant 0's predators catch 3, 1's prey strays
    d1 = ((1, 0), tag(1, 0, 10.0, -30.0))  # entrant 1's catch 1, 0's prey strays more
    assert duplicates.result("p0-g0", {"d0": d0}) is None
    result = duplicates.result("p0-g0", {"d0": d0, "d1": d1})
    assert result is not None
    assert (result.spec.entrants, result.ranks) == ((0, 1), (1, 1))  # one role each
    d1_weak = ((1, 0), tag(1, 0, 0.0, -5.0))  # now 0's prey does better too
    result = duplicates.result("p0-g0", {"d0": d0, "d1": d1_weak})
    assert result is not None and result.ranks == (1, 2)


def test_duplicate_scoring_refuses_envs_it_cannot_pair() -> None:
    with pytest.raises(ArenaError) as info:
        Duplicates(get_env("connect_four_v3"))
    assert str(info.value) == (
        "env 'connect_four_v3': duplicate scoring needs two sides, one per role, on two "
        "teams; it has 2 side(s) in 2 team(s)"
    )


def test_upgrade_keeps_stored_ratings_as_overall_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from alembic.config import Config

    from arena.storage.db import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0003")
    old = connect(url, migrate=False)
    with old.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agents (id, name, kind, created_at) VALUES (1, 'a', 'x', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO agent_versions (id, agent_id, version, content_hash, kind, "
                "learning_type, source, created_at) "
                "VALUES (1, 1, '1', 'h', 'x', '', 'builtin', '2026-01-01')"
            )
        )
        conn.execute(text(
            "INSERT INTO ratings (agent_version_id, env_id, mu, sigma, games, wins, draws, losses, "
            "forfeits, updated_at) VALUES (1, 'simple_tag_v3', 30, 2, 9, 9, 0, 0, 0, '2026-01-01')"
        ))  # fmt: skip
    old.dispose()
    engine = connect(url)
    with session_factory(engine).begin() as s:
        [row] = s.scalars(select(m.Rating)).all()
        assert (row.role, row.mu, row.games) == ("", 30.0, 9)
        s.add(m.Rating(agent_version_id=1, env_id="simple_tag_v3", role="adversary", mu=25.0,
                       sigma=8.0))  # fmt: skip
    with session_factory(engine)() as s:
        assert sorted(r.role for r in s.scalars(select(m.Rating))) == ["", "adversary"]
