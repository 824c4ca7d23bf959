"""The agent protocol: what ``make_agent(ctx)`` receives and what it returns.

This is the public contract of ``docs/agent-protocol.md``; change it only by
adding optional things.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

FORFEIT_REASONS = ("error", "timeout", "illegal", "crash")


@dataclass(frozen=True)
class AgentContext:
    """Read-only facts about the seat an agent instance plays.

    Attributes:
        env_id: arena env id, e.g. ``connect_four_v3``.
        agent_id: PettingZoo agent name of this seat, e.g. ``player_1``.
        role: role of this seat, e.g. ``player``, ``adversary``.
        observation_space: gymnasium space of what ``act`` receives (the inner
            ``observation`` for envs with action masks).
        action_space: gymnasium space of the action ``act`` must return.
        package_dir: folder of the unpacked package (None for built-ins).
        seed: seed for the agent's own random generator.
        device: ``cpu`` or ``cuda``, what the arena grants.
        move_timeout_s: wall-clock limit for one ``act`` call.
    """

    env_id: str
    agent_id: str
    role: str
    observation_space: Any
    action_space: Any
    package_dir: Path | None
    seed: int
    device: str = "cpu"
    move_timeout_s: float = 1.0


@runtime_checkable
class Agent(Protocol):
    """What a package's ``make_agent`` returns; ``close`` is optional."""

    def reset(self, *, seed: int | None = None) -> None: ...

    def act(self, observation: Any, *, action_mask: Any = None) -> Any: ...
