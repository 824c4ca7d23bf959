r"""Offline Bradley-Terry ratings with bootstrap intervals, as Chatbot Arena reports them.

TrueSkill (``arena.rating``) rates online, match by match, so its numbers
depend on the order games were played. This module fits one static model to all
the matches at once and reports each agent's strength with a 95% interval.

Model and scale
    Agent ``i`` has a strength ``theta_i`` (natural-log units) and

        P(i beats j) = sigma(theta_i - theta_j) = 1 / (1 + exp(theta_j - theta_i)).

    Ratings are reported on the Elo scale, ``R_i = base + 400 / ln(10) * theta_i``,
    so that ``P(i beats j) = 1 / (1 + 10 ** ((R_j - R_i) / 400))``: 400 points of
    difference are 10:1 odds, 200 points about 76%. By default the ratings are
    anchored so that their mean over the fitted agents is ``base`` = 1000 (this
    needs no constraint, see the prior below); ``anchor=agent`` instead pins one
    named agent at ``base`` in the fit and in every bootstrap resample, so the
    intervals then measure strength relative to that agent.

Data
    Every comparison adds to a matrix ``W``: ``W_ij`` is the (weighted) number of
    wins of ``i`` over ``j``. A draw counts as half a win to each side, i.e. adds
    ``1/2`` to ``W_ij`` and to ``W_ji``; in likelihood terms it contributes
    ``1/2 log sigma(d) + 1/2 log sigma(-d)``. ``N_ij = W_ij + W_ji`` is the number of
    games between the two.

Multi-team and free-for-all matches
    A match given as seats ``(agent, team, rank)`` (lower rank is better, equal
    ranks tie) is broken into pairwise results (:func:`pairwise`): every agent
    takes its best rank among its seats, and every two agents on *different*
    teams form one comparison, scored 1, 1/2 or 0 from their ranks. Teammates are
    not compared with each other, and an agent is never compared with itself. Each
    pair has weight ``1 / (k - 1)`` where ``k`` is the number of distinct agents in
    the match: a 1 vs 1 game weighs 1; in a ``k``-player free-for-all every agent
    carries one game's worth of evidence in total; in team games an agent carries
    ``opponents / (k - 1) < 1``, its result being shared with its teammates. The
    bootstrap resamples whole matches, so the pairs of one match, which are not
    independent, always stay together.

Fit: penalised maximum likelihood by Newton's method
    With a Gaussian prior ``theta_i ~ N(0, tau^2)`` (``tau = prior_sd * ln(10) / 400``)
    the log posterior is

        l(theta) = sum_{i != j} W_ij log sigma(theta_i - theta_j) - sum_i theta_i^2 / (2 tau^2)

    with gradient and negative Hessian (``p_ij = sigma(theta_i - theta_j)``)

        g_i  = sum_j (W_ij - N_ij p_ij) - theta_i / tau^2
        H_ii = sum_j N_ij p_ij (1 - p_ij) + 1 / tau^2,    H_ij = -N_ij p_ij (1 - p_ij).

    ``H`` is a weighted graph Laplacian plus ``I / tau^2``, hence positive definite:
    ``l`` is strictly concave and has exactly one maximum, finite even for an
    agent that won (or lost) every game and for comparison graphs that are not
    connected. Newton's method ``theta <- theta + t H^-1 g`` from ``theta = 0``, with
    a backtracking (Armijo) step ``t``, converges quadratically, in about ten
    iterations. It is preferred here to Hunter's (2004) MM algorithm, which
    converges linearly and slowly when strengths are far apart. Everything but
    the solve works on the E pairs that actually met (O(E) per problem and
    iteration); the ``K x K`` solve is cheap for the tens of agents of a
    leaderboard (10,000 matches with 200 resamples: ~0.03 s for 8 agents,
    ~0.2 s for 50, under 1 s for 150), and all bootstrap resamples are solved
    together with one batched ``numpy.linalg.solve``.

    The data part of ``g`` sums to zero over the agents (every game adds ``+x`` to
    one side and ``-x`` to the other), so at the maximum ``sum_i theta_i = 0``: the
    mean rating is exactly ``base`` without a separate constraint.

Prior (why unbeaten agents get finite ratings)
    Without the prior an agent that never lost has ``theta = +inf``. The default
    ``prior_sd = 400`` Elo points (``tau = ln 10``, prior precision ``1 / tau^2 =
    0.19``) weighs about as much as three quarters of one even game (whose Fisher
    information is ``1/4``): negligible once an agent has played a few dozen games,
    but it keeps ratings finite and shrinks those from a handful of games towards
    the mean. For example, 10 wins out of 10 against a single opponent put
    the two agents about 590 points apart (100 out of 100: about 920) rather than
    infinitely far. Set ``prior_sd`` larger for less shrinkage (it must stay
    finite).

Intervals
    Percentile bootstrap over matches: ``resamples`` (default 200) times, draw as
    many matches as there are, with replacement, refit, and report the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of each agent's
    rating. Resampling uses ``numpy.random.default_rng(seed)``, so a fixed seed
    (default 0) gives the same intervals for the same input in the same order.
    Identical matches are grouped, so a resample is one multinomial draw of the
    groups' counts, and the resampled ``W`` come from one ``bincount`` (per
    chunk of resamples, to bound memory).
    The reported ``rating`` is the fit to all the data, not a bootstrap median;
    a percentile interval need not be centred on it.

    A bootstrap cannot show variation the data never had: an agent that played
    one game, or only ever beat one opponent, would get a zero-width interval,
    which claims a certainty nobody has. So each interval is widened, where it
    is narrower, to the posterior's own: ``rating +- z * sd`` with ``z`` the normal
    quantile of the confidence and ``sd`` the Laplace standard deviation of the
    anchored rating (:func:`_posterior_sd`: the inverse of the negative Hessian
    of the log posterior at the fit, prior included). With one game between two
    agents that is about +-360 points; with hundreds of games the two intervals
    agree and the bootstrap's (which also sees over-dispersed data) decides.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["BTRating", "fit", "fit_matches", "pairwise"]

A = TypeVar("A", bound=Hashable)
FloatArray = npt.NDArray[np.float64]

#: Elo points per natural-log unit of strength: R = base + ELO * theta.
ELO = 400.0 / math.log(10.0)
#: Largest number of floats one chunk of resampled ``W`` entries may hold.
_CHUNK = 4_000_000


@dataclass(frozen=True)
class BTRating:
    """One agent's Bradley-Terry rating on the Elo scale.

    Attributes:
        rating: The fit to all matches.
        low: Lower end of the bootstrap interval (NaN with ``resamples=0``).
        high: Upper end of the bootstrap interval (NaN with ``resamples=0``).
        games: Matches the agent played that count in the fit.
    """

    rating: float
    low: float
    high: float
    games: int


def pairwise(seats: Iterable[tuple[A, int, int]]) -> list[tuple[A, A, float, float]]:
    """Break one match into weighted pairwise results.

    Args:
        seats: ``(agent, team, rank)`` per seat; lower ranks are better, equal
            ranks tie. An agent may hold several seats; it takes its best rank.

    Returns:
        ``(a, b, score_a, weight)`` for every two distinct agents on different
        teams, in order of first appearance; ``score_a`` is 1, 0.5 or 0 and
        ``weight`` is ``1 / (k - 1)`` for ``k`` distinct agents (see the module
        docstring). Empty when no two agents are opponents.
    """
    best: dict[A, int] = {}
    teams: dict[A, set[int]] = {}
    for agent, team, rank in seats:
        best[agent] = min(rank, best.get(agent, rank))
        teams.setdefault(agent, set()).add(team)
    agents = list(best)
    if len(agents) < 2:
        return []
    weight = 1.0 / (len(agents) - 1)
    out = []
    for x, a in enumerate(agents):
        for b in agents[x + 1 :]:
            if teams[a] == teams[b] and len(teams[a]) == 1:
                continue  # teammates
            ra, rb = best[a], best[b]
            out.append((a, b, 1.0 if ra < rb else 0.5 if ra == rb else 0.0, weight))
    return out


class _Data(Generic[A]):
    """Matches grouped into distinct patterns of contributions to ``W``."""

    def __init__(self) -> None:
        self.agents: dict[A, int] = {}
        self.patterns: dict[tuple[tuple[int, int, float], ...], int] = {}
        self.games: dict[A, int] = {}

    def index(self, agent: A) -> int:
        return self.agents.setdefault(agent, len(self.agents))

    def add(self, pairs: Sequence[tuple[A, A, float, float]], count: int = 1) -> None:
        """Add ``count`` identical matches made of ``(a, b, score_a, weight)`` pairs."""
        if count < 0 or count != int(count):
            raise ValueError(f"a count must be a non-negative integer, got {count!r}")
        if count == 0:
            return
        cells: dict[tuple[int, int], float] = {}
        involved: dict[A, None] = {}
        for a, b, score, weight in pairs:
            if a == b:
                raise ValueError(f"agent {a!r} cannot play itself")
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"a score must be in [0, 1], got {score!r}")
            if not weight > 0.0:
                raise ValueError(f"a weight must be positive, got {weight!r}")
            i, j = self.index(a), self.index(b)
            cells[i, j] = cells.get((i, j), 0.0) + weight * score
            cells[j, i] = cells.get((j, i), 0.0) + weight * (1.0 - score)
            involved[a] = involved[b] = None
        if not cells:
            return
        key = tuple(sorted((i, j, w) for (i, j), w in cells.items()))
        self.patterns[key] = self.patterns.get(key, 0) + int(count)
        for agent in involved:
            self.games[agent] = self.games.get(agent, 0) + int(count)


def fit(
    results: Iterable[tuple[A, A, float] | tuple[A, A, float, int]],
    *,
    resamples: int = 200,
    seed: int | None = 0,
    confidence: float = 0.95,
    prior_sd: float = 400.0,
    base: float = 1000.0,
    anchor: A | None = None,
) -> dict[A, BTRating]:
    """Fit Bradley-Terry ratings to pairwise results.

    Args:
        results: ``(a, b, score_a)`` per match, ``score_a`` 1 (a won), 0.5 (draw)
            or 0 (b won), any value in between counting as that share of a win;
            or ``(a, b, score_a, count)`` for ``count`` such matches (aggregated
            counts: e.g. ``(a, b, 1, 7), (a, b, 0.5, 2), (a, b, 0, 1)``).
        resamples: Bootstrap resamples for the intervals (0: none, NaN bounds).
        seed: Seed of the bootstrap's random generator.
        confidence: Coverage of the intervals.
        prior_sd: Standard deviation of the Gaussian prior, in Elo points.
        base: Mean rating (or the anchor's rating).
        anchor: An agent to pin at ``base`` instead of fixing the mean.

    Returns:
        The rating of every agent that appears in ``results``, in order of first
        appearance.

    Raises:
        ValueError: A malformed result or option, or an unknown ``anchor``.
    """
    data: _Data[A] = _Data()
    for result in results:
        if len(result) == 3:
            a, b, score = result
            count = 1
        elif len(result) == 4:
            a, b, score, count = result
        else:
            raise ValueError(f"a result is (a, b, score_a) or (a, b, score_a, count): {result!r}")
        data.add([(a, b, float(score), 1.0)], count)
    return _solve_data(data, resamples, seed, confidence, prior_sd, base, anchor)


def fit_matches(
    matches: Iterable[Iterable[tuple[A, int, int]]],
    *,
    resamples: int = 200,
    seed: int | None = 0,
    confidence: float = 0.95,
    prior_sd: float = 400.0,
    base: float = 1000.0,
    anchor: A | None = None,
) -> dict[A, BTRating]:
    """Fit Bradley-Terry ratings to matches of any number of teams and agents.

    Args:
        matches: Each match as its seats ``(agent, team, rank)``, broken into
            pairs by :func:`pairwise`. Matches without two opposing agents are
            ignored.
        resamples, seed, confidence, prior_sd, base, anchor: As for :func:`fit`.

    Returns:
        The rating of every agent with at least one opponent.
    """
    data: _Data[A] = _Data()
    for seats in matches:
        data.add(pairwise(seats))
    return _solve_data(data, resamples, seed, confidence, prior_sd, base, anchor)


def _solve_data(
    data: _Data[A],
    resamples: int,
    seed: int | None,
    confidence: float,
    prior_sd: float,
    base: float,
    anchor: A | None,
) -> dict[A, BTRating]:
    if resamples < 0:
        raise ValueError(f"resamples must be >= 0, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if not (prior_sd > 0.0 and math.isfinite(prior_sd)):
        raise ValueError(f"prior_sd must be positive and finite, got {prior_sd}")
    if anchor is not None and anchor not in data.agents:
        raise ValueError(f"anchor {anchor!r} played no match")
    if not data.patterns:
        return {}
    k = len(data.agents)
    precision = (ELO / prior_sd) ** 2  # 1 / tau^2, tau = prior_sd / ELO

    # The comparison graph: one edge per pair of agents that met, e = (lo[e], hi[e]).
    edges: dict[tuple[int, int], int] = {}
    for key in data.patterns:
        for i, j, _ in key:
            edges.setdefault((min(i, j), max(i, j)), len(edges))
    n_edges = len(edges)
    lo = np.array([i for i, _ in edges], dtype=np.intp)
    hi = np.array([j for _, j in edges], dtype=np.intp)
    # The patterns as flat arrays: entry x adds val[x] per match to slot[x] of the
    # vector [wins of lo over hi per edge, wins of hi over lo per edge] (length 2E).
    counts = np.array(list(data.patterns.values()), dtype=np.float64)
    pat_list, slot_list, val_list = [], [], []
    for p, key in enumerate(data.patterns):
        for i, j, w in key:
            pat_list.append(p)
            slot_list.append(edges[min(i, j), max(i, j)] + (n_edges if i > j else 0))
            val_list.append(w)
    pat = np.array(pat_list, dtype=np.intp)
    slot = np.array(slot_list, dtype=np.intp)
    val = np.array(val_list, dtype=np.float64)

    full = np.bincount(slot, weights=counts[pat] * val, minlength=2 * n_edges)
    wins = full.astype(np.float64).reshape(1, 2, n_edges)
    theta = _newton(wins, lo, hi, k, precision)[0]
    boot: FloatArray | None = None
    if resamples:
        rng = np.random.default_rng(seed)
        total = int(counts.sum())
        draws = rng.multinomial(total, counts / total, size=resamples).astype(np.float64)
        boot = np.empty((resamples, k))
        chunk = max(1, _CHUNK // max(1, len(val), k * k))
        for first in range(0, resamples, chunk):
            c = draws[first : first + chunk]
            n = len(c)
            flat = (np.arange(n)[:, None] * (2 * n_edges) + slot[None, :]).ravel()
            resampled = np.bincount(
                flat, weights=(c[:, pat] * val).ravel(), minlength=n * 2 * n_edges
            )
            wins = resampled.astype(np.float64).reshape(n, 2, n_edges)
            boot[first : first + n] = _newton(wins, lo, hi, k, precision)

    # Anchor: the mean (zero at the optimum up to the tolerance) or one agent.
    def anchored(t: FloatArray) -> FloatArray:
        if anchor is None:
            shift = t.mean(axis=-1, keepdims=True)
        else:
            shift = t[..., data.agents[anchor]][..., None]
        return base + ELO * (t - shift)

    rating = anchored(theta)
    if boot is not None:
        alpha = (1.0 - confidence) / 2.0
        low, high = np.quantile(anchored(boot), [alpha, 1.0 - alpha], axis=0)
        # Never narrower than the posterior's own spread (see "Intervals" above).
        pinned = None if anchor is None else data.agents[anchor]
        sd = _posterior_sd(theta, full.astype(np.float64), lo, hi, k, precision, pinned)
        half = NormalDist().inv_cdf(1.0 - alpha) * sd
        low, high = np.minimum(low, rating - half), np.maximum(high, rating + half)
    else:
        low = high = np.full(k, np.nan)
    return {
        a: BTRating(
            rating=float(rating[i]),
            low=float(low[i]),
            high=float(high[i]),
            games=data.games[a],
        )
        for a, i in data.agents.items()
    }


def _posterior_sd(
    theta: FloatArray,
    wins: FloatArray,
    lo: npt.NDArray[np.intp],
    hi: npt.NDArray[np.intp],
    k: int,
    precision: float,
    anchor: int | None,
) -> FloatArray:
    """Each anchored rating's posterior standard deviation, in Elo points (Laplace).

    The posterior of ``theta`` is about ``N(theta_hat, H^-1)`` with ``H`` the
    negative Hessian at the fit (the Laplacian of ``N p (1 - p)`` plus
    ``I / tau^2``). A reported rating is ``ELO * (A theta)_i`` with ``A = I - 11^T / K``
    (mean anchor) or ``I - 1 e_a^T`` (agent ``a`` pinned), so its variance is
    ``ELO^2 (A H^-1 A^T)_ii``.
    """
    n_edges = len(lo)
    games = wins[:n_edges] + wins[n_edges:]
    p = _sigmoid(theta[lo] - theta[hi])
    curv = games * p * (1.0 - p)
    hess = np.diag(np.full(k, precision))
    np.add.at(hess, (lo, hi), -curv)
    np.add.at(hess, (hi, lo), -curv)
    np.add.at(hess, (lo, lo), curv)
    np.add.at(hess, (hi, hi), curv)
    cov = np.linalg.inv(hess)
    a = np.eye(k)
    if anchor is None:
        a -= 1.0 / k
    else:
        a[:, anchor] -= 1.0
    var = np.einsum("ij,jk,ik->i", a, cov, a)
    out: FloatArray = ELO * np.sqrt(np.maximum(var, 0.0))
    return out


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def _scatter(values: FloatArray, index: npt.NDArray[np.intp], k: int) -> FloatArray:
    """``out[s, a] = sum of values[s, e] over the edges e with index[e] == a``."""
    s = values.shape[0]
    flat = (np.arange(s)[:, None] * k + index[None, :]).ravel()
    out = np.bincount(flat, weights=values.ravel(), minlength=s * k)
    return out.astype(np.float64, copy=False).reshape(s, k)


def _objective(
    theta: FloatArray,
    won: FloatArray,
    lost: FloatArray,
    lo: npt.NDArray[np.intp],
    hi: npt.NDArray[np.intp],
    precision: float,
) -> FloatArray:
    """Negative log posterior per problem (``d = theta_lo - theta_hi`` per edge)."""
    d = theta[:, lo] - theta[:, hi]
    # W_lo softplus(-d) + W_hi softplus(d), with softplus(-d) = softplus(d) - d.
    loss = ((won + lost) * np.logaddexp(0.0, d) - won * d).sum(axis=1)
    out: FloatArray = loss + 0.5 * precision * (theta**2).sum(axis=1)
    return out


def _newton(
    wins: FloatArray,
    lo: npt.NDArray[np.intp],
    hi: npt.NDArray[np.intp],
    k: int,
    precision: float,
    *,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> FloatArray:
    """Maximise the log posterior for a batch of problems on one comparison graph.

    ``wins[s, 0, e]`` and ``wins[s, 1, e]`` are problem ``s``'s wins of ``lo[e]`` over
    ``hi[e]`` and of ``hi[e]`` over ``lo[e]``. Per edge ``d = theta_lo - theta_hi``,
    ``p = sigma(d)``; the gradient of the negative log posterior is ``sum_e (N p - W_lo)``
    into ``lo``, minus that into ``hi``, plus ``theta / tau^2``; the Hessian is the
    graph Laplacian with edge weights ``N p (1 - p)`` plus ``I / tau^2``. Work per
    iteration is O(S E) plus the batched K x K solve. Returns ``theta``, ``(S, K)``.
    """
    s = wins.shape[0]
    won, lost = wins[:, 0, :], wins[:, 1, :]
    games = won + lost
    theta = np.zeros((s, k))
    value = _objective(theta, won, lost, lo, hi, precision)
    diag = np.arange(k)
    active = np.arange(s)
    for _ in range(max_iter):
        if len(active) == s:
            t, w_, l_, n_, f0 = theta, won, lost, games, value
        else:
            t, w_, l_, n_ = theta[active], won[active], lost[active], games[active]
            f0 = value[active]
        p = _sigmoid(t[:, lo] - t[:, hi])
        r = n_ * p - w_
        grad = _scatter(r, lo, k) - _scatter(r, hi, k) + precision * t
        curv = n_ * p * (1.0 - p)
        hess = np.zeros((len(active), k, k))
        hess[:, lo, hi] = -curv
        hess[:, hi, lo] = -curv
        hess[:, diag, diag] = _scatter(curv, lo, k) + _scatter(curv, hi, k) + precision
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        # Backtracking: halve the step where the objective does not fall enough.
        decrease = (grad * step).sum(axis=1)  # > 0: hess is positive definite
        scale = np.ones(len(active))
        for _halving in range(40):
            f1 = _objective(t - scale[:, None] * step, w_, l_, lo, hi, precision)
            slack = 1e-12 * (1.0 + np.abs(f0))
            bad = f1 > f0 - 1e-4 * scale * decrease + slack
            if not bad.any():
                break
            scale = np.where(bad, 0.5 * scale, scale)
        moved = scale[:, None] * step
        theta[active] = t - moved
        value[active] = f1
        still = np.abs(moved).max(axis=1) > tol
        if not still.any():
            break
        active = active[still]
    return theta
