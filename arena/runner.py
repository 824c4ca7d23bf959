"""The match runner: agents play one match, on the loop of :mod:`arena.drive`.

Every failure of an agent becomes a recorded forfeit (``error``, ``timeout``,
``illegal``), never an exception out of :func:`play_match`. The offending seat's
team ranks last; the other teams rank by their score so far.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from arena.actions import ActionCheck, action_checker
from arena.drive import Game
from arena.errors import ArenaError
from arena.faults import AgentFault
from arena.hosts import Host, HostPool
from arena.limits import Limits
from arena.protocol import AgentContext
from arena.result import MatchResult, SeatResult
from arena.seeding import derive_seed
from arena.sources import OUTPUT_LIMIT, AgentSource
from arena.specs import EnvSpec

__all__ = ["Limits", "play_match", "side_owners", "unique_labels"]


class _Forfeit(Exception):
    def __init__(self, seat: str, reason: str, error: str) -> None:
        super().__init__(error)
        self.seat, self.reason, self.error = seat, reason, error


def side_owners(spec: EnvSpec, n_agents: int) -> list[list[int]]:
    """Which sides each of ``n_agents`` agents fills, in the env's side order.

    One agent per side fills the sides in order; with one agent per team instead,
    each agent fills every side of its team (e.g. one package for a cooperative
    speaker and listener).

    Raises:
        ArenaError: the count fits neither.
    """
    if n_agents == len(spec.sides):
        return [[i] for i in range(n_agents)]
    if n_agents == len(spec.teams):
        return [[i for i, s in enumerate(spec.sides) if s.team == t] for t in spec.teams]
    roles = ", ".join(s.role for s in spec.sides)
    n_sides = len(spec.sides)
    counts = f"{n_sides} agent{'s' if n_sides > 1 else ''}, one per side ({roles})"
    if len(spec.teams) != n_sides:
        counts += f", or {len(spec.teams)}, one per team"
    raise ArenaError(f"{spec.env_id} needs {counts}, got {n_agents}")


def unique_labels(names: Sequence[str]) -> list[str]:
    """``["a", "a", "b"] -> ["a", "a#2", "b"]``: labels for agents playing one match."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return labels


def play_match(
    spec: EnvSpec,
    sources: Sequence[AgentSource],
    *,
    seed: int,
    limits: Limits | None = None,
    device: str = "cpu",
    env: Any = None,
    env_kwargs: dict[str, Any] | None = None,
    record_actions: bool = True,
    hosts: HostPool | None = None,
) -> MatchResult:
    """Play one match and return its result; agent failures become forfeits.

    Args:
        spec: the env to play.
        sources: agents in the env's side order (see :func:`side_owners`).
        seed: the match seed: env reset seed, and the root of every seat's seed.
        limits: time and resource limits; defaults to :class:`Limits`.
        device: what the arena grants to agents (``ctx.device``).
        env: an env from ``spec.build()`` to reuse; reset here, so a series can
            skip rebuilding it.
        env_kwargs: passed to the env factory when ``env`` is None.
        record_actions: keep the action log (needed for replays).
        hosts: where agents run, kept across a series (sandboxed workers start
            once); by default a pool for this match alone.
    """
    limits = limits or Limits()
    if env is None:
        env = spec.build(**(env_kwargs or {}))
    spec = spec.for_env(env)
    owners = side_owners(spec, len(sources))
    pool = hosts if hosts is not None else HostPool(limits)
    try:
        return _play(spec, sources, owners, seed, limits, device, env, record_actions, pool)
    finally:
        if hosts is None:
            pool.close()


