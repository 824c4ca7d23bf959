"""A conformance check for agents, in the spirit of ``pettingzoo.test.api_test``.

:func:`agent_test` plays a few games of one env with one agent per seat and
asserts what the agent protocol promises: ``make_agent`` returns something with
``reset`` and ``act``; every action is in the action space and legal under the
mask; the same seeds give the same actions. Failures are ``AssertionError``\\ s
whose message names the seat, the step and the fix.

It finds the env through :mod:`arena.registry`, never by importing ``envs``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from arena.actions import ActionCheck, action_checker, loggable
from arena.drive import Act, Game
from arena.protocol import AgentContext
from arena.registry import get_env
from arena.seeding import derive_seed
from arena.specs import EnvSpec

# (seat, fingerprint of the observation it saw, action it returned)
_Step = tuple[str, str, Any]


def agent_test(
    factory: Callable[[AgentContext], Any],
    env_id: str,
    *,
    games: int = 3,
    seed: int = 0,
    max_steps: int = 10_000,
    package_dir: Path | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> None:
    """Check that an agent plays ``env_id`` legally and deterministically.

    The agent fills every seat. The whole run (``games`` games) is played twice
    from scratch with the same seeds, and the two action sequences must match.

    Args:
        factory: ``make_agent(ctx) -> Agent``, called once per seat and run.
        env_id: arena env id, e.g. ``connect_four_v3``.
        games: games per run; each starts with ``env.reset(seed=seed + game)``.
        seed: root of the env and agent seeds.
        max_steps: cap on env steps per game; a game reaching it is cut short
            (not a failure), which keeps slow games such as chess cheap.
        package_dir: passed as ``ctx.package_dir`` (None for built-ins).
        env_kwargs: passed to the env factory, e.g. ``{"continuous_actions": True}``.

    Raises:
        AssertionError: the agent broke the protocol; the message says how to fix it.
    """
    spec = get_env(env_id)
    runs = [
        _play(
            spec,
            factory,
            env_kwargs or {},
            games=games,
            seed=seed,
            max_steps=max_steps,
            pkg=package_dir,
        )
        for _ in range(2)
    ]
    _compare_runs(env_id, *runs)


def _make_env(spec: EnvSpec, env_kwargs: dict[str, Any]) -> Any:
    factory = spec.make_aec if spec.turn_based else spec.make_parallel
    assert factory is not None, (
        f"{spec.env_id}: the spec is simultaneous (turn_based=False) but has no "
        "make_parallel factory; give the EnvSpec a parallel factory"
    )
    return factory(**env_kwargs)


def _play(
    spec: EnvSpec,
    factory: Callable[[AgentContext], Any],
    env_kwargs: dict[str, Any],
    *,
    games: int,
    seed: int,
    max_steps: int,
    pkg: Path | None,
) -> list[list[_Step]]:
    """One run: fresh env and agents, ``games`` games; returns each game's steps."""
    env = _make_env(spec, env_kwargs)
    try:
        return _play_games(spec, env, factory, games=games, seed=seed, max_steps=max_steps, pkg=pkg)
    finally:
        env.close()


