"""Tests for `arena.rating`.

Golden values come from python-trueskill's own published examples, not from this wrapper's
output. The sources are abbreviated below:

- DOCS: the trueskill.org documentation, ``docs/index.rst`` of github.com/sublee/trueskill
  ("1:1 competition game" and "Complex competition game" sections).
- SUITE: python-trueskill's test suite, ``trueskilltest.py`` of github.com/sublee/trueskill
  (test name given at each use).
- WINPROB: the win-probability discussion in sublee/trueskill issue #11 (a lead of beta with
  certain ratings wins with Phi(1/sqrt(2)) = 0.76025) and the example outputs in pull
  request #17, which implements the same formula.

Published values are rounded to three decimals, and the suite accepts one unit of error in
the last one, so values are compared to within a thousandth.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import trueskill

from arena.rating import Rating, RatingConfig, RatingSystem, conservative

TOL = 1e-3


def assert_ratings(got: list[list[Rating]], expected: list[list[tuple[float, float]]]) -> None:
    """Asserts that rated groups match (mu, sigma) pairs to within `TOL`."""
    assert [len(group) for group in got] == [len(group) for group in expected]
    for got_group, expected_group in zip(got, expected, strict=True):
        for rating, (mu, sigma) in zip(got_group, expected_group, strict=True):
            assert isinstance(rating, Rating)
            assert rating.mu == pytest.approx(mu, abs=TOL)
            assert rating.sigma == pytest.approx(sigma, abs=TOL)


def fresh(system: RatingSystem, *sizes: int) -> list[list[Rating]]:
    """Returns groups of the given sizes filled with new players' ratings."""
    return [[system.initial() for _ in range(size)] for size in sizes]


@pytest.fixture
def system() -> RatingSystem:
    return RatingSystem()


# --- Rating and RatingConfig ----------------------------------------------------------


def test_rating_is_frozen_and_scores_mu_minus_three_sigma() -> None:
    rating = Rating(30.0, 2.0)
    assert rating.score == 24.0
    assert conservative(30.0, 2.0) == 24.0
    assert conservative(25.0, 25.0 / 3.0) == 0.0  # a newcomer starts at 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        rating.mu = 1.0  # type: ignore[misc]


def test_initial_rating_is_the_configured_prior(system: RatingSystem) -> None:
    assert system.initial() == Rating(25.0, 25.0 / 3.0)
    assert system.initial().score == pytest.approx(0.0)
    custom = RatingSystem(config=RatingConfig(mu=1000.0, sigma=200.0))
    assert custom.initial() == Rating(1000.0, 200.0)


def test_config_defaults_are_trueskills() -> None:
    config = RatingConfig()
    defaults = (config.mu, config.sigma, config.beta, config.tau, config.draw_probability)
    published = (
        trueskill.MU,
        trueskill.SIGMA,
        trueskill.BETA,
        trueskill.TAU,
        trueskill.DRAW_PROBABILITY,
    )
    # trueskill computes tau as sigma / 100, one ulp away from 25 / 300.
    assert defaults == pytest.approx(published, rel=1e-15)
    assert RatingSystem().config == config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mu": math.inf}, "mu must be finite, got inf"),
        ({"sigma": 0.0}, "sigma must be positive and finite, got 0.0"),
        ({"beta": -1.0}, "beta must be positive and finite, got -1.0"),
        ({"tau": -0.5}, "tau must be non-negative and finite, got -0.5"),
        ({"draw_probability": 1.0}, "draw_probability must be in [0, 1), got 1.0"),
        ({"draw_probability": -0.1}, "draw_probability must be in [0, 1), got -0.1"),
    ],
)
def test_config_rejects_invalid_parameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        RatingConfig(**kwargs)
    assert str(excinfo.value) == message


# --- Golden values: 1 vs 1 ------------------------------------------------------------


def test_1vs1_win_matches_docs(system: RatingSystem) -> None:
    # DOCS "1:1 competition game": rate_1vs1(r1, r2) -> (29.396, 7.171), (20.604, 7.171);
    # also SUITE test_n_vs_n.
    winner, loser = system.rate_1vs1(Rating(25, 8.333), Rating(25, 8.333))
    assert_ratings([[winner], [loser]], [[(29.396, 7.171)], [(20.604, 7.171)]])
    winner, loser = system.rate_1vs1(system.initial(), system.initial())
    assert_ratings([[winner], [loser]], [[(29.396, 7.171)], [(20.604, 7.171)]])


