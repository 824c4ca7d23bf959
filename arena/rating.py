"""TrueSkill ratings for arena players: the model, the score rule and who is rated.

Model: a player's skill is a Gaussian belief s ~ N(mu, sigma^2), widened by tau^2 before each
match to allow drift. In a match each player performs p = s + N(0, beta^2) and a team performs
t = sum(weight * p). The ranking constrains neighbouring teams' differences d = t_i - t_j to
d > eps (win) or |d| <= eps (draw), with the draw margin eps = Phi^-1((draw_probability + 1) / 2)
* beta * sqrt(players in both teams). Expectation propagation on this factor graph truncates
each d and passes the result back to the players; for 1 vs 1, with c^2 = 2 beta^2 + sigma_w^2 +
sigma_l^2 and x = (mu_w - mu_l) / c: mu_w += sigma_w^2 / c * v, mu_l -= sigma_l^2 / c * v and
sigma^2 *= 1 - sigma^2 / c^2 * w, where v(x, eps/c) and 0 < w(x, eps/c) < 1 are the mean and
variance corrections of the truncated Gaussian (:meth:`RatingSystem.rate_1vs1_closed_form`).
Leaderboards sort by :func:`conservative`, mu - 3 sigma, a bound the skill exceeds with 99.9%
belief: newcomers start at 0 and rise as sigma shrinks, not on one win.

Unlike ``trueskill.rate`` and friends, nothing here reads or changes the module's global
environment (``trueskill.setup`` / ``trueskill.global_env``): each `RatingSystem` owns its
own ``trueskill.TrueSkill`` instance.

Matches are rated by seats, ``(agent version, team, rank)``: :func:`is_rated` says whether
a match moves ratings at all, :func:`team_update` rates it through the factor graph, and
:func:`fast_team_update` gives the same numbers with the 1 vs 1 closed form where it applies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import trueskill

__all__ = [
    "Contest",
    "MuSigma",
    "PairSeat",
    "Rater",
    "Rating",
    "RatingConfig",
    "RatingSystem",
    "asymmetric",
    "compare_pair",
    "conservative",
    "contest_seats",
    "fast_team_update",
    "is_rated",
    "team_update",
]


def conservative(mu: float, sigma: float) -> float:
    """The conservative score ``mu - 3 sigma`` that leaderboards and seeding sort by.

    Under the Gaussian belief N(mu, sigma^2) the skill exceeds this bound with
    probability Phi(3) = 99.87%, so a player ranks high only once the arena is
    confident it is strong: a newcomer (mu 25, sigma 25/3) scores 0.
    """
    return mu - 3 * sigma


class MuSigma(NamedTuple):
    """A stored skill belief: mean ``mu`` and deviation ``sigma`` (the recorder's rows)."""

    mu: float
    sigma: float


@dataclass(frozen=True)
class Rating:
    """A player's skill belief: a Gaussian with mean ``mu`` and deviation ``sigma``.

    Attributes:
        mu: Mean of the skill belief.
        sigma: Standard deviation (uncertainty) of the skill belief.
    """

    mu: float
    sigma: float

    @property
    def score(self) -> float:
        """Conservative score ``mu - 3 * sigma`` that leaderboards sort by."""
        return conservative(self.mu, self.sigma)


@dataclass(frozen=True)
class RatingConfig:
    """Parameters of the TrueSkill model (the defaults are TrueSkill's own).

    Raises:
        ValueError: If a parameter is outside its valid range.
    """

    #: Mean skill of a new player; shifts every rating and score by the same amount.
    mu: float = 25.0
    #: Initial uncertainty; larger means new players' ratings move more per match.
    sigma: float = 25.0 / 3.0
    #: Performance noise; a skill lead of beta wins about 76% of 1 vs 1 games.
    beta: float = 25.0 / 6.0
    #: Skill drift added before each match; keeps sigma from collapsing to zero.
    tau: float = 25.0 / 300.0
    #: Expected share of drawn games; sets the draw margin (0 means no draws).
    draw_probability: float = 0.10

    def __post_init__(self) -> None:
        if not math.isfinite(self.mu):
            raise ValueError(f"mu must be finite, got {self.mu}")
        if not (self.sigma > 0 and math.isfinite(self.sigma)):
            raise ValueError(f"sigma must be positive and finite, got {self.sigma}")
        if not (self.beta > 0 and math.isfinite(self.beta)):
            raise ValueError(f"beta must be positive and finite, got {self.beta}")
        if not (self.tau >= 0 and math.isfinite(self.tau)):
            raise ValueError(f"tau must be non-negative and finite, got {self.tau}")
        if not 0.0 <= self.draw_probability < 1.0:
            raise ValueError(f"draw_probability must be in [0, 1), got {self.draw_probability}")


class Rater(Protocol):
    """What :func:`team_update` (and so the recorder) needs from a rating system."""

    def initial(self) -> Any: ...

    def rate(self, groups: Sequence[Sequence[Any]], ranks: Sequence[int]) -> list[list[Any]]: ...


class RatingSystem:
    """Rates matches with TrueSkill under one fixed `RatingConfig`.

    Instances are independent: each owns a ``trueskill.TrueSkill`` environment, so
    systems with different configurations can be used side by side.

    Args:
        config: The model parameters; TrueSkill's defaults if omitted.
    """

    def __init__(self, *, config: RatingConfig = RatingConfig()) -> None:
        self._config = config
        # backend=None selects trueskill's pure-Python cdf/pdf/ppf, which measured
        # faster than the scipy backend for these small graphs.
        self._env = trueskill.TrueSkill(
            mu=config.mu,
            sigma=config.sigma,
            beta=config.beta,
            tau=config.tau,
            draw_probability=config.draw_probability,
            backend=None,
        )
        # The closed form's constants: drift, both players' noise, the 2-player draw margin.
        self._tau2 = config.tau**2
        self._two_beta2 = 2 * config.beta**2
        self._margin_1vs1 = trueskill.calc_draw_margin(config.draw_probability, 2, self._env)

    @property
    def config(self) -> RatingConfig:
        """The parameters this system rates with."""
        return self._config

    def initial(self) -> Rating:
        """Returns the rating of a player who has not played yet."""
        return Rating(self._config.mu, self._config.sigma)

    def rate(
        self,
        groups: Sequence[Sequence[Rating]],
        ranks: Sequence[int],
        *,
        weights: Sequence[Sequence[float]] | None = None,
    ) -> list[list[Rating]]:
        """Updates the ratings of everyone in a finished match.

        Works for team games (groups of several players) and free-for-all games
        (groups of one player) alike.

        Args:
            groups: The teams, each a non-empty sequence of its players' ratings.
            ranks: Each team's finishing rank; lower is better and equal ranks tie,
                e.g. ``[0, 1]`` for a win of the first team and ``[0, 0]`` for a draw.
            weights: Optional partial-play weights, one per player in the shape of
                ``groups`` (1 for a full match, 0.5 for half of it); all 1 if omitted.

        Returns:
            The new ratings, in the same order and shape as ``groups``.

        Raises:
            ValueError: If there are fewer than two groups, a group is empty, ``ranks``
                does not have one entry per group, or ``weights`` does not match the
                shape of ``groups``.
        """
        ts_groups = self._to_trueskill_groups(groups)
        if len(ranks) != len(ts_groups):
            raise ValueError(
                f"ranks must have one entry per group: got {len(ranks)} ranks "
                f"for {len(ts_groups)} groups"
            )
        ts_weights = self._validate_weights(weights, ts_groups)
        rated = self._env.rate(ts_groups, ranks=list(ranks), weights=ts_weights)
        return [[Rating(float(r.mu), float(r.sigma)) for r in group] for group in rated]

    def rate_1vs1(self, a: Rating, b: Rating, *, drawn: bool = False) -> tuple[Rating, Rating]:
        """Updates two players' ratings after a 1 vs 1 game.

        Args:
            a: The winner's rating (or one player's, if ``drawn``).
            b: The loser's rating (or the other player's, if ``drawn``).
            drawn: Whether the game was a draw.

        Returns:
            The new ratings of ``a`` and ``b``, in that order.
        """
        (new_a,), (new_b,) = self.rate([[a], [b]], [0, 0] if drawn else [0, 1])
        return new_a, new_b

    def rate_1vs1_closed_form(
        self, a: MuSigma, b: MuSigma, *, drawn: bool = False
    ) -> tuple[MuSigma, MuSigma]:
        """`rate_1vs1` without the factor graph: TrueSkill's closed form for two players.

        For one player against one, expectation propagation converges in one step
        (Herbrich et al. 2007). Each belief is first widened by the drift,
        s_i^2 = sigma_i^2 + tau^2; the performance difference d = p_a - p_b then has
        variance c^2 = 2 beta^2 + s_a^2 + s_b^2. With t = (mu_a - mu_b) / c and the
        draw margin scaled the same way, e = eps / c, the truncated Gaussian's mean and
        variance corrections are v = v_win(t, e), w = w_win(t, e) for a win of ``a``
        (d > eps) and v_draw, w_draw for a draw (|d| <= eps). Then::

            mu_a' = mu_a + s_a^2 / c * v        sigma_a'^2 = s_a^2 * (1 - s_a^2 / c^2 * w)
            mu_b' = mu_b - s_b^2 / c * v        sigma_b'^2 = s_b^2 * (1 - s_b^2 / c^2 * w)

        v, w and eps come from this system's own environment (the same functions and
        draw margin as ``trueskill``), so the result agrees with `rate_1vs1` to
        rounding, at a fraction of its cost.

        Args:
            a: The winner's rating (or one player's, if ``drawn``).
            b: The loser's rating (or the other player's, if ``drawn``).
            drawn: Whether the game was a draw.

        Returns:
            The new ratings of ``a`` and ``b``, in that order.
        """
        va = a.sigma**2 + self._tau2
        vb = b.sigma**2 + self._tau2
        c = math.sqrt(self._two_beta2 + va + vb)
        t, eps = (a.mu - b.mu) / c, self._margin_1vs1 / c
        env = self._env
        if drawn:
            v, w = env.v_draw(t, eps), env.w_draw(t, eps)
        else:
            v, w = env.v_win(t, eps), env.w_win(t, eps)
        return (
            MuSigma(a.mu + va / c * v, math.sqrt(va * (1 - va / c**2 * w))),
            MuSigma(b.mu - vb / c * v, math.sqrt(vb * (1 - vb / c**2 * w))),
        )

    def quality(
        self,
        groups: Sequence[Sequence[Rating]],
        *,
        weights: Sequence[Sequence[float]] | None = None,
    ) -> float:
        """Returns the match quality: the draw probability relative to the most even match.

        It is 1 for identical, certain teams and falls towards 0 as the match becomes
        lopsided or the ratings uncertain; matchmaking prefers high values.

        Args:
            groups: The teams, each a non-empty sequence of its players' ratings.
            weights: Optional partial-play weights in the shape of ``groups``.

        Returns:
            The match quality, in [0, 1].

        Raises:
            ValueError: If there are fewer than two groups, a group is empty, or
                ``weights`` does not match the shape of ``groups``.
        """
        ts_groups = self._to_trueskill_groups(groups)
        ts_weights = self._validate_weights(weights, ts_groups)
        return float(self._env.quality(ts_groups, weights=ts_weights))

    def win_probability(self, a: Sequence[Rating], b: Sequence[Rating]) -> float:
        """Returns the probability that team ``a`` beats team ``b``, ignoring draws.

        Computes ``Phi((sum mu_a - sum mu_b) / sqrt(n * beta^2 + sum sigma^2))`` over
        the ``n`` players of both teams, so ``p(a, b) + p(b, a) == 1``.

        Args:
            a: Ratings of the first team's players.
            b: Ratings of the second team's players.

        Returns:
            The probability that ``a`` wins, in (0, 1).

        Raises:
            ValueError: If either team is empty.
        """
        if not a or not b:
            raise ValueError("win_probability needs at least one rating on each side")
        players = [*a, *b]
        delta_mu = sum(r.mu for r in a) - sum(r.mu for r in b)
        variance = len(players) * self._config.beta**2 + sum(r.sigma**2 for r in players)
        # Phi via math.erfc (double precision) rather than trueskill's approximate cdf,
        # so that p(a, a) is exactly 0.5 and p(a, b) + p(b, a) == 1 up to rounding.
        return 0.5 * math.erfc(-delta_mu / math.sqrt(2.0 * variance))

    def _to_trueskill_groups(
        self, groups: Sequence[Sequence[Rating]]
    ) -> list[tuple[trueskill.Rating, ...]]:
        """Validates ``groups`` and converts them to trueskill ratings."""
        if len(groups) < 2:
            raise ValueError(f"need at least two groups, got {len(groups)}")
        ts_groups = []
        for index, group in enumerate(groups):
            if len(group) == 0:
                raise ValueError(f"group {index} is empty; every group needs at least one rating")
            # Pass mu and sigma explicitly: trueskill.Rating() would read the global env.
            ts_groups.append(tuple(trueskill.Rating(r.mu, r.sigma) for r in group))
        return ts_groups

    @staticmethod
    def _validate_weights(
        weights: Sequence[Sequence[float]] | None,
        groups: Sequence[Sequence[trueskill.Rating]],
    ) -> list[tuple[float, ...]] | None:
        """Checks that ``weights`` has the shape of ``groups`` and copies it."""
        if weights is None:
            return None
        if len(weights) != len(groups):
            raise ValueError(
                f"weights must have one entry per group: got {len(weights)} "
                f"for {len(groups)} groups"
            )
        for index, (group_weights, group) in enumerate(zip(weights, groups, strict=True)):
            if len(group_weights) != len(group):
                raise ValueError(
                    f"weights[{index}] must have one weight per player: got "
                    f"{len(group_weights)} for {len(group)} players"
                )
        return [tuple(float(w) for w in group_weights) for group_weights in weights]


def is_rated(seats: Sequence[tuple[int, int]]) -> bool:
    """Whether a match with these ``(agent version, team)`` seats moves ratings.

    A version on two opposing teams (self-play) tells nothing about its skill, and
    one team alone has no opponent: such matches are stored, not rated.
    """
    teams_of: dict[int, set[int]] = {}
    for vid, team in seats:
        teams_of.setdefault(vid, set()).add(team)
    n_teams = len({team for _, team in seats})
    return n_teams > 1 and all(len(t) == 1 for t in teams_of.values())


def _groups(seats: Sequence[tuple[int, int, int]]) -> dict[tuple[int, int], list[int]]:
    """The agent versions of each ``(team, rank)``, each version once, in seat order."""
    members: dict[tuple[int, int], list[int]] = {}
    for vid, team, rank in seats:
        group = members.setdefault((team, rank), [])
        if vid not in group:
            group.append(vid)
    return members


def _rate_groups(
    rater: Rater, members: dict[tuple[int, int], list[int]], current: dict[int, MuSigma]
) -> dict[int, MuSigma]:
    keys = sorted(members)
    groups = [[current[vid] for vid in members[k]] for k in keys]
    updated = rater.rate(groups, [rank for _, rank in keys])
    return {
        vid: MuSigma(float(new.mu), float(new.sigma))
        for key, group in zip(keys, updated, strict=True)
        for vid, new in zip(members[key], group, strict=True)
    }


def team_update(
    rater: Rater, seats: Sequence[tuple[int, int, int]], current: dict[int, MuSigma]
) -> dict[int, MuSigma]:
    """New ratings after one match, from ``(agent version, team, rank)`` per seat.

    Each team is one TrueSkill group holding each of its agent versions once, at
    the team's rank (lower is better, equal ranks tie). A member that forfeited
    ranks apart from its teammates, so it forms a group of its own.
    """
    return _rate_groups(rater, _groups(seats), current)


def fast_team_update(
    system: RatingSystem, seats: Sequence[tuple[int, int, int]], current: dict[int, MuSigma]
) -> dict[int, MuSigma]:
    """`team_update` with a fast path for 1 vs 1, for replaying many matches.

    When the match has two groups of one agent version each, it is rated with
    `RatingSystem.rate_1vs1_closed_form` instead of a factor graph (the same numbers
    to rounding, about 15x faster); everything else goes through `team_update`.
    """
    members = _groups(seats)
    if len(members) != 2 or any(len(g) != 1 for g in members.values()):
        return _rate_groups(system, members, current)
    # Winner first, as trueskill orders team_update's groups (by team on a draw).
    (ka, (a,)), (kb, (b,)) = sorted(members.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    new_a, new_b = system.rate_1vs1_closed_form(current[a], current[b], drawn=ka[1] == kb[1])
    return {a: new_a, b: new_b}


# ----------------------------------------------------------------- role-asymmetric envs


def asymmetric(sides: Iterable[tuple[str, int]]) -> bool:
    """Whether ``(role, team)`` per side or seat make a role-asymmetric game.

    Two roles or more on two teams or more (simple_tag's predators and prey):
    one match then measures the role as much as the skill, so such matches
    are rated in duplicate pairs only (:func:`compare_pair`). One role
    (board games) or one team (cooperative games) is not asymmetric.
    """
    sides = list(sides)
    return len({role for role, _ in sides}) >= 2 and len({team for _, team in sides}) >= 2


class PairSeat(NamedTuple):
    """One seat of a match of a duplicate pair, as :func:`compare_pair` reads it."""

    vid: int  # agent version id
    role: str
    team: int
    reward: float
    forfeit: bool


class Contest(NamedTuple):
    """One comparison of two agent versions in a duplicate pair.

    ``role`` is the role compared, or ``""`` for the pair's overall result;
    ``score_a`` is ``a``'s: 1 (won), 0.5 (drawn) or 0 (lost).
    """

    role: str
    a: int
    b: int
    score_a: float


def _role_players(seats: Sequence[PairSeat]) -> dict[str, tuple[int, float]]:
    """Role -> (the version playing it, its team's score: the sum of the team's rewards)."""
    team_score: dict[int, list[float]] = {}
    for seat in seats:
        team_score.setdefault(seat.team, []).append(seat.reward)
    players: dict[str, tuple[int, float]] = {}
    for seat in seats:
        players.setdefault(seat.role, (seat.vid, math.fsum(team_score[seat.team])))
    return players


def compare_pair(first: Sequence[PairSeat], second: Sequence[PairSeat]) -> list[Contest]:
    """The contests of a duplicate pair: two matches on one seed, like compared with like.

    For each role, the version playing it in ``first`` is compared with the one
    playing it in ``second``; the higher team score wins the role contest, equal
    scores draw. (The sum of the team's rewards: a role's seats are the same in
    both matches, so the sum and the mean rank alike.) Versions playing a role in
    both matches (a background agent, or self-play) are not compared.

    Forfeits: a compared version that forfeited in either match loses the
    contest (both forfeited: drawn); a forfeit by anyone else in the pair
    (a background agent) makes it a draw, since it spoilt both scores.

    When every role is contested between the same two versions (A's predators
    against B's prey, then B's predators against A's prey), the pair also has an
    overall contest, role ``""``: the sum of the role points (win 1, draw 0.5)
    decides it. Role contests come in role order of ``first``, the overall last.
    """
    one, two = _role_players(first), _role_players(second)
    forfeited = {s.vid for s in (*first, *second) if s.forfeit}
    contests: list[Contest] = []
    for role, (a, score_a) in one.items():
        if role not in two or two[role][0] == a:
            continue
        b, score_b = two[role]
        if a in forfeited or b in forfeited:
            points = 0.5 if {a, b} <= forfeited else 0.0 if a in forfeited else 1.0
        elif forfeited:
            points = 0.5  # a background agent's forfeit
        else:
            points = 1.0 if score_a > score_b else 0.5 if score_a == score_b else 0.0
        contests.append(Contest(role, a, b, points))
    versions = {frozenset((c.a, c.b)) for c in contests}
    if contests and len(contests) == len(one) == len(two) and len(versions) == 1:
        a, b = contests[0].a, contests[0].b
        total = math.fsum(c.score_a if c.a == a else 1.0 - c.score_a for c in contests)
        half = len(contests) / 2
        contests.append(Contest("", a, b, 1.0 if total > half else 0.5 if total == half else 0.0))
    return contests


def contest_seats(contest: Contest) -> list[tuple[int, int, int]]:
    """A contest as the ``(agent version, team, rank)`` seats of a 1 vs 1 match."""
    rank_a = 1 if contest.score_a >= 0.5 else 2
    rank_b = 1 if contest.score_a <= 0.5 else 2
    return [(contest.a, 0, rank_a), (contest.b, 1, rank_b)]
