"""Tests for `tournaments.formats`: pure pairing logic, no database and no env.

SPRT golden values: the log-likelihood ratios come from the "logistic trinomial" cases of
fastchess's SPRT test suite (github.com/Disservin/fastchess, ``tests/sprt_test.cpp``,
``Stats(wins, losses, draws)``, expected to 1%), which implement fishtest's
``LLR_logistic``; the bounds are fishtest's ``log(beta / (1 - alpha))`` and
``log((1 - beta) / alpha)``, +-2.944 for alpha = beta = 0.05.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.errors import ArenaError
from arena.rating import Rating, RatingSystem
from arena.series import game_seed
from tournaments.formats import (
    FORMATS,
    Entrant,
    Format,
    FreeForAll,
    GameResult,
    GameSpec,
    Gauntlet,
    Knockout,
    Ladder,
    RoundRobin,
    Swiss,
    make_format,
    sprt_bounds,
    sprt_llr,
)
from tournaments.formats.knockout import MAX_TIEBREAKS, bracket_order
from tournaments.formats.sprt import SprtConfig


def round_robin(n_entrants: int, games_per_pairing: int, *, seed: int, run: int) -> list[Any]:
    """The first release's round-robin planner, kept as the oracle: runs stored
    by it must resume under the format with the same keys, seats and seeds."""
    from itertools import combinations
    from types import SimpleNamespace

    from arena.series import game_seed

    pairs = list(combinations(range(n_entrants), 2))
    return [
        SimpleNamespace(
            key=f"p{index}-g{game}",
            entrants=(a, b) if game % 2 == 0 else (b, a),
            seed=game_seed(seed, run, index, game // 2),
        )
        for game in range(games_per_pairing)
        for index, (a, b) in enumerate(pairs)
    ]


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Outcome = Callable[[GameSpec], tuple[int, ...]]


def field(n: int, seed: int = 0) -> list[Entrant]:
    rng = random.Random(seed)
    return [Entrant(i, f"agent-{i}", rng.uniform(15, 35), rng.uniform(1, 8)) for i in range(n)]


def rated(mus: Sequence[float], sigma: float = 1.0) -> list[Entrant]:
    return [Entrant(i, f"agent-{i}", mu, sigma) for i, mu in enumerate(mus)]


def random_outcome(seed: int, draws: bool = True) -> Outcome:
    rng = random.Random(seed)

    def outcome(spec: GameSpec) -> tuple[int, ...]:
        if len(spec.entrants) == 2:
            choices = [(1, 2), (2, 1), (1, 1)] if draws else [(1, 2), (2, 1)]
            return rng.choice(choices)
        return tuple(rng.randint(1, len(spec.entrants)) for _ in spec.entrants)

    return outcome


def stronger_wins(entrants: Sequence[Entrant]) -> Outcome:
    """The entrant with the higher mu wins (the earlier one on equal mu)."""

    def outcome(spec: GameSpec) -> tuple[int, ...]:
        a, b = spec.entrants
        ka, kb = (entrants[a].mu, -a), (entrants[b].mu, -b)
        return (1, 2) if ka > kb else (2, 1)

    return outcome


def play_out(
    fmt: Format,
    entrants: list[Entrant],
    outcome: Outcome,
    *,
    update_ratings: bool = False,
    max_batches: int = 2000,
) -> tuple[list[GameResult], list[list[GameSpec]]]:
    """Runs a format to the end like the runner would; checks the batch contract."""
    history: list[GameResult] = []
    batches: list[list[GameSpec]] = []
    ratings = RatingSystem()
    seen_keys: dict[str, GameSpec] = {}
    while True:
        batch = fmt.next_games(entrants, history)
        if batch is None:
            assert fmt.next_games(entrants, history) is None
            return history, batches
        assert len(batches) < max_batches
        stored = {r.spec.key for r in history}
        assert any(g.key not in stored for g in batch), "a batch must hold a new game"
        assert len({g.key for g in batch}) == len(batch)
        # Deterministic and independent of the order of the history.
        shuffled = list(history)
        random.Random(len(batches)).shuffle(shuffled)
        assert fmt.next_games(entrants, shuffled) == batch
        for game in batch:
            if seen_keys.setdefault(game.key, game) != game:
                raise AssertionError(f"key {game.key} planned twice differently")
        batches.append(batch)
        for game in batch:
            if game.key in stored:
                continue
            ranks = outcome(game)
            history.append(GameResult(game, ranks))
            if update_ratings and len(game.entrants) == 2:
                a, b = game.entrants
                ra, rb = (Rating(entrants[i].mu, entrants[i].sigma) for i in (a, b))
                if ranks[0] == ranks[1]:
                    na, nb = ratings.rate_1vs1(ra, rb, drawn=True)
                elif ranks[0] < ranks[1]:
                    na, nb = ratings.rate_1vs1(ra, rb)
                else:
                    nb, na = ratings.rate_1vs1(rb, ra)
                entrants[a] = Entrant(a, entrants[a].label, na.mu, na.sigma)
                entrants[b] = Entrant(b, entrants[b].label, nb.mu, nb.sigma)


def seed_keys_are_paired(games: Sequence[GameSpec]) -> None:
    """Games 2k and 2k+1 of a pairing share seed keys and swap seats."""
    by_seed: dict[tuple[int, ...], list[GameSpec]] = {}
    for game in {g.key: g for g in games}.values():  # batches may list a game again
        by_seed.setdefault(game.seed_keys, []).append(game)
    for pair in by_seed.values():
        assert len(pair) <= 2
        if len(pair) == 2:
            assert pair[0].entrants == pair[1].entrants[::-1]


# ------------------------------------------------------------------- registry, options


def test_registry_names_every_format() -> None:
    assert set(FORMATS) == {
        "round-robin",
        "gauntlet",
        "swiss",
        "knockout",
        "ladder",
        "free-for-all",
    }
    for name, cls in FORMATS.items():
        fmt = make_format(name)
        assert isinstance(fmt, cls)
        assert isinstance(fmt, Format)
        assert fmt.name == name


def test_make_format_passes_options_and_skips_none() -> None:
    fmt = make_format("swiss", {"rounds": 3, "games_per_pairing": 1, "challenger": None})
    assert isinstance(fmt, Swiss)
    assert (fmt.rounds, fmt.games_per_pairing) == (3, 1)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("swis", {}, "[tournament].format: unknown format 'swis'"),
        ("round-robin", {"rounds": 3}, "[tournament].rounds: not used by format 'round-robin'"),
        ("knockout", {"challenger": 1}, "[tournament].challenger: not used by format"),
        ("swiss", {"colour": 1}, "[tournament].colour: unknown format option"),
        ("swiss", {"rounds": 0}, "[tournament].rounds: expected an integer >= 1, got 0"),
        ("swiss", {"rounds": True}, "[tournament].rounds: expected an integer >= 1"),
        ("round-robin", {"games_per_pairing": 0}, "[tournament].games_per_pairing"),
        ("gauntlet", {"challenger": -1}, "[tournament].challenger: expected an integer >= 0"),
        ("ladder", {"sigma_threshold": 0}, "[tournament].sigma_threshold: expected a positive"),
        ("free-for-all", {"group_size": 1}, "[tournament].group_size: expected an integer >= 2"),
        ("round-robin", {"sprt": "yes"}, "[tournament].sprt: expected true or a table"),
        ("round-robin", {"sprt": {"elo2": 1}}, "[tournament].sprt.elo2: unknown key"),
        ("round-robin", {"sprt": {"elo0": 5, "elo1": 5}}, "[tournament].sprt.elo1: must be"),
        ("round-robin", {"sprt": {"alpha": 0.6}}, "[tournament].sprt.alpha: expected an error"),
        ("round-robin", {"sprt": {"beta": "x"}}, "[tournament].sprt.beta: expected a number"),
    ],
)
def test_bad_options_name_the_key(name: str, options: dict[str, object], message: str) -> None:
    with pytest.raises(ArenaError, match="^" + re.escape(message)):
        make_format(name, options)


@pytest.mark.parametrize(
    ("fmt", "n", "message"),
    [
        (RoundRobin(), 1, "[[entrants]]: format 'round-robin' needs at least 2"),
        (Gauntlet(challenger=3), 3, "[tournament].challenger: entrant 3 does not exist"),
        (RoundRobin(sprt=True), 3, "[tournament].sprt: an SPRT head-to-head needs exactly two"),
        (FreeForAll(group_size=4), 10, "[tournament].group_size: 10 entrants do not split"),
        (FreeForAll(group_size=4), 3, "[tournament].group_size: 4 is more than the 3"),
    ],
)
def test_field_size_errors(fmt: Format, n: int, message: str) -> None:
    with pytest.raises(ArenaError) as info:
        fmt.check(n)
    assert str(info.value).startswith(message)
    with pytest.raises(ArenaError):
        fmt.next_games(field(n), [])


def test_entrants_must_be_in_file_order() -> None:
    with pytest.raises(ValueError, match="file order"):
        RoundRobin().next_games(list(reversed(field(3))), [])


def test_players_per_game() -> None:
    assert Swiss().players_per_game(7) == 2
    assert FreeForAll().players_per_game(7) == 7
    assert FreeForAll(group_size=3).players_per_game(9) == 3


def test_foreign_history_key_is_refused() -> None:
    spec = GameSpec("p0-g0", 1, (0, 1), (0, 0))
    with pytest.raises(ArenaError, match="not a swiss key"):
        Swiss().next_games(field(4), [GameResult(spec, (1, 2))])


# ----------------------------------------------------------------------- round-robin


@given(
    n=st.integers(2, 8),
    games=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
    run=st.integers(1, 50),
)
@PROPERTY
def test_round_robin_matches_todays_plan(n: int, games: int, seed: int, run: int) -> None:
    fmt = make_format("round-robin", {"games_per_pairing": games})
    batch = fmt.next_games(field(n), [])
    assert batch is not None
    today = round_robin(n, games, seed=seed, run=run)
    assert [(g.key, g.entrants, game_seed(seed, run, *g.seed_keys)) for g in batch] == [
        (p.key, p.entrants, p.seed) for p in today
    ]
    assert {g.round for g in batch} == {1}


def test_round_robin_is_one_batch_and_resumes() -> None:
    fmt = RoundRobin(games_per_pairing=2)
    entrants = field(4)
    plan = fmt.next_games(entrants, [])
    assert plan is not None and len(plan) == 12
    half = [GameResult(g, (1, 2)) for g in plan[:5]]
    assert fmt.next_games(entrants, half) == plan  # the whole batch again; stored keys skipped
    history, batches = play_out(fmt, entrants, random_outcome(0))
    assert len(batches) == 1 and len(history) == 12
    pairs = Counter(frozenset(r.spec.entrants) for r in history)
    assert set(pairs) == {frozenset(p) for p in combinations(range(4), 2)}
    assert set(pairs.values()) == {2}
    seed_keys_are_paired(plan)


# -------------------------------------------------------------------------- gauntlet


@given(n=st.integers(2, 9), games=st.integers(1, 4), data=st.data())
@PROPERTY
def test_gauntlet_challenger_meets_everyone(n: int, games: int, data: st.DataObject) -> None:
    challenger = data.draw(st.integers(0, n - 1))
    fmt = make_format("gauntlet", {"challenger": challenger, "games_per_pairing": games})
    _history, batches = play_out(fmt, field(n), random_outcome(n))
    assert len(batches) == 1
    plan = batches[0]
    assert len(plan) == (n - 1) * games
    assert all(challenger in g.entrants for g in plan)
    opponents = Counter(next(e for e in g.entrants if e != challenger) for g in plan)
    assert opponents == dict.fromkeys(set(range(n)) - {challenger}, games)
    for game in plan:
        g = int(game.key.rsplit("-g", 1)[1])
        assert (game.entrants[0] == challenger) == (g % 2 == 0)
    seed_keys_are_paired(plan)


# ----------------------------------------------------------------------------- swiss


def _can_pair(players: list[int], met: set[frozenset[int]]) -> bool:
    if not players:
        return True
    top, rest = players[0], players[1:]
    return any(
        frozenset((top, o)) not in met and _can_pair([p for p in rest if p != o], met) for o in rest
    )


def _avoidable(ids: list[int], met: set[frozenset[int]], byes: Counter[int]) -> bool:
    """Could this round be paired without a rematch (byes only to fewest-bye entrants)?"""
    if len(ids) % 2 == 0:
        return _can_pair(ids, met)
    fewest = min(byes[e] for e in ids)
    return any(_can_pair([e for e in ids if e != bye], met) for bye in ids if byes[bye] == fewest)


@given(
    n=st.integers(2, 11),
    games=st.integers(1, 3),
    rounds=st.integers(1, 7),
    seed=st.integers(0, 10_000),
)
@PROPERTY
def test_swiss_invariants(n: int, games: int, rounds: int, seed: int) -> None:
    entrants = field(n, seed)
    fmt = Swiss(games_per_pairing=games, rounds=rounds)
    history, batches = play_out(fmt, entrants, random_outcome(seed))
    assert len(batches) == rounds
    met: set[frozenset[int]] = set()
    byes: Counter[int] = Counter()
    balance: Counter[int] = Counter()
    for round_, batch in enumerate(batches, start=1):
        assert {g.round for g in batch} == {round_}
        boards: dict[str, tuple[int, int]] = {}
        for game in batch:
            board = game.key.rsplit("-g", 1)[0]
            g = int(game.key.rsplit("-g", 1)[1])
            a, b = game.entrants
            boards.setdefault(board, (a, b) if g % 2 == 0 else (b, a))
        playing = [e for pair in boards.values() for e in pair]
        assert len(playing) == len(set(playing)), "an entrant plays twice in a round"
        sitting = set(range(n)) - set(playing)
        assert len(sitting) == n % 2
        pairs = {frozenset(p) for p in boards.values()}
        if pairs & met:
            assert not _avoidable(list(range(n)), met, byes), "avoidable rematch"
        for first, second in boards.values():
            # Side 0 of the first game goes to whoever sat first less often so far.
            assert balance[first] <= balance[second]
        if rounds <= n:
            assert all(byes[e] == 0 for e in sitting), "second bye while avoidable"
        byes.update(sitting)
        met |= pairs
        for game in batch:
            balance[game.entrants[0]] += 1
            balance[game.entrants[1]] -= 1
    assert sum(balance.values()) == 0
    if games % 2 == 0:
        assert set(balance.values()) <= {0}
    if rounds <= n:
        assert max(byes.values(), default=0) <= 1
    seed_keys_are_paired([g for batch in batches for g in batch])
    # Scores: game points plus games_per_pairing per bye; all points are accounted for.
    standings = dict(fmt.standings(entrants, history))
    assert sum(standings.values()) == pytest.approx(len(history) + games * sum(byes.values()))


def test_swiss_round_one_is_seeded_by_conservative_rating() -> None:
    # Conservative ratings (mu - 3 sigma) order: 3, 1, 0, 2 (sigma matters, not just mu).
    entrants = [
        Entrant(0, "a", 30.0, 5.0),  # 15
        Entrant(1, "b", 25.0, 2.0),  # 19
        Entrant(2, "c", 40.0, 9.0),  # 13
        Entrant(3, "d", 22.0, 0.5),  # 20.5
    ]
    batch = Swiss(games_per_pairing=2).next_games(entrants, [])
    assert batch is not None
    boards = {g.key: g.entrants for g in batch if g.key.endswith("-g0")}
    # Fold: seed 1 v seed 3, seed 2 v seed 4; board 0 is the top pairing.
    assert boards == {"r1-p0-g0": (3, 0), "r1-p1-g0": (1, 2)}


def test_swiss_pairs_equal_scores_and_bye_goes_to_the_lowest() -> None:
    entrants = rated([30, 29, 28, 27, 26])
    fmt = Swiss(games_per_pairing=1, rounds=2)
    first = fmt.next_games(entrants, [])
    assert first is not None
    assert [g.entrants for g in first] == [(0, 2), (1, 3)]  # 4 sits out: the lowest seed
    history = [GameResult(g, (1, 2)) for g in first]  # 0 and 1 win
    second = fmt.next_games(entrants, history)
    assert second is not None
    pairs = [frozenset(g.entrants) for g in second]
    # Scores: 0, 1 and 4 (bye) have 1 point; 2 and 3 have 0. 4 has had its bye, so the
    # bye goes to 3 (lowest without one); 0 meets 1 and 4 floats down to 2.
    assert pairs == [frozenset((0, 1)), frozenset((4, 2))]
    assert fmt.next_games(entrants, history + [GameResult(g, (1, 1)) for g in second]) is None


@pytest.mark.parametrize("seed", range(5))
def test_swiss_falls_back_to_the_least_recent_rematch(seed: int) -> None:
    # Four entrants have three rematch-free rounds; the fourth must repeat one.
    fmt = Swiss(games_per_pairing=1, rounds=4)
    _, batches = play_out(fmt, rated([30, 29, 28, 27]), random_outcome(seed, draws=False))
    rounds = [{frozenset(g.entrants) for g in batch} for batch in batches]
    assert len(set().union(*rounds[:3])) == 6  # no rematch while avoidable
    assert rounds[3] == rounds[0]  # then the least recently met opponents


def test_swiss_resume_keeps_stored_pairings_when_ratings_change() -> None:
    entrants = field(8, 5)
    fmt = Swiss(games_per_pairing=2, rounds=3)
    first = fmt.next_games(entrants, [])
    assert first is not None
    played = [GameResult(g, (1, 2)) for g in first if g.key.startswith("r1-p0-")]
    assert len(played) == 2
    # Ratings move a lot before the run resumes.
    moved = [Entrant(e.index, e.label, 50 - e.mu, e.sigma) for e in entrants]
    again = fmt.next_games(moved, played)
    assert again is not None
    assert [g for g in again if g.key.startswith("r1-p0-")] == [r.spec for r in played]
    assert len({e for g in again for e in g.entrants}) == 8


# -------------------------------------------------------------------------- knockout


def test_bracket_order() -> None:
    assert bracket_order(2) == [1, 2]
    assert bracket_order(4) == [1, 4, 2, 3]
    assert bracket_order(8) == [1, 8, 4, 5, 2, 7, 3, 6]
    for size in (16, 32, 64):
        order = bracket_order(size)
        assert sorted(order) == list(range(1, size + 1))
        assert all(order[i] + order[i + 1] == size + 1 for i in range(0, size, 2))


@given(n=st.integers(2, 33), games=st.integers(1, 3), seed=st.integers(0, 10_000))
@PROPERTY
def test_knockout_bracket_shape(n: int, games: int, seed: int) -> None:
    entrants = field(n, seed)
    fmt = Knockout(games_per_pairing=games)
    size = 2 ** math.ceil(math.log2(n))
    first = fmt.next_games(entrants, [])
    assert first is not None
    assert len(first) == (n - size // 2) * games  # every non-bye line plays, no tie-breaks
    in_round_one = {e for g in first for e in g.entrants}
    ranked = sorted(range(n), key=lambda i: (-entrants[i].score, i))
    assert set(range(n)) - in_round_one == set(ranked[: size - n])  # byes to top seeds
    history, batches = play_out(fmt, entrants, random_outcome(seed))
    rounds = sorted({g.round for batch in batches for g in batch})
    assert rounds == list(range(1, math.ceil(math.log2(n)) + 1))
    champion = fmt.champion(entrants, history)
    assert champion is not None
    final = [r for r in history if r.spec.round == rounds[-1]]
    assert {e for r in final for e in r.spec.entrants} >= {champion}
    # Everyone but the champion is knocked out exactly once: n - 1 ties.
    ties = {r.spec.key.split("-g")[0].split("-tb")[0] for r in history}
    assert len(ties) == n - 1
    seed_keys_are_paired([g for batch in batches for g in batch])


def test_knockout_tie_break_games_appear_until_decided() -> None:
    entrants = rated([30, 20])
    fmt = Knockout(games_per_pairing=2)
    first = fmt.next_games(entrants, [])
    assert first is not None
    assert [g.key for g in first] == ["r1-p0-g0", "r1-p0-g1"]
    assert first[0].entrants == (0, 1)  # higher seed on side 0 first
    split = [GameResult(first[0], (1, 2)), GameResult(first[1], (1, 2))]  # one win each
    tied = fmt.next_games(entrants, split)
    assert tied is not None
    assert [g.key for g in tied] == ["r1-p0-g0", "r1-p0-g1", "r1-p0-tb1-g0", "r1-p0-tb1-g1"]
    tb = tied[2:]
    assert tb[0].entrants == (0, 1) and tb[1].entrants == (1, 0)
    assert tb[0].seed_keys == tb[1].seed_keys != first[0].seed_keys
    # The lower seed wins the tie-break 1.5-0.5.
    decided = [*split, GameResult(tb[0], (1, 1)), GameResult(tb[1], (1, 2))]
    assert fmt.next_games(entrants, decided) is None
    assert fmt.champion(entrants, decided) == 1


def test_knockout_drawn_tie_breaks_stop_at_the_cap() -> None:
    entrants = rated([20, 30])  # entrant 1 is the higher seed
    fmt = Knockout(games_per_pairing=1)
    history, batches = play_out(fmt, entrants, lambda spec: (1, 1))
    assert len(batches) == 1 + MAX_TIEBREAKS
    assert sum("-tb" in r.spec.key for r in history) == 2 * MAX_TIEBREAKS
    assert fmt.champion(entrants, history) == 1


def test_knockout_resume_keeps_the_bracket_when_ratings_change() -> None:
    entrants = field(6, 2)
    fmt = Knockout(games_per_pairing=1)
    original = fmt.bracket(entrants, []).seeds
    first = fmt.next_games(entrants, [])
    assert first is not None and len(first) == 2
    round_one = [GameResult(g, (1, 2)) for g in first]
    # Ratings reverse after round 1 (byes included): the bracket must not move.
    reversed_ = [Entrant(e.index, e.label, 60 - e.mu, e.sigma) for e in entrants]
    assert fmt.bracket(reversed_, round_one[:1]).seeds == original
    assert fmt.bracket(reversed_, round_one).seeds == original
    second = fmt.next_games(reversed_, round_one)
    assert second == fmt.next_games(entrants, round_one)
    assert second is not None
    round_two = [GameResult(g, (2, 1)) for g in second]
    assert fmt.bracket(reversed_, round_one + round_two).seeds == original


# ---------------------------------------------------------------------------- ladder


def test_ladder_pairs_by_quality_and_avoids_repeats() -> None:
    entrants = rated([20.0, 20.5, 30.0, 30.5])
    fmt = Ladder(games_per_pairing=2, rounds=2)
    first = fmt.next_games(entrants, [])
    assert first is not None
    boards = [g.entrants for g in first if g.key.endswith("-g0")]
    assert [set(b) for b in boards] == [{0, 1}, {2, 3}]
    quality = [fmt.quality(entrants[a], entrants[b]) for a, b in boards]
    assert quality[0] >= quality[1]
    best = max(combinations(entrants, 2), key=lambda p: fmt.quality(*p))
    assert set(boards[0]) == {best[0].index, best[1].index}
    history = [GameResult(g, (1, 1)) for g in first]
    second = fmt.next_games(entrants, history)
    assert second is not None
    pairs = [frozenset(g.entrants) for g in second if g.key.endswith("-g0")]
    # No pairing of round 1 again; the best remaining quality pair (1, 2) comes first.
    assert pairs == [frozenset((1, 2)), frozenset((0, 3))]
    assert fmt.next_games(entrants, history + [GameResult(g, (1, 2)) for g in second]) is None


def test_ladder_two_entrants_rematch_every_round() -> None:
    history, batches = play_out(Ladder(rounds=3), rated([25, 26]), random_outcome(2))
    assert len(batches) == 3 and len(history) == 6


@given(n=st.integers(2, 9), rounds=st.integers(1, 5), seed=st.integers(0, 1000))
@PROPERTY
def test_ladder_stops_on_rounds_and_seats_everyone(n: int, rounds: int, seed: int) -> None:
    entrants = field(n, seed)
    fmt = Ladder(games_per_pairing=2, rounds=rounds)
    _history, batches = play_out(fmt, entrants, random_outcome(seed), update_ratings=True)
    assert len(batches) == rounds
    sat_out: Counter[int] = Counter()
    for batch in batches:
        playing = [e for g in batch if g.key.endswith("-g0") for e in g.entrants]
        assert len(playing) == len(set(playing)) == n - n % 2
        sat_out.update(set(range(n)) - set(playing))
    if n % 2:
        assert max(sat_out.values()) - min(sat_out[e] for e in range(n)) <= 1


def test_ladder_stops_on_sigma_threshold() -> None:
    fmt = Ladder(sigma_threshold=2.0)
    assert fmt.rounds is None
    assert fmt.next_games(rated([25, 26, 27], sigma=1.5), []) is None
    assert fmt.next_games(rated([25, 26, 27], sigma=3.0), []) is not None
    entrants = [Entrant(i, f"e{i}", 25.0, 25 / 3) for i in range(4)]
    _history, batches = play_out(
        fmt, entrants, stronger_wins(field(4)), update_ratings=True, max_batches=500
    )
    assert all(e.sigma < 2.0 for e in entrants)
    assert 1 < len(batches) < 500


def test_ladder_default_rounds() -> None:
    assert Ladder().rounds == 10


# ---------------------------------------------------------------------- free-for-all


@given(groups=st.integers(1, 4), size=st.integers(2, 6), seed=st.integers(0, 1000))
@PROPERTY
def test_free_for_all_groups_and_rotation(groups: int, size: int, seed: int) -> None:
    n = groups * size
    if n < 2:
        return
    entrants = field(n, seed)
    fmt = make_format("free-for-all", {"group_size": size, "games_per_pairing": 2 * size})
    _history, batches = play_out(fmt, entrants, random_outcome(seed))
    assert len(batches) == 1
    plan = batches[0]
    assert len(plan) == groups * 2 * size
    tables: dict[int, list[GameSpec]] = {}
    for game in plan:
        assert len(game.entrants) == size
        tables.setdefault(int(game.key.split("-")[1][1:]), []).append(game)
    assert sorted(tables) == list(range(groups))
    members = [set(games[0].entrants) for games in tables.values()]
    assert sorted(e for m in members for e in m) == list(range(n))  # everyone once
    for games in tables.values():
        games.sort(key=lambda g: int(g.key.rsplit("-g", 1)[1]))
        for g, game in enumerate(games):
            assert game.entrants == tuple(games[0].entrants[(i + g) % size] for i in range(size))
            assert game.seed_keys == (*games[0].seed_keys[:2], g // size)
        for seat in range(size):  # each full rotation puts everyone in every seat once
            assert len({games[g].entrants[seat] for g in range(size)}) == size
    # Snake draw: the top `groups` seeds sit at different tables.
    ranked = sorted(range(n), key=lambda i: (-entrants[i].score, i))
    top = ranked[:groups]
    assert len({next(t for t, m in enumerate(members) if e in m) for e in top}) == groups


def test_free_for_all_defaults_to_one_table_and_full_rotation() -> None:
    fmt = FreeForAll()
    plan = fmt.next_games(field(5), [])
    assert plan is not None
    assert len(plan) == 5 and {len(g.entrants) for g in plan} == {5}
    assert {g.seed_keys for g in plan} == {(1, 0, 0)}


def test_free_for_all_resume_keeps_a_started_group() -> None:
    entrants = field(8, 1)
    fmt = FreeForAll(group_size=4, games_per_pairing=4)
    plan = fmt.next_games(entrants, [])
    assert plan is not None
    started = [GameResult(g, (1, 2, 3, 4)) for g in plan if g.key == "r1-p1-g1"]
    moved = [Entrant(e.index, e.label, 60 - e.mu, e.sigma) for e in entrants]
    again = fmt.next_games(moved, started)
    assert again is not None
    assert [g for g in again if g.key.startswith("r1-p1-")] == [
        g for g in plan if g.key.startswith("r1-p1-")
    ]


# ------------------------------------------------------------------------------ SPRT


def test_sprt_bounds() -> None:
    lower, upper = sprt_bounds(0.05, 0.05)
    assert lower == pytest.approx(-2.944, abs=1e-3)
    assert upper == pytest.approx(2.944, abs=1e-3)
    assert sprt_bounds(0.05, 0.1) == pytest.approx((math.log(0.1 / 0.95), math.log(0.9 / 0.05)))


@pytest.mark.parametrize(
    ("wins", "losses", "draws", "elo0", "elo1", "llr"),
    [
        (21404, 21184, 40708, 0.5, 2.5, -1.57),  # fastchess "logistic trinomial 1"
        (57433, 57030, 106593, 0.0, 2.0, -2.59),  # fastchess "logistic trinomial 2"
    ],
)
def test_sprt_llr_known_values(
    wins: int, losses: int, draws: int, elo0: float, elo1: float, llr: float
) -> None:
    assert sprt_llr(wins, draws, losses, elo0, elo1) == pytest.approx(llr, rel=0.01)


def test_sprt_llr_against_the_normal_approximation() -> None:
    # Hand check with fishtest's LLR_alt2, N (s1 - s0)(2m - s0 - s1) / (2 v), for
    # 600 wins, 300 draws, 500 losses: N = 1400, m = 750 / 1400 = 0.535714,
    # v = (600 * 0.464286^2 + 300 * 0.035714^2 + 500 * 0.535714^2) / 1400 = 0.195153,
    # s0 = 0.5, s1 = 1 / (1 + 10^(-10/400)) = 0.514387, so
    # LLR ~ 1400 * 0.014387 * 0.057042 / 0.390306 = 2.944. The exact GSPRT agrees to 1%.
    assert sprt_llr(600, 300, 500, 0, 10) == pytest.approx(2.944, rel=0.01)


def test_sprt_llr_sign_and_symmetry() -> None:
    assert sprt_llr(0, 0, 0, 0, 10) == 0.0
    assert sprt_llr(30, 10, 10, 0, 10) > 0
    assert sprt_llr(10, 10, 30, 0, 10) < 0
    # Mirrored data and hypotheses swap H0 and H1, negating the ratio:
    # LLR(W, D, L; e0, e1) = -LLR(L, D, W; -e1, -e0).
    assert sprt_llr(30, 10, 12, 0, 10) == pytest.approx(-sprt_llr(12, 10, 30, -10, 0))
    with pytest.raises(ValueError):
        sprt_llr(-1, 0, 0, 0, 10)


@given(
    wins=st.integers(0, 300),
    draws=st.integers(0, 300),
    losses=st.integers(0, 300),
    elo0=st.floats(-20, 20),
    width=st.floats(1, 30),
)
@settings(max_examples=100, deadline=None)
def test_sprt_llr_grows_with_wins_and_falls_with_losses(
    wins: int, draws: int, losses: int, elo0: float, width: float
) -> None:
    elo1 = elo0 + width
    llr = sprt_llr(wins, draws, losses, elo0, elo1)
    assert math.isfinite(llr)
    assert sprt_llr(wins + 1, draws, losses, elo0, elo1) > llr
    assert sprt_llr(wins, draws, losses + 1, elo0, elo1) < llr


def test_sprt_option_defaults() -> None:
    assert SprtConfig.from_option(True) == SprtConfig(0.0, 10.0, 0.05, 0.05)
    assert SprtConfig.from_option(False) is None
    assert SprtConfig.from_option({"elo1": 5}) == SprtConfig(0.0, 5.0, 0.05, 0.05)


@pytest.mark.parametrize(("first_wins", "decision"), [(True, "H1"), (False, "H0")])
def test_sprt_head_to_head_stops_early(first_wins: bool, decision: str) -> None:
    fmt = RoundRobin(games_per_pairing=1000, sprt={"elo0": 0, "elo1": 10})
    entrants = rated([25, 25])
    winner = 0 if first_wins else 1

    def outcome(spec: GameSpec) -> tuple[int, ...]:
        return (1, 2) if spec.entrants[0] == winner else (2, 1)

    history, batches = play_out(fmt, entrants, outcome)
    assert fmt.decision(history) == decision
    assert len(history) < 1000
    assert all(len(batch) == 2 for batch in batches)
    llr = fmt.llr(history)
    lower, upper = sprt_bounds(0.05, 0.05)
    assert llr is not None and (llr > upper if first_wins else llr < lower)
    # It stopped at the first batch that crossed the bound.
    assert fmt.decision(history[:-2]) is None
    for b, batch in enumerate(batches, start=1):
        assert [g.key for g in batch] == [f"p0-g{2 * b - 2}", f"p0-g{2 * b - 1}"]
        assert batch[0].seed_keys == batch[1].seed_keys == (0, b - 1)
        assert batch[0].entrants == (0, 1) and batch[1].entrants == (1, 0)
        assert {g.round for g in batch} == {b}


def test_sprt_head_to_head_keys_match_the_round_robin() -> None:
    sprt = RoundRobin(games_per_pairing=7, sprt=True)
    history, batches = play_out(sprt, rated([25, 25]), random_outcome(4))
    plain = RoundRobin(games_per_pairing=7).next_games(rated([25, 25]), [])
    assert plain is not None
    assert [(g.key, g.entrants, g.seed_keys) for batch in batches for g in batch] == [
        (g.key, g.entrants, g.seed_keys) for g in plain
    ]  # an even match stays undecided for 7 games: capped by games_per_pairing
    assert [len(b) for b in batches] == [2, 2, 2, 1]
    assert sprt.decision(history) is None


def test_sprt_resumes_a_cut_batch_before_deciding() -> None:
    fmt = RoundRobin(games_per_pairing=100, sprt=True)
    entrants = rated([25, 25])
    batch = fmt.next_games(entrants, [])
    assert batch is not None
    cut = [GameResult(batch[0], (1, 2))]
    assert fmt.next_games(entrants, cut) == batch


def test_no_sprt_means_no_decision() -> None:
    fmt = RoundRobin()
    assert fmt.decision([]) is None and fmt.llr([]) is None
