"""The match runner: one loop for turn-based (AEC) and simultaneous (parallel) envs.

Every failure of an agent becomes a recorded forfeit (``error``, ``timeout``,
``illegal``), never an exception out of :func:`play_match`. The offending seat's
team ranks last; the other teams rank by their score so far.
"""

from __future__ import annotations

import contextlib
import math
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.errors import ArenaError
from arena.protocol import AgentContext
from arena.result import MatchResult, SeatResult
from arena.sources import OUTPUT_LIMIT, AgentLoadError, AgentSource, BoundedOutput
from arena.specs import EnvSpec


@dataclass(frozen=True)
class Limits:
    """Per-match limits. ``memory_mb`` and CPU caps need the sandbox to be enforced.

    Attributes:
        move_timeout_s: wall-clock limit for one ``act`` call.
        init_timeout_s: wall-clock limit for ``make_agent`` plus the first ``reset``.
        memory_mb: memory cap per agent process (sandboxed seats only).
        max_steps: safety cap on env steps; a match reaching it ends as it stands.
    """

    move_timeout_s: float = 1.0
    init_timeout_s: float = 30.0
    memory_mb: int | None = None
    max_steps: int = 1_000_000


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


def _check_action(space: Any) -> Callable[[Any, Any], tuple[Any, str | None]]:
    """Build a validator ``(action, mask) -> (clean action, error or None)`` for a space."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        start, n = int(space.start), int(space.n)

        def check_discrete(action: Any, mask: Any) -> tuple[Any, str | None]:
            if isinstance(action, (bool, np.bool_)):
                return None, f"expected an integer action, got bool {action!r}"
            if isinstance(action, (int, np.integer)):
                a = int(action)
            elif (
                isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu"
            ):
                a = int(action)
            else:
                shown = repr(action)[:80]
                return None, f"expected an integer action, got {type(action).__name__} {shown}"
            if not start <= a < start + n:
                return None, f"action {a} is outside the action space {space}"
            if mask is not None and not mask[a - start]:
                return None, f"action {a} is masked out (not legal in this position)"
            return a, None

        return check_discrete

    if isinstance(space, spaces.Box):

        def check_box(action: Any, mask: Any) -> tuple[Any, str | None]:
            try:
                arr = np.asarray(action, dtype=space.dtype)
            except (TypeError, ValueError):
                return None, f"expected an array of floats, got {type(action).__name__}"
            if arr.shape != space.shape:
                return None, f"expected an action of shape {space.shape}, got {arr.shape}"
            if not np.all(np.isfinite(arr)):
                return None, "action contains NaN or infinity"
            if not space.contains(arr):
                return None, f"action {arr.tolist()} is outside the bounds of {space}"
            return arr, None

        return check_box

    def check_other(action: Any, mask: Any) -> tuple[Any, str | None]:
        if not space.contains(action):
            return None, f"action {action!r} is outside the action space {space}"
        return action, None

    return check_other


def _loggable(action: Any) -> Any:
    if isinstance(action, np.ndarray):
        return action.tolist()
    return action


@dataclass
class _Seat:
    """A seat during a match: its agent instance and how to check its actions."""

    name: str
    owner: int
    source: AgentSource
    agent: Any
    check: Callable[[Any, Any], tuple[Any, str | None]]
    sink: BoundedOutput | None = None
    result: SeatResult = field(default=None)  # type: ignore[assignment]


def _call(seat: _Seat, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call into an agent; a package's output is captured rather than printed."""
    if seat.sink is None:
        return fn(*args, **kwargs)
    with (
        contextlib.redirect_stdout(seat.sink),
        contextlib.redirect_stderr(seat.sink),
        seat.source.activated(),
    ):
        return fn(*args, **kwargs)


