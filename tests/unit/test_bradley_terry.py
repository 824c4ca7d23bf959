"""Bradley-Terry ratings (`tournaments.bradley_terry`) and their leaderboard columns."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from arena.rating import MuSigma, RatingConfig, RatingSystem, fast_team_update, team_update
from arena.registry import get_env
from arena.result import MatchResult
from arena.runner import play_match
from arena.sources import resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.queries.seats import Seat
from arena.storage.recorder import Recorder
from tournaments.bradley_terry import ELO, BTRating, fit, fit_matches, pairwise
from tournaments.leaderboard import _bradley_terry, leaderboard

TRUTH = {"a": 1250.0, "b": 1100.0, "c": 1000.0, "d": 900.0, "e": 750.0}  # mean 1000


def simulate(
    n: int, seed: int, *, truth: dict[str, float] = TRUTH, draws: float = 0.0
) -> list[tuple[str, str, float]]:
    """``n`` games between random pairs, scored by the Elo formula on ``truth``.

    A game between equals is drawn with probability ``draws`` (``4 draws p (1 - p)``
    in general) and the expected score stays ``p``, so the model fits exactly.
    """
    names = list(truth)
    strength = np.array([truth[x] for x in names])
    rng = np.random.default_rng(seed)
    i = rng.integers(len(names), size=n)
    j = (i + rng.integers(1, len(names), size=n)) % len(names)
    p = 1.0 / (1.0 + 10.0 ** ((strength[j] - strength[i]) / 400.0))
    p_draw = 4.0 * draws * p * (1.0 - p)
    u = rng.random(n)
    score = np.where(u < p_draw, 0.5, np.where(u < p_draw + p - p_draw / 2, 1.0, 0.0))
    return [(names[a], names[b], float(s)) for a, b, s in zip(i, j, score, strict=True)]


# --- the fit -----------------------------------------------------------------------------


def test_recovers_known_strengths() -> None:
    fitted = fit(simulate(20_000, seed=1))
    assert list(sorted(fitted, key=lambda x: -fitted[x].rating)) == list(TRUTH)
    for name, true in TRUTH.items():
        assert fitted[name].rating == pytest.approx(true, abs=20), name
        assert fitted[name].low <= true <= fitted[name].high, name
    assert sum(r.rating for r in fitted.values()) / len(fitted) == pytest.approx(1000, abs=1e-6)
    assert sum(r.games for r in fitted.values()) == 2 * 20_000


def test_recovers_known_strengths_with_draws() -> None:
    fitted = fit(simulate(20_000, seed=2, draws=0.3))
    for name, true in TRUTH.items():
        assert fitted[name].rating == pytest.approx(true, abs=20), name


def test_symmetric_results_give_equal_ratings() -> None:
    # A cycle, each pair won once each way, and all draws: nobody is better.
    cycle = [("a", "b", 1.0), ("b", "c", 1.0), ("c", "a", 1.0)]
    both_ways = [("a", "b", 1.0, 3), ("b", "a", 1.0, 3), ("b", "c", 1.0, 2), ("c", "b", 1.0, 2)]
    drawn = [("a", "b", 0.5, 4), ("b", "c", 0.5, 1)]
    for results in (cycle, both_ways, drawn):
        fitted = fit(results, resamples=50)
        for rating in fitted.values():
            assert rating.rating == pytest.approx(1000.0, abs=1e-6)
            assert rating.low <= 1000.0 + 1e-6 and rating.high >= 1000.0 - 1e-6


def test_a_draw_is_half_a_win() -> None:
    win_and_loss = fit([("a", "b", 1.0), ("a", "b", 0.0), ("a", "c", 1.0)], resamples=0)
    two_draws = fit([("a", "b", 0.5), ("b", "a", 0.5), ("a", "c", 1.0)], resamples=0)
    for name in "abc":
        assert win_and_loss[name].rating == pytest.approx(two_draws[name].rating, abs=1e-9)
    # Against an equal-rated opponent, 3 wins and 2 draws out of 5 is a score of 0.8.
    fitted = fit([("a", "b", 1.0, 3), ("a", "b", 0.5, 2)], resamples=0, prior_sd=1e6)
    gap = fitted["a"].rating - fitted["b"].rating
    assert 1 / (1 + 10 ** (-gap / 400)) == pytest.approx(0.8, abs=1e-6)


def test_aggregated_counts_equal_the_expanded_list() -> None:
    counts = [("a", "b", 1.0, 7), ("a", "b", 0.5, 2), ("a", "b", 0.0, 1), ("b", "c", 1.0, 4)]
    expanded = [(a, b, s) for a, b, s, n in counts for _ in range(n)]
    assert fit(counts, seed=3) == fit(expanded, seed=3)
    # Zero counts are no matches.
    assert fit([*counts, ("c", "d", 1.0, 0)], seed=3) == fit(counts, seed=3)


def test_unbeaten_agents_get_finite_ratings() -> None:
    narrow = fit([("a", "b", 1.0, 10)], resamples=0)
    assert math.isfinite(narrow["a"].rating) and narrow["a"].rating > narrow["b"].rating
    gap = narrow["a"].rating - narrow["b"].rating
    assert 550 < gap < 650  # the module docstring says "about 590"
    more = fit([("a", "b", 1.0, 100)], resamples=0)
    weaker_prior = fit([("a", "b", 1.0, 10)], resamples=0, prior_sd=2000.0)
    assert gap < more["a"].rating - more["b"].rating
    assert gap < weaker_prior["a"].rating - weaker_prior["b"].rating < math.inf
    assert math.isnan(narrow["a"].low) and math.isnan(narrow["a"].high)  # no resamples


def test_intervals_mostly_contain_the_truth() -> None:
    inside = total = 0
    for seed in range(20):
        fitted = fit(simulate(600, seed=100 + seed), resamples=100, seed=seed)
        for name, rating in fitted.items():
            total += 1
            inside += rating.low <= TRUTH[name] <= rating.high
    assert inside / total >= 0.85  # nominal 95%; measured 93% at this size


def test_intervals_shrink_with_more_data() -> None:
    def mean_width(n: int) -> float:
        fitted = fit(simulate(n, seed=7))
        return sum(r.high - r.low for r in fitted.values()) / len(fitted)

    small, large = mean_width(500), mean_width(5000)
    assert large < small / 2  # ~ 1 / sqrt(10)


def test_deterministic_with_a_seed() -> None:
    data = simulate(1000, seed=5)
    first, again, other = fit(data, seed=11), fit(data, seed=11), fit(data, seed=12)
    assert first == again
    assert {a: r.rating for a, r in first.items()} == {a: r.rating for a, r in other.items()}
    assert any(first[a].low != other[a].low for a in first)


def test_anchor_pins_one_agent_and_keeps_the_gaps() -> None:
    data = simulate(2000, seed=6)
    mean_anchored, pinned = fit(data), fit(data, anchor="c", base=1500.0)
    assert pinned["c"].rating == pytest.approx(1500.0)
    assert pinned["c"].low == pytest.approx(1500.0) and pinned["c"].high == pytest.approx(1500.0)
    shift = pinned["a"].rating - mean_anchored["a"].rating
    for name in TRUTH:
        assert pinned[name].rating - mean_anchored[name].rating == pytest.approx(shift)


def test_elo_scale() -> None:
    # 400 points are 10:1 odds with a negligible prior.
    fitted = fit([("a", "b", 1.0, 1000), ("a", "b", 0.0, 100)], resamples=0, prior_sd=1e6)
    assert fitted["a"].rating - fitted["b"].rating == pytest.approx(400.0, abs=1e-4)
    assert pytest.approx(400 / math.log(10)) == ELO


@pytest.mark.parametrize(
    ("results", "kwargs", "message"),
    [
        ([("a", "a", 1.0)], {}, "cannot play itself"),
        ([("a", "b", 1.5)], {}, r"score must be in \[0, 1\]"),
        ([("a", "b", 1.0, -1)], {}, "non-negative integer"),
        ([("a", "b")], {}, "a result is"),
        ([("a", "b", 1.0)], {"anchor": "z"}, "played no match"),
        ([("a", "b", 1.0)], {"prior_sd": math.inf}, "prior_sd"),
        ([("a", "b", 1.0)], {"confidence": 1.0}, "confidence"),
        ([("a", "b", 1.0)], {"resamples": -1}, "resamples"),
    ],
)
def test_bad_input(results: list, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        fit(results, **kwargs)


def test_no_results_no_ratings() -> None:
    assert fit([]) == {} and fit_matches([[("a", 0, 1)]]) == {}


# --- multi-team matches ------------------------------------------------------------------


def test_free_for_all_breaks_into_weighted_pairs() -> None:
    # Three agents, b first, a and c tie for second.
    pairs = pairwise([("a", 0, 2), ("b", 1, 1), ("c", 2, 2)])
    assert pairs == [("a", "b", 0.0, 0.5), ("a", "c", 0.5, 0.5), ("b", "c", 1.0, 0.5)]


def test_teammates_are_not_compared_and_agents_take_their_best_seat() -> None:
    # 2 vs 2: a and b (team 0) beat c and d (team 1); a holds two seats, one forfeited.
    pairs = pairwise([("a", 0, 1), ("a", 0, 3), ("b", 0, 1), ("c", 1, 2), ("d", 1, 2)])
    assert pairs == [
        ("a", "c", 1.0, 1 / 3),
        ("a", "d", 1.0, 1 / 3),
        ("b", "c", 1.0, 1 / 3),
        ("b", "d", 1.0, 1 / 3),
    ]
    assert pairwise([("a", 0, 1), ("a", 1, 2)]) == []  # only itself: nothing to compare


def test_fit_matches_orders_free_for_all_finishers() -> None:
    rng = random.Random(0)
    matches = []
    for _ in range(300):
        # x usually finishes ahead of y, which usually finishes ahead of z.
        order = sorted("xyz", key=lambda a: "xyz".index(a) + rng.gauss(0, 1.2))
        matches.append([(agent, team, order.index(agent) + 1) for team, agent in enumerate("xyz")])
    fitted = fit_matches(matches)
    assert fitted["x"].rating > fitted["y"].rating > fitted["z"].rating
    assert {r.games for r in fitted.values()} == {300}
    # Its pairs weigh 1/(k-1) = 1/2 each, so the same pairs at full weight carry twice
    # the evidence against the same prior and spread the ratings further.
    as_pairs = fit(
        [(a, b, s, 1) for seats in matches for a, b, s, _ in pairwise(seats)],
        resamples=0,
    )
    assert fitted["x"].rating - fitted["z"].rating < as_pairs["x"].rating - as_pairs["z"].rating


# --- the leaderboard ---------------------------------------------------------------------


def test_fast_replay_matches_trueskill() -> None:
    for config in (RatingConfig(), RatingConfig(draw_probability=0.3, tau=0.5)):
        rater = RatingSystem(config=config)
        start = MuSigma(config.mu, config.sigma)
        slow = {vid: start for vid in range(5)}
        fast = dict(slow)
        rng = random.Random(1)
        for _ in range(400):
            a, b = rng.sample(range(5), 2)
            ranks = rng.choice([(1, 2), (2, 1), (1, 1)])
            seats = [(a, 0, ranks[0]), (b, 1, ranks[1])]
            slow.update(team_update(rater, seats, slow))
            fast.update(fast_team_update(rater, seats, fast))
            for vid in (a, b):
                assert fast[vid].mu == pytest.approx(slow[vid].mu, abs=1e-9)
                assert fast[vid].sigma == pytest.approx(slow[vid].sigma, abs=1e-9)
    # Anything but 1 vs 1 goes through team_update.
    rater = RatingSystem()
    three = {vid: MuSigma(25.0, 25 / 3) for vid in range(3)}
    ffa = [(0, 0, 1), (1, 1, 2), (2, 2, 3)]
    assert fast_team_update(rater, ffa, three) == team_update(rater, ffa, three)


def _c4(seed: int) -> MatchResult:
    sides = [resolve_agent("one-ply"), resolve_agent("random")]
    return play_match(get_env("connect_four_v3"), sides[:: 1 if seed % 2 == 0 else -1], seed=seed)


@pytest.fixture(scope="module")
def c4_results() -> list[MatchResult]:
    return [_c4(seed) for seed in range(8)]


def test_leaderboard_rows_carry_bradley_terry(c4_results: list[MatchResult]) -> None:
    engine = connect("sqlite://")
    with session_factory(engine).begin() as s:
        tournament = m.Tournament(
            name="t", env_id="connect_four_v3", format="round-robin", config={}
        )
        run = m.Run(tournament=tournament, number=1, plan_hash="x", planned=len(c4_results))
        s.add_all([tournament, run])
        s.flush()
        run_id = run.id
    recorder = Recorder(engine, RatingSystem())
    for i, result in enumerate(c4_results):
        recorder.record(result, run_id=run_id, game_key=f"g{i}")

    rows = leaderboard(engine)
    assert [r.agent for r in rows] == ["one-ply", "random"]
    best, worst = rows
    for row in rows:
        assert row.bt is not None and row.bt_low is not None and row.bt_high is not None
        assert row.bt_low <= row.bt_high
        assert {"bt", "bt_low", "bt_high"} <= set(row.to_dict())
    assert best.bt is not None and worst.bt is not None
    assert best.bt > worst.bt and (best.bt + worst.bt) / 2 == pytest.approx(1000.0, abs=0.01)

    # The tournament's replay is the same matches: same TrueSkill, same Bradley-Terry.
    replayed = leaderboard(engine, tournament="t")
    for stored, again in zip(rows, replayed, strict=True):
        assert (again.agent, again.games, again.wins, again.losses) == (
            stored.agent,
            stored.games,
            stored.wins,
            stored.losses,
        )
        assert again.mu == pytest.approx(stored.mu, abs=1e-3)
        assert again.sigma == pytest.approx(stored.sigma, abs=1e-3)
        assert (again.bt, again.bt_low, again.bt_high) == (stored.bt, stored.bt_low, stored.bt_high)
    assert leaderboard(engine, env_id="tictactoe_v3") == []
    assert leaderboard(engine, tournament="t", env_id="tictactoe_v3") == []


def test_bradley_terry_is_none_under_two_agents() -> None:
    one_agent = [[Seat(1, 0, 0, 1, "draw", False), Seat(1, 1, 0, 1, "draw", False)]]
    assert _bradley_terry(one_agent) == {}
    two = [[Seat(1, 0, 0, 1, "win", False), Seat(2, 1, 1, 2, "loss", False)]]
    assert set(_bradley_terry(two)) == {1, 2}
    assert all(isinstance(r, BTRating) for r in _bradley_terry(two).values())


def test_few_games_give_wide_intervals_never_zero_width() -> None:
    # One game: a bootstrap alone resamples that one game and claims certainty.
    one = fit([("a", "b", 1.0)])
    width = one["a"].high - one["a"].low
    assert 600 < width < 800  # about +-360 Elo: the posterior's spread at one game
    assert one["a"].low < 1000.0 < one["a"].high  # one win does not prove a is stronger
    ten = fit([("a", "b", 1.0, 10)])
    assert ten["a"].low > 1000.0  # ten straight wins do
    assert ten["a"].high - ten["a"].low < width
    # With plenty of varied data the bootstrap's interval decides, as before.
    many = fit(simulate(5000, seed=7))
    sd = {a: (r.high - r.low) / (2 * 1.96) for a, r in many.items()}
    assert max(sd.values()) < 40