def test_1vs1_draw_matches_docs(system: RatingSystem) -> None:
    # DOCS "1:1 competition game": rate_1vs1(r1, r2, drawn=True) -> (25.000, 6.458) each;
    # also SUITE test_n_vs_n.
    a, b = system.rate_1vs1(system.initial(), system.initial(), drawn=True)
    assert_ratings([[a], [b]], [[(25.000, 6.458)], [(25.000, 6.458)]])


def test_1vs1_quality_matches_docs(system: RatingSystem) -> None:
    # DOCS "1:1 competition game": "44.7% chance to draw"; SUITE test_n_vs_n: 0.447.
    assert system.quality(fresh(system, 1, 1)) == pytest.approx(0.447, abs=TOL)


def test_1vs1_upset_draw_matches_suite(system: RatingSystem) -> None:
    # SUITE test_upset: a draw of N(25, 8.333) with N(50, 12.5).
    groups = [[system.initial()], [Rating(50, 12.5)]]
    assert system.quality(groups) == pytest.approx(0.110, abs=TOL)
    assert_ratings(system.rate(groups, [0, 0]), [[(31.662, 7.137)], [(35.010, 7.910)]])


def test_rate_1vs1_is_rate_with_two_single_groups(system: RatingSystem) -> None:
    a, b = Rating(30, 3), Rating(20, 2)
    assert list(system.rate_1vs1(a, b)) == [g[0] for g in system.rate([[a], [b]], [0, 1])]
    assert list(system.rate_1vs1(a, b, drawn=True)) == [
        g[0] for g in system.rate([[a], [b]], [0, 0])
    ]
    # The loser goes first when the ranks say so.
    (b_won,), (a_lost,) = system.rate([[b], [a]], [0, 1])
    assert system.rate([[a], [b]], [1, 0]) == [[a_lost], [b_won]]


# --- Golden values: teams -------------------------------------------------------------


def test_1_vs_2_team_match_matches_docs(system: RatingSystem) -> None:
    # DOCS "Complex competition game": t1 = [r1], t2 = [r2, r3], "13.5% chance to draw",
    # rate([t1, t2], ranks=[0, 1]) -> r1 (33.731, 7.317), r2 and r3 (16.269, 7.317).
    # SUITE test_1_vs_n publishes the same case as 33.730 / 16.270.
    groups = fresh(system, 1, 2)
    assert system.quality(groups) == pytest.approx(0.135, abs=TOL)
    assert_ratings(
        system.rate(groups, [0, 1]),
        [[(33.731, 7.317)], [(16.269, 7.317), (16.269, 7.317)]],
    )


def test_1_vs_2_team_draw_matches_suite(system: RatingSystem) -> None:
    # SUITE test_1_vs_n: the same teams drawing.
    assert_ratings(
        system.rate(fresh(system, 1, 2), [0, 0]),
        [[(31.660, 7.138)], [(18.340, 7.138), (18.340, 7.138)]],
    )


def test_2_vs_2_matches_suite(system: RatingSystem) -> None:
    # SUITE test_n_vs_n: 2 vs 2 win and draw.
    groups = fresh(system, 2, 2)
    assert system.quality(groups) == pytest.approx(0.447, abs=TOL)
    assert_ratings(
        system.rate(groups, [0, 1]),
        [[(28.108, 7.774), (28.108, 7.774)], [(21.892, 7.774), (21.892, 7.774)]],
    )
    assert_ratings(
        system.rate(groups, [0, 0]),
        [[(25.000, 7.455), (25.000, 7.455)], [(25.000, 7.455), (25.000, 7.455)]],
    )


def test_3_vs_2_upset_matches_suite(system: RatingSystem) -> None:
    # SUITE test_upset: 3 vs 2 with prior ratings, either team winning.
    groups = [
        [Rating(28, 7), Rating(27, 6), Rating(26, 5)],
        [Rating(30, 4), Rating(31, 3)],
    ]
    assert system.quality(groups) == pytest.approx(0.254, abs=TOL)
    assert_ratings(
        system.rate(groups, [0, 1]),
        [[(28.658, 6.770), (27.484, 5.856), (26.336, 4.917)], [(29.785, 3.958), (30.879, 2.983)]],
    )
    assert_ratings(
        system.rate(groups, [1, 0]),
        [[(21.840, 6.314), (22.474, 5.575), (22.857, 4.757)], [(32.012, 3.877), (32.132, 2.949)]],
    )


