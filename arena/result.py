"""The outcome of one match, as the runner returns it and storage records it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class AgentInfo:
    """Identity of an agent version playing a side."""

    name: str
    version: str
    content_hash: str
    kind: str
    learning_type: str = ""
    source: str = "builtin"  # builtin | path | registry
    path: str | None = None


@dataclass
class SeatResult:
    """One seat of a match."""

    seat: str
    side: int
    team: int
    role: str
    label: str
    reward: float = 0.0
    rank: int = 1
    forfeit: str | None = None
    error: str | None = None


@dataclass
class MatchResult:
    """Everything needed to rate, display and replay one match.

    ``ranks`` are per side (1 = best, equal numbers tie), ``actions`` the action
    log as ``[seat, action]`` pairs in play order.
    """

    env_id: str
    env_version: str
    seed: int
    agents: list[AgentInfo]
    labels: list[str]
    seats: list[SeatResult]
    side_ranks: list[int]
    steps: int = 0
    duration_s: float = 0.0
    actions: list[list[Any]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def forfeits(self) -> list[SeatResult]:
        return [s for s in self.seats if s.forfeit]

    def side_returns(self) -> list[float]:
        """Sum of rewards over each side's seats."""
        totals = [0.0] * len(self.agents)
        for seat in self.seats:
            totals[seat.side] += seat.reward
        return totals

    def outcome(self, side: int) -> str:
        """``win``, ``draw`` or ``loss`` for the agent in slot ``side``.

        A win is first place with no other team sharing it; a draw is first place
        shared with another team, or any finish of a match with a single team;
        anything else (a forfeit included) is a loss.
        """
        best = min(self.side_ranks)
        if self.side_ranks[side] != best:
            return "loss"
        if len({s.team for s in self.seats}) == 1:
            return "draw"
        leaders = {s.team for s in self.seats if self.side_ranks[s.side] == best}
        return "win" if len(leaders) == 1 else "draw"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
