"""The game loop: one pass over a PettingZoo env, turn-based (AEC) or simultaneous.

Matches (:mod:`arena.runner`), replays (:mod:`arena.replay`) and the agent
conformance check (:mod:`arena.agent_test`) all step their envs through
:class:`Game`, so which seat is asked when, what counts as a step, where the step
cap cuts in and what the action log holds are decided here once. A replay is
right because it is the same loop fed the logged actions.

The callers differ only in where actions come from (``act``), and ``act`` may
raise to end the game where it stands (a forfeit, the end of a log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from arena.actions import loggable
from arena.specs import EnvSpec

__all__ = ["NO_CAP", "Act", "Game"]

# (seat, observation, action mask or None) -> the action to step the env with
Act = Callable[[str, Any, Any], Any]

NO_CAP = 2**63  # PettingZoo's own default for agent_iter


class Game:
    """One game on ``env``: reset with ``seed`` on creation, then :meth:`play`.

    The reset is separate from the loop so that callers can set up in between
    (the runner starts its agents; a person at the terminal is shown the start).

    Attributes:
        steps: env steps that took actions so far (AEC: one seat's move; parallel:
            one joint step); right even after ``act`` raised.
    """

    def __init__(self, spec: EnvSpec, env: Any, seed: int) -> None:
        self.spec, self.env = spec, env
        self.steps = 0
        if spec.turn_based:
            env.reset(seed=seed)
            self._observations: Any = None  # an AEC env hands them out in last()
        else:
            self._observations, _ = env.reset(seed=seed)

    def play(
        self,
        act: Act,
        *,
        max_steps: int = NO_CAP,
        returns: dict[str, float] | None = None,
        log: list[Any] | None = None,
        after_step: Callable[[], None] | None = None,
    ) -> None:
        """Play until the game ends, ``max_steps`` is reached, or ``act`` raises.

        Args:
            act: asked for the action of every seat to move; whatever it returns is
                stepped (and logged) as it is, so it must return a clean action.
            max_steps: the cap; in an AEC env it counts every turn of
                ``agent_iter``, a finished seat's ``step(None)`` included.
            returns: every seat's running sum of rewards, added to in place.
            log: the action log to append to: ``[seat, action]`` per AEC move,
                ``[[seat, action], ...]`` per parallel step, actions made loggable.
            after_step: called after every step that took actions.
        """
        if returns is None:
            returns = dict.fromkeys(self.env.possible_agents, 0.0)
        if self.spec.turn_based:
            self._play_aec(act, max_steps, returns, log, after_step)
        else:
            self._play_parallel(act, max_steps, returns, log, after_step)

    # The two loops keep everything they touch per step in locals: the runner's
    # hot path costs one call of ``act`` per move beyond the env itself.

    def _play_aec(
        self,
        act: Act,
        max_steps: int,
        returns: dict[str, float],
        log: list[Any] | None,
        after_step: Callable[[], None] | None,
    ) -> None:
        env = self.env
        masked = self.spec.action_mask
        steps = self.steps
        try:
            for name in env.agent_iter(max_steps):
                observation, reward, terminated, truncated, _ = env.last()
                returns[name] += reward
                if terminated or truncated:
                    env.step(None)
                    continue
                if masked:
                    action = act(name, observation["observation"], observation["action_mask"])
                else:
                    action = act(name, observation, None)
                if log is not None:
                    log.append([name, loggable(action)])
                env.step(action)
                steps += 1
                if after_step is not None:
                    after_step()
        finally:
            self.steps = steps

    def _play_parallel(
        self,
        act: Act,
        max_steps: int,
        returns: dict[str, float],
        log: list[Any] | None,
        after_step: Callable[[], None] | None,
    ) -> None:
        env = self.env
        masked = self.spec.action_mask
        observations = self._observations
        steps = self.steps
        try:
            while env.agents and steps < max_steps:
                joint = {}
                for name in env.agents:
                    observation = observations[name]
                    if masked:
                        joint[name] = act(
                            name, observation["observation"], observation["action_mask"]
                        )
                    else:
                        joint[name] = act(name, observation, None)
                if log is not None:
                    log.append([[n, loggable(a)] for n, a in joint.items()])
                observations, rewards, _, _, _ = env.step(joint)
                for name, reward in rewards.items():
                    returns[name] += reward
                steps += 1
                if after_step is not None:
                    after_step()
        finally:
            self._observations = observations
            self.steps = steps