def test_three_teams_with_tied_losers_match_suite(system: RatingSystem) -> None:
    # SUITE test_multiple_teams: 2 vs 4 vs 2 with ranks [0, 1, 1].
    groups = [
        [Rating(40, 4), Rating(45, 3)],
        [Rating(20, 7), Rating(19, 6), Rating(30, 9), Rating(10, 4)],
        [Rating(50, 5), Rating(30, 2)],
    ]
    assert system.quality(groups) == pytest.approx(0.367, abs=TOL)
    assert_ratings(
        system.rate(groups, [0, 1, 1]),
        [
            [(40.877, 3.840), (45.493, 2.934)],
            [(19.609, 6.396), (18.712, 5.625), (29.353, 7.673), (9.872, 3.891)],
            [(48.830, 4.590), (29.813, 1.976)],
        ],
    )


def test_partial_play_weights_match_suite(system: RatingSystem) -> None:
    # SUITE test_partial_play (values the suite notes come from the C# Skills library).
    groups = fresh(system, 1, 2)
    assert system.rate(groups, [0, 1], weights=[[1], [1, 1]]) == system.rate(groups, [0, 1])
    assert_ratings(
        system.rate(groups, [0, 1], weights=[[1], [0.5, 1]]),
        [[(32.417, 7.056)], [(21.291, 8.033), (17.583, 7.056)]],
    )
    assert_ratings(
        system.rate(groups, [0, 1], weights=[[1], [0, 1]]),
        [[(29.440, 7.166)], [(25.000, 8.333), (20.560, 7.166)]],
    )
    three = fresh(system, 1, 2, 1)
    assert system.quality(three, weights=[[1], [0.25, 0.75], [1]]) == pytest.approx(0.2, abs=TOL)
    assert system.quality(three, weights=[[1], [0.8, 0.9], [1]]) == pytest.approx(0.0809, abs=1e-4)


# --- Golden values: free-for-all ------------------------------------------------------


def test_free_for_all_three_players_matches_suite(system: RatingSystem) -> None:
    # SUITE test_individual: 3 players, in finishing order.
    players = fresh(system, 1, 1, 1)
    assert system.quality(players) == pytest.approx(0.200, abs=TOL)
    assert_ratings(
        system.rate(players, [0, 1, 2]),
        [[(31.675, 6.656)], [(25.000, 6.208)], [(18.325, 6.656)]],
    )


def test_free_for_all_unsorted_ranks_match_suite(system: RatingSystem) -> None:
    # SUITE test_unsorted_groups: results come back in the order of the groups.
    assert_ratings(
        system.rate(fresh(system, 1, 1, 1), [2, 1, 0]),
        [[(18.325, 6.656)], [(25.000, 6.208)], [(31.675, 6.656)]],
    )


def test_free_for_all_three_way_tie_matches_suite(system: RatingSystem) -> None:
    # SUITE test_individual: rate(players, [0] * 3).
    assert_ratings(
        system.rate(fresh(system, 1, 1, 1), [0, 0, 0]),
        [[(25.000, 5.698)], [(25.000, 5.695)], [(25.000, 5.698)]],
    )


def test_free_for_all_eight_way_tie_matches_suite(system: RatingSystem) -> None:
    # SUITE test_individual: 8 players, all tied.
    players = fresh(system, *[1] * 8)
    assert system.quality(players) == pytest.approx(0.004, abs=TOL)
    sigmas = [4.592, 4.583, 4.576, 4.573, 4.573, 4.576, 4.583, 4.592]
    assert_ratings(system.rate(players, [0] * 8), [[(25.000, s)] for s in sigmas])


def test_free_for_all_with_a_tie_in_the_middle(system: RatingSystem) -> None:
    # No published value: check the invariants of a 1st, 2nd=, 2nd=, 4th finish. The field
    # is symmetric about 25, but trueskill's message passing over several teams stops after
    # a fixed schedule, so mirrored players agree only to about a hundredth in mu.
    players = fresh(system, 1, 1, 1, 1)
    (first,), (second_a,), (second_b,), (last,) = system.rate(players, [0, 1, 1, 3])
    assert first.mu > max(second_a.mu, second_b.mu)
    assert min(second_a.mu, second_b.mu) > last.mu
    assert second_a.mu == pytest.approx(25.0, abs=0.05)
    assert second_b.mu == pytest.approx(25.0, abs=0.05)
    assert first.mu - 25.0 == pytest.approx(25.0 - last.mu, abs=0.05)
    assert second_a.sigma == pytest.approx(second_b.sigma)
    assert first.sigma == pytest.approx(last.sigma)
    assert all(r.sigma < system.initial().sigma for r in (first, second_a, second_b, last))


