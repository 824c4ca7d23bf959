"""Evaluation during and after training, through the arena's own match runner.

A policy under training is wrapped as an in-process agent source, so it is
judged exactly as a submitted package would be: same seating, same seeds,
same forfeit rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arena.limits import Limits
from arena.protocol import AgentContext
from arena.registry import BuiltinAgent, get_env
from arena.runner import unique_labels
from arena.series import play_series
from arena.sources import AgentSource, builtin_source, resolve_agent


def policy_source(
    name: str, factory: Callable[[AgentContext], Any], *, kind: str = "other"
) -> AgentSource:
    """An in-process agent source around ``factory(ctx) -> Agent`` (a trusted built-in)."""
    return builtin_source(BuiltinAgent(name=name, factory=factory, kind=kind))


@dataclass(frozen=True)
class Score:
    """Results of the learner over a series, from its side."""

    games: int
    wins: int
    draws: int
    losses: int
    mean_return: float

    @property
    def win_rate(self) -> float:
        return self.wins / self.games

    @property
    def score(self) -> float:
        """Chess-style score: a win 1, a draw 1/2."""
        return (self.wins + 0.5 * self.draws) / self.games


def evaluate(
    env_id: str,
    learner: AgentSource,
    opponent: AgentSource | str,
    *,
    games: int,
    seed: int,
    move_timeout_s: float = 30.0,
) -> Score:
    """Play ``games`` between ``learner`` and ``opponent`` (seats alternate) and score them."""
    spec = get_env(env_id)
    other = resolve_agent(opponent) if isinstance(opponent, str) else opponent
    limits = Limits(move_timeout_s=move_timeout_s, init_timeout_s=120.0)
    results = play_series(spec, [learner, other], games=games, seed=seed, limits=limits)
    me = unique_labels([learner.label, other.label])[0]
    wins = draws = losses = 0
    total = 0.0
    for result in results:
        slot = result.labels.index(me)  # seats alternate, so find the learner's side
        outcome = result.outcome(slot)
        wins += outcome == "win"
        draws += outcome == "draw"
        losses += outcome == "loss"
        total += result.side_returns()[slot]
    return Score(games, wins, draws, losses, total / max(games, 1))
