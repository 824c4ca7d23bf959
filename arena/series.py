"""Series of matches between the same agents: seats, seeds, labels and the summary.

A series rotates seats in symmetric games and gives each full rotation one seed
(paired seeds). :mod:`arena.play` stores a series (``arena match``); tournaments,
``arena play`` and the trainers' evaluation play theirs through the same rules.

Role-asymmetric games (:func:`asymmetric`: simple_tag's predators and prey) keep
each agent in its role by default. With ``swap_roles`` (``arena match``, when
both agents fill every role: :func:`swaps_roles`) they alternate roles like
symmetric games alternate seats, each pair of games on one seed: a duplicate
pair, which the recorder rates as one comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.hosts import HostPool
from arena.rating import asymmetric as asymmetric_sides
from arena.result import MatchResult
from arena.runner import Limits, play_match, side_owners, unique_labels
from arena.seeding import derive_seed
from arena.sources import AgentSource
from arena.specs import EnvSpec

__all__ = [
    "SeriesGame",
    "SeriesReport",
    "asymmetric",
    "game_seed",
    "play_series",
    "relabel",
    "seating",
    "series_plan",
    "summarize",
    "swaps_roles",
]


def game_seed(seed: int, *keys: int) -> int:
    """The match seed of game ``keys`` (game number, run, round...) under a series' root seed.

    The one seed rule, :func:`arena.seeding.derive_seed`; stored matches depend on it.
    """
    return derive_seed(seed, *keys)


def asymmetric(spec: EnvSpec) -> bool:
    """Whether ``spec`` is role-asymmetric: two roles or more on two teams or more.

    simple_tag, simple_adversary, simple_push, simple_crypto, simple_world_comm;
    not board games (one role) nor cooperative games (one team).
    """
    return asymmetric_sides((side.role, side.team) for side in spec.sides)


def swaps_roles(spec: EnvSpec, sources: Sequence[AgentSource]) -> bool:
    """Whether a series of ``sources`` on ``spec`` alternates roles in duplicate pairs.

    True in a role-asymmetric env with one agent per side, each on its own team,
    when every agent can fill every role.
    """
    return (
        asymmetric(spec)
        and len(sources) == len(spec.sides) == len(spec.teams)
        and all(source.can_fill(role) for source in sources for role in spec.roles)
    )


def seating(spec: EnvSpec, n_agents: int, game: int, *, swap_roles: bool = False) -> list[int]:
    """The order agents sit in for game ``game`` of a series.

    In symmetric games (one role filled several times) the order rotates from game
    to game, so in two-player games the seats alternate; with ``swap_roles``, so
    do the roles of an asymmetric game. Otherwise agents keep the roles they were
    given.
    """
    side_owners(spec, n_agents)  # raises on a wrong count
    if not (spec.symmetric or swap_roles):
        return list(range(n_agents))
    shift = game % n_agents
    return [(i + shift) % n_agents for i in range(n_agents)]


@dataclass(frozen=True)
class SeriesGame:
    """One game of a series: who sits where, its seed, and its duplicate pair.

    Attributes:
        order: agent indices in side order.
        seed: the match seed.
        pair: with ``swap_roles``, the other game of this game's duplicate pair
            (``2k`` and ``2k + 1``; the last game of an odd series has none).
    """

    order: list[int]
    seed: int
    pair: int | None = None


def series_plan(
    spec: EnvSpec, n_agents: int, seed: int, games: int, *, swap_roles: bool = False
) -> list[SeriesGame]:
    """Every game of a series, as :func:`play_series` plays them.

    ``spec`` is the spec of the built env (``spec.for_env(env)``); ``swap_roles``
    only counts in asymmetric envs (pass :func:`swaps_roles`).
    """
    swap_roles = swap_roles and asymmetric(spec)
    rotation = n_agents if spec.symmetric or swap_roles else 1
    plan = []
    for game in range(games):
        partner = game ^ 1 if swap_roles and (game ^ 1) < games else None
        order = seating(spec, n_agents, game, swap_roles=swap_roles)
        plan.append(SeriesGame(order, game_seed(seed, game // rotation), partner))
    return plan


def play_series(
    spec: EnvSpec,
    sources: Sequence[AgentSource],
    *,
    games: int,
    seed: int,
    limits: Limits | None = None,
    device: str = "cpu",
    env_kwargs: dict[str, Any] | None = None,
    on_result: Callable[[MatchResult], None] | None = None,
    hosts: HostPool | None = None,
    swap_roles: bool = False,
) -> list[MatchResult]:
    """Play ``games`` matches, rotating seats in symmetric games.

    Each full rotation of seats shares one seed (paired seeds), so in a two-player
    game both seat orders see the same deal, dice or start position. ``hosts``
    keeps sandboxed workers alive across calls; by default the series owns one.
    ``swap_roles`` (see :func:`swaps_roles`) rotates the agents of an asymmetric
    game through the roles the same way: games ``2k`` and ``2k + 1`` are a
    duplicate pair.
    """
    n = len(sources)
    labels = unique_labels([s.label for s in sources])
    env = spec.build(**(env_kwargs or {}))
    spec = spec.for_env(env)
    swap_roles = swap_roles and swaps_roles(spec, sources)
    results = []
    pool = hosts if hosts is not None else HostPool(limits or Limits())
    try:
        for game in series_plan(spec, n, seed, games, swap_roles=swap_roles):
            order = game.order
            result = play_match(
                spec,
                [sources[i] for i in order],
                seed=game.seed,
                limits=limits,
                device=device,
                env=env,
                hosts=pool,
            )
            relabel(result, [labels[i] for i in order])
            if on_result is not None:
                on_result(result)
            results.append(result)
    finally:
        if hosts is None:
            pool.close()
    return results


def relabel(result: MatchResult, labels: list[str]) -> None:
    """Give a match's agents the labels of the series they belong to.

    The captured output is keyed by label too: renamed with the seats, so that from
    the second game on (seats swapped) an agent's output stays under its own name.
    """
    renamed = dict(zip(result.labels, labels, strict=True))
    result.outputs = {renamed.get(k, k): v for k, v in result.outputs.items()}
    result.labels = labels
    for seat in result.seats:
        seat.label = labels[seat.side]


def summarize(results: Sequence[MatchResult]) -> dict[str, dict[str, Any]]:
    """Per label: wins, draws, losses, forfeits by reason and mean return."""
    summary: dict[str, dict[str, Any]] = {}
    returns: dict[str, list[float]] = {}
    for result in results:
        totals = result.side_returns()
        for slot, label in enumerate(result.labels):
            row = summary.setdefault(
                label, {"wins": 0, "draws": 0, "losses": 0, "forfeits": {}, "mean_return": 0.0}
            )
            row[{"win": "wins", "draw": "draws", "loss": "losses"}[result.outcome(slot)]] += 1
            returns.setdefault(label, []).append(totals[slot])
        for seat in result.forfeits:
            forfeits = summary[seat.label]["forfeits"]
            forfeits[seat.forfeit] = forfeits.get(seat.forfeit, 0) + 1
    for label, values in returns.items():
        summary[label]["mean_return"] = float(np.mean(values))
    return summary


@dataclass
class SeriesReport:
    """What ``arena match`` did: the summary, plus the stored match ids."""

    env_id: str
    games: int
    seed: int
    summary: dict[str, dict[str, Any]]
    match_ids: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env_id,
            "games": self.games,
            "seed": self.seed,
            "summary": self.summary,
            "match_ids": self.match_ids,
        }