def test_microsoft_research_eight_player_example(system: RatingSystem) -> None:
    # SUITE test_microsoft_research_example, reproducing the 8-player free-for-all on
    # Microsoft Research's TrueSkill "details" page (Alice 1st ... Hillary 8th).
    expected = [
        (36.771, 5.749),
        (32.242, 5.133),
        (29.074, 4.943),
        (26.322, 4.874),
        (23.678, 4.874),
        (20.926, 4.943),
        (17.758, 5.133),
        (13.229, 5.749),
    ]
    rated = system.rate(fresh(system, *[1] * 8), list(range(8)))
    assert_ratings(rated, [[pair] for pair in expected])
    # The conservative score orders the leaderboard like the finish here.
    scores = [group[0].score for group in rated]
    assert scores == sorted(scores, reverse=True)


# --- No global state ------------------------------------------------------------------


def test_custom_draw_probability_matches_suite_and_is_isolated() -> None:
    # SUITE test_custom_environment: TrueSkill(draw_probability=.50) -> (30.267, 7.077),
    # (19.733, 7.077). Interleave with a default system: neither affects the other.
    default = RatingSystem()
    drawish = RatingSystem(config=RatingConfig(draw_probability=0.50))
    for _ in range(2):
        a, b = drawish.rate_1vs1(drawish.initial(), drawish.initial())
        assert_ratings([[a], [b]], [[(30.267, 7.077)], [(19.733, 7.077)]])
        a, b = default.rate_1vs1(default.initial(), default.initial())
        assert_ratings([[a], [b]], [[(29.396, 7.171)], [(20.604, 7.171)]])
    assert default.config.draw_probability == 0.10


def test_global_environment_is_untouched(
    system: RatingSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = getattr(trueskill.global_env, "__trueskill__", None)
    ratings = fresh(system, 1, 2)
    system.rate(ratings, [0, 1])
    system.quality(ratings)
    system.rate_1vs1(Rating(30, 3), Rating(20, 2), drawn=True)
    system.win_probability(ratings[0], ratings[1])
    RatingSystem(config=RatingConfig(mu=1000.0, sigma=200.0, draw_probability=0.5))
    assert getattr(trueskill.global_env, "__trueskill__", None) is before

    # A default global env, removed again at teardown if there was none before.
    monkeypatch.setattr(trueskill.global_env, "__trueskill__", trueskill.TrueSkill(), raising=False)
    env = trueskill.global_env()
    params = (env.mu, env.sigma, env.beta, env.tau, env.draw_probability)
    RatingSystem(config=RatingConfig(draw_probability=0.5)).rate_1vs1(Rating(25, 8), Rating(25, 8))
    assert trueskill.global_env() is env
    assert (env.mu, env.sigma, env.beta, env.tau, env.draw_probability) == params


def test_global_environment_is_not_read(
    system: RatingSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Install a very different global environment; results must not change.
    expected_rate = system.rate(fresh(system, 1, 2), [0, 1])
    expected_quality = system.quality(fresh(system, 1, 2))
    hostile = trueskill.TrueSkill(mu=0.0, sigma=1.0, beta=10.0, tau=1.0, draw_probability=0.9)
    monkeypatch.setattr(trueskill.global_env, "__trueskill__", hostile, raising=False)
    assert system.rate(fresh(system, 1, 2), [0, 1]) == expected_rate
    assert system.quality(fresh(system, 1, 2)) == expected_quality
    assert RatingSystem().initial() == Rating(25.0, 25.0 / 3.0)


# --- Validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "ranks", "message"),
    [
        ([], [], "need at least two groups, got 0"),
        ([[Rating(25, 8)]], [0], "need at least two groups, got 1"),
        (
            [[Rating(25, 8)], []],
            [0, 1],
            "group 1 is empty; every group needs at least one rating",
        ),
        (
            [[], [Rating(25, 8)], [Rating(25, 8)]],
            [0, 1, 2],
            "group 0 is empty; every group needs at least one rating",
        ),
        (
            [[Rating(25, 8)], [Rating(25, 8)]],
            [0],
            "ranks must have one entry per group: got 1 ranks for 2 groups",
        ),
        (
            [[Rating(25, 8)], [Rating(25, 8)]],
            [0, 1, 2],
            "ranks must have one entry per group: got 3 ranks for 2 groups",
        ),
    ],
)
def test_rate_rejects_invalid_input(
    system: RatingSystem, groups: list[list[Rating]], ranks: list[int], message: str
) -> None:
    with pytest.raises(ValueError) as excinfo:
        system.rate(groups, ranks)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([[1.0]], "weights must have one entry per group: got 1 for 2 groups"),
        ([[1.0], [1.0]], "weights[1] must have one weight per player: got 1 for 2 players"),
    ],
)
def test_weights_must_match_groups(
    system: RatingSystem, weights: list[list[float]], message: str
) -> None:
    groups = fresh(system, 1, 2)
    with pytest.raises(ValueError) as excinfo:
        system.rate(groups, [0, 1], weights=weights)
    assert str(excinfo.value) == message
    with pytest.raises(ValueError) as excinfo:
        system.quality(groups, weights=weights)
    assert str(excinfo.value) == message


