"""Several MPE particle envs stepped in lockstep, in this process, as padded arrays.

Why an in-process vector and not SuperSuit's vector wrappers: the machines this
arena trains on have two cores shared with other work, so worker processes would
compete with the learner for the same cores and add pickling on every step,
while one MPE step costs about 0.15 ms in-process. The vector drives each env's
``SimpleEnv`` world directly (``current_actions``, ``_execute_world_step``,
``observe``): the same physics, observations and rewards as the PettingZoo
parallel API (``tests/unit/test_vec_mpe.py`` checks trajectories match exactly),
without the AEC-to-parallel wrapper, which doubled the cost of a step.

Seats keep the env's ``possible_agents`` order. Observations and actions of
seats with different sizes (simple_tag's predators and prey) are zero-padded to
the largest, so that one batched network can serve every seat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from arena.specs import EnvSpec


@dataclass
class StepResult:
    """What one lockstep step of ``E`` envs and ``N`` seats returns.

    Attributes:
        next_obs: ``[E, N, obs_max]`` observations after the step (before any reset).
        rewards: ``[E, N]``.
        terminated: ``[E]``: a real end (bootstrap stops); a time limit is not one.
        done: ``[E]``: the episode ended (terminated or truncated), the env was reset.
        obs: ``[E, N, obs_max]`` what to act on next (reset observations where done).
        finished: seat returns ``[N]`` of every episode that ended in this step.
    """

    next_obs: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    done: np.ndarray
    obs: np.ndarray
    finished: list[np.ndarray] = field(default_factory=list)


class VecMPE:
    """``n_envs`` copies of one MPE env, reset automatically when an episode ends.

    Args:
        spec: the arena env (its AEC factory builds each copy).
        n_envs: copies stepped in lockstep.
        seed: env ``i`` is first reset with seed ``seed * 10_007 + i``.
        continuous: Box actions (``continuous_actions=True``) instead of Discrete.
        env_kwargs: passed to the env factory (``max_cycles``, ``local_ratio``...).
    """

    def __init__(
        self,
        spec: EnvSpec,
        n_envs: int,
        *,
        seed: int = 0,
        continuous: bool = False,
        env_kwargs: dict[str, Any] | None = None,
    ) -> None:
        kwargs = {**spec.kwargs, **(env_kwargs or {}), "continuous_actions": continuous}
        self.envs = [spec.make_aec(**kwargs).unwrapped for _ in range(n_envs)]
        first = self.envs[0]
        self.seats: list[str] = list(first.possible_agents)
        side_of = spec.seat_side()
        self.roles = [side_of[s].role for s in self.seats]
        self.teams = [side_of[s].team for s in self.seats]
        self.continuous = continuous
        self.obs_dims = [int(first.observation_space(s).shape[0]) for s in self.seats]
        act_spaces = [first.action_space(s) for s in self.seats]
        if continuous:
            self.act_dims = [int(a.shape[0]) for a in act_spaces]
            self.low = [float(np.min(a.low)) for a in act_spaces]
            self.high = [float(np.max(a.high)) for a in act_spaces]
        else:
            assert all(isinstance(a, spaces.Discrete) for a in act_spaces)
            self.act_dims = [int(a.n) for a in act_spaces]
        self.n_envs, self.n_agents = n_envs, len(self.seats)
        self.obs_max, self.act_max = max(self.obs_dims), max(self.act_dims)
        self.seed = seed
        self._returns = np.zeros((n_envs, self.n_agents))
        self._obs = np.zeros((n_envs, self.n_agents, self.obs_max), np.float32)

    def action_mask(self) -> np.ndarray:
        """``[N, act_max]``: 1 where a seat's action vector has a real entry."""
        mask = np.zeros((self.n_agents, self.act_max), np.float32)
        for i, dim in enumerate(self.act_dims):
            mask[i, :dim] = 1.0
        return mask

    def _observe(self, e: int, out: np.ndarray) -> None:
        env = self.envs[e]
        for i, seat in enumerate(self.seats):
            out[i, : self.obs_dims[i]] = env.observe(seat)

    def reset(self) -> np.ndarray:
        """Reset every copy with its seed; returns ``[E, N, obs_max]``."""
        for e, env in enumerate(self.envs):
            env.reset(seed=self.seed * 10_007 + e)
            self._observe(e, self._obs[e])
        self._returns[:] = 0.0
        return self._obs.copy()

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every copy; ``actions`` is ``[E, N]`` ints, or ``[E, N, act_max]`` floats.

        Continuous actions are clipped to the space, as PettingZoo's
        ``ClipOutOfBoundsWrapper`` would.
        """
        n_envs, n = self.n_envs, self.n_agents
        next_obs = np.zeros((n_envs, n, self.obs_max), np.float32)
        rewards = np.zeros((n_envs, n), np.float32)
        terminated = np.zeros(n_envs, bool)
        done = np.zeros(n_envs, bool)
        finished = []
        for e, env in enumerate(self.envs):
            if self.continuous:
                env.current_actions = [
                    np.clip(actions[e, i, : self.act_dims[i]], self.low[i], self.high[i])
                    for i in range(n)
                ]
            else:
                env.current_actions = [int(a) for a in actions[e]]
            env._execute_world_step()
            env.steps += 1
            self._observe(e, next_obs[e])
            for i, seat in enumerate(self.seats):
                rewards[e, i] = env.rewards[seat]
            if env.steps >= env.max_cycles:
                done[e] = True
            elif env.scenario.is_terminal(env.world):
                done[e] = terminated[e] = True
        self._returns += rewards
        obs = next_obs.copy()
        for k in np.flatnonzero(done):
            finished.append(self._returns[k].copy())
            self._returns[k] = 0.0
            self.envs[k].reset()  # continues the env's own seeded generator
            self._observe(int(k), obs[k])
        return StepResult(next_obs, rewards, terminated, done, obs, finished)

    def to_env_actions(self, actions: np.ndarray) -> np.ndarray:
        """Network outputs ``[E, N, act_max]`` to what :meth:`step` takes.

        Discrete: the index of the largest entry (a one-hot picks its action).
        Continuous: ``[-1, 1]`` rescaled to each seat's ``[low, high]``.
        """
        if not self.continuous:
            return actions.argmax(-1)
        low = np.asarray(self.low, np.float32)[None, :, None]
        high = np.asarray(self.high, np.float32)[None, :, None]
        return low + (actions + 1.0) * 0.5 * (high - low)