def _play(
    spec: EnvSpec,
    sources: Sequence[AgentSource],
    owners: list[list[int]],
    seed: int,
    limits: Limits,
    device: str,
    env: Any,
    record_actions: bool,
    pool: HostPool,
) -> MatchResult:
    labels = unique_labels([s.label for s in sources])
    started = time.perf_counter()
    actions: list[list[Any]] = []
    results: list[SeatResult] = []
    forfeit: _Forfeit | None = None
    # Reset before the agents start: even a match forfeited at start-up leaves
    # the env at its start position (``arena play`` shows it).
    game = Game(spec, env, seed)

    # Contexts per agent, in side order; each host calls make_agent once per seat.
    contexts: list[list[AgentContext]] = [[] for _ in sources]
    seat_owner: dict[str, int] = {}
    checks: dict[str, ActionCheck] = {}
    for owner, side_ids in enumerate(owners):
        for side_id in side_ids:
            side = spec.sides[side_id]
            for seat_name in side.seats:
                results.append(
                    SeatResult(
                        seat=seat_name,
                        side=owner,
                        team=side.team,
                        role=side.role,
                        label=labels[owner],
                    )
                )
                obs_space = env.observation_space(seat_name)
                if spec.action_mask:
                    obs_space = obs_space["observation"]
                act_space = env.action_space(seat_name)
                contexts[owner].append(
                    AgentContext(
                        env_id=spec.env_id,
                        agent_id=seat_name,
                        role=side.role,
                        observation_space=obs_space,
                        action_space=act_space,
                        package_dir=sources[owner].package_dir,
                        seed=derive_seed(seed, len(seat_owner)),
                        device=device,
                        move_timeout_s=limits.move_timeout_s,
                    )
                )
                seat_owner[seat_name] = owner
                checks[seat_name] = action_checker(act_space)

    # The same source twice in one match (self-play) gets two hosts.
    occurrence: dict[int, int] = {}
    owner_hosts: list[Host] = []
    for source in sources:
        index = occurrence.get(id(source), 0)
        occurrence[id(source)] = index + 1
        owner_hosts.append(pool.host(source, index))

    pool.pause_except(owner_hosts)
    started_hosts: list[int] = []
    for owner, host in enumerate(owner_hosts):
        try:
            host.start_match(contexts[owner])
        except AgentFault as fault:
            forfeit = _Forfeit(
                fault.seat or contexts[owner][0].agent_id, fault.reason, fault.message
            )
            break
        started_hosts.append(owner)

    returns = dict.fromkeys(seat_owner, 0.0)
    move_timeout = limits.move_timeout_s
    bank = [limits.time_bank_s] * len(sources)
    seat_host = {seat: owner_hosts[owner] for seat, owner in seat_owner.items()}

    def act(name: str, obs: Any, mask: Any) -> Any:
        owner = seat_owner[name]
        t0 = time.perf_counter()
        try:
            action = seat_host[name].act(name, obs, mask, move_timeout + bank[owner])
        except AgentFault as fault:
            raise _Forfeit(name, fault.reason, fault.message) from None
        over = time.perf_counter() - t0 - move_timeout
        if over > 0:
            bank[owner] = max(0.0, bank[owner] - over)
        clean, problem = checks[name](action, mask)
        if problem is not None:
            raise _Forfeit(name, "illegal", problem.error)
        return clean

    if forfeit is None:
        try:
            game.play(
                act,
                max_steps=limits.max_steps,
                returns=returns,
                log=actions if record_actions else None,
            )
        except _Forfeit as exc:
            forfeit = exc

    outputs: dict[str, str] = {}
    for owner in started_hosts:
        text = owner_hosts[owner].end_match()
        if text:
            outputs[labels[owner]] = outputs.get(labels[owner], "") + text

    if forfeit is not None:
        for result in results:
            if result.seat == forfeit.seat:
                result.forfeit, result.error = forfeit.reason, forfeit.error
    for result in results:
        result.reward = float(returns[result.seat])
    side_ranks = _rank(spec, results, len(sources))
    for result in results:
        result.rank = side_ranks[result.side]

    return MatchResult(
        env_id=spec.env_id,
        env_version=spec.version,
        seed=seed,
        agents=[s.info for s in sources],
        labels=labels,
        seats=results,
        side_ranks=side_ranks,
        steps=game.steps,
        duration_s=time.perf_counter() - started,
        actions=actions,
        outputs={k: v[:OUTPUT_LIMIT] for k, v in outputs.items()},
    )


def _rank(spec: EnvSpec, results: list[SeatResult], n_agents: int) -> list[int]:
    """Rank each agent (side owner): teams by score, forfeiting agents last.

    A team's score is the sum or the mean of its seats' returns (``spec.team_score``);
    ranks are competition ranks (1 = best, equal scores share a rank). An agent
    that forfeits ranks below every team still playing; a teammate from another
    package keeps its team's rank.
    """
    team_rewards: dict[int, list[float]] = {}
    owner_team: dict[int, int] = {}
    forfeited: set[int] = set()
    for r in results:
        team_rewards.setdefault(r.team, []).append(r.reward)
        owner_team.setdefault(r.side, r.team)
        if r.forfeit:
            forfeited.add(r.side)
    score: dict[int, float] = {}
    for team, rewards in team_rewards.items():
        total = math.fsum(rewards)
        score[team] = total / len(rewards) if spec.team_score == "mean" else total
    live = {owner_team[o] for o in range(n_agents) if o not in forfeited}
    ranks = []
    for owner in range(n_agents):
        if owner in forfeited:
            ranks.append(1 + len(live))
        else:
            mine = score[owner_team[owner]]
            ranks.append(1 + sum(1 for t in live if score[t] > mine))
    return ranks