def test_quality_validates_groups(system: RatingSystem) -> None:
    with pytest.raises(ValueError) as excinfo:
        system.quality([[system.initial()]])
    assert str(excinfo.value) == "need at least two groups, got 1"
    with pytest.raises(ValueError) as excinfo:
        system.quality([[system.initial()], []])
    assert str(excinfo.value) == "group 1 is empty; every group needs at least one rating"


def test_win_probability_rejects_empty_team(system: RatingSystem) -> None:
    for a, b in (([], [system.initial()]), ([system.initial()], []), ([], [])):
        with pytest.raises(ValueError) as excinfo:
            system.win_probability(a, b)
        assert str(excinfo.value) == "win_probability needs at least one rating on each side"


# --- Types and inputs -----------------------------------------------------------------


def test_rate_returns_fresh_lists_and_accepts_tuples(system: RatingSystem) -> None:
    groups = ((system.initial(),), (system.initial(), system.initial()))
    rated = system.rate(groups, (0, 1))
    assert type(rated) is list
    assert all(type(group) is list for group in rated)
    assert all(type(r.mu) is float and type(r.sigma) is float for g in rated for r in g)
    assert groups == ((system.initial(),), (system.initial(), system.initial()))


# --- Win probability ------------------------------------------------------------------


def test_win_probability_of_a_beta_lead_matches_issue_11(system: RatingSystem) -> None:
    # WINPROB issue #11: certain ratings (sigma 0) a beta apart -> Phi(1/sqrt(2)) ~ 0.76025.
    beta = system.config.beta
    p = system.win_probability([Rating(25.0 + beta, 0.0)], [Rating(25.0, 0.0)])
    assert p == pytest.approx(0.76025, abs=1e-5)


def test_win_probability_matches_pr_17(system: RatingSystem) -> None:
    # WINPROB pull request #17: after r1, r2 = rate_1vs1(Rating(), Rating()),
    # probability_1vs1(r1, r2) = 0.7732314666870078,
    # probability_NvsM((r1, r1, r1), (r2, r2, r2)) = 0.9028951782988498,
    # probability_NvsM((r2,), (r1, r2)) = 0.020365869935275418.
    # (That code uses trueskill's approximate cdf, accurate to about 1e-7.)
    r1, r2 = system.rate_1vs1(system.initial(), system.initial())
    assert system.win_probability([r1], [r2]) == pytest.approx(0.7732314666870078, abs=1e-6)
    assert system.win_probability([r1] * 3, [r2] * 3) == pytest.approx(0.9028951782988498, abs=1e-6)
    assert system.win_probability([r2], [r1, r2]) == pytest.approx(0.020365869935275418, abs=1e-6)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([Rating(30, 3)], [Rating(20, 2)]),
        ([Rating(25, 8.333)], [Rating(25.1, 1.0)]),
        ([Rating(28, 7), Rating(27, 6), Rating(26, 5)], [Rating(30, 4), Rating(31, 3)]),
        ([Rating(10, 1)], [Rating(40, 1), Rating(5, 9)]),
    ],
)
def test_win_probability_is_symmetric_and_favours_higher_mu(
    system: RatingSystem, a: list[Rating], b: list[Rating]
) -> None:
    p_ab = system.win_probability(a, b)
    p_ba = system.win_probability(b, a)
    assert 0.0 < p_ab < 1.0
    assert p_ab + p_ba == pytest.approx(1.0, abs=1e-12)
    mu_a, mu_b = sum(r.mu for r in a), sum(r.mu for r in b)
    assert (p_ab > 0.5) == (mu_a > mu_b)


def test_win_probability_of_equal_teams_is_one_half(system: RatingSystem) -> None:
    assert system.win_probability([system.initial()], [system.initial()]) == 0.5
    r = Rating(31.0, 2.5)
    assert system.win_probability([r, r], [r, r]) == 0.5


def test_win_probability_uses_the_configured_beta() -> None:
    a, b = [Rating(30, 1)], [Rating(25, 1)]
    p_default = RatingSystem().win_probability(a, b)
    p_noisy = RatingSystem(config=RatingConfig(beta=20.0)).win_probability(a, b)
    assert 0.5 < p_noisy < p_default
