"""Series of matches between the same agents: seats, seeds, labels and the summary.

A series rotates seats in symmetric games and gives each full rotation one seed
(paired seeds). :mod:`arena.play` stores a series (``arena match``); tournaments,
``arena play`` and the trainers' evaluation play theirs through the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.hosts import HostPool
from arena.result import MatchResult
from arena.runner import Limits, play_match, side_owners, unique_labels
from arena.seeding import derive_seed
from arena.sources import AgentSource
from arena.specs import EnvSpec

__all__ = ["SeriesReport", "game_seed", "play_series", "relabel", "seating", "summarize"]


def game_seed(seed: int, *keys: int) -> int:
    """The match seed of game ``keys`` (game number, run, round...) under a series' root seed.

    The one seed rule, :func:`arena.seeding.derive_seed`; stored matches depend on it.
    """
    return derive_seed(seed, *keys)


def seating(spec: EnvSpec, n_agents: int, game: int) -> list[int]:
    """The order agents sit in for game ``game`` of a series.

    In symmetric games (one role filled several times) the order rotates from game
    to game, so in two-player games the seats alternate. Otherwise agents keep the
    roles they were given.
    """
    side_owners(spec, n_agents)  # raises on a wrong count
    if not spec.symmetric:
        return list(range(n_agents))
    shift = game % n_agents
    return [(i + shift) % n_agents for i in range(n_agents)]


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
) -> list[MatchResult]:
    """Play ``games`` matches, rotating seats in symmetric games.

    Each full rotation of seats shares one seed (paired seeds), so in a two-player
    game both seat orders see the same deal, dice or start position. ``hosts``
    keeps sandboxed workers alive across calls; by default the series owns one.
    """
    n = len(sources)
    labels = unique_labels([s.label for s in sources])
    env = spec.build(**(env_kwargs or {}))
    spec = spec.for_env(env)
    rotation = n if spec.symmetric else 1
    results = []
    pool = hosts if hosts is not None else HostPool(limits or Limits())
    try:
        for game in range(games):
            order = seating(spec, n, game)
            result = play_match(
                spec,
                [sources[i] for i in order],
                seed=game_seed(seed, game // rotation),
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
    """Give a match's agents the labels of the series they belong to."""
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