def _play_games(
    spec: EnvSpec,
    env: Any,
    factory: Callable[[AgentContext], Any],
    *,
    games: int,
    seed: int,
    max_steps: int,
    pkg: Path | None,
) -> list[list[_Step]]:
    env.reset(seed=seed)
    sides = spec.seat_side()
    agents: dict[str, Any] = {}
    checks: dict[str, ActionCheck] = {}
    for index, seat in enumerate(env.possible_agents):
        obs_space = env.observation_space(seat)
        if spec.action_mask:
            obs_space = obs_space["observation"]
        act_space = env.action_space(seat)
        side = sides.get(seat)
        ctx = AgentContext(
            env_id=spec.env_id,
            agent_id=seat,
            role=side.role if side is not None else seat,
            observation_space=obs_space,
            action_space=act_space,
            package_dir=pkg,
            seed=derive_seed(seed, index),
        )
        try:
            agent = factory(ctx)
        except Exception as exc:
            raise AssertionError(
                f"{spec.env_id} seat {seat}: make_agent(ctx) raised {exc!r}; "
                "it must build an agent from ctx alone"
            ) from exc
        for method in ("reset", "act"):
            assert callable(getattr(agent, method, None)), (
                f"{spec.env_id} seat {seat}: make_agent returned {type(agent).__name__}, "
                f"which has no {method}() method; return an object with "
                "reset(*, seed=None) and act(observation, *, action_mask=None)"
            )
        agents[seat] = agent
        checks[seat] = action_checker(act_space)

    log: list[list[_Step]] = []
    try:
        for game in range(games):
            for index, seat in enumerate(env.possible_agents):
                _call(
                    spec,
                    seat,
                    game,
                    "reset",
                    agents[seat].reset,
                    seed=derive_seed(seed, game, index),
                )
            steps: list[_Step] = []
            log.append(steps)
            act = _actor(spec, agents, checks, steps, game=game)
            Game(spec, env, seed + game).play(act, max_steps=max_steps)
    finally:
        for agent in agents.values():
            close = getattr(agent, "close", None)
            if callable(close):
                close()
    return log


def _actor(
    spec: EnvSpec,
    agents: dict[str, Any],
    checks: dict[str, ActionCheck],
    steps: list[_Step],
    *,
    game: int,
) -> Act:
    """The game loop's ``act``: ask the seat, check the action as a match would, log it."""

    def act(seat: str, obs: Any, mask: Any) -> Any:
        step = len(steps)
        action = _call(
            spec, seat, game, f"act (step {step})", agents[seat].act, obs, action_mask=mask
        )
        clean, problem = checks[seat](action, mask)
        assert problem is None, (
            f"{spec.env_id} seat {seat}, game {game}, step {step}: {problem.advice}"
        )
        # Fingerprint the observation as the env gave it (mask included), so a
        # mask that differs between runs is reported as the env's doing.
        seen = obs if mask is None else {"observation": obs, "action_mask": mask}
        steps.append((seat, _fingerprint(seen), loggable(clean)))
        return clean

    return act


def _call(
    spec: EnvSpec,
    seat: str,
    game: int,
    what: str,
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise AssertionError(
            f"{spec.env_id} seat {seat}, game {game}: {what} raised {exc!r}; "
            "an agent must not raise (the arena records it as a forfeit)"
        ) from exc


def _fingerprint(observation: Any) -> str:
    """A short digest of an observation, to tell env from agent non-determinism."""
    digest = hashlib.blake2b(digest_size=8)

    def feed(x: Any) -> None:
        if isinstance(x, dict):
            for key in sorted(x, key=str):
                digest.update(str(key).encode())
                feed(x[key])
        elif isinstance(x, (tuple, list)):
            for item in x:
                feed(item)
        else:
            arr = np.asarray(x)
            digest.update(str(arr.dtype).encode() + str(arr.shape).encode())
            digest.update(np.ascontiguousarray(arr).tobytes())

    feed(observation)
    return digest.hexdigest()


def _compare_runs(env_id: str, first: list[list[_Step]], second: list[list[_Step]]) -> None:
    for game, (a, b) in enumerate(zip(first, second, strict=True)):
        for step, (x, y) in enumerate(zip(a, b, strict=False)):
            if x == y:
                continue
            assert x[:2] == y[:2], (
                f"{env_id} game {game}, step {step}: the env gave different observations "
                "in two runs with the same seed (agent actions matched until here); "
                "the env is not deterministic under reset(seed=...)"
            )
            raise AssertionError(
                f"{env_id} seat {x[0]}, game {game}, step {step}: the same seeds gave "
                f"action {x[2]!r} in one run and {y[2]!r} in the other; draw random "
                "numbers only from a generator seeded with ctx.seed and re-seeded in "
                "reset(seed=...), e.g. numpy.random.default_rng(seed), never from the "
                "global random or numpy.random state"
            )
        assert len(a) == len(b), (
            f"{env_id} game {game}: {len(a)} steps in one run and {len(b)} in the "
            "other with the same seeds; the agent or env is not deterministic"
        )
