"""Cross-play on cooperative envs: seats of two packages mixed in one team.

A cooperative team trained together may rely on conventions only its own
members share. Cross-play seats every combination of package A and package B
across the team's seats (``2^k`` line-ups for ``k`` seats, the two pure teams
included) and reports each line-up's mean team return (sum over the team's
seats) with a 95% interval. Agents fill single seats here, so a package must
accept any seat of the roles it declares (trained packages do: one actor per
seat). The matches are played like any other (same runner, sandbox, seeds;
every line-up sees the same ``games`` seeds) but are not stored or rated: a
mixed team has no single owner to rate.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.limits import Limits
from arena.registry import get_env
from arena.runner import play_match
from arena.series import game_seed
from arena.sources import resolve_agent
from arena.specs import EnvSpec, Side
from tournaments.leaderboard import mean_interval


@dataclass
class CrossPlayRow:
    """One line-up: ``seats`` maps each seat to ``A`` or ``B``."""

    lineup: str  # e.g. "A A B", in seat order
    seats: dict[str, str]
    mixed: bool
    games: int
    team_return: float
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def per_seat_spec(spec: EnvSpec) -> EnvSpec:
    """The cooperative ``spec`` with one side per seat, so each seat can have its own agent.

    Raises:
        ArenaError: the env has more than one team (nothing to mix).
    """
    if len(spec.teams) != 1:
        raise ArenaError(
            f"cross-play mixes seats of one team; {spec.env_id} has {len(spec.teams)} teams "
            "(use arena match for competitive envs)"
        )
    sides = tuple(Side(s.role, (seat,), s.team) for s in spec.sides for seat in s.seats)
    return dataclasses.replace(spec, sides=sides)


def crossplay(
    env_id: str,
    agent_a: str,
    agent_b: str,
    *,
    games: int = 10,
    seed: int = 0,
    limits: Limits | None = None,
) -> list[CrossPlayRow]:
    """Play every A/B line-up of the team's seats ``games`` times; pure teams first.

    Raises:
        ArenaError: unknown env or agent, a competitive env, an agent that does
            not declare the env or a role, or ``games < 1``.
    """
    if games < 1:
        raise ArenaError(f"--games must be at least 1, got {games}")
    base = get_env(env_id)
    base.require()
    spec = per_seat_spec(base)
    sources = {"A": resolve_agent(agent_a), "B": resolve_agent(agent_b)}
    for source in sources.values():
        if not source.supports(env_id):
            raise ArenaError(f"agent '{source.label}' does not declare env '{env_id}'")
        for role in spec.roles:
            if not source.can_fill(role):
                raise ArenaError(f"agent '{source.label}' cannot fill role '{role}' of {env_id}")
    seats = [side.seats[0] for side in spec.sides]
    lineups = sorted(itertools.product("AB", repeat=len(seats)), key=lambda x: (len(set(x)) > 1, x))
    rows = []
    env = spec.build()
    with HostPool(limits or Limits()) as hosts:
        for lineup in lineups:
            returns = []
            for game in range(games):
                result = play_match(
                    spec,
                    [sources[x] for x in lineup],
                    seed=game_seed(seed, game),
                    limits=limits,
                    env=env,
                    hosts=hosts,
                    record_actions=False,
                )
                returns.append(math.fsum(s.reward for s in result.seats))
            mean, low, high = mean_interval(returns)
            rows.append(
                CrossPlayRow(
                    lineup=" ".join(lineup),
                    seats=dict(zip(seats, lineup, strict=True)),
                    mixed=len(set(lineup)) > 1,
                    games=games,
                    team_return=round(mean, 3),
                    low=None if low is None else round(low, 3),
                    high=None if high is None else round(high, 3),
                )
            )
    return rows