def _seat_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0] & 0x7FFFFFFF)


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
) -> MatchResult:
    """Play one match and return its result; agent failures become forfeits.

    Args:
        spec: the env to play.
        sources: agents in the env's side order (see :func:`side_owners`).
        seed: the match seed: env reset seed, and the root of every seat's seed.
        limits: time limits; defaults to :class:`Limits`.
        device: what the arena grants to agents (``ctx.device``).
        env: an env from ``spec`` to reuse (AEC if turn-based, else parallel);
            reset here, so series can skip rebuilding it.
        env_kwargs: passed to the env factory when ``env`` is None.
        record_actions: keep the action log (needed for replays).
    """
    limits = limits or Limits()
    owners = side_owners(spec, len(sources))
    labels = unique_labels([s.label for s in sources])
    if env is None:
        env = spec.build(**(env_kwargs or {}))

    started = time.perf_counter()
    actions: list[list[Any]] = []
    seats: dict[str, _Seat] = {}
    results: list[SeatResult] = []
    forfeit: _Forfeit | None = None
    steps = 0

    if spec.turn_based:
        env.reset(seed=seed)
    else:
        observations, _ = env.reset(seed=seed)

    # Seats, in side order; make_agent is called once per seat (decentralised execution).
    seat_index = 0
    for owner, side_ids in enumerate(owners):
        source = sources[owner]
        for side_id in side_ids:
            side = spec.sides[side_id]
            for seat_name in side.seats:
                result = SeatResult(
                    seat=seat_name, side=owner, team=side.team, role=side.role, label=labels[owner]
                )
                results.append(result)
                if forfeit is not None:
                    continue
                obs_space = env.observation_space(seat_name)
                if spec.action_mask:
                    obs_space = obs_space["observation"]
                act_space = env.action_space(seat_name)
                agent_seed = _seat_seed(seed, seat_index)
                seat_index += 1
                ctx = AgentContext(
                    env_id=spec.env_id,
                    agent_id=seat_name,
                    role=side.role,
                    observation_space=obs_space,
                    action_space=act_space,
                    package_dir=source.package_dir,
                    seed=agent_seed,
                    device=device,
                    move_timeout_s=limits.move_timeout_s,
                )
                sink = None if source.builtin is not None else BoundedOutput()
                seat = _Seat(seat_name, owner, source, None, _check_action(act_space), sink, result)
                seats[seat_name] = seat
                t0 = time.perf_counter()
                try:
                    make_agent = source.factory()
                    seat.agent = _call(seat, make_agent, ctx)
                    _call(seat, seat.agent.reset, seed=agent_seed)
                except AgentLoadError as exc:
                    forfeit = _Forfeit(seat_name, "error", f"{exc}\n{exc.detail}")
                except BaseException as exc:  # agent code may raise anything
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    forfeit = _Forfeit(seat_name, "error", _format_exc(exc))
                else:
                    if time.perf_counter() - t0 > limits.init_timeout_s:
                        forfeit = _Forfeit(
                            seat_name,
                            "timeout",
                            f"set-up took {time.perf_counter() - t0:.2f}s, "
                            f"limit {limits.init_timeout_s}s",
                        )

    returns = dict.fromkeys((s.seat for s in results), 0.0)
    move_timeout = limits.move_timeout_s

    def act(seat: _Seat, observation: Any) -> Any:
        if spec.action_mask:
            obs, mask = observation["observation"], observation["action_mask"]
        else:
            obs, mask = observation, None
        t0 = time.perf_counter()
        try:
            if seat.sink is None:
                action = seat.agent.act(obs, action_mask=mask)
            else:
                action = _call(seat, seat.agent.act, obs, action_mask=mask)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise _Forfeit(seat.name, "error", _format_exc(exc)) from None
        elapsed = time.perf_counter() - t0
        if elapsed > move_timeout:
            raise _Forfeit(seat.name, "timeout", f"act took {elapsed:.3f}s, limit {move_timeout}s")
        clean, problem = seat.check(action, mask)
        if problem is not None:
            raise _Forfeit(seat.name, "illegal", problem)
        return clean

    if forfeit is None:
        try:
            if spec.turn_based:
                for name in env.agent_iter(limits.max_steps):
                    observation, reward, terminated, truncated, _ = env.last()
                    returns[name] += reward
                    if terminated or truncated:
                        env.step(None)
                        continue
                    action = act(seats[name], observation)
                    if record_actions:
                        actions.append([name, _loggable(action)])
                    env.step(action)
                    steps += 1
            else:
                while env.agents and steps < limits.max_steps:
                    joint = {}
                    for name in env.agents:
                        joint[name] = act(seats[name], observations[name])
                    if record_actions:
                        actions.append([[n, _loggable(a)] for n, a in joint.items()])
                    observations, rewards, _, _, _ = env.step(joint)
                    for name, reward in rewards.items():
                        returns[name] += reward
                    steps += 1
        except _Forfeit as exc:
            forfeit = exc

    for seat in seats.values():
        close = getattr(seat.agent, "close", None)
        if callable(close):
            with contextlib.suppress(BaseException):
                _call(seat, close)

    if forfeit is not None:
        for result in results:
            if result.seat == forfeit.seat:
                result.forfeit, result.error = forfeit.reason, forfeit.error
    for result in results:
        result.reward = float(returns[result.seat])
    side_ranks = _rank(spec, results, len(sources))
    for result in results:
        result.rank = side_ranks[result.side]

    outputs: dict[str, str] = {}
    for owner, source in enumerate(sources):
        if source.import_output:
            outputs[labels[owner]] = source.import_output
    for seat in seats.values():
        if seat.sink is not None and seat.sink.tell():
            label = labels[seat.owner]
            outputs[label] = outputs.get(label, "") + seat.sink.getvalue()
    return MatchResult(
        env_id=spec.env_id,
        env_version=spec.version,
        seed=seed,
        agents=[s.info for s in sources],
        labels=labels,
        seats=results,
        side_ranks=side_ranks,
        steps=steps,
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


def _format_exc(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip()
